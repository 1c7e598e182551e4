#include "core/printable.hpp"

#include <cstdint>

namespace pressure::core {
namespace {

// Length of the valid UTF-8 sequence at `at` that is printable (1 for printable ASCII), or 0
// when the byte there must be escaped.
std::size_t printable_length(std::string_view text, std::size_t at) {
  char32_t code = 0;
  std::size_t length = utf8_sequence(text, at, &code);
  bool control = code < 0x20 || (code >= 0x7f && code <= 0x9f);  // C0, DEL, C1
  return control ? 0 : length;
}

}  // namespace

std::size_t utf8_sequence(std::string_view text, std::size_t at, char32_t* code) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  std::uint8_t lead = byte(at);
  if (lead < 0x80) {
    *code = lead;
    return 1;
  }
  std::size_t length = lead >= 0xc2 && lead <= 0xdf   ? 2
                       : lead >= 0xe0 && lead <= 0xef ? 3
                       : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                      : 0;
  if (length == 0 || at + length > text.size()) return 0;
  char32_t value = lead & (0x7f >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return 0;
    value = (value << 6) | (byte(at + i) & 0x3f);
  }
  bool overlong = (length == 3 && value < 0x800) || (length == 4 && value < 0x10000);
  bool surrogate = value >= 0xd800 && value <= 0xdfff;
  if (overlong || surrogate || value > 0x10ffff) return 0;
  *code = value;
  return length;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    if (std::size_t n = printable_length(text, at); n > 0) {
      out.append(text.substr(at, n));
      at += n;
      continue;
    }
    static constexpr char k_hex[] = "0123456789abcdef";
    auto byte = static_cast<std::uint8_t>(text[at++]);
    out += "\\x";
    out += k_hex[byte >> 4];
    out += k_hex[byte & 0xf];
  }
  return out;
}

}  // namespace pressure::core
