// Host and local memory from /proc and cgroup trees built by the test (v2, v1 on a hybrid
// system, and RSS when there is no limit).
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include <gtest/gtest.h>
#include <unistd.h>

#include <pressure/memory.hpp>
#include <pressure/parse.hpp>

#include "support/command.hpp"
#include "sys/cgroup_memory.hpp"

namespace pressure {
namespace {

namespace fs = std::filesystem;

TEST(Meminfo, ParsesTotalAndAvailable) {
  auto m = parse_meminfo("MemTotal: 2048 kB\nMemFree: 1 kB\nMemAvailable:  1024 kB\n");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->total, 2048u * 1024);
  EXPECT_EQ(m->available, 1024u * 1024);
  auto old = parse_meminfo("MemTotal: 2048 kB\nMemFree: 1 kB\n", "/proc/meminfo");
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message().find("no MemAvailable"), std::string::npos);
  auto bad = parse_meminfo("MemTotal: lots kB\nMemAvailable: 1 kB\n", "/proc/meminfo");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("/proc/meminfo line 1"), std::string::npos);
  auto fixture = host_memory(ReaderOptions{test::fixture("proc-hybrid"), "", nullptr});
  ASSERT_TRUE(fixture);
  EXPECT_EQ(fixture->available, 3276800ULL * 1024);
}

TEST(Cgroup1, MountAndMembership) {
  auto mount = parse_cgroup1_mount(
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory\n"
      "36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n",
      "memory");
  ASSERT_TRUE(mount);
  EXPECT_EQ(*mount, "/sys/fs/cgroup/memory");
  EXPECT_EQ(*parse_cgroup1_mount(
                "36 31 0:33 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n", "cpu"),
            "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_FALSE(
      parse_cgroup1_mount("41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", "memory"));
  EXPECT_EQ(*parse_cgroup1_membership("4:memory:/process_api/x\n0::/\n", "memory"), "/process_api/x");
  EXPECT_EQ(*parse_cgroup1_membership("2:cpu,cpuacct:/a\n", "cpuacct"), "/a");
  EXPECT_FALSE(parse_cgroup1_membership("0::/\n", "memory"));
}

// A proc root and cgroup mounts under a temporary directory.
class Tree {
 public:
  Tree() : m_root(fs::temp_directory_path() / ("pressure-memory-" + std::to_string(::getpid()))) {
    fs::create_directories(m_root / "proc/self");
  }
  ~Tree() { fs::remove_all(m_root); }
  void write(const std::string& relative, const std::string& text) {
    fs::create_directories((m_root / relative).parent_path());
    std::ofstream(m_root / relative) << text;
  }
  std::string path(const std::string& relative) const { return (m_root / relative).string(); }

 private:
  fs::path m_root;
};

// The process in /app.slice of a cgroup2 tree, 100 MiB used of memory.max 200 MiB.
void app_slice(Tree& t) {
  t.write("proc/self/cgroup", "0::/app.slice\n");
  t.write("proc/self/mountinfo", "1 1 0:1 / / rw - ext4 /dev/vda rw\n");
  t.write("proc/self/statm", "100 20 5 1 0 10 0\n");
  t.write("cg2/app.slice/memory.current", "104857600\n");
  t.write("cg2/app.slice/memory.max", "209715200\n");
}

TEST(LocalMemory, Cgroup2MaxThenHigh) {
  Tree t;
  app_slice(t);
  t.write("cg2/app.slice/memory.high", "max\n");
  ReaderOptions o{t.path("proc"), t.path("cg2"), nullptr};
  auto m = local_memory(std::nullopt, o);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->usage, 104857600u);
  EXPECT_EQ(m->limit, 209715200u);
  t.write("cg2/app.slice/memory.max", "max\n");
  t.write("cg2/app.slice/memory.high", "157286400\n");
  EXPECT_EQ(local_memory(std::nullopt, o)->limit, 157286400u);
}

TEST(LocalMemory, HybridUsesTheV1MemoryController) {
  Tree t;
  t.write("proc/self/cgroup", "4:memory:/batch/job\n0::/batch/job\n");
  t.write("proc/self/mountinfo", "35 31 0:32 / " + t.path("cg1") + " rw - cgroup cgroup rw,memory\n");
  t.write("proc/self/statm", "100 20 5 1 0 10 0\n");
  fs::create_directories(t.path("cg2/batch/job"));  // cgroup2 group without memory files
  t.write("cg1/batch/job/memory.usage_in_bytes", "50000000\n");
  t.write("cg1/batch/job/memory.limit_in_bytes", "67108864\n");
  auto m = local_memory(std::nullopt, ReaderOptions{t.path("proc"), t.path("cg2"), nullptr});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->usage, 50000000u);
  EXPECT_EQ(m->limit, 67108864u);
}

