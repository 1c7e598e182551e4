// Reading the history: targets, ticks, and each line's value at every tick (carried from its
// last change, and not past a tick where its target was gone).
#include <climits>
#include <utility>

#include <sqlite3.h>

#include "recorder/statement.hpp"
#include "recorder/store.hpp"

namespace pressure::recorder {
namespace {

Percent hundredths(std::int64_t v) {
  return Percent::from_hundredths(static_cast<std::uint32_t>(v < 0              ? 0
                                                             : v > 0xffffffffLL ? 0xffffffffLL
                                                                                : v));
}

// A line's value at each of `times`: its last change at or before the tick, unless the target
// was marked gone since that change.
std::vector<Point> at_ticks(const std::vector<Point>& changes, const std::vector<std::int64_t>& times,
                            const std::vector<std::int64_t>& marks) {
  std::vector<Point> points;
  std::size_t next = 0, next_mark = 0;
  const Point* current = nullptr;
  std::int64_t last_mark = INT64_MIN;
  for (std::int64_t t : times) {
    while (next < changes.size() && changes[next].time_us <= t) current = &changes[next++];
    while (next_mark < marks.size() && marks[next_mark] <= t) last_mark = marks[next_mark++];
    if (current == nullptr || last_mark >= current->time_us) continue;  // not there (yet, or any more)
    Point p = *current;
    p.time_us = t;
    points.push_back(p);
  }
  return points;
}

}  // namespace

Result<std::vector<std::string>> Store::targets() {
  Statement q(m_db, "SELECT name FROM targets ORDER BY name = 'system' DESC, name");
  if (q.prepared() != SQLITE_OK) return tl::unexpected(error("cannot read targets", q.prepared()));
  std::vector<std::string> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.text(0));
  if (rc != SQLITE_DONE) return tl::unexpected(error("cannot read targets", rc));
  return out;
}

Result<std::vector<std::int64_t>> Store::ticks(std::int64_t since_us, std::int64_t until_us) {
  Statement q(m_db, "SELECT time_us FROM ticks WHERE time_us >= ?1 AND time_us <= ?2 ORDER BY time_us");
  if (q.prepared() != SQLITE_OK) return tl::unexpected(error("cannot read ticks", q.prepared()));
  q.bind(1, since_us).bind(2, until_us);
  return column_of(q, "cannot read ticks");
}

// From the last mark at or before `from_us` on.
Result<std::vector<std::int64_t>> Store::gone_marks(std::int64_t id, std::int64_t from_us,
                                                    std::int64_t to_us) {
  Statement q(
      m_db,
      "SELECT time_us FROM samples WHERE target_id = ?1 AND resource = ?2 AND line = 0 AND time_us >= "
      "COALESCE((SELECT max(time_us) FROM samples WHERE target_id = ?1 AND resource = ?2 AND line = 0 "
      "AND time_us <= ?3), ?3) AND time_us <= ?4 ORDER BY time_us");
  if (q.prepared() != SQLITE_OK) return tl::unexpected(error("cannot read samples", q.prepared()));
  q.bind(1, id).bind(2, k_gone_marker).bind(3, from_us).bind(4, to_us);
  return column_of(q, "cannot read samples");
}

Result<std::vector<Series>> Store::series(const std::string& target, std::int64_t since_us,
                                          std::int64_t until_us) {
  std::vector<Series> out;
  Statement id_query(m_db, "SELECT id FROM targets WHERE name = ?1");
  if (id_query.prepared() != SQLITE_OK)
    return tl::unexpected(error("cannot read targets", id_query.prepared()));
  id_query.bind(1, target);
  int rc = id_query.step();
  if (rc == SQLITE_DONE) return out;
  if (rc != SQLITE_ROW) return tl::unexpected(error("cannot read targets", rc));
  std::int64_t id = id_query.column(0);
  Result<std::vector<std::int64_t>> times = ticks(since_us, until_us);
  if (!times) return tl::unexpected(times.error());
  if (times->empty()) return out;
  // From the line's last row at or before the first tick (the value carried into the period).
  Statement rows(
      m_db,
      "SELECT time_us, total_us, avg10, avg60, avg300 FROM samples WHERE target_id = ?1 AND resource = ?2 "
      "AND line = ?3 AND time_us >= COALESCE((SELECT max(time_us) FROM samples WHERE target_id = ?1 AND "
      "resource = ?2 AND line = ?3 AND time_us <= ?4), ?4) AND time_us <= ?5 ORDER BY time_us");
  if (rows.prepared() != SQLITE_OK) return tl::unexpected(error("cannot read samples", rows.prepared()));
  Result<std::vector<std::int64_t>> marks = gone_marks(id, times->front(), times->back());
  if (!marks) return tl::unexpected(marks.error());
  for (Resource r : k_resources) {
    for (Line l : k_lines) {
      rows.reset();
      rows.bind(1, id)
          .bind(2, static_cast<int>(r))
          .bind(3, static_cast<int>(l))
          .bind(4, times->front())
          .bind(5, times->back());
      std::vector<Point> changes;
      while ((rc = rows.step()) == SQLITE_ROW)
        changes.push_back(Point{rows.column(0), static_cast<std::uint64_t>(rows.column(1)),
                                hundredths(rows.column(2)), hundredths(rows.column(3)),
                                hundredths(rows.column(4))});
      if (rc != SQLITE_DONE) return tl::unexpected(error("cannot read samples", rc));
      if (changes.empty()) continue;
      Series s{target, r, l, at_ticks(changes, *times, *marks)};
      if (!s.points.empty()) out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace pressure::recorder
