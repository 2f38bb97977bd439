#include "gateway/intake/submission_committer.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gtest/gtest.h"
#include "observability/structured_log.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

using frontdoor::testing::WriteLockHolder;

namespace v1 = ::frontdoor::v1;

const SystemClock kClock;

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
  auto store = *SqliteStore::Open(dir.path() + "/db");
  SubmissionCommitter committer(store.get(), &kClock, nullptr);
  absl::Notification done;
  bool visible = false;
  ASSERT_TRUE(committer
                  .Submit(Decided("r1", "m1"),
                          [&](absl::StatusOr<RecordOutcome> out) {
                            ASSERT_TRUE(out.ok());
                            visible = store->GetReferral("r1").value().has_value();
                            done.Notify();
                          })
                  .ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_TRUE(visible);
}

// A store whose file turns out damaged mid-run (a fault a live SQLite connection's page cache makes
// impossible to cause at will): every commit fails with DATA_LOSS.
class DamagedRecords final : public ReferralRecords {
 public:
  absl::StatusOr<std::vector<RecordOutcome>> RecordReferrals(std::vector<NewReferral>) override {
    return absl::DataLossError("record referrals: database disk image is malformed");
  }
  absl::StatusOr<std::optional<StoredReferral>> GetReferral(std::string_view) override { return std::nullopt; }
};

