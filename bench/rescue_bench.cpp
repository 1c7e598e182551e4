// Rescuing a thrashing machine: a whole-machine livelock that the kernel's OOM killer never
// resolves (no swap, a hog of anonymous memory, a service whose file-backed working set is
// always reclaimable and always refaulted), and how fast each contender ends it.
//
//   rescue_bench [--trials N] [--contenders none,pressure,pressure-nofor,oomd,earlyoom]
//                (also pressure-forD: our rule with for = D, e.g. pressure-for500ms; pressure-normal:
//                 for = 1s with realtime = false)
//                [--timeout S] [--service-mib 300] [--hog-mib 480] [--file PATH] [--log-dir DIR] [--assert]
//
// Only in the VM test bed (PRESSURE_IN_VM=1, e.g. tests/vm/run.sh --mem 768 -- ...): it thrashes
// the whole machine and lets daemons kill machine-wide. Elsewhere it refuses (exit 77).
//
// Per trial, in a fresh parent group rescue-PID-N under /sys/fs/cgroup: the contender starts
// (fresh), the service (child group `service`) reads the working set once, the heartbeat (root
// group) wakes every 100 ms, then the hog (child group `hog`) starts. Reported: hog start to hog
// death (or "not rescued" at --timeout), the system's memory `full` stall from hog start to a
// second after its death, the heartbeat's longest gap in that time, and who died. The bench
// kills only what it started, by pid, and removes every group and file it made, also on
// SIGINT/SIGTERM. --assert (the CTest case): exit 1 unless every `pressure*` trial killed the
// hog and nothing else, and each `pressure*` contender's median stall is below `none`'s.
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pressure/reader.hpp>

#include "common.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int k_exit_skip = 77;

struct Shared {  // the shared page, as in rescue_workload.cpp
  std::atomic<std::int64_t> longest_gap_ns;
  std::atomic<std::int64_t> beats;
  std::atomic<std::int64_t> service_passes;
};

// ---- What we own (removed on exit and on signals; async-signal-safe calls only) ----
constexpr int k_max = 16;
struct Owned {
  std::array<pid_t, k_max> pids{};
  std::array<std::array<char, 256>, k_max> dirs{};  // removed last-in first-out
  std::array<char, 256> work{};
  int npids = 0, ndirs = 0;
} g_owned;

void own_pid(pid_t pid) {
  for (int i = 0; i < g_owned.npids; ++i)
    if (g_owned.pids[i] == 0) {
      g_owned.pids[i] = pid;
      return;
    }
  if (g_owned.npids < k_max) g_owned.pids[g_owned.npids++] = pid;
}
void disown_pid(pid_t pid) {
  for (int i = 0; i < g_owned.npids; ++i)
    if (g_owned.pids[i] == pid) g_owned.pids[i] = 0;
}
void own_dir(const std::string& d) {
  if (g_owned.ndirs < k_max) std::snprintf(g_owned.dirs[g_owned.ndirs++].data(), 256, "%s", d.c_str());
}
bool remove_dir(const char* d) { return bench::remove_dir_waiting(d, 300); }
using bench::kill_and_reap;
void remove_dirs() {
  for (int i = g_owned.ndirs - 1; i >= 0; --i) remove_dir(g_owned.dirs[i].data());
  g_owned.ndirs = 0;
}
void remove_tree(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string path = dir + "/" + name;
      if (e->d_type == DT_DIR)
        remove_tree(path);
      else
        ::unlink(path.c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}
void cleanup() {
  for (int i = 0; i < g_owned.npids; ++i) kill_and_reap(g_owned.pids[i]);
  g_owned.npids = 0;
  remove_dirs();
  if (g_owned.work[0] != 0) {
    remove_tree(g_owned.work.data());  // our configurations, logs and oomd's runtime folder
    g_owned.work[0] = 0;
  }
}
extern "C" void on_signal(int sig) {
  cleanup();
  std::signal(sig, SIG_DFL);
  ::raise(sig);
}

using bench::read_text;
using bench::write_file;
using bench::write_text;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int g_shared_fd = -1;
int g_trial = 0;

// A program in the background with the shared page as fd 3, output to `log`, an ordinary
// oom_score_adj, and optionally in a cgroup first.
pid_t start(const std::vector<std::string>& argv, const std::string& log, const std::string& procs = {}) {
  std::vector<const char*> args;
  for (const auto& a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    if (!procs.empty() && !write_text(procs, "0")) ::_exit(126);
    write_text("/proc/self/oom_score_adj", "0");
    ::dup2(g_shared_fd, 3);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(args[0], const_cast<char* const*>(args.data()));
    ::_exit(127);
  }
  if (pid > 0) own_pid(pid);
  return pid;
}

// SIGTERM, then SIGKILL after 3 s; reaped either way.
void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 150; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      disown_pid(pid);
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  kill_and_reap(pid);
  disown_pid(pid);
}

