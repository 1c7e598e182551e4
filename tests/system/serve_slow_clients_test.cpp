// `pressure serve` and the daemon's `listen` as users run them, beside 100 clients that trickle a
// request head a byte a second (reconnecting when cut): a scrape is still answered about as fast
// as on the idle server, and SIGTERM still stops the program promptly (it took 23 s for one slow
// client with the thread-pool server this replaced). Each program runs in a cgroup this test
// creates, and only it is signalled.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "support/daemon.hpp"
#include "support/live.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"

namespace pressure::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The port of "http://127.0.0.1:PORT/metrics" in `log` once the program says it serves; 0 before.
int served_port(const std::string& log) {
  std::size_t at = log.find("http://127.0.0.1:");
  return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + 17);
}

// Seconds until our child `pid` exits (it is left to be reaped by its TestCgroup), and its exit
// status; a negative time when it is still running after `timeout`.
double seconds_to_exit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  auto start = Clock::now();
  while (Clock::now() - start < timeout) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      *status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
      return std::chrono::duration<double>(Clock::now() - start).count();
    }
    std::this_thread::sleep_for(10ms);
  }
  return -1;
}

// Scrapes the program on `port` quiet, then beside 100 slow clients; stops it with SIGTERM while
// they trickle on. What it measured is printed for the record.
void serves_and_stops_beside_slow_clients(pid_t pid, int port, const std::string& needle, const char* what) {
  int failures = 0;
  double quiet = median_scrape(port, 9, 100ms, needle, &failures);
  ASSERT_EQ(failures, 0);
  SlowClients slow(port, 100);
  std::this_thread::sleep_for(2s);
  EXPECT_GE(slow.open_now(), 90);
  double attacked = median_scrape(port, 15, 300ms, needle, &failures);  // across their 5 s deadline
  EXPECT_EQ(failures, 0);
  EXPECT_LT(attacked, quiet * 10) << what << ": median scrape quiet " << quiet << " s, beside slow clients "
                                  << attacked << " s";
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = -1;
  double stopping = seconds_to_exit(pid, 30s, &status);
  EXPECT_GE(stopping, 0) << what << " still runs 30 s after SIGTERM";
  EXPECT_LT(stopping, 3.0) << what << " took " << stopping << " s to stop after SIGTERM";
  EXPECT_EQ(status, 0);
  std::printf(
      "%s: median scrape quiet %.5f s, beside 100 slow clients %.5f s (%d reconnects); SIGTERM to exit %.3f "
      "s\n",
      what, quiet, attacked, slow.reconnects(), stopping);
}

TEST(LiveServe, ScrapesAndStopsPromptlyBesideSlowClients) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("serve-slow");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  std::string log = scratch.path("serve.log");
  pid_t pid = group.spawn_command(
      {"/bin/sh", "-c",
       std::string("exec ") + PRESSURE_BINARY + " serve --listen 127.0.0.1:0 --no-cgroups 2>" + log},
      "/dev/null");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_until([&] { return served_port(read_file(log)) > 0; }, 10s)) << read_file(log);
  serves_and_stops_beside_slow_clients(pid, served_port(read_file(log)),
                                       "node_pressure_cpu_waiting_seconds_total ", "pressure serve");
}

TEST(LiveDaemon, ListenScrapesAndStopsPromptlyBesideSlowClients) {
  PRESSURE_REQUIRE_LIVE();
  TestCgroup group("daemon-slow");
  ASSERT_TRUE(group.ok());
  Scratch scratch;
  write_file(scratch.path("daemon.toml"),
             "[daemon]\nlisten = \"127.0.0.1:0\"\n\n[[rule]]\nname = \"watch\"\n"
             "target = { cgroup = \"" +
                 group.path() +
                 "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"1s\"\n"
                 "cooldown = \"60s\"\naction = \"log\"\n");
  std::string log = scratch.path("daemon.log");
  pid_t pid = group.spawn_command({"/bin/sh", "-c",
                                   std::string("exec ") + PRESSURE_BINARY + " daemon --config " +
                                       scratch.path("daemon.toml") + " 2>" + log},
                                  "/dev/null");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_until([&] { return served_port(read_file(log)) > 0; }, 10s)) << read_file(log);
  serves_and_stops_beside_slow_clients(pid, served_port(read_file(log)), "pressure_daemon_rules 1\n",
                                       "pressure daemon listen");
}

}  // namespace
}  // namespace pressure::test
