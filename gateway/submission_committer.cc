#include "gateway/submission_committer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/threads.h"

namespace frontdoor::gateway {

SubmissionCommitter::SubmissionCommitter(ReferralStore* store, OnCommitted on_committed, size_t max_batch)
    : store_(store), on_committed_(std::move(on_committed)), max_batch_(max_batch) {
  writer_ = std::thread([this] { Run(); });
}

SubmissionCommitter::~SubmissionCommitter() { Shutdown(); }

void SubmissionCommitter::Submit(NewReferral referral, Completion done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(referral), std::move(done), absl::Now()});
      return;
    }
  }
  done(absl::UnavailableError("the gateway is shutting down; send the referral again"));
}

void SubmissionCommitter::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
}

void SubmissionCommitter::Run() {
  NameThisThread("fd-commit");
  for (;;) {
    std::vector<Pending> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](SubmissionCommitter* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, and everything queued is done
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<NewReferral> referrals;
    referrals.reserve(batch.size());
    std::vector<std::string> endpoints;
    for (Pending& p : batch) {
      if (p.referral.delivery.has_value() &&
          std::find(endpoints.begin(), endpoints.end(), p.referral.delivery->endpoint_id) == endpoints.end()) {
        endpoints.push_back(p.referral.delivery->endpoint_id);
      }
      referrals.push_back(std::move(p.referral));
    }
    const absl::Time begin = absl::Now();
    absl::StatusOr<std::vector<RecordOutcome>> outcomes = store_->RecordReferrals(std::move(referrals));
    if (metrics_ != nullptr) {
      metrics_->ObserveGroupCommit(batch.size(), absl::ToDoubleSeconds(begin - batch.front().queued),
                                   absl::ToDoubleSeconds(absl::Now() - begin));
    }
    const bool wake = outcomes.ok() && !endpoints.empty() && on_committed_;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outcomes.ok()) {
        batch[i].done(std::move((*outcomes)[i]));
      } else {
        batch[i].done(outcomes.status());
      }
    }
    // The answers first: the woken delivery workers then compete with the next batch, not this one.
    if (wake) on_committed_(endpoints);
  }
}

}  // namespace frontdoor::gateway
