// Reader, one-shot reads and scans over fixture trees of each kernel variant, plus the errors
// only an injected Io can produce.
#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pressure/pressure.hpp>

#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace pressure {
namespace {

using test::fixture;

ReaderOptions proc(const std::string& name) { return ReaderOptions{fixture(name), "", nullptr}; }

ReaderOptions cgroups(std::shared_ptr<const Io> io = nullptr) {
  return ReaderOptions{fixture("proc-hybrid"), fixture("cgroup-tree"), std::move(io)};
}

TEST(Reader, Kernel420CpuHasNoFull) {
  Reader r(Target::system(), proc("kernel-4.20"));
  auto s = r.snapshot();
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->resources[0]);
  EXPECT_TRUE((*s)[Resource::cpu]->some);
  EXPECT_FALSE((*s)[Resource::cpu]->full);
  EXPECT_EQ((*s)[Resource::memory]->full->avg10.hundredths(), 876u);
  ASSERT_FALSE((*s)[Resource::irq]);
  EXPECT_EQ((*s)[Resource::irq].error().code(), Errc::unavailable);
  EXPECT_NE((*s)[Resource::irq].error().message().find("CONFIG_IRQ_TIME_ACCOUNTING"), std::string::npos);
}

TEST(Reader, Kernel513CpuFullIsZero) {
  auto cpu = read(Resource::cpu, Target::system(), proc("kernel-5.13"));
  ASSERT_TRUE(cpu);
  ASSERT_TRUE(cpu->full);
  EXPECT_EQ(cpu->full->total_us, 0u);
  EXPECT_EQ(cpu->some->total_us, 1212742u);
}

TEST(Reader, Kernel61IrqHasOnlyFull) {
  Reader r(Target::system(), proc("kernel-6.1-irq"));
  auto irq = r.read(Resource::irq);
  ASSERT_TRUE(irq) << irq.error().message();
  EXPECT_FALSE(irq->some);
  EXPECT_EQ(irq->full->total_us, 37211u);
}

TEST(Reader, FutureKernelExtraKeysAndLines) {
  auto memory = read(Resource::memory, Target::system(), proc("future-kernel"));
  ASSERT_TRUE(memory) << memory.error().message();
  EXPECT_EQ(memory->some->avg60.hundredths(), 30u);
  EXPECT_EQ(memory->full->total_us, 45678u);
}

TEST(Reader, MaximalValues) {
  auto cpu = read(Resource::cpu, Target::system(), proc("maximal"));
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->full->total_us, UINT64_MAX);
  EXPECT_EQ(cpu->full->avg300.hundredths(), 10000u);
}

TEST(Reader, PsiDisabledIsUnsupportedAndSaysWhatToDo) {
  Reader r(Target::system(), proc("psi-disabled"));
  auto s = r.snapshot();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::unsupported);
  EXPECT_NE(s.error().message().find("psi=1"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("CONFIG_PSI"), std::string::npos);
}

TEST(Reader, MalformedResourceDoesNotHideTheOthers) {
  Reader r(Target::system(), proc("malformed"));
  auto s = r.snapshot();
  ASSERT_TRUE(s);
  ASSERT_FALSE((*s)[Resource::memory]);
  EXPECT_EQ((*s)[Resource::memory].error().code(), Errc::malformed);
  EXPECT_NE((*s)[Resource::memory].error().message().find("pressure/memory line 2"), std::string::npos)
      << (*s)[Resource::memory].error().message();
  EXPECT_TRUE((*s)[Resource::cpu]);
  EXPECT_TRUE((*s)[Resource::io]);
}

TEST(Reader, CgroupByRelativeSlashedAndAbsolutePath) {
  for (const std::string& path :
       std::vector<std::string>{"batch.slice", "/batch.slice", fixture("cgroup-tree") + "/batch.slice/"}) {
    Reader r(Target::cgroup(path), cgroups());
    auto s = r.snapshot();
    ASSERT_TRUE(s) << path << ": " << s.error().message();
    EXPECT_EQ(*r.resolved_path(), "/batch.slice");
    EXPECT_EQ((*s)[Resource::memory]->full->avg10.hundredths(), 2550u);
    EXPECT_EQ((*s)[Resource::irq].error().code(), Errc::unavailable);
  }
}

