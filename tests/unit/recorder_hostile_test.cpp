// `pressure record` against careless and hostile situations: a second recorder on the same file,
// a resource whose file is malformed.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "recorder/store.hpp"
#include "support/command.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace pressure {
namespace {

namespace fs = std::filesystem;

class RecorderHostile : public testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(m_temp.ok()); }
  test::TempDir m_temp{"recorder-hostile"};
  const std::string& m_dir = m_temp.path();
};

// The first recorder holds the file; a second is refused at once with a sentence (not SQL), and
// the first records every tick it was asked for.
TEST_F(RecorderHostile, ASecondRecorderOnTheSameFileIsRefused) {
  std::string db = m_dir + "/h.db";
  auto first = recorder::Store::open(db, recorder::Store::Mode::write);
  ASSERT_TRUE(first) << first.error().message();
  auto second = test::run_pressure(
      {"--proc-root", test::fixture("kernel-6.1-irq"), "record", "--db", db, "--count", "1"});
  EXPECT_EQ(second.exit_code, 4) << second.err;
  EXPECT_NE(second.err.find(db + ": another `pressure record` is writing it; one recorder per file"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(second.err.find("CREATE"), std::string::npos) << second.err;
  auto reader = recorder::Store::open(db, recorder::Store::Mode::read);
  EXPECT_TRUE(reader) << "reading beside the recorder is fine: " << reader.error().message();
  first = tl::unexpected(Error(Errc::system, "closed"));  // the first recorder stops
  auto after = test::run_pressure(
      {"--proc-root", test::fixture("kernel-6.1-irq"), "record", "--db", db, "--count", "1"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
}

// A malformed resource is said once, not skipped in silence; the rest is recorded.
TEST_F(RecorderHostile, AMalformedResourceIsReportedOnceAndTheRestRecorded) {
  std::string db = m_dir + "/h.db";
  auto r = test::run_pressure({"--proc-root", test::fixture("malformed"), "record", "--db", db, "--count",
                               "3", "--interval", "0.05"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string says = "pressure: system: " + test::fixture("malformed") +
                     "/pressure/memory line 2: avg10 is not a percentage";
  std::size_t at = r.err.find(says);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(says, at + 1), std::string::npos) << "once, not per tick: " << r.err;
  EXPECT_NE(r.err.find("left out of the history while it fails"), std::string::npos) << r.err;
  auto history = test::run_pressure({"history", "--db", db, "--all"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("cpu      some"), std::string::npos) << history.out;
  EXPECT_EQ(history.out.find("memory"), std::string::npos) << history.out;
}

}  // namespace
}  // namespace pressure
