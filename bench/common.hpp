// Small helpers the benchmark programs share: a clock, medians, argument parsing, file chores.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench {

// Async-signal-safe cleanup of what a bench made: rmdir a cgroup, waiting up to `tries` x 10 ms
// while it still counts an exiting process; SIGKILL and reap one of our own children.
inline bool remove_dir_waiting(const char* dir, int tries) {
  for (int i = 0; i < tries; ++i) {
    if (::rmdir(dir) == 0 || errno == ENOENT) return true;
    timespec ts{0, 10'000'000};
    ::nanosleep(&ts, nullptr);
  }
  return false;
}
inline void kill_and_reap(pid_t pid) {
  if (pid <= 1) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// A control file written with one write() (cgroup files take a value per write), a whole file
// read, a file replaced: the benches' small file chores.
inline bool write_text(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
inline void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
}

inline double minimum(const std::vector<double>& values) {
  return values.empty() ? 0.0 : *std::min_element(values.begin(), values.end());
}

// Figures from a debug or sanitized build say nothing about the library; say so on stderr.
inline void warn_about_build(const char* program) {
#if !defined(__OPTIMIZE__)
  std::fprintf(stderr, "%s: note: built without optimization; the figures are not representative\n", program);
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::fprintf(stderr, "%s: note: built with sanitizers; the figures are not representative\n", program);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
  std::fprintf(stderr, "%s: note: built with sanitizers; the figures are not representative\n", program);
#endif
#endif
  (void)program;
}

// Keeps a value alive so the compiler cannot drop the work that produced it.
inline void keep(std::uint64_t value) {
  static volatile std::uint64_t sink = 0;
  sink = sink + value;
}

// ns per call of `body` over `calls` calls.
template <class F>
double ns_per_call(long calls, F& body) {
  std::int64_t start = now_ns();
  for (long i = 0; i < calls; ++i) body();
  std::int64_t stop = now_ns();
  return static_cast<double>(stop - start) / static_cast<double>(calls);
}

// Runs every body for `calls` calls per round, for `rounds` rounds; the order rotates by one
// each round, so no contender always runs first or right after the same other one. Returns,
// per contender in argument order, ns per call for each round.
template <class... F>
std::array<std::vector<double>, sizeof...(F)> interleave(long rounds, long calls, F&... bodies) {
  constexpr std::size_t n = sizeof...(F);
  std::array<std::vector<double>, n> results;
  for (long round = 0; round < rounds; ++round) {
    for (std::size_t slot = 0; slot < n; ++slot) {
      std::size_t which = (slot + static_cast<std::size_t>(round)) % n;
      std::size_t k = 0;
      ((k++ == which ? results[which].push_back(ns_per_call(calls, bodies)) : void()), ...);
    }
  }
  return results;
}

// "--name N" at argv[i]: parses N into `out` and advances i. Exits with status 2 on a bad value.
inline bool count_option(int argc, char** argv, int& i, std::string_view name, long& out, long min,
                         long max) {
  if (std::string_view(argv[i]) != name) return false;
  if (i + 1 >= argc) {
    std::fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[i]);
    std::exit(2);
  }
  std::string_view text(argv[i + 1]);
  long value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || value < min || value > max) {
    std::fprintf(stderr, "%s: %s wants a whole number from %ld to %ld, not '%s'\n", argv[0], argv[i], min,
                 max, argv[i + 1]);
    std::exit(2);
  }
  out = value;
  ++i;
  return true;
}

}  // namespace bench
