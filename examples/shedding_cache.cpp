// A program that holds a cache it can rebuild, and sheds it under memory pressure: half at
// level 1, all of it at level 2. One JSON line per transition on stdout.
//
//   shedding_cache [--mib N] [--seconds S]
//
// Level 1: more than 10 % of the last tick's wall time with some task of this process's cgroup
// stalled on memory, until that falls under 2 %. Level 2: more than 30 % "full" stall, until
// under 5 %. A kernel trigger ("memory some 10%/2s" on the own cgroup) wakes the manager at once;
// otherwise it looks every 250 ms.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pressure/pressure.hpp>

namespace {

using namespace std::chrono_literals;
namespace lv = pressure::levels;

pressure::Monitor* g_monitor = nullptr;
extern "C" void on_stop(int) {
  if (g_monitor != nullptr) g_monitor->stop();
}

class Cache {
 public:
  explicit Cache(std::size_t mib) {
    for (std::size_t i = 0; i < mib; ++i) {
      auto block = std::make_unique<char[]>(1 << 20);
      std::memset(block.get(), static_cast<int>(i), 1 << 20);  // really resident
      m_blocks.push_back(std::move(block));
    }
  }
  void drop_half() { m_blocks.resize(m_blocks.size() / 2); }
  void drop_all() { m_blocks.clear(); }
  std::size_t mib() const { return m_blocks.size(); }

 private:
  std::vector<std::unique_ptr<char[]>> m_blocks;
};

void print(const char* event, const lv::Transition& t, const Cache& cache) {
  double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::printf("{\"time\":%.3f,\"event\":\"%s\",\"level\":%d,\"from\":%d,\"to\":%d,\"cache_mib\":%zu}\n", now,
              event, t.level, t.from, t.to, cache.mib());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mib = 16;
  double seconds = 0;  // 0: until SIGTERM/SIGINT
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--mib")
      mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--seconds")
      seconds = std::strtod(argv[i + 1], nullptr);
    else {
      std::fprintf(stderr, "usage: shedding_cache [--mib N] [--seconds S]\n");
      return 2;
    }
  }
  Cache cache(mib);
  using pressure::Line;
  using pressure::Resource;
  lv::Manager manager({
      lv::hysteresis(lv::psi_share_above(Resource::memory, Line::some, 0.10),
                     lv::negate(lv::psi_share_above(Resource::memory, Line::some, 0.02))),
      lv::hysteresis(lv::psi_share_above(Resource::memory, Line::full, 0.30),
                     lv::negate(lv::psi_share_above(Resource::memory, Line::full, 0.05))),
  });
  manager.on_entered(1, [&](const lv::Transition& t) {
    cache.drop_half();
    print("entered", t, cache);
  });
  manager.on_entered(2, [&](const lv::Transition& t) {
    cache.drop_all();
    print("entered", t, cache);
  });
  for (int level : {1, 2}) manager.on_left(level, [&](const lv::Transition& t) { print("left", t, cache); });
  manager.on_normal([&](const lv::Transition& t) { print("normal", t, cache); });
  manager.on_entered(2, lv::trim_malloc());

  lv::SamplerOptions sampling;
  sampling.system_psi = false;
  sampling.host = false;
  lv::Sampler sampler(sampling);
  pressure::Monitor monitor;
  lv::Driver driver(
      manager, sampler, monitor,
      lv::DriverOptions{
          250ms, {{pressure::Target::self(), *pressure::parse_trigger_spec("memory some 10%/2s")}}, {}});
  auto started = driver.start();
  if (!started) {
    std::fprintf(stderr, "shedding_cache: %s\n", started.error().message().c_str());
    return 4;
  }
  for (const std::string& notice : *started)
    std::fprintf(stderr, "shedding_cache: notice: %s\n", notice.c_str());
  std::printf("{\"event\":\"ready\",\"cache_mib\":%zu}\n", cache.mib());
  std::fflush(stdout);
  g_monitor = &monitor;
  std::signal(SIGTERM, on_stop);
  std::signal(SIGINT, on_stop);
  if (seconds > 0)
    if (!monitor.add_timer(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds)),
            [&] { monitor.stop(); }))
      return 4;
  auto ran = monitor.run();
  if (!ran) {
    std::fprintf(stderr, "shedding_cache: %s\n", ran.error().message().c_str());
    return 4;
  }
  return 0;
}
