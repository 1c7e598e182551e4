// macOS's level through an injected sysctl reader, so the mapping is tested on Linux too.
#include <gtest/gtest.h>

#include "sys/platform.hpp"

namespace pressure::sys {
namespace {

SysctlReader returning(std::int64_t value, std::string* asked) {
  return [value, asked](const char* name) -> Result<std::int64_t> {
    *asked = name;
    return value;
  };
}

TEST(MacMemoryLevel, MapsTheSysctlValues) {
  std::string asked;
  EXPECT_EQ(*read_memory_level(returning(1, &asked)), MemoryLevel::normal);
  EXPECT_EQ(asked, "kern.memorystatus_vm_pressure_level");
  EXPECT_EQ(*read_memory_level(returning(2, &asked)), MemoryLevel::warn);
  EXPECT_EQ(*read_memory_level(returning(4, &asked)), MemoryLevel::critical);
}

TEST(MacMemoryLevel, UnknownValueIsAnError) {
  std::string asked;
  auto level = read_memory_level(returning(3, &asked));
  ASSERT_FALSE(level);
  EXPECT_EQ(level.error().code(), Errc::malformed);
  EXPECT_NE(level.error().message().find("is 3"), std::string::npos);
}

TEST(MacMemoryLevel, SysctlFailurePassesThrough) {
  auto level = read_memory_level([](const char*) -> Result<std::int64_t> {
    return fail(Errc::unsupported, "sysctl kern.memorystatus_vm_pressure_level: No such file or directory");
  });
  ASSERT_FALSE(level);
  EXPECT_EQ(level.error().code(), Errc::unsupported);
}

}  // namespace
}  // namespace pressure::sys
