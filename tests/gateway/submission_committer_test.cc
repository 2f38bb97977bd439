#include "gateway/submission_committer.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gateway/sqlite_referral_store.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

NewReferral Decided(const std::string& id, const std::string& message_id) {
  NewReferral r;
  r.referral_id = id;
  r.sender_ods = "P85901";
  r.message_id = message_id;
  r.format = "typed";
  r.received_at = absl::FromUnixSeconds(1738577700);
  r.decision.set_referral_id(id);
  r.decision.set_disposition(v1::ACCEPTED);
  r.delivery = NewDelivery{"action-together-oldham", {}};
  r.delivery->request.set_idempotency_key("deliver:" + id);
  return r;
}

TEST(SubmissionCommitterTest, CompletionRunsAfterTheReferralIsReadableFromTheStore) {
  frontdoor::testing::TempDir dir;
  auto store = *SqliteReferralStore::Open(dir.path() + "/db");
  SubmissionCommitter committer(store.get(), nullptr);
  absl::Notification done;
  bool visible = false;
  committer.Submit(Decided("r1", "m1"), [&](absl::StatusOr<RecordOutcome> out) {
    ASSERT_TRUE(out.ok());
    visible = store->GetReferral("r1").value().has_value();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(visible);
}

TEST(SubmissionCommitterTest, ConcurrentDuplicatesBecomeOneReferral) {
  frontdoor::testing::TempDir dir;
  auto store = *SqliteReferralStore::Open(dir.path() + "/db");
  SubmissionCommitter committer(store.get(), nullptr);
  constexpr int kSenders = 16;
  std::atomic<int> firsts{0}, duplicates{0}, completed{0};
  std::vector<std::string> ids(kSenders);
  absl::Notification all_done;
  std::vector<std::thread> threads;
  for (int i = 0; i < kSenders; ++i) {
    threads.emplace_back([&, i] {
      committer.Submit(Decided("r" + std::to_string(i), "same-message"), [&, i](absl::StatusOr<RecordOutcome> out) {
        ASSERT_TRUE(out.ok());
        (out->duplicate ? duplicates : firsts)++;
        ids[i] = out->decision.referral_id();
        if (++completed == kSenders) all_done.Notify();
      });
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(all_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(firsts.load(), 1);
  EXPECT_EQ(duplicates.load(), kSenders - 1);
  for (const std::string& id : ids) EXPECT_EQ(id, ids[0]) << "every answer names the one referral";
  EXPECT_EQ(store->DueDeliveries("action-together-oldham", absl::InfiniteFuture(), 100)->size(), 1u);
}

TEST(SubmissionCommitterTest, ShutdownFinishesWhatIsQueuedThenRefusesMore) {
  frontdoor::testing::TempDir dir;
  auto store = *SqliteReferralStore::Open(dir.path() + "/db");
  SubmissionCommitter committer(store.get(), nullptr);
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    committer.Submit(Decided("r" + std::to_string(i), "m" + std::to_string(i)),
                     [&](absl::StatusOr<RecordOutcome> out) { ok += out.ok() ? 1 : 0; });
  }
  committer.Shutdown();
  EXPECT_EQ(ok.load(), 100);
  absl::Status late;
  committer.Submit(Decided("late", "late"), [&](absl::StatusOr<RecordOutcome> out) { late = out.status(); });
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(store->GetReferral("late").value().has_value());
}

TEST(SubmissionCommitterTest, TellsTheDispatcherWhichEndpointsGotDeliveriesAfterCommitting) {
  frontdoor::testing::TempDir dir;
  auto store = *SqliteReferralStore::Open(dir.path() + "/db");
  absl::Notification woken;
  std::vector<std::string> told;
  SubmissionCommitter committer(store.get(), [&](const std::vector<std::string>& endpoints) {
    if (woken.HasBeenNotified()) return;
    told = endpoints;
    // Only after the commit: the row the dispatcher will look for is already there.
    EXPECT_TRUE(store->GetReferral("r1").value().has_value());
    woken.Notify();
  });
  committer.Submit(Decided("r1", "m1"), [](absl::StatusOr<RecordOutcome>) {});
  ASSERT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(told, std::vector<std::string>{"action-together-oldham"});
}

}  // namespace
}  // namespace frontdoor::gateway
