#include "recorder/store.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>
#include <utility>

#include <sqlite3.h>

#include "sys/output.hpp"

namespace pressure::recorder {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_schema = R"sql(
CREATE TABLE targets(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE);
CREATE TABLE ticks(
  time_us INTEGER PRIMARY KEY,
  interval_us INTEGER NOT NULL);
CREATE TABLE samples(
  target_id INTEGER NOT NULL REFERENCES targets(id),
  resource INTEGER NOT NULL,
  line INTEGER NOT NULL,
  time_us INTEGER NOT NULL,
  total_us INTEGER NOT NULL,
  avg10 INTEGER NOT NULL,
  avg60 INTEGER NOT NULL,
  avg300 INTEGER NOT NULL,
  PRIMARY KEY(target_id, resource, line, time_us)) WITHOUT ROWID;
)sql";

// A prepared statement, finalized on every path.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
  ~Statement() { sqlite3_finalize(m_stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  int prepared() const { return m_rc; }
  sqlite3_stmt* get() const { return m_stmt; }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int step() { return sqlite3_step(m_stmt); }
  void reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }
  std::int64_t column(int i) const { return sqlite3_column_int64(m_stmt, i); }
  std::string text(int i) const {
    const unsigned char* t = sqlite3_column_text(m_stmt, i);
    return t != nullptr ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* m_stmt = nullptr;
  int m_rc = SQLITE_OK;
};

Errc errc_of(int rc, int sys_errno) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return Errc::malformed;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: return Errc::permission;
    case SQLITE_CANTOPEN:
      return sys_errno == EACCES || sys_errno == EPERM || sys_errno == EROFS ? Errc::permission
                                                                             : Errc::system;
    default: return Errc::system;
  }
}

std::string what_to_do(Errc code) {
  switch (code) {
    case Errc::malformed:
      return "; it is damaged or not a pressure history file: give another --db, or move it away";
    case Errc::permission: return "; give a --db in a directory you can write, or run as a user who can";
    default: return "";
  }
}

// The `resource` of a row that says its target was not there at that tick.
constexpr int k_gone_marker = -1;

Percent hundredths(std::int64_t v) {
  return Percent::from_hundredths(static_cast<std::uint32_t>(v < 0              ? 0
                                                             : v > 0xffffffffLL ? 0xffffffffLL
                                                                                : v));
}

}  // namespace

Error Store::error(const std::string& what, int rc) const {
  int sys_errno = m_db != nullptr ? sqlite3_system_errno(m_db) : 0;
  std::string detail = m_db != nullptr ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
  if (sys_errno != 0 && (rc & 0xff) != SQLITE_NOTADB && (rc & 0xff) != SQLITE_CORRUPT)
    detail += std::string(" (") + std::strerror(sys_errno) + ")";
  Errc code = errc_of(rc, sys_errno);
  return Error(code, m_path + ": " + what + ": " + detail + what_to_do(code), m_path, sys_errno);
}

Result<void> Store::exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &message);
  sqlite3_free(message);
  if (rc != SQLITE_OK)
    return tl::unexpected(error(std::string("cannot run ") + std::string(sql).substr(0, 40), rc));
  return {};
}

