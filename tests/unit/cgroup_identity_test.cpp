// identify_cgroup over the table of real-world path shapes in fixtures/cgroup-names/shapes.jsonl
// (systemd, docker, containerd, CRI-O, podman, kubelet with either driver) and near-misses.
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pressure/cgroup_identity.hpp>

namespace pressure {
namespace {

struct Shape {
  std::string path;
  CgroupIdentity expected;
  std::string kind;
};

std::vector<Shape> shapes() {
  std::ifstream in(std::string(PRESSURE_FIXTURES) + "/cgroup-names/shapes.jsonl");
  std::vector<Shape> out;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    Shape s;
    s.path = j.at("path");
    s.kind = j.at("kind");
    auto text = [&](const char* key) { return j.value(key, std::string{}); };
    s.expected = CgroupIdentity{.name = text("name"),
                                .unit = text("unit"),
                                .user = text("user"),
                                .session = text("session"),
                                .runtime = text("runtime"),
                                .container_id = text("container_id"),
                                .pod_uid = text("pod_uid"),
                                .qos_class = text("qos_class"),
                                .conmon = j.value("conmon", false)};
    out.push_back(std::move(s));
  }
  return out;
}

TEST(CgroupIdentity, EveryShapeOfTheFixtureTable) {
  std::vector<Shape> table = shapes();
  ASSERT_GE(table.size(), 70u) << "the fixture table was not read";
  std::set<std::string> kinds;
  for (const Shape& s : table) {
    CgroupIdentity got = identify_cgroup(s.path);
    EXPECT_EQ(to_string(got.kind), s.kind) << s.path;
    CgroupIdentity want = s.expected;
    want.kind = got.kind;
    EXPECT_EQ(got, want) << s.path << "\n  got name '" << got.name << "' unit '" << got.unit << "' runtime '"
                         << got.runtime << "' id '" << got.container_id << "' pod '" << got.pod_uid
                         << "' qos '" << got.qos_class << "' user '" << got.user << "' session '"
                         << got.session << "'";
    kinds.insert(s.kind);
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"root", "unit", "pod", "container", "other"}));
}

TEST(CgroupIdentity, RepeatedAndTrailingSlashesAreThePathItself) {
  std::string id(64, 'a');
  EXPECT_EQ(identify_cgroup("//system.slice///docker-" + id + ".scope/"),
            identify_cgroup("/system.slice/docker-" + id + ".scope"));
  EXPECT_EQ(identify_cgroup("").kind, CgroupKind::root);
  EXPECT_EQ(identify_cgroup("///").name, "/");
}

TEST(CgroupIdentity, AContainerNamesEverythingBelowIt) {
  // A container's own systemd or a second runtime inside it does not change whose it is.
  std::string outer(64, 'a'), inner(64, 'b');
  CgroupIdentity id =
      identify_cgroup("/system.slice/docker-" + outer + ".scope/system.slice/docker-" + inner + ".scope");
  EXPECT_EQ(id.kind, CgroupKind::container);
  EXPECT_EQ(id.container_id, outer);
  EXPECT_EQ(id.name, "docker aaaaaaaaaaaa/system.slice/docker-" + inner + ".scope");
}

}  // namespace
}  // namespace pressure
