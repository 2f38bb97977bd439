// The PostgreSQL store's schema: versioned forward migrations recorded in schema_migrations, run
// under an advisory lock so that replicas starting together migrate one after the other. Never
// edit a released entry: add a new one. Internal to gateway/store/postgres/.
//
//   int version = 0;
//   FRONTDOOR_RETURN_IF_ERROR(Migrate(*conn, &version));   // version == kSchemaVersion
//
// Thread-safety: one connection, one caller.
#ifndef FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_SCHEMA_H_
#define FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_SCHEMA_H_

#include "absl/status/status.h"
#include "gateway/store/postgres/postgres_connection.h"

namespace frontdoor::gateway::pg {

// The schema version this build writes.
inline constexpr int kSchemaVersion = 3;

// Brings the database to kSchemaVersion and sets `*version_out`. FAILED_PRECONDITION for a
// database from a newer gateway; the migration's error otherwise, with nothing of it applied.
absl::Status Migrate(Connection& c, int* version_out);

}  // namespace frontdoor::gateway::pg

#endif  // FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_SCHEMA_H_
