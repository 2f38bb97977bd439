// SubmissionIntake: the one way a referral comes in, whichever door it came through (gRPC, FHIR
// over HTTPS, HL7 v2 over MLLP). A door only says who is calling (its identified Caller), what
// they sent (a SubmissionPayload) and how it renders an answer; the intake does the rest, the
// same for every door: the caller's right to submit, parsing, the sender claim, validation, the
// IG decision, routing, the reply in the sender's format, duplicate and reused-id detection, the
// group commit with its audit records, and the counts. So a message means the same thing whatever
// door it used.
//
//   intake.Submit({caller, std::move(payload), ids, "grpc"},
//                 [](const v1::SubmitReferralResponse& r) { return r.SerializeAsString(); },
//                 [reactor, out](IntakeAnswer answer) {
//                   if (!answer.status.ok()) return reactor->Finish(ToGrpcStatus(answer.status));
//                   *out = std::move(answer.rendered);  ...
//                 });
//
// Order: a REJECTED message is answered at once (nothing recorded); an ACCEPTED or REFUSED one only
// once its commit is durable; a withdrawal (a BaRS ServiceRequest re-sent as revoked) once the
// withdrawal is. The answer for a new referral is rendered on the submitting thread
// before the commit, so the one writer thread that runs completions only hands it over; a
// duplicate's (the first decision, known only inside the commit) is rendered there.
//
// Thread-safety: Submit may be called from any thread, concurrently. `done` runs exactly once:
// on the calling thread (an answer that needs no commit, or a refusal), on the group commit's
// writer thread (after the commit) or on the store work queue (a withdrawal); it must not block. `deps` pointers must
// outlive the intake.
#ifndef FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_INTAKE_H_
#define FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_INTAKE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "consent/consent_decision.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "gateway/intake/payload_parsing.h"
#include "gateway/intake/referral_withdrawal.h"
#include "gateway/intake/submission_committer.h"
#include "gateway/security/authorization.h"
#include "gateway/store/report_reads.h"
#include "gateway/store/store_work_queue.h"
#include "network/network_directory.h"
#include "observability/gateway_metrics.h"
#include "observability/request_ids.h"

namespace frontdoor::gateway {

struct SubmissionIntakeDeps {
  const network::NetworkDirectory* network = nullptr;
  const Authorizer* authorizer = nullptr;
  consent::ConsentPolicy policy;
  InboundLimits limits;
  SubmissionCommitter* committer = nullptr;
  const Clock* clock = nullptr;
  // A message that withdraws a referral (adapters/parsed_referral.h, WithdrawalRequest) is carried
  // out here, on the store work queue. Without them such a message is answered UNIMPLEMENTED.
  StoreWorkQueue* work = nullptr;
  WithdrawalDeps withdrawal;
  observability::GatewayMetrics* metrics = nullptr;  // referral counters; null: not counted
  // A rejected message is counted for outcome reports (ReportReads::RecordRejection), on the work
  // queue after it is answered. Null: not counted.
  ReportReads* reports = nullptr;
};

// One message submitted through a door.
struct Submission {
  Caller caller;  // identified by the door (certificate CN or development header), rights not yet checked
  SubmissionPayload payload;
  observability::CallIds ids;  // the door's request and correlation ids, for log lines
  std::string door;            // "grpc", "fhir-http", "mllp": for log lines
};

// What a door answers.
struct IntakeAnswer {
  // OK: `rendered` is the answer. Otherwise a refusal the door gives in its transport's terms
  // (gRPC status, HTTP status), with no sender-format reply: PERMISSION_DENIED (no right to
  // submit, or a message naming another sender), INVALID_ARGUMENT, RESOURCE_EXHAUSTED (too large,
  // or the gateway busy: `retry_after` says when to send again), UNAVAILABLE (could not be
  // recorded: nothing was accepted, send it again).
  absl::Status status;
  absl::Duration retry_after = absl::ZeroDuration();
  std::string rendered;  // the door's rendering of the answer (Render), when `status` is OK
  // The answer in brief, for the door's own status codes and log lines.
  frontdoor::v1::Disposition disposition = frontdoor::v1::DISPOSITION_UNSPECIFIED;
  bool duplicate = false;
  std::string referral_id;  // "" when nothing was recorded
  bool withdrawal = false;  // the message withdrew `referral_id` (a duplicate: it was withdrawn before)
};

class SubmissionIntake {
 public:
  // How a door turns an answer (with its sender-format reply attached) into what it sends.
  using Render = std::function<std::string(const frontdoor::v1::SubmitReferralResponse&)>;
  using Done = std::function<void(IntakeAnswer)>;

  explicit SubmissionIntake(SubmissionIntakeDeps deps);

  void Submit(Submission submission, Render render, Done done) const;

 private:
  struct Decided;
  // Rights, parsing, the sender claim; a transport-level refusal otherwise.
  absl::StatusOr<adapters::ParsedReferral> Read(Submission& submission) const;
  // The IG decision and the route of a message read.
  Decided Decide(Submission& submission, adapters::ParsedReferral parsed) const;
  // Withdraws the referral a withdrawal message names (IG-7), on the store work queue.
  void Withdraw(Submission submission, adapters::ParsedReferral parsed, Render render, Done done) const;
  // Hands an ACCEPTED or REFUSED message to the group commit; `done` runs from its completion.
  void Commit(Decided decided, Render render, Done done) const;
  void CountRejection(const Decided& decided) const;
  // The answer once the commit ended: `fresh` (rendered before the commit) for a new referral,
  // the first answer for a resend, MESSAGE_ID_REUSED for another message under a used id.
  IntakeAnswer Recorded(const Decided& decided, const std::string& message_id, const Render& render,
                        absl::StatusOr<RecordOutcome> out, IntakeAnswer fresh) const;

  const SubmissionIntakeDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_INTAKE_H_
