#include "exporter/http_request.hpp"

#include <cstdint>

#include "exporter/accept_encoding.hpp"

namespace pressure::exporter::http {

namespace {

using accept_detail::iequals;
using accept_detail::trim;

constexpr std::string_view k_token_marks = "!#$%&'*+-.^_`|~";

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && k_token_marks.find(c) == std::string_view::npos) return false;
  }
  return true;
}

Parsed refuse(int status, std::string_view why) {
  Parsed p;
  p.state = Parsed::State::refused;
  p.status = status;
  p.why = why;
  return p;
}

// Whether a comma-separated list (Connection) names `token`, in any case.
bool lists(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return false;
}

// The line starting at `pos` without its CRLF or LF, and where the next one starts; npos when
// the line has not fully arrived.
std::size_t line_at(std::string_view in, std::size_t pos, std::string_view* line) {
  std::size_t nl = in.find('\n', pos);
  if (nl == std::string_view::npos) return nl;
  *line = in.substr(pos, nl - pos);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return nl + 1;
}

// "GET /metrics?x=1 HTTP/1.1": the method, path and version of a request, or a refusal.
Parsed request_line(std::string_view line, const RequestLimits& limits) {
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return refuse(400, "the request line is not METHOD TARGET HTTP/1.1");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return refuse(400, "the method is not a token");
  if (target.size() > limits.max_target) return refuse(414, "the request target is too long");
  for (char c : target)
    if (c < 0x21 || c > 0x7e) return refuse(400, "the request target has a space or a control character");
  Parsed p;
  p.state = Parsed::State::request;
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[5] < '0' || version[5] > '9' ||
      version[6] != '.' || version[7] < '0' || version[7] > '9')
    return refuse(400, "the request line does not end in HTTP/1.1");
  if (version == "HTTP/1.0")
    p.request.http10 = true;
  else if (version != "HTTP/1.1")
    return refuse(505, "only HTTP/1.1 and HTTP/1.0 are served");
  // origin-form "/path?query", or absolute-form "http://host/path" (RFC 9112 §3.2.2).
  std::string_view path = target;
  if (path.front() != '/') {
    std::size_t scheme = path.find("://");
    if (scheme == std::string_view::npos ||
        !(iequals(path.substr(0, scheme), "http") || iequals(path.substr(0, scheme), "https")))
      return refuse(400, "the request target is not a path");
    path = path.substr(scheme + 3);
    std::size_t slash = path.find('/');
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  p.request.path = path.substr(0, path.find('?'));
  p.request.method = method == "GET" ? Method::get : method == "HEAD" ? Method::head : Method::other;
  p.request.keep_alive = !p.request.http10;
  return p;
}

// What the header fields say; the first malformed one refuses the request.
struct Fields {
  bool content_length = false;
  std::uint64_t length = 0;
  bool transfer_encoding = false;
  bool close = false;
  bool keep_alive = false;
  int hosts = 0;
  std::string accept_encoding;
  bool accept_seen = false;
};

Parsed field(std::string_view line, Fields& f) {
  if (line.front() == ' ' || line.front() == '\t') return refuse(400, "a header line is folded (obsolete)");
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return refuse(400, "a header line has no ':'");
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return refuse(400, "a header name is malformed (a space before ':'?)");
  std::string_view value = trim(line.substr(colon + 1));
  for (char c : value)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      return refuse(400, "a header value has a control character");
  if (iequals(name, "Content-Length")) {
    if (value.empty()) return refuse(400, "Content-Length is empty");
    std::uint64_t n = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return refuse(400, "Content-Length is not a number");
      n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (f.content_length && n != f.length) return refuse(400, "Content-Length is given twice, differently");
    f.content_length = true;
    f.length = n;
  } else if (iequals(name, "Transfer-Encoding")) {
    f.transfer_encoding = true;
  } else if (iequals(name, "Connection")) {
    f.close = f.close || lists(value, "close");
    f.keep_alive = f.keep_alive || lists(value, "keep-alive");
  } else if (iequals(name, "Accept-Encoding")) {
    if (f.accept_seen) f.accept_encoding += ", ";
    f.accept_encoding += value;
    f.accept_seen = true;
  } else if (iequals(name, "Host")) {
    ++f.hosts;
  }
  return Parsed{};
}

}  // namespace

Parsed parse_request(std::string_view in, const RequestLimits& limits) {
  std::size_t start = 0;  // RFC 9112 §2.2: blank lines before a request line are ignored
  while (start < in.size() &&
         (in[start] == '\n' || (in[start] == '\r' && start + 1 < in.size() && in[start + 1] == '\n')))
    start += in[start] == '\n' ? 1 : 2;
  std::string_view line;
  std::size_t first_end = line_at(in, start, &line);
  if (first_end == std::string_view::npos) {
    // Bytes that cannot begin a request line (a TLS hello, binary) are refused now, not at the
    // deadline.
    std::string_view so_far = in.substr(start, in.find(' ', start) - start);
    if (so_far.ends_with('\r') && so_far.end() == in.end()) so_far.remove_suffix(1);  // its LF may follow
    if (!so_far.empty() && !is_token(so_far)) return refuse(400, "the method is not a token");
    if (in.size() - start > limits.max_target + 64) return refuse(414, "the request line is too long");
    if (in.size() > limits.max_head) return refuse(431, "the request head is too large");
    return Parsed{};
  }
  Parsed p = request_line(line, limits);
  if (p.state == Parsed::State::refused) return p;
  Fields fields;
  std::size_t pos = first_end;
  for (;;) {
    std::size_t next = line_at(in, pos, &line);
    if (next == std::string_view::npos || next > limits.max_head) {
      if (in.size() > limits.max_head) return refuse(431, "the request head is too large");
      return Parsed{};
    }
    pos = next;
    if (line.empty()) break;
    if (Parsed bad = field(line, fields); bad.state == Parsed::State::refused) return bad;
  }
  if (fields.content_length && fields.transfer_encoding)
    return refuse(400, "both Content-Length and Transfer-Encoding are given");
  if (fields.hosts > 1) return refuse(400, "Host is given twice");
  Request& r = p.request;
  r.keep_alive = !fields.close && (!r.http10 || fields.keep_alive);
  r.wants_gzip = fields.accept_seen && accepts_gzip(fields.accept_encoding);
  r.has_body = fields.transfer_encoding || fields.length > 0;
  p.size = pos;
  return p;
}

}  // namespace pressure::exporter::http
