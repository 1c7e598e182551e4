// The one cgroup selector (its syntax as a table) and CgroupSet over fixture trees: groups made,
// removed, made again and nested between updates, the fd budget, and every program meaning the
// same groups by the same selector.
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include <pressure/cgroup_set.hpp>
#include <pressure/selector.hpp>

#include "support/command.hpp"
#include "support/temp_dir.hpp"

namespace pressure {
namespace {

namespace fs = std::filesystem;

struct SelectorCase {
  const char* selector;
  const char* path;
  bool matches;
};

// The syntax of README "Cgroup selectors", one row per rule.
constexpr SelectorCase k_selector_table[] = {
    {"*", "/a.slice", true},
    {"*", "/a.slice/b", false},  // '*' stays within one level
    {"*", "/", false},
    {"/", "/", true},
    {"a.slice", "/a.slice", true},
    {"/a.slice/", "/a.slice", true},
    {"./a.slice//b", "/a.slice/b", true},
    {"*.service", "/ssh.service", true},
    {"system.slice/*.service", "/system.slice/ssh.service", true},
    {"system.slice/*.service", "/system.slice/ssh.service/x", false},
    {"system.slice/ssh.servic?", "/system.slice/ssh.service", true},
    {"system.slice/[a-r]*", "/system.slice/ssh.service", false},
    {"system.slice/[!a-r]*", "/system.slice/ssh.service", true},
    {"**", "/a", true},
    {"**", "/a/b/c", true},
    {"**", "/", false},  // a trailing "**" is at least one level
    {"a/**", "/a", false},
    {"a/**", "/a/b", true},
    {"a/**", "/a/b/c", true},
    {"a/**/c", "/a/c", true},  // "**" inside: any number of levels, none included
    {"a/**/c", "/a/b/x/c", true},
    {"a/**/c", "/a/b/x/d", false},
    {"**/job-*.scope", "/batch.slice/job-1.scope", true},
    {"**/job-*.scope", "/job-1.scope", true},
    {"system-systemd\\x2dcryptsetup.slice", "/system-systemd\\x2dcryptsetup.slice", true},  // no escapes
    {"[*]", "/*", true},
    {"[*]", "/a", false},
    {"sys[a-z]em.slice", "/system.slice", true},
    {"batch.slice/**", "/system.slice/a", false},
    {"/*", "/a", true},
};

TEST(CgroupSelector, TheSyntaxTable) {
  for (const SelectorCase& c : k_selector_table) {
    Result<CgroupSelector> s = parse_cgroup_selector(c.selector);
    ASSERT_TRUE(s) << c.selector << ": " << s.error().message();
    EXPECT_EQ(s->matches(c.path), c.matches) << "'" << c.selector << "' against " << c.path;
  }
}

TEST(CgroupSelector, BaseLiteralAndCanonical) {
  auto s = parse_cgroup_selector("./system.slice//*.service/");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->canonical(), "/system.slice/*.service");
  EXPECT_EQ(s->base(), "/system.slice");
  EXPECT_FALSE(s->literal());
  EXPECT_TRUE(parse_cgroup_selector("a/b")->literal());
  EXPECT_EQ(parse_cgroup_selector("/")->base(), "/");
  EXPECT_TRUE(parse_cgroup_selector("*.scope")->matches_name("session-1.scope"));
  EXPECT_FALSE(parse_cgroup_selector("a/*.scope")->matches_name("session-1.scope"));
  // Taken literally, whatever characters the path holds.
  EXPECT_TRUE(CgroupSelector::below("/we[ird]", false).matches("/we[ird]/x"));
  EXPECT_FALSE(CgroupSelector::below("/we[ird]", false).matches("/wei/x"));
  EXPECT_TRUE(CgroupSelector::exactly("/a*").matches("/a*"));
  EXPECT_FALSE(CgroupSelector::exactly("/a*").matches("/ab"));
}

TEST(CgroupSelector, BadSelectorsSayWhatIsWrong) {
  struct Bad {
    std::string text, says;
  };
  for (const Bad& b : std::vector<Bad>{
           {"", "empty"}, {"a/../b", "'..'"}, {"a**", "whole component"}, {std::string("a\0b", 3), "NUL"}}) {
    auto s = parse_cgroup_selector(b.text);
    ASSERT_FALSE(s) << b.text;
    EXPECT_EQ(s.error().code(), Errc::invalid_argument);
    EXPECT_NE(s.error().message().find(b.says), std::string::npos) << s.error().message();
    EXPECT_NE(s.error().message().find("bad cgroup selector"), std::string::npos);
  }
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "x/";
  EXPECT_FALSE(parse_cgroup_selector(deep));
}

// A writable cgroup-like tree: directories with cgroup.procs and three pressure files.
class Tree {
 public:
  Tree() : m_dir("cgroup-set") {}
  const std::string& root() const { return m_dir.path(); }
  void make(const std::string& path, unsigned cpu_total = 0) {
    fs::path dir = fs::path(root()) / path.substr(1);
    fs::create_directories(dir);
    std::ofstream(dir / "cgroup.procs") << "";
    for (const char* name : {"cpu.pressure", "memory.pressure", "io.pressure"})
      std::ofstream(dir / name) << "some avg10=0.00 avg60=0.00 avg300=0.00 total=" << cpu_total
                                << "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
  }
  void remove(const std::string& path) { fs::remove_all(fs::path(root()) / path.substr(1)); }
  ReaderOptions options() const { return ReaderOptions{test::fixture("proc-hybrid"), root(), nullptr}; }

