// What a system snapshot through pressure::Reader costs, against the floor: pread of the same
// open /proc/pressure files with no parsing. Rounds of floor and Reader alternate (and swap
// order every round) so that frequency changes and noise land on both alike.
//
//   snapshot_bench                  the report (human-readable)
//   snapshot_bench --machine        key=value lines, for bench/peers.sh
//   snapshot_bench --rounds 20 --iterations 20000
//
// Also timed, for bench/peers.sh: Reader::read(memory) against one pread of /proc/pressure/memory,
// and the one-shot pressure::memory(), which opens and closes the file every call.
//
// Exits 0 whatever the times are; 1 only when the files cannot be read at all.
#include <pressure/reader.hpp>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "common.hpp"

namespace {

constexpr double k_target_ratio = 1.10;
constexpr std::size_t k_buffer = 1024;  // what the Reader reads into (sys::FileBuffer)

struct Options {
  long rounds = 20;
  long iterations = 20000;
  bool machine = false;
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (bench::count_option(argc, argv, i, "--rounds", options.rounds, 1, 100000)) continue;
    if (bench::count_option(argc, argv, i, "--iterations", options.iterations, 1, 100000000)) continue;
    if (arg == "--machine") {
      options.machine = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: %s [--rounds N] [--iterations N] [--machine]\n"
          "  Times pressure::Reader(Target::system()).snapshot() against pread of the same\n"
          "  /proc/pressure files (no parsing), Reader::read(memory) against one pread, and\n"
          "  the one-shot pressure::memory().\n"
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

// The floor: the files the Reader reads, kept open, re-read from offset 0, not parsed.
class Floor {
 public:
  ~Floor() {
    for (int fd : m_fds) ::close(fd);
  }

  // Opens every /proc/pressure file that can be read (irq only where the kernel has it).
  void open(const char* const* names, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      std::string path = std::string("/proc/pressure/") + names[i];
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      if (::pread(fd, m_buffer.data(), m_buffer.size(), 0) <= 0) {
        ::close(fd);
        continue;
      }
      m_fds.push_back(fd);
      m_names.push_back(names[i]);
    }
  }

  std::uint64_t once() {
    std::uint64_t bytes = 0;
    for (int fd : m_fds) {
      ssize_t n = ::pread(fd, m_buffer.data(), m_buffer.size(), 0);
      if (n > 0)
        bytes += static_cast<std::uint64_t>(n);
      else
        ++m_errors;
    }
    return bytes;
  }

  bool empty() const { return m_fds.empty(); }
  long errors() const { return m_errors; }
  std::string names() const {
    std::string out;
    for (const std::string& name : m_names) out += (out.empty() ? "" : " ") + name;
    return out;
  }

 private:
  std::vector<int> m_fds;
  std::vector<std::string> m_names;
  std::array<char, k_buffer> m_buffer{};
  long m_errors = 0;
};

const char* verdict(double ratio) { return ratio <= k_target_ratio ? "met" : "NOT met"; }

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  bench::warn_about_build("snapshot_bench");

  // The Reader: must read the system at all, else there is nothing to measure.
  pressure::Reader reader{pressure::Target::system()};
  pressure::Result<pressure::Snapshot> first = reader.snapshot();
  if (!first) {
    std::fprintf(stderr, "snapshot_bench: cannot read system pressure: %s\n",
                 first.error().message().c_str());
    return 1;
  }
  pressure::Reader memory_reader{pressure::Target::system()};
  pressure::Result<pressure::Pressure> first_memory = memory_reader.read(pressure::Resource::memory);
  if (!first_memory) {
    std::fprintf(stderr, "snapshot_bench: cannot read memory pressure: %s\n",
                 first_memory.error().message().c_str());
    return 1;
  }

  // The floor reads the files the Reader could read, no more, no fewer.
  std::vector<const char*> names;
  for (pressure::Resource r : pressure::k_resources)
    if ((*first)[r]) names.push_back(pressure::to_string(r).data());
  Floor floor;
  floor.open(names.data(), names.size());
  const char* memory_name = "memory";
  Floor floor_memory;
  floor_memory.open(&memory_name, 1);
  if (floor.empty() || floor_memory.empty()) {
    std::fprintf(stderr, "snapshot_bench: cannot open and read the files under /proc/pressure\n");
    return 1;
  }

