// The exporter embedded as the daemon will embed it: a reading loop on its own thread keeps its
// cadence and its readings while a storm of scrapes hits the server in the same process.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include <pressure/pressure.hpp>

#include "exporter/server.hpp"
#include "support/live.hpp"

namespace pressure::exporter {
namespace {

using Clock = std::chrono::steady_clock;

// Reads `path` every `period` until stopped; records the time between reads and checks that
// every reading succeeded and cpu `some` never went back.
struct ReadingLoop {
  ReadingLoop(const std::string& path, Clock::duration period)
      : m_reader(Target::cgroup(path)), m_period(period) {}

  void run() {
    auto next = Clock::now();
    Clock::time_point previous{};
    while (!stop) {
      next += m_period;
      std::this_thread::sleep_until(next);
      Result<Snapshot> s = m_reader.snapshot();
      auto now = Clock::now();
      if (!s || !(*s)[Resource::cpu] || !(*s)[Resource::cpu]->some) {
        ++failures;
        continue;
      }
      std::uint64_t total = (*s)[Resource::cpu]->some->total_us;
      if (total < m_last_total) ++went_back;
      m_last_total = total;
      if (previous != Clock::time_point{}) {
        std::lock_guard lock(m_mutex);
        m_intervals.push_back(std::chrono::duration<double>(now - previous).count());
      }
      previous = now;
    }
  }

  // Median interval since the last call, and forgets them.
  double take_median(std::size_t* count) {
    std::lock_guard lock(m_mutex);
    std::vector<double> v;
    v.swap(m_intervals);
    *count = v.size();
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> went_back{0};

 private:
  Reader m_reader;
  Clock::duration m_period;
  std::uint64_t m_last_total = 0;
  std::mutex m_mutex;
  std::vector<double> m_intervals;
};

TEST(LiveServe, ReadingLoopUnaffectedByScrapeStorm) {
  PRESSURE_REQUIRE_LIVE();
  test::TestCgroup group("serve");
  ASSERT_TRUE(group.ok());
  ASSERT_GT(group.spawn_spinner(), 0);

  ExporterOptions options;  // the system and every top-level group, ours among them
  Exporter exporter(std::move(options));
  Result<MetricsServer> server = MetricsServer::listen("127.0.0.1:0", exporter);
  ASSERT_TRUE(server) << server.error().message();
  server->start();
  int port = server->address().port;

  ReadingLoop loop(group.path(), std::chrono::milliseconds(50));
  std::thread reader([&] { loop.run(); });

  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::size_t quiet_reads = 0;
  double quiet = loop.take_median(&quiet_reads);

  std::atomic<int> good{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t)
    clients.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(t % 2 == 0);
      if (t % 3 == 0) client.set_default_headers({{"Accept-Encoding", "gzip"}});
      for (int i = 0; i < 1000; ++i) {
        auto r = client.Get("/metrics");
        bool ok = r && r->status == 200 &&
                  r->body.find("container_pressure_cpu_waiting_seconds_total{cgroup=\"" + group.path() +
                               "\"}") != std::string::npos;
        ++(ok ? good : bad);
      }
    });
  for (std::thread& c : clients) c.join();
  std::size_t storm_reads = 0;
  double storm = loop.take_median(&storm_reads);
  loop.stop = true;
  reader.join();
  server->stop();

  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(good.load(), 6000);
  EXPECT_EQ(loop.failures.load(), 0);
  EXPECT_EQ(loop.went_back.load(), 0);
  ASSERT_GT(quiet_reads, 10u);
  ASSERT_GT(storm_reads, 3u) << "the storm was too short to say";
  // The loop's typical period during the storm is within half again of its quiet one.
  EXPECT_LT(storm, quiet * 1.5) << "median interval quiet " << quiet << " s (" << quiet_reads
                                << " reads), storm " << storm << " s (" << storm_reads << " reads)";
  std::printf(
      "reading loop: median interval quiet %.4f s (%zu reads), during %d scrapes %.4f s (%zu reads)\n", quiet,
      quiet_reads, good.load(), storm, storm_reads);
}

}  // namespace
}  // namespace pressure::exporter
