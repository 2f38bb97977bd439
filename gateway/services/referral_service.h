// ReferralServiceImpl: frontdoor.v1.ReferralService for referring systems, on the gRPC callback
// API: a thin adapter over what every door shares. SubmitReferral hands the message to the
// SubmissionIntake (gateway/intake/submission_intake.h) and answers from its completion, so a
// referrer is answered only after its referral is durable and no reactor thread waits on disk;
// GetReferral and CancelReferral run their store work on the StoreWorkQueue; WatchFeedback is the
// FeedbackStreamHub's. SubmitReferral is served as a raw method: the gateway reads the request
// bytes itself (as frontdoor.internal.SubmitReferralRequestWire), so a payload that is not UTF-8
// gets a clear REJECTED answer rather than an anonymous gRPC failure, and a typed referral whose
// bytes carry a field twice is refused rather than merged.
//
//   ReferralServiceImpl service(deps);
//   builder.RegisterService(&service);
//
// Thread-safety: the service is called concurrently by gRPC; everything it holds is thread-safe or
// immutable. `deps` pointers must outlive it.
#ifndef FRONTDOOR_GATEWAY_SERVICES_REFERRAL_SERVICE_H_
#define FRONTDOOR_GATEWAY_SERVICES_REFERRAL_SERVICE_H_

#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/feedback/referral_status.h"
#include "gateway/intake/referral_withdrawal.h"
#include "gateway/intake/submission_intake.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "gateway/services/feedback_stream.h"
#include "gateway/store/feedback_log.h"
#include "gateway/store/referral_records.h"
#include "gateway/store/store_work_queue.h"
#include "grpcpp/support/byte_buffer.h"
#include "observability/call_observer.h"

namespace frontdoor::gateway {

struct ReferralServiceDeps {
  const SubmissionIntake* intake = nullptr;
  ReferralReadDeps reads;     // GetReferral (IG-8: refused reads are recorded)
  WithdrawalDeps withdrawal;  // CancelReferral (IG-7)
  StoreWorkQueue* work = nullptr;
  const Authorizer* authorizer = nullptr;
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const CallAdmission* admission = nullptr;  // per-identity limits (gateway/security/caller_limits.h); null: none
  // Serves WatchFeedback; without it WatchFeedback answers UNAVAILABLE.
  FeedbackStreamHub* feedback_hub = nullptr;
  // The call observer that logs each call with its referral id (null: not noted).
  observability::CallObserver* calls = nullptr;
};

class ReferralServiceImpl final : public frontdoor::v1::ReferralService::WithRawCallbackMethod_SubmitReferral<
                                      frontdoor::v1::ReferralService::CallbackService> {
 public:
  explicit ReferralServiceImpl(ReferralServiceDeps deps);

  // `request` is a serialized frontdoor.v1.SubmitReferralRequest; `response` receives a serialized
  // frontdoor.v1.SubmitReferralResponse.
  grpc::ServerUnaryReactor* SubmitReferral(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetReferral(grpc::CallbackServerContext* context,
                                        const frontdoor::v1::GetReferralRequest* request,
                                        frontdoor::v1::GetReferralResponse* response) override;
  // IG-7 (gateway/intake/referral_withdrawal.h): only the referring organisation; NOT_FOUND for an
  // unknown id, FAILED_PRECONDITION for a referral that was not accepted, INVALID_ARGUMENT without
  // a reason.
  grpc::ServerUnaryReactor* CancelReferral(grpc::CallbackServerContext* context,
                                           const frontdoor::v1::CancelReferralRequest* request,
                                           frontdoor::v1::CancelReferralResponse* response) override;
  // Every feedback event on the caller's organisation's referrals, after request->cursor, then each
  // new one as it is committed (FeedbackStreamHub). Only referring organisations may watch.
  grpc::ServerWriteReactor<frontdoor::v1::FeedbackEvent>* WatchFeedback(
      grpc::CallbackServerContext* context, const frontdoor::v1::WatchFeedbackRequest* request) override;

 private:
  // Who is calling, as the Authorizer knows them; UNAUTHENTICATED or PERMISSION_DENIED otherwise.
  absl::StatusOr<Caller> Identify(const grpc::CallbackServerContext& context) const;

  const ReferralServiceDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_REFERRAL_SERVICE_H_
