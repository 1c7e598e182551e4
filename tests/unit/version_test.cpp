// The one version number: the header's macros, the library's function, `pressure --version`
// and `pressure version [--json]` all say the same, and exit 0.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pressure/pressure.hpp>

#include "support/command.hpp"

namespace pressure {
namespace {

using test::run_pressure;

TEST(Version, MacrosAndFunctionAgree) {
  static_assert(PRESSURE_VERSION_NUMBER ==
                PRESSURE_VERSION_MAJOR * 10000 + PRESSURE_VERSION_MINOR * 100 + PRESSURE_VERSION_PATCH);
  Version v = version();
  EXPECT_EQ(v.major, PRESSURE_VERSION_MAJOR);
  EXPECT_EQ(v.minor, PRESSURE_VERSION_MINOR);
  EXPECT_EQ(v.patch, PRESSURE_VERSION_PATCH);
  EXPECT_EQ(v.text, PRESSURE_VERSION_STRING);
  EXPECT_EQ(std::string(v.text),
            std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch));
  EXPECT_EQ(v.platform, "linux");
}

TEST(Version, FlagPrintsTheVersionAndExitsZero) {
  for (const char* flag : {"--version"}) {
    auto r = run_pressure({flag});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, std::string("pressure ") + PRESSURE_VERSION_STRING + "\n");
  }
}

TEST(Version, CommandSaysWhatTheBuildHas) {
  auto r = run_pressure({"version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(std::string("pressure ") + PRESSURE_VERSION_STRING + "\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("platform       linux"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("http module    yes"), std::string::npos) << r.out;
}

TEST(Version, JsonHasLibraryAndFeatures) {
  auto r = run_pressure({"version", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["version"], PRESSURE_VERSION_STRING);
  EXPECT_EQ(j["library"]["version"], PRESSURE_VERSION_STRING);
  EXPECT_EQ(j["platform"], "linux");
  EXPECT_EQ(j["daemon"], true);
  EXPECT_EQ(j["http_module"]["available"], true) << r.out;
  EXPECT_TRUE(j["python_module"].is_boolean());
}

TEST(Version, MissingHttpModuleIsSaidNotFatal) {
  auto r = test::run_command({"/usr/bin/env", "PRESSURE_HTTP_MODULE=/nonexistent/pressure-http.so",
                              PRESSURE_BINARY, "version", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["http_module"]["available"], false);
  EXPECT_NE(j["http_module"]["error"].get<std::string>().find("/nonexistent/pressure-http.so"),
            std::string::npos);
}

}  // namespace
}  // namespace pressure
