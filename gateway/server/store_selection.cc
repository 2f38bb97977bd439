#include "gateway/server/store_selection.h"

#include <libpq-fe.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"

namespace frontdoor::gateway {
namespace {

constexpr int kDefaultPoolSize = 4;
constexpr int kMaxPoolSize = 64;
constexpr int kDefaultLeaseSeconds = 30;
constexpr int kMaxLeaseSeconds = 3600;

bool IsWellFormedReplicaId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateStoreConfig(const frontdoor::v1::StoreConfig& config) {
  if (!config.has_postgres()) return absl::OkStatus();
  const frontdoor::v1::PostgresStoreConfig& pg = config.postgres();
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(pg.conninfo().c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return absl::InvalidArgumentError(absl::StrCat("store.postgres.conninfo does not parse: ", why));
  }
  bool has_password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "password" && o->val != nullptr && o->val[0] != '\0') has_password = true;
  }
  PQconninfoFree(options);
  if (has_password) {
    return absl::InvalidArgumentError(
        "store.postgres.conninfo holds a password: keep it out of the configuration file and give it in the "
        "PGPASSWORD environment variable or a PGPASSFILE");
  }
  if (pg.pool_size() > kMaxPoolSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("store.postgres.pool_size ", pg.pool_size(), " is more than ", kMaxPoolSize));
  }
  if (pg.outbox_lease_seconds() > kMaxLeaseSeconds) {
    return absl::InvalidArgumentError(absl::StrCat("store.postgres.outbox_lease_seconds ", pg.outbox_lease_seconds(),
                                                   " is more than an hour (", kMaxLeaseSeconds, ")"));
  }
  if (!pg.replica_id().empty() && !IsWellFormedReplicaId(pg.replica_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("store.postgres.replica_id is not of the form [A-Za-z0-9._-]{1,128}"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ConfiguredStore> OpenConfiguredStore(const frontdoor::v1::StoreConfig& config,
                                                    const std::string& data_dir) {
  FRONTDOOR_RETURN_IF_ERROR(ValidateStoreConfig(config));
  ConfiguredStore out;
  if (config.has_postgres()) {
    const frontdoor::v1::PostgresStoreConfig& pg = config.postgres();
    PostgresStoreOptions options;
    options.conninfo = pg.conninfo();
    options.pool_size = pg.pool_size() > 0 ? static_cast<int>(pg.pool_size()) : kDefaultPoolSize;
    options.outbox_lease =
        absl::Seconds(pg.outbox_lease_seconds() > 0 ? pg.outbox_lease_seconds() : kDefaultLeaseSeconds);
    options.replica_id = pg.replica_id();
    FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
    out.description = absl::StrCat("PostgreSQL (", RedactConninfo(pg.conninfo()), "), schema version ",
                                   store->schema_version(), ", replica ", store->replica_id(), ", pool ",
                                   options.pool_size, ", outbox lease ", absl::FormatDuration(options.outbox_lease));
    out.store = std::move(store);
    out.shared = true;
    return out;
  }
  std::string path = config.sqlite().path();
  if (path.empty()) {
    path = data_dir + "/frontdoor.db";
  } else if (path[0] != '/') {
    path = data_dir + "/" + path;
  }
  FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(path));
  out.description = absl::StrCat("SQLite ", path, ", schema version ", store->schema_version());
  out.store = std::move(store);
  return out;
}

}  // namespace frontdoor::gateway
