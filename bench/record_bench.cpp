// What `pressure record` costs with 100 cgroups: CPU per tick (and so per hour at a 1 s
// interval) and database bytes per tick (and so per day), against the floor of the same reads
// without SQLite, in the same run:
//
//   kept-fd floor  pread of the system's and every group's pressure files through fds opened
//                  once: the least any recorder must do per tick, nothing parsed or stored
//   floor          TargetSampler::sample(): the system snapshot and the groups of its kept-open
//                  CgroupSet, exactly what the recorder reads, nothing stored
//   recorder       sample() + Store::append(): one transaction per tick, only the lines that
//                  changed (idle groups cost nothing), WAL, synchronous=NORMAL
//   every line     the same writing every line of every target at every tick (the worst case:
//                  all 100 groups under pressure all the time)
//
// Contenders alternate by tick, in rotating order, so noise lands on all alike. The bench makes
// <cgroup2 mount>/pressure-bench-record-<pid> with children g000..g099 and removes them on exit,
// on error and on SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE/SIGABRT; the databases live in a
// temporary directory removed at the end. Needs root (or a writable cgroup2 mount).
//
//   record_bench [--cgroups 100] [--ticks 60] [--interval-ms 100]   (up to 9999 cgroups)
//
// Exits 0 whatever the figures; 1 when the cgroups cannot be made, read or removed.
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_tree.hpp"
#include "common.hpp"
#include "recorder/recorder.hpp"
#include "recorder/store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace pressure;

using bench::child_path;
using bench::g_children;
using bench::g_parent;
using bench::g_parent_made;
using bench::remove_tree;
char g_tmp[4096];

void cleanup_at_exit() {
  if (int failures = remove_tree(); failures > 0)
    std::fprintf(stderr, "record_bench: could not remove %d cgroups under %s; rmdir them by hand\n", failures,
                 g_parent);
  if (g_tmp[0] != '\0') {
    std::error_code ec;
    fs::remove_all(g_tmp, ec);
  }
}

constexpr std::array<int, 6> k_signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT};
extern "C" void on_signal(int sig) {
  remove_tree();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "record_bench: %s\n", message.c_str());
  std::exit(1);
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Bytes of pages in use (dbstat); the file grows by whole pages, so over a short run its size
// says little, while this counts what the rows take, page overhead included.
double db_bytes(recorder::Store& store) {
  auto used = store.used_bytes();
  if (!used) die(used.error().message());
  return static_cast<double>(*used);
}

double file_bytes(recorder::Store& store) {
  if (auto r = store.checkpoint(); !r) die(r.error().message());
  std::error_code ec;
  return static_cast<double>(fs::file_size(store.path(), ec));
}

