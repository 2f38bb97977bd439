// Tampering with the real SQLite file of the audit log: a changed field, a deleted record, two
// swapped records, a truncated tail, a replaced checkpoint, and a record rewritten together with
// its leaf hash are each detected by verification, every time, naming the first bad record; an
// untouched log verifies; retention pruning keeps it verifiable. With the latest checkpoint kept
// outside the store (the gateway's anchor, or an IG officer's copy), records removed together with
// their checkpoints, or rewritten after every checkpoint was deleted, are found too, and never
// signed; a recent record "pruned" inside the retention period is named; pruning is recorded.
#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/audit_record.h"
#include "audit/checkpoint_signer.h"
#include "audit/log_verification.h"
#include "gateway/audit_log/audit_checkpointer.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
constexpr int kRecords = 12;

class AuditTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/frontdoor.db";
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    auto signer = audit::CheckpointSigner::LoadOrCreate(dir_.path() + "/key.pem");
    ASSERT_TRUE(signer.ok());
    public_key_ = (*signer)->PublicKeyPem();
    AuditCheckpointer checkpointer(store->get(), std::move(*signer), &clock_, AuditPolicy{}, Anchor());
    for (int i = 0; i < kRecords; ++i) {
      v1::AuditRecord r;
      r.set_time(absl::StrCat("2025-06-10T09:00:", 10 + i, "Z"));
      r.set_actor("P85901");
      r.set_actor_organisation("P85901");
      r.set_nhs_number(i % 2 ? "9991951024" : "9434765919");
      r.set_referral_id(absl::StrCat("ref-", i));
      r.set_action("decide");
      r.set_outcome("permit");
      r.add_rule_ids("IG-9");
      r.set_recipient_endpoint("action-together-oldham");
      ASSERT_TRUE((*store)->AppendAudit({r}).ok());
      if (i == 3 || i == 7 || i == kRecords - 1) ASSERT_TRUE(checkpointer.CheckpointNow().ok());  // sizes 4, 8, 12
    }
  }

  std::unique_ptr<CheckpointAnchor> Anchor() {
    return std::make_unique<CheckpointAnchor>(dir_.path() + "/audit-checkpoint.json");
  }
  // The gateway's checkpointer as it starts again on the (tampered) file, with its anchor.
  absl::Status RestartAnchored(std::unique_ptr<SqliteStore>* store, std::unique_ptr<AuditCheckpointer>* checkpointer) {
    auto opened = SqliteStore::Open(path_);
    if (!opened.ok()) return opened.status();
    *store = *std::move(opened);
    auto signer = audit::CheckpointSigner::LoadOrCreate(dir_.path() + "/key.pem");
    if (!signer.ok()) return signer.status();
    *checkpointer =
        std::make_unique<AuditCheckpointer>(store->get(), std::move(*signer), &clock_, AuditPolicy{}, Anchor());
    return (*checkpointer)->CheckAnchored();
  }
  v1::SignedCheckpoint Kept() {
    auto kept = Anchor()->Load();
    EXPECT_TRUE(kept.ok() && kept->has_value());
    return kept.ok() && kept->has_value() ? **kept : v1::SignedCheckpoint();
  }

  v1::VerifyAuditResponse Verify() {
    auto store = SqliteStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    auto leaves = (*store)->ReadAuditLeaves();
    auto checkpoints = (*store)->AuditCheckpoints();
    EXPECT_TRUE(leaves.ok() && checkpoints.ok());
    return audit::VerifyAuditLog(*leaves, *checkpoints, public_key_);
  }

  // Runs `sql` (with ?1 bound to `blob` if given) directly on the file, as an attacker would.
  void Sql(const std::string& sql, const std::string* blob = nullptr) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    if (blob != nullptr) sqlite3_bind_blob(st, 1, blob->data(), static_cast<int>(blob->size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  std::string Blob(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW) {
      out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)), sqlite3_column_bytes(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  v1::AuditRecord Record(int i) {
    v1::AuditRecord r;
    r.ParseFromString(Blob(absl::StrCat("SELECT record FROM audit_log WHERE leaf_index = ", i)));
    return r;
  }
  void WriteRecord(int i, const v1::AuditRecord& r) {
    const std::string blob = r.SerializeAsString();
    Sql(absl::StrCat("UPDATE audit_log SET record = ?1 WHERE leaf_index = ", i), &blob);
  }

  frontdoor::testing::TempDir dir_;
  std::string path_;
  std::string public_key_;
  ManualClock clock_{absl::FromUnixSeconds(1749546000)};
};

TEST_F(AuditTamperTest, UntouchedLogVerifies) {
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_TRUE(r.verified()) << r.message();
  EXPECT_EQ(r.tree_size(), static_cast<uint64_t>(kRecords));
  EXPECT_EQ(r.checkpoints_verified(), 3u);
}

TEST_F(AuditTamperTest, ChangedFieldOfAnyRecordIsNamed) {
  for (int i = 0; i < kRecords; ++i) {
    SCOPED_TRACE(i);
    const v1::AuditRecord original = Record(i);
    v1::AuditRecord changed = original;
    changed.set_recipient_endpoint("mind-oldham");
    WriteRecord(i, changed);
    const v1::VerifyAuditResponse r = Verify();
    EXPECT_FALSE(r.verified());
    EXPECT_EQ(r.first_bad_index(), static_cast<uint64_t>(i)) << r.message();
    WriteRecord(i, original);
  }
  EXPECT_TRUE(Verify().verified());
}

TEST_F(AuditTamperTest, DeletedRecordIsNamed) {
  for (int i : {0, 5, kRecords - 1}) {
    SCOPED_TRACE(i);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    std::filesystem::remove(Anchor()->path());  // a fresh data directory: no kept checkpoint either
    SetUp();                                    // a fresh log each time
    Sql(absl::StrCat("DELETE FROM audit_log WHERE leaf_index = ", i));
    const v1::VerifyAuditResponse r = Verify();
    EXPECT_FALSE(r.verified());
    EXPECT_EQ(r.first_bad_index(), static_cast<uint64_t>(i)) << r.message();
  }
}

TEST_F(AuditTamperTest, SwappedRecordsAreNamed) {
  const std::string two = Blob("SELECT record FROM audit_log WHERE leaf_index = 2");
  const std::string six = Blob("SELECT record FROM audit_log WHERE leaf_index = 6");
  const std::string hash2 = Blob("SELECT leaf_hash FROM audit_log WHERE leaf_index = 2");
  const std::string hash6 = Blob("SELECT leaf_hash FROM audit_log WHERE leaf_index = 6");
  Sql("UPDATE audit_log SET record = ?1 WHERE leaf_index = 2", &six);
  Sql("UPDATE audit_log SET record = ?1 WHERE leaf_index = 6", &two);
  Sql("UPDATE audit_log SET leaf_hash = '" + hash6 + "' WHERE leaf_index = 2");
  Sql("UPDATE audit_log SET leaf_hash = '" + hash2 + "' WHERE leaf_index = 6");
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 2u) << r.message();
}

