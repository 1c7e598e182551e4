// The installed API as a consumer writes it: the umbrella header alone, and both namespaces
// used together (a name in both would be ambiguous here and fail to compile).
#include <pressure/pressure.hpp>

#include <type_traits>

#include <unistd.h>

#include <gtest/gtest.h>

using namespace pressure;
using namespace pressure::levels;

// A Monitor's ids are of three kinds that do not convert into one another.
static_assert(!std::is_convertible_v<TimerId, FdWatchId> && !std::is_convertible_v<FdWatchId, TimerId>);
static_assert(!std::is_convertible_v<TimerId, WatchId> && !std::is_convertible_v<WatchId, TimerId>);
static_assert(std::is_same_v<decltype(std::declval<Monitor&>().add_fd(0, {})), Result<FdWatchId>>);

TEST(PublicApi, BothNamespacesTogether) {
  // pressure::Condition, from admit.hpp and condition.hpp through the umbrella header.
  Result<Condition> text = parse_condition("memory full avg10<10");
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_TRUE(text->holds(5.0));
  std::vector<Condition> for_admit{*text};
  EXPECT_EQ(for_admit.front().to_string(), "memory full avg10<10%");

  // pressure::levels::LevelCondition, evaluated on a Reading.
  ConditionPtr level = custom([](const Reading& r) { return r.host.has_value(); });
  std::shared_ptr<LevelCondition> same = level;
  Reading reading;
  EXPECT_FALSE(same->holds(reading));
  reading.host = HostMemory{};
  EXPECT_TRUE(level->holds(reading));
}

TEST(PublicApi, FdWatchesAreRemovedByTheirOwnId) {
  Monitor monitor;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Result<FdWatchId> watch = monitor.add_fd(pipe_fds[0], [] {});
  ASSERT_TRUE(watch) << watch.error().message();
  Result<TimerId> timer = monitor.add_timer(std::chrono::hours(1), [] {});
  ASSERT_TRUE(timer) << timer.error().message();
  EXPECT_NE(watch->value, timer->value);
  EXPECT_TRUE(monitor.remove_fd(*watch));
  EXPECT_FALSE(monitor.remove_fd(*watch));
  EXPECT_TRUE(monitor.cancel_timer(*timer));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}
