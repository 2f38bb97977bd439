// A store that refuses writes (a full disk, a read-only or damaged file) while the connector keeps
// answering must not become a redelivery storm: what the connector acknowledged is kept to be
// recorded, not sent again; the worker pauses with a backoff; the error is logged once in a while,
// not per attempt; metrics and the observer say the store is not writable, and that it is again.
// The refusal is injected (a decorator over the real SQLite store): a full disk cannot be made
// portably by an unprivileged test.
#include <atomic>

#include "absl/synchronization/mutex.h"
#include "gateway/delivery/delivery_dispatcher.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gtest/gtest.h"
#include "observability/structured_log.h"
#include "prometheus/registry.h"
#include "tests/gateway/gateway_test_support.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

// The SQLite store, refusing every write of the delivery workers while `full` is set.
class FullDisk final : public DeliveryOutbox {
 public:
  explicit FullDisk(DeliveryOutbox* store) : store_(store) {}
  std::atomic<bool> full{false};

  absl::StatusOr<std::vector<OutboxItem>> DueDeliveries(std::string_view endpoint_id, absl::Time now,
                                                        int limit) override {
    return store_->DueDeliveries(endpoint_id, now, limit);
  }
  absl::StatusOr<std::optional<absl::Time>> NextDeliveryDue(std::string_view endpoint_id) override {
    return store_->NextDeliveryDue(endpoint_id);
  }
  absl::Status MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) override {
    if (full) return absl::UnavailableError("database or disk is full");
    return store_->MarkDeliveredMany(rows, at);
  }
  absl::StatusOr<bool> RecordFailedAttemptOrDeadLetter(int64_t outbox_id, absl::Time next_attempt_at,
                                                       std::string_view error, const DeadLetterLimits& limits,
                                                       absl::Time now) override {
    if (full) return absl::UnavailableError("database or disk is full");
    return store_->RecordFailedAttemptOrDeadLetter(outbox_id, next_attempt_at, error, limits, now);
  }
  absl::StatusOr<int> DeadLetterExpired(std::string_view endpoint_id, const DeadLetterLimits& limits,
                                        absl::Time now) override {
    return store_->DeadLetterExpired(endpoint_id, limits, now);
  }
  absl::StatusOr<std::vector<OutboxDepth>> OutboxDepths() override { return store_->OutboxDepths(); }

 private:
  DeliveryOutbox* const store_;
};

class StoreTroubleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *SqliteStore::Open(dir_.path() + "/db");
    disk_ = std::make_unique<FullDisk>(store_.get());
    observability::SetLogWriterForTesting([this](const std::string& line) {
      absl::MutexLock lock(&mu_);
      if (line.find("the store cannot record deliveries") != std::string::npos) ++store_error_lines_;
    });
  }
  void TearDown() override { observability::SetLogWriterForTesting(nullptr); }

  void Record(int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "r" + std::to_string(i);
      NewReferral r;
      r.referral_id = id;
      r.sender_ods = "P85901";
      r.message_id = "m-" + id;
      r.format = "typed";
      r.received_at = absl::FromUnixSeconds(1738577700);
      r.decision.set_disposition(v1::ACCEPTED);
      r.delivery = NewDelivery{"ageuk-oldham", {}};
      r.delivery->request.set_idempotency_key("deliver:" + id);
      r.delivery->request.mutable_referral()->set_referral_id(id);
      std::vector<NewReferral> batch;
      batch.push_back(std::move(r));
      ASSERT_TRUE(store_->RecordReferrals(std::move(batch)).ok());
    }
  }

  std::unique_ptr<DeliveryDispatcher> Dispatcher(const std::string& address) {
    DeliveryPolicy policy;
    policy.initial_backoff = absl::Milliseconds(50);
    policy.max_backoff = absl::Milliseconds(400);
    ChannelMap channels{{"ageuk-oldham", grpc::CreateChannel(address, grpc::InsecureChannelCredentials())}};
    auto dispatcher = std::make_unique<DeliveryDispatcher>(disk_.get(), &clock_, policy, ConnectorTransports(channels));
    dispatcher->SetMetrics(&metrics_);
    dispatcher->SetStoreWritableObserver([this](bool writable) {
      absl::MutexLock lock(&mu_);
      writable_changes_.push_back(writable);
    });
    return dispatcher;
  }

  int StoreErrorLines() {
    absl::MutexLock lock(&mu_);
    return store_error_lines_;
  }
  std::vector<bool> WritableChanges() {
    absl::MutexLock lock(&mu_);
    return writable_changes_;
  }

  frontdoor::testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<FullDisk> disk_;
  SystemClock clock_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  observability::GatewayMetrics metrics_{registry_, {}};
  absl::Mutex mu_;
  int store_error_lines_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<bool> writable_changes_ ABSL_GUARDED_BY(mu_);
};

TEST_F(StoreTroubleTest, AcknowledgedRowsAreKeptToBeRecordedNotSentAgainWhileTheDiskIsFull) {
  disk_->full = true;
  Record(20);
  frontdoor::testing::RecordingConnector connector;
  auto dispatcher = Dispatcher(connector.address());
  dispatcher->Start();
  absl::SleepFor(absl::Seconds(2));
  // Without the pause this was thousands of calls a second, and a log line each.
  int calls = 0;
  for (const auto& [key, n] : connector.calls_per_key()) calls += n;
  EXPECT_LE(calls, 2) << "acknowledged rows must not be sent again while they cannot be recorded";
  EXPECT_LE(StoreErrorLines(), 2) << "the error is logged once in a while, not per attempt";
  EXPECT_EQ(frontdoor::gateway::testing::ReadMetric(*registry_, "frontdoor_store_writable"), 0);
  EXPECT_GE(frontdoor::gateway::testing::ReadMetric(*registry_, "frontdoor_store_write_failures_total"), 1);

  disk_->full = false;  // space again
  ASSERT_EQ(connector.WaitForDistinct(20, absl::Seconds(30)), 20);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (dispatcher->delivered_count() < 20 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  dispatcher->Shutdown();
  EXPECT_EQ(dispatcher->delivered_count(), 20);
  for (const auto& [key, n] : connector.calls_per_key()) {
    EXPECT_EQ(n, 1) << key << ": each sent exactly once";
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ((*store_->GetReferral("r" + std::to_string(i)))->delivery_state, v1::DELIVERED);
  }
  EXPECT_EQ(WritableChanges(), std::vector<bool>({false, true}));
  EXPECT_EQ(frontdoor::gateway::testing::ReadMetric(*registry_, "frontdoor_store_writable"), 1);
}

TEST_F(StoreTroubleTest, AFailingConnectorIsNotHammeredWhenItsFailuresCannotBeRecorded) {
  disk_->full = true;
  Record(3);
  frontdoor::testing::RecordingConnector connector;
  connector.FailNext(100000);
  auto dispatcher = Dispatcher(connector.address());
  dispatcher->Start();
  absl::SleepFor(absl::Seconds(2));
  dispatcher->Shutdown();
  // Backoff from 50 ms, doubling to 400 ms: a handful of tries in two seconds, not a loop.
  EXPECT_LE(connector.failed_calls(), 15);
  EXPECT_GE(connector.failed_calls(), 1);
  EXPECT_LE(StoreErrorLines(), 2);
}

}  // namespace
}  // namespace frontdoor::gateway
