// What every subcommand shares: global flags, targets, reporting errors.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include <pressure/reader.hpp>

namespace pressure::cli {

struct GlobalOptions {
  std::string proc_root = "/proc";
  std::string cgroup_root;
  ReaderOptions reader_options() const { return ReaderOptions{proc_root, cgroup_root, nullptr}; }
};

// --cgroup PATH | --pid PID (default: the system).
struct TargetOptions {
  std::optional<std::string> cgroup;
  std::optional<int> pid;
  void add_to(CLI::App& command);
  Target target() const;
};

// A number of seconds, finite, from `min` to `max` ("nan", "inf", "1e300" are refused, so no
// loop is left that never sleeps); the message names the range in plain numbers.
CLI::Validator seconds_between(double min, double max);

// A process id in plain decimal: "010" and "0x10" are refused instead of read as 8 and 16.
CLI::Validator process_id();

// The exit code for an error of the library.
int exit_code(Errc code);

// "pressure: <message>" on stderr; returns exit_code(error.code()).
int report(const Error& error);

}  // namespace pressure::cli
