// A referring organisation withdrawing its referral (IG-7), whichever door it came through
// (ReferralService.CancelReferral; a BaRS ServiceRequest re-sent as `revoked`): only the
// organisation that sent it may, only an accepted referral has anything to withdraw, and the store
// then stops the delivery, queues the instruction to cease processing and records it, in one
// transaction.
//
//   FRONTDOOR_RETURN_IF_ERROR(CheckWithdrawalRequest(referral_id, reason));   // on the door's thread
//   work.Post([&](absl::Status ready) {                                          // store work
//     absl::StatusOr<CancelOutcome> out = WithdrawReferral(deps, caller, referral_id, reason);
//   });
//
// Thread-safety: both may be called from any thread; WithdrawReferral waits on the store, so call
// it from the store work queue (gateway/store/store_work_queue.h), never a transport's thread.
#ifndef FRONTDOOR_GATEWAY_INTAKE_REFERRAL_WITHDRAWAL_H_
#define FRONTDOOR_GATEWAY_INTAKE_REFERRAL_WITHDRAWAL_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "gateway/security/authorization.h"
#include "gateway/store/referral_records.h"
#include "gateway/store/withdrawals.h"

namespace frontdoor::gateway {

struct WithdrawalDeps {
  ReferralRecords* referrals = nullptr;
  Withdrawals* withdrawals = nullptr;
  const Authorizer* authorizer = nullptr;
  const Clock* clock = nullptr;
  // Called after a withdrawal queued a CeaseProcessing (wakes the delivery workers). Optional.
  std::function<void()> wake_delivery;
};

// INVALID_ARGUMENT for a referral id that is not 1..64 characters or a reason that is unset or
// unknown.
absl::Status CheckWithdrawalRequest(const std::string& referral_id, frontdoor::v1::CancelReason reason);

// Withdraws `referral_id` for `caller`. NOT_FOUND for no such referral, PERMISSION_DENIED for one
// another organisation sent (IG-8), FAILED_PRECONDITION for one that was refused (nothing was or
// will be sent); the store's errors as they are. A second withdrawal answers the first with
// `duplicate`.
absl::StatusOr<CancelOutcome> WithdrawReferral(const WithdrawalDeps& deps, const Caller& caller,
                                               const std::string& referral_id, frontdoor::v1::CancelReason reason);

// The idempotency key of a referral's CeaseProcessing.
std::string CeaseIdempotencyKey(const std::string& referral_id);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_REFERRAL_WITHDRAWAL_H_
