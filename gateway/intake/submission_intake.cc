#include "gateway/intake/submission_intake.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/referral_validation.h"
#include "common/calendar_date.h"
#include "common/status_macros.h"
#include "common/time_text.h"
#include "gateway/decision/referral_pipeline.h"
#include "gateway/intake/decision_audit_records.h"
#include "gateway/intake/referral_ids.h"
#include "gateway/intake/sender_reply.h"
#include "gateway/intake/submission_counts.h"
#include "gateway/store/message_fingerprint.h"
#include "gateway/store/report_fact_rows.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;
using adapters::WithdrawalRequest;
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

// The answer to a message that withdrew a referral: ACCEPTED (the message did what it asked), the
// referral's id, and an information issue saying what happened to it.
v1::SubmitReferralResponse WithdrawalAnswer(const CancelOutcome& out) {
  v1::SubmitReferralResponse response;
  response.set_disposition(v1::ACCEPTED);
  response.set_referral_id(out.response.referral_id());
  response.set_duplicate(out.duplicate);
  v1::Issue* issue = response.add_issues();
  issue->set_code(adapters::kWithdrawn);
  issue->set_severity(v1::Issue::INFORMATION);
  issue->set_message(out.response.delivery_state() == v1::DELIVERY_CANCELLED
                         ? "the referral is withdrawn: it was not yet delivered and will not be"
                         : "the referral is withdrawn: the connector team is told to cease processing and delete it");
  return response;
}

}  // namespace

SubmissionIntake::SubmissionIntake(SubmissionIntakeDeps deps) : deps_(std::move(deps)) {}

// A message read and decided, with what its answer needs.
struct SubmissionIntake::Decided {
  adapters::ParsedReferral parsed;
  PipelineResult result;
  Caller caller;
  absl::Time now;
  std::string referral_id;
  std::string format;  // typed | fhir | hl7v2
  std::string door;
  std::string request_id;
};

absl::StatusOr<adapters::ParsedReferral> SubmissionIntake::Read(Submission& submission) const {
  const Caller& caller = submission.caller;
  FRONTDOOR_RETURN_IF_ERROR(deps_.authorizer->MaySubmit(caller));
  FRONTDOOR_ASSIGN_OR_RETURN(adapters::ParsedReferral parsed, ParsePayload(submission.payload, deps_.limits));
  // The message's own sender must be the authenticated caller (IG-RULES.md, duplicates).
  const std::string& claimed = parsed.referral.sender_ods();
  if (!claimed.empty() && claimed != caller.identity) {
    return absl::PermissionDeniedError(
        absl::StrCat("the message names sender '", claimed, "' but the caller is '", caller.identity, "'"));
  }
  return parsed;
}

SubmissionIntake::Decided SubmissionIntake::Decide(Submission& submission, adapters::ParsedReferral parsed) const {
  Decided d{std::move(parsed)};
  d.caller = submission.caller;
  d.now = deps_.clock->Now();
  d.referral_id = NewReferralId();
  d.result = EvaluateReferral(d.parsed, d.referral_id, *deps_.network, deps_.policy,
                              CalendarDate::FromUnixSeconds(absl::ToUnixSeconds(d.now)));
  d.format = adapters::MessageFormatName(d.parsed.format);
  d.door = std::move(submission.door);
  d.request_id = std::move(submission.ids.request_id);
  return d;
}

void SubmissionIntake::Submit(Submission submission, Render render, Done done) const {
  absl::StatusOr<adapters::ParsedReferral> parsed = Read(submission);
  if (!parsed.ok()) {
    done(Refusal(parsed.status()));
    return;
  }
  if (parsed->withdrawal.has_value() && !adapters::HasErrors(parsed->issues)) {
    Withdraw(std::move(submission), *std::move(parsed), std::move(render), std::move(done));
    return;
  }
  Decided decided = Decide(submission, *std::move(parsed));
  v1::SubmitReferralResponse& response = decided.result.response;
  if (response.disposition() == v1::REJECTED) {
    // Not a readable referral: no referral is recorded (a corrected message needs a new id anyway),
    // only its count for outcome reports.
    CountSubmission(deps_.metrics, *deps_.network, response, /*duplicate=*/false, decided.caller.identity,
                    decided.format);
    CountRejection(decided);
    AttachSenderReply(decided.parsed, decided.now, &response);
    done(Answered(render(response), response, /*duplicate=*/false));
    return;
  }
  Commit(std::move(decided), std::move(render), std::move(done));
}

// Outcome reports count rejected messages too ("where do unusable referrals come from"): their
// facts (who sent it, when; no content) are written on the work queue, after the answer, and a
// count that cannot be written is logged, never the sender's problem.
void SubmissionIntake::CountRejection(const Decided& decided) const {
  if (deps_.reports == nullptr || deps_.work == nullptr) return;
  deps_.work->Post([reports = deps_.reports, at = decided.now,
                    facts = FactsOfReferral(decided.caller.identity, decided.parsed.referral.self_referral(),
                                            decided.result.response)](absl::Status ready) {
    absl::Status s =
        ready.ok() ? reports->RecordRejection(at, absl::StrCat("rejected:", NewReferralId()), facts) : ready;
    if (!s.ok()) {
      Log(LogLevel::kWarning, "intake", "a rejected message could not be counted for reports",
          {{"error", std::string(s.message())}});
    }
  });
}

