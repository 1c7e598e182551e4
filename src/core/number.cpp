#include "core/number.hpp"

namespace pressure::core {

bool parse_hundredths(std::string_view s, std::uint32_t& out) {
  std::size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 3 || frac.size() > 2) return false;
  if (dot != std::string_view::npos && frac.empty()) return false;
  std::uint32_t value = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  std::uint32_t cents = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return false;
    cents = cents * 10 + static_cast<std::uint32_t>(c - '0');
  }
  out = value * 100 + cents;
  return true;
}

}  // namespace pressure::core
