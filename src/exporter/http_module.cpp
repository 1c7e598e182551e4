// pressure-http.so: the HTTP module MetricsServer loads (see http_module.hpp). It links zlib and
// nothing of the pressure library: the server is http_server.cpp (one thread, epoll), the
// requests are parsed by http_request.cpp, and the answers are made here.
#include "exporter/http_module.hpp"

#include <ctime>
#include <exception>
#include <optional>
#include <string>

#include <zlib.h>

#include "exporter/http_server.hpp"

namespace pressure::exporter::http {
namespace {

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

constexpr std::string_view k_no_answer =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
  }
}

// RFC 9110 §6.6.1: an origin server with a clock sends Date.
std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[40];
  std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return std::string(text, n);
}

struct Reply {
  int status = 200;
  std::string_view type = "text/plain; charset=utf-8";
  std::string body;
  std::string_view extra;  // more header fields, each ending in CRLF
};

// The whole response; a HEAD's carries the GET's Content-Length and no body.
Answer compose(Reply reply, const Request* request, bool close) {
  bool keep_alive_said = !close && request != nullptr && request->http10;
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + std::string(reason(reply.status)) +
                    "\r\nDate: " + http_date() + "\r\nContent-Type: " + std::string(reply.type) +
                    "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
  out += reply.extra;
  if (close) out += "Connection: close\r\n";
  if (keep_alive_said) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (request == nullptr || request->method != Method::head) out += reply.body;
  return {std::move(out), close};
}

Answer refusal(int status, std::string_view why, const Request* request, bool close = true,
               std::string_view extra = {}) {
  Reply reply{status, "text/plain; charset=utf-8", std::to_string(status) + " " + std::string(why) + "\n",
              extra};
  return compose(std::move(reply), request, close);
}

Answer metrics(const Settings& settings, const Request& request) {
  Reply reply{200, settings.content_type, {}, "Vary: Accept-Encoding\r\n"};
  try {
    reply.body = settings.render();
  } catch (const std::exception& error) {
    return compose(
        {500, "text/plain; charset=utf-8", std::string("500 internal error: ") + error.what() + "\n", {}},
        &request, !request.keep_alive);
  } catch (...) {
    return compose({500, "text/plain; charset=utf-8", "500 internal error\n", {}}, &request,
                   !request.keep_alive);
  }
  if (request.wants_gzip) {
    if (std::optional<std::string> packed = gzip(reply.body)) {
      reply.body = std::move(*packed);
      reply.extra = "Vary: Accept-Encoding\r\nContent-Encoding: gzip\r\n";
    }
  }
  return compose(std::move(reply), &request, !request.keep_alive);
}

// GET and HEAD of /metrics and /; a request with a body is refused and its connection closed,
// since the body is never read (it would otherwise be taken for the next request).
Answer respond(const Settings& settings, const Parsed& parsed) {
  if (parsed.state != Parsed::State::request) return refusal(parsed.status, parsed.why, nullptr);
  const Request& request = parsed.request;
  if (request.method == Method::other)
    return refusal(405, "only GET and HEAD are served", &request, request.has_body || !request.keep_alive,
                   "Allow: GET, HEAD\r\n");
  if (request.has_body) return refusal(413, "a GET or HEAD request has no body here", &request);
  if (request.path == "/metrics") return metrics(settings, request);
  if (request.path == "/")
    return compose({200, "text/html; charset=utf-8", std::string(settings.index), {}}, &request,
                   !request.keep_alive);
  return compose({404, "text/plain; charset=utf-8", "404 page not found: the metrics are at /metrics\n", {}},
                 &request, !request.keep_alive);
}

}  // namespace
}  // namespace pressure::exporter::http

extern "C" __attribute__((visibility("default"))) const char* pressure_http_build_id() {
  return PRESSURE_HTTP_BUILD_ID;
}

extern "C" __attribute__((visibility("default"))) pressure::exporter::http::Server* pressure_http_server_v2(
    const pressure::exporter::http::Settings& settings) {
  using namespace pressure::exporter::http;
  try {
    LoopLimits limits;
    limits.max_connections = settings.max_connections;
    limits.deadline = settings.deadline;
    return make_event_server(limits,
                             [settings](const Parsed& parsed) {
                               try {
                                 return respond(settings, parsed);
                               } catch (...) {  // out of memory making the answer: the loop goes on
                                 return Answer{std::string(k_no_answer), true};
                               }
                             })
        .release();
  } catch (...) {
    return nullptr;
  }
}
