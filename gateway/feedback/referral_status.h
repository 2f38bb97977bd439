// What a referring organisation sees of its referral, whichever door it asks through
// (ReferralService.GetReferral; a BaRS system reading ServiceRequest/{id} and its Tasks): the
// decision, the delivery, a withdrawal, and the connector's progress so far.
//
//   absl::StatusOr<v1::GetReferralResponse> status = ReferralStatusFor(deps, caller, id);
//
// Only the organisation that sent it may read it (IG-8); a refused read is itself recorded in the
// audit log (IG-9). Thread-safety: may be called from any
// thread; it waits on the store, so call it from the store work queue, never a transport's thread.
#ifndef FRONTDOOR_GATEWAY_FEEDBACK_REFERRAL_STATUS_H_
#define FRONTDOOR_GATEWAY_FEEDBACK_REFERRAL_STATUS_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "gateway/security/authorization.h"
#include "gateway/store/audit_store.h"
#include "gateway/store/feedback_log.h"
#include "gateway/store/referral_records.h"

namespace frontdoor::gateway {

struct ReferralReadDeps {
  ReferralRecords* referrals = nullptr;
  FeedbackLog* feedback = nullptr;
  const Authorizer* authorizer = nullptr;
  AuditStore* audit = nullptr;  // where a refused read is recorded; null: not recorded
  const Clock* clock = nullptr;
};

// INVALID_ARGUMENT for an id that is not 1..64 characters, NOT_FOUND for no such referral,
// PERMISSION_DENIED for one another organisation sent (recorded); the store's errors as they are.
absl::StatusOr<frontdoor::v1::GetReferralResponse> ReferralStatusFor(const ReferralReadDeps& deps, const Caller& caller,
                                                                     const std::string& referral_id);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_FEEDBACK_REFERRAL_STATUS_H_
