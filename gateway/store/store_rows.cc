#include "gateway/store/store_rows.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "audit/audit_record.h"
#include "audit/merkle_tree.h"
#include "common/status_macros.h"
#include "gateway/store/audit_records.h"
#include "gateway/store/message_fingerprint.h"

namespace frontdoor::gateway::store_rows {

absl::StatusOr<frontdoor::v1::AuditRecord> ParseRecord(const std::string& blob, int64_t index,
                                                       const std::string& leaf_hash) {
  frontdoor::v1::AuditRecord r;
  if (!r.ParseFromString(blob)) return absl::DataLossError(absl::StrCat("audit record ", index, " does not parse"));
  r.set_leaf_hash_hex(leaf_hash);
  return r;
}

frontdoor::v1::AuditRecord PrunedRecord(uint64_t index, int64_t time_us, const std::string& leaf_hash) {
  frontdoor::v1::AuditRecord r;
  r.set_index(index);
  r.set_time(AuditTimeText(FromMicros(time_us)));
  r.set_leaf_hash_hex(leaf_hash);
  r.set_pruned(true);
  return r;
}

absl::StatusOr<RecordOutcome> OutcomeForRecordedId(const NewReferral& incoming, const std::string& stored_fingerprint,
                                                   const std::string& stored_decision, absl::Time first_received) {
  RecordOutcome out;
  if (!IsResendOf(stored_fingerprint, incoming.content_fingerprint)) {
    out.message_id_reused = true;
    out.first_received_at = first_received;
    return out;
  }
  out.duplicate = true;
  if (!out.decision.ParseFromString(stored_decision)) return absl::InternalError("stored decision does not parse");
  return out;
}

absl::Status SetOutboxRequest(const std::string& kind, std::string payload, OutboxItem* item) {
  std::optional<OutboxKind> named = OutboxKindNamed(kind);
  if (!named.has_value()) {
    return absl::InternalError(absl::StrCat("outbox row ", item->outbox_id, " has an unknown kind '", kind, "'"));
  }
  item->kind = *named;
  item->request = std::move(payload);
  return absl::OkStatus();
}

absl::StatusOr<SealedAuditRecord> SealAuditRecord(int64_t index, frontdoor::v1::AuditRecord* record) {
  record->set_index(static_cast<uint64_t>(index));
  record->clear_leaf_hash_hex();
  record->set_pruned(false);
  SealedAuditRecord sealed;
  FRONTDOOR_ASSIGN_OR_RETURN(sealed.columns, audit::SearchColumnsOf(*record));
  sealed.leaf_hash = audit::ToHex(audit::RecordLeafHash(*record));
  sealed.body = record->SerializeAsString();
  return sealed;
}

StoredFeedback RecordedFeedback(int64_t seq, const NewFeedback& feedback, const StoredReferral& referral) {
  StoredFeedback event;
  event.seq = seq;
  event.referral_id = referral.referral_id;
  event.sender_ods = referral.sender_ods;
  event.endpoint_id = feedback.endpoint_id;
  event.team_id = referral.decision.connector_id();
  event.message_id = referral.message_id;
  event.format = referral.format;
  event.report = feedback.report;
  event.recorded_at = feedback.recorded_at;
  return event;
}

frontdoor::v1::DeliveryState DeliveryStateFor(const frontdoor::v1::SubmitReferralResponse& decision,
                                              const std::optional<std::string>& row_state) {
  if (decision.disposition() != frontdoor::v1::ACCEPTED) return frontdoor::v1::NOT_FOR_DELIVERY;
  if (!row_state.has_value()) return frontdoor::v1::DELIVERY_PENDING;
  if (*row_state == "delivered") return frontdoor::v1::DELIVERED;
  if (*row_state == "dead") return frontdoor::v1::DELIVERY_FAILED;
  return frontdoor::v1::DELIVERY_PENDING;
}

}  // namespace frontdoor::gateway::store_rows
