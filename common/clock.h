// Clock: where the gateway reads the time, so tests can set it. Production uses SystemClock.
//
//   SystemClock clock;
//   absl::Time now = clock.Now();
//
// Thread-safety: implementations must be safe to call from any thread.
#ifndef FRONTDOOR_COMMON_CLOCK_H_
#define FRONTDOOR_COMMON_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace frontdoor {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that only moves when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_CLOCK_H_
