#include "tests/support/store_backends.h"

#include "absl/strings/str_cat.h"
#include "gateway/postgres_referral_store.h"
#include "gateway/sqlite_referral_store.h"

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
    absl::StatusOr<std::unique_ptr<gateway::SqliteReferralStore>> store = gateway::SqliteReferralStore::Open(sqlite_path_);
    if (!store.ok()) return store.status();
    gateway::AuditStore* audit = store->get();
    return OpenedStore(std::move(*store), audit);
  }
  gateway::PostgresStoreOptions options;
  options.conninfo = conninfo_;
  options.pool_size = 4;
  options.replica_id = replica;
  options.outbox_lease = lease;
  absl::StatusOr<std::unique_ptr<gateway::PostgresReferralStore>> store = gateway::PostgresReferralStore::Open(options);
  if (!store.ok()) return store.status();
  gateway::AuditStore* audit = store->get();
  return OpenedStore(std::move(*store), audit);
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

}  // namespace frontdoor::testing
