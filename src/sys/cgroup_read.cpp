// Reading one matching group of a CgroupSet: its pressure (and memory) files, kept open when the
// budget allows, each read with one pread; ENODEV told apart as "removed" or "PSI switched off".
#include <pressure/parse.hpp>

#include <cerrno>

#include <fcntl.h>

#include "sys/cgroup_read.hpp"
#include "sys/small_file.hpp"

namespace pressure::sys {

namespace {

constexpr std::array<const char*, 2> k_memory_files{"memory.current", "memory.max"};

bool emfile(int err) { return err == EMFILE || err == ENFILE; }

}  // namespace

GroupReader::GroupReader(const Io& io, FdBudget& budget, bool memory, bool keep, const std::string& root)
    : m_io(io), m_budget(budget), m_memory(memory), m_keep(keep), m_root(root) {}

std::size_t GroupReader::files_per_group() const { return 4 + (m_memory ? k_memory_files.size() : 0); }

std::string GroupReader::file_path(const CgroupNode& node, std::string_view name) const {
  return cgroup_directory(m_root, node.path) + "/" + std::string(name);
}

// An fd for `name` in the group: the kept one, opened now and kept, or opened into `temp`.
int GroupReader::open_in(CgroupNode& node, int dirfd, Fd& kept, const char* name, Fd& temp, int& err) {
  if (kept) return kept.get();
  int fd = m_io.open_at(dirfd, name, O_RDONLY);
  if (fd < 0) {
    err = -fd;
    if (emfile(err)) m_budget.exhausted();
    return -1;
  }
  (node.files_kept ? kept : temp) = Fd(&m_io, fd);
  return fd;
}

// ENODEV from a file we hold: the group was removed, or its PSI switched off (cgroup.pressure 0),
// which its cgroup.procs, still there, tells apart.
Error GroupReader::vanished(CgroupNode& node, int dirfd, Fd& kept, const std::string& path) {
  kept.reset();  // a later update opens the file again when it is back
  int probe = m_io.open_at(dirfd, "cgroup.procs", O_RDONLY);
  if (probe >= 0) {
    m_io.close(probe);
    return Error(Errc::unavailable,
                 path + " disappeared: PSI was switched off for cgroup " + node.path +
                     " (cgroup.pressure is 0); it reads again once that is 1",
                 path, ENODEV);
  }
  return Error(Errc::gone, "cgroup " + node.path + " was removed", path, ENODEV);
}

Result<Pressure> GroupReader::read_pressure(CgroupNode& node, int dirfd, Resource r) {
  std::size_t index = static_cast<std::size_t>(r);
  if (m_kernel_lacks[index]) return tl::unexpected(*m_kernel_lacks[index]);
  Fd temp;
  int err = 0;
  std::string_view name = file_name(Scope::cgroup, r);  // a literal: NUL-terminated
  int fd = open_in(node, dirfd, node.files[index], name.data(), temp, err);
  if (fd < 0) return tl::unexpected(open_file_error(err, file_path(node, name), Scope::cgroup, r));
  long n = m_buffer.read(m_io, fd);
  if (n < 0 && -n == ENODEV)
    return tl::unexpected(vanished(node, dirfd, node.files[index], file_path(node, name)));
  if (n < 0) return tl::unexpected(read_error(static_cast<int>(-n), file_path(node, name), Scope::cgroup, r));
  Result<Pressure> p = parse_pressure(m_buffer.text(), name);
  if (!p) return parse_pressure(m_buffer.text(), file_path(node, name));  // the message names the whole path
  return p;
}

Result<std::string_view> GroupReader::read_memory_file(CgroupNode& node, int dirfd, std::size_t index) {
  Fd temp;
  int err = 0;
  const char* name = k_memory_files[index];
  int fd = open_in(node, dirfd, node.memory_files[index], name, temp, err);
  std::string path = file_path(node, name);
  if (fd < 0 && err == ENOENT)
    return fail(Errc::unavailable,
                "no " + path + ": the memory controller is not enabled for cgroup " + node.path +
                    " (cgroup.subtree_control of its parent)",
                path, err);
  if (fd < 0) return tl::unexpected(open_error(err, path, "cgroup memory files"));
  long n = m_buffer.read(m_io, fd);
  if (n < 0 && -n == ENODEV) {
    node.memory_files[index].reset();
    return fail(Errc::gone, "cgroup " + node.path + " was removed", path, ENODEV);
  }
  if (n < 0)
    return fail(Errc::system, "cannot read " + path + ": " + errno_text(static_cast<int>(-n)), path,
                static_cast<int>(-n));
  return m_buffer.text();
}

Result<CgroupMemoryReading> GroupReader::read_memory(CgroupNode& node, int dirfd) {
  CgroupMemoryReading m;
  Result<std::string_view> current = read_memory_file(node, dirfd, 0);
  if (!current) return tl::unexpected(current.error());
  std::optional<std::uint64_t> value = parse_u64(*current);
  if (!value) return fail(Errc::system, "memory.current of cgroup " + node.path + " is not a number");
  m.current = *value;
  Result<std::string_view> max = read_memory_file(node, dirfd, 1);
  if (!max && max.error().code() == Errc::gone) return tl::unexpected(max.error());
  if (max && !max->starts_with("max")) m.max = parse_u64(*max);
  return m;
}

void GroupReader::keep_files(CgroupNode& node) {
  if (!m_keep || node.files_kept || !node.dir || node.files_tried) return;
  node.files_tried = true;
  std::size_t want = files_per_group();
  if (m_budget.take(want)) {
    node.files_kept = true;
    node.held += want;
  }
}

CgroupReading GroupReader::read(CgroupNode& node, int dirfd, const Clocks& now) {
  keep_files(node);
  CgroupReading out{node.path, node.id, Snapshot{}, std::nullopt};
  Snapshot& snapshot = *out.snapshot;
  snapshot.time = now.wall;
  snapshot.monotonic = now.steady;
  for (Resource r : k_resources) {
    snapshot[r] = read_pressure(node, dirfd, r);
    // A resource the kernel lacks (irq without CONFIG_IRQ_TIME_ACCOUNTING) is lacking in every
    // group: after a miss in a group whose cpu file is there, it is not asked for again.
    std::size_t index = static_cast<std::size_t>(r);
    if (r == Resource::irq && !snapshot[r] && snapshot[r].error().code() == Errc::unavailable &&
        snapshot[r].error().sys_errno() == ENOENT && snapshot[Resource::cpu])
      m_kernel_lacks[index] = snapshot[r].error();
  }
  if (Result<void> ok = check_snapshot(snapshot, Scope::cgroup, node.path); !ok)
    out.snapshot = tl::unexpected(ok.error());
  if (m_memory) out.memory = read_memory(node, dirfd);
  return out;
}

}  // namespace pressure::sys
