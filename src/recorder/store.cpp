// What every part of the store shares: errors, statements run whole, transactions, and the
// store's lifetime. Opening is in store_open.cpp, writing in store_write.cpp, reading in
// store_read.cpp.
#include "recorder/store.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <sqlite3.h>

#include "recorder/statement.hpp"

namespace pressure::recorder {
namespace {

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

Result<void> Store::finish(Result<void> body) {
  if (body) body = exec("COMMIT");
  if (!body) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
  return body;
}

Result<std::vector<std::int64_t>> Store::column_of(Statement& query, const std::string& what) {
  std::vector<std::int64_t> out;
  int rc;
  while ((rc = query.step()) == SQLITE_ROW) out.push_back(query.column(0));
  if (rc != SQLITE_DONE) return tl::unexpected(error(what, rc));
  return out;
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

Result<long long> Store::count_rows(const std::string& table) {
  if (table != "ticks" && table != "samples" && table != "targets")
    return fail(Errc::invalid_argument, "no table " + table);
  Statement q(m_db, ("SELECT count(*) FROM " + table).c_str());
  if (int rc = q.first_step(); rc != SQLITE_ROW) return tl::unexpected(error("cannot count " + table, rc));
  return q.column(0);
}

Result<long long> Store::used_bytes() {
  Statement q(m_db, "SELECT sum(pgsize - unused) FROM dbstat");
  if (int rc = q.first_step(); rc != SQLITE_ROW)
    return tl::unexpected(error("cannot measure the file (dbstat)", rc));
  return q.column(0);
}

Result<void> Store::checkpoint() { return exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

}  // namespace pressure::recorder
