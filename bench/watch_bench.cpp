// What pressure::Monitor costs and how late its events come, on real CPU pressure:
//
//   event latency   a watch (--spec, default "cpu some 20%/2s") on a test cgroup, armed while the
//                   group is idle;
//                   then more busy processes than CPUs start in it. A separate thread reads
//                   `total` every 10 ms and finds the moment the stall within the trailing window
//                   first reaches the spec's stall; latency = callback time - that moment. Per trial one
//                   of: the Monitor in kernel mode (TriggerMode::kernel), the Monitor in polling
//                   mode (TriggerMode::polling), and a raw kernel trigger (open, write, poll for
//                   POLLPRI: no library, nothing else reading the file): the kernel's own floor.
//   idle cost       a Monitor with 10 watches (system and the idle test cgroup) running for
//                   --idle-seconds in its own thread: CPU time of that thread and of the
//                   process, as % of one core; once in kernel mode, once polling.
//
// Why the 10 ms sampler reads a child cgroup: reading a pressure file runs psi_show(), which
// folds the group's averages when they are due and moves the group's next update on, and the
// kernel's averaging worker then skips that period's unprivileged triggers (psi_avgs_work calls
// update_triggers only when now >= avg_next_update). Reading the watched group's file every
// 10 ms starves its unprivileged triggers completely: no event at all (see
// --sample-watched-group). So the busy processes and the sampler use <group>/load: the parent's
// stall is its only child's stall (the kernel weights per-CPU times over each group's own
// collection intervals, so the two totals can differ by a few %), and reading the child does
// not move the parent's clock.
//
// The bench makes <cgroup2 mount>/pressure-bench-watch-<pid> and its child load/, starts its
// busy processes there (fork; each child joins by writing "0" to cgroup.procs, with
// PR_SET_PDEATHSIG SIGKILL), signals only those processes, by pid, and removes both groups on
// exit, on error and on SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE/SIGABRT. It touches no other cgroup.
// Needs root (or write access to the cgroup2 mount).
//
//   watch_bench [--trials 10] [--idle-seconds 60] [--timeout-seconds 15] [--machine]
//               [--sample-watched-group]
//
// Exits 0 whatever the times are; 1 on real errors (no PSI, cgroups that cannot be made or
// removed, a Monitor that fails), 2 on bad arguments.
#include <pressure/monitor.hpp>
#include <pressure/reader.hpp>
#include <pressure/trigger.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.hpp"

namespace {

constexpr const char* k_default_spec = "cpu some 20%/2s";
constexpr std::int64_t k_sample_period_ns = 10'000'000;    // the reference sampler: 10 ms
constexpr std::int64_t k_quiet_ns = 4'500'000'000;         // no load for this long between trials
constexpr std::int64_t k_random_delay_ns = 2'000'000'000;  // 0..this between arming and the load
constexpr double k_idle_target_percent = 0.1;              // kernel mode, % of one core
constexpr int k_max_spinners = 64;

// ---- What we own, and its removal (async-signal-safe: kill, waitpid, rmdir, nanosleep).

char g_group[4096];  // absolute path of the test cgroup
char g_leaf[4096];   // <group>/load
volatile std::sig_atomic_t g_group_made = 0;
volatile std::sig_atomic_t g_leaf_made = 0;
volatile std::sig_atomic_t g_spinner[k_max_spinners];  // pids of our busy children, 0 = none

constexpr std::array<int, 6> k_signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT};

sigset_t block_signals() {
  sigset_t set, old;
  sigemptyset(&set);
  for (int sig : k_signals) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  return old;
}

void restore_signals(const sigset_t& old) { pthread_sigmask(SIG_SETMASK, &old, nullptr); }

void sleep_ns(std::int64_t ns) {
  if (ns <= 0) return;
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// SIGKILL to each child we started and have not reaped, then reap it. Only our own pids:
// a pid stays ours until waitpid has returned it, and we clear it right after.
void kill_spinners() {
  for (int i = 0; i < k_max_spinners; ++i) {
    pid_t pid = g_spinner[i];
    if (pid <= 0) continue;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    g_spinner[i] = 0;
  }
}

// rmdir, waiting a little while the group still counts a process that is exiting.
bool remove_dir(const char* path) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (::rmdir(path) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    sleep_ns(10'000'000);
  }
  return false;
}

// Kills our children, removes load/ then the test group. Safe to call more than once and from a
// signal handler. Returns how many directories could not be removed.
int remove_groups() {
  kill_spinners();
  int failures = 0;
  if (g_leaf_made) {
    if (remove_dir(g_leaf))
      g_leaf_made = 0;
    else
      ++failures;
  }
  if (g_group_made) {
    if (remove_dir(g_group))
      g_group_made = 0;
    else
      ++failures;
  }
  return failures;
}

