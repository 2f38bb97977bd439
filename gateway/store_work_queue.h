// StoreWorkQueue: runs store work that may wait on the disk (a commit's fsync) off the gRPC reactor
// threads: one worker thread, jobs run one at a time in the order posted. Services post the work
// and finish their reactor from the job.
//
//   StoreWorkQueue queue;
//   queue.Post([reactor, store](bool run) {
//     if (!run) return reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
//     absl::Status s = store->...;           // on the worker thread
//     reactor->Finish(ToGrpcStatus(s));
//   });
//
// Thread-safety: Post and Shutdown may be called from any thread. Jobs must not block on anything
// but the store. After Shutdown (which first runs every job already posted), Post calls the job at
// once, on the caller's thread, with run = false.
#ifndef FRONTDOOR_GATEWAY_STORE_WORK_QUEUE_H_
#define FRONTDOOR_GATEWAY_STORE_WORK_QUEUE_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace frontdoor::gateway {

class StoreWorkQueue {
 public:
  using Job = std::function<void(bool run)>;

  StoreWorkQueue();
  ~StoreWorkQueue();  // Calls Shutdown.
  StoreWorkQueue(const StoreWorkQueue&) = delete;
  StoreWorkQueue& operator=(const StoreWorkQueue&) = delete;

  void Post(Job job);
  void Shutdown();

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_WORK_QUEUE_H_
