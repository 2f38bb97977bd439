// ReferralStore: the gateway's durable record of referrals, their decisions, and the delivery
// outbox. The referral, its decision and routing, and its outbox row are written in ONE transaction
// before the referrer is answered, so an acknowledged referral survives any crash and is delivered
// after a restart (the transactional outbox pattern).
//
//   std::unique_ptr<ReferralStore> store = *SqliteReferralStore::Open("/var/lib/frontdoor/frontdoor.db");
//   std::vector<RecordOutcome> out = *store->RecordReferrals(std::move(batch));  // one commit
//   absl::StatusOr<std::vector<OutboxItem>> due = store->DueDeliveries("ageuk-oldham", absl::Now(), 32);
//   for (OutboxItem& item : *due) { ... }   // not `: *store->DueDeliveries(...)`: that dangles
//
// Implementations: SqliteReferralStore (embedded, one gateway) and PostgresReferralStore (several
// replicas on one database: DueDeliveries leases the rows it returns to the calling replica).
// Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_REFERRAL_STORE_H_
#define FRONTDOOR_GATEWAY_REFERRAL_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/status_macros.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/connector_service.pb.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::gateway {

// A delivery to make: one call of ConnectorService.DeliverReferral to `endpoint_id`.
struct NewDelivery {
  std::string endpoint_id;
  frontdoor::v1::DeliverReferralRequest request;  // carries the idempotency key
};

// A decided referral (ACCEPTED or REFUSED) to record.
struct NewReferral {
  std::string referral_id;
  std::string sender_ods;
  std::string message_id;
  std::string format;  // typed | fhir | hl7v2
  absl::Time received_at;
  // MessageFingerprint of the message (gateway/message_fingerprint.h): a later message under the
  // same (sender_ods, message_id) is a resend only when its fingerprint agrees.
  std::string content_fingerprint;
  // The answer given to the referrer (without the sender-format reply, rendered per request).
  frontdoor::v1::SubmitReferralResponse decision;
  // The canonical referral as received: the casework record. Stays in the gateway.
  frontdoor::v1::Referral referral;
  std::optional<NewDelivery> delivery;  // Present when ACCEPTED.
  // IG-9: the audit records of this decision (the decision, then each withheld item), appended to
  // the audit log in the same transaction as the referral; the store assigns index and leaf hash.
  // Not written for a duplicate. The first record's nhs_number, consent_reference and rule_ids are
  // what later delivery, withdrawal and cease records of this referral cite.
  std::vector<frontdoor::v1::AuditRecord> audit;
};

struct RecordOutcome {
  // True when (sender, message_id) was already recorded for the same message (a resend);
  // `decision` is then the first answer.
  bool duplicate = false;
  // True when (sender, message_id) was already recorded for a different message (the fingerprints
  // disagree): nothing was recorded, `decision` is empty (nothing of the first referral may reach
  // this sender's answer), and `first_received_at` says when the id was first used.
  bool message_id_reused = false;
  absl::Time first_received_at;
  frontdoor::v1::SubmitReferralResponse decision;
};

// What an outbox row sends: the referral itself, or (after a withdrawal, IG-7) the instruction to
// cease processing it. For one referral rows go out in the order they were queued: a cease never
// overtakes its delivery.
enum class OutboxKind { kDeliver, kCease };

// What a referral's later audit records cite (IG-9), as its decision recorded it: who it is about,
// the consent relied on, who referred, and the rules applied (comma-separated, as stored). Written
// once with the decision and never changed.
struct ReferralAuditContext {
  std::string nhs_number;
  std::string consent_reference;
  std::string referrer_ods;
  std::string rule_ids;
};

// One outbox row due for sending.
struct OutboxItem {
  int64_t outbox_id = 0;
  OutboxKind kind = OutboxKind::kDeliver;
  std::string referral_id;
  std::string endpoint_id;
  uint32_t attempts = 0;  // attempts made before this one
  // When the row was committed (for the commit-to-acknowledgement latency metric); unset if the
  // store does not say.
  std::optional<absl::Time> created_at;
  // The DeliverReferralRequest (kDeliver) or CeaseProcessingRequest (kCease) serialized as it was
  // queued: sent as it is, neither parsed nor serialized again (about 3% of the gateway's CPU).
  std::string request;
  // The referral's audit context, read with the row where the store can, so that marking the row
  // acknowledged need not read it again inside the write transaction (docs/PERFORMANCE.md). Unset:
  // MarkDeliveredMany reads it there.
  std::optional<ReferralAuditContext> audit_context;
};

struct StoredReferral {
  std::string referral_id;
  std::string sender_ods;
  std::string message_id;
  std::string format;
  absl::Time received_at;
  frontdoor::v1::SubmitReferralResponse decision;
  frontdoor::v1::DeliveryState delivery_state = frontdoor::v1::DELIVERY_STATE_UNSPECIFIED;
  std::optional<absl::Time> delivered_at;
  uint32_t delivery_attempts = 0;
  // IG-7: set once the referring organisation withdrew it.
  std::optional<absl::Time> cancelled_at;
  frontdoor::v1::CancelReason cancel_reason = frontdoor::v1::CANCEL_REASON_UNSPECIFIED;
  bool cease_processing_sent = false;          // a CeaseProcessing was queued for the connector
  bool cease_processing_acknowledged = false;  // and the connector acknowledged it
};

