// The daemon's configuration (every bad file gives FILE:LINE and the key), the victim choice,
// and the log line format. No kernel needed.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.hpp"
#include "daemon/daemon.hpp"
#include "daemon/preflight.hpp"
#include "policy/rules.hpp"
#include "support/command.hpp"
#include "support/process.hpp"

namespace pressure {
namespace {

using namespace std::chrono_literals;
using daemon::parse_config;
using policy::ActionKind;
using policy::Candidate;
using policy::Rule;
using policy::Victim;

constexpr const char* k_good = R"([daemon]
log_format = "json"
scope = ["batch.slice", "pressure-test-*"]

[[rule]]
name     = "stop thrashing in batch jobs"
target   = { cgroup = "batch.slice" }
when     = "memory full 10%/1s"
for      = "1s"
action   = "kill"
victim   = { among = "children", by = "growth" }
prefer   = ["*.scope"]
avoid    = ["critical.service"]
grace    = "2s"
cooldown = "15s"
prekill  = { command = ["/usr/bin/gdb", "--batch", "-p"], timeout = "3s" }

[[rule]]
name   = "shed"
target = "system"
when   = ["memory some avg10>5", "cpu some 2s>=50%"]
action = "exec"
command = ["/usr/bin/logger", "shed load"]
timeout = "3s"

[[rule]]
name = "senpai"
target = { cgroup = "/batch.slice/job" }
action = "memory-high"
memory_high = { steer = true, target = "0.5%", min = "128M", max = "2G", interval = "1s" }

[[rule]]
name = "tell"
target = { cgroup = "batch.slice" }
when = "io full 200ms/2s"
action = "notify"
notify = { socket = "@pressure-events" }
)";

TEST(DaemonConfig, ParsesEveryKindOfRule) {
  auto c = parse_config(k_good, "good.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->log_format, daemon::LogFormat::json);
  EXPECT_TRUE(c->realtime);  // the default
  ASSERT_EQ(c->rules.size(), 4U);
  const Rule& kill = c->rules[0];
  EXPECT_EQ(kill.source, "good.toml:5");
  EXPECT_EQ(kill.cgroup, "/batch.slice");
  ASSERT_TRUE(kill.spec);
  EXPECT_EQ(kill.spec->to_string(), "memory full 100ms/1s");
  EXPECT_EQ(kill.hold, 1s);
  EXPECT_EQ(kill.action, ActionKind::kill);
  EXPECT_EQ(kill.victim.by, Victim::By::growth);
  EXPECT_EQ(kill.prefer, std::vector<std::string>{"*.scope"});
  EXPECT_EQ(kill.grace, 2s);
  EXPECT_EQ(kill.cooldown, 15s);
  ASSERT_TRUE(kill.prekill);
  EXPECT_EQ(kill.prekill->command, (std::vector<std::string>{"/usr/bin/gdb", "--batch", "-p"}));
  EXPECT_EQ(kill.prekill->timeout, 3s);
  const Rule& shed = c->rules[1];
  EXPECT_FALSE(shed.prekill);
  EXPECT_TRUE(shed.system);
  ASSERT_EQ(shed.conditions.size(), 2U);
  EXPECT_EQ(shed.conditions[1].to_string(), "cpu some 2s>=50%");
  EXPECT_EQ(shed.command, (std::vector<std::string>{"/usr/bin/logger", "shed load"}));
  EXPECT_EQ(shed.timeout, 3s);
  const Rule& senpai = c->rules[2];
  EXPECT_EQ(senpai.memory_high.mode, policy::MemoryHigh::Mode::steer);
  EXPECT_DOUBLE_EQ(senpai.memory_high.target_share, 0.005);
  EXPECT_EQ(senpai.memory_high.min_bytes, 128ULL << 20);
  EXPECT_EQ(senpai.memory_high.max_bytes, 2ULL << 30);
  EXPECT_EQ(c->rules[3].notify_socket, "@pressure-events");
}

struct Bad {
  const char* text;
  const char* says;  // the whole "file:line: ..." prefix that matters
};

TEST(DaemonConfig, EveryBadFileNamesItsLineAndKey) {
  const std::string rule =
      "[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory full 10%/1s\"\n";
  const Bad cases[] = {
      {"[[rule]\nname = 1\n", "bad.toml:1: not valid TOML"},
      {"", "bad.toml:1: no [[rule]] in the file"},
      {"[other]\nx = 1\n", "bad.toml:1: unknown section 'other'"},
      {"[daemon]\nlog_format = \"xml\"\n[[rule]]\n",
       "bad.toml:2: [daemon]: key 'log_format': 'xml' is not text or json"},
      {"[daemon]\nlisten = \"nowhere:port\"\n", "bad.toml:2: [daemon]: key 'listen': "},
      {"[daemon]\nmetrics_cgroups = [\"../x\"]\n", "bad.toml:2: [daemon]: key 'metrics_cgroups': "},
      {"[daemon]\nidle_poll = \"1ms\"\n",
       "bad.toml:2: [daemon]: key 'idle_poll' must be between 10ms and 10s"},
      {"[daemon]\nlistening = 1\n", "bad.toml:2: [daemon]: unknown key 'listening'"},
      {"[daemon]\nrealtime = \"yes\"\n", "bad.toml:2: [daemon]: key 'realtime' must be true or false"},
      {"rule = 3\n", "bad.toml:1: 'rule' must be an array of tables"},
      {"[[rule]]\ntarget = \"system\"\n", "bad.toml:1: rule 1: key 'name' is missing"},
      {"[[rule]]\nname = \"\"\n", "bad.toml:2: rule 1: key 'name' is empty"},
      {"[[rule]]\nname = \"r\"\nwhne = \"x\"\n", "bad.toml:3: rule 1: unknown key 'whne'"},
      {"[[rule]]\nname = \"r\"\naction = \"log\"\n", "bad.toml:1: rule 'r': key 'target' is missing"},
      {"[[rule]]\nname = \"r\"\ntarget = \"batch\"\n",
       "bad.toml:3: rule 'r': key 'target': a string target must be \"system\""},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"../etc\" }\naction = \"log\"\n",
       "bad.toml:3: rule 'r': key 'target.cgroup'"},
      {"[[rule]]\nname = \"r\"\ntarget = { path = \"a\" }\n",
       "bad.toml:3: rule 'r': target: unknown key 'path'"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\n", "bad.toml:1: rule 'r': key 'action' is missing"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"reboot\"\n",
       "bad.toml:4: rule 'r': key 'action': 'reboot' is not one of"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\n",
       "bad.toml:1: rule 'r': key 'when' is missing"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"memory full 10%/20s\"\n",
       "bad.toml:5: rule 'r': key 'when': trigger spec"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = [\"memory full avg10 > x\"]\n",
       "bad.toml:5: rule 'r': key 'when': condition"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = [\"memory full 1s/2s\", \"cpu "
       "some avg10>1\"]\n",
       "bad.toml:5: rule 'r': key 'when': a trigger spec"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\nfor = "
       "\"5\"\n",
       "bad.toml:6: rule 'r': key 'for': '5' needs a unit"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\ncooldown "
       "= 15\n",
       "bad.toml:6: rule 'r': key 'cooldown' must be a string"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\ninterval "
       "= \"1ms\"\n",
       "bad.toml:6: rule 'r': key 'interval' must be at least 10ms"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\nrepeat = "
       "\"yes\"\n",
       "bad.toml:6: rule 'r': key 'repeat' must be true or false"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\nvictim = "
       "{ among = \"children\" }\n",
       "bad.toml:6: rule 'r': key 'victim' is only for kill and signal"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\nprefer = "
       "[\"a\"]\n",
       "bad.toml:6: rule 'r': key 'prefer' is only for kill and signal"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\ngrace = "
       "\"1s\"\n",
       "bad.toml:6: rule 'r': key 'grace' is only for kill"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\nsignal = "
       "\"USR1\"\n",
       "bad.toml:6: rule 'r': key 'signal' is only for action = \"signal\""},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\ncommand "
       "= [\"x\"]\n",
       "bad.toml:6: rule 'r': key 'command' is only for action = \"exec\""},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some "
       "avg10>1\"\nmemory_high = \"1G\"\n",
       "bad.toml:6: rule 'r': key 'memory_high' is only for action = \"memory-high\""},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\nnotify = "
       "{ file = \"x\" }\n",
       "bad.toml:6: rule 'r': key 'notify' is only for action = \"notify\""},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"kill\"\nwhen = \"cpu some "
       "avg10>1\"\nvictim = { among = \"everyone\" }\n",
       "bad.toml:6: rule 'r': key 'victim.among': 'everyone' is not children, processes or self"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"kill\"\nwhen = \"cpu some "
       "avg10>1\"\nvictim = { by = \"age\" }\n",
       "bad.toml:6: rule 'r': key 'victim.by': 'age' is not memory, growth or pressure"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"kill\"\nwhen = \"cpu some "
       "avg10>1\"\nvictim = { among = \"processes\", by = \"pressure\" }\n",
       "bad.toml:6: rule 'r': key 'victim.by': processes have no pressure"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"kill\"\nwhen = \"cpu some "
       "avg10>1\"\nvictim = \"largest\"\n",
       "bad.toml:6: rule 'r': key 'victim' must be a table"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"signal\"\nwhen = \"cpu some "
       "avg10>1\"\n",
       "bad.toml:1: rule 'r': action 'signal' needs signal"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"signal\"\nwhen = \"cpu some "
       "avg10>1\"\nsignal = \"SIGFOO\"\n",
       "bad.toml:6: rule 'r': key 'signal': 'SIGFOO' is not a signal"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"exec\"\nwhen = \"cpu some "
       "avg10>1\"\n",
       "bad.toml:1: rule 'r': action 'exec' needs command"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"exec\"\nwhen = \"cpu some "
       "avg10>1\"\ncommand = \"rm -rf /\"\n",
       "bad.toml:6: rule 'r': key 'command' must be a list"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"exec\"\nwhen = \"cpu some "
       "avg10>1\"\ncommand = []\n",
       "bad.toml:6: rule 'r': key 'command' names no program"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"exec\"\nwhen = \"cpu some "
       "avg10>1\"\ncommand = [\"x\"]\ntimeout = \"0s\"\n",
       "bad.toml:7: rule 'r': key 'timeout' must be positive"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = [\"dump\"]\n",
       "bad.toml:6: rule 'r': key 'prekill' must be a table: { command = [\"program\", \"arg\"], timeout = "
       "\"1s\" }"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [\"dump\"], wait = \"1s\" }\n",
       "bad.toml:6: rule 'r': prekill: unknown key 'wait' (known: command, timeout)"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { timeout = \"1s\" }\n",
       "bad.toml:6: rule 'r': key 'prekill' needs command = [\"program\", \"arg\", ...]"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [] }\n",
       "bad.toml:6: rule 'r': key 'prekill.command' names no program"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [\"\"] }\n",
       "bad.toml:6: rule 'r': key 'prekill.command' names no program"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = \"gdb -p 1\" }\n",
       "bad.toml:6: rule 'r': key 'prekill.command' must be a list: [\"program\", \"arg\", ...] (no shell is "
       "used)"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [\"dump\", 3] }\n",
       "bad.toml:6: rule 'r': key 'prekill.command' must list only strings"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [\"dump\"], timeout = \"soon\" }\n",
       "bad.toml:6: rule 'r': key 'prekill.timeout': "},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [\"dump\"], timeout = 1 }\n",
       "bad.toml:6: rule 'r': key 'prekill.timeout' must be a string"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [\"dump\"], timeout = \"0s\" }\n",
       "bad.toml:6: rule 'r': key 'prekill.timeout' must be above 0 and at most 60s"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\nprekill = { command = [\"dump\"], timeout = \"61s\" }\n",
       "bad.toml:6: rule 'r': key 'prekill.timeout' must be above 0 and at most 60s"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"kill\"\ncooldown = \"1s\"\nprekill = { command = [\"dump\"], timeout = \"1s\" }\n",
       "bad.toml:7: rule 'r': key 'prekill.timeout' must be shorter than the rule's cooldown"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"signal\"\nsignal = \"USR1\"\nprekill = { command = [\"dump\"] }\n",
       "bad.toml:7: rule 'r': key 'prekill' is only for action = \"kill\""},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"memory some 10%/1s\"\naction = "
       "\"log\"\nprekill = { command = [\"dump\"] }\n",
       "bad.toml:6: rule 'r': key 'prekill' is only for action = \"kill\""},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"notify\"\nwhen = \"cpu some "
       "avg10>1\"\n",
       "bad.toml:1: rule 'r': action 'notify' needs notify"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"notify\"\nwhen = \"cpu some "
       "avg10>1\"\nnotify = { socket = \"a\", file = \"b\" }\n",
       "bad.toml:6: rule 'r': key 'notify' needs exactly one of socket or file"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"memory-high\"\nwhen = \"cpu some "
       "avg10>1\"\n",
       "bad.toml:1: rule 'r': action 'memory-high' needs memory_high"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"memory-high\"\nwhen = \"cpu some "
       "avg10>1\"\nmemory_high = \"lots\"\n",
       "bad.toml:6: rule 'r': key 'memory_high': 'lots' is not a size"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"memory-high\"\nmemory_high = { "
       "target = \"1%\" }\n",
       "bad.toml:5: rule 'r': key 'memory_high' as a table needs steer = true"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"memory-high\"\nmemory_high = { steer "
       "= true, min = \"2G\", max = \"1G\" }\n",
       "bad.toml:5: rule 'r': key 'memory_high': max is below min"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"memory-high\"\nmemory_high = { steer "
       "= true, target = \"200%\" }\n",
       "bad.toml:5: rule 'r': key 'memory_high.target': '200%' is not a percentage"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"memory-high\"\nmemory_high = { steer "
       "= true }\nwhen = \"cpu some avg10>1\"\n",
       "bad.toml:6: rule 'r': key 'when' does not go with memory_high = { steer = true }"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"log\"\nwhen = \"cpu some "
       "10%/1s\"\nrepeat = false\n",
       "bad.toml:6: rule 'r': key 'repeat' is only for conditions"},
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"log\"\nwhen = \"cpu some "
       "10%/1s\"\ninterval = \"1s\"\n",
       "bad.toml:6: rule 'r': key 'interval' is only for conditions"},
      // Safety: the root group needs an explicit opt-in; the scope bounds where rules act.
      {"[[rule]]\nname = \"r\"\ntarget = { cgroup = \"/\" }\nwhen = \"memory full 10%/1s\"\naction = "
       "\"kill\"\n",
       "bad.toml:3: rule 'r': the target is the root cgroup"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\nwhen = \"memory full 10%/1s\"\naction = "
       "\"signal\"\nsignal = \"TERM\"\n",
       "bad.toml:3: rule 'r': the target is the root cgroup"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"memory-high\"\nmemory_high = \"1G\"\nwhen = "
       "\"cpu some avg10>1\"\n",
       "bad.toml:3: rule 'r': the target is the root cgroup"},
      {"[daemon]\nscope = [\"batch.slice\"]\n[[rule]]\nname = \"r\"\ntarget = { cgroup = \"user.slice/app\" "
       "}\nwhen = \"memory full 10%/1s\"\naction = \"kill\"\n",
       "bad.toml:3: rule 'r': target /user.slice/app is outside the daemon's scope (batch.slice)"},
      {"[[rule]]\nname = \"evil\\n<4>pressure: rule 'x' on /batch: kill\"\ntarget = \"system\"\naction = "
       "\"log\"\nwhen = \"cpu some avg10>1\"\n",
       "bad.toml:2: rule 1: key 'name' has a control character or broken UTF-8 (\"evil\\x0a<4>pressure"},
      {"[daemon]\nscope = []\n[[rule]]\nname = \"r\"\ntarget = { cgroup = \"batch.slice\" "
       "}\nwhen = \"memory full 10%/1s\"\naction = \"kill\"\n",
       "bad.toml:3: rule 'r': target /batch.slice is outside the daemon's scope (empty: scope = [] lets no "
       "rule "
       "act anywhere)"},
      {"[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some "
       "avg10>1\"\n[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some "
       "avg10>1\"\n",
       "bad.toml:6: rule 'r': the name is already used"},
  };
  (void)rule;
  for (const Bad& b : cases) {
    auto c = parse_config(b.text, "bad.toml");
    ASSERT_FALSE(c) << b.text;
    EXPECT_EQ(c.error().message().rfind(b.says, 0), 0U) << "file:\n"
                                                        << b.text << "\nsaid: " << c.error().message();
  }
}

TEST(DaemonConfig, RealtimeCanBeTurnedOff) {
  auto c = parse_config(
      "[daemon]\nrealtime = false\n[[rule]]\nname = \"r\"\ntarget = \"system\"\n"
      "when = \"memory full 10%/1s\"\naction = \"log\"\n",
      "rt.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->realtime);
}

TEST(DaemonConfig, RootAndScopeAllowedWhenSaidSo) {
  auto root = parse_config(
      "[[rule]]\nname = \"r\"\ntarget = \"system\"\nallow_root = true\nwhen = \"memory full 10%/1s\"\naction "
      "= \"kill\"\n",
      "ok.toml");
  ASSERT_TRUE(root) << root.error().message();
  EXPECT_TRUE(root->rules[0].allow_root);
  auto in_scope = parse_config(
      "[daemon]\nscope = [\"batch.slice\"]\n[[rule]]\nname = \"r\"\ntarget = { cgroup = "
      "\"batch.slice/job-1\" }\n"
      "when = \"memory full 10%/1s\"\naction = \"kill\"\n",
      "ok.toml");
  EXPECT_TRUE(in_scope) << in_scope.error().message();
  auto log_anywhere = parse_config(
      "[daemon]\nscope = [\"batch.slice\"]\n[[rule]]\nname = \"r\"\ntarget = \"system\"\nwhen = \"memory "
      "full 10%/1s\"\n"
      "action = \"log\"\n",
      "ok.toml");
  EXPECT_TRUE(log_anywhere) << "logging touches nothing, so it is not bounded by the scope";
}

TEST(DaemonConfig, SizesAndSignals) {
  EXPECT_EQ(daemon::parse_size("512M").value(), 512ULL << 20);
  EXPECT_EQ(daemon::parse_size("1.5G").value(), 3ULL << 29);
  EXPECT_EQ(daemon::parse_size("64MiB").value(), 64ULL << 20);
  EXPECT_EQ(daemon::parse_size("4096").value(), 4096U);
  EXPECT_FALSE(daemon::parse_size("-1M"));
  EXPECT_FALSE(daemon::parse_size("M"));
  EXPECT_FALSE(daemon::parse_size("12X"));
  EXPECT_EQ(daemon::parse_signal("SIGUSR1").value(), SIGUSR1);
  EXPECT_EQ(daemon::parse_signal("TERM").value(), SIGTERM);
  EXPECT_EQ(daemon::parse_signal("9").value(), 9);
  EXPECT_FALSE(daemon::parse_signal("0"));
  EXPECT_FALSE(daemon::parse_signal("SIGNOPE"));
}

TEST(DaemonCli, BadConfigExitsTwoNamingFileAndLine) {
  char tmpl[] = "/tmp/pressure-unit-config-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  test::write_file(
      dir + "/bad.toml",
      "[[rule]]\nname = \"r\"\ntarget = \"system\"\nwhen = \"cpu some avg10>1\"\naction = \"explode\"\n");
  auto r = test::run_pressure({"daemon", "--check", "--config", dir + "/bad.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir + "/bad.toml:5: rule 'r': key 'action': 'explode'"), std::string::npos) << r.err;
  auto missing = test::run_pressure({"daemon", "--check", "--config", dir + "/nope.toml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find(dir + "/nope.toml: no such file"), std::string::npos) << missing.err;
  auto no_config = test::run_pressure({"daemon"});
  EXPECT_EQ(no_config.exit_code, 2);
  EXPECT_NE(no_config.err.find("--config"), std::string::npos) << no_config.err;
  std::remove((dir + "/bad.toml").c_str());
  ::rmdir(dir.c_str());
}

Candidate group(const std::string& path, std::uint64_t mib, double growth = 0, double pressure = 0) {
  Candidate c;
  c.path = path;
  c.name = path.substr(path.rfind('/') + 1);
  c.memory = mib << 20;
  c.growth = growth;
  c.pressure = pressure;
  return c;
}

TEST(VictimChoice, EachCriterionPicksItsLeader) {
  std::vector<Candidate> cs{group("/b/big", 300, 1e3, 0.01), group("/b/grows", 100, 5e6, 0.02),
                            group("/b/stalled", 50, 0, 0.40)};
  Rule rule;
  rule.victim.by = Victim::By::memory;
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 0U);
  EXPECT_EQ(policy::choose_victim(cs, rule)->reason, "largest memory (300.0 MiB) of 3 candidates");
  rule.victim.by = Victim::By::growth;
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 1U);
  rule.victim.by = Victim::By::pressure;
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 2U);
  EXPECT_EQ(policy::choose_victim(cs, rule)->reason, "most memory pressure (40.0% some) of 3 candidates");
}

TEST(VictimChoice, PreferFirstAvoidLastProtectedNever) {
  std::vector<Candidate> cs{group("/b/big.service", 300), group("/b/app.scope", 10),
                            group("/b/mid.service", 100)};
  Rule rule;
  rule.prefer = {"*.scope"};
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 1U);
  EXPECT_NE(policy::choose_victim(cs, rule)->reason.find("preferred by '*.scope'"), std::string::npos);
  rule.prefer.clear();
  rule.avoid = {"big.*"};
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 2U);
  rule.avoid = {"*"};  // everything avoided: still the best of them, and said so
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 0U);
  EXPECT_NE(policy::choose_victim(cs, rule)->reason.find("though avoided"), std::string::npos);
  cs[0].protected_ = true;  // holds pid 1 or the daemon
  cs[2].protected_ = true;
  EXPECT_EQ(policy::choose_victim(cs, rule)->index, 1U);
  cs[1].protected_ = true;
  EXPECT_FALSE(policy::choose_victim(cs, rule));
  EXPECT_FALSE(policy::choose_victim({}, rule));
}

TEST(VictimChoice, GlobsMatchNameOrPath) {
  EXPECT_TRUE(policy::glob_match("*.scope", "session-2.scope"));
  EXPECT_TRUE(policy::glob_match("*.scope", "session-2.scope", "/user.slice/session-2.scope"));
  EXPECT_TRUE(policy::glob_match("/user.slice/*", "app", "/user.slice/app"));
  EXPECT_TRUE(policy::glob_match("user.slice/**", "app", "/user.slice/a/app"));
  EXPECT_FALSE(policy::glob_match("/user.slice/*", "app", "/user.slice/a/app"));  // '*' is one level
  EXPECT_FALSE(policy::glob_match("/user.slice/*", "/user.slice/app"));           // a name is no path
  EXPECT_FALSE(policy::glob_match("*.scope", "a.service"));
  EXPECT_TRUE(policy::glob_match("job-[0-9]", "job-7"));
  EXPECT_FALSE(policy::glob_match("a/../b", "b", "/b"));  // refused by the configuration, matches nothing
}

TEST(DaemonLog, TextHasThePriorityPrefixAndJsonIsOneObject) {
  policy::Decision d;
  d.severity = policy::Decision::Severity::warning;
  d.rule = "stop \"thrash\"";
  d.where = "/batch";
  d.what = "kill";
  d.victim = "/batch/job";
  d.measured = "memory full 100ms/1s: 31.0%";
  d.share = 0.31;
  d.result = "ok";
  d.detail = "memory full 100ms/1s: 31.0%; kill /batch/job: largest memory (64.0 MiB) of 2 candidates";
  EXPECT_EQ(daemon::format_decision(d, daemon::LogFormat::text),
            "<4>pressure: rule 'stop \"thrash\"' on /batch: kill: " + d.detail);
  std::string j = daemon::format_decision(d, daemon::LogFormat::json);
  EXPECT_EQ(j.rfind("{\"priority\":4,", 0), 0U) << j;
  EXPECT_NE(j.find("\"rule\":\"stop \\\"thrash\\\"\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"victim\":\"/batch/job\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"share\":0.3100"), std::string::npos) << j;
  EXPECT_EQ(j.find('\n'), std::string::npos);

  // Names from outside (a group's, a victim's) cannot forge a line of their own.
  d.where = "/batch\n<4>pressure: rule 'x' on /: kill\x1b[2J";
  std::string text = daemon::format_decision(d, daemon::LogFormat::text);
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_NE(text.find("/batch\\x0a<4>pressure: rule 'x' on /: kill\\x1b[2J"), std::string::npos) << text;
}

}  // namespace
}  // namespace pressure

