#include "tests/support/store_backends.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"

namespace frontdoor::testing {

std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::kSqlite ? "Sqlite" : "Postgres";
}

TestDatabase::TestDatabase(StoreBackend backend) : backend_(backend) {
  if (backend_ == StoreBackend::kSqlite) {
    sqlite_path_ = dir_.path() + "/frontdoor.db";
  } else {
    conninfo_ = FreshPostgresDatabase();
  }
}

absl::StatusOr<OpenedStore> TestDatabase::TryOpen(const std::string& replica, absl::Duration lease) {
  if (backend_ == StoreBackend::kSqlite) {
    absl::StatusOr<std::unique_ptr<gateway::SqliteStore>> store = gateway::SqliteStore::Open(sqlite_path_);
    if (!store.ok()) return store.status();
    return OpenedStore(std::move(*store));
  }
  gateway::PostgresStoreOptions options;
  options.conninfo = conninfo_;
  options.pool_size = 4;
  options.replica_id = replica;
  options.outbox_lease = lease;
  absl::StatusOr<std::unique_ptr<gateway::PostgresStore>> store = gateway::PostgresStore::Open(options);
  if (!store.ok()) return store.status();
  return OpenedStore(std::move(*store));
}

OpenedStore TestDatabase::Open(const std::string& replica, absl::Duration lease) {
  absl::StatusOr<OpenedStore> store = TryOpen(replica, lease);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : OpenedStore();
}

std::string TestDatabase::ConfigBlock(const std::string& replica, int lease_seconds) const {
  if (backend_ == StoreBackend::kSqlite) return absl::StrCat("store { sqlite { path: \"", sqlite_path_, "\" } }");
  std::string block = absl::StrCat("store { postgres { conninfo: \"", conninfo_, "\"");
  if (!replica.empty()) absl::StrAppend(&block, " replica_id: \"", replica, "\"");
  if (lease_seconds > 0) absl::StrAppend(&block, " outbox_lease_seconds: ", lease_seconds);
  absl::StrAppend(&block, " } }");
  return block;
}

absl::Status TestDatabase::ExecSql(const std::string& sql) const {
  if (backend_ == StoreBackend::kSqlite) {
    sqlite3* db = nullptr;
    if (sqlite3_open(sqlite_path_.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      return absl::UnavailableError("cannot open the SQLite file");
    }
    sqlite3_busy_timeout(db, 5000);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    absl::Status s =
        rc == SQLITE_OK ? absl::OkStatus() : absl::InternalError(error != nullptr ? error : "sqlite3_exec");
    sqlite3_free(error);
    sqlite3_close(db);
    return s;
  }
  PGconn* conn = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status s = absl::UnavailableError(PQerrorMessage(conn));
    PQfinish(conn);
    return s;
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  absl::Status s = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
                       ? absl::OkStatus()
                       : absl::InternalError(PQresultErrorMessage(result));
  PQclear(result);
  PQfinish(conn);
  return s;
}

}  // namespace frontdoor::testing
