// Opening the history file: the checks that keep us from touching a file that is not ours, the
// lock of the one recorder, and the schema.
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include <sqlite3.h>

#include "recorder/statement.hpp"
#include "recorder/store.hpp"
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

// Whether the file exists, once what `mode` needs of it and its directory is there.
Result<bool> check_place(const std::string& path, Store::Mode mode) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  bool exists = fs::exists(status);
  if (mode == Store::Mode::read && !exists)
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
  if (int err = mode == Store::Mode::write ? sys::write_access(dir.string()) : 0; err != 0)
    return fail(Errc::permission,
                path + ": cannot write in the directory " + dir.string() + " (" + std::strerror(err) +
                    "); give a --db in a directory you can write",
                path, err);
  if (int err = mode == Store::Mode::write && exists ? sys::write_access(path) : 0; err != 0)
    return fail(Errc::permission,
                path + ": cannot write it (" + std::strerror(err) + "); give a --db you can write", path,
                err);
  return exists;
}

// Checks the header ourselves before SQLite sees the file: garbage is refused without a byte
// written, whatever SQLite would try.
Result<void> check_header(const std::string& path) {
  std::error_code ec;
  if (fs::file_size(path, ec) == 0) return {};
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
  return {};
}

// One recorder per file: a second one would interleave its ticks with the first's (and race it
// creating the schema). flock is apart from SQLite's fcntl locks, and the fd stays open until
// after SQLite closes, so it never drops those.
Result<sys::Fd> lock_for_writing(const std::string& path) {
  Result<sys::Fd> locked = sys::lock_exclusive(path);
  if (!locked && locked.error().sys_errno() == EWOULDBLOCK)
    return fail(Errc::system, path + ": another `pressure record` is writing it; one recorder per file", path,
                EWOULDBLOCK);
  return locked;
}

}  // namespace

Result<Store> Store::open(const std::string& path, Mode mode) {
  Result<bool> exists = check_place(path, mode);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists)
    if (auto r = check_header(path); !r) return tl::unexpected(r.error());
  sys::Fd lock;
  if (mode == Mode::write) {
    Result<sys::Fd> locked = lock_for_writing(path);
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

  Result<Identity> identity = store.identify(mode);
  if (!identity) return tl::unexpected(identity.error());
  if (mode == Mode::write) {
    if (identity->ours)
      if (auto r = store.check_integrity(); !r) return tl::unexpected(r.error());
    if (auto r = store.prepare_for_writing(*identity); !r) return tl::unexpected(r.error());
  }
  return store;
}

// Whose file is it? Only ours, or an empty one, is ever written to.
Result<Store::Identity> Store::identify(Mode mode) {
  Identity identity;
  std::int64_t application_id = 0, objects = 0;
  {
    Statement q(m_db, "PRAGMA application_id");
    if (int rc = q.first_step(); rc != SQLITE_ROW) return tl::unexpected(error("cannot read it", rc));
    application_id = q.column(0);
  }
  {
    Statement q(
        m_db, "SELECT (SELECT count(*) FROM sqlite_schema), (SELECT user_version FROM pragma_user_version)");
    if (int rc = q.first_step(); rc != SQLITE_ROW) return tl::unexpected(error("cannot read it", rc));
    objects = q.column(0);
    identity.version = q.column(1);
  }
  identity.ours = application_id == k_application_id;
  if (!identity.ours && (application_id != 0 || objects > 0))
    return fail(Errc::malformed,
                m_path + ": an SQLite database of another program (application_id " +
                    std::to_string(application_id) + ", " + std::to_string(objects) +
                    " tables and indexes), not a pressure history file; refusing to touch it (give another "
                    "--db)",
                m_path);
  if (identity.ours && identity.version > k_schema_version)
    return fail(Errc::malformed,
                m_path + ": written by a newer pressure (schema version " + std::to_string(identity.version) +
                    ", this one knows " + std::to_string(k_schema_version) + "); use that version",
                m_path);
  if (!identity.ours && mode == Mode::read)
    return fail(Errc::not_found, m_path + ": empty, no history recorded yet (run `pressure record`)", m_path);
  return identity;
}

// A damaged history is never written into: new ticks would land among broken pages. SQLite's
// quick_check reads every page once (about a second for a year of a busy host's history).
Result<void> Store::check_integrity() {
  Statement check(m_db, "PRAGMA quick_check(1)");
  int rc = check.first_step();
  std::string verdict = rc == SQLITE_ROW ? check.text(0) : std::string(sqlite3_errstr(rc));
  if (verdict != "ok")
    return fail(Errc::malformed,
                m_path + ": damaged (SQLite's quick_check: " + verdict +
                    "); refusing to record into it: move it aside (`pressure history` still reads what it "
                    "can) or give another --db",
                m_path);
  return {};
}

Result<void> Store::prepare_for_writing(const Identity& identity) {
  {
    Statement wal(m_db, "PRAGMA journal_mode=WAL");
    if (int rc = wal.first_step(); rc != SQLITE_ROW) return tl::unexpected(error("cannot switch to WAL", rc));
    if (wal.text(0) != "wal")
      return fail(Errc::system,
                  m_path + ": the file system refuses WAL mode (journal mode " + wal.text(0) + ")", m_path);
  }
  if (auto r = exec("PRAGMA synchronous=NORMAL"); !r) return r;
  if (identity.ours && identity.version >= k_schema_version) return {};
  // Creating the schema and marking the file ours is one transaction: all or nothing.
  if (auto r = exec("BEGIN IMMEDIATE"); !r) return r;
  std::string create = std::string(k_schema) + "PRAGMA application_id=" + std::to_string(k_application_id) +
                       ";PRAGMA user_version=" + std::to_string(k_schema_version) + ";";
  return finish(exec(create.c_str()));
}

}  // namespace pressure::recorder