 private:
  test::TempDir m_dir;
};

std::vector<std::string> paths(const CgroupSet::Reading& r) {
  std::vector<std::string> out;
  for (const CgroupReading& g : r->groups) out.push_back(g.path);
  return out;
}

std::vector<std::string> gone(const CgroupSet::Reading& r) {
  std::vector<std::string> out;
  for (const CgroupGone& g : r->gone) out.push_back(g.path);
  return out;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

using Paths = std::vector<std::string>;

TEST(CgroupSet, GroupsMadeRemovedMadeAgainAndNestedBetweenUpdates) {
  Tree tree;
  tree.make("/a");
  tree.make("/b");
  CgroupSet set({*parse_cgroup_selector("**")}, CgroupSetOptions{tree.options()});
  auto first = set.update();
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(paths(*first), (Paths{"/a", "/b"}));
  ASSERT_TRUE((*first)->groups[0].snapshot) << (*first)->groups[0].snapshot.error().message();
  std::uint64_t old_id = (*first)->groups[1].id;

  tree.make("/a/nested");  // nested below a kept group
  tree.make("/c");
  tree.remove("/b");
  tree.make("/b", 7);  // made again under the same name: another group
  auto second = set.update();
  ASSERT_TRUE(second);
  EXPECT_EQ(paths(*second), (Paths{"/a", "/a/nested", "/b", "/c"}));
  EXPECT_EQ(gone(*second), (Paths{"/b"}));
  EXPECT_NE((*second)->groups[2].id, old_id);
  EXPECT_EQ((*(*second)->groups[2].snapshot)[Resource::cpu]->some->total_us, 7u);

  tree.remove("/a");
  auto third = set.update();
  ASSERT_TRUE(third);
  EXPECT_EQ(paths(*third), (Paths{"/b", "/c"}));
  Paths gone_now = gone(*third);
  EXPECT_EQ(std::set<std::string>(gone_now.begin(), gone_now.end()),
            (std::set<std::string>{"/a", "/a/nested"}));
  EXPECT_EQ(set.latest(), *third);
}

TEST(CgroupSet, FdsGoBackToTheirStartWhenEveryGroupIsRemoved) {
  Tree tree;
  std::size_t start = open_fds();
  {
    CgroupSet set({*parse_cgroup_selector("*")}, CgroupSetOptions{tree.options()});
    ASSERT_TRUE(set.update());
    std::size_t empty = open_fds();
    for (int i = 0; i < 20; ++i) tree.make("/g" + std::to_string(i));
    auto r = set.update();
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)->groups.size(), 20u);
    // One directory and three pressure files each (irq is missing here, so it holds no fd).
    EXPECT_EQ(open_fds(), empty + 20 * 4);
    EXPECT_EQ(set.status().fds, 1 + 20 * 5);  // what it reserved: irq's fd too
    for (int i = 0; i < 20; ++i) tree.remove("/g" + std::to_string(i));
    r = set.update();
    ASSERT_TRUE(r);
    EXPECT_TRUE((*r)->groups.empty());
    EXPECT_EQ((*r)->gone.size(), 20u);
    EXPECT_EQ(open_fds(), empty);
    EXPECT_EQ(set.status().fds, 1u);
  }
  EXPECT_EQ(open_fds(), start);
}

