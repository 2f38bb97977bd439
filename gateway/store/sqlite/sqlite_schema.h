// The SQLite store's schema: versioned forward migrations (PRAGMA user_version), each entry taking
// the file from one version to the next, run in one transaction at open. Never edit a released
// entry: add a new one. Internal to gateway/store/sqlite/.
//
//   int version = 0;
//   FRONTDOOR_RETURN_IF_ERROR(Migrate(writer, &version));   // version == kSchemaVersion
//
// Thread-safety: one connection, one caller.
#ifndef FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_SCHEMA_H_
#define FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_SCHEMA_H_

#include <sqlite3.h>

#include "absl/status/status.h"

namespace frontdoor::gateway::sqlite {

// The schema version this build writes.
inline constexpr int kSchemaVersion = 7;

// Brings the database on `db` to kSchemaVersion and sets `*version_out`. FAILED_PRECONDITION for a
// file from a newer gateway (refused rather than guessed at); the migration's error otherwise, with
// nothing of it applied.
absl::Status Migrate(sqlite3* db, int* version_out);

}  // namespace frontdoor::gateway::sqlite

#endif  // FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_SCHEMA_H_