TEST(Reader, RootCgroupWorks) {
  Reader r(Target::cgroup("/"), cgroups());
  auto s = r.snapshot();
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(*r.resolved_path(), "/");
  EXPECT_EQ((*s)[Resource::cpu]->some->total_us, 1212742u);
}

TEST(Reader, MissingCgroupIsNamed) {
  Reader r(Target::cgroup("no-such.slice"), cgroups());
  auto s = r.snapshot();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::not_found);
  EXPECT_NE(s.error().message().find("/no-such.slice"), std::string::npos);
}

TEST(Reader, DotDotIsRefused) {
  Reader r(Target::cgroup("../etc"), cgroups());
  auto s = r.snapshot();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::invalid_argument);
}

TEST(Reader, CgroupWithPsiSwitchedOffIsUnsupported) {
  Reader r(Target::cgroup("psi-off.slice"), cgroups());
  auto s = r.snapshot();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::unsupported);
  EXPECT_NE(s.error().message().find("cgroup.pressure"), std::string::npos) << s.error().message();
}

TEST(Reader, PidResolvesThroughItsCgroup2Line) {
  Reader r(Target::pid(4242), cgroups());
  auto s = r.snapshot();
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(*r.resolved_path(), "/batch.slice/job-1.scope");

  Reader missing(Target::pid(999999), cgroups());
  ASSERT_FALSE(missing.snapshot());
  EXPECT_EQ(missing.snapshot().error().code(), Errc::not_found);

  Reader deleted(Target::pid(4545), cgroups());
  EXPECT_EQ(*deleted.resolved_path(), "/batch.slice");
  Reader other_namespace(Target::pid(4444), cgroups());
  ASSERT_FALSE(other_namespace.snapshot());
  EXPECT_EQ(other_namespace.snapshot().error().code(), Errc::not_found);
  EXPECT_NE(other_namespace.snapshot().error().message().find("outside this cgroup2 mount"),
            std::string::npos);

  Reader v1_only(Target::pid(4343), cgroups());
  ASSERT_FALSE(v1_only.snapshot());
  EXPECT_EQ(v1_only.snapshot().error().code(), Errc::unsupported);
}

TEST(Reader, DiscoversCgroup2MountFromMountinfo) {
  auto root = cgroup2_root(ReaderOptions{fixture("proc-hybrid"), "", nullptr});
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_EQ(*root, "/sys/fs/cgroup/unified");
  auto none = cgroup2_root(ReaderOptions{fixture("psi-disabled"), "", nullptr});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Errc::unsupported);
}

