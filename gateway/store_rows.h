// What the SQLite and PostgreSQL stores share in turning rows into values and back: times as
// microseconds, the audit log's time text, stored audit records, withdrawal reasons, and outbox
// payloads. Pure; thread-safe.
#ifndef FRONTDOOR_GATEWAY_STORE_ROWS_H_
#define FRONTDOOR_GATEWAY_STORE_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "gateway/referral_store.h"

namespace frontdoor::gateway::store_rows {

inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

// An audit record's time as it is written into the record (RFC 3339, UTC, microseconds).
std::string AuditTimeText(absl::Time t);

// A stored audit record with its stored leaf hash; DATA_LOSS when it does not parse.
absl::StatusOr<frontdoor::v1::AuditRecord> ParseRecord(const std::string& blob, int64_t index,
                                                       const std::string& leaf_hash);

// The outcome for `incoming` when its (sender_ods, message_id) is already recorded, with the
// recorded row's fingerprint, decision (serialized) and receipt time: a duplicate carrying the
// first decision when it is a resend, otherwise message_id_reused with nothing of the first
// referral. INTERNAL when the stored decision does not parse.
absl::StatusOr<RecordOutcome> OutcomeForRecordedId(const NewReferral& incoming, const std::string& stored_fingerprint,
                                                   const std::string& stored_decision, absl::Time first_received);

// The words a withdrawal's audit record uses for its reason.
const char* CancelReasonText(frontdoor::v1::CancelReason reason);

// Fills `item`'s kind and request from an outbox row's `kind` column ("deliver" | "cease") and
// payload (kept as stored); INTERNAL for any other kind (item->outbox_id names the row).
absl::Status SetOutboxRequest(const std::string& kind, std::string payload, OutboxItem* item);

// Copies a referral's audit context into `record`: who it is about, the consent relied on, the
// referrer and the rules (rule_ids is comma-separated).
void CiteContext(const ReferralAuditContext& context, frontdoor::v1::AuditRecord* record);

// The audit record (IG-9) of a connector's acknowledgement of `row`: the disclosure of its
// referral to its endpoint (or its cease), citing the referral's audit context, which `row` must
// carry. `withdrawn`: the row was a delivery in flight when the referral was withdrawn (IG-7).
// Without index or leaf hash, which only the transaction that appends it can give.
frontdoor::v1::AuditRecord AcknowledgementRecord(const OutboxItem& row, bool withdrawn, absl::Time at);

}  // namespace frontdoor::gateway::store_rows

#endif  // FRONTDOOR_GATEWAY_STORE_ROWS_H_
