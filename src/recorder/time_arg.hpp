// Times as users write them on the command line (--since, --until). Pure: no clock, no files.
//
//   auto t = pressure::recorder::parse_time_arg("10m ago", now, "--since");
//   // also "-1h30m", "2026-11-21T20:31:12Z", "2026-11-21 20:31", "1763750000", "now"
#pragma once

#include <chrono>
#include <string_view>

#include <pressure/error.hpp>

namespace pressure::recorder {

using Clock = std::chrono::system_clock;

// The grammar (spaces around the whole text are ignored):
//   now
//   -DURATION | DURATION ago         before `now`; DURATION is one or more NUMBER UNIT,
//                                    NUMBER with an optional fraction ("1.5h"), UNIT one of
//                                    ms, s, sec, m, min, h, d, w ("-1h30m", "90s ago")
//   EPOCH                            seconds since 1970 UTC, optional fraction ("1763750000.5")
//   YYYY-MM-DD[(T| )HH:MM[:SS[.FRACTION]]][Z|(+|-)HH[:]MM]
//                                    ISO 8601; without a zone it is local time, a date alone is
//                                    local midnight
// Errors are Errc::invalid_argument and name `flag`.
Result<Clock::time_point> parse_time_arg(std::string_view text, Clock::time_point now, std::string_view flag);

// How a local date and time becomes seconds since 1970 UTC: the C library's mktime by default;
// the fuzz target and the tests pass their own, to be independent of TZ.
struct LocalZone {
  long long (*to_epoch)(int year, int month, int day, int hour, int minute, int second) = nullptr;
};
Result<Clock::time_point> parse_time_arg(std::string_view text, Clock::time_point now, std::string_view flag,
                                         LocalZone zone);

// "1h30m", "2d", "45s", "1.5s": a duration as the grammar above writes it (no sign, no "ago").
Result<std::chrono::microseconds> parse_duration_arg(std::string_view text, std::string_view flag);

}  // namespace pressure::recorder
