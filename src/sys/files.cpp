#include "sys/files.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>

namespace pressure::sys {

std::string_view file_name(Scope scope, Resource resource) {
  static constexpr std::array<std::string_view, 4> k_proc{"cpu", "memory", "io", "irq"};
  static constexpr std::array<std::string_view, 4> k_cgroup{"cpu.pressure", "memory.pressure", "io.pressure",
                                                            "irq.pressure"};
  auto index = static_cast<std::size_t>(resource);
  return scope == Scope::system ? k_proc[index] : k_cgroup[index];
}

std::string errno_text(int err) {
  if (err == k_not_a_regular_file) return "not a regular file (a FIFO, a device or a socket)";
  return std::strerror(err);
}

std::string cgroup_directory(const std::string& root, const std::string& relative) {
  if (relative == "/") return root;
  return (root.size() > 1 && root.back() == '/') ? root + relative.substr(1) : root + relative;
}

Error open_error(int err, const std::string& path, std::string_view what) {
  if (err == EACCES || err == EPERM)
    return Error(Errc::permission,
                 "cannot open " + path + ": permission denied; run as a user who may read " +
                     std::string(what) + " (SELinux or a container policy can also deny it)",
                 path, err);
  return Error(Errc::system, "cannot open " + path + ": " + errno_text(err), path, err);
}

Result<Fd> open_file(const Io& io, int dirfd, const std::string& path, Scope scope, Resource resource) {
  int fd = io.open_at(dirfd, std::string(file_name(scope, resource)).c_str(), O_RDONLY);
  if (fd >= 0) return Fd(&io, fd);
  return tl::unexpected(open_file_error(-fd, path, scope, resource));
}

Error open_file_error(int err, const std::string& path, Scope scope, Resource resource) {
  if (err != ENOENT) return open_error(err, path, "pressure files");
  std::string reason;
  if (resource == Resource::irq)
    reason = scope == Scope::system
                 ? "this kernel has no " + path + " (needs 6.1+ with CONFIG_IRQ_TIME_ACCOUNTING)"
                 : "no " + path + " (irq pressure needs 6.1+ with CONFIG_IRQ_TIME_ACCOUNTING)";
  else
    reason = scope == Scope::system
                 ? "this kernel has no " + path + " (needs 4.20+ with CONFIG_PSI=y)"
                 : "no " + path +
                       ": PSI is off for this cgroup (cgroup.pressure is 0, or the kernel was booted "
                       "with cgroup_disable=pressure)";
  return Error(Errc::unavailable, std::move(reason), path, ENOENT);
}

long FileBuffer::read(const Io& io, int fd) {
  m_large.clear();
  long n = io.pread(fd, m_small.data(), m_small.size(), 0);
  if (n < 0) return n;
  m_size = static_cast<std::size_t>(n);
  if (m_size < m_small.size()) return n;
  // Larger than any pressure file today; keep reading so a future kernel still parses.
  m_large.assign(m_small.data(), m_size);
  for (;;) {
    char chunk[4096];
    long more = io.pread(fd, chunk, sizeof chunk, static_cast<long>(m_large.size()));
    if (more < 0) return more;
    if (more == 0 || m_large.size() > (1U << 20)) break;
    m_large.append(chunk, static_cast<std::size_t>(more));
  }
  return static_cast<long>(m_large.size());
}

Error read_error(int err, const std::string& path, Scope scope, Resource resource) {
  if (err == EOPNOTSUPP) {
    std::string reason =
        resource == Resource::irq
            ? "reading " + path + " gives EOPNOTSUPP: IRQ time accounting is off in this kernel"
            : "reading " + path +
                  " gives EOPNOTSUPP: PSI is disabled; boot with psi=1 or build with CONFIG_PSI=y";
    return Error(Errc::unavailable, std::move(reason), path, err);
  }
  if (err == ENODEV)
    return Error(Errc::gone,
                 scope == Scope::cgroup ? "the cgroup of " + path + " was removed" : path + " is gone", path,
                 err);
  if (err == EACCES || err == EPERM)
    return Error(Errc::permission, "cannot read " + path + ": permission denied", path, err);
  return Error(Errc::system, "cannot read " + path + ": " + errno_text(err), path, err);
}

Result<void> check_snapshot(const Snapshot& snapshot, Scope scope, const std::string& where) {
  bool any = false;
  for (const Result<Pressure>& r : snapshot.resources) {
    if (r)
      any = true;
    else if (r.error().code() == Errc::gone)
      return tl::unexpected(r.error());
  }
  if (any) return {};
  for (const Result<Pressure>& r : snapshot.resources)
    if (r.error().code() != Errc::unavailable) return tl::unexpected(r.error());
  const Error& first = snapshot[Resource::cpu].error();
  std::string message = scope == Scope::system ? "PSI is disabled: " + first.message()
                                               : "PSI is off for cgroup " + where + ": " + first.message();
  return fail(Errc::unsupported, std::move(message), first.path(), first.sys_errno());
}

}  // namespace pressure::sys
