// Talking to the outside: datagrams and appended lines (notify), the service manager
// (sd_notify, watchdog), and whether an address is local.
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sys/control.hpp"
#include "sys/files.hpp"
#include "sys/small_file.hpp"

namespace pressure::sys {

Result<void> send_datagram(const std::string& socket_path, const std::string& payload) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path)
    return fail(Errc::invalid_argument, "unix socket path '" + socket_path + "' is empty or too long",
                socket_path);
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(Errc::system, "socket: " + errno_text(errno), socket_path, errno);
  ssize_t n =
      ::sendto(fd, payload.data(), payload.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (n < 0)
    return fail(Errc::system, "cannot send to " + socket_path + ": " + errno_text(err), socket_path, err);
  return {};
}

Result<void> append_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
  if (fd < 0) return tl::unexpected(open_error(errno, path, "it"));
  std::string data = line + "\n";
  ssize_t n = ::write(fd, data.data(), data.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(data.size()))
    return fail(Errc::system, "cannot append to " + path + ": " + errno_text(err), path, err);
  return {};
}

Result<void> check_local_address(const std::string& host) {
  if (host.empty()) return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), "0", &hints, &found); rc != 0)
    return fail(Errc::invalid_argument, "'" + host + "' does not resolve: " + ::gai_strerror(rc), host);
  int err = EADDRNOTAVAIL;
  for (addrinfo* a = found; a != nullptr && err != 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    err = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (err == EADDRNOTAVAIL)
    return fail(Errc::invalid_argument, "'" + host + "' is not an address of this machine", host, err);
  if (err != 0) return fail(Errc::system, "cannot listen on '" + host + "': " + errno_text(err), host, err);
  return {};
}

bool notify_service_manager(const std::string& state) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0') return false;
  return static_cast<bool>(send_datagram(socket, state));
}

std::chrono::microseconds watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec == nullptr) return std::chrono::microseconds{0};
  if (const char* pid = std::getenv("WATCHDOG_PID")) {
    auto p = parse_u64(pid);
    if (!p || static_cast<Pid>(*p) != ::getpid()) return std::chrono::microseconds{0};
  }
  auto v = parse_u64(usec);
  return std::chrono::microseconds{v ? static_cast<long long>(*v) : 0};
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace pressure::sys
