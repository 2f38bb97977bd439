#include "gateway/referral_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/referral_validation.h"
#include "common/status_macros.h"
#include "gateway/audit_records.h"
#include "gateway/feedback_view.h"
#include "gateway/grpc_status.h"
#include "gateway/message_fingerprint.h"
#include "gateway/referral_pipeline.h"
#include "gateway/wire_fields.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

ReferralServiceImpl::ReferralServiceImpl(ReferralServiceDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<Caller> ReferralServiceImpl::Identify(const grpc::CallbackServerContext& context) const {
  return IdentifyAndAdmit(context, deps_.identity_source, *deps_.authorizer, deps_.admission);
}

namespace {

// The request as the gateway reads it: the wire mirror of SubmitReferralRequest, and the first
// singular field or oneof its bytes carry more than once (gateway/wire_fields.h), if any.
struct RequestBytes {
  frontdoor::internal::SubmitReferralRequestWire request;
  std::optional<std::string> repeated_field;
};

// Reads the request bytes as the gateway's wire mirror of SubmitReferralRequest.
absl::StatusOr<RequestBytes> ParseRequestBytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return absl::InvalidArgumentError("the request could not be read");
  std::string bytes;
  bytes.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  RequestBytes out;
  if (!out.request.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        "the request is not a frontdoor.v1.SubmitReferralRequest (a typed referral's text fields must be UTF-8)");
  }
  out.repeated_field = FirstRepeatedSingularField(bytes, *frontdoor::internal::SubmitReferralRequestWire::descriptor());
  if (out.repeated_field == "payload") {
    return absl::InvalidArgumentError(
        "the request carries more than one payload; send one referral (referral, fhir_json or hl7v2) per request");
  }
  return out;
}

void SerializeResponse(const v1::SubmitReferralResponse& response, grpc::ByteBuffer* out) {
  const std::string bytes = response.SerializeAsString();
  grpc::Slice slice(bytes);
  *out = grpc::ByteBuffer(&slice, 1);
}

// The borough a referral is about, for metrics: its cluster's, else its front door's, else the
// sender's (a practice's cluster, or a referrer's borough). "" when none is known.
std::string BoroughOf(const v1::SubmitReferralResponse& response, const std::string& sender,
                      const network::NetworkDirectory& network) {
  if (!response.cluster_id().empty()) {
    if (const network::Cluster* c = network.FindCluster(response.cluster_id())) return c->borough;
  }
  if (!response.connector_id().empty()) {
    const network::ConnectorTeam* team = network.FindTeamById(response.connector_id());
    if (team != nullptr && team->IsFrontDoor()) return team->FrontDoorBorough();
  }
  if (const network::Practice* p = network.FindPractice(sender)) {
    if (const network::Cluster* c = network.FindCluster(p->cluster_id)) return c->borough;
  }
  if (const network::Referrer* r = network.FindReferrer(sender)) return r->borough;
  return "";
}

// The answer to a message sent under an id its sender already used for a different message:
// REJECTED, naming the id and when it was first used, and nothing of the first referral.
v1::SubmitReferralResponse MessageIdReusedAnswer(const adapters::ParsedReferral& parsed, const std::string& message_id,
                                                 absl::Time first_used) {
  v1::SubmitReferralResponse response;
  response.set_disposition(v1::REJECTED);
  v1::Issue* issue = response.add_issues();
  issue->set_code(adapters::kMessageIdReused);
  issue->set_severity(v1::Issue::ERROR);
  issue->set_path(parsed.paths.message_id);
  issue->set_message(absl::StrCat("message id '", message_id, "' was already used by this sender at ",
                                  FormatRfc3339(first_used),
                                  " for a different message; a resend must be the same message, and a new message "
                                  "needs an id of its own"));
  return response;
}

}  // namespace

void ReferralServiceImpl::CountSubmission(const v1::SubmitReferralResponse& response, bool duplicate,
                                          const std::string& sender, const std::string& format) const {
  if (deps_.metrics == nullptr) return;
  observability::ReferralLabels labels;
  labels.disposition = duplicate ? "DUPLICATE" : v1::Disposition_Name(response.disposition());
  labels.borough = BoroughOf(response, sender, *deps_.network);
  labels.format = format;
  std::vector<std::string> rules;
  for (const v1::Issue& issue : response.issues()) {
    if (issue.severity() != v1::Issue::ERROR) continue;
    if (labels.rule.empty()) labels.rule = issue.code();
    if (!duplicate) rules.push_back(issue.code());
  }
  deps_.metrics->CountReferral(labels, rules);
  if (!duplicate && response.disposition() == v1::ACCEPTED) {
    deps_.metrics->CountRouting(response.connector_id(), labels.borough, response.front_door());
  }
}