TEST(CgroupSet, PastTheBudgetEveryGroupIsStillReadAndTheSetSaysHow) {
  Tree tree;
  for (int i = 0; i < 30; ++i) tree.make("/g" + std::to_string(i), static_cast<unsigned>(i));
  std::size_t start = open_fds();
  CgroupSetOptions options{tree.options()};
  options.fd_budget = 24;
  CgroupSet set({*parse_cgroup_selector("*")}, options);
  for (int round = 0; round < 3; ++round) {
    auto r = set.update();
    ASSERT_TRUE(r);
    ASSERT_EQ((*r)->groups.size(), 30u);
    for (std::size_t i = 0; i < 30; ++i) {
      const CgroupReading& g = (*r)->groups[i];
      ASSERT_TRUE(g.snapshot) << g.path << ": " << g.snapshot.error().message();
    }
    EXPECT_LE(open_fds(), start + 24);
  }
  CgroupSetStatus status = set.status();
  EXPECT_LE(status.fds, 24u);
  EXPECT_GT(status.reopened, 0u);
  EXPECT_NE(status.notice.find("opening and closing"), std::string::npos) << status.notice;
}

TEST(CgroupSet, ASelectorBelowAMissingGroupSaysSoAndMatchesNothing) {
  Tree tree;
  tree.make("/a");
  CgroupSet set(
      {*parse_cgroup_selector("nope/*"), *parse_cgroup_selector("a"), *parse_cgroup_selector("gone")},
      CgroupSetOptions{tree.options()});
  auto r = set.update();
  ASSERT_TRUE(r);
  EXPECT_EQ(paths(*r), (Paths{"/a"}));
  ASSERT_TRUE((*r)->selector_errors[0]);
  EXPECT_EQ((*r)->selector_errors[0]->code(), Errc::not_found);
  EXPECT_FALSE((*r)->selector_errors[1]);
  EXPECT_NE((*r)->selector_errors[2]->message().find("/gone"), std::string::npos);
  tree.make("/gone");
  r = set.update();
  EXPECT_EQ(paths(*r), (Paths{"/a", "/gone"}));
  EXPECT_FALSE((*r)->selector_errors[2]);
}

TEST(CgroupSet, ReadsTheFixtureTreeAsScanDid) {
  CgroupSet set(
      {*parse_cgroup_selector("**")},
      CgroupSetOptions{ReaderOptions{test::fixture("proc-hybrid"), test::fixture("cgroup-tree"), nullptr}});
  auto r = set.update();
  ASSERT_TRUE(r);
  EXPECT_EQ(paths(*r),
            (Paths{"/batch.slice", "/batch.slice/job-1.scope", "/psi-off.slice", "/system.slice"}));
  EXPECT_EQ((*r)->groups[2].snapshot.error().code(), Errc::unsupported);
  EXPECT_EQ((*(*r)->groups[1].snapshot)[Resource::cpu]->full->total_us, 1000000u);
}

}  // namespace
}  // namespace pressure