TEST(LocalMemory, NoLimitFallsBackToRssAndBudget) {
  Tree t;
  t.write("proc/self/cgroup", "4:memory:/\n0::/\n");
  t.write("proc/self/mountinfo", "35 31 0:32 / " + t.path("cg1") + " rw - cgroup cgroup rw,memory\n");
  t.write("proc/self/statm", "100 20 5 1 0 10 0\n");
  t.write("cg1/memory.usage_in_bytes", "50000000\n");
  t.write("cg1/memory.limit_in_bytes", "9223372036854771712\n");  // v1's "unlimited"
  ReaderOptions o{t.path("proc"), t.path("cg2"), nullptr};
  auto m = local_memory(1 << 20, o);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->usage, 20u * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(m->limit, 1u << 20);
  EXPECT_FALSE(local_memory(std::nullopt, o)->limit);
}

// The real system, but every path opened is recorded, and the paths in `denied` give EACCES.
class RecordingIo : public Io {
 public:
  int open_at(int dirfd, const char* path, int flags) const override {
    std::lock_guard lock(m_mutex);
    m_opened.insert(path);
    if (m_denied.count(path) != 0) return -EACCES;
    return Io::open_at(dirfd, path, flags);
  }
  void deny(const std::string& path) { m_denied.insert(path); }
  bool opened(const std::string& path) const {
    std::lock_guard lock(m_mutex);
    return m_opened.count(path) != 0;
  }

 private:
  mutable std::mutex m_mutex;
  mutable std::set<std::string> m_opened;
  std::set<std::string> m_denied;
};

TEST(CgroupMemory, EveryReadGoesThroughTheCallersIo) {
  Tree t;
  t.write("cg2/a/memory.current", "4096\n");
  t.write("cg2/a/memory.max", "max\n");
  t.write("cg2/a/memory.high", "8192\n");
  t.write("cg2/a/memory.stat", "anon 1\npgscan 77\npgsteal 5\n");
  t.write("cg1/a/memory.usage_in_bytes", "100\n");
  t.write("cg1/a/memory.limit_in_bytes", "9223372036854771712\n");  // v1's "unlimited"
  t.write("proc/meminfo", "MemTotal: 8 kB\nSwapTotal: 4 kB\nSwapFree: 1 kB\n");
  t.write("proc/vmstat", "pgscan_kswapd 3\npgscan_direct 4\n");
  RecordingIo io;

  sys::GroupMemory v2 = sys::group_memory_v2(io, t.path("cg2/a"));
  EXPECT_EQ(v2.usage, 4096u);
  EXPECT_EQ(v2.limit, 8192u) << "memory.max is max, so memory.high";
  EXPECT_TRUE(io.opened(t.path("cg2/a/memory.current")) && io.opened(t.path("cg2/a/memory.high")));
  sys::GroupMemory v1 = sys::group_memory_v1(io, t.path("cg1/a"));
  EXPECT_EQ(v1.usage, 100u);
  EXPECT_FALSE(v1.limit);
  EXPECT_TRUE(io.opened(t.path("cg1/a/memory.limit_in_bytes")));

  Result<sys::Swap> swap = sys::swap_memory(t.path("proc"), io);
  ASSERT_TRUE(swap) << swap.error().message();
  EXPECT_EQ(swap->total, 4096u);
  EXPECT_EQ(swap->free, 1024u);
  EXPECT_TRUE(io.opened(t.path("proc/meminfo")));
  EXPECT_EQ(sys::pages_scanned(t.path("cg2"), "/a", t.path("proc"), io).value_or(0), 77u);
  EXPECT_EQ(sys::pages_scanned(t.path("cg2"), "/", t.path("proc"), io).value_or(0), 7u);
  EXPECT_TRUE(io.opened(t.path("cg2/a/memory.stat")) && io.opened(t.path("proc/vmstat")));

  // A file the Io refuses is what the reader sees: no usage from memory.current, and the
  // permission error of memory.stat, not a reading from somewhere else.
  io.deny(t.path("cg2/a/memory.current"));
  io.deny(t.path("cg2/a/memory.stat"));
  EXPECT_FALSE(sys::group_memory_v2(io, t.path("cg2/a")).usage);
  Result<std::uint64_t> scanned = sys::pages_scanned(t.path("cg2"), "/a", t.path("proc"), io);
  ASSERT_FALSE(scanned);
  EXPECT_EQ(scanned.error().code(), Errc::permission) << scanned.error().message();
}

TEST(LocalMemory, ReadsThroughTheOptionsIo) {
  Tree t;
  app_slice(t);
  auto io = std::make_shared<RecordingIo>();
  ReaderOptions o{t.path("proc"), t.path("cg2"), io};
  auto m = local_memory(std::nullopt, o);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->limit, 209715200u);
  EXPECT_TRUE(io->opened(t.path("cg2/app.slice/memory.max")));
  // Without the cgroup's files (refused by the Io), the RSS fallback: nothing read elsewhere.
  io->deny(t.path("cg2/app.slice/memory.current"));
  auto rss = local_memory(1 << 20, o);
  ASSERT_TRUE(rss) << rss.error().message();
  EXPECT_EQ(rss->limit, 1u << 20);
  EXPECT_TRUE(io->opened(t.path("proc/self/statm")));
}

TEST(LocalMemory, RealProcessHasAUsage) {
  auto m = local_memory();
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_GT(m->usage, 0u);
}

}  // namespace
}  // namespace pressure
