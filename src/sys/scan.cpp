// Walking many cgroups: every open is relative to a directory fd, so the kernel resolves one
// path component per open instead of the whole path.
#include <pressure/parse.hpp>
#include <pressure/reader.hpp>

#include <cerrno>

#include <fcntl.h>

#include "core/cgroup_path.hpp"
#include "sys/files.hpp"

namespace pressure {

using sys::Fd;
using sys::Scope;

namespace {

class Scanner {
 public:
  Scanner(const Io& io, ScanOptions scan, std::vector<CgroupSnapshot>& out)
      : m_io(io), m_scan(scan), m_out(out) {}

  void visit(int dirfd, const std::string& relative, const std::string& dir_path) {
    m_out.push_back({relative, read_group(dirfd, relative, dir_path)});
  }

  // Children of `dirfd` (and their children when recursive).
  Result<void> walk(int dirfd, const std::string& relative, const std::string& dir_path) {
    std::vector<std::string> names;
    if (int err = m_io.list_directories(dirfd, names); err < 0) {
      if (-err == ENOENT || -err == ENODEV) return {};  // removed while we walked
      return tl::unexpected(sys::open_error(-err, dir_path, "the cgroup tree"));
    }
    for (const std::string& name : names) {
      int fd = m_io.open_at(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY);
      if (fd < 0) {
        if (-fd == ENOENT || -fd == ENOTDIR) continue;
        return tl::unexpected(sys::open_error(-fd, dir_path + "/" + name, "the cgroup tree"));
      }
      Fd child(&m_io, fd);
      std::string child_relative = relative == "/" ? "/" + name : relative + "/" + name;
      std::string child_path = dir_path + "/" + name;
      Result<Snapshot> snapshot = read_group(child.get(), child_relative, child_path);
      if (!snapshot && snapshot.error().code() == Errc::gone) continue;
      m_out.push_back({child_relative, std::move(snapshot)});
      if (m_scan.recursive)
        if (Result<void> ok = walk(child.get(), child_relative, child_path); !ok) return ok;
    }
    return {};
  }

 private:
  Result<Snapshot> read_group(int dirfd, const std::string& relative, const std::string& dir_path) {
    Snapshot snapshot;
    snapshot.monotonic = std::chrono::steady_clock::now();
    snapshot.time = std::chrono::system_clock::now();
    for (Resource r : k_resources) {
      std::size_t index = static_cast<std::size_t>(r);
      // A resource the kernel lacks (irq without CONFIG_IRQ_TIME_ACCOUNTING) is lacking in every
      // group; after the first miss in a group whose other files are there (not one with
      // cgroup.pressure=0, which hides them all) it is not asked for again.
      if (m_kernel_lacks[index]) {
        snapshot[r] = tl::unexpected(*m_kernel_lacks[index]);
        continue;
      }
      std::string path = dir_path + "/" + std::string(sys::file_name(Scope::cgroup, r));
      Result<Fd> fd = sys::open_file(m_io, dirfd, path, Scope::cgroup, r);
      if (!fd) {
        if (r == Resource::irq && fd.error().code() == Errc::unavailable && snapshot[Resource::cpu])
          m_kernel_lacks[index] = fd.error();
        snapshot[r] = tl::unexpected(fd.error());
        continue;
      }
      long n = m_buffer.read(m_io, fd->get());
      if (n < 0)
        snapshot[r] = tl::unexpected(sys::read_error(static_cast<int>(-n), path, Scope::cgroup, r));
      else
        snapshot[r] = parse_pressure(m_buffer.text(), path);
    }
    if (Result<void> ok = sys::check_snapshot(snapshot, Scope::cgroup, relative); !ok)
      return tl::unexpected(ok.error());
    return snapshot;
  }

  const Io& m_io;
  ScanOptions m_scan;
  std::vector<CgroupSnapshot>& m_out;
  sys::FileBuffer m_buffer;
  std::array<std::optional<Error>, 4> m_kernel_lacks;
};

}  // namespace

Result<std::vector<CgroupSnapshot>> scan_cgroups(const std::string& under, ScanOptions scan,
                                                 const ReaderOptions& options) {
  Result<std::string> root = cgroup2_root(options);
  if (!root) return tl::unexpected(root.error());
  Result<std::string> relative = core::normalize_cgroup_path(under, *root);
  if (!relative) return tl::unexpected(relative.error());
  const Io& io = options.io_or_real();
  std::string dir_path = sys::cgroup_directory(*root, *relative);
  int fd = io.open_at(AT_FDCWD, dir_path.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    if (-fd == ENOENT || -fd == ENOTDIR)
      return fail(Errc::not_found, "cgroup " + *relative + " does not exist (no directory " + dir_path + ")",
                  dir_path, -fd);
    return tl::unexpected(sys::open_error(-fd, dir_path, "the cgroup tree"));
  }
  Fd dir(&io, fd);
  std::vector<CgroupSnapshot> out;
  Scanner scanner(io, scan, out);
  if (scan.include_self) scanner.visit(dir.get(), *relative, dir_path);
  if (Result<void> ok = scanner.walk(dir.get(), *relative, dir_path); !ok) return tl::unexpected(ok.error());
  return out;
}

}  // namespace pressure
