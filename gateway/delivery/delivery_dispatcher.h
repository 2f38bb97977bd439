// DeliveryDispatcher: the background delivery of the outbox. One worker per endpoint sends each
// pending row through that endpoint's transport (gateway/delivery/endpoint_transport.h: a
// connector organisation's ConnectorService, each call with a deadline), marks it delivered on
// success, and on failure records the attempt and backs the row off (exponential, with jitter).
// Rows survive restarts: a new dispatcher picks up whatever is pending.
//
// Each endpoint has a circuit breaker (gateway/delivery/circuit_breaker.h): consecutive endpoint
// failures open it and the worker stops calling that endpoint, letting one probe through when the
// open time is up (after the transport resets any reconnect backoff of its own, so the probe
// really tries). One dead endpoint therefore costs only its own worker; the others never wait.
// A row that reaches DeliveryPolicy::dead_letter (attempts, or age while its endpoint keeps
// failing) becomes a dead letter: kept, shown as DELIVERY_FAILED, sent again only when an operator
// replays it (AdminService, then Replayed: an open breaker probes at once). Per referral the order holds: a row never
// goes out while an earlier row of its referral is pending or dead (DeliveryOutbox::DueDeliveries).
//
//   DeliveryDispatcher dispatcher(store, &clock, DeliveryPolicy{},
//                                 ConnectorTransports({{"ageuk-oldham", grpc::CreateChannel(...)}}));
//   dispatcher.Start();
//   ... dispatcher.Wake();   // after new rows are committed
//   dispatcher.Shutdown();
//
// Thread-safety: Wake, Replayed and Shutdown may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_DELIVERY_DELIVERY_DISPATCHER_H_
#define FRONTDOOR_GATEWAY_DELIVERY_DELIVERY_DISPATCHER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/delivery/circuit_breaker.h"
#include "gateway/delivery/connector_transport.h"
#include "gateway/delivery/endpoint_transport.h"
#include "gateway/store/delivery_outbox.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

struct DeliveryPolicy {
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(60);
  absl::Duration attempt_deadline = absl::Seconds(5);
  int batch_size = 32;
  // Longest sleep with nothing due, as a safety net should a wake-up be missed.
  absl::Duration idle_poll = absl::Seconds(2);
  // An idle endpoint woken by a commit waits this long (real time) before reading the outbox, so
  // that referrals committed meanwhile go out in the same batch and are marked delivered in one
  // transaction instead of one each: fewer transactions competing with the commits that answer
  // referrers. Zero: read at once. 25 ms rather than 5: at 1,000 referrals/s a batch of about 25
  // instead of 5 took the gateway's CPU per referral from about 795 to 694 us and the connector
  // simulator's from 107 to 66 (docs/PERFORMANCE.md); a referral reaches its connector team 20 ms
  // later, which no link worker will notice.
  absl::Duration gather = absl::Milliseconds(25);
  // When a failing row becomes a dead letter (DeliveryConfig.dead_letter_after_*).
  DeadLetterLimits dead_letter{/*max_attempts=*/0, /*max_age=*/absl::Hours(72)};
  // Per endpoint (DeliveryConfig.breaker_*).
  CircuitBreakerPolicy breaker;
};

// The delay before the next attempt after `failures` consecutive failures (1 = the first failure):
// initial_backoff * 2^(failures-1), capped at max_backoff, scaled by `jitter` in [0.5, 1.0] so that
// retries from many gateways do not arrive together. Pure.
absl::Duration BackoffAfterFailures(uint32_t failures, const DeliveryPolicy& policy, double jitter);

// What one endpoint's worker last saw, for operators (the console's deliveries page): since this
// gateway started, so with several replicas each tells its own.
struct EndpointActivity {
  std::string endpoint_id;
  CircuitBreaker::State breaker = CircuitBreaker::State::kClosed;
  absl::Time breaker_retry_at = absl::InfinitePast();  // when an open breaker probes next
  std::optional<absl::Time> last_success;
  std::optional<absl::Time> last_failure;
  std::string last_error;  // the transport's words for the last failure (never patient data)
};

class DeliveryDispatcher {
 public:
  // `store` and `clock` must outlive this object. `transports` maps endpoint_id to the way that
  // endpoint is reached; each gets a worker.
  DeliveryDispatcher(DeliveryOutbox* store, const Clock* clock, DeliveryPolicy policy, TransportMap transports);
  ~DeliveryDispatcher();  // Calls Shutdown.

