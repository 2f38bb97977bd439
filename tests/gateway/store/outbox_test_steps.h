// Steps on the outbox that store tests take directly, where the gateway takes them in another
// way: an acknowledgement of a row known only by its id, a failed attempt with no dead-letter
// limits, and a cease row queued behind a delivery still pending (as it stands when the delivery
// is in flight at the moment of a withdrawal).
//
//   ASSERT_TRUE(MarkOneDelivered(store.get(), outbox_id, now).ok());
//   ASSERT_TRUE(QueueCeaseBehind(db, "r1", "ageuk-oldham", now).ok());
#ifndef FRONTDOOR_TESTS_GATEWAY_STORE_OUTBOX_TEST_STEPS_H_
#define FRONTDOOR_TESTS_GATEWAY_STORE_OUTBOX_TEST_STEPS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gateway/store/delivery_outbox.h"
#include "tests/support/store_backends.h"

namespace frontdoor::gateway::testing {

// DeliveryOutbox::MarkDeliveredMany for one row by its id (its audit context read in the
// transaction).
absl::Status MarkOneDelivered(DeliveryOutbox* outbox, int64_t outbox_id, absl::Time at);

// DeliveryOutbox::RecordFailedAttemptOrDeadLetter with no limits: the row stays pending.
absl::Status RecordFailedAttempt(DeliveryOutbox* outbox, int64_t outbox_id, absl::Time next_attempt_at,
                                 std::string_view error);

// Inserts a pending CeaseProcessing row (idempotency key "cease:<referral_id>") for `referral_id`
// to `endpoint_id`, due at `at`, straight into `db`'s outbox (or the SQLite file at `sqlite_path`).
absl::Status QueueCeaseBehind(const frontdoor::testing::TestDatabase& db, const std::string& referral_id,
                              const std::string& endpoint_id, absl::Time at);
absl::Status QueueCeaseBehind(const std::string& sqlite_path, const std::string& referral_id,
                              const std::string& endpoint_id, absl::Time at);

}  // namespace frontdoor::gateway::testing

#endif  // FRONTDOOR_TESTS_GATEWAY_STORE_OUTBOX_TEST_STEPS_H_
