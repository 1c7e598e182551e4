// One selector, one meaning: the same table of selectors over one tree gives the same groups in
// serve (the exporter), record (the sampler), top (the command, plain text) and the daemon's
// scope (a group is in scope when it or an ancestor is selected).
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include <pressure/cgroup_identity.hpp>
#include <pressure/selector.hpp>

#include "daemon/config.hpp"
#include "exporter/exporter.hpp"
#include "recorder/recorder.hpp"
#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace pressure {
namespace {

namespace fs = std::filesystem;
using Groups = std::set<std::string>;

const std::vector<std::string> k_tree{
    "/a.slice",      "/a.slice/x.scope",          "/a.slice/x.scope/deep",     "/b.service",
    "/system.slice", "/system.slice/ssh.service", "/system.slice/cron.service"};

const std::vector<std::string> k_selectors{"*",
                                           "**",
                                           "*.slice",
                                           "a.slice/*",
                                           "a.slice/**",
                                           "**/*.service",
                                           "*/*.service",
                                           "a.slice/**/deep",
                                           "system.slice",
                                           "s?stem.slice/[a-m]*",
                                           "nope/*"};

class SelectorTable : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& path : k_tree) {
      fs::path dir = fs::path(m_root.path()) / path.substr(1);
      fs::create_directories(dir);
      std::ofstream(dir / "cgroup.procs") << "";
      for (const char* name : {"cpu.pressure", "memory.pressure", "io.pressure"})
        std::ofstream(dir / name) << "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
                                     "full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n";
    }
  }
  ReaderOptions reader() const {
    return ReaderOptions{test::fixture("kernel-6.1-irq"), m_root.path(), nullptr};
  }

  Groups serve(const std::string& selector) const {
    exporter::ExporterOptions options;
    options.reader = reader();
    options.system = false;
    options.cgroups = {*parse_cgroup_selector(selector)};
    exporter::Exporter exporter(std::move(options));
    Groups out;
    for (const CgroupSnapshot& g : exporter.collect().cgroups) out.insert(g.path);
    return out;
  }

  Groups record(const std::string& selector) const {
    recorder::TargetSampler sampler({.system = false, .globs = {selector}, .reader = reader()});
    Result<recorder::Tick> tick = sampler.sample();
    EXPECT_TRUE(tick) << tick.error().message();
    Groups out;
    if (tick)
      for (const recorder::TargetSample& t : tick->targets) out.insert(t.name);
    return out;
  }

  // The groups' names as top shows them (identify_cgroup's short names; unique in this tree).
  Groups top(const std::string& selector) const {
    auto r =
        test::run_pressure({"--proc-root", test::fixture("kernel-6.1-irq"), "--cgroup-root", m_root.path(),
                            "top", "--interval", "0.05", "--count", "1", "--cgroup", selector});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Groups out;
    std::istringstream lines(r.out);
    std::string line;
    bool below = false;
    while (std::getline(lines, line)) {
      std::string word;
      std::istringstream words(line);
      if (below && words >> word && word.front() != '(') out.insert(word);  // not "(no groups ...)"
      if (line.rfind("CGROUPS", 0) == 0) below = true;
    }
    return out;
  }

  // The groups whose kill rule the daemon accepts under `scope = [selector]`.
  Groups daemon_scope(const std::string& selector) const {
    Groups out;
    for (const std::string& path : k_tree) {
      auto config = daemon::parse_config("[daemon]\nscope = [\"" + selector +
                                             "\"]\n[[rule]]\nname = \"r\"\ntarget = { cgroup = \"" + path +
                                             "\" }\nwhen = \"memory full 10%/2s\"\naction = \"kill\"\n",
                                         "table.toml");
      if (config) out.insert(path);
    }
    return out;
  }

  test::TempDir m_root{"selector-table"};
};

TEST_F(SelectorTable, EveryProgramMeansTheSameGroups) {
  for (const std::string& text : k_selectors) {
    CgroupSelector selector = *parse_cgroup_selector(text);
    Groups selected, in_scope;
    for (const std::string& path : k_tree) {
      if (selector.matches(path)) selected.insert(path);
      for (std::string p = path; !p.empty(); p.resize(p.rfind('/')))
        if (selector.matches(p)) in_scope.insert(path);
    }
    EXPECT_EQ(serve(text), selected) << "serve --cgroup '" << text << "'";
    EXPECT_EQ(record(text), selected) << "record --cgroup '" << text << "'";
    Groups shown;
    for (const std::string& path : selected) shown.insert(identify_cgroup(path).name);
    EXPECT_EQ(top(text), shown) << "top --cgroup '" << text << "'";
    EXPECT_EQ(daemon_scope(text), in_scope) << "scope = ['" << text << "']";
  }
  // The table means what the syntax says, not only the same thing everywhere.
  EXPECT_EQ(serve("*"), (Groups{"/a.slice", "/b.service", "/system.slice"}));
  EXPECT_EQ(serve("**/*.service"),
            (Groups{"/b.service", "/system.slice/cron.service", "/system.slice/ssh.service"}));
  EXPECT_EQ(serve("a.slice/**"), (Groups{"/a.slice/x.scope", "/a.slice/x.scope/deep"}));
}

}  // namespace
}  // namespace pressure
