// PostgresStore: the ReferralStore and AuditStore for several gateway replicas over one
// PostgreSQL database (libpq), active-active.
//
//   PostgresStoreOptions options;
//   options.conninfo = "host=db.internal dbname=frontdoor user=frontdoor";  // password: PGPASSWORD
//   options.replica_id = "frontdoor-7c9d-1";
//   absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
//
// Same semantics as SqliteStore, held across replicas:
//  - A batch of referrals commits in ONE transaction; (sender_ods, message_id) is a unique
//    constraint, so a duplicate sent to two replicas at once is recorded once and both answer with
//    the first decision.
//  - Every transaction that appends to the audit log first locks the single row of `audit_head`,
//    which hands out leaf indexes: indexes are contiguous across replicas and commit in index order.
//    Feedback sequence numbers come from `feedback_head` the same way, so a WatchFeedback reader
//    never sees a gap that later closes.
//  - The outbox is claimed with leases: DueDeliveries marks the rows it returns as leased by this
//    replica until now + outbox_lease (FOR UPDATE SKIP LOCKED, so two replicas never claim one row);
//    MarkDelivered and the failed-attempt methods clear the lease. A replica that dies releases
//    nothing: its rows become due for the others when the lease expires. NextDeliveryDue reports
//    such a row at its lease expiry, so a worker wakes for it.
//  - The schema is versioned (table schema_migrations) and migrated forward at Open under an
//    advisory lock, so replicas starting together migrate once; a database written by a newer
//    gateway is refused.
// Connections: a pool of `pool_size`, each used by one thread at a time; a broken connection is
// reset when next taken. Connection failures are UNAVAILABLE (retry later). The conninfo's password
// is never logged or put in a Status.
// Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_STORE_H_
#define FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gateway/store/store.h"

namespace frontdoor::gateway {

struct PostgresStoreOptions {
  // A libpq connection string; keywords left out come from PGHOST, PGPORT, PGDATABASE, PGUSER,
  // PGPASSWORD, PGSSLMODE... (empty: all of them).
  std::string conninfo;
  int pool_size = 4;
  // How long a claimed outbox row stays with this replica. A delivery worker sends the rows of one
  // claim one after another, so the lease should outlast batch_size x the attempt deadline of a
  // slow connector; if it does not, another replica may send a row again (the connector
  // de-duplicates by idempotency key: never a second referral, only a second call). Lease times
  // are the replicas' wall clocks: keep them in sync (NTP).
  absl::Duration outbox_lease = absl::Seconds(30);
  // This replica's name in outbox leases, unique among running replicas (a process reclaims rows
  // leased under its own name at once); empty: host name and process id (a Kubernetes pod name).
  std::string replica_id;
};

namespace pg {
class PostgresConnectionPool;
}  // namespace pg

class PostgresStore final : public Store {
 public:
  // The schema version this build writes.
  static constexpr int kSchemaVersion = 3;  // pg::kSchemaVersion (gateway/store/postgres/postgres_schema.h)

  // Connects (pool_size connections) and migrates the schema. UNAVAILABLE when the server cannot be
  // reached, FAILED_PRECONDITION for a schema newer than kSchemaVersion, INVALID_ARGUMENT for a
  // malformed conninfo.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const PostgresStoreOptions& options);
  ~PostgresStore() override;

  absl::StatusOr<std::vector<RecordOutcome>> RecordReferrals(std::vector<NewReferral> batch) override;
  absl::StatusOr<std::optional<StoredReferral>> GetReferral(std::string_view referral_id) override;
  absl::StatusOr<std::vector<OutboxItem>> DueDeliveries(std::string_view endpoint_id, absl::Time now,
                                                        int limit) override;
  absl::StatusOr<std::optional<absl::Time>> NextDeliveryDue(std::string_view endpoint_id) override;
  absl::Status MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) override;
  absl::StatusOr<CancelOutcome> CancelReferral(std::string_view referral_id,
                                               const frontdoor::v1::CeaseProcessingRequest& cease, const AuditActor& by,
                                               absl::Time at) override;

  // AuditStore (IG-9).
  absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> AppendAudit(
      std::vector<frontdoor::v1::AuditRecord> records) override;
  absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> QueryAudit(const AuditQuery& query, int64_t after_index,
                                                                     int limit) override;
  absl::StatusOr<uint64_t> AuditTreeSize() override;
  absl::StatusOr<std::vector<audit::Hash>> AuditLeafHashes(uint64_t from, uint64_t to) override;
  absl::StatusOr<std::optional<frontdoor::v1::AuditRecord>> GetAuditRecord(uint64_t index) override;
  absl::StatusOr<std::vector<audit::StoredLeaf>> ReadAuditLeaves() override;
  absl::Status RecordCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint) override;
  absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> AuditCheckpoints() override;
  absl::StatusOr<int64_t> PruneAuditBefore(absl::Time cutoff) override;

  // Dead letters, outbox depth and feedback.
  absl::StatusOr<bool> RecordFailedAttemptOrDeadLetter(int64_t outbox_id, absl::Time next_attempt_at,
                                                       std::string_view error, const DeadLetterLimits& limits,
                                                       absl::Time now) override;
  absl::StatusOr<int> DeadLetterExpired(std::string_view endpoint_id, const DeadLetterLimits& limits,
                                        absl::Time now) override;
  absl::StatusOr<std::vector<DeadLetterRow>> ListDeadLetters(const DeadLetterFilter& filter, int limit) override;
  absl::StatusOr<int> ReplayDeadLetters(const DeadLetterFilter& filter, absl::Time now) override;
  absl::StatusOr<std::vector<OutboxDepth>> OutboxDepths() override;
  absl::Status ForEachReferralReceived(absl::Time from, absl::Time to,
                                       const std::function<void(const ReportRow&)>& each) override;
  absl::Status RecordRejection(absl::Time received_at, const std::string& key,
                               const frontdoor::internal::ReportFacts& facts) override;
  absl::StatusOr<FeedbackRecordOutcome> RecordFeedback(const NewFeedback& feedback, const StoredReferral& referral,
                                                       const FeedbackCheck& check) override;
  absl::StatusOr<std::optional<StoredFeedback>> FeedbackBySeq(int64_t seq) override;
  absl::StatusOr<std::vector<StoredFeedback>> FeedbackForReferral(std::string_view referral_id) override;
  absl::StatusOr<std::vector<StoredFeedback>> FeedbackAfter(std::string_view sender_ods, int64_t after_seq,
                                                            int limit) override;

  int schema_version() const { return schema_version_; }
  const std::string& replica_id() const { return replica_id_; }

 private:
  PostgresStore(std::unique_ptr<pg::PostgresConnectionPool> pool, std::string replica_id, absl::Duration outbox_lease,
                int schema_version);

  std::unique_ptr<pg::PostgresConnectionPool> pool_;
  const std::string replica_id_;
  const absl::Duration outbox_lease_;
  const int schema_version_;
};

// The conninfo with any password replaced by "***", for messages.
std::string RedactConninfo(const std::string& conninfo);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_STORE_H_
