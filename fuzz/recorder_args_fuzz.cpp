// The recorder's parsers of command-line input: --since/--until times, --retention/--raw
// durations, --cgroup globs. Checks: no crash or UB, errors name the flag, a time "ago" is not
// after now, a canonical glob is a fixed point.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <pressure/selector.hpp>
#include "recorder/time_arg.hpp"

namespace {

long long utc_plus_one(int y, int mo, int d, int h, int mi, int s) {
  // Days from civil, as the parser does, then an hour east: no TZ or C library involved.
  long long yy = y - (mo <= 2);
  long long era = (yy >= 0 ? yy : yy - 399) / 400;
  long long yoe = yy - era * 400;
  long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s - 3600;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pressure::recorder;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const Clock::time_point now{std::chrono::seconds(1'795'000'000)};
  auto t = parse_time_arg(text, now, "--since", LocalZone{utc_plus_one});
  if (!t) {
    if (t.error().message().rfind("--since: ", 0) != 0) std::abort();
  } else {
    // A time starting with '-' is a time ago: never after now.
    std::size_t first = text.find_first_not_of(" \t\n\v\f\r");
    if (first != std::string_view::npos && text[first] == '-' && *t > now) std::abort();
  }
  auto d = parse_duration_arg(text, "--retention");
  if (d && d->count() < 0) std::abort();
  // --cgroup: the one selector syntax; its canonical form means the same groups.
  auto g = pressure::parse_cgroup_selector(text);
  if (g) {
    std::string canonical = g->canonical();
    if (canonical.empty() || canonical[0] != '/') std::abort();
    auto again = pressure::parse_cgroup_selector(canonical);
    if (!again || again->canonical() != canonical || again->base() != g->base()) std::abort();
    if (again->matches(canonical) != g->matches(canonical)) std::abort();
  } else if (g.error().message().empty()) {
    std::abort();
  }
  return 0;
}
