#include "gateway/store/audit_records.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/time_text.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr char kDirectCareBasis[] = "UK GDPR Art 6(1)(e); Art 9(2)(h) (direct care)";

// The words a withdrawal's record uses for its reason.
const char* CancelReasonText(v1::CancelReason reason) {
  switch (reason) {
    case v1::CONSENT_WITHDRAWN:
      return "consent withdrawn";
    case v1::ENTERED_IN_ERROR:
      return "entered in error";
    case v1::NO_LONGER_NEEDED:
      return "no longer needed";
    default:
      return "unspecified";
  }
}

}  // namespace

std::string AuditTimeText(absl::Time t) { return FormatRfc3339Utc(t, 6); }

void CiteContext(const ReferralAuditContext& context, v1::AuditRecord* record) {
  record->set_nhs_number(context.nhs_number);
  record->set_consent_reference(context.consent_reference);
  record->set_referrer_ods(context.referrer_ods);
  for (absl::string_view rule : absl::StrSplit(context.rule_ids, ',', absl::SkipEmpty())) {
    record->add_rule_ids(std::string(rule));
  }
}

namespace {

// A feedback event the referrer's own endpoint acknowledged: the gateway told the referring
// organisation how its referral is going, under the rules it was sent under.
v1::AuditRecord FeedbackPushRecord(const OutboxItem& row, absl::Time at) {
  v1::AuditRecord r;
  r.set_time(AuditTimeText(at));
  r.set_actor("frontdoor-gateway");
  r.set_actor_organisation(row.endpoint_id);
  CiteContext(*row.audit_context, &r);
  r.set_referral_id(row.referral_id);
  r.set_action("feedback-push");
  r.set_recipient_endpoint(row.endpoint_id);
  r.set_outcome("delivered");
  r.set_lawful_basis(kDirectCareBasis);
  r.set_detail("a feedback event on the referral acknowledged by the referrer's own endpoint");
  return r;
}

}  // namespace

v1::AuditRecord AcknowledgementRecord(const OutboxItem& row, bool withdrawn, absl::Time at) {
  if (row.kind == OutboxKind::kFeedback) return FeedbackPushRecord(row, at);
  const bool cease = row.kind == OutboxKind::kCease;
  v1::AuditRecord r;
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
  r.set_lawful_basis(cease ? "" : kDirectCareBasis);
  r.set_detail(cease       ? "the connector acknowledged CeaseProcessing: stop and delete"
               : withdrawn ? "minimum-necessary copy acknowledged by the connector while being withdrawn; cease follows"
                           : "minimum-necessary copy acknowledged by the connector");
  return r;
}

v1::AuditRecord WithdrawalRecord(const AuditActor& by, const std::string& referral_id, const std::string& endpoint_id,
                                 const ReferralAuditContext* context, v1::CancelReason reason, bool delivery_stopped,
                                 absl::Time at) {
  v1::AuditRecord r;
  r.set_time(AuditTimeText(at));
  r.set_actor(by.identity);
  r.set_actor_organisation(by.organisation);
  if (context != nullptr) CiteContext(*context, &r);
  r.clear_rule_ids();
  r.add_rule_ids("IG-7");
  r.set_referral_id(referral_id);
  r.set_recipient_endpoint(endpoint_id);
  r.set_action("withdraw");
  r.set_outcome("withdraw");
  r.set_detail(absl::StrCat("reason: ", CancelReasonText(reason), "; ",
                            delivery_stopped ? "pending delivery stopped" : "already delivered",
                            "; cease processing queued"));
  return r;
}

v1::AuditRecord FeedbackRecord(const std::string& referral_id, const std::string& endpoint_id,
                               const std::string& sender_ods, const ReferralAuditContext* context,
                               v1::ProgressStatus status, absl::Time at) {
  v1::AuditRecord r;
  r.set_referral_id(referral_id);
  r.set_time(AuditTimeText(at));
  r.set_actor(endpoint_id);
  r.set_actor_organisation(endpoint_id);
  if (context != nullptr) CiteContext(*context, &r);
  r.clear_rule_ids();
  r.add_rule_ids("IG-8");
  r.set_action("feedback");
  r.set_outcome("feedback");
  r.set_recipient_endpoint(sender_ods);  // the feedback goes back to the referrer
  r.set_detail(absl::StrCat("progress ", v1::ProgressStatus_Name(status),
                            " reported by the connector organisation, passed back to the referrer"));
  return r;
}

}  // namespace frontdoor::gateway
