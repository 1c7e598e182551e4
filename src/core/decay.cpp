#include <pressure/decay.hpp>

#include "core/ewma.hpp"
#include "core/number.hpp"

#include <algorithm>
#include <cmath>

namespace pressure {

std::string_view to_string(Average average) noexcept {
  switch (average) {
    case Average::avg10: return "avg10";
    case Average::avg60: return "avg60";
    case Average::avg300: return "avg300";
  }
  return "?";
}

Percent average_of(const Stall& stall, Average average) {
  switch (average) {
    case Average::avg10: return stall.avg10;
    case Average::avg60: return stall.avg60;
    case Average::avg300: return stall.avg300;
  }
  return {};
}

namespace ewma {

std::uint64_t calc_load(std::uint64_t load, std::uint64_t exp, std::uint64_t active) {
  std::uint64_t newload = load * exp + active * (k_fixed_1 - exp);
  if (active >= load) newload += k_fixed_1 - 1;
  return newload / k_fixed_1;
}

std::uint64_t fixed_power_int(std::uint64_t x, unsigned frac_bits, unsigned n) {
  std::uint64_t result = 1ULL << frac_bits;
  if (n == 0) return result;
  for (;;) {
    if (n & 1) {
      result *= x;
      result += 1ULL << (frac_bits - 1);
      result >>= frac_bits;
    }
    n >>= 1;
    if (n == 0) break;
    x *= x;
    x += 1ULL << (frac_bits - 1);
    x >>= frac_bits;
  }
  return result;
}

std::uint64_t calc_load_n(std::uint64_t load, std::uint64_t exp, std::uint64_t active, unsigned n) {
  return calc_load(load, fixed_power_int(exp, k_fshift, n), active);
}

Percent printed(std::uint64_t fixed) {
  // LOAD_INT(x) = x >> 11; LOAD_FRAC(x) = ((x & 2047) * 100) >> 11; together floor(100x/2048).
  return Percent::from_hundredths(
      static_cast<std::uint32_t>(std::min<std::uint64_t>(fixed * 100 / k_fixed_1, 10000)));
}

std::pair<std::uint64_t, std::uint64_t> fixed_range(Percent p) {
  auto first = [](std::uint64_t hundredths) { return (hundredths * k_fixed_1 + 99) / 100; };
  return {first(p.hundredths()), first(p.hundredths() + 1ULL) - 1};
}

}  // namespace ewma

KernelAverages::KernelAverages(const Stall& printed) {
  for (Average a : k_averages) set_fixed(a, ewma::fixed_range(average_of(printed, a)).first);
}

void KernelAverages::update(std::chrono::nanoseconds stall, std::chrono::nanoseconds period,
                            unsigned missed) {
  if (period.count() <= 0) return;
  auto sample = std::clamp(stall, std::chrono::nanoseconds(0), period);
  std::uint64_t pct =
      static_cast<std::uint64_t>(sample.count()) * 100 / static_cast<std::uint64_t>(period.count());
  pct *= ewma::k_fixed_1;
  for (std::size_t i = 0; i < m_fixed.size(); ++i) {
    if (missed > 0) m_fixed[i] = ewma::calc_load_n(m_fixed[i], ewma::k_exp[i], 0, missed);
    m_fixed[i] = ewma::calc_load(m_fixed[i], ewma::k_exp[i], pct);
  }
}

namespace {

constexpr unsigned k_never_after = 100000;  // avg300 from 100 % to 0 takes < 2,000 updates

// Kernel updates from fixed value `x` until the printed value is below `threshold`.
std::optional<unsigned> updates_until_below(std::uint64_t x, std::uint64_t exp, std::uint64_t active,
                                            std::uint64_t limit) {
  for (unsigned k = 0; k < k_never_after; ++k) {
    if (x < limit) return k;
    std::uint64_t next = ewma::calc_load(x, exp, active);
    if (next >= x) return std::nullopt;  // not falling: held up by the background stall
    x = next;
  }
  return std::nullopt;
}

std::chrono::nanoseconds times(unsigned k, std::chrono::nanoseconds period) {
  return period * static_cast<long>(k);
}

}  // namespace

DecayPrediction time_until_below(Percent printed, Average average, Percent threshold,
                                 unsigned background_percent) {
  DecayPrediction p;
  if (printed < threshold) return p;
  std::uint64_t exp = ewma::k_exp[static_cast<std::size_t>(average)];
  std::uint64_t active = std::min(background_percent, 100U) * ewma::k_fixed_1;
  // printed < T  <=>  floor(100x/2048) < T  <=>  x < first fixed value that prints as T.
  std::uint64_t limit = ewma::fixed_range(threshold).first;
  auto [lowest, highest] = ewma::fixed_range(printed);
  auto fewest = updates_until_below(lowest, exp, active, limit);
  auto most = updates_until_below(highest, exp, active, limit);
  if (!fewest || !most) {
    p.never = true;
    return p;
  }
  p.updates_min = *fewest;
  p.updates_max = *most;
  // The k-th update lands in ((k-1)·P, k·P] from now.
  p.earliest = p.updates_min > 0 ? times(p.updates_min - 1, ewma::k_period_min) : std::chrono::nanoseconds(0);
  p.latest = times(p.updates_max, ewma::k_period_max);
  p.estimate = std::chrono::duration_cast<std::chrono::nanoseconds>(
      ewma::k_period_typical * ((static_cast<double>(p.updates_min) + p.updates_max) / 2.0 - 0.5));
  p.estimate = std::clamp(p.estimate, p.earliest, p.latest);
  return p;
}

DecayPrediction time_until_below(const Stall& printed, const Thresholds& thresholds,
                                 unsigned background_percent) {
  DecayPrediction all;
  for (Average a : k_averages) {
    if (!thresholds[a]) continue;
    DecayPrediction one = time_until_below(average_of(printed, a), a, *thresholds[a], background_percent);
    if (one.never) return one;
    all.updates_min = std::max(all.updates_min, one.updates_min);
    all.updates_max = std::max(all.updates_max, one.updates_max);
    all.earliest = std::max(all.earliest, one.earliest);
    all.latest = std::max(all.latest, one.latest);
    all.estimate = std::max(all.estimate, one.estimate);
  }
  return all;
}

unsigned closed_form_updates(double from_percent, double threshold_percent, Average average) {
  if (!(threshold_percent > 0.0) || !(from_percent >= 0.0)) return 0;  // also NaN: nothing to predict
  if (from_percent < threshold_percent) return 0;
  double r = static_cast<double>(ewma::k_exp[static_cast<std::size_t>(average)]) /
             static_cast<double>(ewma::k_fixed_1);
  return static_cast<unsigned>(std::floor(std::log(threshold_percent / from_percent) / std::log(r))) + 1;
}

std::string Thresholds::to_string() const {
  std::string out;
  for (Average a : k_averages) {
    if (!(*this)[a]) continue;
    std::uint32_t h = (*this)[a]->hundredths();
    std::string frac = std::to_string(h % 100);
    out += (out.empty() ? "" : ",") + std::string(pressure::to_string(a)) + "=" + std::to_string(h / 100) +
           "." + (frac.size() < 2 ? "0" : "") + frac;
  }
  return out;
}

Result<Thresholds> parse_thresholds(std::string_view text) {
  Thresholds out;
  auto bad = [&](const std::string& why) {
    return fail(Errc::invalid_argument, "thresholds '" + std::string(text) + "': " + why +
                                            " (expected e.g. \"avg10=0.01,avg60=0.03\")");
  };
  if (text.empty()) return bad("empty");
  while (!text.empty()) {
    std::size_t comma = std::min(text.find(','), text.size());
    std::string_view item = text.substr(0, comma);
    text.remove_prefix(comma == text.size() ? comma : comma + 1);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return bad("'" + std::string(item) + "' is not NAME=VALUE");
    std::string_view name = item.substr(0, eq);
    std::optional<Average> average;
    for (Average a : k_averages)
      if (pressure::to_string(a) == name) average = a;
    if (!average) return bad("unknown average '" + std::string(name) + "' (avg10, avg60, avg300)");
    std::string_view value = item.substr(eq + 1);
    std::uint32_t hundredths = 0;
    if (!core::parse_hundredths(value, hundredths))
      return bad("'" + std::string(value) + "' is not a percentage with at most two decimals");
    if (hundredths == 0) return bad(std::string(name) + "=0 can never be undercut");
    if (hundredths > 10000) return bad(std::string(name) + " over 100");
    out[*average] = Percent::from_hundredths(hundredths);
  }
  return out;
}

Thresholds EndCriteria::default_thresholds() {
  Thresholds t;
  t[Average::avg10] = Percent::from_hundredths(1);
  t[Average::avg60] = Percent::from_hundredths(3);
  return t;
}

PressureEnded::PressureEnded(Resource resource, Line line, EndCriteria criteria)
    : m_resource(resource), m_line(line), m_criteria(std::move(criteria)) {}

PressureEnded::Verdict PressureEnded::observe(const Snapshot& snapshot) {
  Verdict v;
  v.next_check = snapshot.monotonic;
  const Result<Pressure>& p = snapshot[m_resource];
  if (!p || !(*p)[m_line]) {
    v.reason =
        "no " + std::string(to_string(m_resource)) + " " + std::string(to_string(m_line)) + " line to watch";
    v.next_check += m_criteria.quiet;
    return v;
  }
  const Stall& stall = *(*p)[m_line];
  if (!m_last_total || stall.total_us != *m_last_total) m_last_moved = snapshot.monotonic;
  m_last_total = stall.total_us;
  auto quiet_until = m_last_moved + m_criteria.quiet;
  DecayPrediction decay = time_until_below(stall, m_criteria.below);
  bool quiet = snapshot.monotonic >= quiet_until;
  bool below = decay.updates_max == 0 && !decay.never;
  v.ended = quiet && below;
  if (v.ended) return v;
  // No new stall from here: total stays flat, the averages only fall.
  v.next_check = std::max(quiet_until, snapshot.monotonic + decay.latest);
  if (!quiet)
    v.reason = "stall still accrued within the last " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(m_criteria.quiet).count()) +
               "s";
  else
    v.reason = "averages not yet below " + m_criteria.below.to_string();
  return v;
}

}  // namespace pressure
