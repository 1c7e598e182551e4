// The Manager driven by a real Monitor and Sampler; the built-in handlers.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>

#include <pressure/levels.hpp>

#include "sys/report.hpp"

namespace pressure::levels {
namespace {

using namespace std::chrono_literals;

TEST(Sampler, ReadsThisMachine) {
  Sampler sampler;
  Reading r = sampler.read();
  ASSERT_TRUE(r.host);
  EXPECT_GT(r.host->total, r.host->available);
  ASSERT_TRUE(r.local_memory);
  EXPECT_GT(r.local_memory->usage, 0u);
  if (::access("/proc/pressure/memory", R_OK) == 0) {
    ASSERT_TRUE(r.system);
    EXPECT_TRUE((*r.system)[Resource::memory]);
  }
}

TEST(Sampler, WhatCannotBeReadStaysEmpty) {
  SamplerOptions o;
  o.reader.proc_root = "/nonexistent";
  Sampler sampler(o);
  Reading r = sampler.read();
  EXPECT_FALSE(r.system);
  EXPECT_FALSE(r.local);
  EXPECT_FALSE(r.host);
  EXPECT_FALSE(r.local_memory);
}

TEST(Driver, TicksTheManagerOnTheMonitorsLoop) {
  std::atomic<bool> hot{false};
  Manager manager({custom([&](const Reading& r) { return hot.load() && r.host.has_value(); })});
  std::atomic<int> entered{0}, normal{0};
  manager.on_entered(1, [&](const Transition&) { ++entered; });
  manager.on_normal([&](const Transition&) { ++normal; });
  Sampler sampler;
  Monitor monitor;
  Driver driver(manager, sampler, monitor, DriverOptions{20ms, {}, {}});
  ASSERT_TRUE(driver.start());
  std::thread loop([&] { ASSERT_TRUE(monitor.run()); });
  auto wait_for = [](auto predicate) {
    for (int i = 0; i < 200 && !predicate(); ++i) std::this_thread::sleep_for(10ms);
    return predicate();
  };
  EXPECT_TRUE(wait_for([&] { return driver.ticks() >= 3; }));
  hot = true;
  EXPECT_TRUE(wait_for([&] { return entered.load() == 1; }));
  hot = false;
  EXPECT_TRUE(wait_for([&] { return normal.load() == 1; }));
  driver.stop();
  std::uint64_t after_stop = driver.ticks();
  std::this_thread::sleep_for(100ms);
  EXPECT_LE(driver.ticks(), after_stop + 1);
  monitor.stop();
  loop.join();
}

TEST(MemoryReport, SignalWritesTheReportOnTheLoop) {
  std::string path = "/tmp/pressure-report-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  Monitor monitor;
  auto report = MemoryReport::install(monitor, SIGUSR2, path);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_FALSE(MemoryReport::install(monitor, SIGUSR1, path)) << "one per process";
  std::thread loop([&] { ASSERT_TRUE(monitor.run()); });
  ::raise(SIGUSR2);
  for (int i = 0; i < 200 && (*report)->written() == 0; ++i) std::this_thread::sleep_for(10ms);
  monitor.stop();
  loop.join();
  EXPECT_EQ((*report)->written(), 1u);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(path.c_str());
  EXPECT_NE(text.str().find("VmRSS:"), std::string::npos);
  EXPECT_NE(text.str().find("/proc/self/smaps_rollup"), std::string::npos);
  EXPECT_NE(text.str().find("<malloc version="), std::string::npos) << "malloc_info";
  report->reset();
  EXPECT_TRUE(MemoryReport::install(monitor, SIGUSR2, path)) << "uninstalled with the object";
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool k_sanitized = true;  // the sanitizers' allocators do not trim
#else
constexpr bool k_sanitized = false;
#endif

TEST(TrimMalloc, GivesFreedHeapBack) {
  std::vector<void*> blocks;
  for (int i = 0; i < 20000; ++i) blocks.push_back(std::malloc(1024));
  void* pin = std::malloc(1024);  // keeps the top of the heap, so free() alone cannot trim it
  for (void* b : blocks) std::free(b);
  bool released = sys::trim_malloc();
  std::free(pin);
  if (!k_sanitized) {
    EXPECT_TRUE(released);
  }
  Transition t;
  Reading r;
  t.reading = &r;
  trim_malloc()(t);  // the handler form is callable on any transition
}

}  // namespace
}  // namespace pressure::levels
