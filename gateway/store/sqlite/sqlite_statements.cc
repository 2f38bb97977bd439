#include "gateway/store/sqlite/sqlite_statements.h"

#include <string>
#include <unordered_map>

#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace frontdoor::gateway::sqlite {

absl::Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const std::string text =
      absl::StrCat(std::string(what), ": ", sqlite3_errstr(rc), " (", db ? sqlite3_errmsg(db) : "", ")");
  // Busy, locked, full or I/O trouble is worth retrying; a damaged file is data loss (retrying does
  // not mend it); anything else is a bug.
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(absl::StrCat(text, ": the database file is damaged; restore it from a backup"));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    absl::Status s = SqliteError(db, rc, err ? err : sql);
    sqlite3_free(err);
    return s;
  }
  return absl::OkStatus();
}

// A connection's cache is used only under that connection's mutex (the store's write_mu_ or
// read_mu_); the registry of caches has its own lock.
struct CachedStatement {
  sqlite3_stmt* stmt = nullptr;
  bool in_use = false;
};
using StatementCache = std::unordered_map<std::string, CachedStatement>;

namespace {

absl::Mutex cache_registry_mu(absl::kConstInit);
std::unordered_map<sqlite3*, StatementCache>* cache_registry ABSL_GUARDED_BY(cache_registry_mu) = nullptr;

StatementCache& CacheFor(sqlite3* db) {
  absl::MutexLock lock(&cache_registry_mu);
  if (cache_registry == nullptr) cache_registry = new std::unordered_map<sqlite3*, StatementCache>();
  return (*cache_registry)[db];  // node-based: the reference stays valid while others are added
}

}  // namespace

void CloseConnection(sqlite3* db) {
  if (db == nullptr) return;
  {
    absl::MutexLock lock(&cache_registry_mu);
    if (cache_registry != nullptr) {
      if (auto it = cache_registry->find(db); it != cache_registry->end()) {
        for (auto& [sql, cached] : it->second) sqlite3_finalize(cached.stmt);
        cache_registry->erase(it);
      }
    }
  }
  sqlite3_close(db);
}

Statement::Statement(sqlite3* db, const char* sql) : db_(db) {
  StatementCache& cache = CacheFor(db);
  auto [it, inserted] = cache.try_emplace(sql);
  if (!it->second.in_use) {
    if (it->second.stmt == nullptr) {
      rc_ = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second.stmt, nullptr);
      if (rc_ != SQLITE_OK) {
        sqlite3_finalize(it->second.stmt);
        cache.erase(it);
        return;
      }
    }
    cached_ = &it->second;
    cached_->in_use = true;
    stmt_ = cached_->stmt;
    return;
  }
  rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
}

Statement::~Statement() {
  if (cached_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cached_->in_use = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

// One statement without results (BEGIN IMMEDIATE, COMMIT, ROLLBACK), through the cache.
absl::Status Run(sqlite3* db, const char* sql) {
  Statement st(db, sql);
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  const int rc = st.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, sql);
  return absl::OkStatus();
}

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat("cannot open database ", path, ": ", sqlite3_errstr(rc)));
    CloseConnection(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  return db;
}

}  // namespace frontdoor::gateway::sqlite