// How a child ended, if it did: "signal 9", "exit 1"; empty while it runs.
std::string ended(pid_t pid, std::map<pid_t, std::string>& seen) {
  if (auto it = seen.find(pid); it != seen.end()) return it->second;
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return {};
  disown_pid(pid);
  std::string how = WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                        : "exit " + std::to_string(WEXITSTATUS(status));
  seen[pid] = how;
  return how;
}

struct Setup {
  std::string pressure, workload, file, work;
  std::string logs;  // where the contender's log goes (default: work); --log-dir keeps them
  std::string oomd = "/usr/bin/oomd", earlyoom = "/usr/bin/earlyoom";
  int service_mib = 300, hog_mib = 480;
  double timeout_s = 30, settle_s = 1;
  Shared* shared = nullptr;
};

// The `for` of a contender: "pressure" and "pressure-normal" 1s, "pressure-nofor" none,
// "pressure-forD" D.
std::string hold_of(const std::string& who) {
  if (who == "pressure" || who == "pressure-normal") return "1s";
  if (who.starts_with("pressure-for")) return who.substr(12);
  return "";
}

// `for`: "" for none. JSON lines, for their times (see timeline()). "pressure-normal" keeps the
// event loop a normal task (realtime = false).
std::string our_config(const std::string& hold, bool realtime) {
  std::string daemon =
      std::string("[daemon]\nlog_format = \"json\"\n") + (realtime ? "" : "realtime = false\n");
  std::string rule =
      "[[rule]]\nname = \"rescue the machine\"\ntarget = \"system\"\nallow_root = true\n"
      "when = \"memory full 10%/1s\"\n";
  if (!hold.empty()) rule += "for = \"" + hold + "\"\n";
  rule += "action = \"kill\"\nvictim = { among = \"processes\", by = \"memory\" }\ncooldown = \"5s\"\n";
  return daemon + "\n" + rule;
}

std::string oomd_config(const std::string& parent) {
  return "{\"rulesets\": [{\"name\": \"rescue the machine\", \"detectors\": [[\"system memory full above 10 "
         "for 1s\", {\"name\": \"pressure_above\", \"args\": {\"cgroup\": \"/\", \"resource\": \"memory\", "
         "\"threshold\": \"10\", \"duration\": \"1\"}}]], \"actions\": [{\"name\": "
         "\"kill_by_memory_size_or_growth\", \"args\": {\"cgroup\": \"" +
         parent + "/*\", \"post_action_delay\": \"5\"}}]}]}";
}

bool wait_for(const std::function<bool()>& ready, Clock::duration limit) {
  Clock::time_point until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ready();
}

