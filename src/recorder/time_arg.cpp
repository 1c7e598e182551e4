#include "recorder/time_arg.hpp"

#include <cctype>
#include <cmath>
#include <ctime>
#include <string>

namespace pressure::recorder {
namespace {

using std::chrono::microseconds;

constexpr long long k_us_per_s = 1000000;
// 200 years: times and durations this far stay within the system clock's nanoseconds
// (+-292 years around 1970), which a time point must be converted to.
constexpr long long k_max_seconds = 200LL * 36525 * 864;

std::string quote(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (text.size() > 80) out += "...";
  return "'" + out + "'";
}

tl::unexpected<Error> bad(std::string_view flag, std::string_view text, std::string_view why) {
  return fail(Errc::invalid_argument,
              std::string(flag) + ": " + quote(text) + " is not a time (" + std::string(why) +
                  "); write an ISO 8601 time (2026-11-21T20:31:12, 2026-11-21 20:31, with Z or +01:00 "
                  "for a zone, local time without), seconds since 1970 (1763750000), a time ago (-1h, "
                  "10m ago, 1h30m ago) or now");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool digit(char c) { return c >= '0' && c <= '9'; }

// Exactly `n` digits at `pos`.
bool fixed_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!digit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  out = v;
  return true;
}

// "123" or "123.456" at `pos`: microseconds times `unit_us`, advancing pos. False if no digits or
// too large.
bool decimal_times(std::string_view s, std::size_t& pos, long long unit_us, long long& out) {
  long long whole = 0;
  std::size_t start = pos;
  while (pos < s.size() && digit(s[pos])) {
    whole = whole * 10 + (s[pos] - '0');
    if (whole > k_max_seconds * k_us_per_s / unit_us) return false;
    ++pos;
  }
  bool any = pos > start;
  long long fraction_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t fstart = pos;
    long long scale = unit_us;
    // Digits beyond a microsecond of the unit are read and dropped.
    while (pos < s.size() && digit(s[pos])) {
      scale /= 10;
      fraction_us += (s[pos] - '0') * scale;
      ++pos;
    }
    any = any || pos > fstart;
  }
  if (!any) return false;
  out = whole * unit_us + fraction_us;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : k_days[m - 1];
}

long long mktime_local(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  tm.tm_isdst = -1;
  return static_cast<long long>(std::mktime(&tm));
}

Clock::time_point from_us(long long us) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(microseconds(us)));
}

// Units of a duration, longest names first so "min" is not read as "m" + "in".
struct Unit {
  std::string_view name;
  long long us;
};
constexpr Unit k_units[] = {{"min", 60 * k_us_per_s},  {"sec", k_us_per_s},          {"ms", 1000},
                            {"s", k_us_per_s},         {"m", 60 * k_us_per_s},       {"h", 3600 * k_us_per_s},
                            {"d", 86400 * k_us_per_s}, {"w", 7 * 86400 * k_us_per_s}};

// One or more NUMBER UNIT, spaces allowed between them. Error text in `why`.
bool parse_duration(std::string_view s, long long& out_us, std::string& why) {
  std::size_t pos = 0;
  long long total = 0;
  int parts = 0;
  while (pos < s.size()) {
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos == s.size()) break;
    std::size_t number_start = pos, number_end = pos;
    while (number_end < s.size() && (digit(s[number_end]) || s[number_end] == '.')) ++number_end;
    if (number_end == number_start) {
      why = "expected a number at " + quote(s.substr(pos));
      return false;
    }
    std::size_t unit_start = number_end;
    while (unit_start < s.size() && s[unit_start] == ' ') ++unit_start;
    const Unit* unit = nullptr;
    for (const Unit& u : k_units) {
      if (s.substr(unit_start, u.name.size()) != u.name) continue;
      std::size_t after = unit_start + u.name.size();
      if (after < s.size() && std::isalpha(static_cast<unsigned char>(s[after]))) continue;
      unit = &u;
      break;
    }
    if (unit == nullptr) {
      why = "a number needs a unit: ms, s, m, h, d or w";
      return false;
    }
    std::size_t p = number_start;
    long long us = 0;
    if (!decimal_times(s.substr(0, number_end), p, unit->us, us) || p != number_end) {
      why = "bad or too large number " + quote(s.substr(number_start, number_end - number_start));
      return false;
    }
    total += us;
    if (total > k_max_seconds * k_us_per_s) {
      why = "too long ago";
      return false;
    }
    pos = unit_start + unit->name.size();
    ++parts;
  }
  if (parts == 0) {
    why = "empty duration";
    return false;
  }
  out_us = total;
  return true;
}

// "Thh:mm[:ss[.fff]]" at `pos` (after the date); moves `pos` past it.
bool parse_time_of_day(std::string_view s, std::size_t& pos, int& hour, int& minute, int& second,
                       long long& fraction_us, std::string& why) {
  if (!fixed_digits(s, pos + 1, 2, hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
      !fixed_digits(s, pos + 4, 2, minute)) {
    why = "expected HH:MM after the date";
    return false;
  }
  pos += 6;
  if (pos < s.size() && s[pos] == ':') {
    if (!fixed_digits(s, pos + 1, 2, second)) {
      why = "expected seconds after HH:MM:";
      return false;
    }
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      std::size_t start = ++pos;
      long long scale = k_us_per_s;
      while (pos < s.size() && digit(s[pos])) {
        scale /= 10;
        fraction_us += (s[pos] - '0') * scale;
        ++pos;
      }
      if (pos == start) {
        why = "expected digits after the decimal point";
        return false;
      }
    }
  }
  if (hour > 23 || minute > 59 || second > 60) {  // 60: a leap second, as ISO allows
    why = "no such time of day";
    return false;
  }
  return true;
}

