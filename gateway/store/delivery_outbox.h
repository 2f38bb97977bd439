// DeliveryOutbox: what the delivery workers read and mark. Every row is one call to make to one
// endpoint (a referral to deliver, or after a withdrawal the instruction to cease processing it),
// committed with what it carries and kept until the endpoint acknowledges it; a failed attempt is
// counted and tried again later, and past its limits becomes a dead letter for an operator.
//
//   absl::StatusOr<std::vector<OutboxItem>> due = outbox->DueDeliveries("ageuk-oldham", now, 32);
//   for (OutboxItem& item : *due) { ... }   // not `: *outbox->DueDeliveries(...)`: that dangles
//   outbox->MarkDeliveredMany(acknowledged, now);
//
// A store shared by several replicas (PostgreSQL) leases the rows DueDeliveries returns to the
// calling replica. Consumers: gateway/delivery/delivery_dispatcher.h; the outbox-depth metrics.
// Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_DELIVERY_OUTBOX_H_
#define FRONTDOOR_GATEWAY_STORE_DELIVERY_OUTBOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace frontdoor::gateway {

// What an outbox row sends: the referral itself, or (after a withdrawal, IG-7) the instruction to
// cease processing it, to its connector; or a feedback event on it, to a referrer that takes its
// feedback pushed to its own endpoint (BaRS). For one referral, the rows to one endpoint go out in
// the order they were queued: a cease never overtakes its delivery, feedback keeps its order; an
// endpoint that is down holds up only its own rows.
enum class OutboxKind { kDeliver, kCease, kFeedback };

// As stored and shown: "deliver", "cease", "feedback".
const char* OutboxKindName(OutboxKind kind);
// The kind a stored name names; nullopt for none.
std::optional<OutboxKind> OutboxKindNamed(std::string_view name);

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
  // queued: sent as it is, neither parsed nor serialized again (about 3% of the gateway's CPU); for
  // kFeedback, the feedback event's seq in decimal (its transport renders the event from the store).
  std::string request;
  // The referral's audit context, read with the row where the store can, so that marking the row
  // acknowledged need not read it again inside the write transaction (docs/PERFORMANCE.md). Unset:
  // MarkDeliveredMany reads it there.
  std::optional<ReferralAuditContext> audit_context;
};

// When a failing outbox row becomes a dead letter. Both count from when the row was queued or last
// replayed; zero means no limit of that kind.
struct DeadLetterLimits {
  uint32_t max_attempts = 0;
  absl::Duration max_age = absl::ZeroDuration();
};

// How much is waiting at one endpoint (metrics, the operators' console page).
struct OutboxDepth {
  std::string endpoint_id;
  int64_t pending = 0;                       // rows still to send (deliveries and ceases)
  int64_t dead = 0;                          // dead letters waiting for an operator
  std::optional<absl::Time> oldest_pending;  // when the oldest pending row was queued
};

class DeliveryOutbox {
 public:
  virtual ~DeliveryOutbox() = default;

  // Up to `limit` due pending outbox rows for `endpoint_id` (next attempt at or before `now`), oldest
  // first, none behind an earlier pending or dead row of its referral to the same endpoint; a shared
  // store leases them.
  virtual absl::StatusOr<std::vector<OutboxItem>> DueDeliveries(std::string_view endpoint_id, absl::Time now,
                                                                int limit) = 0;
  // When the endpoint's next pending row is due (one leased elsewhere: when its lease ends); nullopt: none.
  virtual absl::StatusOr<std::optional<absl::Time>> NextDeliveryDue(std::string_view endpoint_id) = 0;

  // The endpoint acknowledged these rows (as DueDeliveries returned them): each is delivered and
  // never sent again, with its audit record, in one transaction (one durable write for a
  // dispatcher's batch of acknowledgements). A row that carries its audit_context gives the record
  // its referral_id, endpoint_id, kind and context; one without has them read in the transaction.
  // A row left unmarked by a failure is sent again with the same idempotency key, which connectors
  // de-duplicate: nothing is lost.
  virtual absl::Status MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) = 0;

  // An attempt failed: counts it and keeps the row pending, to be tried again at
  // `next_attempt_at`, unless the row has reached `limits` at `now` (no limits: never): then it
  // becomes a dead letter (never sent again until replayed). Returns true when it did. `error` is
  // a transport error text (never patient data).
  virtual absl::StatusOr<bool> RecordFailedAttemptOrDeadLetter(int64_t outbox_id, absl::Time next_attempt_at,
                                                               std::string_view error, const DeadLetterLimits& limits,
                                                               absl::Time now) = 0;
  // Dead-letters every pending row of the endpoint older than limits.max_age at `now` (its
  // endpoint is unreachable: the circuit breaker is open). Returns how many.
  virtual absl::StatusOr<int> DeadLetterExpired(std::string_view endpoint_id, const DeadLetterLimits& limits,
                                                absl::Time now) = 0;

  // Pending and dead-lettered outbox rows per endpoint that has any, by endpoint_id.
  virtual absl::StatusOr<std::vector<OutboxDepth>> OutboxDepths() = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_DELIVERY_OUTBOX_H_
