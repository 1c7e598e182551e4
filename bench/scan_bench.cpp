// What pressure::scan_cgroups costs over 1000 real cgroups, against raw loops in the same run:
//
//   floor openat    open the parent once, then per child openat(parent, child) and
//                   openat+read+close of each pressure file relative to the child's fd
//   floor +getdents the same, with the children's names listed by getdents64 of the parent
//                   (scan_cgroups has to list them too)
//   naive open      open+read+close of "<mount>/<parent>/<child>/<file>", a full path each time
//   floor kept fds  pread of every pressure file through fds opened once before the run: what
//                   reading costs when nothing is opened (the floor of a kept-open set)
//
// and pressure::CgroupSet refreshing and reading the same groups ("<parent>/*": one getdents64 of
// the parent, a compare per child, a pread per file, parsing), which should cost little more than
// the kept-fd floor and much less than the openat floor (today's scan loop). It also reports the
// set's fds and the RSS it adds. The soft RLIMIT_NOFILE is raised to the hard limit first (the
// kept-fd floor holds as many fds as the set).
//
// The bench makes its own parent cgroup, <cgroup2 mount>/pressure-bench-<pid>, with children
// g0000..g0999, and removes them (children first, then the parent) on exit, on error and on
// SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGPIPE/SIGABRT. It touches no other cgroup and moves no process.
// Needs root (or write access to the cgroup2 mount).
//
//   scan_bench [--children 1000] [--rounds 15] [--scans 3] [--machine]
//
// Exits 0 whatever the times are; 1 when the cgroups cannot be made, read or removed.
#include <pressure/cgroup_set.hpp>
#include <pressure/reader.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_tree.hpp"
#include "common.hpp"

namespace {

constexpr double k_target_ratio = 1.25;
constexpr double k_set_target = 1.15;     // CgroupSet refresh-and-read / kept-fd floor
constexpr double k_speedup_target = 4.0;  // openat floor / CgroupSet
constexpr long k_max_children = 100000;
constexpr std::size_t k_buffer = 1024;  // what the library reads a pressure file into

// ---- The cgroups we own, and their removal (async-signal-safe: only rmdir and static data).

using bench::child_name;
using bench::g_children;
using bench::g_name_width;
using bench::g_parent;
using bench::g_parent_made;
using bench::remove_tree;

void remove_tree_at_exit() {
  int saved = errno;
  if (int failures = remove_tree(); failures > 0)
    std::fprintf(stderr,
                 "scan_bench: could not remove %d of the bench's cgroups under %s; remove them with "
                 "rmdir %s/g* %s\n",
                 failures, g_parent, g_parent, g_parent);
  errno = saved;
}

constexpr std::array<int, 6> k_signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT};

extern "C" void on_signal(int sig) {
  remove_tree();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

sigset_t block_signals() {
  sigset_t set, old;
  sigemptyset(&set);
  for (int sig : k_signals) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, &old);
  return old;
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "scan_bench: %s\n", message.c_str());
  std::exit(1);  // atexit removes what we made
}

// The soft RLIMIT_NOFILE up to the hard limit: the kept-fd floor and the set each hold a few fds
// per group.
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

long bench_rss_kib() {
  std::string status = bench::read_text("/proc/self/status");
  std::size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::strtol(status.c_str() + at + 6, nullptr, 10);
}

// ---- Options.

struct Options {
  long children = 1000;
  long rounds = 15;
  long scans = 3;
  bool machine = false;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (bench::count_option(argc, argv, i, "--children", options.children, 1, k_max_children)) continue;
    if (bench::count_option(argc, argv, i, "--rounds", options.rounds, 1, 10000)) continue;
    if (bench::count_option(argc, argv, i, "--scans", options.scans, 1, 10000)) continue;
    if (arg == "--machine") {
      options.machine = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: %s [--children N] [--rounds N] [--scans N] [--machine]\n"
          "  Creates N cgroups under <cgroup2 mount>/pressure-bench-<pid>, times\n"
          "  pressure::scan_cgroups against raw openat/read/close loops (rounds alternate;\n"
          "  each round runs every contender --scans times), removes the cgroups.\n"
          "  --machine prints key=value lines instead of the report.\n",
          argv[0]);
      std::exit(0);
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
      std::exit(2);
    }
  }
  return options;
}

// ---- The raw loops.

struct Raw {
  std::vector<std::string> names;       // g0000 ...
  std::vector<const char*> files;       // cpu.pressure ... (those the kernel provides)
  std::vector<std::string> full_paths;  // <parent>/<child>/<file>, for the naive loop
  std::array<char, k_buffer> buffer{};
  alignas(8) std::array<char, 1 << 16> dents{};
  long errors = 0;

