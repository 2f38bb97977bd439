// Unit tests of audit/log_verification: the whole log against signed checkpoints, and offline
// inclusion proofs. (Tampering with the real SQLite file is in tests/gateway/audit_store_test.cc.)
#include "audit/log_verification.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/audit_record.h"
#include "audit/checkpoint_signer.h"
#include "audit/merkle_tree.h"
#include "gtest/gtest.h"

namespace frontdoor::audit {
namespace {

namespace v1 = ::frontdoor::v1;

class LogVerificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = std::move(*CheckpointSigner::Generate());
    for (uint64_t i = 0; i < 10; ++i) {
      v1::AuditRecord r;
      r.set_index(i);
      r.set_time(absl::StrCat("2025-06-10T09:00:0", i, "Z"));
      r.set_actor("P85901");
      r.set_nhs_number("9991951024");
      r.set_action("decide");
      r.set_outcome("permit");
      r.add_rule_ids("IG-1");
      StoredLeaf leaf;
      leaf.index = i;
      leaf.leaf_hash_hex = ToHex(RecordLeafHash(r));
      leaf.record = r;
      leaves_.push_back(leaf);
    }
    Checkpoint(4);
    Checkpoint(10);
  }
  void Checkpoint(uint64_t size) {
    std::vector<Hash> hashes;
    for (uint64_t i = 0; i < size; ++i) hashes.push_back(*HashFromHex(leaves_[i].leaf_hash_hex));
    checkpoints_.push_back(*signer_->Sign(size, RootHash(hashes), "2025-06-10T10:00:00Z"));
  }
  v1::VerifyAuditResponse Verify() { return VerifyAuditLog(leaves_, checkpoints_, signer_->PublicKeyPem()); }
  // Replaces record i as the gateway would have written it: hash and checkpoints made afresh.
  void Write(uint64_t i, v1::AuditRecord r) {
    r.set_index(i);
    leaves_[i].leaf_hash_hex = ToHex(RecordLeafHash(r));
    leaves_[i].record = std::move(r);
    checkpoints_.clear();
    Checkpoint(4);
    Checkpoint(10);
  }

  std::unique_ptr<CheckpointSigner> signer_;
  std::vector<StoredLeaf> leaves_;
  std::vector<v1::SignedCheckpoint> checkpoints_;
};

TEST_F(LogVerificationTest, UntouchedLogVerifies) {
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_TRUE(r.verified()) << r.message();
  EXPECT_EQ(r.tree_size(), 10u);
  EXPECT_EQ(r.checkpoints_verified(), 2u);
  EXPECT_EQ(r.unsigned_tail(), 0u);
}

TEST_F(LogVerificationTest, ChangedFieldIsNamed) {
  leaves_[6].record->set_outcome("refuse");
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 6u);
}

TEST_F(LogVerificationTest, FieldChangedWithItsLeafHashIsCaughtByTheCheckpoint) {
  leaves_[6].record->set_outcome("refuse");
  leaves_[6].leaf_hash_hex = ToHex(RecordLeafHash(*leaves_[6].record));
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 4u) << "the first record only the size-10 checkpoint covers";
}

TEST_F(LogVerificationTest, ARefusedReadCitesNoPersonAndStillVerifies) {
  // IG-8: another organisation's read of a referral is refused and recorded with the referral and
  // its owner, never the person or the consent; a later delivery must still cite them as decided.
  v1::AuditRecord decide = *leaves_[2].record;
  decide.set_referral_id("01a2038d-33f2-76fe-9b0a-63f11e000001");
  decide.set_referrer_ods("P85901");
  decide.set_consent_reference("consent-0001");
  Write(2, decide);
  v1::AuditRecord read;
  read.set_actor("P85902");
  read.set_action("read");
  read.set_outcome("refused");
  read.add_rule_ids("IG-8");
  read.set_referral_id(decide.referral_id());
  read.set_referrer_ods("P85901");
  Write(5, read);
  v1::VerifyAuditResponse r = Verify();
  EXPECT_TRUE(r.verified()) << r.message();

  v1::AuditRecord deliver = decide;
  deliver.set_action("deliver");
  deliver.set_nhs_number("9434765919");
  Write(7, deliver);
  r = Verify();
  EXPECT_FALSE(r.verified());
  EXPECT_EQ(r.first_bad_index(), 7u) << r.message();
}

TEST_F(LogVerificationTest, PrunedRecordsVerifyThroughTheirKeptHash) {
  leaves_[1].record.reset();
  leaves_[2].record.reset();
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_TRUE(r.verified()) << r.message();
  EXPECT_EQ(r.pruned_records(), 2u);
}

TEST_F(LogVerificationTest, PrunedRecordWithAChangedKeptHashIsCaught) {
  leaves_[1].record.reset();
  leaves_[1].leaf_hash_hex = ToHex(LeafHash("forged"));
  EXPECT_FALSE(Verify().verified());
}

