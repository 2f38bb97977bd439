// Dead letters in the store (both backends): when a failing row becomes one, what a dead row holds
// back, and replay with a fresh budget.
#include "gtest/gtest.h"
#include "tests/gateway/store/outbox_test_steps.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

const absl::Time kT0 = absl::FromUnixSeconds(1738577700);

class DeadLetterStoreTest : public ::testing::TestWithParam<frontdoor::testing::StoreBackend> {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(GetParam());
    db_ = std::make_unique<frontdoor::testing::TestDatabase>(GetParam());
    store_ = db_->Open();
    ASSERT_TRUE(store_);
  }

  void Record(const std::string& id, const std::string& endpoint_id, absl::Time at = kT0) {
    NewReferral r;
    r.referral_id = id;
    r.sender_ods = "P85901";
    r.message_id = "m-" + id;
    r.format = "typed";
    r.received_at = at;
    r.decision.set_referral_id(id);
    r.decision.set_disposition(v1::ACCEPTED);
    r.decision.set_endpoint_id(endpoint_id);
    r.delivery = NewDelivery{endpoint_id, {}};
    r.delivery->request.set_idempotency_key("deliver:" + id);
    r.delivery->request.mutable_referral()->set_referral_id(id);
    std::vector<NewReferral> batch;
    batch.push_back(std::move(r));
    ASSERT_TRUE(store_->RecordReferrals(std::move(batch)).ok());
  }

  int64_t DueId(const std::string& endpoint_id, absl::Time now) {
    auto due = store_->DueDeliveries(endpoint_id, now, 10);
    return due.ok() && !due->empty() ? due->front().outbox_id : -1;
  }

  std::unique_ptr<frontdoor::testing::TestDatabase> db_;
  frontdoor::testing::OpenedStore store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DeadLetterStoreTest, frontdoor::testing::AllStoreBackends(),
                         frontdoor::testing::StoreBackendName);

TEST_P(DeadLetterStoreTest, ARowBecomesADeadLetterAtTheAttemptLimit) {
  Record("r1", "mind-oldham");
  const int64_t id = DueId("mind-oldham", kT0);
  const DeadLetterLimits limits{3, absl::ZeroDuration()};
  EXPECT_FALSE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "14 unavailable", limits, kT0));
  EXPECT_FALSE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "14 unavailable", limits, kT0));
  EXPECT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "14 unavailable", limits, kT0));
  EXPECT_EQ(DueId("mind-oldham", kT0 + absl::Hours(1)), -1) << "a dead letter is never due";
  auto referral = *store_->GetReferral("r1");
  EXPECT_EQ(referral->delivery_state, v1::DELIVERY_FAILED);
  EXPECT_EQ(referral->delivery_attempts, 3u);
  auto dead = *store_->ListDeadLetters({}, 10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].referral_id, "r1");
  EXPECT_EQ(dead[0].endpoint_id, "mind-oldham");
  EXPECT_EQ(dead[0].last_error, "14 unavailable");
  EXPECT_EQ(dead[0].attempts, 3u);
}

TEST_P(DeadLetterStoreTest, WithdrawingADeadLetteredReferralStopsItAndSendsTheCeaseAtOnce) {
  Record("r1", "mind-oldham");
  const int64_t id = DueId("mind-oldham", kT0);
  ASSERT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "14 unavailable", {1, absl::ZeroDuration()}, kT0));
  v1::CeaseProcessingRequest cease;
  cease.set_idempotency_key("cease:r1");
  cease.set_referral_id("r1");
  auto cancelled = store_->CancelReferral("r1", cease, AuditActor{"P85901", "P85901"}, kT0 + absl::Minutes(1));
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  // The cease is not held back behind the dead delivery...
  auto due = *store_->DueDeliveries("mind-oldham", kT0 + absl::Minutes(1), 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, OutboxKind::kCease);
  // ...and a replay of every dead letter cannot send the withdrawn referral.
  EXPECT_EQ(*store_->ReplayDeadLetters({}, kT0 + absl::Minutes(2)), 0);
  EXPECT_TRUE(store_->ListDeadLetters({}, 10)->empty());
  EXPECT_EQ((*store_->GetReferral("r1"))->delivery_state, v1::DELIVERY_CANCELLED);
}