// The contender, fresh for each trial, started and ready; 0 for the kernel alone.
pid_t start_contender(const Setup& s, const std::string& who, const std::string& parent) {
  std::string log = s.logs + "/contender-" + std::to_string(g_trial) + ".log";
  pid_t pid = 0;
  std::string ready_text;
  if (who.starts_with("pressure")) {
    write_file(s.work + "/daemon.toml", our_config(hold_of(who), who != "pressure-normal"));
    pid = start({s.pressure, "daemon", "--config", s.work + "/daemon.toml"}, log);
    ready_text = "started";
  } else if (who == "oomd") {
    write_file(s.work + "/oomd.json", oomd_config(parent));
    ::mkdir((s.work + "/oomd-run").c_str(), 0700);
    pid = start({s.oomd, "--config", s.work + "/oomd.json", "--interval", "1", "--cgroup-fs",
                 "/sys/fs/cgroup", "--runtime-dir", s.work + "/oomd-run"},
                log);
    ready_text = "Running oomd";
  } else if (who == "earlyoom") {
    pid = start({s.earlyoom}, log);
    ready_text = "sending SIGTERM when";
  } else {
    return 0;
  }
  if (pid < 0 || !wait_for([&] { return read_text(log).find(ready_text) != std::string::npos; }, 20s)) {
    std::fprintf(stderr, "rescue_bench: %s did not start (no '%s' in its log):\n%s\n", who.c_str(),
                 ready_text.c_str(), read_text(log).c_str());
    return -1;
  }
  return pid;
}

std::optional<pressure::Stall> system_memory_full() {
  auto p = pressure::memory();
  if (!p || !p->full) return std::nullopt;
  return *p->full;
}

struct Trial {
  std::string contender;
  bool rescued = false;
  double rescue_s = 0, stall_s = 0, gap_s = 0;
  std::string hog, service, heartbeat;  // how each ended, empty if alive
  std::string timeline;                 // ours: where the stall went (see timeline())
  bool right() const { return !hog.empty() && service.empty() && heartbeat.empty(); }
};

// The system's memory `full total` (µs) sampled through a trial: seconds since the hog started.
using StallTrace = std::vector<std::pair<double, std::uint64_t>>;

void sample(StallTrace& trace, Clock::time_point t0) {
  if (auto f = system_memory_full()) trace.emplace_back(seconds(Clock::now() - t0), f->total_us);
}

// Stall (s) between two moments of the trace (the last samples at or before each).
double stall_between(const StallTrace& trace, double from, double to) {
  auto at = [&](double t) {
    std::uint64_t v = trace.empty() ? 0 : trace.front().second;
    for (const auto& [when, total] : trace)
      if (when <= t) v = total;
    return v;
  };
  return static_cast<double>(at(to) - at(from)) / 1e6;
}

// The first moment the stall over the preceding second reached `share` (the rule's crossing, as
// the bench saw it), or -1.
double first_crossing(const StallTrace& trace, double share) {
  std::size_t from = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    while (from < i && trace[i].first - trace[from + 1].first >= 1.0) ++from;
    double span = trace[i].first - trace[from].first;
    if (span >= 0.9 && static_cast<double>(trace[i].second - trace[from].second) / 1e6 >= share * span)
      return trace[i].first;
  }
  return -1;
}

// Where our daemon's trial went, from its JSON log: the streak's start (the kill's time less
// its "held"), the kill, the hog's death, and the stall suffered in each part. Empty without a
// kill line.
std::string timeline(const std::string& log, std::chrono::system_clock::time_point wall0,
                     const StallTrace& trace, double death_s, double end_s) {
  std::stringstream in(log);
  int released = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"what\":\"released\"") != std::string::npos) ++released;
    if (line.find("\"what\":\"kill\"") == std::string::npos) continue;
    std::size_t t = line.find("\"time\":");
    if (t == std::string::npos) return {};
    double logged =
        std::atof(line.c_str() + t + 7) - std::chrono::duration<double>(wall0.time_since_epoch()).count();
    std::size_t h = line.find("held ");
    double held = h == std::string::npos ? 0.0 : std::atof(line.c_str() + h + 5);
    double streak = logged - held;
    char out[320];
    std::snprintf(
        out, sizeof out,
        "crossed +%.2f s, streak +%.2f s (stall %.2f s before it), kill logged +%.2f s (%.2f s in the hold), "
        "hog dead +%.2f s (%.2f s), %.2f s after; %d streak%s released before",
        first_crossing(trace, 0.10), streak, stall_between(trace, 0, streak), logged,
        stall_between(trace, streak, logged), death_s, stall_between(trace, logged, death_s),
        stall_between(trace, death_s, end_s), released, released == 1 ? "" : "s");
    return out;
  }
  return {};
}