TEST_F(LogVerificationTest, UnsignedTailIsReported) {
  checkpoints_.pop_back();
  const v1::VerifyAuditResponse r = Verify();
  EXPECT_TRUE(r.verified());
  EXPECT_EQ(r.unsigned_tail(), 6u);
}

TEST_F(LogVerificationTest, InclusionProofChecksOfflineAndCatchesAChangedRecord) {
  std::vector<Hash> hashes;
  for (const StoredLeaf& l : leaves_) hashes.push_back(*HashFromHex(l.leaf_hash_hex));
  v1::AuditInclusionProof proof;
  *proof.mutable_record() = *leaves_[7].record;
  proof.set_leaf_index(7);
  proof.set_tree_size(10);
  for (const Hash& h : InclusionProof(hashes, 7)) proof.add_audit_path_hex(ToHex(h));
  *proof.mutable_checkpoint() = checkpoints_[1];
  EXPECT_TRUE(CheckInclusionProof(proof, signer_->PublicKeyPem()).ok());

  v1::AuditInclusionProof changed = proof;
  changed.mutable_record()->set_recipient_endpoint("mind-oldham");
  EXPECT_EQ(CheckInclusionProof(changed, signer_->PublicKeyPem()).code(), absl::StatusCode::kDataLoss);
  changed = proof;
  changed.mutable_checkpoint()->set_tree_size(9);
  EXPECT_FALSE(CheckInclusionProof(changed, signer_->PublicKeyPem()).ok());
  auto other = CheckpointSigner::Generate();
  EXPECT_FALSE(CheckInclusionProof(proof, (*other)->PublicKeyPem()).ok());
}

TEST(CanonicalRecordBytesTest, LengthPrefixesMakeItUnambiguous) {
  v1::AuditRecord a, b;
  a.set_actor("x\nnhs_number:1:9");
  b.set_actor("x");
  b.set_nhs_number("9");
  EXPECT_NE(CanonicalRecordBytes(a), CanonicalRecordBytes(b));
  v1::AuditRecord c = a;
  c.set_leaf_hash_hex("ignored");
  EXPECT_EQ(CanonicalRecordBytes(a), CanonicalRecordBytes(c));
}

// Every log already written was hashed with these bytes: they may never change. The expected leaf
// hash was computed outside this code base: (printf '\x00'; cat bytes) | sha256sum.
TEST(CanonicalRecordBytesTest, TheBytesAndLeafHashOfAFixedRecordNeverChange) {
  v1::AuditRecord r;
  r.set_index(12345);
  r.set_time("2026-11-22T14:20:17Z");
  r.set_actor("gp-ehr-1");
  r.set_actor_organisation("P85913");
  r.set_nhs_number("9434765919");
  r.set_referral_id("01a2038d-33f2-76fe-9b0a-63f11e000001");
  r.set_action("decide");
  r.add_rule_ids("IG-1");
  r.add_rule_ids("IG-5");
  r.set_consent_reference("CR-0042");
  r.set_recipient_endpoint("ageuk-oldham");
  r.set_outcome("deliver");
  r.add_withheld_categories("safeguard");
  r.set_referrer_ods("P85913");
  r.set_detail("caf\xc3\xa9 line\nx");
  r.set_leaf_hash_hex("not hashed");
  r.set_pruned(true);
  EXPECT_EQ(CanonicalRecordBytes(r),
            "frontdoor-audit-record-v1\n"
            "index:5:12345\n"
            "time:20:2026-11-22T14:20:17Z\n"
            "actor:8:gp-ehr-1\n"
            "actor_organisation:6:P85913\n"
            "nhs_number:10:9434765919\n"
            "referral_id:36:01a2038d-33f2-76fe-9b0a-63f11e000001\n"
            "action:6:decide\n"
            "rule_id:4:IG-1\n"
            "rule_id:4:IG-5\n"
            "consent_reference:7:CR-0042\n"
            "recipient_endpoint:12:ageuk-oldham\n"
            "outcome:7:deliver\n"
            "withheld_category:9:safeguard\n"
            "referrer_ods:6:P85913\n"
            "lawful_basis:0:\n"
            "detail:12:caf\xc3\xa9 line\nx\n");
  EXPECT_EQ(ToHex(RecordLeafHash(r)), "2ae68a89c26a96fa8daae5396237502b750f82b3c6809c51c0faa6f9bb78d454");
  // The largest index and an empty record: the length prefix counts the digits.
  v1::AuditRecord empty;
  empty.set_index(18446744073709551615ull);
  EXPECT_EQ(CanonicalRecordBytes(empty),
            "frontdoor-audit-record-v1\nindex:20:18446744073709551615\ntime:0:\nactor:0:\n"
            "actor_organisation:0:\nnhs_number:0:\nreferral_id:0:\naction:0:\nconsent_reference:0:\n"
            "recipient_endpoint:0:\noutcome:0:\nreferrer_ods:0:\nlawful_basis:0:\ndetail:0:\n");
}

}  // namespace
}  // namespace frontdoor::audit
