// FeedbackStreamHub: serves ReferralService.WatchFeedback. Each stream is a self-owning
// ServerWriteReactor (deleted in OnDone) for one referring organisation, starting after a cursor.
// Reactor threads never touch the store: one hub thread reads the next page of events for a
// stream when it has drained what it had (so a slow client holds back only itself, at most one
// page in memory), or when new feedback is committed (Notify, from the commit path).
//
//   FeedbackStreamHub hub(store, &clock);
//   ... in ReferralService.WatchFeedback, after the Authorizer said yes:
//   return hub.Watch(caller.identity, after_seq);
//   ... after FeedbackService recorded an event:
//   hub.Notify();
//   ... at shutdown, before the gRPC server:
//   hub.Shutdown();   // ends every stream with UNAVAILABLE; clients resume from their last cursor
//
// Order and exactly-once across reconnects: events are read by (sender_ods, seq > last) and seq
// grows in commit order (one writer), so a stream never skips an event that a later read could
// show, and a stream resumed after its last delivered cursor repeats nothing.
// Thread-safety: every method may be called from any thread. `store` must outlive the hub, and
// the hub must outlive the gRPC server that runs its reactors.
#ifndef FRONTDOOR_GATEWAY_SERVICES_FEEDBACK_STREAM_H_
#define FRONTDOOR_GATEWAY_SERVICES_FEEDBACK_STREAM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "gateway/store/feedback_log.h"
#include "grpcpp/support/server_callback.h"

namespace frontdoor::gateway {

class FeedbackStreamHub {
 public:
  // `page_size`: events read per store query and held per stream at most. `poll`: every stream also
  // looks again this often, for feedback that other gateway replicas commit to a shared database
  // (no Notify reaches this process for it); infinite: only on Notify.
  // `clock` times each stream's opening and each event's lag.
  FeedbackStreamHub(FeedbackLog* store, const Clock* clock, int page_size = 64,
                    absl::Duration poll = absl::InfiniteDuration());
  ~FeedbackStreamHub();  // Calls Shutdown.

  // A stream of every feedback event on `sender_ods`'s referrals with seq > `after_seq`, then of
  // each new one as it is committed. The reactor owns itself.
  grpc::ServerWriteReactor<frontdoor::v1::FeedbackEvent>* Watch(std::string sender_ods, int64_t after_seq);
  // A stream that ends at once with `status` (refused before it started).
  static grpc::ServerWriteReactor<frontdoor::v1::FeedbackEvent>* Refuse(grpc::Status status);

  // New feedback was committed: every stream looks again.
  void Notify();
  // Called on the hub's reader thread with (now - recorded_at) for each event recorded while its
  // stream was open, as it is queued for writing (the feedback lag metric). Set before serving.
  void SetLagObserver(std::function<void(absl::Duration)> observer);
  // Ends every stream with UNAVAILABLE and stops the reader; later Watch calls end at once.
  void Shutdown();

  struct Subscription;  // one stream's shared state (defined in the .cc)

 private:
  friend class WatchFeedbackReactor;
  void Add(const std::shared_ptr<Subscription>& sub);
  void Remove(const std::shared_ptr<Subscription>& sub);
  void RequestFetch(const std::shared_ptr<Subscription>& sub);
  void Run();
  void Fetch(const std::shared_ptr<Subscription>& sub);

  FeedbackLog* const store_;
  const Clock* const clock_;
  const int page_size_;
  absl::Mutex mu_;
  std::set<std::shared_ptr<Subscription>> subscriptions_ ABSL_GUARDED_BY(mu_);
  std::set<std::shared_ptr<Subscription>> to_fetch_ ABSL_GUARDED_BY(mu_);
  bool notify_all_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(absl::Duration)> lag_observer_ ABSL_GUARDED_BY(mu_);
  const absl::Duration poll_;
  std::thread reader_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_FEEDBACK_STREAM_H_
