// Searching the audit log as an IG officer can trust it: on the records themselves, never on the
// search columns kept beside them (audit/search_columns.h), which sit outside the records' leaf
// hashes and could be edited to hide a record. Both stores read the log in index order, a chunk at
// a time, through a reader of their own; this checks each record against its leaf hash and
// matches the query on its own fields.
//
//   absl::StatusOr<std::vector<v1::AuditRecord>> page = SearchAuditLog(query, after_index, 256,
//       [&](int64_t after, int n) { return /* up to n stored rows with index > after, in order */; });
//
// A search reads the whole log past `after_index` when few records match: an IG officer's query
// costs a scan (about a microsecond a record), which is the price of an answer that no edit
// beside the records can bend. Pure apart from the reader; thread-safe.
#ifndef FRONTDOOR_GATEWAY_STORE_AUDIT_SEARCH_H_
#define FRONTDOOR_GATEWAY_STORE_AUDIT_SEARCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "gateway/store/audit_store.h"

namespace frontdoor::gateway {

// One stored, unpruned audit record as a store reads it.
struct StoredAuditRow {
  int64_t index = 0;
  std::string leaf_hash_hex;
  std::string body;  // the serialized frontdoor.v1.AuditRecord
};

// Up to `n` stored rows with index > `after_index` whose body is kept (not pruned), in index
// order; fewer than `n` only at the end of the log.
using AuditRowReader = std::function<absl::StatusOr<std::vector<StoredAuditRow>>(int64_t after_index, int n)>;

// True when `record` (its own fields) matches every filter of `query`.
bool AuditRecordMatches(const AuditQuery& query, const frontdoor::v1::AuditRecord& record);

// Up to `limit` records matching `query` with index > after_index, oldest first, each with its
// leaf_hash_hex. DATA_LOSS, naming the record, when one does not parse or does not match its leaf
// hash (the log was altered: `audit verify` says more); the reader's errors as they are.
absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> SearchAuditLog(const AuditQuery& query, int64_t after_index,
                                                                       int limit, const AuditRowReader& read);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_AUDIT_SEARCH_H_
