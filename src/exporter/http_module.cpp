// pressure-http.so: the HTTP module MetricsServer loads (see http_module.hpp). It links
// cpp-httplib and zlib and nothing of the pressure library.
#include "exporter/http_module.hpp"

#include "exporter/accept_encoding.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <string>

#include <httplib.h>
#include <zlib.h>

namespace pressure::exporter::http {
namespace {

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

class HttplibServer final : public Server {
 public:
  explicit HttplibServer(const Settings& settings) : m_settings(settings) {
    std::size_t threads = settings.threads == 0 ? 1 : settings.threads;
    m_server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    m_server.set_socket_options(socket_options);
    m_server.set_tcp_nodelay(true);  // headers and body go out in separate writes: no 40 ms Nagle wait
    m_server.set_read_timeout(settings.timeout_seconds, 0);
    m_server.set_write_timeout(settings.timeout_seconds, 0);
    m_server.set_keep_alive_timeout(settings.timeout_seconds);
    m_server.set_keep_alive_max_count(100);
    // Compression is ours: httplib would answer "br" with brotli at quality 11 (over 4 s for the
    // exposition of 1000 cgroups) and gzip at level 6; gzip at level 1 costs a few ms and still
    // shrinks the text about 30 times. So httplib never sees Accept-Encoding (the request object
    // is httplib's own and not const, so editing it is defined).
    m_server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
      auto& headers = const_cast<httplib::Request&>(req).headers;
      auto accept = headers.find("Accept-Encoding");
      if (accept != headers.end()) {
        bool gzip = accepts_gzip(accept->second);
        headers.erase("Accept-Encoding");
        if (gzip) headers.emplace(k_wants_gzip, "1");
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    m_server.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      std::string text = m_settings.render();
      if (req.has_header(k_wants_gzip)) {
        if (std::optional<std::string> packed = gzip(text)) {
          res.set_header("Content-Encoding", "gzip");
          text = std::move(*packed);
        }
      }
      res.set_header("Vary", "Accept-Encoding");
      res.set_content(std::move(text), std::string(m_settings.content_type));
    });
    m_server.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(m_settings.index), "text/html; charset=utf-8");
    });
    m_server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty())
        res.set_content(res.status == 404 ? "404 page not found: the metrics are at /metrics\n"
                                          : std::to_string(res.status) + "\n",
                        "text/plain; charset=utf-8");
    });
    m_server.set_exception_handler(
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

  int bind(const std::string& host, int port) override {
    if (port == 0) return std::max(m_server.bind_to_any_port(host), 0);
    return m_server.bind_to_port(host, port) ? port : 0;
  }
  bool serve() override { return m_server.listen_after_bind(); }
  void stop() override { m_server.stop(); }

 private:
  Settings m_settings;
  httplib::Server m_server;
};

}  // namespace
}  // namespace pressure::exporter::http

extern "C" __attribute__((visibility("default"))) const char* pressure_http_build_id() {
  return PRESSURE_HTTP_BUILD_ID;
}

extern "C" __attribute__((visibility("default"))) pressure::exporter::http::Server* pressure_http_server_v1(
    const pressure::exporter::http::Settings& settings) {
  try {
    return new pressure::exporter::http::HttplibServer(settings);
  } catch (...) {
    return nullptr;
  }
}
