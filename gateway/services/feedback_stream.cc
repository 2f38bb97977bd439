#include "gateway/services/feedback_stream.h"

#include <cstdio>
#include <deque>
#include <utility>
#include <vector>

#include "common/threads.h"
#include "gateway/feedback/feedback_view.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

class WatchFeedbackReactor;

// What the hub thread and a stream's reactor share. Everything behind `mu`.
struct FeedbackStreamHub::Subscription {
  Subscription(std::string sender, int64_t after, absl::Time opened)
      : sender_ods(std::move(sender)), opened_at(opened), last_seq(after) {}

  // Queues the events after `last_seq` and starts writing if idle.
  void Deliver(std::vector<v1::FeedbackEvent> events, const std::vector<int64_t>& seqs);
  // Finishes the stream now, or after the write in flight.
  void RequestFinish(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  const std::string sender_ods;
  const absl::Time opened_at;  // events recorded before are history, not lag
  absl::Mutex mu;
  WatchFeedbackReactor* reactor ABSL_GUARDED_BY(mu) = nullptr;  // null once done
  int64_t last_seq ABSL_GUARDED_BY(mu);                         // the last event queued
  std::deque<v1::FeedbackEvent> queue ABSL_GUARDED_BY(mu);      // front() is being written
  bool writing ABSL_GUARDED_BY(mu) = false;
  bool finishing ABSL_GUARDED_BY(mu) = false;  // no more writes
  bool finished ABSL_GUARDED_BY(mu) = false;   // Finish called
  grpc::Status finish_status ABSL_GUARDED_BY(mu);
};

class WatchFeedbackReactor final : public grpc::ServerWriteReactor<v1::FeedbackEvent> {
 public:
  WatchFeedbackReactor(FeedbackStreamHub* hub, std::shared_ptr<FeedbackStreamHub::Subscription> sub)
      : hub_(hub), sub_(std::move(sub)) {
    absl::MutexLock lock(&sub_->mu);
    sub_->reactor = this;
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&sub_->mu);
      sub_->writing = false;
      if (!ok) {  // the client went away
        sub_->RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled"));
        return;
      }
      sub_->queue.pop_front();
      if (sub_->finishing) {
        sub_->RequestFinish(sub_->finish_status);
        return;
      }
      if (!sub_->queue.empty()) {
        sub_->writing = true;
        StartWrite(&sub_->queue.front());
        return;
      }
    }
    hub_->RequestFetch(sub_);  // drained: the next page, if any
  }

  void OnCancel() override {
    absl::MutexLock lock(&sub_->mu);
    sub_->RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "the stream was cancelled"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&sub_->mu);
      sub_->reactor = nullptr;
    }
    hub_->Remove(sub_);
    delete this;
  }

  // Called by the Subscription with its mutex held.
  void WriteFront(const v1::FeedbackEvent* event) { StartWrite(event); }
  void FinishWith(const grpc::Status& status) { Finish(status); }

 private:
  FeedbackStreamHub* const hub_;
  const std::shared_ptr<FeedbackStreamHub::Subscription> sub_;
};

void FeedbackStreamHub::Subscription::Deliver(std::vector<v1::FeedbackEvent> events, const std::vector<int64_t>& seqs) {
  absl::MutexLock lock(&mu);
  if (reactor == nullptr || finishing) return;
  for (size_t i = 0; i < events.size(); ++i) {
    if (seqs[i] <= last_seq) continue;  // already queued by an earlier read
    last_seq = seqs[i];
    queue.push_back(std::move(events[i]));
  }
  if (!writing && !queue.empty()) {
    writing = true;
    reactor->WriteFront(&queue.front());  // deque references stay valid while we push_back
  }
}

void FeedbackStreamHub::Subscription::RequestFinish(grpc::Status status) {
  if (!finishing) {
    finishing = true;
    finish_status = std::move(status);
  }
  if (!writing && !finished && reactor != nullptr) {
    finished = true;
    reactor->FinishWith(finish_status);
  }
}

