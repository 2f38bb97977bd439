// ReferralService.CancelReferral: withdrawal (IG-7). See ReferralStore::CancelReferral for the one
// transaction it is, and connector_service.proto for the connector's duty on CeaseProcessing.
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/audit_records.h"
#include "gateway/grpc_status.h"
#include "gateway/referral_service.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

std::string CeaseIdempotencyKey(const std::string& referral_id) { return absl::StrCat("cease:", referral_id); }

grpc::ServerUnaryReactor* ReferralServiceImpl::CancelReferral(grpc::CallbackServerContext* context,
                                                              const v1::CancelReferralRequest* request,
                                                              v1::CancelReferralResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (request->referral_id().empty() || request->referral_id().size() > 64) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("referral_id must be 1..64 characters")));
    return reactor;
  }
  if (request->reason() == v1::CANCEL_REASON_UNSPECIFIED || !v1::CancelReason_IsValid(request->reason())) {
    reactor->Finish(ToGrpcStatus(
        absl::InvalidArgumentError("reason must be CONSENT_WITHDRAWN, ENTERED_IN_ERROR or NO_LONGER_NEEDED")));
    return reactor;
  }
  // The store work (a read, then one durable transaction) runs off the reactor thread.
  std::thread([this, reactor, response, caller = *caller, referral_id = request->referral_id(),
               reason = request->reason()] {
    auto cancel = [&]() -> absl::Status {
      absl::StatusOr<std::optional<StoredReferral>> stored = deps_.store->GetReferral(referral_id);
      if (!stored.ok()) return stored.status();
      if (!stored->has_value()) return absl::NotFoundError("no referral with that id");
      // IG-7 / IG-8: only the organisation that sent it may withdraw it.
      if (absl::Status s = deps_.authorizer->MayActOnReferral(caller, (*stored)->sender_ods); !s.ok()) return s;
      if ((*stored)->decision.disposition() != v1::ACCEPTED) {
        return absl::FailedPreconditionError(
            "that referral was refused, so nothing was or will be sent; there is nothing to withdraw");
      }
      v1::CeaseProcessingRequest cease;
      cease.set_idempotency_key(CeaseIdempotencyKey(referral_id));
      cease.set_referral_id(referral_id);
      cease.set_team_id((*stored)->decision.connector_id());
      cease.set_reason(reason);
      const absl::Time now = deps_.clock->Now();
      absl::StatusOr<CancelOutcome> outcome =
          deps_.store->CancelReferral(referral_id, cease, WithdrawalAuditRecord(caller, now), now);
      if (!outcome.ok()) return outcome.status();
      *response = std::move(outcome->response);
      response->set_duplicate(outcome->duplicate);
      if (!outcome->duplicate && deps_.wake_delivery) deps_.wake_delivery();
      return absl::OkStatus();
    };
    reactor->Finish(ToGrpcStatus(cancel()));
  }).detach();
  return reactor;
}

}  // namespace frontdoor::gateway
