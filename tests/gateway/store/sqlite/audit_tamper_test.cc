// Tampering with the real SQLite file of the audit log: a changed field, a deleted record, two
// swapped records, a truncated tail, a replaced checkpoint, and a record rewritten together with
// its leaf hash are each detected by verification, every time, naming the first bad record; an
// untouched log verifies; retention pruning keeps it verifiable.
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
    AuditCheckpointer checkpointer(store->get(), std::move(*signer), &clock_, AuditPolicy{});
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
    SetUp();  // a fresh log each time
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
