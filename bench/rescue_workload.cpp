// The workload of rescue_bench, one role per process, built without sanitizers and never locked
// in memory, so it fares as an ordinary program does when memory runs out.
//
//   rescue_workload service FILE MIB   keeps MIB of FILE hot: reads it page by page, forever
//   rescue_workload hog MIB            takes MIB of anonymous memory and keeps touching it
//   rescue_workload heartbeat          wakes every 100 ms; the longest gap between wakes goes
//                                      to fd 3 (a shared page rescue_bench reads and resets)
//
// service and heartbeat also count their rounds in the shared page, so the bench knows when the
// working set is hot.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace {

// The layout of the shared page (fd 3), the same in rescue_bench.cpp.
struct Shared {
  std::atomic<std::int64_t> longest_gap_ns;  // heartbeat; the bench stores 0 to restart
  std::atomic<std::int64_t> beats;
  std::atomic<std::int64_t> service_passes;  // whole passes over the working set
};

Shared* shared_page() {
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0);
  return p == MAP_FAILED ? nullptr : static_cast<Shared*>(p);
}

std::int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

int service(const char* path, std::size_t bytes) {
  Shared* sh = shared_page();
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || sh == nullptr) {
    std::perror(path);
    return 1;
  }
  void* p = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  const volatile unsigned char* data = static_cast<const unsigned char*>(p);
  long page = ::sysconf(_SC_PAGESIZE);
  unsigned sum = 0;
  for (;;) {
    for (std::size_t at = 0; at < bytes; at += static_cast<std::size_t>(page)) sum += data[at];
    sh->service_passes.fetch_add(1);
  }
  return static_cast<int>(sum);
}

int hog(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  volatile unsigned char* data = static_cast<unsigned char*>(p);
  long page = ::sysconf(_SC_PAGESIZE);
  for (unsigned char round = 1;; ++round)
    for (std::size_t at = 0; at < bytes; at += static_cast<std::size_t>(page)) data[at] = round;
}

int heartbeat() {
  Shared* sh = shared_page();
  if (sh == nullptr) return 1;
  std::int64_t last = now_ns();
  for (;;) {
    timespec ts{0, 100'000'000};
    ::clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
    std::int64_t now = now_ns();
    std::int64_t gap = now - last;
    last = now;
    std::int64_t seen = sh->longest_gap_ns.load();
    while (gap > seen && !sh->longest_gap_ns.compare_exchange_weak(seen, gap)) {
    }
    sh->beats.fetch_add(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::size_t k_mib = 1U << 20;
  if (argc == 4 && std::strcmp(argv[1], "service") == 0)
    return service(argv[2], std::strtoull(argv[3], nullptr, 10) * k_mib);
  if (argc == 3 && std::strcmp(argv[1], "hog") == 0) return hog(std::strtoull(argv[2], nullptr, 10) * k_mib);
  if (argc == 2 && std::strcmp(argv[1], "heartbeat") == 0) return heartbeat();
  std::fprintf(stderr, "usage: rescue_workload service FILE MIB | hog MIB | heartbeat\n");
  return 2;
}
