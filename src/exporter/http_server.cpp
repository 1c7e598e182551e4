#include "exporter/http_server.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace pressure::exporter::http {

namespace {

using Clock = std::chrono::steady_clock;

// After a closing answer: how long, and how much, of what the client still sends is read and
// dropped before closing (closing with unread bytes would reset the connection and could lose
// the answer on its way).
constexpr auto k_linger = std::chrono::seconds(1);
constexpr std::size_t k_linger_bytes = 1 << 20;
constexpr std::string_view k_timeout_answer =
    "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 44\r\n"
    "Connection: close\r\n\r\n408 the request head did not arrive in time\n";
// epoll's tags for the two descriptors that are not connections; connections count up from 2,
// never reused, so an event still queued for a closed connection finds nothing.
constexpr std::uint64_t k_wake_tag = 0;
constexpr std::uint64_t k_listen_tag = 1;
constexpr int k_accept_batch = 16;  // connections accepted between two looks at the others

struct Connection {
  std::uint64_t tag = 0;
  int fd = -1;
  std::string in;              // received, not yet answered
  std::string out;             // the answer being sent
  std::size_t sent = 0;        // of `out`
  Clock::time_point since;     // when its current wait began: accept, or its last answer sent
  Clock::time_point deadline;  // for the head, the answer, or the linger
  bool close_after = false;    // close once `out` is sent
  bool lingering = false;      // answered and shut for writing: draining until EOF
  bool peer_done = false;      // the client shut its side
  std::size_t drained = 0;     // bytes dropped while lingering
  std::uint32_t events = 0;    // the epoll interest now
};

class EventServer final : public Server {
 public:
  EventServer(const LoopLimits& limits, Respond respond)
      : m_limits(limits),
        m_respond(std::move(respond)),
        m_wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        m_spare(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
    m_limits.max_connections = std::max<std::size_t>(m_limits.max_connections, 1);
  }
  ~EventServer() override {
    close_all();
    for (int fd : {m_listen, m_epoll, m_wake, m_spare})
      if (fd >= 0) ::close(fd);
  }

  int bind(const std::string& host, int port) override;
  bool serve() override;
  void stop() override {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_wake, &one, sizeof one);
  }

 private:
  void accept_some(Clock::time_point now);
  void on_event(Connection& c, std::uint32_t events, Clock::time_point now);
  void progress(Connection& c, Clock::time_point now);
  bool read_some(Connection& c);
  bool flush(Connection& c, Clock::time_point now);
  void linger(Connection& c, Clock::time_point now);
  void watch(Connection& c, std::uint32_t events);
  void expire(Clock::time_point now);
  int wait_ms(Clock::time_point now) const;
  void evict_oldest();
  void close_connection(const Connection& c);
  void close_all();

  LoopLimits m_limits;
  Respond m_respond;
  int m_listen = -1;
  int m_epoll = -1;
  int m_wake = -1;
  int m_spare = -1;  // given up to accept (and close) a connection when out of descriptors
  std::uint64_t m_next_tag = 2;
  std::unordered_map<std::uint64_t, Connection> m_connections;
};

int EventServer::bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return 0;
  for (addrinfo* ai = found; ai != nullptr && m_listen < 0; ai = ai->ai_next) {
    int sock = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (sock < 0) continue;
    socket_options(sock);
    if (::bind(sock, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(sock, SOMAXCONN) == 0)
      m_listen = sock;
    else
      ::close(sock);
  }
  ::freeaddrinfo(found);
  if (m_listen < 0) return 0;
  sockaddr_storage bound{};
  socklen_t size = sizeof bound;
  if (::getsockname(m_listen, reinterpret_cast<sockaddr*>(&bound), &size) != 0) return 0;
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

bool EventServer::serve() {
  if (m_listen < 0 || m_wake < 0) return false;
  if (m_epoll < 0) {
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event listen_event{EPOLLIN, {.u64 = k_listen_tag}};
    epoll_event wake_event{EPOLLIN, {.u64 = k_wake_tag}};
    if (m_epoll < 0 || ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_listen, &listen_event) != 0 ||
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &wake_event) != 0)
      return false;
  }
  std::array<epoll_event, 64> events{};
  for (;;) {
    Clock::time_point now = Clock::now();
    expire(now);
    int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), wait_ms(now));
    if (n < 0 && errno != EINTR) {
      close_all();
      return false;
    }
    now = Clock::now();
    bool listener_ready = false;
    for (int i = 0; i < n; ++i) {
      std::uint64_t tag = events[i].data.u64;
      if (tag == k_wake_tag) {  // stop(): sticky, the counter is never read back
        close_all();
        ::close(m_listen);  // new connections are refused from now on, not left waiting
        m_listen = -1;
        return true;
      }
      if (tag == k_listen_tag) {
        listener_ready = true;
      } else if (auto found = m_connections.find(tag); found != m_connections.end()) {
        on_event(found->second, events[i].events, now);
      }
    }
    // After the connections' own events, and a batch at a time: a request that has arrived is
    // answered before a burst of new connections could evict its connection.
    if (listener_ready) accept_some(now);
  }
}

