#include "sys/pressure_channel.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/printable.hpp"
#include "sys/files.hpp"

namespace pressure::sys {
namespace {

constexpr long k_proc_magic = 0x9fa0;
constexpr long k_cgroup2_magic = 0x63677270;

struct Named {  // the request and how its messages begin
  const EnvironmentWatch& request;
  std::string prefix() const {
    return "$" + std::string(watch_variable(request.resource)) + "=" + core::printable(request.path);
  }
  tl::unexpected<Error> error(Errc code, const std::string& why, int err = 0) const {
    return fail(code, prefix() + ": " + why, request.path, err);
  }
  tl::unexpected<Error> os_error(std::string_view what, int err) const {
    Errc code = err == ENOENT                     ? Errc::not_found
                : (err == EACCES || err == EPERM) ? Errc::permission
                                                  : Errc::system;
    return error(code, std::string(what) + ": " + errno_text(err), err);
  }
};

// connect() to the socket at `path`; a path longer than sun_path goes through /proc/self/fd.
int connect_unix(int fd, const std::string& path, int path_fd) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::string target =
      path.size() < sizeof(address.sun_path) ? path : "/proc/self/fd/" + std::to_string(path_fd);
  std::memcpy(address.sun_path, target.c_str(), target.size() + 1);
  return ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0 ? 0 : errno;
}

Result<OwnedFd> open_socket(const Named& named, int path_fd) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {  // the protocol's stream, or a listener's seqpacket
    OwnedFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) return named.os_error("socket(AF_UNIX)", errno);
    int err = connect_unix(fd.get(), named.request.path, path_fd);
    if (err == 0) return fd;
    if (err == EPROTOTYPE && type == SOCK_STREAM) continue;
    if (err == ECONNREFUSED) return named.error(Errc::not_found, "nobody listens on this socket", err);
    if (err == EAGAIN) return named.error(Errc::system, "the socket's listener has a full backlog", err);
    return named.os_error("connect", err);
  }
  return named.error(Errc::system, "a socket neither stream nor seqpacket");
}

tl::unexpected<Error> write_error(const Named& named, int err) {
  const EnvironmentWatch& r = named.request;
  std::string trigger = r.trigger ? "'" + r.trigger->to_string() + "'"
                                  : "what $" + std::string(write_variable(r.resource)) + " holds";
  switch (err) {
    case EINVAL:
      if (r.trigger && !allowed_unprivileged(*r.trigger))
        return named.error(Errc::permission,
                           "the kernel refused the trigger " + trigger +
                               ": without CAP_SYS_RESOURCE trigger windows must be whole "
                               "multiples of 2s (MemoryPressureThresholdSec= sets the stall "
                               "of a 2s window)",
                           err);
      return named.error(Errc::invalid_argument, "the kernel refused the trigger " + trigger + " (EINVAL)",
                         err);
    case EOPNOTSUPP: return named.error(Errc::unsupported, "PSI is disabled (boot with psi=1)", err);
    case ENODEV: return named.error(Errc::gone, "the cgroup was removed", err);
    case EPIPE: return named.error(Errc::gone, "the other side closed it before the write", err);
    case EAGAIN: return named.error(Errc::system, "full: the other side does not read what is written", err);
    default: return named.os_error("writing " + trigger, err);
  }
}

Result<void> write_all(const Named& named, int fd) {
  std::string_view rest = named.request.write;
  while (!rest.empty()) {  // one write for a pressure file and a FIFO (at most PIPE_BUF bytes)
    ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return write_error(named, errno);
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<PressureChannel> open_file(const Named& named, int path_fd, const struct stat& st) {
  PressureChannel channel;
  bool regular = S_ISREG(st.st_mode);
  channel.form = regular                ? ChannelForm::pressure_file
                 : S_ISFIFO(st.st_mode) ? ChannelForm::fifo
                                        : ChannelForm::device;
  if (regular && named.request.write.empty())
    return named.error(Errc::invalid_argument,
                       "a pressure file signals only once a trigger is written to it, and $" +
                           std::string(write_variable(named.request.resource)) + " is unset or empty");
  int mode = named.request.write.empty() ? O_RDONLY : O_RDWR;
  std::string reopen = "/proc/self/fd/" + std::to_string(path_fd);  // the very inode we checked
  channel.fd = OwnedFd(::open(reopen.c_str(), mode | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (channel.fd.get() < 0) return named.os_error("open", errno);
  channel.events = k_readable;
  if (regular) {
    struct statfs fs {};
    if (::fstatfs(channel.fd.get(), &fs) != 0) return named.os_error("fstatfs", errno);
    if (fs.f_type != k_proc_magic && fs.f_type != k_cgroup2_magic)
      return named.error(
          Errc::invalid_argument,
          "a regular file that is not a kernel pressure file (procfs or cgroup2), so it takes no trigger");
    channel.events = k_priority;
  }
  return channel;
}

}  // namespace

std::string_view to_string(ChannelForm form) noexcept {
  switch (form) {
    case ChannelForm::pressure_file: return "pressure file";
    case ChannelForm::socket: return "socket";
    case ChannelForm::fifo: return "FIFO";
    case ChannelForm::device: return "character device";
  }
  return "?";
}

Result<PressureChannel> open_channel(const EnvironmentWatch& request) {
  Named named{request};
  if (request.state != EnvironmentWatch::State::watch)
    return fail(Errc::invalid_argument,
                "$" + std::string(watch_variable(request.resource)) + " asks for no watch");
  OwnedFd path_fd(::open(request.path.c_str(), O_PATH | O_CLOEXEC));
  if (path_fd.get() < 0) return named.os_error("cannot open it", errno);
  struct stat st {};
  if (::fstat(path_fd.get(), &st) != 0) return named.os_error("fstat", errno);
  PressureChannel channel;
  if (S_ISSOCK(st.st_mode)) {
    Result<OwnedFd> fd = open_socket(named, path_fd.get());
    if (!fd) return tl::unexpected(fd.error());
    channel.fd = std::move(*fd);
    channel.form = ChannelForm::socket;
    channel.events = k_readable;
  } else if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    Result<PressureChannel> opened = open_file(named, path_fd.get(), st);
    if (!opened) return opened;
    channel = std::move(*opened);
  } else {
    return named.error(Errc::invalid_argument, S_ISDIR(st.st_mode)
                                                   ? "a directory, not a pressure file, socket or FIFO"
                                                   : "neither a pressure file, a socket nor a FIFO");
  }
  if (Result<void> ok = write_all(named, channel.fd.get()); !ok) return tl::unexpected(ok.error());
  return channel;
}

ChannelSignal take_signal(const PressureChannel& channel, std::uint32_t events) {
  if (channel.form == ChannelForm::pressure_file) {
    if (events & EPOLLERR) return ChannelSignal::closed;  // the trigger's cgroup was removed
    return (events & EPOLLPRI) ? ChannelSignal::pressure : ChannelSignal::none;
  }
  if (events & EPOLLIN) {
    char discard[PIPE_BUF];
    bool data = false;
    for (;;) {  // the data means nothing: drain it so one burst is one event
      ssize_t n = ::read(channel.fd.get(), discard, sizeof(discard));
      if (n > 0) {
        data = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 && !data && channel.form == ChannelForm::socket) return ChannelSignal::closed;
      break;
    }
    if (data) return ChannelSignal::pressure;
  }
  if (events & (EPOLLHUP | EPOLLERR)) return ChannelSignal::closed;
  return ChannelSignal::none;
}

}  // namespace pressure::sys
