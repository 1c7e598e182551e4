#include <pressure/trigger.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace pressure {
namespace {

using std::chrono::microseconds;

tl::unexpected<Error> bad_spec(std::string_view text, const std::string& why) {
  return fail(Errc::invalid_argument, "trigger spec '" + std::string(text) + "': " + why +
                                          " (expected e.g. \"memory full 100ms/2s\" or \"cpu some 10%/2s\")");
}

// "1.5" -> 1.5; digits with at most one dot, nothing else.
bool parse_number(std::string_view s, double& out) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  bool dot = false;
  for (char c : s) {
    if (c == '.') {
      if (dot) return false;
      dot = true;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && ptr == s.data() + s.size();
}

}  // namespace

std::string format_duration(microseconds d) {
  auto us = d.count();
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1'000 == 0) return std::to_string(us / 1'000) + "ms";
  return std::to_string(us) + "us";
}

Result<microseconds> parse_duration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    double us;
  };
  static constexpr Unit k_units[] = {{"us", 1.0}, {"ms", 1e3}, {"s", 1e6}};
  for (const Unit& unit : k_units) {
    if (!text.ends_with(unit.suffix)) continue;
    std::string_view number = text.substr(0, text.size() - unit.suffix.size());
    if (unit.suffix == "s" && (number.ends_with("u") || number.ends_with("m"))) continue;
    double value = 0;
    if (!parse_number(number, value))
      return fail(Errc::invalid_argument, "'" + std::string(text) + "' is not a duration (e.g. 150ms, 2s)");
    double us = std::round(value * unit.us);
    if (us > 1e15) return fail(Errc::invalid_argument, "'" + std::string(text) + "' is too long");
    return microseconds(static_cast<long long>(us));
  }
  return fail(Errc::invalid_argument, "'" + std::string(text) + "' needs a unit: us, ms or s");
}

std::string TriggerSpec::to_string() const {
  return std::string(pressure::to_string(resource)) + " " + std::string(pressure::to_string(line)) + " " +
         format_duration(stall) + "/" + format_duration(window);
}

std::string TriggerSpec::kernel_text() const {
  return std::string(pressure::to_string(line)) + " " + std::to_string(stall.count()) + " " +
         std::to_string(window.count());
}

double TriggerSpec::share() const {
  return window.count() > 0 ? static_cast<double>(stall.count()) / static_cast<double>(window.count()) : 0.0;
}

Result<TriggerSpec> parse_trigger_spec(std::string_view text) {
  std::string_view rest = text;
  auto next = [&rest]() {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    std::size_t end = std::min(rest.find(' '), rest.size());
    std::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    return word;
  };
  std::string_view resource_word = next();
  std::string_view line_word = next();
  std::string_view amounts = next();
  if (!next().empty() || amounts.empty()) return bad_spec(text, "needs three words");

  TriggerSpec spec;
  auto resource = resource_from_string(resource_word);
  if (!resource)
    return bad_spec(text, "unknown resource '" + std::string(resource_word) + "' (cpu, memory, io, irq)");
  auto line = line_from_string(line_word);
  if (!line) return bad_spec(text, "unknown line '" + std::string(line_word) + "' (some, full)");
  spec.resource = *resource;
  spec.line = *line;
  if (spec.resource == Resource::irq && spec.line == Line::some)
    return bad_spec(text, "irq pressure has only a 'full' line");

  std::size_t slash = amounts.find('/');
  if (slash == std::string_view::npos) return bad_spec(text, "needs STALL/WINDOW");
  std::string_view stall_text = amounts.substr(0, slash);
  auto window = parse_duration(amounts.substr(slash + 1));
  if (!window) return bad_spec(text, window.error().message());
  spec.window = *window;
  if (stall_text.ends_with("%")) {
    double percent = 0;
    if (!parse_number(stall_text.substr(0, stall_text.size() - 1), percent))
      return bad_spec(text, "'" + std::string(stall_text) + "' is not a percentage");
    if (percent > 100.0) return bad_spec(text, "a stall share over 100% can never happen");
    spec.stall = microseconds(
        static_cast<long long>(std::round(percent / 100.0 * static_cast<double>(window->count()))));
  } else {
    auto stall = parse_duration(stall_text);
    if (!stall) return bad_spec(text, stall.error().message());
    spec.stall = *stall;
  }
  if (spec.window < k_min_trigger_window) return bad_spec(text, "the window must be at least 500ms");
  if (spec.window > k_max_trigger_window) return bad_spec(text, "the kernel allows windows of at most 10s");
  if (spec.stall.count() <= 0) return bad_spec(text, "the stall must be more than 0");
  if (spec.stall > spec.window) return bad_spec(text, "the stall cannot be longer than the window");
  return spec;
}

bool allowed_unprivileged(const TriggerSpec& spec) {
  return spec.window.count() % k_unprivileged_window_step.count() == 0;
}

TriggerSpec round_for_unprivileged(const TriggerSpec& spec) {
  if (allowed_unprivileged(spec)) return spec;
  auto step = k_unprivileged_window_step.count();
  TriggerSpec rounded = spec;
  rounded.window =
      microseconds(std::min((spec.window.count() + step - 1) / step * step, k_max_trigger_window.count()));
  rounded.stall = microseconds(static_cast<long long>(
      std::llround(static_cast<double>(spec.stall.count()) * static_cast<double>(rounded.window.count()) /
                   static_cast<double>(spec.window.count()))));
  rounded.stall = std::clamp(rounded.stall, microseconds(1), rounded.window);
  return rounded;
}

}  // namespace pressure
