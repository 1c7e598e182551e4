// The interface between MetricsServer and the HTTP module (pressure-http.so), which holds the
// HTTP server (http_server.cpp, http_request.cpp) and libdeflate. The module is loaded with dlopen only
// when something serves (`pressure serve`, the daemon's `listen`), so a program that never
// serves never maps it.
//
// The module and the program come from the same build (one compiler, one libstdc++), so C++
// types cross the boundary: the module exports its build's identity and the program refuses a
// module of another build. The entry point is extern "C" and its name carries a version that
// changes with any change to this file.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <netinet/in.h>
#include <sys/socket.h>

namespace pressure::exporter::http {

inline constexpr const char* k_entry_point = "pressure_http_server_v3";
// `extern "C" const char* pressure_http_build_id()`: the version, compiler and sanitizers the
// module was built with; the program loads only a module of its own build.
inline constexpr const char* k_build_id_symbol = "pressure_http_build_id";

struct Settings {
  // Appends the body of GET /metrics to an empty string whose capacity is kept from the last
  // scrape; called on the server's thread.
  std::function<void(std::string& body)> render;
  std::string_view content_type;             // of /metrics
  std::string_view index;                    // the HTML of GET /
  std::size_t max_connections = 64;          // open at once; a new one closes the longest waiting
  std::chrono::milliseconds deadline{5000};  // for a whole request head, an answer's writing, an idle wait
};

// One HTTP server: GET /metrics (gzip at level 1 when asked), GET /, HEAD for both, 404 for
// any other path, 405 for any other method. SO_REUSEADDR only (no SO_REUSEPORT), IPv6 sockets
// take IPv4 too.
class Server {
 public:
  virtual ~Server() = default;
  // Binds host:port; port 0 takes any free port. Returns the port bound, or 0 when binding
  // failed (the caller learns why by binding a socket of its own).
  virtual int bind(const std::string& host, int port) = 0;
  // Serves until stop(); false when the server could not serve.
  virtual bool serve() = 0;
  // Ends serve() at once, from any thread; sticky: a serve() called later returns at once.
  virtual void stop() = 0;
};

// Only SO_REUSEADDR: SO_REUSEPORT would let a second server bind the same port and silently
// share its scrapes. V6ONLY off so "[::]" also takes IPv4. Both the module's
// sockets and the probe MetricsServer binds to learn why binding failed take these.
inline void socket_options(int sock) {
  int yes = 1;
  int no = 0;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  ::setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);  // fails harmlessly on IPv4
}

using Create = Server* (*)(const Settings& settings);

}  // namespace pressure::exporter::http
