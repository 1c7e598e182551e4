// What one Manager tick costs with 5 levels of mixed conditions, against a floor measured in
// the same run: the same decisions written by hand as an if-chain over the same readings. Also
// what a Sampler reading costs against pread of the same files' floor is left to
// snapshot_bench; here the Sampler's whole read is reported as a figure.
//
//   levels_bench [--rounds N] [--iterations N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <pressure/levels.hpp>

#include "common.hpp"

namespace {

using namespace std::chrono_literals;
namespace lv = pressure::levels;
using pressure::Line;
using pressure::Resource;

pressure::Snapshot psi(std::chrono::steady_clock::time_point t, std::uint32_t avg10_hundredths,
                       std::uint64_t total) {
  pressure::Snapshot s;
  s.monotonic = t;
  pressure::Stall stall{pressure::Percent::from_hundredths(avg10_hundredths), {}, {}, total};
  for (Resource r : pressure::k_resources) s[r] = pressure::Pressure{stall, stall};
  return s;
}

// Readings that wander through every level.
std::vector<lv::Reading> readings(std::size_t n) {
  std::vector<lv::Reading> out;
  auto t = std::chrono::steady_clock::time_point{} + 1000s;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    lv::Reading r;
    t += 100ms;
    r.time = t;
    std::uint32_t phase = static_cast<std::uint32_t>(i % 50);
    total += phase * 2000;
    r.local = psi(t, phase * 40, total);
    r.system = r.local;
    r.host = pressure::HostMemory{16ULL << 30, (16ULL << 30) * (60 - phase) / 60};
    r.local_memory = pressure::LocalMemory{(1ULL << 30) * phase / 50, 1ULL << 30};
    out.push_back(r);
  }
  return out;
}

std::vector<lv::ConditionPtr> five_levels() {
  return {
      lv::any_of({lv::psi_average_above(Resource::memory, Line::some, pressure::Average::avg10, 5.0),
                  lv::host_available_below_percent(60)}),
      lv::hysteresis(lv::psi_share_above(Resource::memory, Line::some, 0.05),
                     lv::negate(lv::psi_share_above(Resource::memory, Line::some, 0.01))),
      lv::all_of({lv::local_usage_above_percent(50), lv::host_available_below_percent(40)}),
      lv::psi_average_above(Resource::memory, Line::full, pressure::Average::avg10, 15.0, lv::Scope::system),
      lv::any_of({lv::local_available_below(64ULL << 20), lv::custom([](const lv::Reading& r) {
                    return r.host && r.host->available < (2ULL << 30);
                  })}),
  };
}

// The same five decisions by hand, with the same state.
struct Floor {
  std::optional<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> previous;
  bool on = false;
  int level(const lv::Reading& r) {
    const auto& some = *(*r.local)[Resource::memory]->some;
    const auto& full = *(*r.system)[Resource::memory]->full;
    double avail = static_cast<double>(r.host->available) * 100.0 / static_cast<double>(r.host->total);
    double share_now = 0;
    if (previous) {
      double elapsed_us =
          std::chrono::duration<double, std::micro>(r.local->monotonic - previous->first).count();
      share_now = static_cast<double>(some.total_us - previous->second) / elapsed_us;
    }
    previous = {r.local->monotonic, some.total_us};
    on = on ? !(share_now <= 0.01) : share_now > 0.05;
    double usage =
        static_cast<double>(r.local_memory->usage) * 100.0 / static_cast<double>(*r.local_memory->limit);
    bool l[5] = {
        some.avg10.value() > 5.0 || avail < 60, on, usage >= 50 && avail<40, full.avg10.value()> 15.0,
        *r.local_memory->limit - r.local_memory->usage < (64ULL << 20) || r.host->available < (2ULL << 30)};
    int out = 0;
    for (int i = 0; i < 5; ++i)
      if (l[i]) out = i + 1;
    return out;
  }
};

}  // namespace

int main(int argc, char** argv) {
  long rounds = 20, iterations = 20000;
  for (int i = 1; i < argc; ++i) {
    if (bench::count_option(argc, argv, i, "--rounds", rounds, 1, 10000)) continue;
    if (bench::count_option(argc, argv, i, "--iterations", iterations, 1, 100000000)) continue;
    std::fprintf(stderr, "usage: %s [--rounds N] [--iterations N]\n", argv[0]);
    return 2;
  }
  bench::warn_about_build("levels_bench");
  std::vector<lv::Reading> input = readings(1000);
  lv::Manager manager(five_levels());
  int transitions = 0;
  for (int k = 1; k <= 5; ++k) manager.on_entered(k, [&](const lv::Transition&) { ++transitions; });
  Floor floor;
  std::vector<double> manager_ns, floor_ns;
  long sink = 0;
  for (long round = 0; round < rounds; ++round) {
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i)
      sink += manager.check_now(input[static_cast<std::size_t>(i) % input.size()]);
    auto middle = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i)
      sink += floor.level(input[static_cast<std::size_t>(i) % input.size()]);
    auto end = std::chrono::steady_clock::now();
    manager_ns.push_back(std::chrono::duration<double, std::nano>(middle - start).count() /
                         static_cast<double>(iterations));
    floor_ns.push_back(std::chrono::duration<double, std::nano>(end - middle).count() /
                       static_cast<double>(iterations));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  double m = median(manager_ns), f = median(floor_ns);
  std::printf(
      "levels tick (5 levels, mixed conditions, handlers on every entry): manager %.0f ns, hand-written "
      "floor %.0f ns, ratio %.2f\n",
      m, f, m / f);
  lv::Sampler sampler;
  std::vector<double> sample_ns;
  for (int i = 0; i < 200; ++i) {
    auto start = std::chrono::steady_clock::now();
    lv::Reading r = sampler.read();
    sample_ns.push_back(
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
    sink += r.host ? 1 : 0;
  }
  std::printf("Sampler::read (system + own cgroup PSI, meminfo, own memory): %.1f us\n",
              median(sample_ns) / 1000.0);

  // What a Driver does when a trigger fires: read, evaluate, call the entered handler. Measured
  // from the moment the event is handled to the handler's first line.
  bool hot = false;
  std::chrono::steady_clock::time_point entered_at;
  lv::Manager woken({lv::custom([&](const lv::Reading&) { return hot; })});
  woken.on_entered(1, [&](const lv::Transition&) { entered_at = std::chrono::steady_clock::now(); });
  std::vector<double> wake_ns;
  for (int i = 0; i < 200; ++i) {
    hot = true;
    auto event = std::chrono::steady_clock::now();
    woken.check_now(sampler.read());
    wake_ns.push_back(std::chrono::duration<double, std::nano>(entered_at - event).count());
    hot = false;
    woken.check_now(sampler.read());
  }
  std::printf("trigger event -> entered handler (Sampler::read + check_now, as Driver does): %.1f us\n",
              median(wake_ns) / 1000.0);
  std::fprintf(stderr, "(checksum %ld, %d transitions)\n", sink, transitions);
  return 0;
}
