// Cycles anonymous memory and a file through the page cache, to thrash inside a memory limit.
// A separate program, built without sanitizers, so its footprint is only what it asks for.
//   thrash ANON_MIB FILE_MIB FILE [paced]
// "paced": the anonymous memory is written once and held; the file is read one random page at a
// time, each read followed by 50 us of work. Its stall then grows with the part of the file that
// does not fit (a curve, as in real programs), where the cycling default has a cliff: no stall
// above its working set, most of the time stalled one page below it.
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace {

long long now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::strcmp(argv[4], "paced") == 0)) return 2;
  bool paced = argc == 5;
  constexpr std::size_t k_page = 4096;
  std::size_t anon_bytes = std::strtoull(argv[1], nullptr, 10) << 20;
  std::size_t file_bytes = std::strtoull(argv[2], nullptr, 10) << 20;
  auto* anon = static_cast<volatile char*>(
      ::mmap(nullptr, anon_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  int fd = ::open(argv[3], O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (anon == MAP_FAILED || fd < 0) return 3;
  char block[1 << 16];
  std::memset(block, 'x', sizeof block);
  for (std::size_t written = 0; written < file_bytes; written += sizeof block)
    if (::write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) return 4;
  // Faulting the file in through a mapping (not read()) makes every refault a memory stall:
  // about 30 % "full" in a 64 MiB group here, where read() gave 2 %.
  auto* file = static_cast<volatile const char*>(::mmap(nullptr, file_bytes, PROT_READ, MAP_SHARED, fd, 0));
  if (file == MAP_FAILED) return 5;
  unsigned long sum = 0;
  if (paced) {
    ::madvise(const_cast<char*>(file), file_bytes, MADV_RANDOM);  // a refault reads one page, not 32
    for (std::size_t off = 0; off < anon_bytes; off += k_page) anon[off] = 1;
    std::size_t pages = file_bytes / k_page;
    unsigned long long x = 88172645463325252ULL;
    for (;;) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift64
      sum = sum + static_cast<unsigned char>(file[(x % pages) * k_page]);
      for (long long until = now_ns() + 50'000; now_ns() < until;) {
      }
    }
  }
  for (unsigned round = 0;; ++round) {
    for (std::size_t off = 0; off < anon_bytes; off += k_page) anon[off] = static_cast<char>(round);
    for (std::size_t off = 0; off < file_bytes; off += k_page)
      sum = sum + static_cast<unsigned char>(file[off]);
  }
}
