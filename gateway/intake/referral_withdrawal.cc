#include "gateway/intake/referral_withdrawal.h"

#include <optional>

#include "absl/strings/str_cat.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

std::string CeaseIdempotencyKey(const std::string& referral_id) { return absl::StrCat("cease:", referral_id); }

absl::Status CheckWithdrawalRequest(const std::string& referral_id, v1::CancelReason reason) {
  if (referral_id.empty() || referral_id.size() > 64) {
    return absl::InvalidArgumentError("referral_id must be 1..64 characters");
  }
  if (reason == v1::CANCEL_REASON_UNSPECIFIED || !v1::CancelReason_IsValid(reason)) {
    return absl::InvalidArgumentError("reason must be CONSENT_WITHDRAWN, ENTERED_IN_ERROR or NO_LONGER_NEEDED");
  }
  return absl::OkStatus();
}

absl::StatusOr<CancelOutcome> WithdrawReferral(const WithdrawalDeps& deps, const Caller& caller,
                                               const std::string& referral_id, v1::CancelReason reason) {
  absl::StatusOr<std::optional<StoredReferral>> stored = deps.referrals->GetReferral(referral_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return absl::NotFoundError("no referral with that id");
  // IG-7 / IG-8: only the organisation that sent it may withdraw it.
  if (absl::Status s = deps.authorizer->MayActOnReferral(caller, (*stored)->sender_ods); !s.ok()) return s;
  if ((*stored)->decision.disposition() != v1::ACCEPTED) {
    return absl::FailedPreconditionError(
        "that referral was refused, so nothing was or will be sent; there is nothing to withdraw");
  }
  v1::CeaseProcessingRequest cease;
  cease.set_idempotency_key(CeaseIdempotencyKey(referral_id));
  cease.set_referral_id(referral_id);
  cease.set_team_id((*stored)->decision.connector_id());
  cease.set_reason(reason);
  absl::StatusOr<CancelOutcome> outcome = deps.withdrawals->CancelReferral(
      referral_id, cease, AuditActor{caller.identity, ActorOrganisation(caller)}, deps.clock->Now());
  if (outcome.ok() && !outcome->duplicate && deps.wake_delivery) deps.wake_delivery();
  return outcome;
}

}  // namespace frontdoor::gateway