// A FIFO or a device where a kernel file should be: refused at once, naming the file, never a
// blocked open or an endless read (a FIFO with no writer blocks open(2) forever).
TEST(Reader, AFifoOrADeviceInsteadOfAKernelFileIsRefusedWithoutBlocking) {
  test::TempDir temp("reader-test");
  ASSERT_TRUE(temp.ok());
  const std::string& root = temp.path();
  std::filesystem::create_directories(root + "/pressure");
  std::filesystem::create_directories(root + "/self");
  for (const char* name : {"memory", "io"})
    std::filesystem::copy_file(fixture("kernel-6.1-irq") + "/pressure/" + name, root + "/pressure/" + name);
  ASSERT_EQ(::mkfifo((root + "/pressure/cpu").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("/dev/zero", (root + "/pressure/irq").c_str()), 0);
  ASSERT_EQ(::mkfifo((root + "/self/mountinfo").c_str(), 0600), 0);

  Reader reader(Target::system(), ReaderOptions{root, "", nullptr});
  Snapshot s = reader.snapshot().value();
  ASSERT_FALSE(s[Resource::cpu]);
  EXPECT_NE(s[Resource::cpu].error().message().find(root + "/pressure/cpu: not a regular file"),
            std::string::npos)
      << s[Resource::cpu].error().message();
  ASSERT_FALSE(s[Resource::irq]);
  EXPECT_NE(s[Resource::irq].error().message().find("not a regular file"), std::string::npos);
  EXPECT_TRUE(s[Resource::memory]) << "the regular files are still read";
  auto mount = cgroup2_root(ReaderOptions{root, "", nullptr});
  ASSERT_FALSE(mount);
  EXPECT_NE(mount.error().message().find(root + "/self/mountinfo: not a regular file"), std::string::npos)
      << mount.error().message();
}

// Counts system calls and fails the ones a test asks for, by file name.
class FaultIo : public Io {
 public:
  std::map<std::string, int> fail_open;  // name -> errno
  std::map<std::string, int> fail_read;  // name -> errno
  mutable int opens = 0;
  mutable int reads = 0;
  mutable std::map<std::string, int> opens_of;

  int open_at(int dirfd, const char* path, int flags) const override {
    std::string name = base_name(path);
    std::lock_guard lock(m_mutex);
    ++opens;
    ++opens_of[name];
    if (auto it = fail_open.find(name); it != fail_open.end()) return -it->second;
    int fd = Io::open_at(dirfd, path, flags);
    if (fd >= 0) m_names[fd] = name;
    return fd;
  }
  long pread(int fd, char* buf, std::size_t size, long offset) const override {
    std::lock_guard lock(m_mutex);
    ++reads;
    if (auto it = fail_read.find(m_names[fd]); it != fail_read.end()) return -it->second;
    return Io::pread(fd, buf, size, offset);
  }
  int close(int fd) const override {
    std::lock_guard lock(m_mutex);
    m_names.erase(fd);
    return Io::close(fd);
  }

 private:
  static std::string base_name(const char* path) {
    std::string p(path);
    return p.substr(p.rfind('/') + 1);
  }
  mutable std::mutex m_mutex;
  mutable std::map<int, std::string> m_names;
};

TEST(ReaderFaults, OpensEachFileOnceAndRereadsWithPread) {
  auto io = std::make_shared<FaultIo>();
  Reader r(Target::system(), ReaderOptions{fixture("kernel-5.13"), "", io});
  ASSERT_TRUE(r.snapshot());
  int opens_after_first = io->opens;
  EXPECT_EQ(opens_after_first, 1 + 4);  // the directory, then cpu, memory, io, irq (missing)
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(r.snapshot());
  EXPECT_EQ(io->opens, opens_after_first) << "a snapshot must not reopen files";
  EXPECT_EQ(io->reads, 6 * 3) << "one pread per present resource per snapshot";
  r.reset();
  ASSERT_TRUE(r.snapshot());
  EXPECT_EQ(io->opens, 2 * opens_after_first);
}

TEST(ReaderFaults, EopnotsuppOnIrqLeavesTheRest) {
  auto io = std::make_shared<FaultIo>();
  io->fail_read["irq"] = EOPNOTSUPP;
  Reader r(Target::system(), ReaderOptions{fixture("kernel-6.1-irq"), "", io});
  auto s = r.snapshot();
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_FALSE((*s)[Resource::irq]);
  EXPECT_EQ((*s)[Resource::irq].error().code(), Errc::unavailable);
  EXPECT_NE((*s)[Resource::irq].error().message().find("IRQ time accounting"), std::string::npos);
  EXPECT_TRUE((*s)[Resource::memory]);
}

TEST(ReaderFaults, EopnotsuppEverywhereMeansPsiDisabled) {
  auto io = std::make_shared<FaultIo>();
  for (const char* name : {"cpu", "memory", "io", "irq"}) io->fail_read[name] = EOPNOTSUPP;
  Reader r(Target::system(), ReaderOptions{fixture("kernel-6.1-irq"), "", io});
  auto s = r.snapshot();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::unsupported);
  EXPECT_NE(s.error().message().find("psi=1"), std::string::npos) << s.error().message();
}

TEST(ReaderFaults, PermissionDeniedIsDistinct) {
  auto io = std::make_shared<FaultIo>();
  io->fail_open["memory"] = EACCES;
  Reader r(Target::system(), ReaderOptions{fixture("kernel-5.13"), "", io});
  auto s = r.snapshot();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)[Resource::memory].error().code(), Errc::permission);
  EXPECT_EQ((*s)[Resource::memory].error().sys_errno(), EACCES);
  EXPECT_TRUE((*s)[Resource::cpu]);

  auto denied = std::make_shared<FaultIo>();
  denied->fail_read["cpu"] = EPERM;
  auto cpu = read(Resource::cpu, Target::system(), ReaderOptions{fixture("kernel-5.13"), "", denied});
  ASSERT_FALSE(cpu);
  EXPECT_EQ(cpu.error().code(), Errc::permission);
}

