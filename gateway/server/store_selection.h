// Which store the gateway uses, from the configuration's `store` block: absent or `sqlite {}`, the
// embedded SQLite file (DATA_DIR/frontdoor.db, or sqlite.path); `postgres {...}`, PostgreSQL for
// several replicas over one database.
//
//   FRONTDOOR_ASSIGN_OR_RETURN(ConfiguredStore s, OpenConfiguredStore(config.store(), data_dir));
//   std::fprintf(stderr, "store: %s\n", s.description.c_str());   // never shows a password
//
// Failure codes are the chosen store's Open's (UNAVAILABLE when it cannot be reached,
// FAILED_PRECONDITION for a schema newer than this build, INVALID_ARGUMENT for a bad setting).
#ifndef FRONTDOOR_GATEWAY_SERVER_STORE_SELECTION_H_
#define FRONTDOOR_GATEWAY_SERVER_STORE_SELECTION_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/store/store.h"

namespace frontdoor::gateway {

struct ConfiguredStore {
  std::unique_ptr<Store> store;
  // Other gateway processes may write to it (PostgreSQL): readers that are woken only by this
  // process's commits must also poll.
  bool shared = false;
  std::string description;  // what and where, for the start-up log; never a password
};

absl::StatusOr<ConfiguredStore> OpenConfiguredStore(const frontdoor::v1::StoreConfig& config,
                                                    const std::string& data_dir);

// INVALID_ARGUMENT, naming the field, for a store block that cannot work: a conninfo that does not
// parse or that holds a password (it belongs in PGPASSWORD or PGPASSFILE), a pool_size above 64, an
// outbox lease above an hour, a malformed replica_id.
absl::Status ValidateStoreConfig(const frontdoor::v1::StoreConfig& config);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVER_STORE_SELECTION_H_
