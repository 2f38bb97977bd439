// The audit log's search columns on both stores: each column an insider could edit beside the
// signed record is caught by verification (naming the record and the column), and a search still
// finds the record by its true values and never by the planted ones.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/log_verification.h"
#include "gateway/store/audit_store.h"
#include "gateway/store/store.h"
#include "gtest/gtest.h"
#include "tests/support/store_backends.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::OpenedStore;
using frontdoor::testing::StoreBackend;

constexpr int kRecords = 5;
constexpr int kTarget = 2;  // the record whose columns are edited

v1::AuditRecord RecordNumber(int i) {
  v1::AuditRecord r;
  r.set_time(absl::StrCat("2025-06-1", i, "T09:00:00.000000Z"));
  r.set_actor("P85901");
  r.set_actor_organisation("P85901");
  r.set_nhs_number(i == kTarget ? "9434765919" : "9991951024");
  r.set_referral_id(absl::StrCat("ref-", i));
  r.set_action("decide");
  r.set_outcome(i == kTarget ? "refuse" : "permit");
  r.add_rule_ids(i == kTarget ? "IG-2" : "IG-1");
  r.set_recipient_endpoint(i == kTarget ? "mind-oldham" : "action-together-oldham");
  r.set_referrer_ods(i == kTarget ? "P85902" : "P85901");
  return r;
}

class AuditSearchTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(GetParam());
    db_ = std::make_unique<frontdoor::testing::TestDatabase>(GetParam());
    store_ = db_->Open();
    for (int i = 0; i < kRecords; ++i) ASSERT_TRUE(store_.audit()->AppendAudit({RecordNumber(i)}).ok());
  }

  v1::VerifyAuditResponse Verify() {
    auto leaves = store_.audit()->ReadAuditLeaves();
    auto checkpoints = store_.audit()->AuditCheckpoints();
    EXPECT_TRUE(leaves.ok() && checkpoints.ok());
    return audit::VerifyAuditLog(*leaves, *checkpoints, "");
  }

  // The indexes of the records `query` finds.
  std::vector<uint64_t> Find(const AuditQuery& query) {
    auto found = store_.audit()->QueryAudit(query, -1, 100);
    EXPECT_TRUE(found.ok()) << found.status();
    std::vector<uint64_t> indexes;
    if (found.ok()) {
      for (const v1::AuditRecord& r : *found) indexes.push_back(r.index());
    }
    return indexes;
  }

  void Exec(const std::string& sql) { ASSERT_TRUE(db_->ExecSql(sql).ok()) << sql; }

  std::unique_ptr<frontdoor::testing::TestDatabase> db_;
  OpenedStore store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, AuditSearchTest, frontdoor::testing::AllStoreBackends(),
                         frontdoor::testing::StoreBackendName);

TEST_P(AuditSearchTest, AnUntouchedLogVerifiesAndEachFilterFindsItsRecord) {
  EXPECT_TRUE(Verify().verified()) << Verify().message();
  const std::vector<uint64_t> target = {kTarget};
  EXPECT_EQ(Find({.nhs_number = "9434765919"}), target);
  EXPECT_EQ(Find({.recipient_endpoint = "mind-oldham"}), target);
  EXPECT_EQ(Find({.referrer_ods = "P85902"}), target);
  EXPECT_EQ(Find({.rule_id = "IG-2"}), target);
  EXPECT_EQ(Find({.outcome = "refuse"}), target);
  const absl::Time june_12 = absl::FromUnixSeconds(1749686400);  // 2025-06-12T00:00:00Z
  EXPECT_EQ(Find({.from = june_12, .to = june_12 + absl::Hours(24)}), target);
}

struct ColumnEdit {
  const char* column;
  const char* planted;  // SQL literal
  AuditQuery by_true_value;
  AuditQuery by_planted_value;
};