grpc::ServerUnaryReactor* ReferralServiceImpl::SubmitReferral(grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request_bytes,
                                                              grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  absl::Status allowed = caller.ok() ? deps_.authorizer->MaySubmit(*caller) : caller.status();
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  absl::StatusOr<RequestBytes> request = ParseRequestBytes(*request_bytes);
  if (!request.ok()) {
    reactor->Finish(ToGrpcStatus(request.status()));
    return reactor;
  }
  absl::StatusOr<adapters::ParsedReferral> parsed = ParseSubmission(request->request, deps_.limits);
  if (!parsed.ok()) {
    reactor->Finish(ToGrpcStatus(parsed.status()));
    return reactor;
  }
  if (request->repeated_field.has_value()) {
    // A typed referral whose bytes carry a field twice (two persons, two NHS numbers) was merged
    // into one by the parser: not a readable referral.
    v1::Issue issue;
    issue.set_code(adapters::kInvalidValue);
    issue.set_severity(v1::Issue::ERROR);
    issue.set_path(*request->repeated_field);
    issue.set_message(
        "this field occurs more than once in the message; a referral is about one person, each of its "
        "data given once");
    parsed->issues.insert(parsed->issues.begin(), std::move(issue));
  }
  // The message's own sender must be the authenticated caller (IG-RULES.md, duplicates).
  const std::string& claimed = parsed->referral.sender_ods();
  if (!claimed.empty() && claimed != caller->identity) {
    reactor->Finish(ToGrpcStatus(absl::PermissionDeniedError(
        absl::StrCat("the message names sender '", claimed, "' but the caller is '", caller->identity, "'"))));
    return reactor;
  }

  const absl::Time now = deps_.clock->Now();
  const std::string referral_id = NewReferralId();
  PipelineResult result = EvaluateReferral(*parsed, referral_id, *deps_.network, deps_.policy,
                                           CalendarDate::FromUnixSeconds(absl::ToUnixSeconds(now)));
  const std::string format = adapters::MessageFormatName(parsed->format);
  if (result.response.disposition() == v1::REJECTED) {
    // Not a readable referral: nothing is recorded, and a corrected message needs a new id anyway.
    CountSubmission(result.response, /*duplicate=*/false, caller->identity, format);
    AttachSenderReply(*parsed, now, &result.response);
    SerializeResponse(result.response, response_bytes);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  NewReferral record;
  record.referral_id = referral_id;
  record.sender_ods = caller->identity;
  record.message_id = parsed->referral.message_id();
  record.format = adapters::MessageFormatName(parsed->format);
  record.received_at = now;
  record.content_fingerprint = MessageFingerprint(parsed->referral);
  record.audit = DecisionAuditRecords(parsed->referral, result, *caller, now);  // IG-9, same transaction
  // The answer to a new referral is rendered here, on this call's own thread, so the one writer
  // thread that runs completions only swaps it in; a duplicate's answer (the first decision, known
  // only inside the commit) is rendered there. Nothing is sent before the commit either way.
  grpc::ByteBuffer prepared;
  {
    v1::SubmitReferralResponse fresh = result.response;
    AttachSenderReply(*parsed, now, &fresh);
    SerializeResponse(fresh, &prepared);
  }
  record.decision = std::move(result.response);
  record.referral = std::move(parsed->referral);  // the reply needs only the format and reply issues
  if (result.delivery.has_value()) {
    record.delivery = NewDelivery{record.decision.endpoint_id(), std::move(*result.delivery)};
  }
  // The completion owns what the reply needs; `response_bytes` stays valid until Finish.
  absl::Status queued = deps_.committer->Submit(
      std::move(record),
      [this, context, reactor, response_bytes, parsed = std::move(*parsed), now, sender = caller->identity, format,
       message_id = record.message_id, prepared = std::move(prepared)](absl::StatusOr<RecordOutcome> out) mutable {
        if (!out.ok()) {
          reactor->Finish(ToGrpcStatus(absl::UnavailableError(
              absl::StrCat("the referral could not be recorded; nothing was accepted, send it again (",
                           out.status().message(), ")"))));
          return;
        }
        if (out->message_id_reused) {
          // Nothing was recorded: the answer names the id and when it was first used, nothing more.
          v1::SubmitReferralResponse response = MessageIdReusedAnswer(parsed, message_id, out->first_received_at);
          CountSubmission(response, /*duplicate=*/false, sender, format);
          AttachSenderReply(parsed, now, &response);
          SerializeResponse(response, response_bytes);
          reactor->Finish(grpc::Status::OK);
          return;
        }
        if (!out->duplicate) {
          CountSubmission(out->decision, /*duplicate=*/false, sender, format);
          if (deps_.calls != nullptr) deps_.calls->NoteReferralId(*context, out->decision.referral_id());
          response_bytes->Swap(&prepared);
          reactor->Finish(grpc::Status::OK);
          return;
        }
        v1::SubmitReferralResponse response = std::move(out->decision);
        response.set_duplicate(true);
        CountSubmission(response, /*duplicate=*/true, sender, format);
        if (deps_.calls != nullptr) deps_.calls->NoteReferralId(*context, response.referral_id());
        AttachSenderReply(parsed, now, &response);
        SerializeResponse(response, response_bytes);
        reactor->Finish(grpc::Status::OK);
      });
  if (!queued.ok()) {
    // Not queued, so nothing is recorded and the completion will not run. Like the per-identity
    // limits (gateway/caller_limits.h), a full commit queue is a transport answer in every format:
    // RESOURCE_EXHAUSTED with retry-after-ms, no FHIR or HL7 reply; the same message id sent again
    // later is a new submission, not a duplicate.
    if (queued.code() == absl::StatusCode::kResourceExhausted) {
      context->AddTrailingMetadata(
          kRetryAfterMetadataKey, std::to_string(absl::ToInt64Milliseconds(SubmissionCommitter::kQueueFullRetryAfter)));
    }
    reactor->Finish(ToGrpcStatus(queued));
  }
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
  if (request->referral_id().empty() || request->referral_id().size() > 64) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError("referral_id must be 1..64 characters")));
    return reactor;
  }
  // A single indexed read on the store's reader connection, which WAL never makes wait for a commit.
  absl::StatusOr<std::optional<StoredReferral>> stored = deps_.store->GetReferral(request->referral_id());
  if (!stored.ok()) {
    reactor->Finish(ToGrpcStatus(stored.status()));
    return reactor;
  }
  if (!stored->has_value()) {
    reactor->Finish(ToGrpcStatus(absl::NotFoundError("no referral with that id")));
    return reactor;
  }
  const StoredReferral& r = **stored;
  if (deps_.calls != nullptr) deps_.calls->NoteReferralId(*context, r.referral_id);
  // IG-8: a referrer sees only its own organisation's referrals.
  if (absl::Status allowed = deps_.authorizer->MayActOnReferral(*caller, r.sender_ods); !allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  response->set_referral_id(r.referral_id);
  response->set_message_id(r.message_id);
  response->set_sender_ods(r.sender_ods);
  response->set_format(r.format);
  response->set_received_at(FormatRfc3339(r.received_at));
  *response->mutable_decision() = r.decision;
  response->set_delivery_state(r.delivery_state);
  if (r.delivered_at.has_value()) response->set_delivered_at(FormatRfc3339(*r.delivered_at));
  response->set_delivery_attempts(r.delivery_attempts);
  if (r.cancelled_at.has_value()) {  // IG-7: the referrer sees its withdrawal
    response->set_cancelled_at(FormatRfc3339(*r.cancelled_at));
    response->set_cancel_reason(r.cancel_reason);
    response->set_cease_processing_sent(r.cease_processing_sent);
    response->set_cease_processing_acknowledged(r.cease_processing_acknowledged);
  }
  // Issue 5: the connector's progress so far, oldest first, and the latest status.
  absl::StatusOr<std::vector<StoredFeedback>> history = deps_.store->FeedbackForReferral(r.referral_id);
  if (!history.ok()) {
    reactor->Finish(ToGrpcStatus(history.status()));
    return reactor;
  }
  for (const StoredFeedback& event : *history) *response->add_history() = FeedbackEventFor(event);
  if (!history->empty()) response->set_status(history->back().report.status());
  reactor->Finish(grpc::Status::OK);
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
