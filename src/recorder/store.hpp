// The history file: PSI samples of many targets in SQLite, written one transaction per tick.
//
//   auto store = pressure::recorder::Store::open("history.db", Store::Mode::write);
//   store->append(tick);                                   // committed: survives a kill -9
//   store->maintain(now, {});                              // retention and downsampling
//   auto h = pressure::recorder::Store::open("history.db", Store::Mode::read);
//   auto series = h->series("/batch.slice", since, until); // for history and plot
//
// Layout (schema version 1, PRAGMA user_version; PRAGMA application_id 'PrSs'):
//   targets(id, name)          "system" or a cgroup path relative to the mount ("/batch.slice")
//   ticks(time_us, interval_us)  one row per sample taken: when the recorder was running
//   samples(target, resource, line, time_us, total_us, avg10, avg60, avg300)
//          a line's values at a tick, written only when they changed since the line's previous
//          row (an idle group costs nothing); a line's value at any tick is its last row at or
//          before it. Averages are the kernel's integer hundredths, totals exact (the bits of
//          the unsigned 64-bit counter). A row with resource -1 marks a target that was not
//          there at that tick (removed, or no longer recorded): nothing is carried past it.
// Journal: WAL with synchronous=NORMAL. A committed tick is in the WAL before the commit
// returns, so killing the recorder (even SIGKILL) loses nothing committed; only a power loss or
// kernel crash can lose the last ticks, never the file's consistency.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <pressure/error.hpp>
#include <pressure/types.hpp>

#include "sys/fd.hpp"

struct sqlite3;

namespace pressure::recorder {

class Statement;

using Clock = std::chrono::system_clock;

inline constexpr int k_schema_version = 1;
inline constexpr std::int32_t k_application_id = 0x50725373;  // "PrSs"

// What one tick sampled.
struct TargetSample {
  std::string name;  // "system" or "/cgroup/path"
  Snapshot snapshot;
};
struct Tick {
  Clock::time_point time;
  std::chrono::microseconds interval{0};
  std::vector<TargetSample> targets;
};

// Raw rows are kept `raw` long, then thinned to one per `bucket` (the last of each, so totals and
// therefore shares over buckets stay exact); everything older than `retention` is deleted (the
// last row of each line before it is kept as the base of what follows).
struct Retention {
  std::chrono::microseconds retention = std::chrono::hours(24 * 30);
  std::chrono::microseconds raw = std::chrono::hours(24);
  std::chrono::microseconds bucket = std::chrono::minutes(1);
};

struct MaintenanceReport {
  long long ticks_deleted = 0;
  long long samples_deleted = 0;
};

// A line's value at one tick.
struct Point {
  std::int64_t time_us = 0;
  std::uint64_t total_us = 0;
  Percent avg10, avg60, avg300;
};

// One line of one target over a period, one point per tick where the line had a value.
struct Series {
  std::string target;
  Resource resource = Resource::cpu;
  Line line = Line::some;
  std::vector<Point> points;
};

class Store {
 public:
  enum class Mode { write, read };

  // write: creates the file (not its directory) and the schema if needed; read: the file must
  // exist. Refuses (nothing written) a file that is not SQLite, an SQLite file of another
  // program, or one of a newer schema. Errors name the file: malformed for those,
  // permission/system when it cannot be opened or written.
  static Result<Store> open(const std::string& path, Mode mode);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::string& path() const { return m_path; }

  // One transaction: the tick and the lines that changed.
  Result<void> append(const Tick& tick);
  // Every line of every target written again at the next append (after reopening, or to make
  // each tick self-contained).
  void forget_written() { m_written.clear(); }
  // Write every line at every tick, changed or not (the benchmark's worst case).
  void set_write_unchanged(bool on) { m_write_unchanged = on; }

  Result<MaintenanceReport> maintain(Clock::time_point now, const Retention& retention);

  // Names of the targets with samples.
  Result<std::vector<std::string>> targets();
  // Times of the ticks in [since, until].
  Result<std::vector<std::int64_t>> ticks(std::int64_t since_us, std::int64_t until_us);
  // Every line of `target` with a value at the ticks in [since, until]: each point is the
  // line's value at a tick (carried from its last change).
  Result<std::vector<Series>> series(const std::string& target, std::int64_t since_us, std::int64_t until_us);
  Result<long long> count_rows(const std::string& table);
  // Moves the WAL into the database file and empties the WAL (for measuring the file's size).
  Result<void> checkpoint();
  // Bytes of the file's pages holding data (SQLite's dbstat: page size minus unused bytes).
  Result<long long> used_bytes();

 private:
  using LineKey = std::tuple<std::int64_t, int, int>;  // target id, resource, line
  // Whose file it is: ours (application_id) and of which schema version.
  struct Identity {
    bool ours = false;
    std::int64_t version = 0;
  };
  // What one append wrote, remembered once it is committed.
  struct Written {
    std::vector<std::pair<LineKey, Point>> lines;
    std::set<std::int64_t> present;
    std::vector<std::int64_t> gone;
  };
  // Where maintain() cuts, in microseconds since the epoch.
  struct Cuts {
    std::int64_t keep_from = 0;  // older rows are deleted
    std::int64_t raw_from = 0;   // older rows are thinned to one per bucket
    std::int64_t thin_from = 0;  // older rows were thinned before
    std::int64_t bucket = 1;
  };

  Store(std::string path, sqlite3* db) : m_path(std::move(path)), m_db(db) {}
  Result<void> exec(const char* sql);
  // COMMIT after a body that succeeded; ROLLBACK (and its error) after one that failed.
  Result<void> finish(Result<void> body);
  Result<std::vector<std::int64_t>> column_of(Statement& query, const std::string& what);
  Error error(const std::string& what, int rc) const;

  // open()'s steps, on the opened database (store_open.cpp).
  Result<Identity> identify(Mode mode);
  Result<void> check_integrity();
  Result<void> prepare_for_writing(const Identity& identity);

  // append()'s and maintain()'s steps (store_write.cpp).
  Result<std::int64_t> target_id(const std::string& name);
  Result<void> write_tick(const Tick& tick, std::int64_t time_us, Written& written);
  Result<void> write_target(Statement& add, const TargetSample& target, std::int64_t time_us,
                            Written& written);
  Result<void> mark_gone(Statement& add, std::int64_t time_us, Written& written);
  void remember(Written&& written);
  Result<void> thin_ticks(const Cuts& cuts, MaintenanceReport& report);
  Result<void> thin_samples(const Cuts& cuts, MaintenanceReport& report);

  // series()' steps (store_read.cpp): the ticks where the target was gone.
  Result<std::vector<std::int64_t>> gone_marks(std::int64_t id, std::int64_t from_us, std::int64_t to_us);

  std::string m_path;
  sqlite3* m_db = nullptr;
  sys::Fd m_lock;  // flock'ed while writing: one recorder per file; closed after m_db
  bool m_write_unchanged = false;
  std::map<std::string, std::int64_t> m_target_ids;
  // Targets of the previous tick; on the first tick of this process, none is known.
  std::set<std::int64_t> m_present;
  bool m_first_append = true;
  // Rows before this were thinned by an earlier maintain() of this object.
  std::int64_t m_thinned_until = INT64_MIN;
  // Last written (total, avg10, avg60, avg300) per target id, resource and line.
  std::map<LineKey, Point> m_written;
};

}  // namespace pressure::recorder
