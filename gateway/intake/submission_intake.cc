#include "gateway/intake/submission_intake.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/referral_validation.h"
#include "common/calendar_date.h"
#include "common/time_text.h"
#include "gateway/decision/referral_pipeline.h"
#include "gateway/intake/decision_audit_records.h"
#include "gateway/intake/referral_ids.h"
#include "gateway/intake/sender_reply.h"
#include "gateway/intake/submission_counts.h"
#include "gateway/store/message_fingerprint.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;
using observability::Log;
using observability::LogLevel;

namespace {

IntakeAnswer Refusal(absl::Status status, absl::Duration retry_after = absl::ZeroDuration()) {
  IntakeAnswer answer;
  answer.status = std::move(status);
  answer.retry_after = retry_after;
  return answer;
}

IntakeAnswer Answered(std::string rendered, const v1::SubmitReferralResponse& response, bool duplicate) {
  IntakeAnswer answer;
  answer.rendered = std::move(rendered);
  answer.disposition = response.disposition();
  answer.duplicate = duplicate;
  answer.referral_id = response.referral_id();
  return answer;
}

// The answer to a message sent under an id its sender already used for a different message:
// REJECTED, naming the id and when it was first used, and nothing of the first referral.
v1::SubmitReferralResponse MessageIdReusedAnswer(const std::string& path, const std::string& message_id,
                                                 absl::Time first_used) {
  v1::SubmitReferralResponse response;
  response.set_disposition(v1::REJECTED);
  v1::Issue* issue = response.add_issues();
  issue->set_code(adapters::kMessageIdReused);
  issue->set_severity(v1::Issue::ERROR);
  issue->set_path(path);
  issue->set_message(absl::StrCat("message id '", message_id, "' was already used by this sender at ",
                                  FormatRfc3339Utc(first_used, 0),
                                  " for a different message; a resend must be the same message, and a new message "
                                  "needs an id of its own"));
  return response;
}

}  // namespace

SubmissionIntake::SubmissionIntake(SubmissionIntakeDeps deps) : deps_(std::move(deps)) {}

void SubmissionIntake::Submit(Submission submission, Render render, Done done) const {
  const Caller& caller = submission.caller;
  if (absl::Status allowed = deps_.authorizer->MaySubmit(caller); !allowed.ok()) {
    done(Refusal(std::move(allowed)));
    return;
  }
  absl::StatusOr<adapters::ParsedReferral> parsed = ParsePayload(submission.payload, deps_.limits);
  if (!parsed.ok()) {
    done(Refusal(parsed.status()));
    return;
  }
  // The message's own sender must be the authenticated caller (IG-RULES.md, duplicates).
  const std::string& claimed = parsed->referral.sender_ods();
  if (!claimed.empty() && claimed != caller.identity) {
    done(Refusal(absl::PermissionDeniedError(
        absl::StrCat("the message names sender '", claimed, "' but the caller is '", caller.identity, "'"))));
    return;
  }

  const absl::Time now = deps_.clock->Now();
  const std::string referral_id = NewReferralId();
  PipelineResult result = EvaluateReferral(*parsed, referral_id, *deps_.network, deps_.policy,
                                           CalendarDate::FromUnixSeconds(absl::ToUnixSeconds(now)));
  const std::string format = adapters::MessageFormatName(parsed->format);
  if (result.response.disposition() == v1::REJECTED) {
    // Not a readable referral: nothing is recorded, and a corrected message needs a new id anyway.
    CountSubmission(deps_.metrics, *deps_.network, result.response, /*duplicate=*/false, caller.identity, format);
    AttachSenderReply(*parsed, now, &result.response);
    done(Answered(render(result.response), result.response, /*duplicate=*/false));
    return;
  }

  NewReferral record;
  record.referral_id = referral_id;
  record.sender_ods = caller.identity;
  record.message_id = parsed->referral.message_id();
  record.format = format;
  record.received_at = now;
  record.content_fingerprint = MessageFingerprint(parsed->referral);
  record.audit = DecisionAuditRecords(parsed->referral, result, caller, now);  // IG-9, same transaction
  // The answer to a new referral is rendered here, on the submitting thread, so the one writer
  // thread that runs completions only hands it over; a duplicate's answer (the first decision,
  // known only inside the commit) is rendered there. Nothing is sent before the commit either way.
  std::string prepared;
  {
    v1::SubmitReferralResponse fresh = result.response;
    AttachSenderReply(*parsed, now, &fresh);
    prepared = render(fresh);
  }
  record.decision = std::move(result.response);
  record.referral = std::move(parsed->referral);  // the replies need only the format and reply context
  if (result.delivery.has_value()) {
    record.delivery = NewDelivery{record.decision.endpoint_id(), std::move(*result.delivery)};
  }
  const v1::Disposition disposition = record.decision.disposition();
  auto completion = [this, parsed = std::move(*parsed), now, sender = caller.identity, format,
                     message_id = record.message_id, referral_id, disposition, door = std::move(submission.door),
                     request_id = std::move(submission.ids.request_id), render, done,
                     prepared = std::move(prepared)](absl::StatusOr<RecordOutcome> out) mutable {
    if (!out.ok()) {
      done(Refusal(absl::UnavailableError(absl::StrCat(
          "the referral could not be recorded; nothing was accepted, send it again (", out.status().message(), ")"))));
      return;
    }
    if (out->message_id_reused) {
      // Nothing was recorded: the answer names the id and when it was first used, nothing more. A
      // sender system that reuses ids (a reset counter, a copied template) needs its team told.
      Log(LogLevel::kWarning, "intake", "a sender used a message id again for a different message: refused",
          {{"sender", sender}, {"message_id", message_id}, {"door", door}, {"request_id", request_id}});
      v1::SubmitReferralResponse response =
          MessageIdReusedAnswer(parsed.paths.message_id, message_id, out->first_received_at);
      CountSubmission(deps_.metrics, *deps_.network, response, /*duplicate=*/false, sender, format);
      AttachSenderReply(parsed, now, &response);
      done(Answered(render(response), response, /*duplicate=*/false));
      return;
    }
    if (!out->duplicate) {
      CountSubmission(deps_.metrics, *deps_.network, out->decision, /*duplicate=*/false, sender, format);
      IntakeAnswer answer;
      answer.rendered = std::move(prepared);
      answer.disposition = disposition;
      answer.referral_id = referral_id;
      done(std::move(answer));
      return;
    }
    v1::SubmitReferralResponse response = std::move(out->decision);
    response.set_duplicate(true);
    CountSubmission(deps_.metrics, *deps_.network, response, /*duplicate=*/true, sender, format);
    AttachSenderReply(parsed, now, &response);
    done(Answered(render(response), response, /*duplicate=*/true));
  };
  absl::Status queued = deps_.committer->Submit(std::move(record), std::move(completion));
  if (!queued.ok()) {
    // Not queued, so nothing is recorded and the completion will not run. Like the per-identity
    // limits, a full commit queue is a transport answer in every format (no FHIR or HL7 reply); the
    // same message sent again later is a new submission, not a duplicate.
    const absl::Duration retry_after = queued.code() == absl::StatusCode::kResourceExhausted
                                           ? SubmissionCommitter::kQueueFullRetryAfter
                                           : absl::ZeroDuration();
    done(Refusal(std::move(queued), retry_after));
  }
}

}  // namespace frontdoor::gateway