TEST_F(AuditTamperTest, TruncatedTailIsNamed) {
  Sql("DELETE FROM audit_log WHERE leaf_index >= 9");
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 9u) << r.message();
}

TEST_F(AuditTamperTest, ReplacedCheckpointIsDetected) {
  auto other = audit::CheckpointSigner::Generate();
  v1::SignedCheckpoint cp;
  cp.ParseFromString(Blob("SELECT checkpoint FROM audit_checkpoints WHERE tree_size = 8"));
  const v1::SignedCheckpoint forged =
      *(*other)->Sign(cp.tree_size(), *audit::HashFromHex(cp.root_hash_hex()), cp.time());
  const std::string blob = forged.SerializeAsString();
  Sql("UPDATE audit_checkpoints SET checkpoint = ?1 WHERE tree_size = 8", &blob);
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 4u) << "the first record only that checkpoint covered: " << r.message();
}

TEST_F(AuditTamperTest, CheckpointWithAnEditedTreeSizeIsDetected) {
  v1::SignedCheckpoint cp;
  cp.ParseFromString(Blob("SELECT checkpoint FROM audit_checkpoints WHERE tree_size = 12"));
  cp.set_tree_size(11);
  const std::string blob = cp.SerializeAsString();
  Sql("UPDATE audit_checkpoints SET checkpoint = ?1 WHERE tree_size = 12", &blob);
  EXPECT_FALSE(Verify().verified());
}

TEST_F(AuditTamperTest, RecordRewrittenWithItsLeafHashIsCaughtByTheSignedRoot) {
  v1::AuditRecord changed = Record(5);
  changed.set_outcome("refuse");
  WriteRecord(5, changed);
  // A careful insider rewrites the search column too, so that only the signed root can tell.
  Sql("UPDATE audit_log SET outcome = 'refuse', leaf_hash = '" + audit::ToHex(audit::RecordLeafHash(changed)) +
      "' WHERE leaf_index = 5");
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 4u) << "first record of the range the size-8 checkpoint adds: " << r.message();
}