std::optional<Trial> run_trial(const Setup& s, const std::string& who, int n) {
  g_trial = n;
  Trial t;
  t.contender = who;
  std::string parent_name = "rescue-" + std::to_string(::getpid()) + "-" + std::to_string(n);
  std::string parent = "/sys/fs/cgroup/" + parent_name;
  if (::mkdir(parent.c_str(), 0755) != 0) {
    std::fprintf(stderr, "rescue_bench: mkdir %s: %s\n", parent.c_str(), std::strerror(errno));
    return std::nullopt;
  }
  own_dir(parent);
  write_text(parent + "/cgroup.subtree_control", "+memory");
  for (const char* child : {"/service", "/hog"}) {
    if (::mkdir((parent + child).c_str(), 0755) != 0) {
      std::fprintf(stderr, "rescue_bench: mkdir %s%s: %s\n", parent.c_str(), child, std::strerror(errno));
      return std::nullopt;
    }
    own_dir(parent + child);
  }
  // Every trial starts from the same cold cache, so the service warms up alike.
  write_text("/proc/sys/vm/drop_caches", "3");
  s.shared->service_passes = 0;
  s.shared->beats = 0;

  if (who == "oomd") {
    // oomd's detector reads avg10, which a previous trial's thrashing leaves high for tens of
    // seconds: it would fire at once, before any stall (and kill the service while it warms
    // up). It starts from a calm average.
    wait_for(
        [] {
          auto f = system_memory_full();
          return f && f->avg10.hundredths() <= 100;
        },
        90s);
  }
  pid_t contender = start_contender(s, who, parent_name);
  if (contender < 0) return std::nullopt;
  pid_t service = start({s.workload, "service", s.file, std::to_string(s.service_mib)},
                        s.work + "/service.log", parent + "/service/cgroup.procs");
  pid_t heartbeat = start({s.workload, "heartbeat"}, s.work + "/heartbeat.log");
  std::map<pid_t, std::string> seen;
  bool warm = wait_for(
      [&] {
        return (s.shared->service_passes.load() >= 2 && s.shared->beats.load() >= 2) ||
               !ended(service, seen).empty() || !ended(heartbeat, seen).empty();
      },
      120s);
  if (!ended(service, seen).empty() || !ended(heartbeat, seen).empty()) {
    // The contender killed what fits before the hog even started.
    t.service = ended(service, seen);
    t.heartbeat = ended(heartbeat, seen);
    stop(contender);
    for (pid_t p : {service, heartbeat})
      if (ended(p, seen).empty()) {
        kill_and_reap(p);
        disown_pid(p);
      }
    remove_dirs();
    return t;
  }
  if (!warm) {
    std::fprintf(stderr, "rescue_bench: the service did not read its working set twice within 120 s\n");
    return std::nullopt;
  }
  auto before = system_memory_full();
  s.shared->longest_gap_ns = 0;
  StallTrace trace;
  trace.reserve(1 << 16);
  auto wall0 = std::chrono::system_clock::now();
  Clock::time_point t0 = Clock::now();
  pid_t hog = start({s.workload, "hog", std::to_string(s.hog_mib)}, s.work + "/hog.log",
                    parent + "/hog/cgroup.procs");
  Clock::time_point deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.timeout_s));
  Clock::time_point end = deadline;
  while (Clock::now() < deadline) {
    if (!ended(hog, seen).empty()) {
      t.rescued = true;
      t.rescue_s = seconds(Clock::now() - t0);
      end = Clock::now() +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.settle_s));
      break;
    }
    sample(trace, t0);
    std::this_thread::sleep_for(5ms);
  }
  while (Clock::now() < end) {
    sample(trace, t0);
    std::this_thread::sleep_for(10ms);
  }
  auto after = system_memory_full();
  t.gap_s = static_cast<double>(s.shared->longest_gap_ns.load()) / 1e9;
  if (before && after) t.stall_s = static_cast<double>(after->total_us - before->total_us) / 1e6;
  t.hog = ended(hog, seen);
  t.service = ended(service, seen);
  t.heartbeat = ended(heartbeat, seen);
  if (t.rescued && t.hog.empty()) t.hog = "exited";

  stop(contender);
  if (who.starts_with("pressure")) {
    std::string text = read_text(s.logs + "/contender-" + std::to_string(g_trial) + ".log");
    if (t.rescued) t.timeline = timeline(text, wall0, trace, t.rescue_s, seconds(Clock::now() - t0));
    // What the daemon says about protecting itself, once per run, for bench/README.md.
    static bool shown = false;
    std::stringstream log(text);
    for (std::string line; std::getline(log, line);)
      if (!shown &&
          (line.find("memory locked") != std::string::npos ||
           line.find("oom_score_adj") != std::string::npos || line.find("paged out") != std::string::npos))
        std::printf("  daemon: %s\n", line.c_str());
    shown = true;
  }
  for (pid_t p : {hog, service, heartbeat})
    if (ended(p, seen).empty()) {
      kill_and_reap(p);
      disown_pid(p);
    }
  remove_dirs();
  return t;
}