// "+hh[:mm]" or "-hh[:mm]" at `pos`, to the end: the offset east of UTC in seconds.
bool parse_zone_offset(std::string_view s, std::size_t pos, long long& offset_s, std::string& why) {
  int sign = s[pos] == '+' ? 1 : -1;
  int oh = 0, om = 0;
  std::size_t p = pos + 1;
  if (!fixed_digits(s, p, 2, oh)) {
    why = "expected a zone like +01:00";
    return false;
  }
  p += 2;
  if (p < s.size() && s[p] == ':') ++p;
  if (p < s.size() && (!fixed_digits(s, p, 2, om) || p + 2 != s.size())) {
    why = "expected a zone like +01:00";
    return false;
  }
  if (oh > 18 || om > 59) {
    why = "no such zone offset";
    return false;
  }
  offset_s = sign * (oh * 3600 + om * 60);
  return true;
}

// ISO 8601 date and time; true if it parsed, with `why` set when it looked like one but was wrong.
bool parse_iso(std::string_view s, LocalZone zone, long long& out_us, std::string& why) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!fixed_digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !fixed_digits(s, 5, 2, month) ||
      s[7] != '-' || !fixed_digits(s, 8, 2, day)) {
    why = "expected YYYY-MM-DD";
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || year < 1970) {
    why = "no such date";
    return false;
  }
  std::size_t pos = 10;
  long long fraction_us = 0;
  bool has_time = pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ');
  if (has_time && !parse_time_of_day(s, pos, hour, minute, second, fraction_us, why)) return false;
  long long civil = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
                    hour * 3600 + minute * 60 + second;
  long long epoch = 0;
  if (pos == s.size()) {
    epoch = zone.to_epoch != nullptr ? zone.to_epoch(year, month, day, hour, minute, second)
                                     : mktime_local(year, month, day, hour, minute, second);
    if (epoch == -1 && civil > 86400) {
      why = "not a valid local time";
      return false;
    }
  } else if (has_time && (s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    epoch = civil;
  } else if (has_time && (s[pos] == '+' || s[pos] == '-')) {
    long long offset_s = 0;
    if (!parse_zone_offset(s, pos, offset_s, why)) return false;
    epoch = civil - offset_s;
  } else {
    why = "unexpected " + quote(s.substr(pos)) + " after the " + (has_time ? "time" : "date");
    return false;
  }
  if (epoch < 0 || epoch > k_max_seconds) {
    why = "out of range";
    return false;
  }
  out_us = epoch * k_us_per_s + fraction_us;
  return true;
}

}  // namespace

Result<Clock::time_point> parse_time_arg(std::string_view text, Clock::time_point now, std::string_view flag,
                                         LocalZone zone) {
  std::string_view s = trim(text);
  if (s.empty()) return bad(flag, text, "it is empty");
  long long now_us = std::chrono::duration_cast<microseconds>(now.time_since_epoch()).count();
  if (s == "now") return now;
  std::string why;
  bool ago = false;
  std::string_view duration;
  if (s.front() == '-') {
    duration = s.substr(1);
    ago = true;
  } else if (s.size() > 3 && s.substr(s.size() - 3) == "ago") {
    duration = trim(s.substr(0, s.size() - 3));
    ago = true;
  }
  if (ago) {
    long long us = 0;
    if (!parse_duration(duration, us, why)) return bad(flag, text, why);
    return from_us(now_us - us);
  }
  bool all_number = true;
  for (char c : s) all_number = all_number && (digit(c) || c == '.');
  if (all_number) {
    std::size_t pos = 0;
    long long us = 0;
    if (!decimal_times(s, pos, k_us_per_s, us) || pos != s.size()) return bad(flag, text, "bad number");
    return from_us(us);
  }
  if (s.size() >= 10 && digit(s[0]) && s[4] == '-') {
    long long us = 0;
    if (!parse_iso(s, zone, us, why)) return bad(flag, text, why);
    return from_us(us);
  }
  // A duration without "-" or "ago" is ambiguous: say what was probably meant.
  long long us = 0;
  if (parse_duration(s, us, why))
    return bad(flag, text, "a duration needs '-' before it or 'ago' after it: -" + std::string(s));
  return bad(flag, text, "not a form it knows");
}

Result<Clock::time_point> parse_time_arg(std::string_view text, Clock::time_point now,
                                         std::string_view flag) {
  return parse_time_arg(text, now, flag, LocalZone{});
}

Result<std::chrono::microseconds> parse_duration_arg(std::string_view text, std::string_view flag) {
  std::string_view s = trim(text);
  long long us = 0;
  std::string why;
  if (!parse_duration(s, us, why))
    return fail(Errc::invalid_argument, std::string(flag) + ": " + quote(text) + " is not a duration (" +
                                            why + "); write e.g. 30d, 12h, 90s or 1h30m");
  return microseconds(us);
}

}  // namespace pressure::recorder