Result<Store> Store::open(const std::string& path, Mode mode) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  bool exists = fs::exists(status);
  if (mode == Mode::read && !exists)
    return fail(Errc::not_found,
                path + ": no history here (run `pressure record` first, or give the file with --db)", path,
                ENOENT);
  if (exists && !fs::is_regular_file(status))
    return fail(Errc::invalid_argument, path + ": not a regular file; give a file for --db", path);
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (!exists && !fs::is_directory(dir, ec))
    return fail(Errc::not_found, path + ": the directory " + dir.string() + " does not exist", path, ENOENT);
  // SQLite's own message for these is "unable to open database file": say which part is denied.
  // Writing needs the directory too (the -wal and -shm files live beside the database).
  if (int err = mode == Mode::write ? sys::write_access(dir.string()) : 0; err != 0)
    return fail(Errc::permission,
                path + ": cannot write in the directory " + dir.string() + " (" + std::strerror(err) +
                    "); give a --db in a directory you can write",
                path, err);
  if (int err = mode == Mode::write && exists ? sys::write_access(path) : 0; err != 0)
    return fail(Errc::permission,
                path + ": cannot write it (" + std::strerror(err) + "); give a --db you can write", path,
                err);
  // Check the header ourselves before SQLite sees the file: garbage is refused without a byte
  // written, whatever SQLite would try.
  if (exists && fs::file_size(path, ec) > 0) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::permission, path + ": cannot read it: " + std::strerror(errno), path, errno);
    std::array<char, 16> header{};
    in.read(header.data(), header.size());
    if (in.gcount() < 16 || std::memcmp(header.data(), "SQLite format 3", 16) != 0)
      return fail(Errc::malformed,
                  path +
                      ": not an SQLite database, so not a pressure history file; refusing to touch it (give "
                      "another --db)",
                  path);
  }

  // One recorder per file: a second one would interleave its ticks with the first's (and race it
  // creating the schema). flock is apart from SQLite's fcntl locks, and the fd stays open until
  // after SQLite closes, so it never drops those.
  sys::Fd lock;
  if (mode == Mode::write) {
    Result<sys::Fd> locked = sys::lock_exclusive(path);
    if (!locked && locked.error().sys_errno() == EWOULDBLOCK)
      return fail(Errc::system, path + ": another `pressure record` is writing it; one recorder per file",
                  path, EWOULDBLOCK);
    if (!locked) return tl::unexpected(locked.error());
    lock = std::move(*locked);
  }

  int flags = (mode == Mode::write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
              SQLITE_OPEN_NOMUTEX;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Store store(path, raw);
  store.m_lock = std::move(lock);
  if (rc != SQLITE_OK) return tl::unexpected(store.error("cannot open", rc));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  if (mode == Mode::write && sqlite3_db_readonly(raw, "main") == 1)
    return fail(Errc::permission, path + ": cannot write it (read-only); give a --db you can write", path,
                EACCES);

  // Whose file is it? Only ours, or an empty one, is ever written to.
  std::int64_t application_id = 0, version = 0, objects = 0;
  {
    Statement q(raw, "PRAGMA application_id");
    if (q.prepared() != SQLITE_OK) return tl::unexpected(store.error("cannot read it", q.prepared()));
    rc = q.step();
    if (rc != SQLITE_ROW) return tl::unexpected(store.error("cannot read it", rc));
    application_id = q.column(0);
  }
  {
    Statement q(
        raw, "SELECT (SELECT count(*) FROM sqlite_schema), (SELECT user_version FROM pragma_user_version)");
    if (q.prepared() != SQLITE_OK) return tl::unexpected(store.error("cannot read it", q.prepared()));
    rc = q.step();
    if (rc != SQLITE_ROW) return tl::unexpected(store.error("cannot read it", rc));
    objects = q.column(0);
    version = q.column(1);
  }
  bool ours = application_id == k_application_id;
  if (!ours && (application_id != 0 || objects > 0))
    return fail(
        Errc::malformed,
        path + ": an SQLite database of another program (application_id " + std::to_string(application_id) +
            ", " + std::to_string(objects) +
            " tables and indexes), not a pressure history file; refusing to touch it (give another --db)",
        path);
  if (ours && version > k_schema_version)
    return fail(Errc::malformed,
                path + ": written by a newer pressure (schema version " + std::to_string(version) +
                    ", this one knows " + std::to_string(k_schema_version) + "); use that version",
                path);
  if (!ours && mode == Mode::read)
    return fail(Errc::not_found, path + ": empty, no history recorded yet (run `pressure record`)", path);
  // A damaged history is never written into: new ticks would land among broken pages. SQLite's
  // quick_check reads every page once (about a second for a year of a busy host's history).
  if (ours && mode == Mode::write) {
    Statement check(raw, "PRAGMA quick_check(1)");
    rc = check.prepared() == SQLITE_OK ? check.step() : check.prepared();
    std::string verdict = rc == SQLITE_ROW ? check.text(0) : std::string(sqlite3_errstr(rc));
    if (verdict != "ok")
      return fail(Errc::malformed,
                  path + ": damaged (SQLite's quick_check: " + verdict +
                      "); refusing to record into it: move it aside (`pressure history` still reads what it "
                      "can) or give another --db",
                  path);
  }

  if (mode == Mode::write) {
    {
      Statement wal(raw, "PRAGMA journal_mode=WAL");
      rc = wal.prepared() == SQLITE_OK ? wal.step() : wal.prepared();
      if (rc != SQLITE_ROW) return tl::unexpected(store.error("cannot switch to WAL", rc));
      if (wal.text(0) != "wal")
        return fail(Errc::system,
                    path + ": the file system refuses WAL mode (journal mode " + wal.text(0) + ")", path);
    }
    if (auto r = store.exec("PRAGMA synchronous=NORMAL"); !r) return tl::unexpected(r.error());
    if (!ours || version < k_schema_version) {
      // Creating the schema and marking the file ours is one transaction: all or nothing.
      if (auto r = store.exec("BEGIN IMMEDIATE"); !r) return tl::unexpected(r.error());
      std::string create = std::string(k_schema) +
                           "PRAGMA application_id=" + std::to_string(k_application_id) +
                           ";PRAGMA user_version=" + std::to_string(k_schema_version) + ";";
      if (auto r = store.exec(create.c_str()); !r) {
        sqlite3_exec(raw, "ROLLBACK", nullptr, nullptr, nullptr);
        return tl::unexpected(r.error());
      }
      if (auto r = store.exec("COMMIT"); !r) {
        sqlite3_exec(raw, "ROLLBACK", nullptr, nullptr, nullptr);
        return tl::unexpected(r.error());
      }
    }
  }
  return store;
}

