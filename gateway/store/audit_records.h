// The audit records (IG-9) a store appends inside the transaction of what they record, built
// here once for both backends: a connector's acknowledgement of a delivery or a cease, a
// withdrawal, a progress report. Each cites what the referral's decision recorded (who it is
// about, the consent, the referrer, the rules: its ReferralAuditContext), never clinical text.
// Without index or leaf hash, which only the appending transaction can give.
//
//   v1::AuditRecord r = WithdrawalRecord(by, referral_id, endpoint_id, &context, reason, stopped, now);
//
// Pure; thread-safe.
#ifndef FRONTDOOR_GATEWAY_STORE_AUDIT_RECORDS_H_
#define FRONTDOOR_GATEWAY_STORE_AUDIT_RECORDS_H_

#include <string>

#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "gateway/store/delivery_outbox.h"

namespace frontdoor::gateway {

// Who did what a record records: the authenticated identity and the organisation it acts for.
struct AuditActor {
  std::string identity;
  std::string organisation;
};

// An audit record's time as it is written into the record (RFC 3339, UTC, microseconds).
std::string AuditTimeText(absl::Time t);

// Copies a referral's audit context into `record`: who it is about, the consent relied on, the
// referrer and the rules (rule_ids is comma-separated).
void CiteContext(const ReferralAuditContext& context, frontdoor::v1::AuditRecord* record);

// An endpoint's acknowledgement of `row`: the disclosure of its referral to its connector (or its
// cease), or of a feedback event to its referrer's own endpoint (action feedback-push), citing
// the referral's audit context, which `row` must carry. `withdrawn`: the row was a delivery in
// flight when the referral was withdrawn (IG-7).
frontdoor::v1::AuditRecord AcknowledgementRecord(const OutboxItem& row, bool withdrawn, absl::Time at);

// A withdrawal by `by` of `referral_id` (delivered to `endpoint_id`), citing `context` (null: the
// referral was recorded before the audit log existed, and the record cites nothing).
// `delivery_stopped`: a delivery not yet made was stopped; otherwise it had been delivered.
frontdoor::v1::AuditRecord WithdrawalRecord(const AuditActor& by, const std::string& referral_id,
                                            const std::string& endpoint_id, const ReferralAuditContext* context,
                                            frontdoor::v1::CancelReason reason, bool delivery_stopped, absl::Time at);

// A progress report on `referral_id` by the connector organisation `endpoint_id`, passed back to
// the referrer `sender_ods`: its status only, never the connector's words.
frontdoor::v1::AuditRecord FeedbackRecord(const std::string& referral_id, const std::string& endpoint_id,
                                          const std::string& sender_ods, const ReferralAuditContext* context,
                                          frontdoor::v1::ProgressStatus status, absl::Time at);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_AUDIT_RECORDS_H_