  // One pressure file relative to `dirfd`: bytes read.
  std::uint64_t read_at(int dirfd, const char* file) {
    int fd = ::openat(dirfd, file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ++errors;
      return 0;
    }
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    ::close(fd);
    if (n <= 0) ++errors;
    return n > 0 ? static_cast<std::uint64_t>(n) : 0;
  }

  std::uint64_t read_child(int parent, const char* name) {
    int dir = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
      ++errors;
      return 0;
    }
    std::uint64_t bytes = 0;
    for (const char* file : files) bytes += read_at(dir, file);
    ::close(dir);
    return bytes;
  }

  std::uint64_t floor_openat() {
    int parent = ::open(g_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) {
      ++errors;
      return 0;
    }
    std::uint64_t bytes = 0;
    for (const std::string& name : names) bytes += read_child(parent, name.c_str());
    ::close(parent);
    return bytes;
  }

  std::uint64_t floor_getdents() {
    int parent = ::open(g_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) {
      ++errors;
      return 0;
    }
    std::uint64_t bytes = 0;
    long children = 0;
    for (;;) {
      ssize_t n = ::getdents64(parent, dents.data(), dents.size());
      if (n < 0) ++errors;
      if (n <= 0) break;
      for (ssize_t offset = 0; offset < n;) {
        const auto* entry = reinterpret_cast<const struct dirent64*>(dents.data() + offset);
        offset += entry->d_reclen;
        if (entry->d_type != DT_DIR || std::strcmp(entry->d_name, ".") == 0 ||
            std::strcmp(entry->d_name, "..") == 0)
          continue;
        bytes += read_child(parent, entry->d_name);
        ++children;
      }
    }
    ::close(parent);
    if (children != static_cast<long>(names.size())) ++errors;
    return bytes;
  }

  std::vector<int> kept;  // every file of every child, opened once

  bool open_kept() {
    for (const std::string& path : full_paths) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return false;
      kept.push_back(fd);
    }
    return true;
  }

  std::uint64_t floor_kept() {
    std::uint64_t bytes = 0;
    for (int fd : kept) {
      ssize_t n = ::pread(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) ++errors;
      bytes += n > 0 ? static_cast<std::uint64_t>(n) : 0;
    }
    return bytes;
  }

  std::uint64_t naive_open() {
    std::uint64_t bytes = 0;
    for (const std::string& path : full_paths) bytes += read_at(AT_FDCWD, path.c_str());
    return bytes;
  }
};