Store::Store(Store&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_db(std::exchange(other.m_db, nullptr)),
      m_lock(std::move(other.m_lock)),
      m_write_unchanged(other.m_write_unchanged),
      m_target_ids(std::move(other.m_target_ids)),
      m_present(std::move(other.m_present)),
      m_first_append(other.m_first_append),
      m_thinned_until(other.m_thinned_until),
      m_written(std::move(other.m_written)) {}

Store& Store::operator=(Store&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(m_db);
    m_path = std::move(other.m_path);
    m_db = std::exchange(other.m_db, nullptr);
    m_lock = std::move(other.m_lock);
    m_write_unchanged = other.m_write_unchanged;
    m_target_ids = std::move(other.m_target_ids);
    m_present = std::move(other.m_present);
    m_first_append = other.m_first_append;
    m_thinned_until = other.m_thinned_until;
    m_written = std::move(other.m_written);
  }
  return *this;
}

Store::~Store() { sqlite3_close_v2(m_db); }

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
  std::vector<std::pair<std::tuple<std::int64_t, int, int>, Point>> written;
  std::set<std::int64_t> present;
  std::vector<std::int64_t> gone;
  auto body = [&]() -> Result<void> {
    Statement add_tick(m_db, "INSERT OR REPLACE INTO ticks(time_us, interval_us) VALUES(?1, ?2)");
    add_tick.bind(1, time_us).bind(2, tick.interval.count());
    if (int rc = add_tick.step(); rc != SQLITE_DONE) return tl::unexpected(error("cannot write a tick", rc));
    Statement add(
        m_db,
        "INSERT OR REPLACE INTO samples(target_id, resource, line, time_us, total_us, avg10, avg60, "
        "avg300) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (add.prepared() != SQLITE_OK) return tl::unexpected(error("cannot prepare", add.prepared()));
    for (const TargetSample& target : tick.targets) {
      Result<std::int64_t> id = target_id(target.name);
      if (!id) return tl::unexpected(id.error());
      present.insert(*id);
      for (Resource r : k_resources) {
        const Result<Pressure>& p = target.snapshot[r];
        if (!p) continue;
        for (Line l : k_lines) {
          const std::optional<Stall>& s = (*p)[l];
          if (!s) continue;
          auto key = std::make_tuple(*id, static_cast<int>(r), static_cast<int>(l));
          Point point{time_us, s->total_us, s->avg10, s->avg60, s->avg300};
          if (!m_write_unchanged) {
            auto it = m_written.find(key);
            if (it != m_written.end() && it->second.total_us == point.total_us &&
                it->second.avg10 == point.avg10 && it->second.avg60 == point.avg60 &&
                it->second.avg300 == point.avg300)
              continue;
          }
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
          written.emplace_back(key, point);
        }
      }
    }
    // Targets sampled before (in this process; on its first tick, ever) but not now are marked
    // gone, so their last values are not carried over the time they did not exist.
    std::set<std::int64_t> before = m_present;
    if (m_first_append) {
      Statement all(m_db, "SELECT id FROM targets");
      int rc;
      while ((rc = all.step()) == SQLITE_ROW) before.insert(all.column(0));
      if (rc != SQLITE_DONE) return tl::unexpected(error("cannot read targets", rc));
    }
    for (std::int64_t id : before) {
      if (present.count(id) != 0) continue;
      add.bind(1, id)
          .bind(2, k_gone_marker)
          .bind(3, 0)
          .bind(4, time_us)
          .bind(5, 0)
          .bind(6, 0)
          .bind(7, 0)
          .bind(8, 0);
      int rc = add.step();
      add.reset();
      if (rc != SQLITE_DONE) return tl::unexpected(error("cannot write a sample", rc));
      gone.push_back(id);
    }
    return {};
  };
  Result<void> result = body();
  if (result) result = exec("COMMIT");
  if (!result) {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    // Ids or values cached in the failed transaction may not exist: start from nothing.
    m_target_ids.clear();
    m_written.clear();
    return result;
  }
  for (auto& [key, point] : written) m_written[key] = point;
  // A target that comes back has all its lines written again.
  for (std::int64_t id : gone)
    for (auto it = m_written.begin(); it != m_written.end();)
      it = std::get<0>(it->first) == id ? m_written.erase(it) : std::next(it);
  m_present = std::move(present);
  m_first_append = false;
  return {};
}

