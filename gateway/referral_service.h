// ReferralServiceImpl: frontdoor.v1.ReferralService for referring systems, on the gRPC callback API.
// SubmitReferral parses, validates, decides and routes on the reactor thread (CPU only), then hands
// the decided referral to the SubmissionCommitter; the answer is sent from the commit's completion,
// so a referrer is answered only after its referral is durable, and no reactor thread waits on disk.
// SubmitReferral is served as a raw method: the gateway parses the request bytes itself (as
// frontdoor.internal.SubmitReferralRequestWire), so a payload that is not UTF-8 gets a clear
// REJECTED answer rather than an anonymous gRPC failure.
//
//   ReferralServiceImpl service(deps);
//   builder.RegisterService(&service);
//
// Thread-safety: the service is called concurrently by gRPC; everything it holds is thread-safe or
// immutable. `deps` pointers must outlive it.
#ifndef FRONTDOOR_GATEWAY_REFERRAL_SERVICE_H_
#define FRONTDOOR_GATEWAY_REFERRAL_SERVICE_H_

#include <functional>

#include "consent/consent_decision.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/authorization.h"
#include "gateway/caller_identity.h"
#include "gateway/caller_limits.h"
#include "gateway/clock.h"
#include "gateway/feedback_stream.h"
#include "gateway/inbound_message.h"
#include "gateway/referral_store.h"
#include "gateway/submission_committer.h"
#include "grpcpp/support/byte_buffer.h"
#include "network/network_directory.h"
#include "observability/call_observer.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

struct ReferralServiceDeps {
  const network::NetworkDirectory* network = nullptr;
  const Authorizer* authorizer = nullptr;
  consent::ConsentPolicy policy;
  InboundLimits limits;
  ReferralStore* store = nullptr;
  SubmissionCommitter* committer = nullptr;
  const Clock* clock = nullptr;
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const CallAdmission* admission = nullptr;  // per-identity limits (gateway/caller_limits.h); null: none
  // Called after a withdrawal queued a CeaseProcessing (wakes the delivery dispatcher). Optional.
  std::function<void()> wake_delivery;
  // Serves WatchFeedback (issue 5); without it WatchFeedback answers UNAVAILABLE.
  FeedbackStreamHub* feedback_hub = nullptr;
  // Issue 7: referral counters (null: none) and the call observer that logs each call with its
  // referral id (null: not noted).
  observability::GatewayMetrics* metrics = nullptr;
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
  // IG-7 (gateway/referral_cancellation.cc): only the referring organisation; NOT_FOUND for an
  // unknown id, FAILED_PRECONDITION for a referral that was not accepted, INVALID_ARGUMENT without
  // a reason. The store work runs off the reactor thread.
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

  // Counts one submission's outcome in deps_.metrics (disposition, rule, borough, format; routing).
  void CountSubmission(const frontdoor::v1::SubmitReferralResponse& response, bool duplicate, const std::string& sender,
                       const std::string& format) const;

  const ReferralServiceDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_REFERRAL_SERVICE_H_
