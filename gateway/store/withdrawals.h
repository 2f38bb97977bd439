// Withdrawals: a referring organisation withdraws a referral (IG-7). One transaction records the
// withdrawal, stops a delivery not yet made, queues the instruction to cease processing for the
// connector, and appends the withdrawal's audit record.
//
//   CancelOutcome out = *withdrawals->CancelReferral(referral_id, cease, AuditActor{"P85901", "P85901"}, now);
//
// Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_WITHDRAWALS_H_
#define FRONTDOOR_GATEWAY_STORE_WITHDRAWALS_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/connector_service.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "gateway/store/audit_records.h"

namespace frontdoor::gateway {

// The answer to a withdrawal (IG-7).
struct CancelOutcome {
  bool duplicate = false;  // it was already cancelled: this is the first answer, nothing new queued
  frontdoor::v1::CancelReferralResponse response;
};

class Withdrawals {
 public:
  virtual ~Withdrawals() = default;

  // Withdraws an ACCEPTED referral (IG-7) in ONE transaction: records the cancellation (reason,
  // time, who); marks its delivery row 'cancelled' if still pending or dead (never sent after
  // this); and always queues a CeaseProcessing behind it (`cease` carries the idempotency key and
  // the reason): a pending delivery may be in flight at this instant, and a cease for a referral
  // the connector never received is answered OK (connector_service.proto). Appends the
  // withdrawal's audit record (WithdrawalRecord, by `by`). Idempotent: cancelling again returns
  // the first answer with `duplicate` and queues nothing. NOT_FOUND for no such referral,
  // FAILED_PRECONDITION for a referral that was not ACCEPTED (nothing was ever sent).
  virtual absl::StatusOr<CancelOutcome> CancelReferral(std::string_view referral_id,
                                                       const frontdoor::v1::CeaseProcessingRequest& cease,
                                                       const AuditActor& by, absl::Time at) = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_WITHDRAWALS_H_
