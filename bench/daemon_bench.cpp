// `pressure daemon` side by side with oomd (Debian's), on the same real thrashing workload:
// alternating runs, the time from the victim's first memory stall to its death and the stall
// it suffered, for our rule as written and holding a second like oomd's `duration`; then the idle cost of 5
// rules over a minute (CPU time, RSS) for both.
//
//   daemon_bench PRESSURE THRASH [--trials N] [--idle-seconds S] [--timeout S] [--no-oomd]
//
// Everything it touches it makes: a parent group pressure-bench-daemon-PID under the cgroup2
// mount with one child per run, a v1 memory group of 64 MiB (hybrid systems; memory.max on
// pure cgroup2), a file under /var/tmp; it kills only the processes it started, by pid, and
// removes all of it, also on SIGINT/SIGTERM.
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pressure/reader.hpp>

#include "common.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- What we own (removed on exit and on signals; async-signal-safe calls only) ----
struct Owned {
  std::array<pid_t, 16> pids{};
  std::array<std::array<char, 512>, 16> dirs{};  // removed last-in first-out
  std::array<char, 512> file{};
  int npids = 0, ndirs = 0;
} g_owned;

void own_pid(pid_t pid) {
  for (int i = 0; i < g_owned.npids; ++i)
    if (g_owned.pids[i] == 0) {
      g_owned.pids[i] = pid;
      return;
    }
  if (g_owned.npids < 16) g_owned.pids[g_owned.npids++] = pid;
}
void disown_pid(pid_t pid) {
  for (int i = 0; i < g_owned.npids; ++i)
    if (g_owned.pids[i] == pid) g_owned.pids[i] = 0;
}
void own_dir(const std::string& d) {
  if (g_owned.ndirs < 16) std::snprintf(g_owned.dirs[g_owned.ndirs++].data(), 512, "%s", d.c_str());
}
bool remove_dir(const char* d) { return bench::remove_dir_waiting(d, 200); }
using bench::kill_and_reap;
void cleanup() {
  for (int i = 0; i < g_owned.npids; ++i) kill_and_reap(g_owned.pids[i]);
  g_owned.npids = 0;
  for (int i = g_owned.ndirs - 1; i >= 0; --i) remove_dir(g_owned.dirs[i].data());
  g_owned.ndirs = 0;
  if (g_owned.file[0] != 0) ::unlink(g_owned.file.data());
}
extern "C" void on_signal(int sig) {
  cleanup();
  std::signal(sig, SIG_DFL);
  ::raise(sig);
}

using bench::read_text;
using bench::write_file;
using bench::write_text;

