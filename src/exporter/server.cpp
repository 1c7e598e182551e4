#include "exporter/server.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

namespace pressure::exporter {

namespace {

constexpr std::string_view k_index =
    "<!DOCTYPE html>\n<html><head><title>pressure exporter</title></head><body>\n"
    "<h1>pressure exporter</h1>\n<p>Linux pressure stall information (PSI) of the system and its "
    "cgroups.</p>\n"
    "<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n";

// Only SO_REUSEADDR: httplib's default SO_REUSEPORT would let a second server bind the same
// port and silently share its scrapes. V6ONLY off so "[::]" also takes IPv4.
void socket_options(int sock) {
  int yes = 1;
  int no = 0;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  ::setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);  // fails harmlessly on IPv4
}

// httplib says only "false" when binding fails; bind a socket of our own the same way to learn why.
Error bind_error(const ListenAddress& address, const std::string& host) {
  std::string where = address.to_string();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return Error(Errc::invalid_argument, "cannot listen on " + where + ": host '" + host +
                                             "' does not resolve (" + ::gai_strerror(rc) + ")");
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int sock = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (sock < 0) {
      err = errno;
      continue;
    }
    socket_options(sock);
    bool bound = ::bind(sock, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(sock, 1) == 0;
    err = bound ? 0 : errno;
    ::close(sock);
    if (bound) break;
  }
  ::freeaddrinfo(found);
  switch (err) {
    case EADDRINUSE:
      return Error(Errc::system,
                   "cannot listen on " + where + ": the port is already in use (another exporter?)", where,
                   err);
    case EACCES:
      return Error(Errc::permission,
                   "cannot listen on " + where +
                       ": permission denied (ports below 1024 need root or "
                       "CAP_NET_BIND_SERVICE)",
                   where, err);
    case EADDRNOTAVAIL:
      return Error(Errc::invalid_argument, "cannot listen on " + where + ": not an address of this machine",
                   where, err);
    case 0:
      return Error(Errc::system, "cannot listen on " + where + " (the address was busy a moment ago)", where);
    default: return Error(Errc::system, "cannot listen on " + where + ": " + std::strerror(err), where, err);
  }
}

constexpr const char* k_wants_gzip = "X-Pressure-Gzip";

// gzip at level 1 (fast; metrics text compresses well at any level). Nothing if zlib fails.
std::optional<std::string> gzip(const std::string& text) {
  z_stream stream{};
  if (::deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return std::nullopt;
  std::string out(::deflateBound(&stream, static_cast<uLong>(text.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int rc = ::deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  ::deflateEnd(&stream);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace

struct MetricsServer::Impl {
  Impl(Exporter& e, ServerOptions o) : exporter(e), options(o) {
    std::size_t threads = options.threads == 0 ? 1 : options.threads;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_socket_options(socket_options);
    server.set_tcp_nodelay(true);  // headers and body go out in separate writes: no 40 ms Nagle wait
    server.set_read_timeout(options.timeout_seconds, 0);
    server.set_write_timeout(options.timeout_seconds, 0);
    server.set_keep_alive_timeout(options.timeout_seconds);
    server.set_keep_alive_max_count(100);
    // Compression is ours: httplib would answer "br" with brotli at quality 11 (over 4 s for the
    // exposition of 1000 cgroups) and gzip at level 6; gzip at level 1 costs a few ms and still
    // shrinks the text about 30 times. So httplib never sees Accept-Encoding (the request object
    // is httplib's own and not const, so editing it is defined).
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      auto& headers = const_cast<httplib::Request&>(req).headers;
      auto accept = headers.find("Accept-Encoding");
      if (accept != headers.end()) {
        bool gzip = accept->second.find("gzip") != std::string::npos;
        headers.erase("Accept-Encoding");
        if (gzip) headers.emplace(k_wants_gzip, "1");
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      std::string text = exporter.render();
      if (req.has_header(k_wants_gzip)) {
        if (std::optional<std::string> packed = gzip(text)) {
          res.set_header("Content-Encoding", "gzip");
          text = std::move(*packed);
        }
      }
      res.set_header("Vary", "Accept-Encoding");
      res.set_content(std::move(text), std::string(k_content_type));
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(k_index), "text/html; charset=utf-8");
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty())
        res.set_content(res.status == 404 ? "404 page not found: the metrics are at /metrics\n"
                                          : std::to_string(res.status) + "\n",
                        "text/plain; charset=utf-8");
    });
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
          res.status = 500;
          std::string what = "internal error";
          try {
            if (error) std::rethrow_exception(error);
          } catch (const std::exception& thrown) {
            what += std::string(": ") + thrown.what();
          } catch (...) {
          }
          res.set_content(what + "\n", "text/plain; charset=utf-8");
        });
  }

  // Serves until stop(). `serving` and `stopping` are set before being read on either side, so
  // stop() either sees this serving (and stops httplib until it returns) or this sees stopping.
  bool serve() {
    serving = true;
    bool ok = stopping || server.listen_after_bind() || stopping;
    serving = false;
    return ok;
  }

  void stop() {
    stopping = true;
    // httplib's stop() does nothing until its loop has started, so repeat it until serve() is out.
    while (serving) {
      server.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::lock_guard lock(thread_mutex);
    if (thread.joinable()) thread.join();
  }

  Exporter& exporter;
  ServerOptions options;
  httplib::Server server;
  ListenAddress bound;
  std::atomic<bool> stopping{false};
  std::atomic<bool> serving{false};
  std::mutex thread_mutex;
  std::thread thread;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
MetricsServer::MetricsServer(MetricsServer&&) noexcept = default;
MetricsServer& MetricsServer::operator=(MetricsServer&& other) noexcept {
  if (this != &other) {
    stop();
    m_impl = std::move(other.m_impl);
  }
  return *this;
}
MetricsServer::~MetricsServer() { stop(); }

Result<MetricsServer> MetricsServer::listen(const ListenAddress& address, Exporter& exporter,
                                            ServerOptions options) {
  auto impl = std::make_unique<Impl>(exporter, options);
  // Every interface: "::" (IPv6 with IPv4 mapped), or "0.0.0.0" where the host has no IPv6.
  std::vector<std::string> hosts = address.all_interfaces() ? std::vector<std::string>{"::", "0.0.0.0"}
                                                            : std::vector<std::string>{address.host};
  for (const std::string& host : hosts) {
    int port = address.port;
    bool ok =
        port == 0 ? (port = impl->server.bind_to_any_port(host)) > 0 : impl->server.bind_to_port(host, port);
    if (ok) {
      impl->bound = ListenAddress{address.host, port};
      return MetricsServer(std::move(impl));
    }
  }
  return tl::unexpected(bind_error(address, hosts.back()));
}

Result<MetricsServer> MetricsServer::listen(std::string_view address, Exporter& exporter,
                                            ServerOptions options) {
  Result<ListenAddress> parsed = parse_listen_address(address);
  if (!parsed) return tl::unexpected(parsed.error());
  return listen(*parsed, exporter, options);
}

const ListenAddress& MetricsServer::address() const { return m_impl->bound; }

std::string MetricsServer::url() const {
  ListenAddress shown = m_impl->bound;
  if (shown.all_interfaces()) shown.host = "127.0.0.1";
  return "http://" + shown.to_string() + "/metrics";
}

Result<void> MetricsServer::run() {
  if (!m_impl->serve())
    return fail(Errc::system,
                "the metrics server on " + m_impl->bound.to_string() + " stopped accepting connections");
  return {};
}

void MetricsServer::start() {
  std::lock_guard lock(m_impl->thread_mutex);
  if (m_impl->thread.joinable() || m_impl->stopping) return;
  Impl* impl = m_impl.get();  // stays put when the MetricsServer is moved
  m_impl->thread = std::thread([impl] { (void)impl->serve(); });
}

void MetricsServer::stop() {
  if (m_impl) m_impl->stop();
}

}  // namespace pressure::exporter
