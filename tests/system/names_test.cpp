// Names people recognise, on real cgroups this test makes in the shapes docker, systemd and
// kubelet give theirs (pressure-test-names-PID-N/docker-<64 hex>.scope, .../batch-7.service, a
// pod slice with a containerd scope in it): the labels of a real /metrics scrape, `show --json`,
// and the daemon's choice by `prefer`/`avoid` on those names, in --dry-run (the real kill is the
// VM's: names_cgroup2_test.cpp).
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/command.hpp"
#include "support/daemon.hpp"
#include "support/live.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"

namespace pressure::test {
namespace {

using namespace std::chrono_literals;

const std::string k_docker_id = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a10";
const std::string k_containerd_id = "9ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0";
const std::string k_pod_uid = "1d2c3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const std::string k_pod_slice = "kubepods-besteffort-pod1d2c3e4f_5a6b_4c7d_8e9f_0a1b2c3d4e5f.slice";

class LiveNames : public testing::Test {
 protected:
  void SetUp() override {
    PRESSURE_REQUIRE_LIVE();
    ASSERT_TRUE(parent.ok() && docker.ok() && batch.ok() && pod.ok() && container.ok());
  }
  TestCgroup parent{"names"};
  TestCgroup docker{parent, "docker-" + k_docker_id + ".scope"};
  TestCgroup batch{parent, "batch-7.service"};
  TestCgroup pod{parent, k_pod_slice};
  TestCgroup container{pod, "cri-containerd-" + k_containerd_id + ".scope"};
};

TEST_F(LiveNames, ShowJsonSaysWhatEachGroupIs) {
  auto docker_json = run_pressure({"show", "--cgroup", docker.path(), "--json"});
  ASSERT_EQ(docker_json.exit_code, 0) << docker_json.err;
  nlohmann::json j = nlohmann::json::parse(docker_json.out);
  EXPECT_EQ(j["target"], docker.path());
  EXPECT_EQ(j["identity"], (nlohmann::json{{"kind", "container"},
                                           {"name", "docker 3f2a9c1e8b7d"},
                                           {"unit", "docker-" + k_docker_id + ".scope"},
                                           {"runtime", "docker"},
                                           {"container_id", k_docker_id}}));
  EXPECT_TRUE(j["memory"].is_object()) << "the reading is still there: " << docker_json.out;

  auto nested = run_pressure({"show", "--cgroup", container.path(), "--json"});
  ASSERT_EQ(nested.exit_code, 0) << nested.err;
  nlohmann::json n = nlohmann::json::parse(nested.out)["identity"];
  EXPECT_EQ(n["kind"], "container");
  EXPECT_EQ(n["runtime"], "containerd");
  EXPECT_EQ(n["container_id"], k_containerd_id);
  EXPECT_EQ(n["pod_uid"], k_pod_uid);
  EXPECT_EQ(n["qos_class"], "besteffort");

  auto plain = run_pressure({"show", "--cgroup", parent.path(), "--json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(nlohmann::json::parse(plain.out)["identity"],
            (nlohmann::json{{"kind", "other"}, {"name", parent.path()}}));
}

// `pressure serve` on a free port, scraped once over loopback.
std::string scrape(const Scratch& scratch, const std::vector<std::string>& flags) {
  std::vector<std::string> argv{PRESSURE_BINARY, "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  Background serve(argv, scratch.path("serve.log"));
  const std::string marker = "listening on 127.0.0.1:";
  if (!wait_until([&] { return serve.log().find(marker) != std::string::npos; }, 10s))
    return "serve did not start: " + serve.log();
  std::string log = serve.log();
  int port = std::stoi(log.substr(log.find(marker) + marker.size()));
  int fd = connect_loopback(port);
  if (fd < 0 || !send_all(fd, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) return "no connection";
  std::string pending;
  std::optional<RawResponse> answer = read_response(fd, pending);
  ::close(fd);
  return answer ? answer->body : "no answer: " + serve.log();
}

TEST_F(LiveNames, MetricsCarryUnitContainerAndPodLabels) {
  Scratch scratch;
  std::string text = scrape(scratch, {"--cgroup", parent.path() + "/**", "--no-averages"});
  EXPECT_NE(text.find("container_pressure_cpu_waiting_seconds_total{cgroup=\"" + docker.path() +
                      "\",unit=\"docker-" + k_docker_id + ".scope\",container_id=\"" + k_docker_id + "\"} "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container_pressure_cpu_waiting_seconds_total{cgroup=\"" + batch.path() +
                      "\",unit=\"batch-7.service\"} "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container_pressure_memory_waiting_seconds_total{cgroup=\"" + container.path() +
                      "\",unit=\"cri-containerd-" + k_containerd_id + ".scope\",container_id=\"" +
                      k_containerd_id + "\",pod_uid=\"" + k_pod_uid + "\"} "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("container_pressure_io_waiting_seconds_total{cgroup=\"" + pod.path() + "\",unit=\"" +
                      k_pod_slice + "\",pod_uid=\"" + k_pod_uid + "\"} "),
            std::string::npos)
      << text;

  Scratch plain_scratch;
  std::string plain = scrape(plain_scratch, {"--cgroup", parent.path() + "/**", "--no-name-labels"});
  EXPECT_NE(plain.find("container_pressure_cpu_waiting_seconds_total{cgroup=\"" + docker.path() + "\"} "),
            std::string::npos)
      << plain;
  EXPECT_EQ(plain.find("container_id="), std::string::npos) << plain;
}

// The daemon's choice among the children, in --dry-run: `docker` holds the most memory, so it
// is the victim unless a name says otherwise.
class LiveNamedVictims : public LiveNames {
 protected:
  void SetUp() override {
    LiveNames::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    ASSERT_GT(holding(docker, 60), 0);
    ASSERT_GT(holding(batch, 20), 0);
  }
  // The JSON decision line of a dry run with `extra` added to an always-true kill rule.
  nlohmann::json decide(const std::string& extra) {
    Scratch scratch;
    Daemon daemon(scratch,
                  "[daemon]\nlog_format = \"json\"\n[[rule]]\nname = \"by name\"\ntarget = { cgroup = \"" +
                      parent.path() +
                      "\" }\nwhen = \"cpu some avg10>=0\"\ninterval = \"200ms\"\naction = \"kill\"\n"
                      "victim = { among = \"children\", by = \"memory\" }\ncooldown = \"60s\"\n" +
                      extra,
                  {"--dry-run"});
    if (!daemon.log_has("\"what\":\"kill\"", 20s)) return {{"error", "no decision: " + daemon.log()}};
    std::string log = daemon.log();
    std::size_t at = log.rfind('\n', log.find("\"what\":\"kill\"")) + 1;
    return nlohmann::json::parse(log.substr(at, log.find('\n', at) - at));
  }
};

TEST_F(LiveNamedVictims, WithoutANameTheLargest) {
  nlohmann::json d = decide("");
  ASSERT_EQ(d.value("victim", ""), docker.path()) << d.dump();
  EXPECT_EQ(d["victim_identity"]["container_id"], k_docker_id) << d.dump();
  EXPECT_EQ(d["result"], "dry-run");
}

TEST_F(LiveNamedVictims, PreferMatchesTheUnit) {
  nlohmann::json d = decide("prefer = [\"unit:batch-*.service\"]\n");
  ASSERT_EQ(d.value("victim", ""), batch.path()) << d.dump();
  EXPECT_EQ(d["victim_identity"],
            (nlohmann::json{{"kind", "unit"}, {"name", "batch-7.service"}, {"unit", "batch-7.service"}}));
  EXPECT_NE(d["message"].get<std::string>().find("preferred by 'unit:batch-*.service'"), std::string::npos)
      << d.dump();
}

TEST_F(LiveNamedVictims, AvoidMatchesTheRuntime) {
  nlohmann::json d = decide("avoid = [\"runtime:docker\"]\n");
  EXPECT_EQ(d.value("victim", ""), batch.path()) << d.dump();
}

}  // namespace
}  // namespace pressure::test
