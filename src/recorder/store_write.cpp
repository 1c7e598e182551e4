// Writing the history: one transaction per tick (only the lines that changed), and the
// retention and downsampling of maintain().
#include <algorithm>
#include <iterator>
#include <utility>

#include <sqlite3.h>

#include "recorder/statement.hpp"
#include "recorder/store.hpp"

namespace pressure::recorder {
namespace {

bool same_values(const Point& a, const Point& b) {
  return a.total_us == b.total_us && a.avg10 == b.avg10 && a.avg60 == b.avg60 && a.avg300 == b.avg300;
}

}  // namespace

Result<std::int64_t> Store::target_id(const std::string& name) {
  if (auto it = m_target_ids.find(name); it != m_target_ids.end()) return it->second;
  Statement insert(m_db, "INSERT OR IGNORE INTO targets(name) VALUES(?1)");
  insert.bind(1, name);
  if (int rc = insert.step(); rc != SQLITE_DONE)
    return tl::unexpected(error("cannot add target " + name, rc));
  Statement select(m_db, "SELECT id FROM targets WHERE name=?1");
  select.bind(1, name);
  if (int rc = select.step(); rc != SQLITE_ROW)
    return tl::unexpected(error("cannot find target " + name, rc));
  std::int64_t id = select.column(0);
  m_target_ids.emplace(name, id);
  return id;
}

Result<void> Store::append(const Tick& tick) {
  std::int64_t time_us =
      std::chrono::duration_cast<std::chrono::microseconds>(tick.time.time_since_epoch()).count();
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  Written written;
  if (Result<void> result = finish(write_tick(tick, time_us, written)); !result) {
    // Ids or values cached in the failed transaction may not exist: start from nothing.
    m_target_ids.clear();
    m_written.clear();
    return result;
  }
  remember(std::move(written));
  return {};
}

Result<void> Store::write_tick(const Tick& tick, std::int64_t time_us, Written& written) {
  Statement add_tick(m_db, "INSERT OR REPLACE INTO ticks(time_us, interval_us) VALUES(?1, ?2)");
  add_tick.bind(1, time_us).bind(2, tick.interval.count());
  if (int rc = add_tick.step(); rc != SQLITE_DONE) return tl::unexpected(error("cannot write a tick", rc));
  Statement add(m_db,
                "INSERT OR REPLACE INTO samples(target_id, resource, line, time_us, total_us, avg10, avg60, "
                "avg300) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (add.prepared() != SQLITE_OK) return tl::unexpected(error("cannot prepare", add.prepared()));
  for (const TargetSample& target : tick.targets)
    if (auto r = write_target(add, target, time_us, written); !r) return r;
  return mark_gone(add, time_us, written);
}

Result<void> Store::write_target(Statement& add, const TargetSample& target, std::int64_t time_us,
                                 Written& written) {
  Result<std::int64_t> id = target_id(target.name);
  if (!id) return tl::unexpected(id.error());
  written.present.insert(*id);
  for (Resource r : k_resources) {
    const Result<Pressure>& p = target.snapshot[r];
    if (!p) continue;
    for (Line l : k_lines) {
      const std::optional<Stall>& s = (*p)[l];
      if (!s) continue;
      LineKey key = std::make_tuple(*id, static_cast<int>(r), static_cast<int>(l));
      Point point{time_us, s->total_us, s->avg10, s->avg60, s->avg300};
      if (!m_write_unchanged)
        if (auto it = m_written.find(key); it != m_written.end() && same_values(it->second, point)) continue;
      add.bind(1, *id)
          .bind(2, static_cast<int>(r))
          .bind(3, static_cast<int>(l))
          .bind(4, time_us)
          .bind(5, static_cast<std::int64_t>(s->total_us))  // the counter's bits; read back unsigned
          .bind(6, s->avg10.hundredths())
          .bind(7, s->avg60.hundredths())
          .bind(8, s->avg300.hundredths());
      int rc = add.step();
      add.reset();
      if (rc != SQLITE_DONE) return tl::unexpected(error("cannot write a sample", rc));
      written.lines.emplace_back(key, point);
    }
  }
  return {};
}

// Targets sampled before (in this process; on its first tick, ever) but not now are marked gone,
// so their last values are not carried over the time they did not exist.
Result<void> Store::mark_gone(Statement& add, std::int64_t time_us, Written& written) {
  std::set<std::int64_t> before = m_present;
  if (m_first_append) {
    Statement all(m_db, "SELECT id FROM targets");
    Result<std::vector<std::int64_t>> ids = column_of(all, "cannot read targets");
    if (!ids) return tl::unexpected(ids.error());
    before.insert(ids->begin(), ids->end());
  }
  for (std::int64_t id : before) {
    if (written.present.count(id) != 0) continue;
    add.bind(1, id).bind(2, k_gone_marker).bind(3, 0).bind(4, time_us);
    for (int column = 5; column <= 8; ++column) add.bind(column, 0);
    int rc = add.step();
    add.reset();
    if (rc != SQLITE_DONE) return tl::unexpected(error("cannot write a sample", rc));
    written.gone.push_back(id);
  }
  return {};
}

void Store::remember(Written&& written) {
  for (auto& [key, point] : written.lines) m_written[key] = point;
  // A target that comes back has all its lines written again.
  for (std::int64_t id : written.gone)
    for (auto it = m_written.begin(); it != m_written.end();)
      it = std::get<0>(it->first) == id ? m_written.erase(it) : std::next(it);
  m_present = std::move(written.present);
  m_first_append = false;
}

Result<MaintenanceReport> Store::maintain(Clock::time_point now, const Retention& retention) {
  using std::chrono::microseconds;
  std::int64_t now_us = std::chrono::duration_cast<microseconds>(now.time_since_epoch()).count();
  Cuts cuts;
  cuts.bucket = std::max<std::int64_t>(1, retention.bucket.count());
  cuts.keep_from = now_us - retention.retention.count();
  cuts.raw_from = (now_us - retention.raw.count()) / cuts.bucket * cuts.bucket;  // whole buckets only
  // Rows below the previous run's raw cut were thinned then: start there (whole buckets).
  cuts.thin_from = std::max(m_thinned_until, cuts.keep_from / cuts.bucket * cuts.bucket - cuts.bucket);
  MaintenanceReport report;
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return tl::unexpected(r.error());
  Result<void> body = thin_ticks(cuts, report);
  if (body) body = thin_samples(cuts, report);
  if (Result<void> result = finish(std::move(body)); !result) return tl::unexpected(result.error());
  m_thinned_until = cuts.raw_from;
  return report;
}

// Ticks: older than the retention gone; older than the raw period, the last of each bucket.
Result<void> Store::thin_ticks(const Cuts& cuts, MaintenanceReport& report) {
  Statement old_ticks(m_db, "DELETE FROM ticks WHERE time_us < ?1");
  old_ticks.bind(1, cuts.keep_from);
  if (int rc = old_ticks.step(); rc != SQLITE_DONE)
    return tl::unexpected(error("cannot thin the history", rc));
  report.ticks_deleted += sqlite3_changes(m_db);
  Statement thin(
      m_db,
      "DELETE FROM ticks WHERE time_us >= ?3 AND time_us < ?1 AND EXISTS (SELECT 1 FROM ticks n "
      "WHERE n.time_us > ticks.time_us AND n.time_us < ?1 AND n.time_us / ?2 = ticks.time_us / ?2)");
  thin.bind(1, cuts.raw_from).bind(2, cuts.bucket).bind(3, cuts.thin_from);
  if (int rc = thin.step(); rc != SQLITE_DONE) return tl::unexpected(error("cannot thin the history", rc));
  report.ticks_deleted += sqlite3_changes(m_db);
  return {};
}

// Samples, line by line so every delete is a range of the primary key, not a table scan. Older
// than the retention: gone, except each line's last row before it (the base of the values
// carried forward after it). Older than the raw period: the last row per bucket.
Result<void> Store::thin_samples(const Cuts& cuts, MaintenanceReport& report) {
  Statement expire(
      m_db,
      "DELETE FROM samples WHERE target_id = ?1 AND resource = ?2 AND line = ?3 AND time_us < ?4 AND "
      "EXISTS (SELECT 1 FROM samples n WHERE n.target_id = ?1 AND n.resource = ?2 AND n.line = ?3 AND "
      "n.time_us > samples.time_us AND n.time_us <= ?4)");
  Statement thin(
      m_db,
      "DELETE FROM samples WHERE target_id = ?1 AND resource = ?2 AND line = ?3 AND time_us >= ?6 AND "
      "time_us < ?4 AND EXISTS (SELECT 1 FROM samples n WHERE n.target_id = ?1 AND n.resource = ?2 AND "
      "n.line = ?3 AND n.time_us > samples.time_us AND n.time_us < ?4 AND n.time_us / ?5 = "
      "samples.time_us / ?5)");
  Statement ids(m_db, "SELECT id FROM targets");
  if (expire.prepared() != SQLITE_OK || thin.prepared() != SQLITE_OK || ids.prepared() != SQLITE_OK)
    return tl::unexpected(error("cannot prepare maintenance", SQLITE_ERROR));
  Result<std::vector<std::int64_t>> targets = column_of(ids, "cannot read targets");
  if (!targets) return tl::unexpected(targets.error());
  for (std::int64_t id : *targets)
    for (int resource = k_gone_marker; resource < static_cast<int>(k_resources.size()); ++resource)
      for (int line = 0; line < 2; ++line) {
        expire.reset();
        expire.bind(1, id).bind(2, resource).bind(3, line).bind(4, cuts.keep_from);
        if (int rc = expire.step(); rc != SQLITE_DONE)
          return tl::unexpected(error("cannot thin the history", rc));
        report.samples_deleted += sqlite3_changes(m_db);
        thin.reset();
        thin.bind(1, id)
            .bind(2, resource)
            .bind(3, line)
            .bind(4, cuts.raw_from)
            .bind(5, cuts.bucket)
            .bind(6, cuts.thin_from);
        if (int rc = thin.step(); rc != SQLITE_DONE)
          return tl::unexpected(error("cannot thin the history", rc));
        report.samples_deleted += sqlite3_changes(m_db);
      }
  return {};
}

}  // namespace pressure::recorder
