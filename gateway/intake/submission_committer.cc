#include "gateway/intake/submission_committer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/threads.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace {

constexpr absl::Duration kRefusalLogInterval = absl::Seconds(10);

}  // namespace

SubmissionCommitter::SubmissionCommitter(ReferralRecords* store, const Clock* clock, OnCommitted on_committed,
                                         size_t max_queued, size_t max_batch)
    : store_(store),
      clock_(clock),
      on_committed_(std::move(on_committed)),
      max_queued_(std::max<size_t>(1, max_queued)),
      max_batch_(max_batch) {
  writer_ = std::thread([this] { Run(); });
}

SubmissionCommitter::~SubmissionCommitter() { Shutdown(); }

void SubmissionCommitter::SetMetrics(observability::GatewayMetrics* metrics) {
  metrics_ = metrics;
  if (metrics_ != nullptr) metrics_->SetCommitQueue(0);
}

void SubmissionCommitter::SetFailureObserver(std::function<void(const absl::Status&)> observer) {
  failure_observer_ = std::move(observer);
}

absl::Status SubmissionCommitter::Submit(NewReferral referral, Completion done) {
  RefusalLogLine line;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the gateway is shutting down; send the referral again");
    if (held_ < max_queued_) {
      queue_.push_back(Pending{std::move(referral), std::move(done), clock_->Now()});
      ++held_;
      if (metrics_ != nullptr) metrics_->SetCommitQueue(held_);
      return absl::OkStatus();
    }
    line = NoteRefusal();
  }
  if (line.due) {
    // Counts and times only: which referrals were refused is in each call's own grpc_call line.
    observability::Log(observability::LogLevel::kWarning, "commit_queue_full",
                       "submissions refused with RESOURCE_EXHAUSTED: the group commit is not keeping up",
                       {{"held", line.held},
                        {"max_queued", static_cast<int64_t>(max_queued_)},
                        {"refused", line.refused},
                        {"oldest_wait_ms", line.oldest_wait_ms}});
  }
  // Refused before anything was queued: `referral` and `done` are dropped here, never recorded.
  return absl::ResourceExhaustedError(absl::StrCat(
      "the gateway already holds ", max_queued_, " referrals waiting to be recorded; nothing was recorded: ",
      "send the same message again, retry after ", absl::ToInt64Milliseconds(kQueueFullRetryAfter), " ms"));
}

SubmissionCommitter::RefusalLogLine SubmissionCommitter::NoteRefusal() {
  if (metrics_ != nullptr) metrics_->CountCommitQueueFull();
  ++refusals_unlogged_;
  RefusalLogLine line;
  const absl::Time now = clock_->Now();
  if (now - last_refusal_log_ < kRefusalLogInterval) return line;
  const absl::Time oldest = queue_.empty() ? committing_since_ : std::min(committing_since_, queue_.front().queued);
  line.due = true;
  line.held = static_cast<int64_t>(held_);
  line.refused = refusals_unlogged_;
  line.oldest_wait_ms = oldest < now ? absl::ToInt64Milliseconds(now - oldest) : 0;
  last_refusal_log_ = now;
  refusals_unlogged_ = 0;
  return line;
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
          +[](SubmissionCommitter* self)
               ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->stopping_ || !self->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // stopping, and everything queued is done
      committing_since_ = queue_.front().queued;
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<NewReferral> referrals;
    referrals.reserve(batch.size());
    CommittedBatch committed;
    std::vector<std::string>& endpoints = committed.endpoints;
    for (Pending& p : batch) {
      if (p.referral.delivery.has_value() &&
          std::find(endpoints.begin(), endpoints.end(), p.referral.delivery->endpoint_id) == endpoints.end()) {
        endpoints.push_back(p.referral.delivery->endpoint_id);
      }
      committed.audit_records += p.referral.audit.size();
      referrals.push_back(std::move(p.referral));
    }
    const absl::Time begin = clock_->Now();
    absl::StatusOr<std::vector<RecordOutcome>> outcomes = store_->RecordReferrals(std::move(referrals));
    if (metrics_ != nullptr) {
      metrics_->ObserveGroupCommit(batch.size(), absl::ToDoubleSeconds(begin - batch.front().queued),
                                   absl::ToDoubleSeconds(clock_->Now() - begin));
    }
    if (!outcomes.ok()) {
      if (metrics_ != nullptr) metrics_->CountStoreWriteFailure();
      if (failure_observer_) failure_observer_(outcomes.status());
    }
    const bool wake = outcomes.ok() && on_committed_;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outcomes.ok()) {
        batch[i].done(std::move((*outcomes)[i]));
      } else {
        batch[i].done(outcomes.status());
      }
    }
    // Answered: what the batch held (the completions and what they captured) is freed before its
    // room in the bound is given back.
    const size_t answered = batch.size();
    batch.clear();
    {
      absl::MutexLock lock(&mu_);
      held_ -= answered;
      committing_since_ = absl::InfiniteFuture();
      if (metrics_ != nullptr) metrics_->SetCommitQueue(held_);
    }
    // The answers first: the woken delivery workers then compete with the next batch, not this one.
    if (wake) on_committed_(committed);
  }
}

}  // namespace frontdoor::gateway