  long reader_errors = 0;
  auto floor_body = [&] { bench::keep(floor.once()); };
  auto reader_body = [&] {
    pressure::Result<pressure::Snapshot> s = reader.snapshot();
    if (!s)
      ++reader_errors;
    else
      bench::keep((*s)[pressure::Resource::memory].has_value());
  };
  auto floor_memory_body = [&] { bench::keep(floor_memory.once()); };
  auto reader_memory_body = [&] {
    pressure::Result<pressure::Pressure> p = memory_reader.read(pressure::Resource::memory);
    if (!p)
      ++reader_errors;
    else
      bench::keep(p->some ? p->some->total_us : 0);
  };
  // For peers that open the file on every call (bench/peers.sh's Python loop): no Reader kept.
  auto oneshot_memory_body = [&] {
    pressure::Result<pressure::Pressure> p = pressure::memory();
    if (!p)
      ++reader_errors;
    else
      bench::keep(p->some ? p->some->total_us : 0);
  };

  // Warm caches, page in the code, let the CPU clock up.
  bench::interleave(1, std::max(1L, options.iterations / 4), floor_body, reader_body, floor_memory_body,
                    reader_memory_body, oneshot_memory_body);
  auto results = bench::interleave(options.rounds, options.iterations, floor_body, reader_body,
                                   floor_memory_body, reader_memory_body, oneshot_memory_body);

  if (reader_errors > 0 || floor.errors() > 0 || floor_memory.errors() > 0) {
    std::fprintf(stderr, "snapshot_bench: %ld Reader and %ld pread failures during the run\n", reader_errors,
                 floor.errors() + floor_memory.errors());
    return 1;
  }

  double floor_ns = bench::median(results[0]);
  double reader_ns = bench::median(results[1]);
  double floor_memory_ns = bench::median(results[2]);
  double reader_memory_ns = bench::median(results[3]);
  double oneshot_memory_ns = bench::median(results[4]);
  double ratio = reader_ns / floor_ns;
  double memory_ratio = reader_memory_ns / floor_memory_ns;
  std::vector<double> paired;  // reader/floor within each round: less sensitive to drift
  for (std::size_t i = 0; i < results[0].size(); ++i) paired.push_back(results[1][i] / results[0][i]);

  if (options.machine) {
    std::printf("files=%s\n", floor.names().c_str());
    std::printf("rounds=%ld\niterations=%ld\n", options.rounds, options.iterations);
    std::printf("reader_ns=%.0f\nfloor_ns=%.0f\nratio=%.3f\n", reader_ns, floor_ns, ratio);
    std::printf("read_memory_ns=%.0f\nfloor_memory_ns=%.0f\nmemory_ratio=%.3f\n", reader_memory_ns,
                floor_memory_ns, memory_ratio);
    std::printf("oneshot_memory_ns=%.0f\n", oneshot_memory_ns);
    return 0;
  }
  std::printf("system snapshot: files %s; %ld rounds x %ld iterations, alternating; medians of rounds\n",
              floor.names().c_str(), options.rounds, options.iterations);
  std::printf("snapshot: reader %.0f ns, floor pread %.0f ns, ratio %.2f (target <= %.2f: %s)\n", reader_ns,
              floor_ns, ratio, k_target_ratio, verdict(ratio));
  std::printf("  fastest round: reader %.0f ns, floor %.0f ns; median of per-round ratios %.2f\n",
              bench::minimum(results[1]), bench::minimum(results[0]), bench::median(paired));
  std::printf("read(memory): reader %.0f ns, floor pread %.0f ns, ratio %.2f\n", reader_memory_ns,
              floor_memory_ns, memory_ratio);
  std::printf("pressure::memory() one-shot (opens, reads, closes each call): %.0f ns\n", oneshot_memory_ns);
  return 0;
}