  // Counts attempts, latency and dead letters there (docs/METRICS.md). Call before Start; `metrics`
  // must outlive the dispatcher. Optional.
  void SetMetrics(observability::GatewayMetrics* metrics);
  // Told when the store stops taking writes (a full disk, a read-only or damaged file) and when it
  // takes them again: false, then true. Call before Start. Optional.
  void SetStoreWritableObserver(std::function<void(bool writable)> observer);
  void Start();
  // New rows were committed: look again now rather than at the next poll. Wake(endpoint_id) wakes
  // only that endpoint's worker (every worker when the id is not one of them).
  void Wake();
  void Wake(const std::string& endpoint_id);
  // An operator replayed dead letters (the connector is back, they say): every worker looks again,
  // and a breaker that is open probes now instead of at the end of its pause.
  void Replayed();
  // Stops the workers; an attempt in flight ends within its deadline.
  void Shutdown();

  // Every endpoint's activity, in endpoint_id order.
  std::vector<EndpointActivity> Activity() const;

  // Rows delivered since Start (for logs and tests).
  int64_t delivered_count() const;
  // Rows dead-lettered since Start (for logs and tests).
  int64_t dead_lettered_count() const;

 private:
  struct Endpoint {
    std::string endpoint_id;
    std::unique_ptr<EndpointTransport> transport;  // used by `worker` only
    std::unique_ptr<CircuitBreaker> breaker;       // used by `worker` only
    std::thread worker;
    uint64_t generation = 0;  // guarded by the dispatcher's mu_: bumped by Wake
    bool probe_now = false;   // guarded by the dispatcher's mu_: set by Replayed, taken by `worker`
    // Acknowledged by the endpoint but not yet recorded as delivered (the store refused the
    // write): the mark is retried, never the call. Used by `worker` only.
    std::vector<OutboxItem> unmarked;
    uint32_t store_failures = 0;  // consecutive failed store writes; `worker` only
    EndpointActivity activity;    // guarded by the dispatcher's mu_: written by `worker` after each send
  };
  // The store could not record what the worker learned: counts it (a log line for the first and
  // then at most one a minute, with how many), says the store is not writable, and returns how
  // long the worker pauses before it writes again (the backoff: no calls meanwhile).
  absl::Duration StoreWriteFailed(Endpoint& endpoint, const absl::Status& error, double jitter);
  // A store write succeeded after failures: says so once.
  void StoreWritable(Endpoint& endpoint);
  // The worker of one endpoint: the loop below, and its steps.
  void RunEndpoint(Endpoint* endpoint);
  // Makes what the last sends taught visible to Activity.
  void Publish(Endpoint& endpoint, const std::vector<std::pair<const OutboxItem*, SendOutcome>>& sent);
  // The breaker is open: rows that waited past the age limit become dead letters.
  void DeadLetterExpired(const Endpoint& endpoint, absl::Time now);
  // Sends what the breaker allows of `due`; returns the rows sent with their outcomes, in order.
  std::vector<std::pair<const OutboxItem*, SendOutcome>> SendAllowed(Endpoint& endpoint,
                                                                     const std::vector<OutboxItem>& due);
  // A row that was not delivered: backed off, or a dead letter; logged and counted. The store's
  // error when it could not be recorded.
  absl::Status RecordFailure(Endpoint& endpoint, const OutboxItem& row, const SendOutcome& outcome, double jitter);
  // Rows the endpoint acknowledged, marked delivered together in one transaction. On a store error
  // they are kept in endpoint.unmarked, to be marked (not sent) again.
  absl::Status MarkAcknowledged(Endpoint& endpoint, const std::vector<const OutboxItem*>& rows);
  // Marks what endpoint.unmarked holds (OK when it holds nothing).
  absl::Status MarkUnmarked(Endpoint& endpoint);
  // Sleeps until `deadline`, Shutdown or Replayed, and also until a Wake of `endpoint` after
  // `seen_generation` when one is given. Returns false when shutting down.
  bool SleepUntil(const Endpoint* endpoint, absl::Time deadline, std::optional<uint64_t> seen_generation);
  uint64_t GenerationOf(const Endpoint* endpoint) const;

  DeliveryOutbox* const store_;
  const Clock* const clock_;
  const DeliveryPolicy policy_;
  observability::GatewayMetrics* metrics_ = nullptr;   // set before Start; read by the workers
  std::function<void(bool)> store_writable_observer_;  // set before Start
  // Whether the last store write of any worker succeeded; the time of the last log line about a
  // failing store and how many failures since.
  bool store_writable_ ABSL_GUARDED_BY(mu_) = true;
  absl::Time store_failure_logged_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t store_failures_unlogged_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dead_lettered_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_DELIVERY_DELIVERY_DISPATCHER_H_
