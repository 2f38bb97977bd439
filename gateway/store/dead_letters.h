// DeadLetters: the outbox rows that failed past their limits, for operators to see and send again
// (AdminService). A replayed row is pending again with a fresh budget of attempts and age.
//
//   std::vector<DeadLetterRow> rows = *dead->ListDeadLetters({.endpoint_id = "mind-oldham"}, 100);
//   int replayed = *dead->ReplayDeadLetters({.endpoint_id = "mind-oldham"}, now);
//
// Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_DEAD_LETTERS_H_
#define FRONTDOOR_GATEWAY_STORE_DEAD_LETTERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/store/delivery_outbox.h"

namespace frontdoor::gateway {

// Which dead letters: every non-empty filter must match (all empty: every dead letter).
struct DeadLetterFilter {
  std::vector<int64_t> outbox_ids;
  std::string referral_id;
  std::string endpoint_id;
};

struct DeadLetterRow {
  int64_t outbox_id = 0;
  OutboxKind kind = OutboxKind::kDeliver;
  std::string referral_id;
  std::string endpoint_id;
  uint32_t attempts = 0;
  std::string last_error;
  absl::Time created_at;
  absl::Time dead_at;
};

class DeadLetters {
 public:
  virtual ~DeadLetters() = default;

  // Dead letters matching `filter`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<DeadLetterRow>> ListDeadLetters(const DeadLetterFilter& filter, int limit) = 0;
  // Makes dead letters matching `filter` pending again, due at `now`, with a fresh budget of
  // attempts and age. Returns how many.
  virtual absl::StatusOr<int> ReplayDeadLetters(const DeadLetterFilter& filter, absl::Time now) = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_DEAD_LETTERS_H_