// The answer to a withdrawal (IG-7).
struct CancelOutcome {
  bool duplicate = false;  // it was already cancelled: this is the first answer, nothing new queued
  frontdoor::v1::CancelReferralResponse response;
};

// --- Dead letters (issue 5) ---------------------------------------------------------------------

// When a failing outbox row becomes a dead letter. Both count from when the row was queued or last
// replayed; zero means no limit of that kind.
struct DeadLetterLimits {
  uint32_t max_attempts = 0;
  absl::Duration max_age = absl::ZeroDuration();
};

// Which dead letters: every non-empty filter must match (all empty: every dead letter).
struct DeadLetterFilter {
  std::vector<int64_t> outbox_ids;
  std::string referral_id;
  std::string endpoint_id;
};

struct DeadLetterRow {
  int64_t outbox_id = 0;
  OutboxKind kind = OutboxKind::kDeliver;
  std::string referral_id;
  std::string endpoint_id;
  uint32_t attempts = 0;
  std::string last_error;
  absl::Time created_at;
  absl::Time dead_at;
};

// --- Feedback (issue 5) ----------------------------------------------------------------------------

// A progress report to record, from the connector organisation `endpoint_id`.
struct NewFeedback {
  std::string endpoint_id;
  frontdoor::v1::ReportProgressRequest report;
  absl::Time recorded_at;
};

// A recorded feedback event with what a referrer-side rendering needs from its referral.
struct StoredFeedback {
  int64_t seq = 0;  // Gateway-wide, increasing in commit order: a reader never sees a gap close.
  std::string referral_id;
  std::string sender_ods;   // the referring organisation
  std::string endpoint_id;  // the reporting connector organisation
  std::string team_id;
  std::string message_id;  // the referrer's message id
  std::string format;      // typed | fhir | hl7v2, as the referral came in
  std::string referrer_reference;
  std::string nhs_number;  // for the referrer's own records (FHIR Task.for, HL7 PID-3)
  frontdoor::v1::ReportProgressRequest report;
  absl::Time recorded_at;
};

// Decides on a report inside the recording transaction, given the referral and its history so far
// (oldest first): nullopt to record it, the seq of an earlier event it repeats (recorded once), or
// an error (the report is not recorded and the error is returned).
struct FeedbackContext {
  const StoredReferral* referral = nullptr;
  const std::vector<StoredFeedback>* history = nullptr;
};
using FeedbackCheck = std::function<absl::StatusOr<std::optional<int64_t>>(const FeedbackContext&)>;

struct FeedbackRecordOutcome {
  bool duplicate = false;  // the same report was recorded before; `event` is that first record
  StoredFeedback event;
};

// How much is waiting at one connector endpoint (metrics; issue 7).
struct OutboxDepth {
  std::string endpoint_id;
  int64_t pending = 0;  // rows still to send (deliveries and ceases)
  int64_t dead = 0;     // dead letters waiting for an operator
};

class ReferralStore {
 public:
  virtual ~ReferralStore() = default;

  // Records every referral of `batch` in one transaction (group commit), in order. A referral whose
  // (sender_ods, message_id) is already recorded, earlier or earlier in the same batch, is not
  // written again: its outcome is `duplicate` with the first decision when it is a resend
  // (IsResendOf the recorded fingerprint), `message_id_reused` otherwise. Returns one outcome per
  // input, in order, only after the transaction is durable; on failure nothing of the batch is
  // recorded (UNAVAILABLE for a busy or failing disk, INTERNAL otherwise).
  virtual absl::StatusOr<std::vector<RecordOutcome>> RecordReferrals(std::vector<NewReferral> batch) = 0;

  // The referral, or nullopt when there is none with that id.
  virtual absl::StatusOr<std::optional<StoredReferral>> GetReferral(std::string_view referral_id) = 0;

  // Up to `limit` due pending outbox rows for `endpoint_id` (next attempt at or before `now`), oldest
  // first, none behind an earlier pending or dead row of its referral; a shared store leases them.
  virtual absl::StatusOr<std::vector<OutboxItem>> DueDeliveries(std::string_view endpoint_id, absl::Time now,
                                                                int limit) = 0;
  // When the endpoint's next pending row is due (one leased elsewhere: when its lease ends); nullopt: none.
  virtual absl::StatusOr<std::optional<absl::Time>> NextDeliveryDue(std::string_view endpoint_id) = 0;

  // Queues a CeaseProcessing for a referral (IG-7), sent after every earlier row of that referral.
  // `request` carries its idempotency key. NOT_FOUND when there is no such referral.
  virtual absl::Status EnqueueCeaseProcessing(std::string_view referral_id, std::string_view endpoint_id,
                                              const frontdoor::v1::CeaseProcessingRequest& request, absl::Time at) = 0;

