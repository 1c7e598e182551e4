// The head of one HTTP/1.x request (RFC 9112), parsed from the bytes a connection has received so
// far: not there yet, a request, or a refusal with its status. Pure and header-light: the HTTP
// module, the unit tests and fuzz/http_request_fuzz.cpp share it.
//
//   Parsed p = parse_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /", {});
//   p.state == Parsed::State::request, p.request.path == "/metrics", p.size == 35
//   parse_request("GET /metrics HTTP/1.1\r\nHo", {}).state == Parsed::State::incomplete
//   parse_request("GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", {}).status == 400
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pressure::exporter::http {

struct RequestLimits {
  std::size_t max_head = 8192;    // request line and header fields, blank line included (else 431)
  std::size_t max_target = 2048;  // the request target (else 414)
};

enum class Method { get, head, other };

struct Request {
  Method method = Method::other;
  std::string_view path;    // the target without its query ("/metrics"); points into the input
  bool keep_alive = true;   // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive"
  bool http10 = false;      // an HTTP/1.0 request (keep-alive must then be said in the answer)
  bool wants_gzip = false;  // Accept-Encoding accepts gzip (accept_encoding.hpp)
  bool has_body = false;    // Content-Length above 0 or a Transfer-Encoding: the body is never read
};

struct Parsed {
  enum class State { incomplete, request, refused };
  State state = State::incomplete;
  Request request;       // when State::request
  std::size_t size = 0;  // bytes of the head (leading blank lines and the final one included)
  int status = 0;        // when State::refused: 400, 414, 431 or 505
  std::string_view why;  // when State::refused: a short sentence for the answer's body
};

// Never throws, reads only `received`. A refusal means the connection cannot be read on (the
// next request's start is unknown): answer it and close.
Parsed parse_request(std::string_view received, const RequestLimits& limits);

}  // namespace pressure::exporter::http
