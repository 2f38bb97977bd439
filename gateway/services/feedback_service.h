// FeedbackServiceImpl: frontdoor.v1.FeedbackService for connector organisations. ReportProgress
// takes a link worker's progress on a referral:
//   1. the caller must be a connector organisation (UNAUTHENTICATED / PERMISSION_DENIED);
//   2. the report must keep CheckProgressReport (INVALID_ARGUMENT);
//   3. on the store work queue (never a reactor thread): the referral must exist (NOT_FOUND) and
//      have been routed to the caller's endpoint (Authorizer::MayReportOn, PERMISSION_DENIED);
//      then, in one transaction, CheckProgressTransition against its history
//      (FAILED_PRECONDITION) and the record, idempotent on the idempotency key (ALREADY_EXISTS for
//      a key reused with a different report);
//   4. only after the commit: the answer (event_id, duplicate) and `on_recorded` (which wakes the
//      WatchFeedback streams).
//
//   FeedbackServiceImpl feedback({.authorizer = &authz, .referrals = store, .feedback = store, .work = &queue,
//                                 .clock = &clock, .on_recorded = [&] { hub.Notify(); }});
//   builder.RegisterService(&feedback);
//
// Thread-safety: called concurrently by gRPC; holds only immutable state. Deps must outlive it.
#ifndef FRONTDOOR_GATEWAY_SERVICES_FEEDBACK_SERVICE_H_
#define FRONTDOOR_GATEWAY_SERVICES_FEEDBACK_SERVICE_H_

#include <functional>

#include "common/clock.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "gateway/store/feedback_log.h"
#include "gateway/store/referral_records.h"
#include "gateway/store/store_work_queue.h"

namespace frontdoor::gateway {

struct FeedbackServiceDeps {
  const Authorizer* authorizer = nullptr;
  ReferralRecords* referrals = nullptr;
  FeedbackLog* feedback = nullptr;
  StoreWorkQueue* work = nullptr;
  const Clock* clock = nullptr;
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const CallAdmission* admission = nullptr;  // per-identity limits (gateway/caller_limits.h); null: none
  // The outbox endpoint where a referring organisation takes its feedback pushed ("" for none).
  std::function<std::string(const std::string& referrer_ods)> push_endpoint_for;
  // After each newly recorded event, with the push endpoint it was queued for ("" for none).
  std::function<void(const std::string& push_endpoint)> on_recorded;
};

class FeedbackServiceImpl final : public frontdoor::v1::FeedbackService::CallbackService {
 public:
  explicit FeedbackServiceImpl(FeedbackServiceDeps deps);

  grpc::ServerUnaryReactor* ReportProgress(grpc::CallbackServerContext* context,
                                           const frontdoor::v1::ReportProgressRequest* request,
                                           frontdoor::v1::ReportProgressResponse* response) override;

 private:
  const FeedbackServiceDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_FEEDBACK_SERVICE_H_