void remove_groups_at_exit() {
  int saved = errno;
  if (int failures = remove_groups(); failures > 0)
    std::fprintf(stderr,
                 "watch_bench: could not remove %d of the bench's cgroups; remove them with rmdir %s %s\n",
                 failures, g_leaf, g_group);
  errno = saved;
}

extern "C" void on_signal(int sig) {
  remove_groups();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Errors end the program here, from the main thread: children killed, groups removed, and no
// static destructors racing the Monitor threads.
[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "watch_bench: %s\n", message.c_str());
  sigset_t old = block_signals();
  remove_groups_at_exit();
  restore_signals(old);
  std::fflush(nullptr);
  ::_exit(1);
}

// A thread that never takes our signals: the handlers run on the main thread only, so they
// never race the main thread's fork and reap.
template <class F>
std::thread spawn(F&& body) {
  sigset_t old = block_signals();
  std::thread thread(std::forward<F>(body));
  restore_signals(old);
  return thread;
}

// ---- Options.

struct Options {
  long trials = 10;
  long idle_seconds = 60;
  long timeout_seconds = 15;
  bool machine = false;
  bool sample_watched = false;
  std::string spec = k_default_spec;  // windows under 2 s need CAP_SYS_RESOURCE (e.g. in tests/vm)
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (bench::count_option(argc, argv, i, "--trials", options.trials, 0, 1000)) continue;
    if (bench::count_option(argc, argv, i, "--idle-seconds", options.idle_seconds, 0, 86400)) continue;
    if (bench::count_option(argc, argv, i, "--timeout-seconds", options.timeout_seconds, 3, 600)) continue;
    if (arg == "--machine") {
      options.machine = true;
    } else if (arg == "--spec" && i + 1 < argc) {
      options.spec = argv[++i];
    } else if (arg == "--sample-watched-group") {
      options.sample_watched = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: %s [--trials N] [--idle-seconds N] [--timeout-seconds N] [--machine]\n"
          "          [--sample-watched-group] [--spec SPEC]\n"
          "  Event latency of pressure::Monitor on '%s' in a test cgroup it makes\n"
          "  (<cgroup2 mount>/pressure-bench-watch-<pid>), in kernel mode, in polling mode, and\n"
          "  of a raw kernel trigger; N trials each (10), alternating, from an idle group to\n"
          "  more busy processes than CPUs. Then the idle CPU cost of a Monitor with 10 watches,\n"
          "  kernel and polling, over --idle-seconds (60; 0 skips it).\n"
          "  --timeout-seconds   how long a trial waits for its event (15)\n"
          "  --spec SPEC         the cpu watch to time (default '%s'; a window under 2 s\n"
          "                      needs CAP_SYS_RESOURCE, as in tests/vm)\n"
          "  --sample-watched-group  load and 10 ms sampler in the watched group itself instead\n"
          "                      of its child load/ (shows that reading the watched file that\n"
          "                      often starves unprivileged kernel triggers)\n"
          "  --machine           key=value lines instead of the report\n",
          argv[0], k_default_spec, k_default_spec);
      std::exit(0);
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
      std::exit(2);
    }
  }
  return options;
}

// ---- Figures.

// Linear interpolation between the closest ranks (p in [0, 1]); NaN when empty.
double percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  double rank = p * static_cast<double>(values.size() - 1);
  auto low = static_cast<std::size_t>(std::floor(rank));
  std::size_t high = std::min(low + 1, values.size() - 1);
  return values[low] + (rank - static_cast<double>(low)) * (values[high] - values[low]);
}

double cpu_ns(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return std::nan("");
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
}

// ---- The reference sampler: `total` of the sampled group every 10 ms, and the first moment the
// stall within the trailing window reaches the spec's stall.