// A program in the background, output to `log`; optionally joined to cgroups first.
pid_t start(const std::vector<std::string>& argv, const std::string& log,
            const std::vector<std::string>& procs = {}) {
  std::vector<const char*> args;
  for (const auto& a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    for (const auto& p : procs)
      if (!write_text(p, "0")) ::_exit(126);
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

void stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) {
      disown_pid(pid);
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  kill_and_reap(pid);
  disown_pid(pid);
}

std::optional<std::uint64_t> full_total(const std::string& group) {
  auto p = pressure::read(pressure::Resource::memory, pressure::Target::cgroup(group));
  if (!p || !p->full) return std::nullopt;
  return p->full->total_us;
}

struct Cpu {
  double seconds = 0;
  long rss_kib = 0, hwm_kib = 0;
};
// CPU time in ns from /proc/PID/schedstat (exact, unlike the 10 ms ticks of /proc/PID/stat).
Cpu usage(pid_t pid) {
  Cpu c;
  std::istringstream sched(read_text("/proc/" + std::to_string(pid) + "/schedstat"));
  unsigned long long ns = 0;
  sched >> ns;
  c.seconds = static_cast<double>(ns) / 1e9;
  std::istringstream status(read_text("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) c.rss_kib = std::atol(line.c_str() + 6);
    if (line.rfind("VmHWM:", 0) == 0) c.hwm_kib = std::atol(line.c_str() + 6);
  }
  return c;
}

struct Trial {
  bool killed = false;
  double first_stall_to_death_s = 0;
  double stall_s = 0;
};

struct Setup {
  std::string pressure, thrash, mount, base, work;
  bool hybrid = false;
  int timeout_s = 60;
};

// The contenders: ours as the README writes the rule (no `for`), ours holding a second as oomd's
// `duration` does (like for like), and oomd.
enum class Peer { ours, ours_for, oomd };
const char* name_of(Peer p) {
  return p == Peer::ours ? "pressure" : p == Peer::ours_for ? "pressure-for1s" : "oomd";
}

std::string our_config(const std::vector<std::string>& groups, bool hold) {
  std::string toml;
  for (std::size_t i = 0; i < groups.size(); ++i)
    toml += "[[rule]]\nname = \"thrash " + std::to_string(i) + "\"\ntarget = { cgroup = \"" + groups[i] +
            "\" }\nwhen = \"memory full 10%/1s\"\n" + (hold ? "for = \"1s\"\n" : "") +
            "action = \"kill\"\nvictim = { among = \"children\", by = \"pressure\" }\n"
            "cooldown = \"15s\"\n\n";
  return toml;
}

std::string oomd_config(const std::vector<std::string>& groups) {
  std::string json = "{\"rulesets\": [";
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::string g = groups[i].substr(1);
    json += std::string(i ? "," : "") + "{\"name\": \"thrash " + std::to_string(i) +
            "\", \"detectors\": [[\"memory full above 10 for 1s\", {\"name\": \"pressure_above\", \"args\": "
            "{\"cgroup\": \"" +
            g +
            "\", \"resource\": \"memory\", \"threshold\": \"10\", \"duration\": \"1\"}}]], "
            "\"actions\": [{\"name\": \"kill_by_pressure\", \"args\": {\"cgroup\": \"" +
            g + "/*\", \"resource\": \"memory\", \"post_action_delay\": \"15\"}}]}";
  }
  return json + "]}";
}

pid_t start_peer(const Setup& s, Peer peer, const std::vector<std::string>& groups, const std::string& tag) {
  if (peer == Peer::oomd) {
    write_file(s.work + "/oomd.json", oomd_config(groups));
    ::mkdir((s.work + "/oomd-run").c_str(), 0700);
    return start(
        {"/usr/bin/oomd", "--config", s.work + "/oomd.json", "--interval", "1", "--cgroup-fs", s.mount,
         "--runtime-dir", s.work + "/oomd-run", "--kmsg-override", s.work + "/oomd-kmsg.log"},
        s.work + "/oomd-" + tag + ".log");
  }
  write_file(s.work + "/daemon.toml", our_config(groups, peer == Peer::ours_for));
  return start({s.pressure, "daemon", "--config", s.work + "/daemon.toml"},
               s.work + "/pressure-" + tag + ".log");
}

Trial run_trial(const Setup& s, Peer who, int n) {
  Trial t;
  // A fresh parent per trial: oomd's avg10 of a reused parent would still carry the last trial.
  std::string parent = s.base + "/trial-" + std::to_string(n);
  ::mkdir((s.mount + parent).c_str(), 0755);
  own_dir(s.mount + parent);
  std::string name = "victim-" + std::to_string(n);
  std::string group = parent + "/victim";
  std::string dir = s.mount + group;
  ::mkdir(dir.c_str(), 0755);
  own_dir(dir);
  std::vector<std::string> procs{dir + "/cgroup.procs"};
  std::string v1;
  if (s.hybrid) {
    v1 = "/sys/fs/cgroup/memory/" + s.base.substr(1) + "-" + name;
    ::mkdir(v1.c_str(), 0755);
    own_dir(v1);
    write_text(v1 + "/memory.limit_in_bytes", std::to_string(64 << 20));
    procs.push_back(v1 + "/cgroup.procs");
  } else {
    write_text(dir + "/memory.max", std::to_string(64 << 20));
  }
  pid_t peer = start_peer(s, who, {parent}, std::to_string(n));
  std::this_thread::sleep_for(2s);  // both have read their config and armed or started polling
  std::string file = "/var/tmp/pressure-thrash-" + std::to_string(::getpid()) + "-" + std::to_string(n);
  std::snprintf(g_owned.file.data(), g_owned.file.size(), "%s", file.c_str());
  std::uint64_t base_total = full_total(group).value_or(0);
  pid_t victim = start({s.thrash, "40", "40", file}, "/dev/null", procs);
  auto started = Clock::now();
  std::optional<Clock::time_point> first_stall;
  std::uint64_t last_total = base_total;
  while (Clock::now() - started < std::chrono::seconds(s.timeout_s)) {
    if (auto total = full_total(group)) {
      if (*total > base_total && !first_stall) first_stall = Clock::now();
      last_total = std::max(last_total, *total);
    }
    if (::waitpid(victim, nullptr, WNOHANG) == victim) {
      disown_pid(victim);
      t.killed = true;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  auto end = Clock::now();
  if (auto total = full_total(group)) last_total = std::max(last_total, *total);
  if (!t.killed) {
    kill_and_reap(victim);
    disown_pid(victim);
  }
  t.first_stall_to_death_s = std::chrono::duration<double>(end - first_stall.value_or(started)).count();
  t.stall_s = static_cast<double>(last_total - base_total) / 1e6;
  stop(peer);
  ::unlink(file.c_str());
  g_owned.file[0] = 0;
  if (!v1.empty()) remove_dir(v1.c_str());
  remove_dir(dir.c_str());
  remove_dir((s.mount + parent).c_str());
  g_owned.ndirs -= v1.empty() ? 2 : 3;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  bench::warn_about_build("daemon_bench");
  if (argc < 3) {
    std::fprintf(
        stderr,
        "usage: daemon_bench PRESSURE THRASH [--trials N] [--idle-seconds S] [--timeout S] [--no-oomd]\n");
    return 2;
  }
  Setup s;
  s.pressure = argv[1];
  s.thrash = argv[2];
  int trials = 5, idle = 60;
  bool with_oomd = ::access("/usr/bin/oomd", X_OK) == 0;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--trials" && i + 1 < argc)
      trials = std::atoi(argv[++i]);
    else if (a == "--idle-seconds" && i + 1 < argc)
      idle = std::atoi(argv[++i]);
    else if (a == "--timeout" && i + 1 < argc)
      s.timeout_s = std::atoi(argv[++i]);
    else if (a == "--no-oomd")
      with_oomd = false;
    else {
      std::fprintf(stderr, "daemon_bench: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (!with_oomd) std::fprintf(stderr, "daemon_bench: oomd not found (apt-get install oomd); ours alone\n");
  auto root = pressure::cgroup2_root();
  if (!root) {
    std::fprintf(stderr, "daemon_bench: %s\n", root.error().message().c_str());
    return 1;
  }
  s.mount = *root;
  s.hybrid = ::access((s.mount + "/cgroup.controllers").c_str(), R_OK) == 0 &&
             read_text(s.mount + "/cgroup.controllers").find("memory") == std::string::npos;
  s.base = "/pressure-bench-daemon-" + std::to_string(::getpid());
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) std::signal(sig, on_signal);
  std::atexit(cleanup);
  char work[] = "/tmp/pressure-bench-daemon-XXXXXX";
  if (::mkdtemp(work) == nullptr) return 1;
  s.work = work;
  if (::mkdir((s.mount + s.base).c_str(), 0755) != 0) {
    std::fprintf(stderr, "daemon_bench: cannot create %s%s: %s\n", s.mount.c_str(), s.base.c_str(),
                 std::strerror(errno));
    return 1;
  }
  own_dir(s.mount + s.base);

  std::printf(
      "reaction: thrashing in a 64 MiB group (40 MiB anon + 40 MiB file), rule 'memory full >= 10%% over 1 "
      "s, kill'\n");
  std::printf("  oomd: pressure_above threshold 10 duration 1 + kill_by_pressure, --interval 1\n");
  std::printf("  pressure-for1s: the same rule with for = \"1s\", oomd's duration (like for like)\n");
  struct Results {
    std::vector<double> time, stall;
    int missed = 0;
  };
  std::vector<Peer> peers{Peer::ours, Peer::ours_for};
  if (with_oomd) peers.push_back(Peer::oomd);
  std::vector<Results> results(peers.size());
  int n = 0;
  for (int i = 0; i < trials; ++i) {
    for (std::size_t k = 0; k < peers.size(); ++k) {
      std::size_t slot = (k + static_cast<std::size_t>(i)) % peers.size();  // alternate who goes first
      Trial t = run_trial(s, peers[slot], n++);
      std::printf("  trial %d %-14s %s first stall -> death %6.2f s, stall suffered %6.2f s\n", i + 1,
                  name_of(peers[slot]), t.killed ? "killed:" : "MISSED:", t.first_stall_to_death_s,
                  t.stall_s);
      std::fflush(stdout);
      Results& r = results[slot];
      if (t.killed) {
        r.time.push_back(t.first_stall_to_death_s);
        r.stall.push_back(t.stall_s);
      } else {
        ++r.missed;
      }
    }
  }
  for (std::size_t k = 0; k < peers.size(); ++k)
    std::printf(
        "%-14s median first stall -> death %.2f s, stall %.2f s (%zu killed, %d missed within %d s)\n",
        name_of(peers[k]), bench::median(results[k].time), bench::median(results[k].stall),
        results[k].time.size(), results[k].missed, s.timeout_s);
  if (with_oomd) {
    const Results &ours = results[0], &ours_for = results[1], &oomd = results[2];
    if (!ours.time.empty() && !oomd.time.empty()) {
      double ratio = bench::median(oomd.time) / bench::median(ours.time);
      std::printf("ratio: oomd / pressure reaction time = %.1fx (target: at least 4x and under 1.5 s: %s)\n",
                  ratio, ratio >= 4.0 && bench::median(ours.time) < 1.5 ? "met" : "NOT met");
    }
    if (!ours_for.time.empty() && !oomd.time.empty())
      std::printf(
          "ratio, like for like (both hold 1 s): oomd / pressure-for1s reaction time = %.1fx, stall = "
          "%.1fx\n",
          bench::median(oomd.time) / bench::median(ours_for.time),
          bench::median(ours_for.stall) > 0 ? bench::median(oomd.stall) / bench::median(ours_for.stall)
                                            : 0.0);
  }

  if (idle > 0) {
    std::vector<std::string> groups;
    for (int i = 0; i < 5; ++i) {
      std::string g = s.base + "/idle-" + std::to_string(i);
      ::mkdir((s.mount + g).c_str(), 0755);
      own_dir(s.mount + g);
      groups.push_back(g);
    }
    pid_t ours = start_peer(s, Peer::ours, groups, "idle");
    pid_t theirs = with_oomd ? start_peer(s, Peer::oomd, groups, "idle") : -1;
    std::this_thread::sleep_for(2s);
    Cpu ours0 = usage(ours), theirs0 = with_oomd ? usage(theirs) : Cpu{};
    std::this_thread::sleep_for(std::chrono::seconds(idle));
    Cpu ours1 = usage(ours), theirs1 = with_oomd ? usage(theirs) : Cpu{};
    std::printf("idle, 5 rules, %d s: pressure CPU %.4f s (%.4f%% of a core), RSS %ld KiB (peak %ld KiB)\n",
                idle, ours1.seconds - ours0.seconds, (ours1.seconds - ours0.seconds) * 100.0 / idle,
                ours1.rss_kib, ours1.hwm_kib);
    if (with_oomd)
      std::printf("idle, 5 rules, %d s: oomd     CPU %.4f s (%.4f%% of a core), RSS %ld KiB (peak %ld KiB)\n",
                  idle, theirs1.seconds - theirs0.seconds, (theirs1.seconds - theirs0.seconds) * 100.0 / idle,
                  theirs1.rss_kib, theirs1.hwm_kib);
    double ours_cpu = ours1.seconds - ours0.seconds, theirs_cpu = theirs1.seconds - theirs0.seconds;
    std::printf("idle target: RSS under 8 MiB%s: %s\n", with_oomd ? " and CPU no more than oomd's" : "",
                ours1.rss_kib < 8 * 1024 && (!with_oomd || ours_cpu <= theirs_cpu) ? "met" : "NOT met");
    stop(ours);
    if (with_oomd) stop(theirs);
  }
  cleanup();
  std::string cmd_work = s.work;
  for (const char* f : {"/daemon.toml", "/oomd.json", "/oomd-kmsg.log"}) ::unlink((cmd_work + f).c_str());
  return 0;
}
