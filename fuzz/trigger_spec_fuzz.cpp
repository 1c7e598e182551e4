// Any bytes as a trigger spec or a threshold list (command-line and config input): valid specs
// obey the kernel's limits and round-trip through their own text.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <pressure/decay.hpp>
#include <pressure/trigger.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto spec = pressure::parse_trigger_spec(text)) {
    if (spec->stall.count() <= 0 || spec->stall > spec->window ||
        spec->window > pressure::k_max_trigger_window)
      std::abort();
    if (spec->resource == pressure::Resource::irq && spec->line != pressure::Line::full) std::abort();
    auto again = pressure::parse_trigger_spec(spec->to_string());
    if (!again || *again != *spec) std::abort();
    auto rounded = pressure::round_for_unprivileged(*spec);
    if (!pressure::allowed_unprivileged(rounded) || rounded.stall > rounded.window ||
        rounded.stall.count() <= 0)
      std::abort();
  } else if (spec.error().message().empty()) {
    std::abort();
  }
  if (auto thresholds = pressure::parse_thresholds(text)) {
    auto again = pressure::parse_thresholds(thresholds->to_string());
    if (!again || again->to_string() != thresholds->to_string()) std::abort();
  }
  return 0;
}
