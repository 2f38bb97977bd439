// AuditStore: the durable, append-only audit log (IG-9) and its signed checkpoints. Records of
// decisions are written by ReferralRecords::RecordReferrals, of deliveries and ceases by
// DeliveryOutbox::MarkDeliveredMany, of withdrawals by Withdrawals::CancelReferral, of progress
// reports by FeedbackLog::RecordFeedback, each in the transaction of what it records; this
// interface appends the rest (audit queries), reads the log back, and keeps checkpoints.
//
//   AuditStore* log = store.get();                       // every Store is one
//   std::vector<v1::AuditRecord> page = *log->QueryAudit(query, /*after_index=*/-1, 256);
//   v1::VerifyAuditResponse r = audit::VerifyAuditLog(*log->ReadAuditLeaves(), *log->AuditCheckpoints(), pem);
//
// Every record gets the next leaf index and leaf_hash = audit::RecordLeafHash(record) when it is
// appended; nothing is ever updated except PruneAuditBefore, which removes bodies and keeps the
// leaf hashes. Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_AUDIT_STORE_H_
#define FRONTDOOR_GATEWAY_STORE_AUDIT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/log_verification.h"
#include "audit/merkle_tree.h"
#include "frontdoor/v1/audit_service.pb.h"

namespace frontdoor::gateway {

// QueryAudit's filters; an empty field matches everything. Times are [from, to).
struct AuditQuery {
  std::string nhs_number;
  std::string recipient_endpoint;
  std::string referrer_ods;
  std::string rule_id;
  std::string outcome;
  std::string action;
  std::optional<absl::Time> from;
  std::optional<absl::Time> to;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends records in one transaction, in order; returns them with index and leaf_hash_hex set.
  virtual absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> AppendAudit(
      std::vector<frontdoor::v1::AuditRecord> records) = 0;
  // Up to `limit` matching records with index > after_index (-1 for the start), oldest first.
  // Pruned records never match.
  virtual absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> QueryAudit(const AuditQuery& query,
                                                                             int64_t after_index, int limit) = 0;
  // The number of records (the tree size).
  virtual absl::StatusOr<uint64_t> AuditTreeSize() = 0;
  // The stored leaf hashes of records [from, to), in index order.
  virtual absl::StatusOr<std::vector<audit::Hash>> AuditLeafHashes(uint64_t from, uint64_t to) = 0;
  // One record (nullopt when there is none; `pruned` set when its body was removed).
  virtual absl::StatusOr<std::optional<frontdoor::v1::AuditRecord>> GetAuditRecord(uint64_t index) = 0;
  // Every stored leaf as stored, for verification.
  virtual absl::StatusOr<std::vector<audit::StoredLeaf>> ReadAuditLeaves() = 0;

  virtual absl::Status RecordCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint) = 0;
  // Every checkpoint, by tree size.
  virtual absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> AuditCheckpoints() = 0;

  // Retention: removes the bodies of records older than `cutoff` that a signed checkpoint already
  // covers (so the tree stays verifiable from the kept leaf hashes). Returns how many were pruned.
  virtual absl::StatusOr<int64_t> PruneAuditBefore(absl::Time cutoff) = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_AUDIT_STORE_H_