class Sampler {
 public:
  Sampler(std::string group, std::chrono::microseconds window, std::uint64_t stall_us)
      : m_group(std::move(group)),
        m_window_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(window).count()),
        m_stall_us(stall_us) {}

  void start() {
    m_thread = spawn([this] { run(); });
  }
  void stop() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
  }
  // Read after stop().
  std::optional<std::int64_t> crossing() const { return m_crossing; }
  const std::string& error() const { return m_error; }
  std::size_t samples() const { return m_samples.size(); }
  // Stall share within [t - span, t], from the samples (NaN if they do not reach t).
  double share(std::int64_t t, std::int64_t span_ns) const {
    if (m_samples.empty() || span_ns <= 0 || t > m_samples.back().t) return std::nan("");
    return (total_at(t) - total_at(t - span_ns)) * 1000.0 / static_cast<double>(span_ns);
  }

 private:
  struct Sample {
    std::int64_t t;
    double total;
  };

  // total at time t, interpolated; before the first sample the group was idle (the trial
  // starts after a quiet period), so the first sample's value.
  double total_at(std::int64_t t) const {
    if (t <= m_samples.front().t) return m_samples.front().total;
    auto it = std::lower_bound(m_samples.begin(), m_samples.end(), t,
                               [](const Sample& s, std::int64_t v) { return s.t < v; });
    if (it == m_samples.end()) return m_samples.back().total;
    const Sample& after = *it;
    const Sample& before = *(it - 1);
    double f = static_cast<double>(t - before.t) / static_cast<double>(after.t - before.t);
    return before.total + f * (after.total - before.total);
  }

  void run() {
    pressure::Reader reader{pressure::Target::cgroup(m_group)};
    timespec next{};
    ::clock_gettime(CLOCK_MONOTONIC, &next);
    double previous_growth = 0.0;
    while (!m_stop) {
      pressure::Result<pressure::Pressure> p = reader.read(pressure::Resource::cpu);
      std::int64_t t = bench::now_ns();
      if (!p || !p->some) {
        m_error = p ? "no 'some' line in cpu.pressure of " + m_group : p.error().message();
        return;
      }
      m_samples.push_back({t, static_cast<double>(p->some->total_us)});
      double growth = m_samples.back().total - total_at(t - m_window_ns);
      if (!m_crossing && growth >= static_cast<double>(m_stall_us) && m_samples.size() >= 2) {
        // Between the previous sample and this one, assuming the growth was linear there.
        const Sample& before = m_samples[m_samples.size() - 2];
        double f = (static_cast<double>(m_stall_us) - previous_growth) / (growth - previous_growth);
        m_crossing =
            before.t + static_cast<std::int64_t>(std::clamp(f, 0.0, 1.0) * static_cast<double>(t - before.t));
      }
      previous_growth = growth;
      next.tv_nsec += k_sample_period_ns;
      if (next.tv_nsec >= 1'000'000'000) {
        next.tv_nsec -= 1'000'000'000;
        ++next.tv_sec;
      }
      while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
      }
    }
  }

  std::string m_group;
  std::int64_t m_window_ns;
  std::uint64_t m_stall_us;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  std::vector<Sample> m_samples;
  std::optional<std::int64_t> m_crossing;
  std::string m_error;
};

// ---- Busy children.

// Forks one child that joins `procs` (a cgroup.procs path) and spins. Signals are blocked
// around fork and the record of the pid, so a handler sees either no child or its pid. The
// child calls only async-signal-safe functions (the parent has threads).
void start_spinner(int slot, const char* procs) {
  sigset_t old = block_signals();
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : k_signals) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    int fd = ::open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(3);
    ::close(fd);
    volatile unsigned long spins = 0;
    for (;;) spins = spins + 1;
  }
  int err = errno;
  if (pid > 0) g_spinner[slot] = pid;
  restore_signals(old);
  if (pid < 0) die(std::string("fork failed: ") + std::strerror(err));
}

// The pids listed in a cgroup.procs file.
std::vector<pid_t> group_pids(const std::string& procs) {
  std::vector<pid_t> pids;
  if (FILE* f = std::fopen(procs.c_str(), "re")) {
    long pid = 0;
    while (std::fscanf(f, "%ld", &pid) == 1) pids.push_back(static_cast<pid_t>(pid));
    std::fclose(f);
  }
  return pids;
}

