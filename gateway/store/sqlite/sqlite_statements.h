// The SQLite store's way of talking to SQLite: connections, prepared statements kept per
// connection, statuses with the code a caller should retry by. Internal to gateway/store/sqlite/.
//
//   Statement st(db, "SELECT decision FROM referrals WHERE referral_id = ?1");
//   FRONTDOOR_RETURN_IF_ERROR(st.status());
//   st.Bind(1, id);
//   if (int rc = st.Step(); rc != SQLITE_ROW) return SqliteError(db, rc, "read referral");
//
// Thread-safety: a connection, and the statements made on it, are used by one thread at a time
// (the store's write or read mutex); the statement caches' registry has a lock of its own.
#ifndef FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_STATEMENTS_H_
#define FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_STATEMENTS_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace frontdoor::gateway::sqlite {

// `what` failed with `rc`: UNAVAILABLE for trouble worth retrying (busy, locked, full, I/O),
// INTERNAL otherwise (a bug, or damage).
absl::Status SqliteError(sqlite3* db, int rc, std::string_view what);

// Runs `sql` (one or more statements) without results or statement caching.
absl::Status Exec(sqlite3* db, const char* sql);

// Opens `path` with `flags` (plus SQLITE_OPEN_NOMUTEX), a 5 s busy timeout and extended result
// codes; UNAVAILABLE when it cannot.
absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, int flags);
// Finalizes the connection's cached statements and closes it. Null is fine.
void CloseConnection(sqlite3* db);

struct CachedStatement;

// A prepared statement from the connection's cache (reset and unbound when it goes out of scope),
// or a fresh one when the cached one is already in use further up the stack. Prepared statements
// are kept per connection and reused: compiling SQL was a sixth of the gateway's CPU under load
// (docs/PERFORMANCE.md). Keyed by the SQL text, so queries built at run time are safe too.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status status() const { return rc_ == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc_, "prepare"); }
  void Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, const std::string& bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::string Blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  // The column's bytes in place, valid until the next Step or Reset (no copy, for large reads).
  std::string_view BlobView(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string_view(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string_view();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  CachedStatement* cached_ = nullptr;
  int rc_ = SQLITE_OK;
};

// One statement without results (BEGIN IMMEDIATE, COMMIT, ROLLBACK), through the cache.
absl::Status Run(sqlite3* db, const char* sql);

}  // namespace frontdoor::gateway::sqlite

#endif  // FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_STATEMENTS_H_