TEST_F(AuditTamperTest, RecordRewrittenWithItsLeafHashButNotItsSearchColumnIsNamedExactly) {
  v1::AuditRecord changed = Record(5);
  changed.set_outcome("refuse");
  WriteRecord(5, changed);
  Sql("UPDATE audit_log SET leaf_hash = '" + audit::ToHex(audit::RecordLeafHash(changed)) + "' WHERE leaf_index = 5");
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 5u) << r.message();
  EXPECT_NE(r.message().find("outcome"), std::string::npos) << r.message();
}

TEST_F(AuditTamperTest, PruningKeepsTheLogVerifiable) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto pruned = (*store)->PruneAuditBefore(absl::FromUnixSeconds(4102444800));  // 2100: everything signed
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, kRecords);
  auto record = (*store)->GetAuditRecord(3);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_TRUE((*record)->pruned());
  EXPECT_TRUE((*record)->nhs_number().empty());
  store->reset();
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_TRUE(r.verified()) << r.message();
  EXPECT_EQ(r.pruned_records(), static_cast<uint64_t>(kRecords));
}

TEST_F(AuditTamperTest, PrunedLeafHashThatWasChangedIsDetected) {
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE((*store)->PruneAuditBefore(absl::FromUnixSeconds(4102444800)).ok());
  }
  Sql("UPDATE audit_log SET leaf_hash = '" + audit::ToHex(audit::LeafHash("forged")) + "' WHERE leaf_index = 6");
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 4u);
}

TEST_F(AuditTamperTest, TheLatestCheckpointIsKeptOutsideTheStoreAndAnUntouchedLogStartsAnchored) {
  const v1::SignedCheckpoint kept = Kept();
  EXPECT_EQ(kept.tree_size(), static_cast<uint64_t>(kRecords));
  EXPECT_TRUE(audit::VerifyCheckpoint(kept, public_key_).ok());
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<AuditCheckpointer> checkpointer;
  EXPECT_TRUE(RestartAnchored(&store, &checkpointer).ok());
}

