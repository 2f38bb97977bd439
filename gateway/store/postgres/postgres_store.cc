#include "gateway/store/postgres/postgres_store.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "gateway/store/postgres/postgres_connection.h"
#include "gateway/store/postgres/postgres_schema.h"

namespace frontdoor::gateway {

using pg::Lease;
using pg::PostgresConnectionPool;

namespace {

std::string DefaultReplicaId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "frontdoor", "-", getpid());
}

}  // namespace

std::string RedactConninfo(const std::string& conninfo) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return "(a conninfo that does not parse)";
  std::vector<std::string> parts;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    const std::string key = o->keyword;
    parts.push_back(absl::StrCat(key, "=", key == "password" ? std::string("***") : std::string(o->val)));
  }
  PQconninfoFree(options);
  return parts.empty() ? "(from the PG* environment)" : absl::StrJoin(parts, " ");
}

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresStoreOptions& options) {
  if (options.outbox_lease <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the outbox lease must be positive");
  }
  FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<PostgresConnectionPool> pool,
                             PostgresConnectionPool::Connect(options.conninfo, std::max(1, options.pool_size)));
  int version = 0;
  {
    FRONTDOOR_ASSIGN_OR_RETURN(Lease conn, pool->Acquire());
    FRONTDOOR_RETURN_IF_ERROR(Migrate(*conn, &version));
  }
  std::string replica = options.replica_id.empty() ? DefaultReplicaId() : options.replica_id;
  return std::unique_ptr<PostgresStore>(
      new PostgresStore(std::move(pool), std::move(replica), options.outbox_lease, version));
}

PostgresStore::PostgresStore(std::unique_ptr<PostgresConnectionPool> pool, std::string replica_id,
                             absl::Duration outbox_lease, int schema_version)
    : pool_(std::move(pool)),
      replica_id_(std::move(replica_id)),
      outbox_lease_(outbox_lease),
      schema_version_(schema_version) {}

PostgresStore::~PostgresStore() = default;

}  // namespace frontdoor::gateway