// Waits until all our children are in the group (they move themselves right after fork).
void await_spinners(const std::string& procs, int count) {
  std::int64_t deadline = bench::now_ns() + 5'000'000'000;
  for (;;) {
    std::vector<pid_t> pids = group_pids(procs);
    int found = 0;
    for (int i = 0; i < count; ++i)
      if (std::find(pids.begin(), pids.end(), static_cast<pid_t>(g_spinner[i])) != pids.end()) ++found;
    if (found == count) return;
    for (int i = 0; i < count; ++i) {
      int status = 0;
      sigset_t old = block_signals();  // reap and forget the pid with no handler in between
      pid_t pid = g_spinner[i];
      bool exited = pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid;
      if (exited) g_spinner[i] = 0;  // reaped: no longer ours to signal
      restore_signals(old);
      if (exited) {
        die("a busy child could not join " + procs + " (exit status " +
            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
      }
    }
    if (bench::now_ns() > deadline) die("busy children did not appear in " + procs + " within 5 s");
    sleep_ns(2'000'000);
  }
}

void stop_spinners() {
  sigset_t old = block_signals();
  kill_spinners();
  restore_signals(old);
}

// ---- The latency trials.

enum class Contender { kernel, polling, raw };
constexpr std::array<Contender, 3> k_contenders{Contender::kernel, Contender::polling, Contender::raw};

const char* name(Contender c) {
  switch (c) {
    case Contender::kernel: return "kernel";
    case Contender::polling: return "polling";
    case Contender::raw: return "raw";
  }
  return "?";
}

// What a Monitor's callback saw during one trial.
struct Catch {
  std::mutex mutex;
  std::condition_variable cv;
  bool armed = false;
  std::optional<std::int64_t> event_ns;
  double share = 0.0;
  std::int64_t span_ns = 0;
  int events = 0;
  int gone = 0;
  std::string gone_reason;

  void reset() {
    std::lock_guard lock(mutex);
    armed = true;
    event_ns.reset();
    share = 0.0;
    span_ns = 0;
    events = 0;
    gone = 0;
    gone_reason.clear();
  }
  void disarm() {
    std::lock_guard lock(mutex);
    armed = false;
  }
  void on_event(const pressure::Event& e) {
    std::int64_t t = bench::now_ns();
    {
      std::lock_guard lock(mutex);
      if (!armed) return;
      if (e.kind == pressure::Event::Kind::pressure) {
        ++events;
        if (!event_ns) {
          event_ns = t;
          share = e.share;
          span_ns = e.observed_span.count();
        }
      } else {
        ++gone;
        gone_reason = e.error ? e.error->message() : "gone";
      }
    }
    cv.notify_all();
  }
  // The first event's time, or nothing by the deadline.
  std::optional<std::int64_t> wait(std::int64_t deadline_ns) {
    std::unique_lock lock(mutex);
    while (!event_ns && gone == 0) {
      std::int64_t left = deadline_ns - bench::now_ns();
      if (left <= 0) break;
      cv.wait_for(lock, std::chrono::nanoseconds(left));
    }
    return event_ns;
  }
};

// A Monitor on its own thread, running until finish().
struct RunningMonitor {
  pressure::Monitor monitor;
  std::thread thread;
  std::optional<pressure::Error> error;

  void start() {
    thread = spawn([this] {
      pressure::Result<void> ok = monitor.run();
      if (!ok) error = ok.error();
    });
  }
  void finish() {
    monitor.stop();
    if (thread.joinable()) thread.join();
    if (error) die("Monitor::run failed: " + error->message());
  }
};

struct TrialResult {
  bool crossed = false;
  bool event = false;
  double latency_s = 0.0;        // event - crossing
  double crossing_s = 0.0;       // crossing - load start
  double event_after_s = 0.0;    // event - load start
  double share = 0.0;            // Event::share at the event (Monitor only)
  double reference_share = 0.0;  // the sampler's share over the same span, ending at the event
  int extra_events = 0;          // events after the first, during the trial
};

struct Results {
  std::array<std::vector<TrialResult>, 3> per;  // by Contender
  std::vector<TrialResult>& operator[](Contender c) { return per[static_cast<std::size_t>(c)]; }
  const std::vector<TrialResult>& operator[](Contender c) const { return per[static_cast<std::size_t>(c)]; }
};

struct Bench {
  Options options;
  std::string root;           // the cgroup2 mount
  std::string relative;       // "/pressure-bench-watch-<pid>", what Target::cgroup takes
  std::string group;          // absolute
  std::string load_relative;  // where the busy children and the sampler are
  std::string load_procs;     // its cgroup.procs
  pressure::TriggerSpec spec;
  int cpus = 1;
  int spinners = 3;
  std::int64_t last_load_end = 0;
  std::mt19937_64 random{std::random_device{}()};

  void wait_quiet() {
    sleep_ns(last_load_end + k_quiet_ns - bench::now_ns());
    if (!group_pids(load_procs).empty()) die(load_procs + " is not empty between trials");
  }

  TrialResult trial(Contender contender, RunningMonitor& kernel, RunningMonitor& polling, Catch& caught) {
    wait_quiet();
    TrialResult result;
    std::optional<pressure::WatchId> watch;
    RunningMonitor* running = nullptr;
    int raw_fd = -1;
    if (contender == Contender::raw) {
      std::string path = group + "/cpu.pressure";
      raw_fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (raw_fd < 0) die("cannot open " + path + ": " + std::strerror(errno));
      std::string text = spec.kernel_text();
      if (::write(raw_fd, text.c_str(), text.size() + 1) < 0)
        die("the kernel refused trigger '" + text + "' on " + path + ": " + std::strerror(errno));
    } else {
      running = contender == Contender::kernel ? &kernel : &polling;
      pressure::TriggerOptions trigger_options;
      trigger_options.mode =
          contender == Contender::kernel ? pressure::TriggerMode::kernel : pressure::TriggerMode::polling;
      caught.reset();
      pressure::Result<pressure::WatchInfo> info = running->monitor.add(
          pressure::Target::cgroup(relative), spec,
          [&caught](const pressure::Event& e) { caught.on_event(e); }, trigger_options);
      if (!info) die(std::string("Monitor::add(") + name(contender) + ") failed: " + info.error().message());
      if (info->mode != trigger_options.mode || !(info->spec == spec))
        die(std::string("Monitor::add(") + name(contender) + ") armed '" + info->spec.to_string() + "' in " +
            std::string(pressure::to_string(info->mode)) + " mode" +
            (info->notice.empty() ? "" : ": " + info->notice));
      watch = info->id;
    }

    Sampler sampler(load_relative, spec.window, static_cast<std::uint64_t>(spec.stall.count()));
    sampler.start();
    // Some samples of the idle group first; then a random part, so that the load starts at any
    // phase of the Monitor's sampling timers and of the kernel's 2 s averaging clock (a fixed
    // delay would lock polling latency to one value).
    sleep_ns(200'000'000 + std::uniform_int_distribution<std::int64_t>(0, k_random_delay_ns)(random));

    std::int64_t load_start = bench::now_ns();
    for (int i = 0; i < spinners; ++i) start_spinner(i, load_procs.c_str());
    await_spinners(load_procs, spinners);
    std::int64_t deadline = load_start + options.timeout_seconds * 1'000'000'000;

    std::optional<std::int64_t> event;
    std::int64_t span_ns = 0;
    if (contender == Contender::raw) {
      pollfd pfd{raw_fd, POLLPRI, 0};
      for (;;) {
        std::int64_t left_ms = (deadline - bench::now_ns()) / 1'000'000;
        if (left_ms <= 0) break;
        int n = ::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left_ms, 1000)));
        if (n < 0 && errno != EINTR)
          die(std::string("poll on the raw trigger failed: ") + std::strerror(errno));
        if (n > 0) {
          if (pfd.revents & POLLERR) die("the raw trigger on " + group + " was destroyed");
          if (pfd.revents & POLLPRI) {
            event = bench::now_ns();
            break;
          }
        }
      }
      ::close(raw_fd);
    } else {
      event = caught.wait(deadline);
      running->monitor.remove(*watch);
      caught.disarm();
      std::lock_guard lock(caught.mutex);
      if (caught.gone > 0)
        die(std::string("the ") + name(contender) + " watch went away: " + caught.gone_reason);
      result.share = caught.share;
      span_ns = caught.span_ns;
      result.extra_events = std::max(0, caught.events - 1);
    }
    // A few more samples under load, so the sampler's share can be taken up to the event.
    if (event) sleep_ns(3 * k_sample_period_ns);
    stop_spinners();
    last_load_end = bench::now_ns();
    sampler.stop();
    if (!sampler.error().empty()) die("sampler: " + sampler.error());

    if (std::optional<std::int64_t> crossing = sampler.crossing()) {
      result.crossed = true;
      result.crossing_s = static_cast<double>(*crossing - load_start) / 1e9;
      if (event) result.latency_s = static_cast<double>(*event - *crossing) / 1e9;
    }
    if (event && span_ns > 0) result.reference_share = sampler.share(*event, span_ns);
    if (event) {
      result.event = true;
      result.event_after_s = static_cast<double>(*event - load_start) / 1e9;
    }
    return result;
  }

  Results latency() {
    Results results;
    if (options.trials == 0) return results;
    RunningMonitor kernel, polling;
    Catch caught;
    kernel.start();
    polling.start();
    for (long t = 0; t < options.trials; ++t) {
      for (std::size_t slot = 0; slot < k_contenders.size(); ++slot) {
        Contender c = k_contenders[(slot + static_cast<std::size_t>(t)) % k_contenders.size()];
        TrialResult r = trial(c, kernel, polling, caught);
        if (!options.machine) {
          std::fprintf(stderr, "  trial %ld %-7s: ", t + 1, name(c));
          if (r.crossed)
            std::fprintf(stderr, "stall reached %.3f s after the load started; ", r.crossing_s);
          else
            std::fprintf(stderr, "stall never reached; ");
          if (r.event)
            std::fprintf(stderr, "event at %.3f s%s", r.event_after_s, r.crossed ? "" : "\n");
          else
            std::fprintf(stderr, "no event within %ld s\n", options.timeout_seconds);
          if (r.event && r.crossed) std::fprintf(stderr, ", latency %.3f s", r.latency_s);
          if (r.event && c != Contender::raw)
            std::fprintf(stderr, "; Event::share %.2f, sampler %.2f over the same span", r.share,
                         r.reference_share);
          if (r.event && r.crossed) std::fprintf(stderr, "\n");
        }
        results[c].push_back(r);
      }
    }
    kernel.finish();
    polling.finish();
    return results;
  }

  struct Idle {
    double seconds = 0.0;
    double thread_cpu_ns = 0.0;
    double process_cpu_ns = 0.0;
    long events = 0;
    long gone = 0;
    int watches = 0;
    std::string notices;
    std::string fired;  // which watches had events, and how many
    double thread_percent() const { return thread_cpu_ns / (seconds * 1e9) * 100.0; }
    double process_percent() const { return process_cpu_ns / (seconds * 1e9) * 100.0; }
  };

  Idle idle(pressure::TriggerMode mode) {
    struct Watch {
      bool system;
      const char* spec;
    };
    static constexpr std::array<Watch, 10> k_watches{{
        {true, "memory full 100ms/2s"},
        {true, "memory some 200ms/2s"},
        {true, "io full 200ms/2s"},
        {true, "io some 500ms/4s"},
        {false, "cpu some 10%/4s"},
        {false, "cpu some 20%/2s"},
        {false, "memory full 100ms/2s"},
        {false, "memory some 50ms/2s"},
        {false, "io some 200ms/2s"},
        {false, "io full 1s/10s"},
    }};
    wait_quiet();  // the test group's watches start with no stall in their windows
    Idle result;
    std::atomic<long> events{0}, gone{0};
    std::array<std::atomic<long>, k_watches.size()> per_watch{};
    RunningMonitor running;
    pressure::TriggerOptions trigger_options;
    trigger_options.mode = mode;
    for (std::size_t index = 0; index < k_watches.size(); ++index) {
      const Watch& w = k_watches[index];
      pressure::Result<pressure::TriggerSpec> s = pressure::parse_trigger_spec(w.spec);
      if (!s) die(std::string("bad spec '") + w.spec + "': " + s.error().message());
      pressure::Target target = w.system ? pressure::Target::system() : pressure::Target::cgroup(relative);
      pressure::Result<pressure::WatchInfo> info = running.monitor.add(
          target, *s,
          [&events, &gone, &per_watch, index](const pressure::Event& e) {
            (e.kind == pressure::Event::Kind::pressure ? events : gone)
                .fetch_add(1, std::memory_order_relaxed);
            per_watch[index].fetch_add(1, std::memory_order_relaxed);
          },
          trigger_options);
      if (!info)
        die(std::string("Monitor::add(") + w.spec + ", " + std::string(pressure::to_string(mode)) +
            ") failed: " + info.error().message());
      if (info->mode != mode)
        die(std::string("Monitor::add(") + w.spec + ") armed " +
            std::string(pressure::to_string(info->mode)));
      if (!info->notice.empty())
        result.notices += std::string(result.notices.empty() ? "" : "; ") + info->notice;
      ++result.watches;
    }
    running.start();
    clockid_t thread_clock{};
    if (int err = pthread_getcpuclockid(running.thread.native_handle(), &thread_clock); err != 0)
      die(std::string("pthread_getcpuclockid: ") + std::strerror(err));
    sleep_ns(200'000'000);  // past the thread's start
    double thread0 = cpu_ns(thread_clock), process0 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    std::int64_t wall0 = bench::now_ns();
    sleep_ns(options.idle_seconds * 1'000'000'000);
    double thread1 = cpu_ns(thread_clock), process1 = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
    std::int64_t wall1 = bench::now_ns();
    running.finish();
    result.seconds = static_cast<double>(wall1 - wall0) / 1e9;
    result.thread_cpu_ns = thread1 - thread0;
    result.process_cpu_ns = process1 - process0;
    result.events = events.load();
    result.gone = gone.load();
    if (result.gone > 0) die("a watch went away during the idle run");
    for (std::size_t index = 0; index < k_watches.size(); ++index)
      if (long n = per_watch[index].load(); n > 0)
        result.fired += std::string(result.fired.empty() ? "" : ", ") +
                        (k_watches[index].system ? "system " : "group ") + k_watches[index].spec + " x" +
                        std::to_string(n);
    return result;
  }
};