TEST_F(AuditTamperTest, RecordsDeletedFromTheEndWithTheirCheckpointsAreFoundByTheKeptCheckpoint) {
  const v1::SignedCheckpoint kept = Kept();
  Sql("DELETE FROM audit_log WHERE leaf_index >= 9");
  Sql("DELETE FROM audit_checkpoints WHERE tree_size > 8");
  ASSERT_TRUE(Verify().verified()) << "the store alone cannot tell: this is what the kept checkpoint is for";

  // The gateway does not start on it, and says what was removed.
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<AuditCheckpointer> checkpointer;
  absl::Status anchored = RestartAnchored(&store, &checkpointer);
  EXPECT_EQ(anchored.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(anchored.message().find("records from 9 on were removed"), std::string::npos) << anchored;
  EXPECT_FALSE(checkpointer->CheckpointNow().ok()) << "nothing is signed over the cut";

  // Verification with the kept checkpoint names the first removed record.
  auto leaves = store->ReadAuditLeaves();
  auto checkpoints = store->AuditCheckpoints();
  ASSERT_TRUE(leaves.ok() && checkpoints.ok());
  checkpoints->push_back(kept);
  const v1::VerifyAuditResponse r = audit::VerifyAuditLog(*leaves, *checkpoints, public_key_);
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 9u) << r.message();
  // And an IG officer's copy cannot be shown to be extended.
  auto latest = store->AuditCheckpoints();
  auto proof = audit::ProveLogExtends(*leaves, kept, latest->back(), public_key_);
  EXPECT_EQ(proof.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AuditTamperTest, ARecordRewrittenAfterEveryCheckpointWasDeletedIsNeverSigned) {
  v1::AuditRecord changed = Record(5);
  changed.set_outcome("refuse");
  WriteRecord(5, changed);
  Sql("UPDATE audit_log SET outcome = 'refuse', leaf_hash = '" + audit::ToHex(audit::RecordLeafHash(changed)) +
      "' WHERE leaf_index = 5");
  Sql("DELETE FROM audit_checkpoints");

  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<AuditCheckpointer> checkpointer;
  absl::Status anchored = RestartAnchored(&store, &checkpointer);
  EXPECT_EQ(anchored.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(anchored.message().find("do not hash to the root"), std::string::npos) << anchored;
  EXPECT_FALSE(checkpointer->CheckpointNow().ok());
  auto checkpoints = store->AuditCheckpoints();
  ASSERT_TRUE(checkpoints.ok());
  EXPECT_TRUE(checkpoints->empty()) << "the altered tree was signed";
}

TEST_F(AuditTamperTest, AKeptCheckpointIsProvedExtendedByTheGrownLog) {
  const v1::SignedCheckpoint kept = Kept();
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<AuditCheckpointer> checkpointer;
  ASSERT_TRUE(RestartAnchored(&store, &checkpointer).ok());
  v1::AuditRecord more = Record(2);
  more.clear_index();
  more.clear_leaf_hash_hex();
  ASSERT_TRUE(store->AppendAudit({more, more, more}).ok());
  auto latest = checkpointer->CheckpointNow();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->tree_size(), static_cast<uint64_t>(kRecords + 3));
  auto leaves = store->ReadAuditLeaves();
  ASSERT_TRUE(leaves.ok());
  auto proof = audit::ProveLogExtends(*leaves, kept, *latest, public_key_);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(audit::CheckLogExtends(kept, *latest, *proof, public_key_).ok());
  // The proof does not stand for another kept tree.
  v1::SignedCheckpoint older;
  older.ParseFromString(Blob("SELECT checkpoint FROM audit_checkpoints WHERE tree_size = 8"));
  EXPECT_FALSE(audit::CheckLogExtends(older, *latest, *proof, public_key_).ok());
}

TEST_F(AuditTamperTest, ARecentRecordPrunedInsideTheRetentionPeriodIsNamed) {
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE((*store)->PruneAuditBefore(absl::FromUnixSeconds(4102444800)).ok());  // as an insider would
  }
  auto store = SqliteStore::Open(path_);
  auto leaves = (*store)->ReadAuditLeaves();
  auto checkpoints = (*store)->AuditCheckpoints();
  ASSERT_TRUE(leaves.ok() && checkpoints.ok());
  const absl::Duration eight_years = absl::Hours(24 * 366 * 8);
  // Today, eight years' retention: every body removed was still to be kept.
  v1::VerifyAuditResponse r =
      audit::VerifyAuditLog(*leaves, *checkpoints, public_key_, audit::RetentionCheck{clock_.Now(), eight_years});
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 0u);
  EXPECT_NE(r.message().find("deleted, not pruned"), std::string::npos) << r.message();
  // Nine years on, the same removal is retention.
  r = audit::VerifyAuditLog(*leaves, *checkpoints, public_key_,
                            audit::RetentionCheck{clock_.Now() + absl::Hours(24 * 366 * 9), eight_years});
  EXPECT_TRUE(r.verified()) << r.message();
}

TEST_F(AuditTamperTest, PruningIsItselfAnAuditRecord) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok());
  auto signer = audit::CheckpointSigner::LoadOrCreate(dir_.path() + "/key.pem");
  ASSERT_TRUE(signer.ok());
  AuditPolicy policy;
  policy.retention = absl::Hours(24 * 366 * 8);
  policy.look_every = absl::Milliseconds(10);
  clock_.Advance(absl::Hours(24 * 366 * 9));
  AuditCheckpointer checkpointer(store->get(), std::move(*signer), &clock_, policy, Anchor());
  checkpointer.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (*(*store)->AuditTreeSize() <= static_cast<uint64_t>(kRecords) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  checkpointer.Shutdown();
  auto record = (*store)->GetAuditRecord(kRecords);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->action(), "prune");
  EXPECT_NE((*record)->detail().find(absl::StrCat(kRecords, " record bodies")), std::string::npos)
      << (*record)->detail();
}

TEST_F(AuditTamperTest, QueryFiltersByPersonOldestFirst) {
  auto store = SqliteStore::Open(path_);
  AuditQuery q;
  q.nhs_number = "9991951024";
  auto records = (*store)->QueryAudit(q, -1, 100);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), static_cast<size_t>(kRecords / 2));
  for (size_t i = 0; i < records->size(); ++i) EXPECT_EQ((*records)[i].index(), 2 * i + 1);
  q.from = absl::FromUnixSeconds(1749546000 + 20);  // 2025-06-10T09:00:20Z (records at :10 + i)
  EXPECT_EQ((*store)->QueryAudit(q, -1, 100)->size(), 1u);
}

}  // namespace
}  // namespace frontdoor::gateway
