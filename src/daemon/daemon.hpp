// `pressure daemon`: loads the rules, runs them on a Monitor, reloads on SIGHUP, speaks the
// service manager's notify protocol, and logs every decision once.
#pragma once

#include <optional>
#include <string>

#include <pressure/reader.hpp>

#include "daemon/config.hpp"
#include "policy/engine.hpp"

namespace pressure::daemon {

struct Options {
  std::string config_path;
  bool dry_run = false;
  bool check = false;                   // validate (parse and arm), then exit
  std::optional<LogFormat> log_format;  // overrides the file's
  ReaderOptions reader;
};

// Exit codes: 0 stopped by SIGTERM/SIGINT or the check passed; 2 a bad configuration; 3 no
// PSI here; 4 a runtime failure.
int run(const Options& options);

// One decision as a log line: "<4>pressure: rule ..." (with the journal's priority prefix) or
// a JSON object.
std::string format_decision(const policy::Decision& d, LogFormat format);

}  // namespace pressure::daemon
