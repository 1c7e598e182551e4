// Conditions as people write them for `admit` and daemon rules, and `pressure admit` on fixtures.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pressure/admit.hpp>
#include <pressure/condition.hpp>

#include "support/command.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;

TEST(Condition, ParsesAveragesAndWindows) {
  auto c = parse_condition("memory full avg10<10");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->resource, Resource::memory);
  EXPECT_EQ(c->line, Line::full);
  EXPECT_EQ(c->metric, Condition::Metric::avg10);
  EXPECT_EQ(c->op, Condition::Op::less);
  EXPECT_EQ(c->percent, 10.0);
  EXPECT_EQ(c->to_string(), "memory full avg10<10%");

  auto w = parse_condition("cpu some 2s<20%");
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(w->metric, Condition::Metric::window);
  EXPECT_EQ(w->window, 2s);
  EXPECT_EQ(w->percent, 20.0);
  EXPECT_EQ(w->subject(), "cpu some 2s");

  auto spaced = parse_condition("  io   some avg300 >= 12.5 % ");
  ASSERT_TRUE(spaced) << spaced.error().message();
  EXPECT_EQ(spaced->op, Condition::Op::greater_equal);
  EXPECT_EQ(spaced->percent, 12.5);
  EXPECT_EQ(parse_condition("cpu some 500ms<=3")->window, 500ms);
  EXPECT_EQ(parse_condition("irq full avg60>1")->resource, Resource::irq);
}

TEST(Condition, HoldsComparesTheMeasuredPercentage) {
  auto lt = *parse_condition("memory some avg10<10");
  EXPECT_TRUE(lt.holds(9.99));
  EXPECT_FALSE(lt.holds(10.0));
  auto ge = *parse_condition("memory some avg10>=10");
  EXPECT_TRUE(ge.holds(10.0));
  EXPECT_FALSE(ge.holds(9.99));
  EXPECT_FALSE(ge.holds(std::nan("")));  // unknown never satisfies a condition
  EXPECT_FALSE(lt.holds(std::nan("")));
}

TEST(Condition, RefusesWhatItCannotMeanAndSaysWhy) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"", "not a resource"},
      {"disk some avg10<1", "'disk' is not a resource"},
      {"cpu most avg10<1", "'most' is not a line"},
      {"irq some avg10<1", "irq has only a 'full' line"},
      {"cpu some avg10", "no comparison"},
      {"cpu some <5", "nothing to compare"},
      {"cpu some avg30<5", "neither avg10/avg60/avg300 nor a window"},
      {"cpu some 2<5", "neither avg10/avg60/avg300 nor a window"},
      {"cpu some 10ms<5", "between 100ms and 3600s"},
      {"cpu some 2h<5", "neither avg10/avg60/avg300 nor a window"},
      {"cpu some avg10<", "no percentage"},
      {"cpu some avg10<abc", "not a percentage"},
      {"cpu some avg10<-1", "not a percentage"},
      {"cpu some avg10<1.2.3", "not a percentage"},
      {"cpu some avg10<101", "at most 100"},
      {"cpu some avg10=5", "no comparison"},
      {"cpu some avg10<0.0000001", "more than 6 decimals"},
  };
  for (const Case& c : cases) {
    auto r = parse_condition(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code(), Errc::invalid_argument) << c.text;
    EXPECT_NE(r.error().message().find(c.says), std::string::npos) << c.text << " -> " << r.error().message();
    EXPECT_NE(r.error().message().find(std::string("'") + c.text + "'"), std::string::npos)
        << r.error().message();
  }
}

TEST(Admit, AveragesFromTheFilesDecide) {
  ReaderOptions options{test::fixture("kernel-5.13"), "", nullptr};
  // kernel-5.13: memory full avg10 is 0.00 in the fixture, cpu some avg10 0.22.
  auto yes = admit(Target::system(), {*parse_condition("cpu some avg10<1")}, options);
  ASSERT_TRUE(yes) << yes.error().message();
  EXPECT_TRUE(yes->admitted);
  EXPECT_EQ(yes->reason, "admitted: cpu some avg10=0.22%");
  auto no = admit(Target::system(),
                  {*parse_condition("cpu some avg10<1"), *parse_condition("cpu some avg60<0.5")}, options);
  ASSERT_TRUE(no);
  EXPECT_FALSE(no->admitted);
  EXPECT_EQ(no->reason, "refused: cpu some avg60=0.77% is not <0.5%");
  EXPECT_EQ(no->measured.size(), 2U);
}

TEST(Admit, ANonexistentLineIsAnErrorNotZero) {
  ReaderOptions options{test::fixture("kernel-4.20"), "", nullptr};
  auto r = admit(Target::system(), {*parse_condition("cpu full avg10<1")}, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::unavailable);
}

TEST(CliAdmit, ExitCodesAndTheReasonLine) {
  auto yes = test::run_pressure({"--proc-root", test::fixture("kernel-5.13"), "admit", "cpu some avg10<1"});
  EXPECT_EQ(yes.exit_code, 0) << yes.err;
  EXPECT_EQ(yes.out, "admitted: cpu some avg10=0.22%\n");
  auto no = test::run_pressure({"--proc-root", test::fixture("kernel-5.13"), "admit", "cpu some avg10<0.1"});
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_EQ(no.out, "refused: cpu some avg10=0.22% is not <0.1%\n");
  auto json = test::run_pressure(
      {"--proc-root", test::fixture("kernel-5.13"), "admit", "--json", "cpu some avg10<1"});
  ASSERT_EQ(json.exit_code, 0);
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["admitted"], true);
  EXPECT_EQ(j["measured"]["cpu some avg10<1"], 0.22);
  auto bad = test::run_pressure({"admit", "cpu some avg10 is low"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("condition 'cpu some avg10 is low'"), std::string::npos) << bad.err;
  auto none = test::run_pressure({"admit"});
  EXPECT_EQ(none.exit_code, 2);
  auto unsupported =
      test::run_pressure({"--proc-root", test::fixture("psi-disabled"), "admit", "cpu some avg10<1"});
  EXPECT_EQ(unsupported.exit_code, 3) << unsupported.err;
}

}  // namespace
}  // namespace pressure
