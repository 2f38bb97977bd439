#include "gateway/store/store_work_queue.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/threads.h"

namespace frontdoor::gateway {

StoreWorkQueue::StoreWorkQueue(size_t threads, size_t max_queued) : max_queued_(std::max<size_t>(1, max_queued)) {
  threads = std::max<size_t>(1, threads);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Run(); });
}

StoreWorkQueue::~StoreWorkQueue() { Shutdown(); }

void StoreWorkQueue::Post(Job job) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refused = absl::UnavailableError("the gateway is shutting down; try again");
    } else if (jobs_.size() >= max_queued_) {
      refused = absl::ResourceExhaustedError(
          absl::StrCat("the gateway already has ", max_queued_, " store requests waiting; try again shortly"));
    } else {
      jobs_.push_back(std::move(job));
      return;
    }
  }
  job(std::move(refused));
}

void StoreWorkQueue::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) {
    if (worker.joinable() && worker.get_id() != std::this_thread::get_id()) worker.join();
  }
}

void StoreWorkQueue::Run() {
  NameThisThread("fd-store-work");
  for (;;) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](StoreWorkQueue* self) ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->stopping_ || !self->jobs_.empty(); },
          this));
      if (jobs_.empty()) return;  // stopping, and everything posted has run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job(absl::OkStatus());
  }
}

}  // namespace frontdoor::gateway
