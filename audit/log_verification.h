// Checking the audit log: the whole stored log against its signed checkpoints (what
// AuditService.VerifyAudit and `frontdoor audit verify` run), and one record's inclusion proof
// offline with only the public key (`frontdoor audit check-proof`).
//
//   v1::VerifyAuditResponse r = VerifyAuditLog(leaves, checkpoints, public_key_pem);
//   if (!r.verified()) { /* r.first_bad_index(), r.message() */ }
//
//   absl::Status ok = CheckInclusionProof(proof, public_key_pem);
//
// What is detected, and where it is reported:
//   - a changed field, or a record moved to another position (each record carries its index):
//     the record's own index, by recomputing its leaf hash;
//   - a deleted record (a gap in the indices): the first missing index;
//   - records cut from the end that a checkpoint had signed: the first missing index;
//   - a checkpoint whose signature does not verify (replaced, edited): the first record that only
//     it covered;
//   - a search column (audit/search_columns.h) that disagrees with its record, or a pruned
//     record's that is not empty: the record's index, naming the column;
//   - a record rewritten together with its stored leaf hash: the root no longer matches the first
//     checkpoint that covers it; the answer is the first record of the range only that checkpoint
//     covers (the precise record is unknowable without the original), and the message says so.
//     Checkpoints every record (audit.checkpoint_every_records: 1) make that exact.
//   - a record whose body was removed before the retention period let it be pruned (given a
//     RetentionCheck): the record's index; pruning is legitimate only past retention.
// Pruned records (body removed under retention) are checked through their kept leaf hash.
// Pure; thread-safe.
#ifndef FRONTDOOR_AUDIT_LOG_VERIFICATION_H_
#define FRONTDOOR_AUDIT_LOG_VERIFICATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "audit/search_columns.h"
#include "frontdoor/v1/audit_service.pb.h"

namespace frontdoor::audit {

// One stored leaf, as read from the store in index order.
struct StoredLeaf {
  uint64_t index = 0;                                // the position the store claims
  std::optional<frontdoor::v1::AuditRecord> record;  // nullopt when pruned (or unreadable, see below)
  bool body_unreadable = false;                      // a body was stored but does not parse
  std::string leaf_hash_hex;                         // the stored leaf hash
  std::optional<AuditSearchColumns> columns;         // the search columns as stored; nullopt: none kept
};

// The retention period the log is kept under: a record may be pruned only once it is older than
// `period` at `now`; a zero period keeps every record for ever.
struct RetentionCheck {
  absl::Time now;
  absl::Duration period;
};

frontdoor::v1::VerifyAuditResponse VerifyAuditLog(const std::vector<StoredLeaf>& leaves,
                                                  const std::vector<frontdoor::v1::SignedCheckpoint>& checkpoints,
                                                  const std::string& public_key_pem,
                                                  std::optional<RetentionCheck> retention = std::nullopt);

// Whether the stored log (its leaf hashes as stored) extends `kept`, a checkpoint kept earlier
// outside the gateway: the RFC 9162 consistency proof from `kept` to `latest` (both signed by
// `public_key_pem`, latest at least as large). DATA_LOSS naming what was removed or rewritten;
// INVALID_ARGUMENT for a checkpoint that is not this key's.
absl::StatusOr<std::vector<std::string>> ProveLogExtends(const std::vector<StoredLeaf>& leaves,
                                                         const frontdoor::v1::SignedCheckpoint& kept,
                                                         const frontdoor::v1::SignedCheckpoint& latest,
                                                         const std::string& public_key_pem);

// A client's own check of that proof: both checkpoints signed by `public_key_pem` and `latest`'s
// tree an extension of `kept`'s. DATA_LOSS saying which failed.
absl::Status CheckLogExtends(const frontdoor::v1::SignedCheckpoint& kept, const frontdoor::v1::SignedCheckpoint& latest,
                             const std::vector<std::string>& consistency_path_hex, const std::string& public_key_pem);

// OK when the proof's checkpoint is signed by `public_key_pem` and the record, hashed as
// CanonicalRecordBytes, is the leaf at proof.leaf_index of that tree. DATA_LOSS otherwise, with
// what failed; INVALID_ARGUMENT for a malformed proof or key.
absl::Status CheckInclusionProof(const frontdoor::v1::AuditInclusionProof& proof, const std::string& public_key_pem);

}  // namespace frontdoor::audit

#endif  // FRONTDOOR_AUDIT_LOG_VERIFICATION_H_
