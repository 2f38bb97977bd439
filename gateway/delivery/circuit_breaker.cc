#include "gateway/delivery/circuit_breaker.h"

#include <algorithm>

namespace frontdoor::gateway {

bool CircuitBreaker::AllowCall(absl::Time now) {
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now < open_until_) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  state_ = State::kClosed;
  failures_ = 0;
  openings_ = 0;
  probe_in_flight_ = false;
  open_until_ = absl::InfinitePast();
}

void CircuitBreaker::RecordFailure(absl::Time now) {
  probe_in_flight_ = false;
  if (state_ == State::kHalfOpen || state_ == State::kOpen) {
    Open(now);
    return;
  }
  if (++failures_ >= std::max(1, policy_.failure_threshold)) Open(now);
}

void CircuitBreaker::EndPause(absl::Time now) {
  if (state_ == State::kOpen) open_until_ = std::min(open_until_, now);
}

void CircuitBreaker::Open(absl::Time now) {
  absl::Duration open_for = policy_.open_for;
  for (int i = 0; i < openings_ && open_for < policy_.max_open; ++i) open_for *= 2;
  open_for = std::min(open_for, policy_.max_open);
  ++openings_;
  state_ = State::kOpen;
  failures_ = 0;
  open_until_ = now + open_for;
}

CircuitBreaker::State CircuitBreaker::state(absl::Time now) const {
  if (state_ == State::kOpen && now >= open_until_) return State::kHalfOpen;
  return state_;
}

const char* CircuitBreakerStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "unknown";
}

}  // namespace frontdoor::gateway