  // The connector acknowledged these rows (as DueDeliveries returned them): each is delivered and
  // never sent again, with its audit record, in one transaction (one durable write for a
  // dispatcher's batch of acknowledgements). A row that carries its audit_context gives the record
  // its referral_id, endpoint_id, kind and context; one without has them read in the transaction.
  // A row left unmarked by a failure is sent again with the same idempotency key, which connectors
  // de-duplicate: nothing is lost.
  virtual absl::Status MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) = 0;
  // MarkDeliveredMany for one row known by its id.
  absl::Status MarkDelivered(int64_t outbox_id, absl::Time at) {
    OutboxItem row;
    row.outbox_id = outbox_id;
    const OutboxItem* rows[] = {&row};
    return MarkDeliveredMany(rows, at);
  }
  // An attempt failed: count it, keep the row pending, try again at `next_attempt_at`. `error` is a
  // transport error text (never patient data).
  virtual absl::Status RecordFailedAttempt(int64_t outbox_id, absl::Time next_attempt_at, std::string_view error) = 0;

  // Withdraws an ACCEPTED referral (IG-7) in ONE transaction: records the cancellation (reason,
  // time, who); marks its delivery row 'cancelled' if still pending (never sent after this); and
  // always queues a CeaseProcessing behind it (`cease` carries the idempotency key): a pending
  // delivery may be in flight at this instant, and a cease for a referral the connector never
  // received is answered OK (connector_service.proto). Appends the withdrawal's audit record
  // (`audit`, completed from the referral's decision record). Idempotent: cancelling again returns
  // the first answer with `duplicate` and queues nothing. NOT_FOUND for no such referral,
  // FAILED_PRECONDITION for a referral that was not ACCEPTED (nothing was ever sent).
  virtual absl::StatusOr<CancelOutcome> CancelReferral(std::string_view referral_id,
                                                       const frontdoor::v1::CeaseProcessingRequest& cease,
                                                       const frontdoor::v1::AuditRecord& audit, absl::Time at) {
    return absl::UnimplementedError("this store does not support withdrawal");
  }

  // --- Dead letters (issue 5). Defaults answer UNIMPLEMENTED for stores that lack them. ---
  // Records a failed attempt like RecordFailedAttempt, unless the row has reached `limits` at `now`:
  // then it becomes a dead letter (never sent again until replayed). Returns true when it did.
  virtual absl::StatusOr<bool> RecordFailedAttemptOrDeadLetter(int64_t outbox_id, absl::Time next_attempt_at,
                                                               std::string_view error, const DeadLetterLimits& limits,
                                                               absl::Time now) {
    return absl::UnimplementedError("dead letters are not supported by this store");
  }
  // Dead-letters every pending row of the endpoint older than limits.max_age at `now` (its
  // connector is unreachable: the circuit breaker is open). Returns how many.
  virtual absl::StatusOr<int> DeadLetterExpired(std::string_view endpoint_id, const DeadLetterLimits& limits,
                                                absl::Time now) {
    return absl::UnimplementedError("dead letters are not supported by this store");
  }
  // Dead letters matching `filter`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<DeadLetterRow>> ListDeadLetters(const DeadLetterFilter& filter, int limit) {
    return absl::UnimplementedError("dead letters are not supported by this store");
  }
  // Makes dead letters matching `filter` pending again, due at `now`, with a fresh budget of
  // attempts and age. Returns how many.
  virtual absl::StatusOr<int> ReplayDeadLetters(const DeadLetterFilter& filter, absl::Time now) {
    return absl::UnimplementedError("dead letters are not supported by this store");
  }

  // Pending and dead-lettered outbox rows per endpoint that has any, by endpoint_id.
  virtual absl::StatusOr<std::vector<OutboxDepth>> OutboxDepths() {
    return absl::UnimplementedError("outbox depth is not supported by this store");
  }

  // --- Feedback (issue 5) ---
  // Records a progress report in one transaction: idempotent on (endpoint_id, idempotency_key) (a
  // resend of the same report returns the first record with `duplicate`; the same key with a
  // different report is ALREADY_EXISTS); otherwise `check` decides given `referral` (as the caller
  // read it: its routing and delivery never go back) and its feedback history, read in the same
  // transaction. Returns after the commit is durable.
  virtual absl::StatusOr<FeedbackRecordOutcome> RecordFeedback(const NewFeedback& feedback,
                                                               const StoredReferral& referral,
                                                               const FeedbackCheck& check) {
    return absl::UnimplementedError("feedback is not supported by this store");
  }
  // Every feedback event of a referral, oldest first.
  virtual absl::StatusOr<std::vector<StoredFeedback>> FeedbackForReferral(std::string_view referral_id) {
    return absl::UnimplementedError("feedback is not supported by this store");
  }
  // Up to `limit` feedback events on `sender_ods`'s referrals with seq > `after_seq`, in seq order.
  virtual absl::StatusOr<std::vector<StoredFeedback>> FeedbackAfter(std::string_view sender_ods, int64_t after_seq,
                                                                    int limit) {
    return absl::UnimplementedError("feedback is not supported by this store");
  }
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_REFERRAL_STORE_H_
