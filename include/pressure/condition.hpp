// Conditions on pressure, as people write them for `admit` and daemon rules.
//
//   auto c = pressure::parse_condition("memory full avg10<10");   // the kernel's average
//   auto w = pressure::parse_condition("cpu some 2s<20%");        // stall share over 2 s
//   c->holds(12.5);                                                // false: 12.5 is not < 10
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <pressure/error.hpp>
#include <pressure/types.hpp>

namespace pressure {

struct Condition {
  enum class Metric { avg10, avg60, avg300, window };
  enum class Op { less, less_equal, greater, greater_equal };

  Resource resource = Resource::memory;
  Line line = Line::some;
  Metric metric = Metric::avg10;
  std::chrono::microseconds window{0};  // for Metric::window: the share over this long
  Op op = Op::less;
  double percent = 0.0;  // 0..100

  // True if `value` (a percentage) satisfies the comparison.
  bool holds(double value_percent) const;
  // "memory full avg10<10%", "cpu some 2s>=20%"
  std::string to_string() const;
  // The measured side alone: "memory full avg10", "cpu some 2s".
  std::string subject() const;
  // The kernel's average this condition reads, for the averages; empty for windows.
  std::optional<Percent> average(const Stall& stall) const;
  friend bool operator==(const Condition&, const Condition&) = default;
};

std::string_view to_string(Condition::Op op) noexcept;
// `value op limit`; false when value is NaN (unknown never satisfies a condition).
bool compare(double value, Condition::Op op, double limit) noexcept;
// Takes a leading "<=", ">=", "<" or ">" off `text`; nothing if it starts with none of them.
std::optional<Condition::Op> take_op(std::string_view& text) noexcept;

// "<resource> <some|full> <avg10|avg60|avg300|DURATION><op><percent>[%]", op one of < <= > >=,
// spaces around the operator allowed. A window (DURATION, e.g. "2s", "500ms") is at least
// 100 ms and at most 1 h. Errors are invalid_argument and name the part at fault.
Result<Condition> parse_condition(std::string_view text);

}  // namespace pressure