void EventServer::accept_some(Clock::time_point now) {
  for (int accepted = 0; accepted < k_accept_batch; ++accepted) {
    int fd = ::accept4(m_listen, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if ((errno == EMFILE || errno == ENFILE) && !m_connections.empty()) {
        evict_oldest();
        continue;
      }
      if ((errno == EMFILE || errno == ENFILE) && m_spare >= 0) {  // refuse it rather than spin
        ::close(m_spare);
        if (int refused = ::accept4(m_listen, nullptr, nullptr, SOCK_CLOEXEC); refused >= 0) ::close(refused);
        m_spare = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      }
      return;  // EAGAIN: all taken
    }
    if (m_connections.size() >= m_limits.max_connections) evict_oldest();
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    std::uint64_t tag = m_next_tag++;
    Connection& c = m_connections[tag];
    c.tag = tag;
    c.fd = fd;
    c.since = now;
    c.deadline = now + m_limits.deadline;
    watch(c, EPOLLIN);
    if (c.events == 0) close_connection(c);
  }
}

void EventServer::on_event(Connection& c, std::uint32_t events, Clock::time_point now) {
  if ((events & EPOLLERR) || ((events & EPOLLHUP) && !c.out.empty())) return close_connection(c);
  if (c.lingering) {
    std::array<char, 16384> drop{};
    ssize_t n = ::recv(c.fd, drop.data(), drop.size(), 0);
    if (n > 0) c.drained += static_cast<std::size_t>(n);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || c.drained > k_linger_bytes)
      close_connection(c);
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP)) && c.out.empty() && !read_some(c)) return;
  if ((events & EPOLLOUT) && !c.out.empty() && !flush(c, now)) return;
  progress(c, now);
}

// Answers the requests that have fully arrived, one at a time and in order, while each answer
// goes out at once; then waits for more of the request or for room to write.
void EventServer::progress(Connection& c, Clock::time_point now) {
  while (c.out.empty()) {
    if (c.close_after) return linger(c, now);
    Parsed parsed = parse_request(c.in, m_limits.request);
    if (parsed.state == Parsed::State::incomplete) {
      if (c.peer_done) return close_connection(c);
      return watch(c, EPOLLIN);
    }
    Answer answer = m_respond(parsed);
    if (parsed.state == Parsed::State::refused) {
      c.in.clear();
      answer.close = true;
    } else {
      c.in.erase(0, parsed.size);
    }
    c.out = std::move(answer.bytes);
    c.sent = 0;
    c.close_after = answer.close;
    c.deadline = now + m_limits.deadline;
    if (!flush(c, now)) return;
  }
  watch(c, EPOLLOUT);
}

bool EventServer::read_some(Connection& c) {
  std::array<char, 16384> buffer{};
  std::size_t room = m_limits.request.max_head + 1 - std::min(c.in.size(), m_limits.request.max_head);
  ssize_t n = ::recv(c.fd, buffer.data(), std::min(buffer.size(), room), 0);
  if (n > 0) {
    c.in.append(buffer.data(), static_cast<std::size_t>(n));
  } else if (n == 0) {
    c.peer_done = true;
  } else if (errno != EAGAIN && errno != EINTR) {
    close_connection(c);
    return false;
  }
  return true;
}

// Sends what it can of the answer; false when the connection was closed on an error.
bool EventServer::flush(Connection& c, Clock::time_point now) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n > 0) {
      c.sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      return true;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      close_connection(c);
      return false;
    }
  }
  c.out.clear();
  c.sent = 0;
  c.since = now;  // a new wait begins: for the next request, with a fresh deadline
  c.deadline = now + m_limits.deadline;
  return true;
}

void EventServer::linger(Connection& c, Clock::time_point now) {
  ::shutdown(c.fd, SHUT_WR);
  c.lingering = true;
  c.deadline = now + std::min<Clock::duration>(k_linger, m_limits.deadline);
  watch(c, EPOLLIN);
}

void EventServer::watch(Connection& c, std::uint32_t events) {
  if (c.events == events) return;
  epoll_event event{events, {.u64 = c.tag}};
  if (::epoll_ctl(m_epoll, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &event) == 0)
    c.events = events;
}

// Closes the connections past their deadline; one whose head was under way is told so (408).
void EventServer::expire(Clock::time_point now) {
  std::vector<std::uint64_t> late;
  for (const auto& [tag, c] : m_connections)
    if (c.deadline <= now) late.push_back(tag);
  for (std::uint64_t tag : late) {
    const Connection& c = m_connections.at(tag);
    if (!c.lingering && c.out.empty() && !c.in.empty()) [[maybe_unused]]
      ssize_t n = ::send(c.fd, k_timeout_answer.data(), k_timeout_answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close_connection(c);
  }
}

int EventServer::wait_ms(Clock::time_point now) const {
  if (m_connections.empty()) return -1;
  Clock::time_point first = Clock::time_point::max();
  for (const auto& [tag, c] : m_connections) first = std::min(first, c.deadline);
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(first - now).count();
  return static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 60'000));
}

// The one that has waited longest for its request (or for its answer to be taken); one that is
// only lingering goes first.
void EventServer::evict_oldest() {
  auto oldest = m_connections.end();
  for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
    if (oldest == m_connections.end() || (it->second.lingering && !oldest->second.lingering) ||
        (it->second.lingering == oldest->second.lingering && it->second.since < oldest->second.since))
      oldest = it;
  }
  if (oldest != m_connections.end()) close_connection(oldest->second);
}

// `c` is gone afterwards.
void EventServer::close_connection(const Connection& c) {
  std::uint64_t tag = c.tag;  // a copy: erase must not read the key from the element it destroys
  ::close(c.fd);              // also leaves the epoll set
  m_connections.erase(tag);
}

void EventServer::close_all() {
  for (const auto& [tag, c] : m_connections) ::close(c.fd);
  m_connections.clear();
}

}  // namespace

std::unique_ptr<Server> make_event_server(const LoopLimits& limits, Respond respond) {
  return std::make_unique<EventServer>(limits, std::move(respond));
}

}  // namespace pressure::exporter::http
