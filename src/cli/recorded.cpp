// What `history` and `plot` look at, and the time and duration text they print it with.
#include "cli/recorded.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>

#include <fmt/core.h>

#include "cli/cli.hpp"
#include "cli/record.hpp"
#include "core/cgroup_path.hpp"
#include "recorder/time_arg.hpp"

namespace pressure::cli {

namespace fs = std::filesystem;
using recorder::Store;

namespace {

std::int64_t to_us(recorder::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string local_time(std::int64_t us, const char* format) {
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[64];
  return std::string(buffer, std::strftime(buffer, sizeof buffer, format, &tm));
}

double epoch_seconds(std::int64_t us) { return static_cast<double>(us / 1000) / 1000.0; }
double percent4(double share) { return std::round(share * 100.0 * 1e4) / 1e4; }

std::string human_duration(std::int64_t us) {
  std::int64_t s = (us + 500000) / 1000000;
  if (s >= 3600)
    return s % 3600 == 0 ? fmt::format("{}h", s / 3600) : fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  if (s >= 60) return s % 60 == 0 ? fmt::format("{}m", s / 60) : fmt::format("{}m{:02}s", s / 60, s % 60);
  if (us % 1000000 == 0) return fmt::format("{}s", us / 1000000);
  return fmt::format("{:.1f}s", static_cast<double>(us) / 1e6);
}

// The db the user named, or the default; the default's directory is created.
Result<std::string> db_path(const std::string& given, bool create_dir) {
  if (!given.empty()) return given;
  std::string path = default_history_path();
  if (create_dir) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    if (ec)
      return fail(Errc::permission,
                  "cannot create " + fs::path(path).parent_path().string() +
                      " for the history: " + ec.message() + "; give a file with --db",
                  path, ec.value());
  }
  return path;
}

namespace {

// The cgroup name as the recorder stores it ("/a/b"), from --cgroup or --pid; nullopt for all.
Result<std::optional<std::string>> wanted_target(const GlobalOptions& global, const TargetOptions& target) {
  if (target.pid) {
    Reader reader(Target::pid(*target.pid), global.reader_options());
    Result<std::string> path = reader.resolved_path();
    if (!path) return tl::unexpected(path.error());
    return std::optional<std::string>(*path);
  }
  if (!target.cgroup) return std::optional<std::string>();
  // Absolute paths under the mount need the mount; a relative path does not (the group may be
  // long gone: this is history).
  std::string root;
  if (!target.cgroup->empty() && target.cgroup->front() == '/')
    if (Result<std::string> r = cgroup2_root(global.reader_options()); r) root = *r;
  Result<std::string> path = core::normalize_cgroup_path(*target.cgroup, root);
  if (!path)
    return fail(Errc::invalid_argument, "--cgroup " + *target.cgroup + ": " + path.error().message());
  return std::optional<std::string>(*path);
}

}  // namespace

Result<Period> period(const std::string& since, const std::string& until) {
  auto now = recorder::Clock::now();
  Result<recorder::Clock::time_point> s = recorder::parse_time_arg(since, now, "--since");
  if (!s) return tl::unexpected(s.error());
  Result<recorder::Clock::time_point> u = recorder::parse_time_arg(until, now, "--until");
  if (!u) return tl::unexpected(u.error());
  if (*u <= *s)
    return fail(Errc::invalid_argument, "--since " + since + " (" + local_time(to_us(*s)) +
                                            ") is not before --until " + until + " (" +
                                            local_time(to_us(*u)) + ")");
  return Period{to_us(*s), to_us(*u)};
}

// What `history` and `plot` read: the history file, the period and the target.
void add_recorded_options(CLI::App& cmd, std::string& db, std::string& since, std::string& until,
                          TargetOptions& target) {
  cmd.add_option("--db", db, "the history file (default: " + default_history_path() + ")")
      ->option_text("FILE");
  cmd.add_option("--since", since, "start: ISO 8601, epoch seconds, -1h, '10m ago' (default -1h)")
      ->option_text("T");
  cmd.add_option("--until", until, "end, the same forms (default now)")->option_text("T");
  target.add_to(cmd);
}

namespace {

// The targets to look at: the one asked for, or all recorded.
Result<std::vector<std::string>> chosen_targets(Store& store, const std::optional<std::string>& wanted) {
  Result<std::vector<std::string>> all = store.targets();
  if (!all) return all;
  if (!wanted) return all;
  if (std::find(all->begin(), all->end(), *wanted) == all->end()) {
    std::string known;
    for (std::size_t i = 0; i < all->size() && i < 10; ++i) known += (i ? ", " : "") + (*all)[i];
    if (all->size() > 10) known += ", ...";
    return fail(Errc::not_found,
                store.path() + " has no samples of " + *wanted +
                    (known.empty() ? std::string(" (it is empty)") : " (it has " + known + ")"));
  }
  return std::vector<std::string>{*wanted};
}

}  // namespace

// Fills `out`, or says why there is nothing to look at and returns the exit code.
std::optional<int> open_recorded(const GlobalOptions& global, const std::string& db,
                                 const TargetOptions& target, const Period& when, Recorded& out) {
  Result<std::optional<std::string>> wanted = wanted_target(global, target);
  if (!wanted) return report(wanted.error());
  Result<std::string> path = db_path(db, false);
  if (!path) return report(path.error());
  Result<Store> store = Store::open(*path, Store::Mode::read);
  if (!store) return report(store.error());
  Result<std::vector<std::string>> targets = chosen_targets(*store, *wanted);
  if (!targets) return report(targets.error());
  Result<std::vector<std::int64_t>> ticks = store->ticks(when.since_us, when.until_us);
  if (!ticks) return report(ticks.error());
  if (ticks->size() < 2) {
    fmt::print(stderr, "pressure: {} has {} between {} and {}\n", *path,
               ticks->empty() ? "no samples" : "only one sample", local_time(when.since_us),
               local_time(when.until_us));
    return k_exit_negative;
  }
  out.path = *path;
  out.wanted = *wanted;
  out.store.emplace(std::move(*store));
  out.targets = std::move(*targets);
  out.ticks = std::move(*ticks);
  return std::nullopt;
}

}  // namespace pressure::cli
