// An HTTP/1.1 server for an Exporter: GET /metrics, GET / (a page linking it), HEAD for both, 404
// for any other path, 405 for any other method. Binds at listen(), so a port in use is reported
// before any thread starts; serves on the caller's thread (run) or a thread of its own (start),
// one thread with epoll (http_server.hpp says what slow and hostile clients can hold).
//
//   Result<ListenAddress> where = parse_listen_address("127.0.0.1:9101");
//   Result<MetricsServer> server = MetricsServer::listen(*where, exporter);
//   if (!server) return report(server.error());     // port in use, bad host, no permission
//   server->start();                                 // or run() to block
//   ...
//   server->stop();                                  // from any thread; also on destruction
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <pressure/error.hpp>

#include "exporter/exporter.hpp"
#include "exporter/listen.hpp"

namespace pressure::exporter {

struct ServerOptions {
  // Connections open at once; when full, a new one closes the one that has waited longest for
  // its request (Prometheus keeps one open per target).
  std::size_t max_connections = 64;
  // How long a whole request head may take to arrive (from the accept or the previous answer:
  // also the keep-alive idle time), and an answer to be written.
  std::chrono::milliseconds deadline{std::chrono::seconds(5)};
};

class MetricsServer {
 public:
  // Errors: Errc::invalid_argument (host does not resolve, not an address of this machine:
  // exit 2), Errc::system (the port is in use: exit 4), Errc::permission (a privileged port).
  // ":PORT" binds every interface (IPv6 and IPv4 when the host has IPv6, else IPv4); port 0
  // takes any free port, see address().
  static Result<MetricsServer> listen(const ListenAddress& address, Exporter& exporter,
                                      ServerOptions options = {});
  // The same from text ("127.0.0.1:9101", "[::1]:9101", ":9101"), parsed with
  // parse_listen_address (Errc::invalid_argument naming the value when it is malformed).
  static Result<MetricsServer> listen(std::string_view address, Exporter& exporter,
                                      ServerOptions options = {});
  // Loads the HTTP module as listen() does first, without binding anything: for checks such as
  // `pressure daemon --check`. Errc::system naming the module's file when it is missing or foreign.
  static Result<void> load();
  MetricsServer(MetricsServer&&) noexcept;
  MetricsServer& operator=(MetricsServer&&) noexcept;
  ~MetricsServer();  // stop()

  // Where it listens, with the port actually bound.
  const ListenAddress& address() const;
  // "http://127.0.0.1:9101/metrics" (a loopback host for an all-interfaces address).
  std::string url() const;

  // Serves on the calling thread until stop().
  Result<void> run();
  // Serves on a thread of its own until stop().
  void start();
  // Stops serving; thread-safe and idempotent (not async-signal-safe: from a signal, wake a
  // thread that calls it). Waits for start()'s thread.
  void stop();

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace pressure::exporter