struct Summary {
  std::vector<double> latencies;
  std::vector<double> crossings;
  std::vector<double> event_after;
  std::vector<double> shares;
  std::vector<double> reference_shares;
  long trials = 0, events = 0, crossed = 0, extra_events = 0;
  double median() const { return percentile(latencies, 0.5); }
  double p95() const { return percentile(latencies, 0.95); }
};

Summary summarize(const std::vector<TrialResult>& trials) {
  Summary s;
  s.trials = static_cast<long>(trials.size());
  for (const TrialResult& r : trials) {
    if (r.crossed) {
      ++s.crossed;
      s.crossings.push_back(r.crossing_s);
    }
    if (r.event) {
      ++s.events;
      s.event_after.push_back(r.event_after_s);
      s.shares.push_back(r.share);
      if (!std::isnan(r.reference_share)) s.reference_shares.push_back(r.reference_share);
    }
    if (r.event && r.crossed) s.latencies.push_back(r.latency_s);
    s.extra_events += r.extra_events;
  }
  return s;
}

std::string seconds(double s) {
  if (std::isnan(s)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, std::fabs(s) < 10 ? "%.2f s" : "%.1f s", s);
  return buf;
}

std::string fraction(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  bench::warn_about_build("watch_bench");

  pressure::Result<pressure::TriggerSpec> spec = pressure::parse_trigger_spec(options.spec);
  if (!spec) die("cannot parse --spec '" + options.spec + "': " + spec.error().message());
  if (spec->resource != pressure::Resource::cpu || spec->line != pressure::Line::some)
    die("--spec '" + options.spec + "': the load is CPU, so the watch must be 'cpu some'");
  const char* spec_text = options.spec.c_str();
  if (pressure::Result<pressure::Pressure> cpu = pressure::cpu(); !cpu)
    die("cannot read system CPU pressure: " + cpu.error().message());
  pressure::Result<std::string> root = pressure::cgroup2_root();
  if (!root) die("no cgroup2 mount: " + root.error().message());

  Bench run;
  run.options = options;
  run.spec = *spec;
  run.root = root->size() > 1 && root->back() == '/' ? root->substr(0, root->size() - 1) : *root;
  run.relative = "/pressure-bench-watch-" + std::to_string(::getpid());
  run.group = run.root + run.relative;
  std::string leaf = run.group + "/load";
  if (leaf.size() + 32 > sizeof g_leaf) die("cgroup2 mount path too long: " + *root);
  run.load_relative = options.sample_watched ? run.relative : run.relative + "/load";
  run.load_procs = run.root + run.load_relative + "/cgroup.procs";
  run.cpus = usable_cpus();
  run.spinners = std::min(k_max_spinners, std::max(3, (3 * run.cpus + 1) / 2));

  // Make the groups with the signals blocked, so that a signal finds each either not made or
  // recorded as ours; a directory that already exists is never ours.
  for (auto& pid : g_spinner) pid = 0;
  sigset_t old = block_signals();
  std::memcpy(g_group, run.group.c_str(), run.group.size() + 1);
  std::memcpy(g_leaf, leaf.c_str(), leaf.size() + 1);
  if (::mkdir(g_group, 0755) != 0) {
    int err = errno;
    restore_signals(old);
    die("cannot create cgroup " + run.group + ": " + std::strerror(err) +
        (err == EACCES || err == EPERM || err == EROFS ? " (run as root, with the cgroup2 mount writable)"
                                                       : ""));
  }
  g_group_made = 1;
  std::atexit(remove_groups_at_exit);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : k_signals) sigaction(sig, &action, nullptr);
  if (::mkdir(g_leaf, 0755) != 0) {
    int err = errno;
    restore_signals(old);
    die("cannot create cgroup " + leaf + ": " + std::strerror(err));
  }
  g_leaf_made = 1;
  restore_signals(old);

  if (pressure::Result<pressure::Pressure> p =
          pressure::read(pressure::Resource::cpu, pressure::Target::cgroup(run.relative));
      !p || !p->some)
    die("cannot read " + run.group + "/cpu.pressure" +
        (p ? std::string(": no 'some' line") : ": " + p.error().message()));
  run.last_load_end = bench::now_ns() - k_quiet_ns;  // the group is new: nothing ever ran in it

  if (!options.machine) {
    std::printf("watch_bench: '%s' on %s; %d busy processes on %d CPUs in %s; sampler every 10 ms on %s\n",
                spec_text, run.group.c_str(), run.spinners, run.cpus,
                options.sample_watched ? "the watched group itself" : "its child load/",
                options.sample_watched ? "the watched group (--sample-watched-group)" : "load/");
    std::printf("  %ld trials per contender, alternating, each from an idle group (>= %.1f s without load)\n",
                options.trials, static_cast<double>(k_quiet_ns) / 1e9);
    std::fflush(stdout);
  }

  Results results = run.latency();
  Summary kernel = summarize(results[Contender::kernel]);
  Summary polling = summarize(results[Contender::polling]);
  Summary raw = summarize(results[Contender::raw]);
  const std::array<std::pair<const char*, const Summary*>, 3> named{
      {{"kernel", &kernel}, {"polling", &polling}, {"raw", &raw}}};

  std::optional<Bench::Idle> idle_kernel, idle_polling;
  if (options.idle_seconds > 0) {
    if (!options.machine) {
      std::printf("  (idle runs: 2 x %ld s)\n", options.idle_seconds);
      std::fflush(stdout);
    }
    idle_kernel = run.idle(pressure::TriggerMode::kernel);
    idle_polling = run.idle(pressure::TriggerMode::polling);
  }

  sigset_t before_cleanup = block_signals();
  int failures = remove_groups();
  restore_signals(before_cleanup);
  if (failures > 0)
    die("could not remove " + std::to_string(failures) + " of the bench's cgroups under " + run.group);

  if (options.machine) {
    std::printf("spec=%s\ncpus=%d\nspinners=%d\ntrials=%ld\nsampled=%s\n", spec_text, run.cpus, run.spinners,
                options.trials, options.sample_watched ? "watched" : "child");
    for (auto [label, s] : named) {
      std::printf("%s_median_s=%.4f\n%s_p95_s=%.4f\n%s_min_s=%.4f\n%s_max_s=%.4f\n", label, s->median(),
                  label, s->p95(), label, percentile(s->latencies, 0.0), label,
                  percentile(s->latencies, 1.0));
      std::printf("%s_events=%ld\n%s_crossed=%ld\n%s_crossing_median_s=%.4f\n%s_event_after_median_s=%.4f\n",
                  label, s->events, label, s->crossed, label, percentile(s->crossings, 0.5), label,
                  percentile(s->event_after, 0.5));
      if (std::string(label) != "raw")
        std::printf("%s_share_median=%.4f\n%s_sampler_share_median=%.4f\n", label, percentile(s->shares, 0.5),
                    label, percentile(s->reference_shares, 0.5));
    }
    if (idle_kernel && idle_polling) {
      std::printf("idle_seconds=%.1f\n", idle_kernel->seconds);
      std::printf("idle_kernel_thread_pct=%.5f\nidle_kernel_process_pct=%.5f\nidle_kernel_events=%ld\n",
                  idle_kernel->thread_percent(), idle_kernel->process_percent(), idle_kernel->events);
      std::printf("idle_polling_thread_pct=%.5f\nidle_polling_process_pct=%.5f\nidle_polling_events=%ld\n",
                  idle_polling->thread_percent(), idle_polling->process_percent(), idle_polling->events);
    }
    return 0;
  }

  if (options.trials > 0) {
    std::printf("event latency (%s): kernel trigger median %s p95 %s; polling median %s p95 %s\n", spec_text,
                seconds(kernel.median()).c_str(), seconds(kernel.p95()).c_str(),
                seconds(polling.median()).c_str(), seconds(polling.p95()).c_str());
    std::printf("  raw kernel trigger (no library; %s): median %s p95 %s\n",
                options.sample_watched ? "the 10 ms sampler reads the watched file"
                                       : "nothing reads the watched file",
                seconds(raw.median()).c_str(), seconds(raw.p95()).c_str());
    for (auto [label, s] : named) {
      std::printf(
          "  %-7s events in %ld of %ld trials (stall reached in %ld); latency min %s max %s; stall reached "
          "%s after the load started, event %s after (medians)",
          label, s->events, s->trials, s->crossed, seconds(percentile(s->latencies, 0.0)).c_str(),
          seconds(percentile(s->latencies, 1.0)).c_str(), seconds(percentile(s->crossings, 0.5)).c_str(),
          seconds(percentile(s->event_after, 0.5)).c_str());
      if (std::string(label) != "raw")
        std::printf("; Event::share median %s (sampler, same span: %s)",
                    fraction(percentile(s->shares, 0.5)).c_str(),
                    fraction(percentile(s->reference_shares, 0.5)).c_str());
      std::printf("\n");
    }
  }
  if (idle_kernel && idle_polling) {
    std::printf("idle: %d kernel triggers %.4f%% of one core over %.0f s; %d polling watches %.4f%%\n",
                idle_kernel->watches, idle_kernel->thread_percent(), idle_kernel->seconds,
                idle_polling->watches, idle_polling->thread_percent());
    std::printf(
        "  kernel : Monitor thread %.2f ms CPU (%.4f%%), whole process %.2f ms (%.4f%%), %ld events; "
        "target < %.1f%%: %s\n",
        idle_kernel->thread_cpu_ns / 1e6, idle_kernel->thread_percent(), idle_kernel->process_cpu_ns / 1e6,
        idle_kernel->process_percent(), idle_kernel->events, k_idle_target_percent,
        idle_kernel->thread_percent() < k_idle_target_percent ? "met" : "NOT met");
    if (!idle_kernel->fired.empty()) std::printf("           events from: %s\n", idle_kernel->fired.c_str());
    std::printf(
        "  polling: Monitor thread %.2f ms CPU (%.4f%%), whole process %.2f ms (%.4f%%), %ld events\n",
        idle_polling->thread_cpu_ns / 1e6, idle_polling->thread_percent(), idle_polling->process_cpu_ns / 1e6,
        idle_polling->process_percent(), idle_polling->events);
    if (!idle_polling->fired.empty())
      std::printf("           events from: %s\n", idle_polling->fired.c_str());
    if (!idle_kernel->notices.empty()) std::printf("  notices: %s\n", idle_kernel->notices.c_str());
  }
  return 0;
}