TEST_P(DeadLetterStoreTest, ARowBecomesADeadLetterAtTheAgeLimit) {
  Record("r1", "mind-oldham");
  const int64_t id = DueId("mind-oldham", kT0);
  const DeadLetterLimits limits{0, absl::Minutes(10)};
  EXPECT_FALSE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "e", limits, kT0 + absl::Minutes(9)));
  EXPECT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "e", limits, kT0 + absl::Minutes(10)));
}

TEST_P(DeadLetterStoreTest, ExpiredRowsOfAnUnreachableEndpointAreDeadLetteredTogether) {
  Record("old1", "mind-oldham", kT0);
  Record("old2", "mind-oldham", kT0);
  Record("young", "mind-oldham", kT0 + absl::Minutes(5));
  Record("other", "ageuk-oldham", kT0);
  const DeadLetterLimits limits{0, absl::Minutes(10)};
  EXPECT_EQ(*store_->DeadLetterExpired("mind-oldham", limits, kT0 + absl::Minutes(12)), 2);
  EXPECT_EQ((*store_->GetReferral("young"))->delivery_state, v1::DELIVERY_PENDING);
  EXPECT_EQ((*store_->GetReferral("other"))->delivery_state, v1::DELIVERY_PENDING);
  EXPECT_EQ(store_->ListDeadLetters(DeadLetterFilter{{}, "", "mind-oldham"}, 10)->size(), 2u);
}

TEST_P(DeadLetterStoreTest, ACeaseBehindADeadDeliveryWaitsForIt) {
  Record("r1", "mind-oldham");
  ASSERT_TRUE(testing::QueueCeaseBehind(*db_, "r1", "mind-oldham", kT0).ok());
  const int64_t id = DueId("mind-oldham", kT0);
  ASSERT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "e", DeadLetterLimits{1, {}}, kT0));
  EXPECT_EQ(DueId("mind-oldham", kT0), -1) << "the cease must not overtake its dead delivery";
  ASSERT_EQ(*store_->ReplayDeadLetters(DeadLetterFilter{{}, "r1", ""}, kT0), 1);
  auto due = *store_->DueDeliveries("mind-oldham", kT0, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, OutboxKind::kDeliver);
}

// A feedback event for a referrer that takes its feedback pushed is queued with the event, to the
// referrer's own endpoint; a dead push holds up only that endpoint's rows, not the connector's.
TEST_P(DeadLetterStoreTest, AFeedbackPushIsQueuedWithItsEventAndHoldsUpOnlyItsOwnEndpoint) {
  Record("r1", "mind-oldham");
  const int64_t delivery = DueId("mind-oldham", kT0);
  OutboxItem delivered;
  delivered.outbox_id = delivery;
  std::vector<const OutboxItem*> rows = {&delivered};
  ASSERT_TRUE(store_->MarkDeliveredMany(rows, kT0).ok());
  const StoredReferral referral = **store_->GetReferral("r1");
  for (const char* key : {"k1", "k2"}) {
    NewFeedback feedback;
    feedback.endpoint_id = "mind-oldham";
    feedback.report.set_referral_id("r1");
    feedback.report.set_idempotency_key(key);
    feedback.report.set_status(std::string(key) == "k1" ? v1::PROGRESS_RECEIVED : v1::PROGRESS_CONTACTED);
    feedback.recorded_at = kT0;
    feedback.push_endpoint = "bars:P85901";
    ASSERT_TRUE(store_
                    ->RecordFeedback(
                        feedback, referral,
                        [](const FeedbackContext&) { return absl::StatusOr<std::optional<int64_t>>(std::nullopt); })
                    .ok());
  }
  auto due = *store_->DueDeliveries("bars:P85901", kT0, 10);
  ASSERT_EQ(due.size(), 1u) << "the second event waits behind the first";
  EXPECT_EQ(due[0].kind, OutboxKind::kFeedback);
  auto first = *store_->FeedbackBySeq(std::stoll(due[0].request));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->report.idempotency_key(), "k1");
  EXPECT_EQ(first->referral_id, "r1");

  // The referrer refuses it: dead. The connector's cease for the same referral is not held up.
  ASSERT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(due[0].outbox_id, kT0, "the referrer answered 400",
                                                       DeadLetterLimits{1, {}}, kT0));
  EXPECT_TRUE(store_->DueDeliveries("bars:P85901", kT0, 10)->empty()) << "feedback keeps its order";
  ASSERT_TRUE(testing::QueueCeaseBehind(*db_, "r1", "mind-oldham", kT0).ok());
  auto cease = *store_->DueDeliveries("mind-oldham", kT0, 10);
  ASSERT_EQ(cease.size(), 1u);
  EXPECT_EQ(cease[0].kind, OutboxKind::kCease);
  auto dead = *store_->ListDeadLetters(DeadLetterFilter{{}, "", "bars:P85901"}, 10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].kind, OutboxKind::kFeedback);
}

