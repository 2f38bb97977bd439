// SubmissionCommitter: group commit for decided referrals. Service handlers hand it a NewReferral
// and a completion; one writer thread takes everything queued, records it in ONE store transaction,
// and only then runs the completions, which answer the referrers. Many referrals share one fsync,
// and no reactor thread ever waits on the disk.
//
//   SubmissionCommitter committer(store, /*on_committed=*/[&] { dispatcher.Wake(); });
//   committer.Submit(std::move(referral), [reactor](absl::StatusOr<RecordOutcome> out) { ... });
//
// Thread-safety: Submit may be called from any thread. Completions run on the writer thread and must
// not block. After Shutdown, Submit completes at once with UNAVAILABLE; Shutdown first finishes
// everything already queued.
#ifndef FRONTDOOR_GATEWAY_SUBMISSION_COMMITTER_H_
#define FRONTDOOR_GATEWAY_SUBMISSION_COMMITTER_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/referral_store.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

class SubmissionCommitter {
 public:
  using Completion = std::function<void(absl::StatusOr<RecordOutcome>)>;
  // The endpoints (distinct, in first-seen order) that a committed batch queued deliveries for.
  using OnCommitted = std::function<void(const std::vector<std::string>& endpoints)>;

  // `store` must outlive this object. `on_committed` runs on the writer thread after each durable
  // batch that recorded at least one delivery, after the batch's completions.
  SubmissionCommitter(ReferralStore* store, OnCommitted on_committed, size_t max_batch = 512);
  ~SubmissionCommitter();  // Calls Shutdown.

  // Group commits are observed in `metrics` (may be null; set before the first Submit).
  void SetMetrics(observability::GatewayMetrics* metrics) { metrics_ = metrics; }

  void Submit(NewReferral referral, Completion done);
  void Shutdown();

 private:
  struct Pending {
    NewReferral referral;
    Completion done;
    absl::Time queued;
  };
  void Run();

  ReferralStore* const store_;
  const OnCommitted on_committed_;
  const size_t max_batch_;
  observability::GatewayMetrics* metrics_ = nullptr;
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SUBMISSION_COMMITTER_H_
