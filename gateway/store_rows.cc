#include "gateway/store_rows.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/time_text.h"
#include "gateway/message_fingerprint.h"

namespace frontdoor::gateway::store_rows {

std::string AuditTimeText(absl::Time t) { return FormatRfc3339Utc(t, 6); }

absl::StatusOr<frontdoor::v1::AuditRecord> ParseRecord(const std::string& blob, int64_t index,
                                                       const std::string& leaf_hash) {
  frontdoor::v1::AuditRecord r;
  if (!r.ParseFromString(blob)) return absl::DataLossError(absl::StrCat("audit record ", index, " does not parse"));
  r.set_leaf_hash_hex(leaf_hash);
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

const char* CancelReasonText(frontdoor::v1::CancelReason reason) {
  switch (reason) {
    case frontdoor::v1::CONSENT_WITHDRAWN:
      return "consent withdrawn";
    case frontdoor::v1::ENTERED_IN_ERROR:
      return "entered in error";
    case frontdoor::v1::NO_LONGER_NEEDED:
      return "no longer needed";
    default:
      return "unspecified";
  }
}

absl::Status SetOutboxRequest(const std::string& kind, std::string payload, OutboxItem* item) {
  if (kind == "deliver") {
    item->kind = OutboxKind::kDeliver;
  } else if (kind == "cease") {
    item->kind = OutboxKind::kCease;
  } else {
    return absl::InternalError(absl::StrCat("outbox row ", item->outbox_id, " has an unknown kind '", kind, "'"));
  }
  item->request = std::move(payload);
  return absl::OkStatus();
}

void CiteContext(const ReferralAuditContext& context, frontdoor::v1::AuditRecord* record) {
  record->set_nhs_number(context.nhs_number);
  record->set_consent_reference(context.consent_reference);
  record->set_referrer_ods(context.referrer_ods);
  for (absl::string_view rule : absl::StrSplit(context.rule_ids, ',', absl::SkipEmpty())) {
    record->add_rule_ids(std::string(rule));
  }
}

frontdoor::v1::AuditRecord AcknowledgementRecord(const OutboxItem& row, bool withdrawn, absl::Time at) {
  const bool cease = row.kind == OutboxKind::kCease;
  frontdoor::v1::AuditRecord r;
  r.set_time(AuditTimeText(at));
  // The gateway made the disclosure; the connector organisation acknowledged it.
  r.set_actor("frontdoor-gateway");
  r.set_actor_organisation(row.endpoint_id);
  CiteContext(*row.audit_context, &r);
  if (cease) {
    // A cease rests on the withdrawal (IG-7) alone, not on the rules the referral was sent under.
    r.clear_rule_ids();
    r.add_rule_ids("IG-7");
  }
  r.set_referral_id(row.referral_id);
  r.set_action(cease ? "cease" : "deliver");
  r.set_recipient_endpoint(row.endpoint_id);
  r.set_outcome(cease ? "cease" : "deliver");
  r.set_lawful_basis(cease ? "" : "UK GDPR Art 6(1)(e); Art 9(2)(h) (direct care)");
  r.set_detail(cease       ? "the connector acknowledged CeaseProcessing: stop and delete"
               : withdrawn ? "minimum-necessary copy acknowledged by the connector while being withdrawn; cease follows"
                           : "minimum-necessary copy acknowledged by the connector");
  return r;
}

}  // namespace frontdoor::gateway::store_rows