void SubmissionIntake::Withdraw(Submission submission, adapters::ParsedReferral parsed, Render render,
                                Done done) const {
  if (deps_.work == nullptr) {
    done(Refusal(absl::UnimplementedError("a withdrawal by message is not served here; use CancelReferral")));
    return;
  }
  deps_.work->Post([this, submission = std::move(submission), parsed = std::move(parsed), render = std::move(render),
                    done = std::move(done)](absl::Status ready) mutable {
    if (!ready.ok()) return done(Refusal(std::move(ready)));
    const WithdrawalRequest& request = *parsed.withdrawal;
    absl::StatusOr<CancelOutcome> out =
        absl::NotFoundError(absl::StrCat("no referral with the id this message names was sent by ",
                                         submission.caller.identity, " (read it first: ServiceRequest/{referral id})"));
    for (const std::string& id : request.referral_ids) {
      if (!CheckWithdrawalRequest(id, request.reason).ok()) continue;
      absl::StatusOr<CancelOutcome> tried = WithdrawReferral(deps_.withdrawal, submission.caller, id, request.reason);
      if (tried.status().code() != absl::StatusCode::kNotFound) {
        out = std::move(tried);
        break;
      }
    }
    if (!out.ok()) return done(Refusal(out.status()));
    Log(LogLevel::kInfo, "intake", out->duplicate ? "a withdrawal sent again" : "a referral withdrawn by message",
        {{"sender", submission.caller.identity},
         {"referral_id", out->response.referral_id()},
         {"door", submission.door},
         {"request_id", submission.ids.request_id}});
    v1::SubmitReferralResponse response = WithdrawalAnswer(*out);
    AttachSenderReply(parsed, deps_.clock->Now(), &response);
    IntakeAnswer answer = Answered(render(response), response, out->duplicate);
    answer.withdrawal = true;
    done(std::move(answer));
  });
}

void SubmissionIntake::Commit(Decided decided, Render render, Done done) const {
  NewReferral record;
  record.referral_id = decided.referral_id;
  record.sender_ods = decided.caller.identity;
  record.message_id = decided.parsed.referral.message_id();
  record.format = decided.format;
  record.received_at = decided.now;
  record.content_fingerprint = MessageFingerprint(decided.parsed.referral);
  record.audit = DecisionAuditRecords(decided.parsed.referral, decided.result, decided.caller, decided.now);
  // The answer to a new referral is rendered here, on the submitting thread, so the one writer
  // thread that runs completions only hands it over; a duplicate's answer (the first decision,
  // known only inside the commit) is rendered there. Nothing is sent before the commit either way.
  IntakeAnswer fresh;
  {
    v1::SubmitReferralResponse reply = decided.result.response;
    AttachSenderReply(decided.parsed, decided.now, &reply);
    fresh = Answered(render(reply), reply, /*duplicate=*/false);
  }
  record.decision = std::move(decided.result.response);
  record.referral = std::move(decided.parsed.referral);  // the replies need only the format and reply context
  if (decided.result.delivery.has_value()) {
    record.delivery = NewDelivery{record.decision.endpoint_id(), std::move(*decided.result.delivery)};
  }
  const std::string message_id = record.message_id;
  absl::Status queued =
      deps_.committer->Submit(std::move(record), [this, decided = std::move(decided), message_id, render, done,
                                                  fresh = std::move(fresh)](absl::StatusOr<RecordOutcome> out) mutable {
        done(Recorded(decided, message_id, render, std::move(out), std::move(fresh)));
      });
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

IntakeAnswer SubmissionIntake::Recorded(const Decided& decided, const std::string& message_id, const Render& render,
                                        absl::StatusOr<RecordOutcome> out, IntakeAnswer fresh) const {
  const std::string& sender = decided.caller.identity;
  if (!out.ok()) {
    return Refusal(absl::UnavailableError(absl::StrCat(
        "the referral could not be recorded; nothing was accepted, send it again (", out.status().message(), ")")));
  }
  if (out->message_id_reused) {
    // Nothing was recorded: the answer names the id and when it was first used, nothing more. A
    // sender system that reuses ids (a reset counter, a copied template) needs its team told.
    Log(LogLevel::kWarning, "intake", "a sender used a message id again for a different message: refused",
        {{"sender", sender}, {"message_id", message_id}, {"door", decided.door}, {"request_id", decided.request_id}});
    v1::SubmitReferralResponse response =
        MessageIdReusedAnswer(decided.parsed.paths.message_id, message_id, out->first_received_at);
    CountSubmission(deps_.metrics, *deps_.network, response, /*duplicate=*/false, sender, decided.format);
    AttachSenderReply(decided.parsed, decided.now, &response);
    return Answered(render(response), response, /*duplicate=*/false);
  }
  if (!out->duplicate) {
    CountSubmission(deps_.metrics, *deps_.network, out->decision, /*duplicate=*/false, sender, decided.format);
    return fresh;
  }
  v1::SubmitReferralResponse response = std::move(out->decision);
  response.set_duplicate(true);
  CountSubmission(deps_.metrics, *deps_.network, response, /*duplicate=*/true, sender, decided.format);
  AttachSenderReply(decided.parsed, decided.now, &response);
  return Answered(render(response), response, /*duplicate=*/true);
}

}  // namespace frontdoor::gateway
