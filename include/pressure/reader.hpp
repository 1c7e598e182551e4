// Reading pressure for the system, a cgroup, or a process's cgroup.
//
//   pressure::Result<pressure::Pressure> m = pressure::memory();        // the system, once
//   pressure::Reader r{pressure::Target::cgroup("batch.slice")};
//   pressure::Result<pressure::Snapshot> s = r.snapshot();               // keeps files open
//   for (auto& c : *pressure::scan_cgroups("/")) ...                     // every child group
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <pressure/error.hpp>
#include <pressure/io.hpp>
#include <pressure/types.hpp>

namespace pressure {

// Where pressure is measured.
class Target {
 public:
  enum class Kind { system, cgroup, pid };

  static Target system() { return Target{Kind::system, {}, 0}; }
  // A path relative to the cgroup2 mount ("batch.slice", "/batch.slice" or "/" for the root
  // cgroup), or an absolute path under the mount ("/sys/fs/cgroup/batch.slice").
  static Target cgroup(std::string path) { return Target{Kind::cgroup, std::move(path), 0}; }
  // The cgroup2 group of a process, from /proc/PID/cgroup.
  static Target pid(int pid) { return Target{Kind::pid, {}, pid}; }
  // The calling process's own cgroup2 group (<proc_root>/self/cgroup).
  static Target self() { return Target{Kind::pid, {}, 0}; }

  Kind kind() const { return m_kind; }
  const std::string& path() const { return m_path; }
  int pid() const { return m_pid; }

 private:
  Target(Kind kind, std::string path, int pid) : m_kind(kind), m_path(std::move(path)), m_pid(pid) {}
  Kind m_kind;
  std::string m_path;
  int m_pid;
};

struct ReaderOptions {
  std::string proc_root = "/proc";  // read <proc_root>/pressure/<resource>, <proc_root>/self/...
  std::string cgroup_root;          // the cgroup2 mount; empty: found from <proc_root>/self/mountinfo
  std::shared_ptr<const Io> io;     // empty: the real system
  // `io`, or the real system.
  const Io& io_or_real() const { return io ? *io : *real_io(); }
};

// Reads one target again and again. Opens each file once and re-reads it with pread, so a
// snapshot costs one system call per resource. Not thread-safe; use one per thread.
class Reader {
 public:
  explicit Reader(Target target, ReaderOptions options = {});
  ~Reader();
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;

  // Every resource. Fails as a whole only when the target cannot be read at all:
  // unsupported (no PSI), not_found, gone (the cgroup was removed), or the directory denied.
  // A resource the kernel does not provide holds Errc::unavailable and is not retried until
  // reset().
  Result<Snapshot> snapshot();
  Result<Pressure> read(Resource resource);

  // "system", or the cgroup path relative to the mount ("/" for the root cgroup).
  Result<std::string> resolved_path();
  const Target& target() const;
  // The pressure file of `resource` for this target ("/proc/pressure/memory",
  // "/sys/fs/cgroup/a/memory.pressure"): where a trigger for it is written.
  Result<std::string> file_path(Resource resource);
  // Close everything; the next read resolves the target and opens the files again.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// One read of the system's resources (no files kept open).
Result<Pressure> cpu();
Result<Pressure> memory();
Result<Pressure> io();
Result<Pressure> irq();
Result<Pressure> read(Resource resource, const Target& target = Target::system(),
                      const ReaderOptions& options = {});

// The cgroup2 mount: options.cgroup_root if set, else found from <proc_root>/self/mountinfo.
Result<std::string> cgroup2_root(const ReaderOptions& options = {});

struct CgroupSnapshot {
  std::string path;  // relative to the mount, with a leading '/'
  Result<Snapshot> snapshot;
};

struct ScanOptions {
  bool recursive = false;     // children only, or the whole subtree
  bool include_self = false;  // also `under` itself
};

// Every cgroup below `under` (a path as for Target::cgroup), opened relative to directory fds.
// A group removed during the scan is left out.
Result<std::vector<CgroupSnapshot>> scan_cgroups(const std::string& under = "/", ScanOptions scan = {},
                                                 const ReaderOptions& options = {});

// macOS memory-pressure level. Errc::unsupported elsewhere (Linux has PSI instead).
Result<MemoryLevel> memory_level();

}  // namespace pressure
