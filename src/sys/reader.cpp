#include <pressure/parse.hpp>
#include <pressure/reader.hpp>

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>

#include "core/cgroup_path.hpp"
#include "sys/files.hpp"
#include "sys/platform.hpp"
#include "sys/small_file.hpp"

namespace pressure {

using sys::Fd;
using sys::Scope;

namespace {

constexpr const char* k_default_proc_root = "/proc";

// PSI exists on this platform, or the caller pointed us at a tree of their own.
Result<void> check_platform(const ReaderOptions& options) {
  const char* missing = sys::psi_missing_reason();
  if (*missing != '\0' && options.proc_root == k_default_proc_root) return fail(Errc::unsupported, missing);
  return {};
}

// A whole small file by path, for the one-off reads of discovery (sys::read_small_file), with
// the caller's error for a missing one.
Result<std::string> read_small_file(const Io& io, const std::string& path, Errc missing_code,
                                    const std::string& missing_message) {
  Result<std::string> text = sys::read_small_file(path, io);
  if (!text && text.error().code() == Errc::not_found)
    return fail(missing_code, missing_message, path, text.error().sys_errno());
  return text;
}

Result<std::string> discover_cgroup2_root(const ReaderOptions& options) {
  if (!options.cgroup_root.empty()) return options.cgroup_root;
  std::string path = options.proc_root + "/self/mountinfo";
  Result<std::string> text =
      read_small_file(options.io_or_real(), path, Errc::unsupported,
                      "cannot find the cgroup2 mount: " + path + " does not exist; pass --cgroup-root");
  if (!text) return tl::unexpected(text.error());
  return parse_cgroup2_mount(*text, path);
}

}  // namespace

Result<std::string> cgroup2_root(const ReaderOptions& options) { return discover_cgroup2_root(options); }

struct Reader::Impl {
  struct File {
    Fd fd;
    std::string path;
    std::optional<Error> error;  // kept until reset(): a missing resource stays missing
    bool opened = false;
  };

  Target target;
  ReaderOptions options;
  const Io* io;
  bool resolved = false;
  Scope scope = Scope::system;
  std::string where;  // "system" or the cgroup path
  std::string dir_path;
  Fd dir;
  std::array<File, 4> files;
  sys::FileBuffer buffer;

  Impl(Target t, ReaderOptions o) : target(std::move(t)), options(std::move(o)), io(&options.io_or_real()) {}

  // The target's cgroup relative to the mount `root`.
  Result<std::string> cgroup_path(const std::string& root) {
    if (target.kind() == Target::Kind::cgroup) return core::normalize_cgroup_path(target.path(), root);
    std::string process = target.pid() == 0 ? "self" : std::to_string(target.pid());
    std::string path = options.proc_root + "/" + process + "/cgroup";
    Result<std::string> text = read_small_file(*io, path, Errc::not_found,
                                               "no process " + process + " (" + path + " does not exist)");
    if (!text) return text;
    Result<std::string> member = parse_cgroup2_membership(*text, path);
    if (!member) return member;
    // A removed group shows as "/a/b (deleted)"; a process in another cgroup namespace as
    // "/../x", which is outside our mount and refused.
    constexpr std::string_view k_deleted = " (deleted)";
    if (member->ends_with(k_deleted)) member->resize(member->size() - k_deleted.size());
    Result<std::string> normal = core::normalize_cgroup_path(*member, "");
    if (!normal)
      return fail(Errc::not_found,
                  "process " + process + " is in cgroup " + *member + ", outside this cgroup2 mount", path);
    return normal;
  }

  Result<void> resolve() {
    if (resolved) return {};
    if (Result<void> ok = check_platform(options); !ok) return ok;
    if (target.kind() == Target::Kind::pid && target.pid() < 0)
      return fail(Errc::invalid_argument, "process id must be positive, not " + std::to_string(target.pid()));
    if (target.kind() == Target::Kind::system) {
      scope = Scope::system;
      where = "system";
      dir_path = options.proc_root + "/pressure";
    } else {
      scope = Scope::cgroup;
      Result<std::string> root = discover_cgroup2_root(options);
      if (!root) return tl::unexpected(root.error());
      Result<std::string> relative = cgroup_path(*root);
      if (!relative) return tl::unexpected(relative.error());
      where = *relative;
      dir_path = sys::cgroup_directory(*root, where);
    }
    int fd = io->open_at(AT_FDCWD, dir_path.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      int err = -fd;
      if (err == ENOENT || err == ENOTDIR) {
        int proc = scope == Scope::system
                       ? io->open_at(AT_FDCWD, options.proc_root.c_str(), O_RDONLY | O_DIRECTORY)
                       : -1;
        if (proc >= 0) io->close(proc);
        if (scope == Scope::system && proc < 0)  // a proc root given by the caller that is not there
          return fail(Errc::not_found,
                      "the proc root " + options.proc_root + " does not exist or is not a directory",
                      options.proc_root, -proc);
        if (scope == Scope::system)
          return fail(Errc::unsupported,
                      "PSI is disabled: " + dir_path +
                          " does not exist; boot with psi=1 or build the kernel with CONFIG_PSI=y (4.20+)",
                      dir_path, err);
        return fail(Errc::not_found, "cgroup " + where + " does not exist (no directory " + dir_path + ")",
                    dir_path, err);
      }
      return tl::unexpected(sys::open_error(err, dir_path, "the pressure files"));
    }
    dir = Fd(io, fd);
    for (Resource r : k_resources)
      files[static_cast<std::size_t>(r)].path = dir_path + "/" + std::string(sys::file_name(scope, r));
    resolved = true;
    return {};
  }

