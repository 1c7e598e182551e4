// parse_condition on arbitrary text: never crashes; what it accepts prints back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <pressure/condition.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = pressure::parse_condition(text);
  if (!c) return 0;
  auto again = pressure::parse_condition(c->to_string());
  if (!again || again->resource != c->resource || again->line != c->line || again->metric != c->metric ||
      again->op != c->op || again->window != c->window)
    std::abort();
  if (c->percent < 0 || c->percent > 100) std::abort();
  return 0;
}