Result<MaintenanceReport> Store::maintain(Clock::time_point now, const Retention& retention) {
  using std::chrono::microseconds;
  std::int64_t now_us = std::chrono::duration_cast<microseconds>(now.time_since_epoch()).count();
  std::int64_t bucket = std::max<std::int64_t>(1, retention.bucket.count());
  std::int64_t keep_from = now_us - retention.retention.count();
  std::int64_t raw_from = (now_us - retention.raw.count()) / bucket * bucket;  // whole buckets only
  // Rows below the previous run's raw cut were thinned then: start there (whole buckets).
  std::int64_t thin_from = std::max(m_thinned_until, keep_from / bucket * bucket - bucket);
  MaintenanceReport report;
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return tl::unexpected(r.error());
  auto body = [&]() -> Result<void> {
    // Ticks: older than the retention gone; older than the raw period, the last of each bucket.
    Statement old_ticks(m_db, "DELETE FROM ticks WHERE time_us < ?1");
    old_ticks.bind(1, keep_from);
    if (int rc = old_ticks.step(); rc != SQLITE_DONE)
      return tl::unexpected(error("cannot thin the history", rc));
    report.ticks_deleted += sqlite3_changes(m_db);
    Statement thin_ticks(
        m_db,
        "DELETE FROM ticks WHERE time_us >= ?3 AND time_us < ?1 AND EXISTS (SELECT 1 FROM ticks n "
        "WHERE n.time_us > ticks.time_us AND n.time_us < ?1 AND n.time_us / ?2 = ticks.time_us / ?2)");
    thin_ticks.bind(1, raw_from).bind(2, bucket).bind(3, thin_from);
    if (int rc = thin_ticks.step(); rc != SQLITE_DONE)
      return tl::unexpected(error("cannot thin the history", rc));
    report.ticks_deleted += sqlite3_changes(m_db);

    // Samples, line by line so every delete is a range of the primary key, not a table scan.
    // Older than the retention: gone, except each line's last row before it (the base of the
    // values carried forward after it). Older than the raw period: the last row per bucket.
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
    std::vector<std::int64_t> targets;
    int rc;
    while ((rc = ids.step()) == SQLITE_ROW) targets.push_back(ids.column(0));
    if (rc != SQLITE_DONE) return tl::unexpected(error("cannot read targets", rc));
    for (std::int64_t id : targets)
      for (int resource = k_gone_marker; resource < static_cast<int>(k_resources.size()); ++resource)
        for (int line = 0; line < 2; ++line) {
          expire.reset();
          expire.bind(1, id).bind(2, resource).bind(3, line).bind(4, keep_from);
          if ((rc = expire.step()) != SQLITE_DONE)
            return tl::unexpected(error("cannot thin the history", rc));
          report.samples_deleted += sqlite3_changes(m_db);
          thin.reset();
          thin.bind(1, id)
              .bind(2, resource)
              .bind(3, line)
              .bind(4, raw_from)
              .bind(5, bucket)
              .bind(6, thin_from);
          if ((rc = thin.step()) != SQLITE_DONE) return tl::unexpected(error("cannot thin the history", rc));
          report.samples_deleted += sqlite3_changes(m_db);
        }
    return {};
  };
  Result<void> result = body();
  if (result) result = exec("COMMIT");
  if (!result) {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    return tl::unexpected(result.error());
  }
  m_thinned_until = raw_from;
  return report;
}

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
  std::vector<std::int64_t> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.column(0));
  if (rc != SQLITE_DONE) return tl::unexpected(error("cannot read ticks", rc));
  return out;
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
  // Where the target was gone: from the last mark at or before the first tick on.
  std::vector<std::int64_t> marks;
  {
    Statement q(
        m_db,
        "SELECT time_us FROM samples WHERE target_id = ?1 AND resource = ?2 AND line = 0 AND time_us >= "
        "COALESCE((SELECT max(time_us) FROM samples WHERE target_id = ?1 AND resource = ?2 AND line = 0 AND "
        "time_us <= ?3), ?3) AND time_us <= ?4 ORDER BY time_us");
    if (q.prepared() != SQLITE_OK) return tl::unexpected(error("cannot read samples", q.prepared()));
    q.bind(1, id).bind(2, k_gone_marker).bind(3, times->front()).bind(4, times->back());
    while ((rc = q.step()) == SQLITE_ROW) marks.push_back(q.column(0));
    if (rc != SQLITE_DONE) return tl::unexpected(error("cannot read samples", rc));
  }
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
      Series s{target, r, l, {}};
      std::size_t next = 0, next_mark = 0;
      const Point* current = nullptr;
      std::int64_t last_mark = INT64_MIN;
      for (std::int64_t t : *times) {
        while (next < changes.size() && changes[next].time_us <= t) current = &changes[next++];
        while (next_mark < marks.size() && marks[next_mark] <= t) last_mark = marks[next_mark++];
        if (current == nullptr || last_mark >= current->time_us) continue;  // not there (yet, or any more)
        Point p = *current;
        p.time_us = t;
        s.points.push_back(p);
      }
      if (!s.points.empty()) out.push_back(std::move(s));
    }
  }
  return out;
}

Result<long long> Store::count_rows(const std::string& table) {
  if (table != "ticks" && table != "samples" && table != "targets")
    return fail(Errc::invalid_argument, "no table " + table);
  Statement q(m_db, ("SELECT count(*) FROM " + table).c_str());
  int rc = q.prepared() == SQLITE_OK ? q.step() : q.prepared();
  if (rc != SQLITE_ROW) return tl::unexpected(error("cannot count " + table, rc));
  return q.column(0);
}

Result<long long> Store::used_bytes() {
  Statement q(m_db, "SELECT sum(pgsize - unused) FROM dbstat");
  int rc = q.prepared() == SQLITE_OK ? q.step() : q.prepared();
  if (rc != SQLITE_ROW) return tl::unexpected(error("cannot measure the file (dbstat)", rc));
  return q.column(0);
}

Result<void> Store::checkpoint() { return exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

}  // namespace pressure::recorder
