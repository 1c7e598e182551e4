// Where the names of identify_cgroup reach users: the metrics labels (and their switch), the
// JSON of show and history, the daemon's prefer/avoid keys and its decision lines.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <pressure/cgroup_identity.hpp>

#include "cli/format.hpp"
#include "daemon/config.hpp"
#include "daemon/daemon.hpp"
#include "exporter/metrics.hpp"
#include "policy/engine.hpp"
#include "policy/rules.hpp"
#include "top/model.hpp"

namespace pressure {
namespace {

const std::string k_docker_id = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a10";
const std::string k_docker = "/system.slice/docker-" + k_docker_id + ".scope";
const std::string k_pod_uid = "1d2c3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const std::string k_pod =
    "/kubepods.slice/kubepods-burstable.slice/"
    "kubepods-burstable-pod1d2c3e4f_5a6b_4c7d_8e9f_0a1b2c3d4e5f.slice";

Snapshot one_stall(std::uint64_t total_us) {
  Snapshot s;
  Pressure p;
  p.some = Stall{Percent::from_hundredths(100), Percent::from_hundredths(50), Percent::from_hundredths(10),
                 total_us};
  s[Resource::memory] = p;
  for (Resource r : {Resource::cpu, Resource::io, Resource::irq})
    s[r] = tl::unexpected(Error(Errc::unavailable, "x"));
  return s;
}

std::string render(bool names) {
  exporter::Scrape scrape;
  scrape.with_system = false;
  scrape.cgroups.push_back({k_docker, one_stall(1500000)});
  scrape.cgroups.push_back({k_pod, one_stall(2500000)});
  scrape.cgroups.push_back({"/batch/job\"1", one_stall(10)});
  std::string out;
  exporter::render_metrics(scrape, {}, {.averages = false, .names = names}, out);
  return out;
}

TEST(NameLabels, MetricsCarryUnitContainerAndPodWhereKnown) {
  std::string text = render(true);
  EXPECT_NE(
      text.find("container_pressure_memory_waiting_seconds_total{cgroup=\"" + k_docker + "\",unit=\"docker-" +
                k_docker_id + ".scope\",container_id=\"" + k_docker_id + "\"} 1.500000\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("{cgroup=\"" + k_pod +
                      "\",unit=\"kubepods-burstable-pod1d2c3e4f_5a6b_4c7d_8e9f_0a1b2c3d4e5f"
                      ".slice\",pod_uid=\"" +
                      k_pod_uid + "\"} 2.500000\n"),
            std::string::npos)
      << text;
  // A group whose path names nothing has only its cgroup label, escaped as before.
  EXPECT_NE(text.find("{cgroup=\"/batch/job\\\"1\"} 0.000010\n"), std::string::npos) << text;

  std::string plain = render(false);
  EXPECT_EQ(plain.find("unit=\""), std::string::npos) << plain;
  EXPECT_EQ(plain.find("container_id=\""), std::string::npos) << plain;
  EXPECT_NE(plain.find("{cgroup=\"" + k_docker + "\"} 1.500000\n"), std::string::npos) << plain;
}

TEST(NameLabels, ShowAndHistoryJsonCarryTheIdentity) {
  nlohmann::ordered_json j = cli::identity_json(k_pod + "/cri-containerd-" + k_docker_id + ".scope");
  EXPECT_EQ(j.dump(),
            "{\"kind\":\"container\",\"name\":\"containerd 3f2a9c1e8b7d (pod 1d2c3e4f)\",\"unit\":"
            "\"cri-containerd-" +
                k_docker_id + ".scope\",\"runtime\":\"containerd\",\"container_id\":\"" + k_docker_id +
                "\",\"pod_uid\":\"" + k_pod_uid + "\",\"qos_class\":\"burstable\"}");
  EXPECT_TRUE(cli::identity_json("system").is_null());
  EXPECT_EQ(cli::identity_json("/batch/job1").dump(), "{\"kind\":\"other\",\"name\":\"/batch/job1\"}");
  Snapshot s = one_stall(1);
  EXPECT_EQ(cli::to_json({k_docker, std::nullopt}, s, nullptr)["identity"]["container_id"], k_docker_id);
  EXPECT_FALSE(cli::to_json({"system", std::nullopt}, s, nullptr).contains("identity"));
}

TEST(NameLabels, TopShowsTheShortNameAndFiltersOnItOrThePath) {
  top::Model model;
  Snapshot s = one_stall(1);
  model.update(s, {{k_docker, s}, {"/batch/job1", s}});
  std::string screen;
  for (const std::string& line : top::layout(model, {.width = 100, .height = 0}).lines) screen += line + "\n";
  EXPECT_NE(screen.find("\ndocker 3f2a9c1e8b7d "), std::string::npos) << screen;
  EXPECT_EQ(screen.find(k_docker_id), std::string::npos) << "not the 100-character path: " << screen;
  EXPECT_NE(screen.find("\n/batch/job1 "), std::string::npos) << screen;
  for (const char* filter : {"docker 3f2a", "system.slice"}) {
    model.set_filter(filter);
    ASSERT_EQ(model.cgroups().size(), 1u) << filter;
    EXPECT_EQ(model.cgroups()[0]->name, k_docker) << filter;
  }
}

// ---- the daemon: prefer/avoid keys and decision lines ----

policy::Candidate group(const std::string& path, std::uint64_t mib) {
  policy::Candidate c;
  c.path = path;
  c.name = path.substr(path.rfind('/') + 1);
  c.memory = mib << 20;
  return c;
}

TEST(NamePatterns, KeysMatchWhatThePathSays) {
  using policy::name_pattern_match;
  policy::Candidate docker = group(k_docker, 10), pod = group(k_pod, 10),
                    unit = group("/system.slice/batch-7.service", 10);
  EXPECT_TRUE(name_pattern_match("unit:batch-*.service", unit));
  EXPECT_FALSE(name_pattern_match("unit:batch-*.service", docker));
  EXPECT_TRUE(name_pattern_match("container_id:3f2a*", docker));
  EXPECT_TRUE(name_pattern_match("runtime:docker", docker));
  EXPECT_TRUE(name_pattern_match("kind:container", docker));
  EXPECT_FALSE(name_pattern_match("kind:container", pod));
  EXPECT_TRUE(name_pattern_match("pod_uid:" + k_pod_uid, pod));
  EXPECT_TRUE(name_pattern_match("qos_class:burst*", pod));
  EXPECT_FALSE(name_pattern_match("qos_class:*", unit)) << "a field the path does not say matches nothing";
  // Plain globs as before: the name or the path; keys never match a process.
  EXPECT_TRUE(name_pattern_match("*.service", unit));
  EXPECT_TRUE(name_pattern_match("/system.slice/*", unit));
  policy::Candidate process;
  process.pid = 42;
  process.name = "unit:x";
  EXPECT_FALSE(name_pattern_match("unit:*", process));
  EXPECT_TRUE(name_pattern_match("unit[:]*", process)) << "a ':' in a name, written as [:]";
}

TEST(NamePatterns, BadKeysAreRefusedNamingTheKeys) {
  auto typo = policy::parse_name_pattern("units:batch-*");
  ASSERT_FALSE(typo);
  EXPECT_EQ(
      typo.error().message(),
      "'units:batch-*': 'units' is not a key (kind, unit, user, session, runtime, container_id, pod_uid, "
      "qos_class); a name holding ':' is written with '[:]'");
  EXPECT_FALSE(policy::parse_name_pattern("unit:"));
  EXPECT_FALSE(policy::parse_name_pattern(""));
  // Not a key: a unit name with ':' in it (sshd's per-connection instances), matched as a glob.
  auto sshd = policy::parse_name_pattern("sshd@*:22-*.service");
  ASSERT_TRUE(sshd);
  EXPECT_TRUE(sshd->key.empty());
}

TEST(NamePatterns, PreferByUnitChoosesThatGroup) {
  std::vector<policy::Candidate> cs{group(k_docker, 300), group("/system.slice/batch-7.service", 20),
                                    group("/system.slice/db.service", 100)};
  policy::Rule rule;
  rule.prefer = {"unit:batch-*.service"};
  auto choice = policy::choose_victim(cs, rule);
  ASSERT_TRUE(choice);
  EXPECT_EQ(choice->index, 1u);
  EXPECT_NE(choice->reason.find("preferred by 'unit:batch-*.service'"), std::string::npos) << choice->reason;
  rule.prefer.clear();
  rule.avoid = {"runtime:docker"};
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 2u);
}

std::string rule_with(const std::string& victim_and_keys) {
  return "[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"kill\"\nwhen = \"memory some "
         "avg10>1\"\n" +
         victim_and_keys;
}

TEST(NamePatterns, TheConfigurationChecksThem) {
  auto good = daemon::parse_config(rule_with("prefer = [\"unit:batch-*.service\", \"*.scope\"]\n"), "n.toml");
  ASSERT_TRUE(good) << good.error().message();
  EXPECT_EQ(good->rules[0].prefer, (std::vector<std::string>{"unit:batch-*.service", "*.scope"}));
  auto typo = daemon::parse_config(rule_with("avoid = [\"pod:x\"]\n"), "n.toml");
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().message().rfind("n.toml:6: rule 'r': key 'avoid': 'pod:x': 'pod' is not a key (", 0),
            0u)
      << typo.error().message();
  auto processes = daemon::parse_config(
      rule_with("victim = { among = \"processes\" }\nprefer = [\"container_id:3f*\"]\n"), "n.toml");
  ASSERT_FALSE(processes);
  EXPECT_EQ(processes.error().message(),
            "n.toml:7: rule 'r': key 'prefer': 'container_id:3f*' matches cgroups, but victim.among = "
            "\"processes\" chooses processes");
  auto metrics = daemon::parse_config("[daemon]\nmetrics_names = false\n" + rule_with(""), "n.toml");
  ASSERT_TRUE(metrics) << metrics.error().message();
  EXPECT_FALSE(metrics->metrics_names);
  auto bad = daemon::parse_config("[daemon]\nmetrics_names = \"no\"\n" + rule_with(""), "n.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "n.toml:2: [daemon]: key 'metrics_names' must be true or false");
}

TEST(NameLabels, DecisionLinesNameTheVictim) {
  policy::Decision d{.severity = policy::Decision::Severity::warning,
                     .rule = "r",
                     .where = "/system.slice",
                     .what = "kill",
                     .detail = "kill " + k_docker + ": largest memory (300.0 MiB) of 3 candidates",
                     .victim = k_docker};
  std::string j = daemon::format_decision(d, daemon::LogFormat::json);
  nlohmann::json parsed = nlohmann::json::parse(j);
  EXPECT_EQ(parsed["victim_identity"]["kind"], "container");
  EXPECT_EQ(parsed["victim_identity"]["container_id"], k_docker_id);
  EXPECT_EQ(parsed["victim_identity"]["name"], "docker 3f2a9c1e8b7d");
  EXPECT_EQ(daemon::format_decision(d, daemon::LogFormat::text),
            "<4>pressure: rule 'r' on /system.slice: kill: " + d.detail + " [docker 3f2a9c1e8b7d]");
  d.victim = "pid 42 (hog)";
  EXPECT_FALSE(
      nlohmann::json::parse(daemon::format_decision(d, daemon::LogFormat::json)).contains("victim_identity"));
  d.victim = "/batch/job1";  // names nothing beyond its path: said once
  EXPECT_EQ(daemon::format_decision(d, daemon::LogFormat::text).find('['), std::string::npos);
}

}  // namespace
}  // namespace pressure