std::string how(const std::string& ended) { return ended.empty() ? "alive" : ended; }

const char* verdict(const Trial& t) {
  if (!t.service.empty() || !t.heartbeat.empty()) return "  WRONG";  // a process that fits died
  return t.hog.empty() ? "  missed" : "";
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::uint64_t meminfo_kib(const std::string& key) {
  std::string text = read_text("/proc/meminfo");
  std::size_t at = text.find(key + ":");
  return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + key.size() + 1, nullptr, 10);
}

std::string exe_dir() {
  std::array<char, 4096> buf{};
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  std::string path(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
  return path.substr(0, path.rfind('/'));
}

}  // namespace

int main(int argc, char** argv) {
  bench::warn_about_build("rescue_bench");
  Setup s;
  s.pressure = PRESSURE_BINARY;
  s.workload = exe_dir() + "/rescue_workload";
  s.file = exe_dir() + "/rescue-working-set";
  int rounds = 10;
  bool check = false;
  std::vector<std::string> contenders = {"none", "pressure", "pressure-nofor", "oomd", "earlyoom"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "rescue_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--trials")
      rounds = std::atoi(value().c_str());
    else if (a == "--contenders")
      contenders = split(value());
    else if (a == "--timeout")
      s.timeout_s = std::atof(value().c_str());
    else if (a == "--service-mib")
      s.service_mib = std::atoi(value().c_str());
    else if (a == "--hog-mib")
      s.hog_mib = std::atoi(value().c_str());
    else if (a == "--file")
      s.file = value();
    else if (a == "--pressure")
      s.pressure = value();
    else if (a == "--log-dir")
      s.logs = value();
    else if (a == "--assert")
      check = true;
    else {
      std::fprintf(
          stderr,
          "usage: rescue_bench [--trials N] [--contenders none,pressure,pressure-nofor,oomd,earlyoom] "
          "[--timeout S] [--service-mib M] [--hog-mib M] [--file PATH] [--pressure BIN] [--log-dir DIR] "
          "[--assert]\n");
      return 2;
    }
  }
  for (const std::string& c : contenders)
    if (c != "none" && !c.starts_with("pressure") && c != "oomd" && c != "earlyoom") {
      std::fprintf(stderr, "rescue_bench: unknown contender '%s'\n", c.c_str());
      return 2;
    }

  // The scenario thrashes the whole machine and lets daemons kill anywhere: never on a host.
  const char* in_vm = std::getenv("PRESSURE_IN_VM");
  if (in_vm == nullptr || std::string(in_vm) != "1") {
    std::printf(
        "rescue_bench: skipped: the rescue scenario thrashes the whole machine and lets daemons kill "
        "machine-wide; it runs only in the VM test bed (tests/vm/run.sh --mem 768 -- ...), where "
        "PRESSURE_IN_VM=1\n");
    return k_exit_skip;
  }
  std::uint64_t total_mib = meminfo_kib("MemTotal") / 1024, swap = meminfo_kib("SwapTotal");
  if (::geteuid() != 0 || swap != 0 || total_mib > 1024 || total_mib < 512 ||
      read_text("/sys/fs/cgroup/cgroup.subtree_control").find("memory") == std::string::npos) {
    std::printf(
        "rescue_bench: skipped: needs root, no swap, 512-1024 MiB of memory (boot with --mem 768) and the "
        "memory controller at /sys/fs/cgroup; here uid %u, MemTotal %llu MiB, SwapTotal %llu kB\n",
        ::geteuid(), static_cast<unsigned long long>(total_mib), static_cast<unsigned long long>(swap));
    return k_exit_skip;
  }
  for (const std::string& c : contenders) {
    const std::string& bin = c == "oomd" ? s.oomd : c == "earlyoom" ? s.earlyoom : s.pressure;
    if (c != "none" && ::access(bin.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "rescue_bench: %s not found at %s\n", c.c_str(), bin.c_str());
      return 4;
    }
  }
  // The working set must be a file of the shared root (clean pages reclaim can drop and read
  // back), not of the guest's RAM overlay, whose pages nothing can reclaim without swap: the
  // build makes it, on the host, before the guest boots.
  struct stat st {};
  if (::stat(s.file.c_str(), &st) != 0 || st.st_size < static_cast<off_t>(s.service_mib) * (1 << 20)) {
    std::fprintf(stderr,
                 "rescue_bench: %s is missing or smaller than %d MiB; build the rescue_bench target\n",
                 s.file.c_str(), s.service_mib);
    return 4;
  }

  std::array<char, 64> work{};
  std::snprintf(work.data(), work.size(), "/tmp/rescue-bench.XXXXXX");
  if (::mkdtemp(work.data()) == nullptr) {
    std::perror("rescue_bench: mkdtemp");
    return 4;
  }
  s.work = work.data();
  if (s.logs.empty()) s.logs = s.work;
  std::snprintf(g_owned.work.data(), g_owned.work.size(), "%s", work.data());
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) std::signal(sig, on_signal);
  std::atexit(cleanup);

  g_shared_fd = static_cast<int>(::syscall(SYS_memfd_create, "rescue-bench", 0));
  if (g_shared_fd < 0 || ::ftruncate(g_shared_fd, 4096) != 0) {
    std::perror("rescue_bench: memfd");
    return 4;
  }
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, g_shared_fd, 0);
  if (page == MAP_FAILED) {
    std::perror("rescue_bench: mmap");
    return 4;
  }
  s.shared = static_cast<Shared*>(page);
  // The measuring process must not be what is slow: resident, and passed over by the OOM killer.
  ::mlockall(MCL_CURRENT | MCL_FUTURE | 4 /* MCL_ONFAULT */);
  write_text("/proc/self/oom_score_adj", "-1000");

  std::printf(
      "rescue: %llu MiB, no swap; service %d MiB of %s, hog %d MiB; trial timeout %.0f s; %d rounds\n",
      static_cast<unsigned long long>(total_mib), s.service_mib, s.file.c_str(), s.hog_mib, s.timeout_s,
      rounds);
  std::printf("  pressure: system memory full 10%%/1s, for 1s, kill the process with the most memory\n");
  std::printf(
      "  pressure-nofor: the same without for; pressure-forD: with for = D; pressure-normal: for 1s, "
      "realtime = false\n");
  std::printf(
      "  oomd: pressure_above / memory 10 duration 1, kill_by_memory_size_or_growth among the parent's "
      "children, --interval 1\n");
  std::printf("  earlyoom: defaults\n");
  std::fflush(stdout);

  std::map<std::string, std::vector<Trial>> all;
  int n = 0;
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t slot = 0; slot < contenders.size(); ++slot) {
      const std::string& who = contenders[(slot + static_cast<std::size_t>(round)) % contenders.size()];
      std::optional<Trial> t = run_trial(s, who, n++);
      if (!t) {
        std::fprintf(stderr, "rescue_bench: trial %d (%s) could not run\n", n, who.c_str());
        cleanup();
        return 4;
      }
      char rescue[32];
      if (t->rescued)
        std::snprintf(rescue, sizeof rescue, "%6.2f s", t->rescue_s);
      else
        std::snprintf(rescue, sizeof rescue, "not rescued");
      std::printf(
          "trial %3d %-15s rescue %-11s  stall %6.2f s  heartbeat gap %5.2f s  hog %s, service %s, "
          "heartbeat %s%s\n",
          n, who.c_str(), rescue, t->stall_s, t->gap_s, how(t->hog).c_str(), how(t->service).c_str(),
          how(t->heartbeat).c_str(), verdict(*t));
      if (!t->timeline.empty()) std::printf("          %s\n", t->timeline.c_str());
      std::fflush(stdout);
      all[who].push_back(*t);
    }
  }

  std::printf("\n%-15s %8s %18s %18s %18s %s\n", "contender", "rescued", "rescue med/worst",
              "stall med/worst", "gap med/worst", "right kills");
  std::map<std::string, double> median_stall;
  bool ok = true;
  for (const std::string& who : contenders) {
    const std::vector<Trial>& ts = all[who];
    std::vector<double> rescue, stall, gap;
    int rescued = 0, right = 0;
    for (const Trial& t : ts) {
      rescue.push_back(t.rescued ? t.rescue_s : s.timeout_s);
      stall.push_back(t.stall_s);
      gap.push_back(t.gap_s);
      rescued += t.rescued ? 1 : 0;
      right += t.right() ? 1 : 0;
    }
    auto worst = [](const std::vector<double>& v) {
      return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
    };
    median_stall[who] = bench::median(stall);
    std::printf("%-15s %5d/%-2zu %7.2f / %6.2f%s %7.2f / %6.2f s  %6.2f / %5.2f s  %d/%zu\n", who.c_str(),
                rescued, ts.size(), bench::median(rescue), worst(rescue),
                rescued == static_cast<int>(ts.size()) ? " s" : "+s", bench::median(stall), worst(stall),
                bench::median(gap), worst(gap), right, ts.size());
    if (who.starts_with("pressure") && right != static_cast<int>(ts.size())) ok = false;
  }
  for (const std::string& who : contenders) {
    if (!who.starts_with("pressure") || !median_stall.count("none")) continue;
    double ratio = median_stall["none"] > 0 ? median_stall[who] / median_stall["none"] : 0.0;
    std::printf("%s stall / none's: %.2f\n", who.c_str(), ratio);
    if (median_stall[who] >= median_stall["none"]) ok = false;
  }
  std::printf(
      "goal (issue 12): every hog killed, median stall <= 1.0 s, worst <= 1.5 s, heartbeat gap <= 0.3 s\n");
  cleanup();
  if (check && !ok) {
    std::printf(
        "rescue_bench: FAILED: a pressure trial missed the hog, killed something else, or stalled as "
        "long as the kernel alone\n");
    return 1;
  }
  return 0;
}
