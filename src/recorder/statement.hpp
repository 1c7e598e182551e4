// A prepared SQLite statement, finalized on every path; internal to the store's files.
//
//   Statement q(db, "SELECT id FROM targets WHERE name = ?1");
//   q.bind(1, name);
//   if (q.first_step() == SQLITE_ROW) id = q.column(0);
#pragma once

#include <cstdint>
#include <string>

#include <sqlite3.h>

namespace pressure::recorder {

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
  // The first step, or the error of preparing it.
  int first_step() { return m_rc == SQLITE_OK ? step() : m_rc; }
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

// The `resource` of a row that says its target was not there at that tick.
inline constexpr int k_gone_marker = -1;

}  // namespace pressure::recorder