TEST(SubmissionCommitterTest, AFailedCommitIsAnsweredAndToldToTheFailureObserver) {
  DamagedRecords store;
  SubmissionCommitter committer(&store, &kClock, nullptr);
  absl::Mutex mu;
  std::vector<absl::StatusCode> observed;
  committer.SetFailureObserver([&](const absl::Status& failed) {
    absl::MutexLock lock(&mu);
    observed.push_back(failed.code());
  });
  absl::Notification done;
  absl::Status answered;
  ASSERT_TRUE(committer
                  .Submit(Decided("r1", "m1"),
                          [&](absl::StatusOr<RecordOutcome> out) {
                            answered = out.status();
                            done.Notify();
                          })
                  .ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(answered.code(), absl::StatusCode::kDataLoss);
  committer.Shutdown();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(observed, std::vector<absl::StatusCode>{absl::StatusCode::kDataLoss});
}

TEST(SubmissionCommitterTest, ConcurrentDuplicatesBecomeOneReferral) {
  frontdoor::testing::TempDir dir;
  auto store = *SqliteStore::Open(dir.path() + "/db");
  SubmissionCommitter committer(store.get(), &kClock, nullptr);
  constexpr int kSenders = 16;
  std::atomic<int> firsts{0}, duplicates{0}, completed{0};
  std::vector<std::string> ids(kSenders);
  absl::Notification all_done;
  std::vector<std::thread> threads;
  for (int i = 0; i < kSenders; ++i) {
    threads.emplace_back([&, i] {
      absl::Status queued =
          committer.Submit(Decided("r" + std::to_string(i), "same-message"), [&, i](absl::StatusOr<RecordOutcome> out) {
            ASSERT_TRUE(out.ok());
            (out->duplicate ? duplicates : firsts)++;
            ids[i] = out->decision.referral_id();
            if (++completed == kSenders) all_done.Notify();
          });
      EXPECT_TRUE(queued.ok()) << queued;
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
  auto store = *SqliteStore::Open(dir.path() + "/db");
  SubmissionCommitter committer(store.get(), &kClock, nullptr);
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(committer
                    .Submit(Decided("r" + std::to_string(i), "m" + std::to_string(i)),
                            [&](absl::StatusOr<RecordOutcome> out) { ok += out.ok() ? 1 : 0; })
                    .ok());
  }
  committer.Shutdown();
  EXPECT_EQ(ok.load(), 100);
  bool late_completed = false;
  absl::Status late =
      committer.Submit(Decided("late", "late"), [&](absl::StatusOr<RecordOutcome>) { late_completed = true; });
  EXPECT_EQ(late.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(late_completed) << "a refused submission's completion never runs";
  EXPECT_FALSE(store->GetReferral("late").value().has_value());
}

TEST(SubmissionCommitterTest, TellsTheDispatcherWhichEndpointsGotDeliveriesAfterCommitting) {
  frontdoor::testing::TempDir dir;
  auto store = *SqliteStore::Open(dir.path() + "/db");
  absl::Notification woken;
  std::vector<std::string> told;
  SubmissionCommitter committer(store.get(), &kClock, [&](const SubmissionCommitter::CommittedBatch& committed) {
    if (woken.HasBeenNotified()) return;
    told = committed.endpoints;
    // Only after the commit: the row the dispatcher will look for is already there.
    EXPECT_TRUE(store->GetReferral("r1").value().has_value());
    woken.Notify();
  });
  ASSERT_TRUE(committer.Submit(Decided("r1", "m1"), [](absl::StatusOr<RecordOutcome>) {}).ok());
  ASSERT_TRUE(woken.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(told, std::vector<std::string>{"action-together-oldham"});
}

TEST(SubmissionCommitterBoundTest, PastMaxQueuedARefusalIsImmediateAndNothingOfItIsRecorded) {
  frontdoor::testing::TempDir dir;
  auto store = *SqliteStore::Open(dir.path() + "/db");
  SubmissionCommitter committer(store.get(), &kClock, nullptr, /*max_queued=*/2);
  WriteLockHolder lock(dir.path() + "/db");

  std::atomic<int> answered{0}, accepted{0};
  absl::Notification both;
  auto count = [&](absl::StatusOr<RecordOutcome> out) {
    if (out.ok() && !out->duplicate) ++accepted;
    if (++answered == 2) both.Notify();
  };
  ASSERT_TRUE(committer.Submit(Decided("r1", "m1"), count).ok());  // the writer takes it, and waits
  ASSERT_TRUE(committer.Submit(Decided("r2", "m2"), count).ok());  // queued behind it
  bool refused_completed = false;
  absl::Status refused =
      committer.Submit(Decided("r3", "m3"), [&](absl::StatusOr<RecordOutcome>) { refused_completed = true; });
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_NE(refused.message().find("retry after 1000 ms"), std::string::npos) << refused;
  EXPECT_EQ(answered.load(), 0) << "the store is locked: nothing can have been answered yet";

  lock.Release();
  ASSERT_TRUE(both.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(accepted.load(), 2) << "both held submissions were recorded once the store moved again";
  EXPECT_FALSE(refused_completed);
  EXPECT_FALSE(store->GetReferral("r3").value().has_value()) << "the refused one was never recorded";

  // Its room given back, the same message is a first submission, not a duplicate. The room comes
  // back just after the held ones' answers (what they held is freed first), so resend as a caller
  // told to retry would: until it is taken.
  absl::Notification again;
  absl::StatusOr<RecordOutcome> resent = absl::UnknownError("not answered");
  absl::Status taken;
  const absl::Time resend_until = absl::Now() + absl::Seconds(10);
  do {
    taken = committer.Submit(Decided("r3", "m3"), [&](absl::StatusOr<RecordOutcome> out) {
      resent = std::move(out);
      again.Notify();
    });
    if (taken.ok() || taken.code() != absl::StatusCode::kResourceExhausted) break;
    absl::SleepFor(absl::Milliseconds(5));
  } while (absl::Now() < resend_until);
  ASSERT_TRUE(taken.ok()) << taken;
  ASSERT_TRUE(again.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(resent.ok()) << resent.status();
  EXPECT_FALSE(resent->duplicate);
  EXPECT_EQ(resent->decision.referral_id(), "r3");
}

TEST(SubmissionCommitterBoundTest, RefusalsAreLoggedOnceNotOncePerCall) {
  std::vector<std::string> lines;
  absl::Mutex lines_mu;
  observability::SetLogWriterForTesting([&](const std::string& line) {
    absl::MutexLock l(&lines_mu);
    if (line.find("commit_queue_full") != std::string::npos) lines.push_back(line);
  });
  {
    frontdoor::testing::TempDir dir;
    auto store = *SqliteStore::Open(dir.path() + "/db");
    SubmissionCommitter committer(store.get(), &kClock, nullptr, /*max_queued=*/1);
    WriteLockHolder lock(dir.path() + "/db");
    absl::Notification answered;
    ASSERT_TRUE(committer.Submit(Decided("r1", "m1"), [&](absl::StatusOr<RecordOutcome>) { answered.Notify(); }).ok());
    for (int i = 2; i <= 6; ++i) {
      EXPECT_EQ(
          committer
              .Submit(Decided("r" + std::to_string(i), "m" + std::to_string(i)), [](absl::StatusOr<RecordOutcome>) {})
              .code(),
          absl::StatusCode::kResourceExhausted);
    }
    lock.Release();
    ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(20)));
  }
  observability::SetLogWriterForTesting(nullptr);
  absl::MutexLock l(&lines_mu);
  ASSERT_EQ(lines.size(), 1u) << "five refusals within seconds are one warning line";
  EXPECT_NE(lines[0].find("\"max_queued\":1"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"held\":1"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace frontdoor::gateway

namespace frontdoor::gateway {
namespace {

// The refusal log's interval and the waits it reports run on the injected clock, so a test can
// move time rather than wait for it.
TEST(SubmissionCommitterBoundTest, TheRefusalLogCountsAgainAfterItsIntervalOnTheInjectedClock) {
  std::vector<std::string> lines;
  absl::Mutex lines_mu;
  observability::SetLogWriterForTesting([&](const std::string& line) {
    absl::MutexLock l(&lines_mu);
    if (line.find("commit_queue_full") != std::string::npos) lines.push_back(line);
  });
  ManualClock clock(absl::FromUnixSeconds(1738577700));
  {
    frontdoor::testing::TempDir dir;
    auto store = *SqliteStore::Open(dir.path() + "/db");
    SubmissionCommitter committer(store.get(), &clock, nullptr, /*max_queued=*/1);
    WriteLockHolder lock(dir.path() + "/db");
    absl::Notification answered;
    ASSERT_TRUE(committer.Submit(Decided("r1", "m1"), [&](absl::StatusOr<RecordOutcome>) { answered.Notify(); }).ok());
    auto refuse = [&](const std::string& id) {
      EXPECT_EQ(committer.Submit(Decided(id, "m-" + id), [](absl::StatusOr<RecordOutcome>) {}).code(),
                absl::StatusCode::kResourceExhausted);
    };
    refuse("r2");
    refuse("r3");
    clock.Advance(absl::Seconds(11));  // past the 10 s interval: the next refusal is logged again
    refuse("r4");
    lock.Release();
    ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(20)));
  }
  observability::SetLogWriterForTesting(nullptr);
  absl::MutexLock l(&lines_mu);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("\"refused\":2"), std::string::npos) << "r3 and r4 since the first line: " << lines[1];
  EXPECT_NE(lines[1].find("\"oldest_wait_ms\":11000"), std::string::npos) << "r1 held 11 s by the clock: " << lines[1];
}

}  // namespace
}  // namespace frontdoor::gateway
