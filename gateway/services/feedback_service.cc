#include "gateway/services/feedback_service.h"

#include <cstdio>
#include <utility>

#include "gateway/feedback/feedback_view.h"
#include "gateway/feedback/progress_report_rules.h"
#include "gateway/services/grpc_status.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

FeedbackServiceImpl::FeedbackServiceImpl(FeedbackServiceDeps deps) : deps_(std::move(deps)) {}

grpc::ServerUnaryReactor* FeedbackServiceImpl::ReportProgress(grpc::CallbackServerContext* context,
                                                              const v1::ReportProgressRequest* request,
                                                              v1::ReportProgressResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = IdentifyAndAdmit(*context, deps_.identity_source, *deps_.authorizer, deps_.admission);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  const absl::Time now = deps_.clock->Now();
  if (absl::Status valid = CheckProgressReport(*request, now); !valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  deps_.work->Post([this, reactor, request, response, caller = *std::move(caller), now](absl::Status ready) {
    if (!ready.ok()) return reactor->Finish(ToGrpcStatus(ready));
    absl::StatusOr<std::optional<StoredReferral>> referral = deps_.referrals->GetReferral(request->referral_id());
    if (!referral.ok()) return reactor->Finish(ToGrpcStatus(referral.status()));
    if (!referral->has_value()) return reactor->Finish(ToGrpcStatus(absl::NotFoundError("no referral with that id")));
    const StoredReferral& r = **referral;
    // IG-8: only the organisation the referral was routed to reports on it.
    if (absl::Status allowed = deps_.authorizer->MayReportOn(caller, r.decision.endpoint_id()); !allowed.ok()) {
      return reactor->Finish(ToGrpcStatus(allowed));
    }
    NewFeedback feedback{caller.identity, *request, now};
    if (deps_.push_endpoint_for) feedback.push_endpoint = deps_.push_endpoint_for(r.sender_ods);
    absl::StatusOr<FeedbackRecordOutcome> out = deps_.feedback->RecordFeedback(
        feedback, r,
        [&](const FeedbackContext& ctx) { return CheckProgressTransition(*request, *ctx.referral, *ctx.history); });
    if (!out.ok()) return reactor->Finish(ToGrpcStatus(out.status()));
    response->set_event_id(FeedbackEventId(out->event.seq));
    response->set_duplicate(out->duplicate);
    if (!out->duplicate) {
      observability::Log(observability::LogLevel::kInfo, "feedback", "progress report recorded",
                         {{"referral_id", r.referral_id},
                          {"status", v1::ProgressStatus_Name(request->status())},
                          {"endpoint_id", caller.identity},
                          {"seq", static_cast<int64_t>(out->event.seq)}});
      if (deps_.on_recorded) deps_.on_recorded(feedback.push_endpoint);
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace frontdoor::gateway
