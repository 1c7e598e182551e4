#include "sys/trigger.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/vfs.h>

namespace pressure::sys {

Result<Fd> arm_trigger(const Io& io, const std::string& path, Scope scope, const TriggerSpec& spec) {
  int fd = io.open_at(AT_FDCWD, path.c_str(), O_RDWR | O_NONBLOCK);
  if (fd < 0) {
    int err = -fd;
    if (err == ENOENT) {
      if (scope == Scope::cgroup)
        return fail(Errc::not_found, "cannot arm a trigger: " + path + " does not exist", path, err);
      return fail(Errc::unsupported, "cannot arm a trigger: " + path + " does not exist (PSI disabled?)",
                  path, err);
    }
    if (err == EACCES || err == EPERM)
      return fail(Errc::permission,
                  "cannot open " + path +
                      " for writing a trigger: permission denied (kernels before 6.4 "
                      "need CAP_SYS_RESOURCE)",
                  path, err);
    return tl::unexpected(open_error(err, path, "the pressure file"));
  }
  Fd owned(&io, fd);
  // Only procfs and cgroupfs files take triggers; a tree of plain files (a test fixture, a
  // copied /proc) must never be written to.
  constexpr long k_proc_magic = 0x9fa0;
  constexpr long k_cgroup2_magic = 0x63677270;
  constexpr long k_cgroup1_magic = 0x27e0eb;
  struct statfs fs {};
  if (::fstatfs(fd, &fs) == 0 && fs.f_type != k_proc_magic && fs.f_type != k_cgroup2_magic &&
      fs.f_type != k_cgroup1_magic)
    return fail(Errc::unsupported, path + " is not a kernel pressure file, so it takes no trigger", path);
  std::string text = spec.kernel_text();
  // The kernel takes the text with its NUL, as libpsi and the documentation's example do.
  long n = io.write(fd, text.c_str(), text.size() + 1);
  if (n >= 0) return owned;
  int err = static_cast<int>(-n);
  switch (err) {
    case EINVAL:
      if (!allowed_unprivileged(spec))
        return fail(Errc::permission,
                    "the kernel refused '" + spec.to_string() + "' on " + path +
                        ": without CAP_SYS_RESOURCE trigger windows must be whole multiples of 2s "
                        "(round the window up, poll instead, or run with CAP_SYS_RESOURCE)",
                    path, err);
      return fail(Errc::invalid_argument,
                  "the kernel refused '" + spec.to_string() + "' on " + path + " (EINVAL)", path, err);
    case EPERM:
    case EACCES:
      return fail(Errc::permission, "the kernel refused a trigger on " + path + ": permission denied", path,
                  err);
    case EOPNOTSUPP:
      return fail(Errc::unsupported,
                  "cannot arm a trigger on " + path + ": PSI is disabled (boot with psi=1)", path, err);
    case EBUSY:  // one trigger per open file; we always open a fresh one, so someone shares it
      return fail(Errc::system, "the kernel refused a second trigger on the same open " + path + " (EBUSY)",
                  path, err);
    case ENODEV:
      return fail(Errc::gone, "cannot arm a trigger on " + path + ": the cgroup was removed", path, err);
    default:
      return fail(Errc::system, "cannot write a trigger to " + path + ": " + errno_text(err), path, err);
  }
}

}  // namespace pressure::sys
