#include <pressure/condition.hpp>

#include <charconv>
#include <cmath>
#include <utility>

#include <pressure/trigger.hpp>

namespace pressure {
namespace {

using std::chrono::microseconds;

constexpr microseconds k_min_condition_window{100'000};
constexpr microseconds k_max_condition_window{3'600'000'000};

tl::unexpected<Error> bad(std::string_view text, const std::string& why) {
  return fail(Errc::invalid_argument, "condition '" + std::string(text) + "': " + why +
                                          " (expected e.g. \"memory full avg10<10\" or \"cpu some 2s<20%\")");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view next_word(std::string_view& s) {
  s = trim(s);
  std::size_t end = s.find_first_of(" \t");
  std::string_view word = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  return word;
}

std::string format_percent(double p) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, p, std::chars_format::fixed);
  return std::string(buf, ec == std::errc{} ? ptr : buf);
}

}  // namespace

std::string_view to_string(Condition::Op op) noexcept {
  switch (op) {
    case Condition::Op::less: return "<";
    case Condition::Op::less_equal: return "<=";
    case Condition::Op::greater: return ">";
    case Condition::Op::greater_equal: return ">=";
  }
  return "?";
}

bool compare(double value, Condition::Op op, double limit) noexcept {
  if (std::isnan(value)) return false;
  switch (op) {
    case Condition::Op::less: return value < limit;
    case Condition::Op::less_equal: return value <= limit;
    case Condition::Op::greater: return value > limit;
    case Condition::Op::greater_equal: return value >= limit;
  }
  return false;
}

std::optional<Condition::Op> take_op(std::string_view& text) noexcept {
  static constexpr std::pair<std::string_view, Condition::Op> k_ops[] = {{"<=", Condition::Op::less_equal},
                                                                         {">=", Condition::Op::greater_equal},
                                                                         {"<", Condition::Op::less},
                                                                         {">", Condition::Op::greater}};
  for (auto [sign, op] : k_ops) {
    if (text.starts_with(sign)) {
      text.remove_prefix(sign.size());
      return op;
    }
  }
  return std::nullopt;
}

bool Condition::holds(double value) const { return compare(value, op, percent); }

std::string Condition::subject() const {
  std::string s =
      std::string(pressure::to_string(resource)) + " " + std::string(pressure::to_string(line)) + " ";
  switch (metric) {
    case Metric::avg10: return s + "avg10";
    case Metric::avg60: return s + "avg60";
    case Metric::avg300: return s + "avg300";
    case Metric::window: return s + format_duration(window);
  }
  return s;
}

std::string Condition::to_string() const {
  return subject() + std::string(pressure::to_string(op)) + format_percent(percent) + "%";
}

std::optional<Percent> Condition::average(const Stall& stall) const {
  switch (metric) {
    case Metric::avg10: return stall.avg10;
    case Metric::avg60: return stall.avg60;
    case Metric::avg300: return stall.avg300;
    case Metric::window: return std::nullopt;
  }
  return std::nullopt;
}

Result<Condition> parse_condition(std::string_view text) {
  Condition c;
  std::string_view rest = text;
  std::string_view word = next_word(rest);
  auto resource = resource_from_string(word);
  if (!resource) return bad(text, "'" + std::string(word) + "' is not a resource (cpu, memory, io, irq)");
  c.resource = *resource;
  word = next_word(rest);
  auto line = line_from_string(word);
  if (!line) return bad(text, "'" + std::string(word) + "' is not a line (some or full)");
  c.line = *line;
  if (c.resource == Resource::irq && c.line == Line::some) return bad(text, "irq has only a 'full' line");

  rest = trim(rest);
  std::size_t op_at = rest.find_first_of("<>");
  if (op_at == std::string_view::npos) return bad(text, "no comparison (<, <=, > or >=)");
  std::string_view metric = trim(rest.substr(0, op_at));
  std::string_view after = rest.substr(op_at);
  c.op = *take_op(after);  // find_first_of("<>") found one

  if (metric == "avg10") {
    c.metric = Condition::Metric::avg10;
  } else if (metric == "avg60") {
    c.metric = Condition::Metric::avg60;
  } else if (metric == "avg300") {
    c.metric = Condition::Metric::avg300;
  } else if (metric.empty()) {
    return bad(text, "nothing to compare: name avg10, avg60, avg300 or a window such as 2s");
  } else {
    auto window = parse_duration(metric);
    if (!window)
      return bad(text, "'" + std::string(metric) + "' is neither avg10/avg60/avg300 nor a window such as 2s");
    if (*window < k_min_condition_window || *window > k_max_condition_window)
      return bad(text, "the window must be between 100ms and 3600s");
    c.metric = Condition::Metric::window;
    c.window = *window;
  }

  std::string_view value = trim(after);
  if (value.ends_with("%")) value = trim(value.substr(0, value.size() - 1));
  if (value.empty()) return bad(text, "no percentage after the comparison");
  bool digits = true, dot = false;
  for (char ch : value) {
    if (ch == '.' && !dot) {
      dot = true;
    } else if (ch < '0' || ch > '9') {
      digits = false;
    }
  }
  double percent = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), percent);
  if (!digits || ec != std::errc{} || ptr != value.data() + value.size() || value.front() == '.' ||
      value.back() == '.')
    return bad(text, "'" + std::string(value) + "' is not a percentage");
  if (percent > 100.0) return bad(text, "a percentage is at most 100");
  if (std::size_t dot_at = value.find('.'); dot_at != std::string_view::npos && value.size() - dot_at - 1 > 6)
    return bad(text, "'" + std::string(value) + "' has more than 6 decimals");
  c.percent = percent;
  return c;
}

}  // namespace pressure
