// SqliteStore: the embedded ReferralStore, one SQLite file in WAL mode with full
// synchronous commits: a transaction that returned is on disk, so an acknowledged referral survives
// a crash or a power cut.
//
//   absl::StatusOr<std::unique_ptr<SqliteStore>> store =
//       SqliteStore::Open(data_dir + "/frontdoor.db");
//
// The schema is versioned (PRAGMA user_version) and migrated forward at Open; a file written by a
// newer gateway is refused rather than guessed at.
// Thread-safety: all methods are safe from any thread. Writes go through one connection and
// readers use a second one, so a read never waits for a commit's fsync (WAL lets them overlap).
#ifndef FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_STORE_H_
#define FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/store/sqlite/sqlite_schema.h"
#include "gateway/store/store.h"

struct sqlite3;

namespace frontdoor::gateway {

class SqliteStore final : public Store {
 public:
  // The schema version this build writes.
  static constexpr int kSchemaVersion = sqlite::kSchemaVersion;

  // Opens (creating if needed) the database at `path` and migrates it. Returns UNAVAILABLE when the
  // file cannot be opened or locked, FAILED_PRECONDITION for a schema newer than kSchemaVersion.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

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

  // Delivery marks and checkpoints (shared writes, below): how many committed in a transaction of
  // their own, and how many rode in another's (a group commit of submissions, or another shared
  // write's).
  struct SharedWriteCounts {
    int64_t own_transactions = 0;
    int64_t carried = 0;
  };
  SharedWriteCounts shared_write_counts() ABSL_LOCKS_EXCLUDED(shared_mu_);
  // For tests that need a shared write queued while a group commit is running: `hook` runs on the
  // committing thread, holding the write lock, just before the commit takes the queued writes in
  // (right after its BEGIN).
  void SetBeforeSharedWritesHookForTest(std::function<void()> hook) ABSL_LOCKS_EXCLUDED(write_mu_);
  size_t SharedWritesQueuedForTest() ABSL_LOCKS_EXCLUDED(shared_mu_);
  // For tests that need a shared write to wait for a group commit longer, or to count a group
  // commit as recent for longer.
  void SetSharedWriteWaitForTest(absl::Duration wait, absl::Duration after_group_commit_within)
      ABSL_LOCKS_EXCLUDED(shared_mu_);
  // For tests that need the store used while a report reads: `hook` runs on the reporting thread
  // after its first row is read, with the report's connection open.
  void SetDuringReportHookForTest(std::function<void()> hook) ABSL_LOCKS_EXCLUDED(report_mu_);

 private:
  SqliteStore(std::string path, sqlite3* writer, sqlite3* reader, sqlite3* checkpointer, int schema_version);
  // Runs CheckpointWal every 100 ms on `checkpointer_` until the store closes.
  void RunWalCheckpoints();
  // Copies the WAL into the database file without blocking the writer, except for a final short
  // pass under write_mu_ that lets the WAL start again from its beginning (see the .cc).
  void CheckpointWal() ABSL_LOCKS_EXCLUDED(write_mu_);
  // Inside an open write transaction on `db`: appends `records` (assigning index and leaf hash).
  static absl::Status AppendAuditInTransaction(sqlite3* db, std::vector<frontdoor::v1::AuditRecord>* records);
  // Inside an open write transaction: the audit records of NewReferral batch entries, and their
  // per-referral context (who it is about, the consent relied on) for later records.
  // Folds a feedback event into its referral's report facts, in the caller's transaction.
  static absl::Status AddToReportFacts(sqlite3* db, const StoredReferral& referral,
                                       const frontdoor::v1::ReportProgressRequest& event);
  static absl::Status RecordDecisionAudit(sqlite3* db, const std::string& referral_id, const std::string& sender_ods,
                                          std::vector<frontdoor::v1::AuditRecord> records);
  // Inside an open write transaction: an acknowledged outbox row's referral, endpoint, kind and
  // audit context, for a row that came without its context.
  static absl::StatusOr<OutboxItem> ReadAcknowledgedRow(sqlite3* db, int64_t outbox_id);
  // The referral's audit context (who it is about, consent, referrer, rules); nullopt when it was
  // recorded before the audit log existed.
  static absl::StatusOr<std::optional<ReferralAuditContext>> ReadAuditContext(sqlite3* db,
                                                                              const std::string& referral_id);
  // Fills the IG-7 fields of `out` from the cancellations table.
  static absl::Status ReadCancellation(sqlite3* db, StoredReferral* out);