namespace pressure {
namespace {

TEST(DaemonChecks, MemorySwapUsageReclaimAndEnded) {
  auto avail = policy::parse_check("memory available<10%");
  ASSERT_TRUE(avail) << avail.error().message();
  EXPECT_EQ(avail->what, policy::Check::What::available);
  EXPECT_TRUE(avail->percent);
  EXPECT_TRUE(avail->holds(9.5));
  EXPECT_FALSE(avail->holds(10.0));
  EXPECT_FALSE(avail->holds(std::nan("")));  // unknown (no swap, no limit) never holds
  auto bytes = policy::parse_check("memory usage >= 1.5G");
  ASSERT_TRUE(bytes) << bytes.error().message();
  EXPECT_EQ(bytes->what, policy::Check::What::usage);
  EXPECT_FALSE(bytes->percent);
  EXPECT_EQ(bytes->value, 1.5 * 1073741824.0);
  EXPECT_EQ(policy::parse_check("swap free<1G")->what, policy::Check::What::swap_free);
  auto reclaim = policy::parse_check("reclaim>1000/s");
  ASSERT_TRUE(reclaim) << reclaim.error().message();
  EXPECT_EQ(reclaim->value, 1000.0);
  auto ended = policy::parse_check("io full ended avg10=0.5,avg60=1");
  ASSERT_TRUE(ended) << ended.error().message();
  EXPECT_EQ(ended->resource, Resource::io);
  EXPECT_EQ(ended->line, Line::full);
  EXPECT_EQ(ended->criteria.below.to_string(), "avg10=0.50,avg60=1.00");
  EXPECT_TRUE(ended->holds(1.0));
  EXPECT_FALSE(ended->holds(0.0));

  for (const char* bad :
       {"memory available", "memory available<lots", "memory available<101%", "swap free=3", "reclaim>5%",
        "reclaim>-1", "cpu most ended", "memory some ended avg10=x", "memory usage>1Q"}) {
    auto r = policy::parse_check(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find(std::string("'") + bad + "'"), std::string::npos)
        << r.error().message();
  }
}

TEST(DaemonChecks, MixWithConditionsInARule) {
  auto c = daemon::parse_config(
      "[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = [\"memory some avg10>5\", \"memory "
      "available<5%\", "
      "\"reclaim>0\"]\naction = \"log\"\n",
      "x.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->rules[0].conditions.size(), 1U);
  EXPECT_EQ(c->rules[0].checks.size(), 2U);
  auto alone = daemon::parse_config(
      "[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\nwhen = \"reclaim>100/s\"\naction = \"log\"\n",
      "x.toml");
  ASSERT_TRUE(alone) << alone.error().message();
  EXPECT_FALSE(alone->rules[0].spec) << "a rate is not a trigger spec";
  auto bad = daemon::parse_config(
      "[[rule]]\nname = \"r\"\ntarget = { cgroup = \"a\" }\naction = \"log\"\nwhen = [\"swap free<ten\"]\n",
      "x.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind("x.toml:5: rule 'r': key 'when': 'swap free<ten'", 0), 0U)
      << bad.error().message();
}

}  // namespace
}  // namespace pressure

namespace pressure::daemon {
namespace {

// The file itself: only a regular file of a sane size is read; a FIFO never blocks the start,
// /dev/zero is not read until memory runs out.
TEST(DaemonConfigFile, OnlyARegularFileOfASaneSizeIsRead) {
  std::string dir = ::testing::TempDir() + "pressure-config-file-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  ASSERT_EQ(::mkfifo((dir + "/fifo.toml").c_str(), 0600), 0);
  std::ofstream(dir + "/big.toml") << std::string(2 << 20, '#');
  std::ofstream(dir + "/ok.toml")
      << "[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\n";
  struct Case {
    std::string path;
    Errc code;
    std::string says;
  };
  for (const Case& c : {Case{dir + "/fifo.toml", Errc::invalid_argument, "not a regular file"},
                        Case{"/dev/zero", Errc::invalid_argument, "/dev/zero: not a regular file"},
                        Case{dir + "/big.toml", Errc::invalid_argument, "larger than 1 MiB"},
                        Case{dir + "/missing.toml", Errc::not_found, "no such file"}}) {
    auto config = load_config(c.path);
    ASSERT_FALSE(config) << c.path;
    EXPECT_EQ(config.error().code(), c.code) << c.path;
    EXPECT_NE(config.error().message().find(c.says), std::string::npos) << config.error().message();
  }
  auto ok = load_config(dir + "/ok.toml");
  EXPECT_TRUE(ok) << ok.error().message();
  std::filesystem::remove_all(dir);
}

// The file is read through the Io seam: what the system says (here, faults only a seam can
// produce) reaches the user as the file's error, with the exit code it means.
TEST(DaemonConfigFile, IsReadThroughTheIoSeam) {
  std::string path = ::testing::TempDir() + "pressure-config-io-" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path)
      << "[[rule]]\nname = \"r\"\ntarget = \"system\"\naction = \"log\"\nwhen = \"cpu some avg10>1\"\n";
  struct Failing : Io {
    int open_errno = 0, read_errno = 0;
    int open_at(int dirfd, const char* p, int flags) const override {
      return open_errno != 0 ? -open_errno : Io::open_at(dirfd, p, flags);
    }
    long pread(int fd, char* buf, std::size_t n, long off) const override {
      return read_errno != 0 ? -read_errno : Io::pread(fd, buf, n, off);
    }
  };
  Failing io;
  EXPECT_TRUE(load_config(path, io));
  io.open_errno = EACCES;
  auto denied = load_config(path, io);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code(), Errc::permission);
  EXPECT_EQ(denied.error().message(), path + ": permission denied");
  io.open_errno = 0;
  io.read_errno = EIO;
  auto broken = load_config(path, io);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), Errc::invalid_argument);
  EXPECT_EQ(broken.error().message(), path + ": cannot read the file: Input/output error");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pressure::daemon

namespace pressure::daemon {
namespace {

// What the file needs of this machine: --check, the start and a reload refuse the same things.
TEST(DaemonPreflight, WhatCannotWorkHereIsRefusedNamingTheRule) {
  const std::string rule = "[[rule]]\nname = \"r\"\ntarget = \"system\"\nwhen = \"cpu some avg10>1\"\n";
  struct Case {
    std::string text;
    std::string says;
  };
  const std::string long_socket = "/tmp/" + std::string(120, 's');
  for (const Case& c : {
           Case{rule + "action = \"exec\"\ncommand = [\"no-such-program-here\"]\n",
                "x.toml:1: rule 'r': exec: cannot run 'no-such-program-here': not found in PATH"},
           Case{rule + "action = \"exec\"\ncommand = [\"/nonexistent/program\"]\n",
                "x.toml:1: rule 'r': exec: cannot run '/nonexistent/program': No such file or directory"},
           Case{rule +
                    "action = \"kill\"\nallow_root = true\nprekill = { command = [\"no-such-hook-here\"] }\n",
                "x.toml:1: rule 'r': prekill: cannot run 'no-such-hook-here': not found in PATH"},
           Case{rule + "action = \"notify\"\nnotify = { file = \"/nonexistent/folder/events\" }\n",
                "x.toml:1: rule 'r': notify.file: the folder /nonexistent/folder does not exist"},
           Case{rule + "action = \"notify\"\nnotify = { socket = \"" + long_socket + "\" }\n",
                "x.toml:1: rule 'r': notify.socket: the path is 125 bytes; a unix socket path holds at most "
                "107"},
           Case{"[daemon]\nlisten = \"192.0.2.7:9101\"\n" + rule + "action = \"log\"\n",
                "[daemon] listen: '192.0.2.7' is not an address of this machine"},
       }) {
    auto config = parse_config(c.text, "x.toml");
    ASSERT_TRUE(config) << config.error().message();
    auto ready = preflight(*config);
    ASSERT_FALSE(ready) << c.text;
    EXPECT_EQ(ready.error().message().rfind(c.says, 0), 0U) << ready.error().message();
  }
  for (const std::string& fine : {rule + "action = \"exec\"\ncommand = [\"sh\", \"-c\", \"true\"]\n",
                                  rule + "action = \"notify\"\nnotify = { file = \"/tmp/events\" }\n",
                                  "[daemon]\nlisten = \"127.0.0.1:0\"\n" + rule + "action = \"log\"\n"}) {
    auto config = parse_config(fine, "x.toml");
    ASSERT_TRUE(config) << config.error().message();
    EXPECT_TRUE(preflight(*config)) << fine;
  }
  // The command line says the same and exits 2, before arming anything.
  std::string path = ::testing::TempDir() + "preflight-" + std::to_string(::getpid()) + ".toml";
  std::ofstream(path) << rule + "action = \"exec\"\ncommand = [\"no-such-program-here\"]\n";
  auto check = test::run_pressure({"daemon", "--check", "--config", path});
  EXPECT_EQ(check.exit_code, 2) << check.err;
  EXPECT_NE(check.err.find("exec: cannot run 'no-such-program-here'"), std::string::npos) << check.err;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace pressure::daemon