TEST(ReaderFaults, EnodevWithTheGroupGoneIsGone) {
  auto io = std::make_shared<FaultIo>();
  Reader r(Target::cgroup("batch.slice"), cgroups(io));
  ASSERT_TRUE(r.snapshot());
  io->fail_read["cpu.pressure"] = ENODEV;
  io->fail_open["cgroup.procs"] = ENOENT;  // what a removed group's directory fd answers
  auto s = r.snapshot();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::gone);
  EXPECT_NE(s.error().message().find("/batch.slice was removed"), std::string::npos) << s.error().message();
}

// A tree that only looks like cgroup2 (no cgroup.procs) is named as such, not "removed".
TEST(Reader, ATreeWithoutCgroupProcsIsNotCalledRemoved) {
  test::TempDir temp("reader-test");
  ASSERT_TRUE(temp.ok());
  std::filesystem::create_directory(temp.file("g"));
  std::filesystem::copy_file(fixture("cgroup-tree") + "/system.slice/cpu.pressure",
                             temp.file("g/cpu.pressure"));
  Reader r(Target::cgroup("g"), ReaderOptions{fixture("proc-hybrid"), temp.path(), nullptr});
  auto s = r.snapshot();
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_FALSE((*s)[Resource::memory]);
  EXPECT_NE((*s)[Resource::memory].error().message().find(
                temp.file("g") + " is not a cgroup2 directory (it has no cgroup.procs)"),
            std::string::npos)
      << (*s)[Resource::memory].error().message();
  EXPECT_TRUE((*s)[Resource::cpu]);
}

TEST(ReaderFaults, EnodevWithTheGroupPresentIsPsiSwitchedOff) {
  auto io = std::make_shared<FaultIo>();
  Reader r(Target::cgroup("batch.slice"), cgroups(io));
  ASSERT_TRUE(r.snapshot());
  io->fail_read["memory.pressure"] = ENODEV;
  auto s = r.snapshot();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)[Resource::memory].error().code(), Errc::unavailable);
  EXPECT_NE((*s)[Resource::memory].error().message().find("cgroup.pressure is 0"), std::string::npos);
  EXPECT_TRUE((*s)[Resource::cpu]);
}

TEST(ReaderFaults, OtherErrnoIsASystemErrorNamingTheFile) {
  auto io = std::make_shared<FaultIo>();
  io->fail_read["io"] = EIO;
  auto r = read(Resource::io, Target::system(), ReaderOptions{fixture("kernel-5.13"), "", io});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::system);
  EXPECT_EQ(r.error().sys_errno(), EIO);
  EXPECT_NE(r.error().message().find("kernel-5.13/pressure/io"), std::string::npos);
}

TEST(Scan, ChildrenAndWholeTree) {
  auto children = scan_cgroups("/", {}, cgroups());
  ASSERT_TRUE(children) << children.error().message();
  std::map<std::string, Errc> seen;
  for (auto& c : *children) seen[c.path] = c.snapshot ? Errc::system : c.snapshot.error().code();
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen.count("/batch.slice") && seen.count("/system.slice"));
  EXPECT_EQ(seen["/psi-off.slice"], Errc::unsupported);

  auto tree = scan_cgroups("/batch.slice", ScanOptions{true, true}, cgroups());
  ASSERT_TRUE(tree);
  ASSERT_EQ(tree->size(), 2u);
  EXPECT_EQ((*tree)[0].path, "/batch.slice");
  EXPECT_EQ((*tree)[1].path, "/batch.slice/job-1.scope");
  ASSERT_TRUE((*tree)[1].snapshot);
  EXPECT_EQ((*(*tree)[1].snapshot)[Resource::cpu]->full->total_us, 1000000u);

  auto missing = scan_cgroups("/nope", {}, cgroups());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::not_found);
}

TEST(Scan, AsksForAMissingIrqOnlyOnce) {
  auto io = std::make_shared<FaultIo>();
  auto all = scan_cgroups("/", ScanOptions{true, false}, cgroups(io));
  ASSERT_TRUE(all);
  // irq.pressure is tried in the first group whose PSI is on (and in psi-off.slice, whose
  // missing files say nothing about the kernel, if that comes first), then never again.
  EXPECT_GE(io->opens_of["irq.pressure"], 1);
  EXPECT_LE(io->opens_of["irq.pressure"], 2);
  EXPECT_EQ(io->opens_of["cpu.pressure"], 4);
}

TEST(MemoryLevel, UnsupportedOnLinux) {
  auto level = memory_level();
  ASSERT_FALSE(level);
  EXPECT_EQ(level.error().code(), Errc::unsupported);
}

}  // namespace
}  // namespace pressure
