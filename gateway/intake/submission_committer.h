// SubmissionCommitter: group commit for decided referrals. Service handlers hand it a NewReferral
// and a completion; one writer thread takes everything queued, records it in ONE store transaction,
// and only then runs the completions, which answer the referrers. Many referrals share one fsync,
// and no reactor thread ever waits on the disk.
//
//   SubmissionCommitter committer(store, &clock, /*on_committed=*/[&](const CommittedBatch& b) { dispatcher.Wake(); });
//   absl::Status queued =
//       committer.Submit(std::move(referral), [reactor](absl::StatusOr<RecordOutcome> out) { ... });
//   if (!queued.ok()) { /* RESOURCE_EXHAUSTED or UNAVAILABLE: answer now; the completion will not run */ }
//
// The committer holds at most `max_queued` submissions at once (waiting for the writer, or in the
// transaction it is running): each holds its referral, and its caller's reply, in memory until it is
// answered, so when the disk or the machine stalls the queue must not grow with the load. Past the
// bound Submit refuses at once with RESOURCE_EXHAUSTED (nothing queued, nothing recorded: the caller
// sends the same message again later and it is a new submission, not a duplicate).
//
// Thread-safety: Submit may be called from any thread. Completions run on the writer thread and must
// not block. After Shutdown, Submit refuses with UNAVAILABLE; Shutdown first finishes everything
// already queued.
#ifndef FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_COMMITTER_H_
#define FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_COMMITTER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/store/referral_records.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

class SubmissionCommitter {
 public:
  using Completion = std::function<void(absl::StatusOr<RecordOutcome>)>;
  // What a committed batch recorded, for whoever acts on it.
  struct CommittedBatch {
    // The endpoints (distinct, in first-seen order) it queued deliveries for.
    std::vector<std::string> endpoints;
    // How many audit records its referrals brought (a duplicate's are counted but not appended).
    uint64_t audit_records = 0;
  };
  using OnCommitted = std::function<void(const CommittedBatch&)>;

  // The default bound on submissions held at once (GatewayConfig.limits.max_queued_submissions):
  // one full batch. Each held FHIR submission costs the gateway about 45 KB resident (its call,
  // parsed referral, records and prepared reply; measured through a 4-second store stall), so
  // about 22 MiB at the bound.
  static constexpr size_t kDefaultMaxQueued = 512;
  // What a refused caller is told to wait before sending again (trailing metadata retry-after-ms).
  static constexpr absl::Duration kQueueFullRetryAfter = absl::Seconds(1);

  // `store` and `clock` must outlive this object. `on_committed` runs on the writer thread after each durable
  // batch, after the batch's completions. `max_queued` >= 1.
  SubmissionCommitter(ReferralRecords* store, const Clock* clock, OnCommitted on_committed,
                      size_t max_queued = kDefaultMaxQueued, size_t max_batch = 512);
  ~SubmissionCommitter();  // Calls Shutdown.

  // Group commits are observed in `metrics` (may be null; set before the first Submit).
  void SetMetrics(observability::GatewayMetrics* metrics);
  // `observer` hears of every failed group commit, with why, on the writer thread (set before the
  // first Submit): the gateway turns a damaged store into NOT_SERVING.
  void SetFailureObserver(std::function<void(const absl::Status&)> observer);

  // Queues `referral` for the next group commit: OK, and `done` runs once it is durably recorded
  // (or the commit failed). Otherwise `done` is never called and nothing is recorded:
  // RESOURCE_EXHAUSTED when `max_queued` submissions are already held (retry after
  // kQueueFullRetryAfter; the message says so), UNAVAILABLE after Shutdown.
  absl::Status Submit(NewReferral referral, Completion done);
  void Shutdown();

 private:
  struct Pending {
    NewReferral referral;
    Completion done;
    absl::Time queued;
  };
  void Run();

  // A refusal: counted at once; logged (outside the lock) at most once per 10 s, with the refusals
  // since the last line.
  struct RefusalLogLine {
    bool due = false;
    int64_t held = 0;
    int64_t refused = 0;
    int64_t oldest_wait_ms = 0;
  };
  RefusalLogLine NoteRefusal() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ReferralRecords* const store_;
  const Clock* const clock_;  // queue ages and the refusal log's interval
  const OnCommitted on_committed_;
  const size_t max_queued_;
  const size_t max_batch_;
  observability::GatewayMetrics* metrics_ = nullptr;
  std::function<void(const absl::Status&)> failure_observer_;
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // Submissions held: queue_ plus the batch the writer is committing (until its completions ran).
  size_t held_ ABSL_GUARDED_BY(mu_) = 0;
  // When the oldest submission of the batch being committed was queued; InfiniteFuture when none.
  absl::Time committing_since_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  absl::Time last_refusal_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t refusals_unlogged_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_SUBMISSION_COMMITTER_H_
