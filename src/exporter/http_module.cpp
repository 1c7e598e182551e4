// pressure-http.so: the HTTP module MetricsServer loads (see http_module.hpp). It links libdeflate and
// nothing of the pressure library: the server is http_server.cpp (one thread, epoll), the
// requests are parsed by http_request.cpp, and the answers are made here.
#include "exporter/http_module.hpp"

#include <ctime>
#include <exception>
#include <memory>
#include <string>

#include <libdeflate.h>

#include "exporter/http_server.hpp"

namespace pressure::exporter::http {
namespace {

// gzip at level 1 (fast; metrics text compresses well at any level) with libdeflate, which
// compresses a whole buffer at once: 1.5x zlib's speed at level 1 on a 1000-group scrape, and
// smaller. One per server, whose one thread answers every request: the compressor and its output
// buffer are kept from one scrape to the next (a fresh one and a zeroed 2.6 MB buffer per scrape
// cost more than a tenth of a 1000-group scrape's CPU).
class Gzip {
 public:
  Gzip() : m_compressor(::libdeflate_alloc_compressor(1)) {}
  ~Gzip() {
    if (m_compressor != nullptr) ::libdeflate_free_compressor(m_compressor);
  }
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;

  // The compressed text, valid until the next call; nullptr if it could not be made.
  const std::string* pack(std::string_view text) {
    if (m_compressor == nullptr) return nullptr;
    // m_out only grows, so it is zero-filled once, not on every scrape; the copy out is small.
    std::size_t bound = ::libdeflate_gzip_compress_bound(m_compressor, text.size());
    if (m_out.size() < bound) m_out.resize(bound);
    std::size_t size =
        ::libdeflate_gzip_compress(m_compressor, text.data(), text.size(), m_out.data(), bound);
    if (size == 0) return nullptr;
    m_packed.assign(m_out.data(), size);
    return &m_packed;
  }

 private:
  libdeflate_compressor* m_compressor;
  std::string m_out;     // the bound's bytes, kept
  std::string m_packed;  // what the last pack() made
};

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
  std::string_view body;
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
  if (request == nullptr || request->method != Method::head) out.append(reply.body);
  return {std::move(out), close};
}

Answer refusal(int status, std::string_view why, const Request* request, bool close = true,
               std::string_view extra = {}) {
  std::string text = std::to_string(status) + " " + std::string(why) + "\n";
  return compose({status, "text/plain; charset=utf-8", text, extra}, request, close);
}

// What one server keeps between requests: the settings, the last body's buffer, the gzip state.
struct Responder {
  Settings settings;
  std::string body;
  Gzip gzip;
};

Answer metrics(Responder& responder, const Request& request) {
  std::string& body = responder.body;
  body.clear();  // the capacity stays: no growing and no fresh pages on the next scrape
  try {
    responder.settings.render(body);
  } catch (const std::exception& error) {
    std::string text = std::string("500 internal error: ") + error.what() + "\n";
    return compose({500, "text/plain; charset=utf-8", text, {}}, &request, !request.keep_alive);
  } catch (...) {
    return compose({500, "text/plain; charset=utf-8", "500 internal error\n", {}}, &request,
                   !request.keep_alive);
  }
  Reply reply{200, responder.settings.content_type, body, "Vary: Accept-Encoding\r\n"};
  if (request.wants_gzip) {
    if (const std::string* packed = responder.gzip.pack(body)) {
      reply.body = *packed;
      reply.extra = "Vary: Accept-Encoding\r\nContent-Encoding: gzip\r\n";
    }
  }
  return compose(reply, &request, !request.keep_alive);
}

// GET and HEAD of /metrics and /; a request with a body is refused and its connection closed,
// since the body is never read (it would otherwise be taken for the next request).
Answer respond(Responder& responder, const Parsed& parsed) {
  const Settings& settings = responder.settings;
  if (parsed.state != Parsed::State::request) return refusal(parsed.status, parsed.why, nullptr);
  const Request& request = parsed.request;
  if (request.method == Method::other)
    return refusal(405, "only GET and HEAD are served", &request, request.has_body || !request.keep_alive,
                   "Allow: GET, HEAD\r\n");
  if (request.has_body) return refusal(413, "a GET or HEAD request has no body here", &request);
  if (request.path == "/metrics") return metrics(responder, request);
  if (request.path == "/")
    return compose({200, "text/html; charset=utf-8", settings.index, {}}, &request, !request.keep_alive);
  return compose({404, "text/plain; charset=utf-8", "404 page not found: the metrics are at /metrics\n", {}},
                 &request, !request.keep_alive);
}

}  // namespace
}  // namespace pressure::exporter::http

extern "C" __attribute__((visibility("default"))) const char* pressure_http_build_id() {
  return PRESSURE_HTTP_BUILD_ID;
}

extern "C" __attribute__((visibility("default"))) pressure::exporter::http::Server* pressure_http_server_v3(
    const pressure::exporter::http::Settings& settings) {
  using namespace pressure::exporter::http;
  try {
    LoopLimits limits;
    limits.max_connections = settings.max_connections;
    limits.deadline = settings.deadline;
    auto responder = std::make_shared<Responder>();
    responder->settings = settings;
    return make_event_server(limits,
                             [responder](const Parsed& parsed) {
                               try {
                                 return respond(*responder, parsed);
                               } catch (...) {  // out of memory making the answer: the loop goes on
                                 return Answer{std::string(k_no_answer), true};
                               }
                             })
        .release();
  } catch (...) {
    return nullptr;
  }
}
