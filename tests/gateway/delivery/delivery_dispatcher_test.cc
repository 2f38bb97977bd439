#include "gateway/delivery/delivery_dispatcher.h"

#include "gateway/store/sqlite/sqlite_store.h"
#include "gtest/gtest.h"
#include "tests/gateway/store/outbox_test_steps.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

TEST(BackoffTest, DoublesFromTheInitialDelayUpToTheCap) {
  DeliveryPolicy p;
  p.initial_backoff = absl::Milliseconds(500);
  p.max_backoff = absl::Seconds(10);
  EXPECT_EQ(BackoffAfterFailures(0, p, 1.0), absl::ZeroDuration());
  EXPECT_EQ(BackoffAfterFailures(1, p, 1.0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffAfterFailures(2, p, 1.0), absl::Seconds(1));
  EXPECT_EQ(BackoffAfterFailures(3, p, 1.0), absl::Seconds(2));
  EXPECT_EQ(BackoffAfterFailures(6, p, 1.0), absl::Seconds(10));
  EXPECT_EQ(BackoffAfterFailures(4000000000u, p, 1.0), absl::Seconds(10)) << "no overflow on huge counts";
}

TEST(BackoffTest, JitterScalesBetweenHalfAndAll) {
  DeliveryPolicy p;
  p.initial_backoff = absl::Seconds(4);
  EXPECT_EQ(BackoffAfterFailures(1, p, 0.5), absl::Seconds(2));
  EXPECT_EQ(BackoffAfterFailures(1, p, 0.0), absl::Seconds(2)) << "jitter is clamped to [0.5, 1]";
  EXPECT_EQ(BackoffAfterFailures(1, p, 7.0), absl::Seconds(4));
}

class DeliveryDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = *SqliteStore::Open(dir_.path() + "/db"); }

  void Record(const std::string& id, const std::string& endpoint_id) {
    NewReferral r;
    r.referral_id = id;
    r.sender_ods = "P85901";
    r.message_id = "m-" + id;
    r.format = "typed";
    r.received_at = absl::FromUnixSeconds(1738577700);
    r.decision.set_disposition(v1::ACCEPTED);
    r.delivery = NewDelivery{endpoint_id, {}};
    r.delivery->request.set_idempotency_key("deliver:" + id);
    r.delivery->request.mutable_referral()->set_referral_id(id);
    std::vector<NewReferral> batch;
    batch.push_back(std::move(r));
    ASSERT_TRUE(store_->RecordReferrals(std::move(batch)).ok());
  }

  TransportMap Stubs(const std::map<std::string, std::string>& addresses) {
    ChannelMap channels;
    for (const auto& [endpoint, address] : addresses) {
      channels[endpoint] = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    }
    return ConnectorTransports(channels);
  }

  frontdoor::testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(DeliveryDispatcherTest, DeliversPendingRowsAndMarksThemDelivered) {
  frontdoor::testing::RecordingConnector connector;
  for (int i = 0; i < 5; ++i) Record("r" + std::to_string(i), "ageuk-oldham");
  SystemClock clock;
  DeliveryDispatcher dispatcher(store_.get(), &clock, DeliveryPolicy{}, Stubs({{"ageuk-oldham", connector.address()}}));
  dispatcher.Start();
  ASSERT_EQ(connector.WaitForDistinct(5, absl::Seconds(20)), 5);
  dispatcher.Shutdown();
  for (int i = 0; i < 5; ++i) {
    auto got = store_->GetReferral("r" + std::to_string(i));
    EXPECT_EQ((*got)->delivery_state, v1::DELIVERED);
  }
  for (const auto& [key, calls] : connector.calls_per_key()) EXPECT_EQ(calls, 1) << key;
}

