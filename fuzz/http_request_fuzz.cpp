// Any bytes as what a connection to `pressure serve` has received, parsed as pipelined requests
// are: each request's head lies within the bytes and the limits, its path is a path, it does
// not depend on the bytes after it; a refusal has a status the server answers and a reason;
// "incomplete" is said only while the limits could still be met. Small limits on odd-sized
// inputs, so 414 and 431 are reached too.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exporter/http_request.hpp"

using pressure::exporter::http::Parsed;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pressure::exporter::http::RequestLimits limits;
  if (size % 2 == 1) limits = {256, 64};
  for (int requests = 0; requests < 64; ++requests) {
    Parsed p = pressure::exporter::http::parse_request(text, limits);
    if (p.state == Parsed::State::incomplete) {
      if (text.size() > limits.max_head) std::abort();
      return 0;
    }
    if (p.state == Parsed::State::refused) {
      if (p.why.empty()) std::abort();
      if (p.status != 400 && p.status != 414 && p.status != 431 && p.status != 505) std::abort();
      return 0;
    }
    if (p.size == 0 || p.size > text.size() || p.size > limits.max_head) std::abort();
    std::string_view path = p.request.path;
    if (path.empty() || path.front() != '/' || path.find('?') != std::string_view::npos) std::abort();
    if (path != "/" && (path.data() < text.data() || path.data() + path.size() > text.data() + p.size))
      std::abort();
    Parsed alone = pressure::exporter::http::parse_request(text.substr(0, p.size), limits);
    if (alone.state != Parsed::State::request || alone.size != p.size || alone.request.path != path ||
        alone.request.keep_alive != p.request.keep_alive || alone.request.has_body != p.request.has_body)
      std::abort();
    text.remove_prefix(p.size);
  }
  return 0;
}
