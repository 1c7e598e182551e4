#include <gtest/gtest.h>

#include "core/cgroup_path.hpp"

namespace pressure::core {
namespace {

TEST(CgroupPath, Normalises) {
  const std::string root = "/sys/fs/cgroup/unified";
  EXPECT_EQ(*normalize_cgroup_path("batch.slice", root), "/batch.slice");
  EXPECT_EQ(*normalize_cgroup_path("/batch.slice/", root), "/batch.slice");
  EXPECT_EQ(*normalize_cgroup_path("a//b/./c", root), "/a/b/c");
  EXPECT_EQ(*normalize_cgroup_path("/", root), "/");
  EXPECT_EQ(*normalize_cgroup_path("", root), "/");
  EXPECT_EQ(*normalize_cgroup_path("/sys/fs/cgroup/unified/a/b", root), "/a/b");
  EXPECT_EQ(*normalize_cgroup_path("/sys/fs/cgroup/unified", root + "/"), "/");
  // A sibling that merely shares the prefix is not under the mount.
  EXPECT_EQ(*normalize_cgroup_path("/sys/fs/cgroup/unifiedx", root), "/sys/fs/cgroup/unifiedx");
}

TEST(CgroupPath, RefusesToLeaveTheMount) {
  auto up = normalize_cgroup_path("a/../../etc", "/sys/fs/cgroup");
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace pressure::core
