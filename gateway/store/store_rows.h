// What the SQLite and PostgreSQL stores share in turning rows into values and back: times as
// microseconds, stored audit records, outbox payloads, and the answer for a message under an id
// already recorded. Pure; thread-safe.
#ifndef FRONTDOOR_GATEWAY_STORE_STORE_ROWS_H_
#define FRONTDOOR_GATEWAY_STORE_STORE_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "audit/search_columns.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "gateway/store/delivery_outbox.h"
#include "gateway/store/feedback_log.h"
#include "gateway/store/referral_records.h"

namespace frontdoor::gateway::store_rows {

inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// A stored audit record with its stored leaf hash; DATA_LOSS when it does not parse.
absl::StatusOr<frontdoor::v1::AuditRecord> ParseRecord(const std::string& blob, int64_t index,
                                                       const std::string& leaf_hash);

// A pruned record as GetAuditRecord answers it: index, time, kept leaf hash, `pruned`.
frontdoor::v1::AuditRecord PrunedRecord(uint64_t index, int64_t time_us, const std::string& leaf_hash);

// The outcome for `incoming` when its (sender_ods, message_id) is already recorded, with the
// recorded row's fingerprint, decision (serialized) and receipt time: a duplicate carrying the
// first decision when it is a resend, otherwise message_id_reused with nothing of the first
// referral. INTERNAL when the stored decision does not parse.
absl::StatusOr<RecordOutcome> OutcomeForRecordedId(const NewReferral& incoming, const std::string& stored_fingerprint,
                                                   const std::string& stored_decision, absl::Time first_received);

// Fills `item`'s kind and request from an outbox row's `kind` column ("deliver" | "cease") and
// payload (kept as stored); INTERNAL for any other kind (item->outbox_id names the row).
absl::Status SetOutboxRequest(const std::string& kind, std::string payload, OutboxItem* item);

// An audit record ready to append at leaf `index`: the record with its index set (and its leaf
// hash, once appended), its leaf hash, the search columns to store beside it, and its body.
struct SealedAuditRecord {
  std::string leaf_hash;
  audit::AuditSearchColumns columns;
  std::string body;
};
// Seals `record` for leaf `index`; INVALID_ARGUMENT when its time is not RFC 3339.
absl::StatusOr<SealedAuditRecord> SealAuditRecord(int64_t index, frontdoor::v1::AuditRecord* record);

// The feedback event just recorded as `seq`, as readers of the log see it.
StoredFeedback RecordedFeedback(int64_t seq, const NewFeedback& feedback, const StoredReferral& referral);

// The delivery state a referral's reader sees, from its decision and its delivery row's state
// (nullopt: no row).
frontdoor::v1::DeliveryState DeliveryStateFor(const frontdoor::v1::SubmitReferralResponse& decision,
                                              const std::optional<std::string>& row_state);

}  // namespace frontdoor::gateway::store_rows

#endif  // FRONTDOOR_GATEWAY_STORE_STORE_ROWS_H_
