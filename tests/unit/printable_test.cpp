// Outside text (cgroup names, paths) never reaches a terminal or a log raw: the pure escaper, and
// the programs that print names (show, top, history, error messages) over a tree whose group
// names carry a newline and terminal escapes.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/printable.hpp"
#include "policy/engine.hpp"
#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace pressure {
namespace {

namespace fs = std::filesystem;
using core::printable;

// The daemon's JSON log and notify lines: valid JSON in valid UTF-8 on one line, whatever a name
// holds; a byte that is not UTF-8 becomes U+FFFD, control characters (C1 included) are escaped.
TEST(JsonString, AlwaysValidUtf8OnOneLine) {
  struct Row {
    std::string in;
    std::string decoded;
  };
  const std::string r = "\xef\xbf\xbd";  // U+FFFD
  const std::vector<Row> rows = {
      {"plain.slice", "plain.slice"},
      {"/evil\n<4>kill", "/evil\n<4>kill"},
      {"quote\" back\\slash", "quote\" back\\slash"},
      {std::string("nul\0esc\x1b[2J del\x7f", 16), std::string("nul\0esc\x1b[2J del\x7f", 16)},
      {"c1 \xc2\x9b"
       "31m",
       "c1 \xc2\x9b"
       "31m"},
      {"bad \xff\xfe end", "bad " + r + r + " end"},
      {"cut \xe6\x97", "cut " + r + r},
      {"overlong \xc0\xaf", "overlong " + r + r},
      {"surrogate \xed\xa0\x80", "surrogate " + r + r + r},
      {"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82", "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x99\x82"},
  };
  for (const Row& row : rows) {
    std::string json = policy::json_string(row.in);
    for (unsigned char c : json) EXPECT_FALSE(c < 0x20 || c == 0x7f) << printable(json);
    EXPECT_EQ(json.find("\xc2\x9b"), std::string::npos) << printable(json);
    nlohmann::json parsed;
    ASSERT_NO_THROW(parsed = nlohmann::json::parse(json)) << printable(json);  // it checks the UTF-8
    EXPECT_EQ(parsed.get<std::string>(), row.decoded) << printable(json);
  }
}

TEST(Printable, ControlCharactersAndBrokenUtf8AreEscaped) {
  EXPECT_EQ(printable("/evil\n<4>kill"), "/evil\\x0a<4>kill");
  EXPECT_EQ(printable("\x1b[2J\x1b]0;title\x07"), "\\x1b[2J\\x1b]0;title\\x07");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("tab\there\rdel\x7f"), "tab\\x09here\\x0ddel\\x7f");
  EXPECT_EQ(printable("c1 \xc2\x9b"
                      "31m"),
            "c1 \\xc2\\x9b31m")
      << "U+009B, the 8-bit CSI";
  EXPECT_EQ(printable("bad \xff\xfe and cut \xe6\x97"), "bad \\xff\\xfe and cut \\xe6\\x97");
  EXPECT_EQ(printable("overlong \xc0\xaf \xe0\x80\xaf"), "overlong \\xc0\\xaf \\xe0\\x80\\xaf");
  EXPECT_EQ(printable("surrogate \xed\xa0\x80"), "surrogate \\xed\\xa0\\x80");
}

TEST(Printable, PrintableTextIsUnchanged) {
  for (const char* text : {"/system.slice/docker-3f2a.scope", "dev-disk-by\\x2duuid.device", "caf\xc3\xa9",
                           "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x90\xa7 penguin", ""})
    EXPECT_EQ(printable(text), text);
}

class ForgedNames : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(m_temp.ok());
    fs::copy(test::fixture("cgroup-tree") + "/system.slice", m_root + "/" + k_evil);
    std::ofstream(m_root + "/cgroup.procs");
  }
  static constexpr const char* k_evil = "evil\n<4>kill\x1b[2J";
  static constexpr const char* k_shown = "/evil\\x0a<4>kill\\x1b[2J";
  test::TempDir m_temp{"printable-test"};
  const std::string& m_root = m_temp.path();
};

TEST_F(ForgedNames, ShowTopHistoryAndErrorsPrintThemEscaped) {
  std::string proc = test::fixture("kernel-6.1-irq");
  auto show = test::run_pressure({"--proc-root", proc, "--cgroup-root", m_root, "show", "--cgroup", k_evil});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.rfind(k_shown, 0), 0u) << show.out;
  EXPECT_EQ(show.out.find('\x1b'), std::string::npos);

  auto top = test::run_pressure(
      {"--proc-root", proc, "--cgroup-root", m_root, "top", "--interval", "0.05", "--count", "1"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_NE(top.out.find(k_shown), std::string::npos) << top.out;
  EXPECT_EQ(top.out.find("\n<4>kill"), std::string::npos) << top.out;

  std::string db = m_root + "/h.db";
  auto rec = test::run_pressure({"--proc-root", proc, "--cgroup-root", m_root, "record", "--db", db,
                                 "--count", "2", "--interval", "0.05"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  auto history = test::run_pressure({"history", "--db", db, "--all"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find(k_shown), std::string::npos) << history.out;
  EXPECT_EQ(history.out.find("\n<4>kill"), std::string::npos) << history.out;

  // An error message naming the group: one line on stderr, escaped.
  fs::remove(m_root + "/" + k_evil + "/cpu.pressure");
  fs::create_directory(m_root + "/" + k_evil + "/cpu.pressure");
  auto error = test::run_pressure(
      {"--proc-root", proc, "--cgroup-root", m_root, "show", "--json", "--cgroup", k_evil});
  EXPECT_NE(error.err.find("\\x0a<4>kill\\x1b[2J"), std::string::npos) << error.err;
  EXPECT_EQ(error.err.find("\n<4>kill"), std::string::npos) << error.err;
}

// A group name that is not UTF-8: `show --json` still prints valid JSON (it ended in "internal
// error" when nlohmann's dump() threw), the bad byte as U+FFFD.
TEST_F(ForgedNames, JsonOfANameThatIsNotUtf8IsValid) {
  const std::string bad = "bad\xffname";
  fs::copy(test::fixture("cgroup-tree") + "/system.slice", m_root + "/" + bad);
  auto show = test::run_pressure({"--proc-root", test::fixture("kernel-6.1-irq"), "--cgroup-root", m_root,
                                  "show", "--json", "--cgroup", bad});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json parsed;
  ASSERT_NO_THROW(parsed = nlohmann::json::parse(show.out)) << printable(show.out);
  EXPECT_EQ(parsed["target"], "/bad\xef\xbf\xbdname");
}

}  // namespace
}  // namespace pressure
