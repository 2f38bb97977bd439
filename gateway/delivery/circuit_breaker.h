// CircuitBreaker: one per connector endpoint, so the gateway stops calling a connector that is
// down and lets a single probe through now and then to find out when it is back.
//
//   closed ──(threshold consecutive failures)──> open ──(open time passed)──> half-open
//   half-open ──(probe succeeds)──> closed;   half-open ──(probe fails)──> open, for twice as long
//
//   CircuitBreaker breaker(CircuitBreakerPolicy{.failure_threshold = 5});
//   if (breaker.AllowCall(clock.Now())) {
//     grpc::Status s = stub->DeliverReferral(...);
//     s.ok() ? breaker.RecordSuccess() : breaker.RecordFailure(clock.Now());
//   } else {
//     sleep until breaker.retry_at();
//   }
//
// Pure state on an injected time: no threads, no clock of its own. Thread-compatible, not
// thread-safe: the delivery dispatcher uses each breaker from its endpoint's one worker thread.
#ifndef FRONTDOOR_GATEWAY_DELIVERY_CIRCUIT_BREAKER_H_
#define FRONTDOOR_GATEWAY_DELIVERY_CIRCUIT_BREAKER_H_

#include <cstdint>

#include "absl/time/time.h"

namespace frontdoor::gateway {

struct CircuitBreakerPolicy {
  // Consecutive failures that open a closed breaker.
  int failure_threshold = 5;
  // How long the first opening lasts; each failed probe doubles it, up to max_open.
  absl::Duration open_for = absl::Milliseconds(500);
  absl::Duration max_open = absl::Seconds(60);
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  explicit CircuitBreaker(CircuitBreakerPolicy policy) : policy_(policy) {}

  // Whether a call may be made at `now`. An open breaker whose time is up becomes half-open and
  // lets exactly one call through; further calls wait for that probe's result.
  bool AllowCall(absl::Time now);
  // The call succeeded: the breaker closes and forgets the failures.
  void RecordSuccess();
  // The call failed at `now` (a transport failure, the connector's fault or unreachable).
  void RecordFailure(absl::Time now);
  // Ends an open breaker's pause at `now` (an operator says the connector is back): the next
  // AllowCall lets the probe through. A failed probe opens it again for twice as long, as ever.
  void EndPause(absl::Time now);

  // The state at `now` (an open breaker whose time is up reads as half-open).
  State state(absl::Time now) const;
  // When an open breaker lets its next probe through; InfinitePast when not open.
  absl::Time retry_at() const { return state_ == State::kOpen ? open_until_ : absl::InfinitePast(); }
  // How many times in a row the breaker has opened without a success in between.
  int consecutive_openings() const { return openings_; }

 private:
  void Open(absl::Time now);

  const CircuitBreakerPolicy policy_;
  State state_ = State::kClosed;
  int failures_ = 0;  // consecutive, while closed
  int openings_ = 0;  // consecutive openings (sets the open time)
  bool probe_in_flight_ = false;
  absl::Time open_until_ = absl::InfinitePast();
};

const char* CircuitBreakerStateName(CircuitBreaker::State state);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_DELIVERY_CIRCUIT_BREAKER_H_