  // A pressure file vanished under an open fd (ENODEV): the cgroup was removed, or its PSI
  // was switched off through cgroup.pressure. The cgroup's own directory tells which.
  Error classify_enodev(const File& file) {
    if (can_open(dir.get(), "cgroup.procs", O_RDONLY))
      return Error(Errc::unavailable,
                   file.path + " disappeared: PSI was switched off for cgroup " + where +
                       " (cgroup.pressure is 0); it reads again once that is 1",
                   file.path, ENODEV);
    return Error(Errc::gone, "cgroup " + where + " was removed (" + dir_path + ")", file.path, ENODEV);
  }

  // A file missing from the group we hold, which has no cgroup.procs either: removed, unless the
  // directory is still the one at its path (a tree that only looks like cgroup2), which a user is
  // told instead. A group removed and made again at the same path is another directory.
  Error removed_or_not_a_group(const std::string& path, int err) {
    struct stat held {
    }, named{};
    if (::fstat(dir.get(), &held) == 0 && ::stat(dir_path.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino && held.st_nlink > 0)
      return Error(Errc::system, dir_path + " is not a cgroup2 directory (it has no cgroup.procs)", path,
                   err);
    return Error(Errc::gone, "cgroup " + where + " was removed (" + dir_path + ")", path, err);
  }

  // Whether `path` (relative to `at`) opens: a live group's directory and cgroup.procs do.
  bool can_open(int at, const std::string& path, int flags) {
    int probe = io->open_at(at, path.c_str(), O_RDONLY | flags);
    if (probe < 0) return false;
    io->close(probe);
    return true;
  }

  // Opened on first use and kept; a failure is kept too, so a missing resource costs nothing.
  void open(Resource r, File& file) {
    file.opened = true;
    Result<Fd> opened = sys::open_file(*io, dir.get(), file.path, scope, r);
    if (opened) {
      file.fd = std::move(*opened);
      return;
    }
    file.error = opened.error();
    if (scope == Scope::cgroup && file.error->sys_errno() == ENOENT &&
        !can_open(dir.get(), "cgroup.procs", O_RDONLY))
      file.error = removed_or_not_a_group(file.path, ENOENT);
  }

  Result<Pressure> read(Resource r) {
    File& file = files[static_cast<std::size_t>(r)];
    if (!file.opened) open(r, file);
    if (file.error) return tl::unexpected(*file.error);
    long n = buffer.read(*io, file.fd.get());
    if (n < 0) {
      int err = static_cast<int>(-n);
      if (err == ENODEV && scope == Scope::cgroup) return tl::unexpected(classify_enodev(file));
      return tl::unexpected(sys::read_error(err, file.path, scope, r));
    }
    return parse_pressure(buffer.text(), file.path);
  }
};

Reader::Reader(Target target, ReaderOptions options)
    : m_impl(std::make_unique<Impl>(std::move(target), std::move(options))) {}
Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;

const Target& Reader::target() const { return m_impl->target; }

void Reader::reset() {
  Impl& impl = *m_impl;
  for (Impl::File& file : impl.files) file = Impl::File{};
  impl.dir.reset();
  impl.resolved = false;
}

Result<std::string> Reader::resolved_path() {
  if (Result<void> ok = m_impl->resolve(); !ok) return tl::unexpected(ok.error());
  return m_impl->where;
}

Result<std::string> Reader::file_path(Resource resource) {
  if (Result<void> ok = m_impl->resolve(); !ok) return tl::unexpected(ok.error());
  return m_impl->files[static_cast<std::size_t>(resource)].path;
}

Result<Pressure> Reader::read(Resource resource) {
  if (Result<void> ok = m_impl->resolve(); !ok) return tl::unexpected(ok.error());
  return m_impl->read(resource);
}

Result<Snapshot> Reader::snapshot() {
  if (Result<void> ok = m_impl->resolve(); !ok) return tl::unexpected(ok.error());
  Snapshot snapshot;
  snapshot.monotonic = std::chrono::steady_clock::now();
  snapshot.time = std::chrono::system_clock::now();
  for (Resource r : k_resources) snapshot[r] = m_impl->read(r);
  if (Result<void> ok = sys::check_snapshot(snapshot, m_impl->scope, m_impl->where); !ok)
    return tl::unexpected(ok.error());
  return snapshot;
}

Result<Pressure> read(Resource resource, const Target& target, const ReaderOptions& options) {
  Reader reader(target, options);
  return reader.read(resource);
}

Result<Pressure> cpu() { return read(Resource::cpu); }
Result<Pressure> memory() { return read(Resource::memory); }
Result<Pressure> io() { return read(Resource::io); }
Result<Pressure> irq() { return read(Resource::irq); }

Result<MemoryLevel> memory_level() { return sys::platform_memory_level(); }

}  // namespace pressure
