#include "gateway/feedback/referral_status.h"

#include <optional>
#include <vector>

#include "common/time_text.h"
#include "gateway/audit_log/access_records.h"
#include "gateway/feedback/feedback_view.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

absl::StatusOr<v1::GetReferralResponse> ReferralStatusFor(const ReferralReadDeps& deps, const Caller& caller,
                                                          const std::string& referral_id) {
  if (referral_id.empty() || referral_id.size() > 64) {
    return absl::InvalidArgumentError("referral_id must be 1..64 characters");
  }
  absl::StatusOr<std::optional<StoredReferral>> stored = deps.referrals->GetReferral(referral_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return absl::NotFoundError("no referral with that id");
  const StoredReferral& r = **stored;
  // IG-8: a referrer sees only its own organisation's referrals.
  if (absl::Status allowed = deps.authorizer->MayActOnReferral(caller, r.sender_ods); !allowed.ok()) {
    if (deps.audit != nullptr && deps.clock != nullptr) {
      absl::StatusOr<std::vector<v1::AuditRecord>> recorded =
          deps.audit->AppendAudit({RefusedReadRecord(caller, r.referral_id, r.sender_ods, deps.clock->Now())});
      if (!recorded.ok()) return recorded.status();  // no unrecorded refusal: the caller may try again
    }
    return allowed;
  }
  v1::GetReferralResponse response;
  response.set_referral_id(r.referral_id);
  response.set_message_id(r.message_id);
  response.set_sender_ods(r.sender_ods);
  response.set_format(r.format);
  response.set_received_at(FormatRfc3339Utc(r.received_at, 0));
  *response.mutable_decision() = r.decision;
  response.set_delivery_state(r.delivery_state);
  if (r.delivered_at.has_value()) response.set_delivered_at(FormatRfc3339Utc(*r.delivered_at, 0));
  response.set_delivery_attempts(r.delivery_attempts);
  if (r.cancelled_at.has_value()) {  // IG-7: the referrer sees its withdrawal
    response.set_cancelled_at(FormatRfc3339Utc(*r.cancelled_at, 0));
    response.set_cancel_reason(r.cancel_reason);
    response.set_cease_processing_sent(r.cease_processing_sent);
    response.set_cease_processing_acknowledged(r.cease_processing_acknowledged);
  }
  // The connector's progress so far, oldest first, and the latest status.
  absl::StatusOr<std::vector<StoredFeedback>> history = deps.feedback->FeedbackForReferral(r.referral_id);
  if (!history.ok()) return history.status();
  for (const StoredFeedback& event : *history) *response.add_history() = FeedbackEventFor(event);
  if (!history->empty()) response.set_status(history->back().report.status());
  return response;
}

}  // namespace frontdoor::gateway