TEST_P(AuditSearchTest, EachEditedSearchColumnIsNamedByVerificationAndCannotBlindASearch) {
  const absl::Time june_12 = absl::FromUnixSeconds(1749686400);  // 2025-06-12T00:00:00Z
  const std::vector<ColumnEdit> edits = {
      {"nhs_number", "'9991951024'", {.nhs_number = "9434765919"}, {.nhs_number = "9991951024"}},
      {"recipient_endpoint",
       "'ageuk-oldham'",
       {.recipient_endpoint = "mind-oldham"},
       {.recipient_endpoint = "ageuk-oldham"}},
      {"referrer_ods", "'P85901'", {.referrer_ods = "P85902"}, {.referrer_ods = "P85901"}},
      {"outcome", "'permit'", {.outcome = "refuse"}, {.outcome = "permit"}},
      {"rule_ids", "',IG-1,'", {.rule_id = "IG-2"}, {.rule_id = "IG-1"}},
      {"referral_id", "'ref-0'", {.nhs_number = "9434765919"}, {.nhs_number = "0000000000"}},
      {"time_us", "0", {.from = june_12, .to = june_12 + absl::Hours(24)}, {.to = absl::FromUnixSeconds(1)}},
  };
  for (const ColumnEdit& edit : edits) {
    SCOPED_TRACE(edit.column);
    Exec(absl::StrCat("UPDATE audit_log SET ", edit.column, " = ", edit.planted, " WHERE leaf_index = ", kTarget));
    const v1::VerifyAuditResponse r = Verify();
    EXPECT_FALSE(r.verified());
    EXPECT_EQ(r.first_bad_index(), static_cast<uint64_t>(kTarget)) << r.message();
    EXPECT_NE(r.message().find(edit.column), std::string::npos) << r.message();
    EXPECT_EQ(Find(edit.by_true_value), std::vector<uint64_t>{kTarget}) << "found by what the record says";
    for (uint64_t index : Find(edit.by_planted_value)) EXPECT_NE(index, static_cast<uint64_t>(kTarget));
    // Put it back as the store wrote it, for the next column.
    db_.reset();
    store_ = OpenedStore();
    SetUp();
  }
}

TEST_P(AuditSearchTest, ASearchRefusesALogWhoseRecordNoLongerMatchesItsLeafHash) {
  v1::AuditRecord changed = RecordNumber(kTarget);
  changed.set_index(kTarget);
  changed.set_nhs_number("9991951024");
  // Hex of the serialized record, in each database's own literal for bytes.
  std::string hex;
  for (unsigned char c : changed.SerializeAsString()) absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
  Exec(absl::StrCat("UPDATE audit_log SET record = ",
                    GetParam() == StoreBackend::kSqlite ? absl::StrCat("X'", hex, "'") : absl::StrCat("'\\x", hex, "'"),
                    " WHERE leaf_index = ", kTarget));
  auto found = store_.audit()->QueryAudit({.nhs_number = "9991951024"}, -1, 100);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(found.status().message().find(absl::StrCat("record ", kTarget)), std::string::npos) << found.status();
}

// Later records of a referral copy who it is about from the store's audit context, a table beside
// the log: an edit there would file the delivery under another person, hidden from a search by
// the true NHS number. Verification holds each such record to the referral's decision.
TEST_P(AuditSearchTest, ADeliveryCitingAnEditedAuditContextIsNamedByVerification) {
  NewReferral r;
  r.referral_id = "r-ctx";
  r.sender_ods = "P85901";
  r.message_id = "m-ctx";
  r.format = "typed";
  r.received_at = absl::FromUnixSeconds(1749546000);
  r.decision.set_referral_id(r.referral_id);
  r.decision.set_disposition(v1::ACCEPTED);
  r.decision.set_endpoint_id("action-together-oldham");
  r.referral = frontdoor::testing::RoytonReferral("m-ctx");
  r.delivery = NewDelivery{"action-together-oldham", {}};
  r.delivery->request.set_idempotency_key("deliver:r-ctx");
  v1::AuditRecord decide = RecordNumber(0);
  decide.set_referral_id("r-ctx");
  decide.set_referrer_ods("P85901");
  decide.set_consent_reference("consent-1");
  r.audit.push_back(decide);
  std::vector<NewReferral> batch;
  batch.push_back(std::move(r));
  ASSERT_TRUE(store_->RecordReferrals(std::move(batch)).ok());
  Exec("UPDATE audit_context SET nhs_number = '9434765919' WHERE referral_id = 'r-ctx'");
  auto due = store_->DueDeliveries("action-together-oldham", absl::FromUnixSeconds(1749546000), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  ASSERT_TRUE(store_->MarkDeliveredMany({&due->at(0)}, absl::FromUnixSeconds(1749546001)).ok());
  const uint64_t delivery = *store_.audit()->AuditTreeSize() - 1;
  const v1::VerifyAuditResponse verdict = Verify();
  EXPECT_FALSE(verdict.verified());
  EXPECT_EQ(verdict.first_bad_index(), delivery) << verdict.message();
  EXPECT_NE(verdict.message().find("audit context"), std::string::npos) << verdict.message();
}

}  // namespace
}  // namespace frontdoor::gateway
