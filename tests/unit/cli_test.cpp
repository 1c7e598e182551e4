// `pressure show` as a user runs it: JSON shape, the table, and every exit code it can give.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/command.hpp"

namespace pressure {
namespace {

using nlohmann::json;
using test::fixture;
using test::run_pressure;

TEST(CliShow, JsonShapeOfDesign) {
  auto r = run_pressure({"--proc-root", fixture("kernel-5.13"), "show", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["target"], "system");
  EXPECT_TRUE(j["time"].is_number_float());
  EXPECT_EQ(j["cpu"]["some"]["avg10"], 0.22);
  EXPECT_EQ(j["cpu"]["some"]["avg60"], 0.77);
  EXPECT_EQ(j["cpu"]["some"]["total_us"], 1212742u);
  EXPECT_TRUE(j["cpu"]["some"]["total_us"].is_number_unsigned());
  EXPECT_EQ(j["cpu"]["full"]["total_us"], 0u);
  EXPECT_EQ(j["memory"]["full"]["avg300"], 0.02);
  EXPECT_TRUE(j["irq"].is_null());
  EXPECT_NE(j["unavailable"]["irq"].get<std::string>().find("CONFIG_IRQ_TIME_ACCOUNTING"), std::string::npos);
  EXPECT_FALSE(j.contains("window"));
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one object, one line";
}

TEST(CliShow, AbsentLineIsNullNeverZero) {
  auto r = run_pressure({"--proc-root", fixture("kernel-4.20"), "show", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_TRUE(j["cpu"]["full"].is_null());
  EXPECT_EQ(j["cpu"]["some"]["avg10"], 1.5);

  auto irq = run_pressure({"--proc-root", fixture("kernel-6.1-irq"), "show", "--json"});
  json k = json::parse(irq.out);
  EXPECT_TRUE(k["irq"]["some"].is_null());
  EXPECT_EQ(k["irq"]["full"]["total_us"], 37211u);
  EXPECT_TRUE(k["unavailable"].empty());
}

TEST(CliShow, MaximalTotalIsExact) {
  auto r = run_pressure({"--proc-root", fixture("maximal"), "show", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("\"total_us\":18446744073709551615"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"avg10\":100.0"), std::string::npos);
}

TEST(CliShow, IntervalLinesCarryTheWindow) {
  auto r = run_pressure(
      {"--proc-root", fixture("kernel-5.13"), "show", "--json", "--interval", "0.05", "--count", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    ++count;
    EXPECT_GT(j["window"]["seconds"].get<double>(), 0.04);
    EXPECT_EQ(j["window"]["cpu"]["some"], 0.0);  // a fixture's total never moves
    EXPECT_TRUE(j["window"]["irq"].is_null());
  }
  EXPECT_EQ(count, 3);
}

TEST(CliShow, HumanTable) {
  auto r = run_pressure({"--proc-root", fixture("kernel-4.20"), "show"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("system  ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("RESOURCE LINE  AVG10  AVG60 AVG300              TOTAL\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("cpu      some   1.50   0.75   0.20          0.123456s\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("cpu      full      -      -      -                  -\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("memory   full   8.76   5.17   3.38         43.135045s\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("irq      this kernel has no"), std::string::npos);
}

TEST(CliShow, HumanTableWithIntervalHasShare) {
  auto r =
      run_pressure({"--proc-root", fixture("kernel-5.13"), "show", "--interval", "0.05", "--count", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SHARE"), std::string::npos);
  EXPECT_NE(r.out.find("   0.00%\n"), std::string::npos) << r.out;
}

TEST(CliShow, CgroupAndPidTargets) {
  auto group = run_pressure({"--proc-root", fixture("proc-hybrid"), "--cgroup-root", fixture("cgroup-tree"),
                             "show", "--cgroup", "batch.slice", "--json"});
  ASSERT_EQ(group.exit_code, 0) << group.err;
  json g = json::parse(group.out);
  EXPECT_EQ(g["target"], "/batch.slice");
  EXPECT_EQ(g["memory"]["full"]["avg10"], 25.5);

  // Global flags after the subcommand work too.
  auto pid = run_pressure({"show", "--pid", "4242", "--json", "--proc-root", fixture("proc-hybrid"),
                           "--cgroup-root", fixture("cgroup-tree")});
  ASSERT_EQ(pid.exit_code, 0) << pid.err;
  json p = json::parse(pid.out);
  EXPECT_EQ(p["target"], "/batch.slice/job-1.scope");
  EXPECT_EQ(p["pid"], 4242);
}

struct ExitCase {
  std::vector<std::string> args;
  int code;
  const char* says;
};

void PrintTo(const ExitCase& c, std::ostream* os) {
  *os << "exit " << c.code << ":";
  for (const auto& a : c.args) *os << ' ' << a;
}

class CliExitCodes : public testing::TestWithParam<ExitCase> {};

TEST_P(CliExitCodes, CodeAndMessage) {
  auto args = GetParam().args;
  for (auto& a : args)
    if (a.rfind("@", 0) == 0) a = fixture(a.substr(1));
  auto r = run_pressure(args);
  EXPECT_EQ(r.exit_code, GetParam().code) << r.out << r.err;
  EXPECT_NE(r.err.find(GetParam().says), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Show, CliExitCodes,
    testing::Values(
        // 2: usage
        ExitCase{{"show", "--bogus"}, 2, "--bogus"},
        ExitCase{{}, 2, "a command is required: show, watch, predict"},
        ExitCase{{"bogus"}, 2, "'bogus' is not a command; the commands are show, watch"},
        ExitCase{{"--proc-root", "/x", "sho"}, 2, "'sho' is not a command"},
        ExitCase{{"show", "--count", "3"}, 2, "--count requires --interval"},
        ExitCase{{"show", "--interval", "-1"}, 2, "--interval"},
        ExitCase{{"show", "--interval", "abc"}, 2, "--interval"},
        ExitCase{{"show", "--cgroup", "a", "--pid", "1"}, 2, "excludes"},
        ExitCase{{"--cgroup-root", "@cgroup-tree", "show", "--cgroup", "../x"}, 2, ".."},
        // One selector syntax for every program's --cgroup: the same refusal, naming the selector.
        ExitCase{{"--cgroup-root", "@cgroup-tree", "top", "--count", "1", "--cgroup", "../x"},
                 2,
                 "bad cgroup selector '../x'"},
        ExitCase{{"--cgroup-root", "@cgroup-tree", "serve", "--listen", "127.0.0.1:0", "--cgroup", "../x"},
                 2,
                 "bad cgroup selector '../x'"},
        ExitCase{{"--cgroup-root", "@cgroup-tree", "record", "--count", "1", "--db", "/nonexistent/h.db",
                  "--cgroup", "a/../b"},
                 2,
                 "bad cgroup selector 'a/../b'"},
        // 3: unsupported here
        ExitCase{{"--proc-root", "@psi-disabled", "show"}, 3, "psi=1"},
        ExitCase{{"--proc-root", "@psi-disabled", "show", "--json"}, 3, "CONFIG_PSI"},
        ExitCase{{"--proc-root", "@proc-hybrid", "--cgroup-root", "@cgroup-tree", "show", "--cgroup",
                  "psi-off.slice"},
                 3,
                 "cgroup.pressure"},
        // 4: runtime
        ExitCase{{"--proc-root", "/nonexistent", "show"}, 4, "the proc root /nonexistent does not exist"},
        ExitCase{{"--proc-root", "@malformed", "show"}, 4, "pressure/memory line 2"},
        ExitCase{{"--proc-root", "@malformed", "show", "--json"}, 4, "avg10 is not a percentage"},
        ExitCase{{"--proc-root", "@proc-hybrid", "--cgroup-root", "@cgroup-tree", "show", "--cgroup", "nope"},
                 4,
                 "cgroup /nope does not exist"},
        ExitCase{{"--proc-root", "@proc-hybrid", "--cgroup-root", "@cgroup-tree", "show", "--pid", "999999"},
                 4,
                 "no process 999999"}));

// Absurd numbers are refused where they are read, naming the flag and the range, so no loop is
// left that never sleeps or sleeps forever, and no pid is read as octal or hex.
INSTANTIATE_TEST_SUITE_P(
    AbsurdNumbers, CliExitCodes,
    testing::Values(ExitCase{{"show", "--interval", "nan", "--count", "1"},
                             2,
                             "--interval: must be a number of seconds from 0.01 to 86400, not 'nan'"},
                    ExitCase{{"show", "--interval", "inf"},
                             2,
                             "--interval: must be a number of seconds from 0.01 to 86400, not 'inf'"},
                    ExitCase{{"show", "--interval", "1e300"}, 2, "from 0.01 to 86400, not '1e300'"},
                    ExitCase{{"show", "--interval", "0.001"}, 2, "from 0.01 to 86400"},
                    ExitCase{{"show", "--interval", " 1"}, 2, "--interval: must be a number of seconds"},
                    ExitCase{{"top", "--interval", "nan", "--count", "1"},
                             2,
                             "--interval: must be a number of seconds from 0.05 to 3600"},
                    ExitCase{{"record", "--interval", "nan", "--count", "1", "--db", "/nonexistent/h.db"},
                             2,
                             "--interval: must be a number of seconds from 0.01 to 86400"},
                    ExitCase{{"record", "--interval", "-1e300", "--count", "1", "--db", "/nonexistent/h.db"},
                             2,
                             "not '-1e300'"},
                    ExitCase{{"predict", "--sample", "nan"},
                             2,
                             "--sample: must be a number of seconds from 0.01 to 3600, not 'nan'"},
                    ExitCase{{"predict", "--sample", "1e300"}, 2, "--sample: must be a number of seconds"},
                    ExitCase{{"watch", "cpu some 1s/2s", "--timeout", "nan"},
                             2,
                             "--timeout: must be a number of seconds from 0.001 to 31536000"},
                    ExitCase{{"watch", "cpu some 1s/2s", "--timeout", "1e300"},
                             2,
                             "--timeout: must be a number of seconds"},
                    ExitCase{{"show", "--pid", "010"},
                             2,
                             "--pid: must be a process id in decimal, from 1 to 4194304, not '010'"},
                    ExitCase{{"show", "--pid", "0x10"}, 2, "--pid: must be a process id in decimal"},
                    ExitCase{{"show", "--pid", "+5"}, 2, "--pid: must be a process id in decimal"},
                    ExitCase{{"show", "--pid", "0"}, 2, "--pid: must be a process id in decimal"},
                    ExitCase{{"show", "--pid", "4194305"}, 2, "not '4194305'"},
                    ExitCase{{"admit", "--pid", "1e3", "cpu some avg10<1"},
                             2,
                             "--pid: must be a process id in decimal"}));

TEST(CliShow, MalformedStillPrintsTheRest) {
  auto r = run_pressure({"--proc-root", fixture("malformed"), "show", "--json"});
  EXPECT_EQ(r.exit_code, 4);
  json j = json::parse(r.out);
  EXPECT_TRUE(j["memory"].is_null());
  EXPECT_EQ(j["cpu"]["some"]["total_us"], 1212742u);
}

TEST(CliShow, HelpIsSuccess) {
  auto r = run_pressure({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("show"), std::string::npos);
  auto s = run_pressure({"show", "--help"});
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_NE(s.out.find("--interval"), std::string::npos);
}

}  // namespace
}  // namespace pressure

namespace pressure {
namespace {

using nlohmann::json;
using test::fixture;
using test::run_pressure;

TEST(CliWatch, NoEventBeforeTimeoutIsExitOne) {
  auto r = run_pressure({"--proc-root", fixture("kernel-5.13"), "watch", "memory full 100ms/1s", "--mode",
                         "polling", "--timeout", "0.4"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(CliWatch, AutomaticOnPlainFilesSaysItPolls) {
  auto r =
      run_pressure({"--proc-root", fixture("kernel-5.13"), "watch", "cpu some 10%/2s", "--timeout", "0.2"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("notice:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("polling"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    WatchPredict, CliExitCodes,
    testing::Values(ExitCase{{"watch"}, 2, "spec"},
                    ExitCase{{"watch", "memory full 2s/1s"}, 2, "longer than the window"},
                    ExitCase{{"watch", "memory full 1s/2s", "--mode", "fast"}, 2, "--mode"},
                    ExitCase{{"watch", "memory full 1s/2s", "--count", "0"}, 2, "--count"},
                    ExitCase{{"watch", "memory full 1s/2s", "--exec"}, 2, "--exec needs a command"},
                    ExitCase{{"show", "--exec", "--", "true"}, 2, "only 'watch' takes it"},
                    ExitCase{{"--proc-root", "@psi-disabled", "watch", "memory full 1s/2s"}, 3, "psi=1"},
                    ExitCase{{"--proc-root", "@kernel-4.20", "watch", "cpu full 1s/2s", "--mode", "polling"},
                             3,
                             "no 'full' line for cpu"},
                    ExitCase{{"--proc-root", "@kernel-5.13", "watch", "irq full 1s/2s"}, 3, "irq"},
                    ExitCase{{"--proc-root", "@kernel-5.13", "watch", "cpu some 1s/2s", "--mode", "kernel"},
                             3,
                             "not a kernel pressure file"},
                    ExitCase{{"--proc-root", "@proc-hybrid", "--cgroup-root", "@cgroup-tree", "watch",
                              "--cgroup", "nope", "cpu some 1s/2s"},
                             4,
                             "cgroup /nope does not exist"},
                    ExitCase{{"predict", "--below", "avg10=0.001"}, 2, "at most two decimals"},
                    ExitCase{{"predict", "--below", "avg7=1"}, 2, "unknown average"},
                    ExitCase{{"predict", "--sample", "0"}, 2, "--sample"},
                    ExitCase{{"--proc-root", "@psi-disabled", "predict", "--sample", "0.01"}, 3, "psi=1"}));

TEST(CliPredict, JsonFromFixture) {
  auto r = run_pressure({"--proc-root", fixture("kernel-4.20"), "predict", "--json", "--sample", "0.05",
                         "--below", "avg10=1.00"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["target"], "system");
  EXPECT_EQ(j["below"]["avg10"], 1.0);
  EXPECT_FALSE(j["below"].contains("avg60"));
  // memory full avg10 8.76 -> below 1.00: the reference's 10 % -> 1 % is 12 updates.
  auto m = j["memory"]["full"];
  EXPECT_EQ(m["avg10"], 8.76);
  EXPECT_EQ(m["accruing"], false);
  EXPECT_EQ(m["never"], false);
  EXPECT_GE(m["updates_max"].get<int>(), 10);
  EXPECT_LE(m["updates_max"].get<int>(), 12);
  EXPECT_GT(m["seconds"].get<double>(), 15.0);
  EXPECT_LE(m["seconds_min"].get<double>(), m["seconds"].get<double>());
  EXPECT_GE(m["seconds_max"].get<double>(), m["seconds"].get<double>());
  EXPECT_EQ(j["io"]["some"]["below_now"], true);
  EXPECT_TRUE(j["cpu"]["full"].is_null());
  EXPECT_TRUE(j["irq"].is_null());
  EXPECT_TRUE(j["unavailable"].contains("irq"));
}

TEST(CliPredict, Table) {
  auto r = run_pressure({"--proc-root", fixture("kernel-4.20"), "predict", "--sample", "0.05"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("below avg10=0.01,avg60=0.03"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("io       some   0.00   0.00   0.00    0.0%  below now"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("memory   full   8.76"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pressure