std::string human_bytes(double b) {
  char out[32];
  if (b >= 1e9)
    std::snprintf(out, sizeof out, "%.2f GB", b / 1e9);
  else if (b >= 1e6)
    std::snprintf(out, sizeof out, "%.1f MB", b / 1e6);
  else if (b >= 1e3)
    std::snprintf(out, sizeof out, "%.1f kB", b / 1e3);
  else
    std::snprintf(out, sizeof out, "%.0f B", b);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long cgroups = 100, ticks = 60, interval_ms = 100;
  for (int i = 1; i < argc; ++i) {
    if (bench::count_option(argc, argv, i, "--cgroups", cgroups, 1, 9999)) continue;
    if (bench::count_option(argc, argv, i, "--ticks", ticks, 3, 100000)) continue;
    if (bench::count_option(argc, argv, i, "--interval-ms", interval_ms, 0, 10000)) continue;
    std::fprintf(stderr, "usage: %s [--cgroups 100] [--ticks 60] [--interval-ms 100]\n", argv[0]);
    return 2;
  }
  bench::warn_about_build("record_bench");

  Result<std::string> root = cgroup2_root();
  if (!root) die("no cgroup2 mount: " + root.error().message());
  std::string relative = "/pressure-bench-record-" + std::to_string(::getpid());
  std::string parent =
      (root->size() > 1 && root->back() == '/' ? root->substr(0, root->size() - 1) : *root) + relative;
  if (parent.size() + 32 > sizeof g_parent) die("cgroup2 mount path too long");

  sigset_t set, old;
  sigemptyset(&set);
  for (int sig : k_signals) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, &old);
  std::memcpy(g_parent, parent.c_str(), parent.size() + 1);
  if (::mkdir(g_parent, 0755) != 0) {
    int err = errno;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    die("cannot create cgroup " + parent + ": " + std::strerror(err) + " (run as root)");
  }
  g_parent_made = 1;
  std::atexit(cleanup_at_exit);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : k_signals) sigaction(sig, &action, nullptr);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  for (long i = 0; i < cgroups; ++i) {
    char path[4200];
    child_path(i, path);
    g_children = static_cast<std::sig_atomic_t>(i + 1);
    if (::mkdir(path, 0755) != 0)
      die(std::string("cannot create cgroup ") + path + ": " + std::strerror(errno));
  }
  std::string tmp = (fs::temp_directory_path() / "pressure-bench-record-XXXXXX").string();
  if (::mkdtemp(tmp.data()) == nullptr) die("cannot make a temporary directory");
  std::memcpy(g_tmp, tmp.c_str(), tmp.size() + 1);

  recorder::SamplerOptions options;
  options.globs = {relative + "/*"};
  recorder::TargetSampler floor_sampler(options), changed_sampler(options), every_sampler(options);
  auto changed = recorder::Store::open(tmp + "/changed.db", recorder::Store::Mode::write);
  auto every = recorder::Store::open(tmp + "/every.db", recorder::Store::Mode::write);
  if (!changed || !every) die((changed ? every.error() : changed.error()).message());
  every->set_write_unchanged(true);

  // One tick of each first: the schema and the first full write are not what a tick costs.
  auto first = floor_sampler.sample();
  if (!first) die(first.error().message());
  if (static_cast<long>(first->targets.size()) != cgroups + 1)
    die("sampled " + std::to_string(first->targets.size()) + " targets, not " + std::to_string(cgroups + 1));
  for (auto* pair : {&changed, &every}) {
    auto sampler = pair == &changed ? &changed_sampler : &every_sampler;
    auto t = sampler->sample();
    if (!t || !(*pair)->append(*t)) die("the first tick failed");
  }
  double changed_base = db_bytes(*changed), every_base = db_bytes(*every);

  // The kept-fd floor's files: the system's and every group's pressure files, opened once.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::vector<int> kept;
  for (const char* file :
       {"/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io", "/proc/pressure/irq"})
    if (int fd = ::open(file, O_RDONLY | O_CLOEXEC); fd >= 0) kept.push_back(fd);
  for (long i = 0; i < cgroups; ++i) {
    char path[4300];
    child_path(i, path);
    for (const char* file : {"cpu.pressure", "memory.pressure", "io.pressure", "irq.pressure"})
      if (int fd = ::open((std::string(path) + "/" + file).c_str(), O_RDONLY | O_CLOEXEC); fd >= 0)
        kept.push_back(fd);
  }
  char buffer[1024];
  auto kept_floor = [&] {
    for (int fd : kept)
      if (::pread(fd, buffer, sizeof buffer, 0) <= 0) die("pread of a kept pressure file failed");
  };

  std::array<std::vector<double>, 4> cpu;
  long errors = 0;
  for (long tick = 0; tick < ticks; ++tick) {
    for (long slot = 0; slot < 4; ++slot) {
      long which = (slot + tick) % 4;
      double start = cpu_seconds();
      if (which == 3) {
        kept_floor();
      } else if (which == 0) {
        auto t = floor_sampler.sample();
        if (!t) ++errors;
      } else {
        auto& sampler = which == 1 ? changed_sampler : every_sampler;
        auto& store = which == 1 ? *changed : *every;
        auto t = sampler.sample();
        if (!t || !store.append(*t)) ++errors;
      }
      cpu[static_cast<std::size_t>(which)].push_back(cpu_seconds() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  double changed_per_tick = (db_bytes(*changed) - changed_base) / static_cast<double>(ticks);
  double every_per_tick = (db_bytes(*every) - every_base) / static_cast<double>(ticks);
  double changed_file = file_bytes(*changed), every_file = file_bytes(*every);
  if (errors > 0) die(std::to_string(errors) + " ticks failed");
  for (int fd : kept) ::close(fd);
  floor_sampler = recorder::TargetSampler({});  // the sets close their fds before the groups go
  changed_sampler = recorder::TargetSampler({});
  every_sampler = recorder::TargetSampler({});
  if (int failures = remove_tree(); failures > 0)
    die("could not remove " + std::to_string(failures) + " cgroups");

  double floor_ms = bench::median(cpu[0]) * 1e3, changed_ms = bench::median(cpu[1]) * 1e3,
         every_ms = bench::median(cpu[2]) * 1e3, kept_ms = bench::median(cpu[3]) * 1e3;
  std::printf(
      "record of the system + %ld cgroups under %s: %ld ticks %ld ms apart per contender, alternating; "
      "CPU time medians per tick\n",
      cgroups, parent.c_str(), ticks, interval_ms);
  std::printf(
      "cpu per tick: floor (same reads, no SQLite) %.3f ms, recorder %.3f ms (ratio %.2f), every line "
      "written "
      "%.3f ms (ratio %.2f)\n",
      floor_ms, changed_ms, changed_ms / floor_ms, every_ms, every_ms / floor_ms);
  std::printf(
      "  against the kept-fd floor (pread of %zu kept files, no parsing) %.3f ms: sampler %.2f, recorder "
      "%.2f "
      "(target <= 1.2: %s)\n",
      kept.size(), kept_ms, floor_ms / kept_ms, changed_ms / kept_ms,
      changed_ms / kept_ms <= 1.2 ? "met" : "NOT met");
  std::printf(
      "  at a 1 s interval: recorder %.1f s CPU per hour (%.3f%% of one core), floor %.1f s, every line %.1f "
      "s\n",
      changed_ms * 3.6, changed_ms / 10.0, floor_ms * 3.6, every_ms * 3.6);
  std::printf(
      "database per tick (bytes of pages in use): recorder %.0f bytes (idle groups cost nothing: only the "
      "lines "
      "that changed), every line %.0f bytes; files now %s and %s\n",
      changed_per_tick, every_per_tick, human_bytes(changed_file).c_str(), human_bytes(every_file).c_str());
  std::printf(
      "  per day at 1 s: recorder %s, every line %s raw; after the raw day, 1-minute buckets: every line %s "
      "per day\n",
      human_bytes(changed_per_tick * 86400).c_str(), human_bytes(every_per_tick * 86400).c_str(),
      human_bytes(every_per_tick * 1440).c_str());
  return 0;
}
