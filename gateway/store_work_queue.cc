#include "gateway/store_work_queue.h"

#include <utility>

#include "common/threads.h"

namespace frontdoor::gateway {

StoreWorkQueue::StoreWorkQueue() {
  worker_ = std::thread([this] { Run(); });
}

StoreWorkQueue::~StoreWorkQueue() { Shutdown(); }

void StoreWorkQueue::Post(Job job) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      jobs_.push_back(std::move(job));
      return;
    }
  }
  job(false);
}

void StoreWorkQueue::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (worker_.joinable() && worker_.get_id() != std::this_thread::get_id()) worker_.join();
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
    job(true);
  }
}

}  // namespace frontdoor::gateway
