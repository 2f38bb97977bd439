#include "gateway/services/referral_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontdoor/internal/submit_wire.pb.h"
#include "gateway/feedback/feedback_view.h"
#include "gateway/feedback/referral_status.h"
#include "gateway/intake/wire_fields.h"
#include "gateway/services/grpc_status.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

// The request's bytes as the door received them, read as the gateway's wire mirror of
// SubmitReferralRequest, with the first singular field or oneof they carry more than once.
absl::StatusOr<SubmissionPayload> ReadRequest(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return absl::InvalidArgumentError("the request could not be read");
  std::string bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  frontdoor::internal::SubmitReferralRequestWire request;
  if (!request.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        "the request is not a frontdoor.v1.SubmitReferralRequest (a typed referral's text fields must be UTF-8)");
  }
  std::optional<std::string> repeated =
      FirstRepeatedSingularField(bytes, *frontdoor::internal::SubmitReferralRequestWire::descriptor());
  if (repeated == "payload") {
    return absl::InvalidArgumentError(
        "the request carries more than one payload; send one referral (referral, fhir_json or hl7v2) per request");
  }
  absl::StatusOr<SubmissionPayload> payload = PayloadFrom(std::move(request));
  if (payload.ok()) payload->repeated_field = std::move(repeated);
  return payload;
}

}  // namespace

ReferralServiceImpl::ReferralServiceImpl(ReferralServiceDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<Caller> ReferralServiceImpl::Identify(const grpc::CallbackServerContext& context) const {
  return IdentifyAndAdmit(context, deps_.identity_source, *deps_.authorizer, deps_.admission);
}

grpc::ServerUnaryReactor* ReferralServiceImpl::SubmitReferral(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request_bytes,
                                                              grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  absl::StatusOr<SubmissionPayload> payload = ReadRequest(*request_bytes);
  if (!payload.ok()) {
    reactor->Finish(ToGrpcStatus(payload.status()));
    return reactor;
  }
  observability::CallIds ids = deps_.calls != nullptr ? deps_.calls->IdsOf(*context) : observability::CallIds();
  Submission submission{*std::move(caller), *std::move(payload), std::move(ids), "grpc"};
  deps_.intake->Submit(
      std::move(submission), [](const v1::SubmitReferralResponse& response) { return response.SerializeAsString(); },
      [this, context, reactor, response_bytes](IntakeAnswer answer) {
        if (!answer.status.ok()) {
          if (answer.retry_after > absl::ZeroDuration()) {
            // Nothing was recorded: send the same message again after this pause.
            context->AddTrailingMetadata(kRetryAfterMetadataKey,
                                         std::to_string(absl::ToInt64Milliseconds(answer.retry_after)));
          }
          reactor->Finish(ToGrpcStatus(answer.status));
          return;
        }
        if (deps_.calls != nullptr && !answer.referral_id.empty()) {
          deps_.calls->NoteReferralId(*context, answer.referral_id);
        }
        grpc::Slice slice(std::move(answer.rendered));
        *response_bytes = grpc::ByteBuffer(&slice, 1);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* ReferralServiceImpl::GetReferral(grpc::CallbackServerContext* context,
                                                           const v1::GetReferralRequest* request,
                                                           v1::GetReferralResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (deps_.calls != nullptr && !request->referral_id().empty() && request->referral_id().size() <= 64) {
    deps_.calls->NoteReferralId(*context, request->referral_id());
  }
  deps_.work->Post([this, reactor, request, response, caller = *std::move(caller)](absl::Status ready) {
    if (!ready.ok()) return reactor->Finish(ToGrpcStatus(ready));
    absl::StatusOr<v1::GetReferralResponse> status = ReferralStatusFor(deps_.reads, caller, request->referral_id());
    if (status.ok()) *response = *std::move(status);
    reactor->Finish(ToGrpcStatus(status.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* ReferralServiceImpl::CancelReferral(grpc::CallbackServerContext* context,
                                                              const v1::CancelReferralRequest* request,
                                                              v1::CancelReferralResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  absl::Status valid =
      caller.ok() ? CheckWithdrawalRequest(request->referral_id(), request->reason()) : caller.status();
  if (!valid.ok()) {
    reactor->Finish(ToGrpcStatus(valid));
    return reactor;
  }
  deps_.work->Post([this, reactor, request, response, caller = *std::move(caller)](absl::Status ready) {
    if (!ready.ok()) return reactor->Finish(ToGrpcStatus(ready));
    absl::StatusOr<CancelOutcome> outcome =
        WithdrawReferral(deps_.withdrawal, caller, request->referral_id(), request->reason());
    if (outcome.ok()) {
      *response = std::move(outcome->response);
      response->set_duplicate(outcome->duplicate);
    }
    reactor->Finish(ToGrpcStatus(outcome.status()));
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::FeedbackEvent>* ReferralServiceImpl::WatchFeedback(
    grpc::CallbackServerContext* context, const v1::WatchFeedbackRequest* request) {
  absl::StatusOr<Caller> caller = Identify(*context);
  // A referring organisation watches the feedback on its own referrals.
  absl::Status allowed = caller.ok() ? deps_.authorizer->MayActOnReferral(*caller, caller->identity) : caller.status();
  if (!allowed.ok()) return FeedbackStreamHub::Refuse(ToGrpcStatus(allowed));
  absl::StatusOr<int64_t> after = DecodeFeedbackCursor(request->cursor());
  if (!after.ok()) return FeedbackStreamHub::Refuse(ToGrpcStatus(after.status()));
  if (deps_.feedback_hub == nullptr) {
    return FeedbackStreamHub::Refuse(ToGrpcStatus(absl::UnavailableError("feedback streams are not served here")));
  }
  return deps_.feedback_hub->Watch(caller->identity, *after);
}

}  // namespace frontdoor::gateway
