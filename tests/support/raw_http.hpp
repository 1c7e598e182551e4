// For tests: HTTP over a raw loopback socket, byte for byte as the test writes it (the hostile
// and careless requests an HTTP library would never send), answers read as they come, and a
// crowd of slow clients that trickle a request head one byte a second, reconnecting when the
// server closes them, as an attacker would.
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace pressure::test {

// A TCP connection to 127.0.0.1:port whose reads and writes give up after `timeout`; -1 on failure.
inline int connect_loopback(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One answer from `fd`; `pending` keeps what arrived of the next. Nothing on a timeout, a close
// before the answer is whole, or a malformed answer. A HEAD's answer has no body.
inline std::optional<RawResponse> read_response(int fd, std::string& pending, bool head = false) {
  auto fill = [&] {
    char buffer[65536];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) pending.append(buffer, static_cast<std::size_t>(n));
    return n > 0;
  };
  std::size_t end;
  while ((end = pending.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  RawResponse r;
  std::string head_text = pending.substr(0, end);
  if (head_text.size() < 12 || !head_text.starts_with("HTTP/1.1 ")) return std::nullopt;
  r.status = std::stoi(head_text.substr(9, 3));
  std::size_t pos = head_text.find("\r\n");
  while (pos != std::string::npos) {
    std::size_t next = head_text.find("\r\n", pos + 2);
    std::string line =
        head_text.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = next;
  }
  pending.erase(0, end + 4);
  std::size_t length =
      head ? 0 : std::stoul(r.header("content-length").empty() ? "0" : r.header("content-length"));
  while (pending.size() < length)
    if (!fill()) return std::nullopt;
  r.body = pending.substr(0, length);
  pending.erase(0, length);
  return r;
}

// True when the server has closed the connection (EOF or reset) within the socket's timeout,
// whatever else it sent first.
inline bool closed_by_server(int fd) {
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

// Median seconds of `n` scrapes of /metrics, each on a fresh connection and `gap` apart; one that
// fails or lacks `needle` in its body counts in `failures`.
inline double median_scrape(int port, int n, std::chrono::milliseconds gap, const std::string& needle,
                            int* failures) {
  std::vector<double> seconds;
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    int fd = connect_loopback(port);
    std::string pending;
    std::optional<RawResponse> r;
    if (fd >= 0 && send_all(fd, "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"))
      r = read_response(fd, pending);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!r || r->status != 200 || r->body.find(needle) == std::string::npos) ++*failures;
    if (fd >= 0) ::close(fd);
    std::this_thread::sleep_for(gap);
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

// `count` connections to the port, each sending "GET /metrics HTTP/1.1\r\nX-Slow: " and then one
// byte a second of a header that never ends; one the server closes is opened again.
class SlowClients {
 public:
  SlowClients(int port, int count) : m_port(port), m_fds(static_cast<std::size_t>(count), -1) {
    for (int& fd : m_fds) fd = open_one();
    m_thread = std::thread([this] { run(); });
  }
  ~SlowClients() {
    m_stop = true;
    m_thread.join();
    for (int fd : m_fds)
      if (fd >= 0) ::close(fd);
  }
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  int open_now() const { return m_open.load(); }
  int reconnects() const { return m_reconnects.load(); }

 private:
  int open_one() {
    int fd = connect_loopback(m_port, std::chrono::milliseconds(200));
    if (fd >= 0 && !send_all(fd, "GET /metrics HTTP/1.1\r\nX-Slow: ")) {
      ::close(fd);
      fd = -1;
    }
    return fd;
  }
  void run() {
    auto next = std::chrono::steady_clock::now();
    while (!m_stop) {
      int open = 0;
      for (int& fd : m_fds) {
        pollfd p{fd, POLLIN, 0};
        bool gone = fd < 0 || (::poll(&p, 1, 0) == 1) || !send_all(fd, "a");
        if (gone) {
          if (fd >= 0) ::close(fd);
          fd = open_one();
          ++m_reconnects;
        }
        open += fd >= 0 ? 1 : 0;
      }
      m_open = open;
      next += std::chrono::seconds(1);
      while (!m_stop && std::chrono::steady_clock::now() < next)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  int m_port;
  std::vector<int> m_fds;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_open{0};
  std::atomic<int> m_reconnects{0};
  std::thread m_thread;
};

}  // namespace pressure::test