namespace {

// A stream refused before it began: finishes at once, deletes itself when done.
class RefusedWatchReactor final : public grpc::ServerWriteReactor<v1::FeedbackEvent> {
 public:
  explicit RefusedWatchReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

FeedbackStreamHub::FeedbackStreamHub(FeedbackLog* store, const Clock* clock, int page_size, absl::Duration poll)
    : store_(store), clock_(clock), page_size_(page_size > 0 ? page_size : 64), poll_(poll) {
  reader_ = std::thread([this] { Run(); });
}

FeedbackStreamHub::~FeedbackStreamHub() { Shutdown(); }

grpc::ServerWriteReactor<v1::FeedbackEvent>* FeedbackStreamHub::Refuse(grpc::Status status) {
  return new RefusedWatchReactor(status);
}

grpc::ServerWriteReactor<v1::FeedbackEvent>* FeedbackStreamHub::Watch(std::string sender_ods, int64_t after_seq) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return Refuse(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down; resume later"));
    }
  }
  auto sub = std::make_shared<Subscription>(std::move(sender_ods), after_seq, clock_->Now());
  auto* reactor = new WatchFeedbackReactor(this, sub);
  Add(sub);
  return reactor;
}

void FeedbackStreamHub::Add(const std::shared_ptr<Subscription>& sub) {
  absl::MutexLock lock(&mu_);
  subscriptions_.insert(sub);
  to_fetch_.insert(sub);
  if (stopping_) {
    absl::MutexLock sub_lock(&sub->mu);
    sub->RequestFinish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down; resume later"));
  }
}

void FeedbackStreamHub::Remove(const std::shared_ptr<Subscription>& sub) {
  absl::MutexLock lock(&mu_);
  subscriptions_.erase(sub);
  to_fetch_.erase(sub);
}

void FeedbackStreamHub::RequestFetch(const std::shared_ptr<Subscription>& sub) {
  absl::MutexLock lock(&mu_);
  if (subscriptions_.count(sub) > 0) to_fetch_.insert(sub);
}

void FeedbackStreamHub::SetLagObserver(std::function<void(absl::Duration)> observer) {
  absl::MutexLock lock(&mu_);
  lag_observer_ = std::move(observer);
}

void FeedbackStreamHub::Notify() {
  absl::MutexLock lock(&mu_);
  notify_all_ = true;
}

void FeedbackStreamHub::Shutdown() {
  std::set<std::shared_ptr<Subscription>> subs;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    subs = subscriptions_;
  }
  for (const auto& sub : subs) {
    absl::MutexLock lock(&sub->mu);
    sub->RequestFinish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down; resume from your last cursor"));
  }
  if (reader_.joinable()) reader_.join();
}

void FeedbackStreamHub::Run() {
  NameThisThread("fd-feedback");
  for (;;) {
    std::set<std::shared_ptr<Subscription>> batch;
    {
      absl::MutexLock lock(&mu_);
      const absl::Condition woken(
          +[](FeedbackStreamHub* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->stopping_ || self->notify_all_ || !self->to_fetch_.empty();
          },
          this);
      // A poll that times out looks again for every stream, as a Notify would.
      if (!mu_.AwaitWithTimeout(woken, poll_)) notify_all_ = true;
      if (stopping_) return;
      if (notify_all_) {
        notify_all_ = false;
        to_fetch_.insert(subscriptions_.begin(), subscriptions_.end());
      }
      batch.swap(to_fetch_);
    }
    for (const auto& sub : batch) Fetch(sub);
  }
}

void FeedbackStreamHub::Fetch(const std::shared_ptr<Subscription>& sub) {
  int64_t after;
  {
    absl::MutexLock lock(&sub->mu);
    // Busy writing what it has: it asks again when drained (RequestFetch), nothing is missed.
    if (sub->reactor == nullptr || sub->finishing || !sub->queue.empty()) return;
    after = sub->last_seq;
  }
  absl::StatusOr<std::vector<StoredFeedback>> page = store_->FeedbackAfter(sub->sender_ods, after, page_size_);
  if (!page.ok()) {
    observability::Log(observability::LogLevel::kError, "feedback_stream", "cannot read feedback",
                       {{"error", std::string(page.status().message())}});
    absl::MutexLock lock(&sub->mu);
    sub->RequestFinish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "feedback could not be read; resume from your last cursor"));
    return;
  }
  if (page->empty()) return;
  std::vector<v1::FeedbackEvent> events;
  std::vector<int64_t> seqs;
  events.reserve(page->size());
  std::function<void(absl::Duration)> observe;
  {
    absl::MutexLock lock(&mu_);
    observe = lag_observer_;
  }
  const absl::Time now = clock_->Now();
  for (const StoredFeedback& f : *page) {
    events.push_back(FeedbackEventFor(f));
    seqs.push_back(f.seq);
    if (observe && f.recorded_at >= sub->opened_at) observe(now - f.recorded_at);
  }
  sub->Deliver(std::move(events), seqs);
}

}  // namespace frontdoor::gateway
