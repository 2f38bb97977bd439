#include "gateway/delivery/circuit_breaker.h"

#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

using State = CircuitBreaker::State;

const absl::Time kT0 = absl::FromUnixSeconds(1738577700);

CircuitBreakerPolicy Policy() {
  CircuitBreakerPolicy p;
  p.failure_threshold = 3;
  p.open_for = absl::Seconds(1);
  p.max_open = absl::Seconds(4);
  return p;
}

TEST(CircuitBreakerTest, StaysClosedBelowTheThreshold) {
  CircuitBreaker b(Policy());
  b.RecordFailure(kT0);
  b.RecordFailure(kT0);
  EXPECT_EQ(b.state(kT0), State::kClosed);
  EXPECT_TRUE(b.AllowCall(kT0));
}

TEST(CircuitBreakerTest, ASuccessResetsTheConsecutiveFailures) {
  CircuitBreaker b(Policy());
  b.RecordFailure(kT0);
  b.RecordFailure(kT0);
  b.RecordSuccess();
  b.RecordFailure(kT0);
  b.RecordFailure(kT0);
  EXPECT_EQ(b.state(kT0), State::kClosed);
}

TEST(CircuitBreakerTest, OpensAtTheThresholdAndRefusesCallsWhileOpen) {
  CircuitBreaker b(Policy());
  for (int i = 0; i < 3; ++i) b.RecordFailure(kT0);
  EXPECT_EQ(b.state(kT0), State::kOpen);
  EXPECT_FALSE(b.AllowCall(kT0 + absl::Milliseconds(999)));
  EXPECT_EQ(b.retry_at(), kT0 + absl::Seconds(1));
}

TEST(CircuitBreakerTest, HalfOpenLetsExactlyOneProbeThrough) {
  CircuitBreaker b(Policy());
  for (int i = 0; i < 3; ++i) b.RecordFailure(kT0);
  const absl::Time later = kT0 + absl::Seconds(1);
  EXPECT_EQ(b.state(later), State::kHalfOpen);
  EXPECT_TRUE(b.AllowCall(later));
  EXPECT_FALSE(b.AllowCall(later)) << "a second call waits for the probe's result";
}

TEST(CircuitBreakerTest, ASuccessfulProbeClosesTheBreaker) {
  CircuitBreaker b(Policy());
  for (int i = 0; i < 3; ++i) b.RecordFailure(kT0);
  ASSERT_TRUE(b.AllowCall(kT0 + absl::Seconds(1)));
  b.RecordSuccess();
  EXPECT_EQ(b.state(kT0 + absl::Seconds(1)), State::kClosed);
  EXPECT_TRUE(b.AllowCall(kT0 + absl::Seconds(1)));
  EXPECT_TRUE(b.AllowCall(kT0 + absl::Seconds(1)));
}

TEST(CircuitBreakerTest, AFailedProbeReopensForTwiceAsLongUpToTheCap) {
  CircuitBreaker b(Policy());
  for (int i = 0; i < 3; ++i) b.RecordFailure(kT0);
  absl::Time t = kT0;
  const absl::Duration expected[] = {absl::Seconds(2), absl::Seconds(4), absl::Seconds(4)};
  for (absl::Duration open_for : expected) {
    t = b.retry_at();
    ASSERT_TRUE(b.AllowCall(t));
    b.RecordFailure(t);
    EXPECT_EQ(b.state(t), State::kOpen);
    EXPECT_EQ(b.retry_at() - t, open_for);
  }
}

TEST(CircuitBreakerTest, EndingThePauseLetsTheProbeThroughNowAndAFailedOneStillDoubles) {
  CircuitBreaker b(Policy());
  for (int i = 0; i < 3; ++i) b.RecordFailure(kT0);
  const absl::Time now = kT0 + absl::Milliseconds(100);
  ASSERT_FALSE(b.AllowCall(now));
  b.EndPause(now);
  EXPECT_EQ(b.state(now), State::kHalfOpen);
  EXPECT_TRUE(b.AllowCall(now)) << "the probe goes now, not at the end of the pause";
  EXPECT_FALSE(b.AllowCall(now)) << "still one probe at a time";
  b.RecordFailure(now);
  EXPECT_EQ(b.retry_at() - now, absl::Seconds(2)) << "a failed probe still reopens for twice as long";
}

TEST(CircuitBreakerTest, EndingThePauseOfAClosedBreakerChangesNothing) {
  CircuitBreaker b(Policy());
  b.RecordFailure(kT0);
  b.EndPause(kT0);
  EXPECT_EQ(b.state(kT0), State::kClosed);
  b.RecordFailure(kT0);
  b.RecordFailure(kT0);
  EXPECT_EQ(b.state(kT0), State::kOpen) << "the failures before it still count";
}

TEST(CircuitBreakerTest, AThresholdOfZeroOpensOnTheFirstFailure) {
  CircuitBreakerPolicy p = Policy();
  p.failure_threshold = 0;
  CircuitBreaker b(p);
  b.RecordFailure(kT0);
  EXPECT_EQ(b.state(kT0), State::kOpen);
}

}  // namespace
}  // namespace frontdoor::gateway