TEST_F(DeliveryDispatcherTest, FailedAttemptIsRetriedAfterTheBackoffWithTheSameIdempotencyKey) {
  frontdoor::testing::RecordingConnector connector;
  connector.FailNext(1);
  Record("r1", "ageuk-oldham");
  ManualClock clock(absl::FromUnixSeconds(1738577700));
  DeliveryPolicy policy;
  policy.initial_backoff = absl::Seconds(30);
  policy.idle_poll = absl::Milliseconds(20);
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy, Stubs({{"ageuk-oldham", connector.address()}}));
  dispatcher.Start();
  // The first attempt fails and is recorded; nothing is due again until the clock passes the backoff.
  for (int i = 0; i < 1000 && (*store_->GetReferral("r1"))->delivery_attempts == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ((*store_->GetReferral("r1"))->delivery_attempts, 1u);
  ASSERT_EQ(connector.failed_calls(), 1);
  EXPECT_EQ(connector.received().size(), 0u);
  clock.Advance(absl::Seconds(31));
  ASSERT_EQ(connector.WaitForDistinct(1, absl::Seconds(20)), 1);
  dispatcher.Shutdown();
  EXPECT_EQ(connector.received()[0].idempotency_key(), "deliver:r1");
  auto got = store_->GetReferral("r1");
  EXPECT_EQ((*got)->delivery_state, v1::DELIVERED);
  EXPECT_EQ((*got)->delivery_attempts, 2u);
}

TEST_F(DeliveryDispatcherTest, CeaseProcessingIsSentAfterItsDeliveryEvenWhenTheDeliveryIsRetried) {
  frontdoor::testing::RecordingConnector connector;
  connector.FailNext(2);  // the delivery fails twice before it gets through
  Record("r1", "ageuk-oldham");
  ASSERT_TRUE(
      testing::QueueCeaseBehind(dir_.path() + "/db", "r1", "ageuk-oldham", absl::FromUnixSeconds(1738577700)).ok());
  SystemClock clock;
  DeliveryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(20);
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy, Stubs({{"ageuk-oldham", connector.address()}}));
  dispatcher.Start();
  ASSERT_EQ(connector.WaitForDistinct(2, absl::Seconds(20)), 2);
  dispatcher.Shutdown();
  EXPECT_EQ(connector.events(), (std::vector<std::string>{"deliver:r1", "cease:r1"}));
}

TEST_F(DeliveryDispatcherTest, ADeadConnectorDoesNotHoldUpTheOthers) {
  frontdoor::testing::RecordingConnector alive;
  // Nothing listens on the dead endpoint's address: connection refused on every attempt.
  std::string dead_address;
  {
    frontdoor::testing::RecordingConnector gone;
    dead_address = gone.address();
  }
  for (int i = 0; i < 3; ++i) Record("dead" + std::to_string(i), "mind-oldham");
  for (int i = 0; i < 3; ++i) Record("live" + std::to_string(i), "ageuk-oldham");
  SystemClock clock;
  DeliveryPolicy policy;
  policy.dead_letter = DeadLetterLimits{};  // no dead letters here: the rows are kept to retry
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy,
                                Stubs({{"ageuk-oldham", alive.address()}, {"mind-oldham", dead_address}}));
  dispatcher.Start();
  EXPECT_EQ(alive.WaitForDistinct(3, absl::Seconds(10)), 3);
  dispatcher.Shutdown();
  EXPECT_EQ((*store_->GetReferral("dead0"))->delivery_state, v1::DELIVERY_PENDING) << "kept, to retry later";
}

TEST_F(DeliveryDispatcherTest, RowsWaitingBeforeStartAreDeliveredAfterARestart) {
  Record("r1", "ageuk-oldham");
  frontdoor::testing::RecordingConnector connector;
  SystemClock clock;
  {
    // A dispatcher that stops before delivering anything (its connector is unreachable).
    DeliveryDispatcher first(store_.get(), &clock, DeliveryPolicy{}, Stubs({{"ageuk-oldham", "127.0.0.1:1"}}));
    first.Start();
    first.Shutdown();
  }
  DeliveryDispatcher second(store_.get(), &clock, DeliveryPolicy{}, Stubs({{"ageuk-oldham", connector.address()}}));
  second.Start();
  EXPECT_EQ(connector.WaitForDistinct(1, absl::Seconds(20)), 1);
}

}  // namespace
}  // namespace frontdoor::gateway
