// StoreWorkQueue: the one way store work that may wait on the disk or the database (a commit's
// fsync, a scan of the audit log) leaves a transport's threads (gRPC reactors, the HTTP and MLLP
// event loop). A fixed pool of threads takes jobs in the order posted; the queue is bounded, so a
// burst of slow requests cannot grow it without limit; shutdown runs every job already posted,
// then joins the threads. No thread is ever detached.
//
//   StoreWorkQueue work(/*threads=*/4, /*max_queued=*/256);
//   work.Post([reactor, store](absl::Status ready) {
//     if (!ready.ok()) return reactor->Finish(ToGrpcStatus(ready));   // shutting down, or full
//     absl::Status s = store->...;                                   // on a pool thread
//     reactor->Finish(ToGrpcStatus(s));
//   });
//
// Thread-safety: Post and Shutdown may be called from any thread. A job runs exactly once: on a
// pool thread with OK, or at once on the posting thread with UNAVAILABLE (after Shutdown) or
// RESOURCE_EXHAUSTED (max_queued jobs already waiting). Jobs must not block on anything but the
// store, and must not Post and wait for another job.
#ifndef FRONTDOOR_GATEWAY_STORE_STORE_WORK_QUEUE_H_
#define FRONTDOOR_GATEWAY_STORE_STORE_WORK_QUEUE_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace frontdoor::gateway {

class StoreWorkQueue {
 public:
  using Job = std::function<void(absl::Status ready)>;

  static constexpr size_t kDefaultThreads = 4;
  static constexpr size_t kDefaultMaxQueued = 1024;

  explicit StoreWorkQueue(size_t threads = kDefaultThreads, size_t max_queued = kDefaultMaxQueued);
  ~StoreWorkQueue();  // Calls Shutdown.
  StoreWorkQueue(const StoreWorkQueue&) = delete;
  StoreWorkQueue& operator=(const StoreWorkQueue&) = delete;

  void Post(Job job);
  // Runs every job already posted, then joins the threads. Idempotent.
  void Shutdown();

 private:
  void Run();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_STORE_WORK_QUEUE_H_