TEST_P(DeadLetterStoreTest, ReplayMakesRowsDueAgainWithAFreshBudget) {
  Record("r1", "mind-oldham");
  const int64_t id = DueId("mind-oldham", kT0);
  const DeadLetterLimits limits{2, absl::Minutes(10)};
  ASSERT_FALSE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "e", limits, kT0));
  ASSERT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(id, kT0, "e", limits, kT0));
  const absl::Time replay_at = kT0 + absl::Hours(2);
  ASSERT_EQ(*store_->ReplayDeadLetters(DeadLetterFilter{{id}, "", ""}, replay_at), 1);
  EXPECT_EQ(DueId("mind-oldham", replay_at), id);
  EXPECT_TRUE(store_->ListDeadLetters({}, 10)->empty());
  // Two hours old, but replayed just now; one more failure is within the new budget of two.
  EXPECT_FALSE(*store_->RecordFailedAttemptOrDeadLetter(id, replay_at, "e", limits, replay_at));
  EXPECT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(id, replay_at, "e", limits, replay_at));
  EXPECT_EQ((*store_->GetReferral("r1"))->delivery_attempts, 4u) << "attempts count over the row's whole life";
}

TEST_P(DeadLetterStoreTest, ReplayTouchesOnlyTheSelectedDeadRows) {
  Record("a", "mind-oldham");
  Record("b", "ageuk-oldham");
  Record("c", "ageuk-oldham");
  for (const char* endpoint : {"mind-oldham", "ageuk-oldham"}) {
    ASSERT_EQ(*store_->DeadLetterExpired(endpoint, DeadLetterLimits{0, absl::Minutes(1)}, kT0 + absl::Hours(1)),
              endpoint == std::string("mind-oldham") ? 1 : 2);
  }
  EXPECT_EQ(*store_->ReplayDeadLetters(DeadLetterFilter{{}, "", "ageuk-oldham"}, kT0), 2);
  EXPECT_EQ(*store_->ReplayDeadLetters(DeadLetterFilter{{}, "", "ageuk-oldham"}, kT0), 0)
      << "pending rows are left alone";
  EXPECT_EQ(store_->ListDeadLetters({}, 10)->size(), 1u);
  EXPECT_EQ(*store_->ReplayDeadLetters(DeadLetterFilter{}, kT0), 1);
}

TEST_P(DeadLetterStoreTest, OutboxDepthsCountPendingAndDeadRowsPerEndpoint) {
  Record("r1", "mind-oldham");
  Record("r2", "mind-oldham");
  Record("r3", "ageuk-oldham");
  EXPECT_TRUE(testing::MarkOneDelivered(store_.get(), DueId("ageuk-oldham", kT0), kT0).ok());
  const DeadLetterLimits limits{1, absl::ZeroDuration()};
  ASSERT_TRUE(*store_->RecordFailedAttemptOrDeadLetter(DueId("mind-oldham", kT0), kT0, "14 unavailable", limits, kT0));
  auto depths = *store_->OutboxDepths();
  ASSERT_EQ(depths.size(), 1u) << "a delivered endpoint has nothing waiting";
  EXPECT_EQ(depths[0].endpoint_id, "mind-oldham");
  EXPECT_EQ(depths[0].pending, 1);
  EXPECT_EQ(depths[0].dead, 1);
}

}  // namespace
}  // namespace frontdoor::gateway