  // Writes that may ride in another's transaction: delivery marks and audit checkpoints. A caller
  // queues one and, while submissions come, waits a moment for a group commit to take it in
  // (shared_write_wait_, below); then it takes write_mu_. If the transaction that held it
  // meanwhile took the write in and committed it, the caller is done without a transaction (and
  // fsync) of its own. Otherwise it commits whatever is queued itself. So at steady load
  // acknowledgements share the submissions' fsync instead of queueing for the write lock between
  // them (docs/PERFORMANCE.md).
  struct SharedWrite {
    std::function<absl::Status(sqlite3*)> apply;  // inside an open write transaction
    absl::Status result;
    bool done = false;    // result is final
    bool carried = true;  // false once committed in a transaction of its own after a failure
  };
  // Queues `write`, then applies it in the next write transaction (possibly its own) and returns
  // its result once that transaction committed or failed.
  absl::Status WriteShared(SharedWrite* write) ABSL_LOCKS_EXCLUDED(write_mu_, shared_mu_);
  // Right after BEGIN on `db`: takes every queued shared write and applies it. First, and without
  // a savepoint each: a savepoint copies every page it touches into a statement journal (about
  // 28k instructions a mark). So if one fails, the transaction is rolled back, each write commits
  // (or fails) in a transaction of its own, and a new transaction is begun for the caller. Returns
  // the writes inside the open transaction (to finish once it ends); an error only when no
  // transaction could be begun again.
  absl::StatusOr<std::vector<SharedWrite*>> TakeSharedWritesInto(sqlite3* db) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(shared_mu_);
  // With no transaction open: each of `writes` in a transaction of its own, each with its result.
  void CommitEachAlone(sqlite3* db, const std::vector<SharedWrite*>& writes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_)
      ABSL_LOCKS_EXCLUDED(shared_mu_);
  // Commits the open transaction (rolling it back if COMMIT fails) and gives each write it carried
  // its final result: its own, or the commit's failure. Returns the commit's status.
  absl::Status CommitCarrying(sqlite3* db, const std::vector<SharedWrite*>& carried)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(shared_mu_);

  absl::Mutex write_mu_;
  sqlite3* writer_ ABSL_GUARDED_BY(write_mu_);
  absl::Mutex shared_mu_ ABSL_ACQUIRED_AFTER(write_mu_);  // only the queue: never held across SQL
  std::vector<SharedWrite*> shared_queue_ ABSL_GUARDED_BY(shared_mu_);
  // While submissions come (a group commit began within kSteadyLoadWindow), a shared write waits
  // up to kSharedWriteWait for one to carry it: a few group commits' time at 1,000 referrals/s,
  // so marks almost always ride in one. Otherwise (deliveries catching up after a connector's
  // outage, a replay) no commit is coming, and it commits at once.
  static constexpr absl::Duration kSharedWriteWait = absl::Milliseconds(3);
  static constexpr absl::Duration kSteadyLoadWindow = absl::Milliseconds(50);
  absl::Duration shared_write_wait_ ABSL_GUARDED_BY(shared_mu_) = kSharedWriteWait;
  absl::Duration steady_load_window_ ABSL_GUARDED_BY(shared_mu_) = kSteadyLoadWindow;
  absl::Time last_group_commit_ ABSL_GUARDED_BY(shared_mu_) = absl::InfinitePast();
  SharedWriteCounts shared_counts_ ABSL_GUARDED_BY(shared_mu_);
  std::function<void()> before_shared_writes_hook_ ABSL_GUARDED_BY(write_mu_);
  absl::Mutex read_mu_;
  sqlite3* reader_ ABSL_GUARDED_BY(read_mu_);
  sqlite3* const checkpointer_;  // used by wal_thread_ only
  // A report reads for seconds on a large store: on a connection of its own, opened for it, so
  // that deliveries, reads and audit queries keep the shared reader (reader_) meanwhile.
  const std::string path_;
  absl::Mutex report_mu_;
  std::function<void()> during_report_hook_ ABSL_GUARDED_BY(report_mu_);
  absl::Mutex wal_mu_;
  bool stopping_ ABSL_GUARDED_BY(wal_mu_) = false;
  std::thread wal_thread_;
  const int schema_version_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_SQLITE_SQLITE_STORE_H_