// scan_cgroups found exactly our children, each with cpu, memory and io.
std::string check_scan(const pressure::Result<std::vector<pressure::CgroupSnapshot>>& scan,
                       const std::string& relative, long children) {
  if (!scan) return "scan_cgroups(" + relative + ") failed: " + scan.error().message();
  if (static_cast<long>(scan->size()) != children)
    return "scan_cgroups(" + relative + ") found " + std::to_string(scan->size()) + " cgroups, not " +
           std::to_string(children);
  for (const pressure::CgroupSnapshot& group : *scan) {
    if (!group.snapshot) return group.path + ": " + group.snapshot.error().message();
    for (pressure::Resource r : {pressure::Resource::cpu, pressure::Resource::memory, pressure::Resource::io})
      if (!(*group.snapshot)[r]) return group.path + ": " + (*group.snapshot)[r].error().message();
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  bench::warn_about_build("scan_bench");
  for (long v = options.children - 1; v >= 10000; v /= 10) ++g_name_width;

  pressure::Result<std::string> root = pressure::cgroup2_root();
  if (!root) die("no cgroup2 mount: " + root.error().message());
  std::string relative = "/pressure-bench-" + std::to_string(::getpid());
  std::string parent =
      (root->size() > 1 && root->back() == '/' ? root->substr(0, root->size() - 1) : *root) + relative;
  if (parent.size() + 32 > sizeof g_parent) die("cgroup2 mount path too long: " + *root);

  // Make the parent with the signals blocked, so that a signal finds it either not made or
  // recorded as ours; a directory that already exists is never ours.
  sigset_t old = block_signals();
  std::memcpy(g_parent, parent.c_str(), parent.size() + 1);
  if (::mkdir(g_parent, 0755) != 0) {
    int err = errno;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    die("cannot create cgroup " + parent + ": " + std::strerror(err) +
        (err == EACCES || err == EPERM || err == EROFS ? " (run as root, with the cgroup2 mount writable)"
                                                       : ""));
  }
  g_parent_made = 1;
  std::atexit(remove_tree_at_exit);
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  for (int sig : k_signals) sigaction(sig, &action, nullptr);
  sigprocmask(SIG_SETMASK, &old, nullptr);

  Raw raw;
  for (long i = 0; i < options.children; ++i) {
    char name[32];
    child_name(i, name);
    g_children = static_cast<std::sig_atomic_t>(i + 1);  // before mkdir: a signal between the two
                                                         // finds it either way
    if (::mkdir((parent + "/" + name).c_str(), 0755) != 0)
      die("cannot create cgroup " + parent + "/" + name + ": " + std::strerror(errno));
    raw.names.emplace_back(name);
  }

  // The files the kernel gives every cgroup; irq.pressure only with CONFIG_IRQ_TIME_ACCOUNTING.
  static constexpr std::array<const char*, 4> k_files{"cpu.pressure", "memory.pressure", "io.pressure",
                                                      "irq.pressure"};
  std::string first_child = parent + "/" + raw.names.front();
  for (const char* file : k_files) {
    std::string path = first_child + "/" + file;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? ::read(fd, raw.buffer.data(), raw.buffer.size()) : -1;
    if (fd >= 0) ::close(fd);
    if (n > 0)
      raw.files.push_back(file);
    else if (std::strcmp(file, "irq.pressure") != 0)
      die("cannot read " + path + " (is PSI enabled? cgroup.pressure 1?)");
  }
  for (const std::string& name : raw.names)
    for (const char* file : raw.files) raw.full_paths.push_back(parent + "/" + name + "/" + file);

  std::string problem = check_scan(pressure::scan_cgroups(relative), relative, options.children);
  if (!problem.empty()) die(problem);
  raise_fd_limit();
  // Past the hard RLIMIT_NOFILE (which only CAP_SYS_RESOURCE raises) no floor of kept fds exists:
  // the set then keeps what its budget allows and reopens the rest, and the report says so.
  bool kept_floor = raw.open_kept();
  if (!kept_floor) {
    for (int fd : raw.kept) ::close(fd);
    raw.kept.clear();
  }
  long rss_before_set = bench_rss_kib();
  pressure::CgroupSet set({pressure::CgroupSelector::below(relative, false)});
  if (auto first = set.update(); !first || static_cast<long>((*first)->groups.size()) != options.children)
    die("CgroupSet found " + (first ? std::to_string((*first)->groups.size()) : first.error().message()) +
        " groups, not " + std::to_string(options.children));
  long set_rss_kib = bench_rss_kib() - rss_before_set;

  long scan_errors = 0;
  auto library = [&] {
    pressure::Result<std::vector<pressure::CgroupSnapshot>> scan = pressure::scan_cgroups(relative);
    if (!scan || static_cast<long>(scan->size()) != options.children)
      ++scan_errors;
    else
      bench::keep(scan->size());
  };
  long set_errors = 0;
  auto kept_set = [&] {
    pressure::Result<pressure::CgroupSet::Reading> r = set.update();
    if (!r || static_cast<long>((*r)->groups.size()) != options.children)
      ++set_errors;
    else
      bench::keep((*r)->groups.size());
  };
  auto floor_kept = [&] {
    if (kept_floor) bench::keep(raw.floor_kept());
  };
  auto floor = [&] { bench::keep(raw.floor_openat()); };
  auto floor_dents = [&] { bench::keep(raw.floor_getdents()); };
  auto naive = [&] { bench::keep(raw.naive_open()); };

  bench::interleave(1, 1, library, floor, floor_dents, naive, kept_set, floor_kept);  // warm up
  auto results = bench::interleave(options.rounds, options.scans, library, floor, floor_dents, naive,
                                   kept_set, floor_kept);
  for (std::vector<double>& contender : results)
    for (double& value : contender) value /= 1e6;  // ns -> ms per scan
  // The same three again in this thread's CPU time: on a machine shared with other work, wall
  // time also counts the waits for a CPU, which land on whichever contender runs then.
  std::array<std::vector<double>, 3> cpu;
  for (long round = 0; round < options.rounds; ++round)
    for (long slot = 0; slot < 3; ++slot) {
      long which = (slot + round) % 3;
      double start = thread_cpu_ms();
      for (long i = 0; i < options.scans; ++i) which == 0 ? kept_set() : which == 1 ? floor_kept() : floor();
      cpu[static_cast<std::size_t>(which)].push_back((thread_cpu_ms() - start) /
                                                     static_cast<double>(options.scans));
    }

  problem = check_scan(pressure::scan_cgroups(relative), relative, options.children);
  pressure::CgroupSetStatus set_status = set.status();
  for (int fd : raw.kept) ::close(fd);
  raw.kept.clear();
  set = pressure::CgroupSet({});  // closes its fds before the groups go
  int failures = remove_tree();
  if (!problem.empty()) die(problem);
  if (scan_errors > 0 || set_errors > 0 || raw.errors > 0)
    die(std::to_string(scan_errors + set_errors) + " failed scans and " + std::to_string(raw.errors) +
        " failed system calls during the run");
  if (failures > 0)
    die("could not remove " + std::to_string(failures) + " of the bench's cgroups under " + parent);

  double library_ms = bench::median(results[0]);
  double floor_ms = bench::median(results[1]);
  double dents_ms = bench::median(results[2]);
  double naive_ms = bench::median(results[3]);
  double set_ms = bench::median(results[4]);
  double kept_ms = bench::median(results[5]);
  double ratio = library_ms / floor_ms;
  std::string files;
  for (const char* file : raw.files) files += (files.empty() ? "" : " ") + std::string(file);

  if (options.machine) {
    std::printf("children=%ld\nfiles=%s\nrounds=%ld\nscans=%ld\n", options.children, files.c_str(),
                options.rounds, options.scans);
    std::printf("pressure_ms=%.3f\nfloor_openat_ms=%.3f\nfloor_getdents_ms=%.3f\nnaive_open_ms=%.3f\n",
                library_ms, floor_ms, dents_ms, naive_ms);
    std::printf("ratio=%.3f\nratio_getdents=%.3f\nnaive_ratio=%.3f\n", ratio, library_ms / dents_ms,
                naive_ms / floor_ms);
    std::printf("set_ms=%.3f\nfloor_kept_ms=%.3f\nset_vs_kept=%.3f\nopenat_vs_set=%.3f\n", set_ms, kept_ms,
                set_ms / kept_ms, floor_ms / set_ms);
    std::printf("cpu_set_ms=%.3f\ncpu_floor_kept_ms=%.3f\ncpu_floor_openat_ms=%.3f\n", bench::median(cpu[0]),
                bench::median(cpu[1]), bench::median(cpu[2]));
    std::printf("set_fds=%zu\nset_fd_budget=%zu\nset_reopened=%zu\nset_rss_kib=%ld\n", set_status.fds,
                set_status.fd_budget, set_status.reopened, set_rss_kib);
    return 0;
  }
  double per = 1e3 / static_cast<double>(options.children);  // ms per scan -> us per cgroup
  std::printf("scan of %ld cgroups under %s (%s); %ld rounds x %ld scans, alternating; medians of rounds\n",
              options.children, parent.c_str(), files.c_str(), options.rounds, options.scans);
  std::printf(
      "scan %ld cgroups: pressure %.2f ms, floor openat %.2f ms (ratio %.2f), naive open %.2f ms "
      "(ratio %.2f)\n",
      options.children, library_ms, floor_ms, ratio, naive_ms, naive_ms / floor_ms);
  std::printf("  target pressure/floor <= %.2f: %s\n", k_target_ratio,
              ratio <= k_target_ratio ? "met" : "NOT met");
  std::printf(
      "  floor openat+getdents (lists the children as scan_cgroups must) %.2f ms: pressure ratio %.2f\n",
      dents_ms, library_ms / dents_ms);
  std::printf("  per cgroup: pressure %.2f us, floor %.2f us, naive %.2f us; pressure vs naive %.2f\n",
              library_ms * per, floor_ms * per, naive_ms * per, library_ms / naive_ms);
  std::printf("  fastest round: pressure %.2f ms, floor %.2f ms, floor+getdents %.2f ms, naive %.2f ms\n",
              bench::minimum(results[0]), bench::minimum(results[1]), bench::minimum(results[2]),
              bench::minimum(results[3]));
  std::printf(
      "refresh-and-read of %ld kept-open cgroups (CgroupSet::update): %.2f ms; floor kept fds (pread "
      "only) %.2f ms: ratio %.2f (target <= %.2f: %s); openat floor / set %.2f (target >= %.1f: %s)\n",
      options.children, set_ms, kept_ms, set_ms / kept_ms, k_set_target,
      set_ms / kept_ms <= k_set_target ? "met" : "NOT met", floor_ms / set_ms, k_speedup_target,
      floor_ms / set_ms >= k_speedup_target ? "met" : "NOT met");
  if (!kept_floor)
    std::printf(
        "  NO kept-fd floor: %zu files cannot all be open within RLIMIT_NOFILE (the figures and ratios "
        "against it above are of an empty loop)\n",
        raw.full_paths.size());
  std::printf("  fastest round: set %.2f ms, floor kept fds %.2f ms\n", bench::minimum(results[4]),
              bench::minimum(results[5]));
  double cpu_set = bench::median(cpu[0]), cpu_kept = bench::median(cpu[1]),
         cpu_openat = bench::median(cpu[2]);
  std::printf(
      "  in CPU time: set %.2f ms, floor kept fds %.2f ms (ratio %.2f), floor openat %.2f ms (openat / set "
      "%.2f)\n",
      cpu_set, cpu_kept, cpu_set / cpu_kept, cpu_openat, cpu_openat / cpu_set);
  std::printf("  the set holds %zu fds (budget %zu, %zu groups reopened per read), RSS +%ld KiB\n",
              set_status.fds, set_status.fd_budget, set_status.reopened, set_rss_kib);
  return 0;
}
