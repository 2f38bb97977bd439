// When the audit checkpointer signs: woken by records noted once enough accumulate (not by every
// commit), and finding un-noted records by its own periodic look.
#include "gateway/audit_log/audit_checkpointer.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

class AuditCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open(dir_.path() + "/frontdoor.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  std::unique_ptr<AuditCheckpointer> Start(AuditPolicy policy) {
    auto signer = audit::CheckpointSigner::LoadOrCreate(dir_.path() + "/key.pem");
    EXPECT_TRUE(signer.ok());
    auto checkpointer = std::make_unique<AuditCheckpointer>(store_.get(), std::move(*signer), &clock_, policy);
    checkpointer->Start();
    return checkpointer;
  }

  void Append(int n) {
    for (int i = 0; i < n; ++i) {
      v1::AuditRecord r;
      r.set_time("2025-06-10T09:00:10Z");
      r.set_actor("P85901");
      r.set_referral_id(absl::StrCat("ref-", appended_++));
      r.set_action("decide");
      r.set_outcome("permit");
      ASSERT_TRUE(store_->AppendAudit({r}).ok());
    }
  }

  // The tree size of the latest stored checkpoint (0 when there is none).
  uint64_t SignedSize() {
    auto checkpoints = store_->AuditCheckpoints();
    EXPECT_TRUE(checkpoints.ok());
    return checkpoints->empty() ? 0 : checkpoints->back().tree_size();
  }

  bool SignedSizeReaches(uint64_t size) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (SignedSize() >= size) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  frontdoor::testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  ManualClock clock_{absl::FromUnixSeconds(1749546000)};
  int appended_ = 0;
};

TEST_F(AuditCheckpointerTest, NotedRecordsWakeItOnlyOnceEnoughHaveAccumulated) {
  AuditPolicy policy;
  policy.every_records = 4;
  policy.look_every = absl::Hours(1);  // nothing but a wake makes it look
  Append(1);
  auto checkpointer = Start(policy);
  ASSERT_TRUE(SignedSizeReaches(1)) << "the first look signs what is there";

  const uint64_t looks = checkpointer->looks();

  for (int i = 0; i < 3; ++i) {
    Append(1);
    checkpointer->NoteAppended(1);  // as a one-referral commit does: below every_records, no wake
  }
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(checkpointer->looks(), looks) << "woken before enough records accumulated";
  EXPECT_EQ(SignedSize(), 1u);

  Append(1);
  checkpointer->NoteAppended(1);  // the fourth since it looked: it looks, and signs all five
  EXPECT_TRUE(SignedSizeReaches(5));
  EXPECT_EQ(checkpointer->looks(), looks + 1);
}

TEST_F(AuditCheckpointerTest, RecordsNobodyNotedAreSignedAtItsNextLook) {
  AuditPolicy policy;
  policy.every_records = 4;
  policy.look_every = absl::Milliseconds(20);
  Append(1);
  auto checkpointer = Start(policy);
  ASSERT_TRUE(SignedSizeReaches(1)) << "the first look signs what is there";
  Append(4);  // as acknowledgements' records are: appended, never noted
  EXPECT_TRUE(SignedSizeReaches(5));
}

TEST_F(AuditCheckpointerTest, FewerRecordsThanTheCountAreSignedOnceTheIntervalHasPassed) {
  AuditPolicy policy;
  policy.every_records = 64;
  policy.every_interval = absl::Seconds(60);
  policy.look_every = absl::Milliseconds(20);
  Append(1);
  auto checkpointer = Start(policy);
  ASSERT_TRUE(SignedSizeReaches(1)) << "the first look signs what is there";
  Append(2);
  absl::SleepFor(absl::Milliseconds(200));  // it has looked, and seen two unsigned records
  EXPECT_EQ(SignedSize(), 1u);
  clock_.Advance(absl::Seconds(61));
  EXPECT_TRUE(SignedSizeReaches(3));
}

}  // namespace
}  // namespace frontdoor::gateway
