// The daemon's configuration: a TOML file of rules, validated into policy::Rule values. Every
// error names the file, the line and the key, so `pressure daemon --check` can point at it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <pressure/error.hpp>
#include <pressure/io.hpp>

#include "policy/rules.hpp"

namespace pressure::daemon {

enum class LogFormat { text, json };

struct Config {
  std::string path;
  LogFormat log_format = LogFormat::text;
  // Globs of the cgroups that kill, signal and memory-high rules may act on. Unset: any group but
  // the root (which needs allow_root); set but empty (`scope = []`): nowhere.
  std::optional<std::vector<std::string>> scope;
  std::chrono::milliseconds idle_poll{500};  // polling rules on a target with no stall
  bool realtime = true;  // run the event loop under SCHED_FIFO where allowed (sys::run_in_real_time)
  std::string listen;    // serve /metrics here (as `pressure serve`), if set
  std::vector<std::string> metrics_cgroups;  // the cgroups it exports (globs); empty: top-level
  bool metrics_names = true;                 // unit, container_id, pod_uid labels (serve --no-name-labels)
  std::vector<policy::Rule> rules;
};

// Parses and validates `text` as if read from `path`. Errors are invalid_argument with a
// message "PATH:LINE: ...".
Result<Config> parse_config(std::string_view text, const std::string& path);
// Reads (through `io`: regular files only, at most 1 MiB) and parses a file; not_found and
// permission errors name it, any other failure to read is invalid_argument.
Result<Config> load_config(const std::string& path, const Io& io = *real_io());

// "512M", "1G", "64MiB", "1048576" -> bytes.
Result<std::uint64_t> parse_size(std::string_view text);
// "SIGUSR1", "USR1", "10" -> 10.
Result<int> parse_signal(std::string_view text);

}  // namespace pressure::daemon
