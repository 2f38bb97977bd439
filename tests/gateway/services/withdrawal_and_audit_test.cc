// Withdrawal (IG-7) and the audit log (IG-9) over real loopback gRPC: CancelReferral stops a
// pending delivery or follows a delivered one with CeaseProcessing; AuditService answers only IG
// officers, lists every disclosure about a person, verifies, and proves inclusion offline.
#include <memory>
#include <string>
#include <vector>

#include "audit/log_verification.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::RoytonReferral;

constexpr char kReferrer[] = "P85901";
constexpr char kOfficer[] = "ig-officer-oldham";

class WithdrawalAndAuditTest : public ::testing::TestWithParam<frontdoor::testing::StoreBackend> {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(GetParam());
    db_ = std::make_unique<frontdoor::testing::TestDatabase>(GetParam());
    GatewayOptions options;
    options.config_path = frontdoor::testing::WriteBulkTestConfig(dir_.path(), db_->ConfigBlock());
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.connector_overrides["action-together-oldham"] = connector_.address();
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    referrals_ = v1::ReferralService::NewStub(channel);
    audit_ = v1::AuditService::NewStub(channel);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& who) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("x-frontdoor-client", who);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }
  v1::SubmitReferralResponse Submit(const v1::Referral& referral) {
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = referral;
    v1::SubmitReferralResponse resp;
    EXPECT_TRUE(referrals_->SubmitReferral(As(kReferrer).get(), req, &resp).ok());
    return resp;
  }
  grpc::Status Cancel(const std::string& id, v1::CancelReferralResponse* resp, const std::string& as = kReferrer,
                      v1::CancelReason reason = v1::CONSENT_WITHDRAWN) {
    v1::CancelReferralRequest req;
    req.set_referral_id(id);
    req.set_reason(reason);
    return referrals_->CancelReferral(As(as).get(), req, resp);
  }
  v1::GetReferralResponse Get(const std::string& id) {
    v1::GetReferralRequest req;
    req.set_referral_id(id);
    v1::GetReferralResponse resp;
    EXPECT_TRUE(referrals_->GetReferral(As(kReferrer).get(), req, &resp).ok());
    return resp;
  }
  std::vector<v1::AuditRecord> Query(const v1::QueryAuditRequest& req, grpc::Status* status,
                                     const std::string& as = kOfficer) {
    auto ctx = As(as);
    auto reader = audit_->QueryAudit(ctx.get(), req);
    std::vector<v1::AuditRecord> out;
    v1::AuditRecord r;
    while (reader->Read(&r)) out.push_back(r);
    *status = reader->Finish();
    return out;
  }
  // Waits until `pred` holds, at most 20 s.
  template <typename P>
  bool Eventually(P pred) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (pred()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return pred();
  }

  frontdoor::testing::TempDir dir_;
  std::unique_ptr<frontdoor::testing::TestDatabase> db_;  // SQLite file or PostgreSQL database
  frontdoor::testing::RecordingConnector connector_;
  ManualClock clock_{absl::FromCivil(absl::CivilSecond(2025, 6, 10, 9, 0, 0), absl::UTCTimeZone())};
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

INSTANTIATE_TEST_SUITE_P(Backends, WithdrawalAndAuditTest, frontdoor::testing::AllStoreBackends(),
                         frontdoor::testing::StoreBackendName);

TEST_P(WithdrawalAndAuditTest, CancellingADeliveredReferralSendsCeaseAfterTheDelivery) {
  const v1::SubmitReferralResponse accepted = Submit(RoytonReferral("w1"));
  ASSERT_EQ(accepted.disposition(), v1::ACCEPTED);
  ASSERT_TRUE(Eventually([&] { return Get(accepted.referral_id()).delivery_state() == v1::DELIVERED; }));
  v1::CancelReferralResponse resp;
  ASSERT_TRUE(Cancel(accepted.referral_id(), &resp).ok());
  EXPECT_EQ(resp.delivery_state(), v1::DELIVERED);
  EXPECT_TRUE(resp.cease_processing_sent());
  EXPECT_FALSE(resp.duplicate());
  ASSERT_TRUE(Eventually([&] { return connector_.events().size() >= 2; }));
  EXPECT_EQ(connector_.events(),
            (std::vector<std::string>{"deliver:" + accepted.referral_id(), "cease:" + accepted.referral_id()}));
  ASSERT_TRUE(Eventually([&] { return Get(accepted.referral_id()).cease_processing_acknowledged(); }));
  const v1::GetReferralResponse got = Get(accepted.referral_id());
  EXPECT_EQ(got.cancel_reason(), v1::CONSENT_WITHDRAWN);
  EXPECT_FALSE(got.cancelled_at().empty());
  EXPECT_EQ(got.delivery_state(), v1::DELIVERED);
}

TEST_P(WithdrawalAndAuditTest, CancellingAPendingDeliveryStopsItAndStillSendsCease) {
  connector_.FailNext(1);  // the first attempt fails; the retry waits on the manual clock
  const v1::SubmitReferralResponse accepted = Submit(RoytonReferral("w2"));
  ASSERT_TRUE(Eventually([&] { return connector_.failed_calls() == 1; }));
  v1::CancelReferralResponse resp;
  ASSERT_TRUE(Cancel(accepted.referral_id(), &resp, kReferrer, v1::ENTERED_IN_ERROR).ok());
  EXPECT_EQ(resp.delivery_state(), v1::DELIVERY_CANCELLED);
  EXPECT_TRUE(resp.cease_processing_sent());
  clock_.Advance(absl::Hours(1));  // any retry would now be due
  ASSERT_TRUE(Eventually([&] { return !connector_.events().empty(); }));
  EXPECT_EQ(connector_.events(), std::vector<std::string>{"cease:" + accepted.referral_id()})
      << "the stopped delivery is never sent";
  EXPECT_EQ(Get(accepted.referral_id()).delivery_state(), v1::DELIVERY_CANCELLED);
  EXPECT_EQ(Get(accepted.referral_id()).cancel_reason(), v1::ENTERED_IN_ERROR);
}

TEST_P(WithdrawalAndAuditTest, CancellingTwiceGivesTheSameAnswerAndOneCease) {
  const v1::SubmitReferralResponse accepted = Submit(RoytonReferral("w3"));
  ASSERT_TRUE(Eventually([&] { return Get(accepted.referral_id()).delivery_state() == v1::DELIVERED; }));
  v1::CancelReferralResponse first, second;
  ASSERT_TRUE(Cancel(accepted.referral_id(), &first).ok());
  ASSERT_TRUE(Cancel(accepted.referral_id(), &second, kReferrer, v1::NO_LONGER_NEEDED).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.delivery_state(), first.delivery_state());
  EXPECT_EQ(second.cease_processing_sent(), first.cease_processing_sent());
  ASSERT_TRUE(Eventually([&] { return Get(accepted.referral_id()).cease_processing_acknowledged(); }));
  EXPECT_EQ(connector_.calls_per_key().count("cease:" + accepted.referral_id()), 1u);
  EXPECT_EQ(connector_.calls_per_key().at("cease:" + accepted.referral_id()), 1);
}

TEST_P(WithdrawalAndAuditTest, OnlyTheReferringOrganisationMayCancel) {
  const v1::SubmitReferralResponse accepted = Submit(RoytonReferral("w4"));
  v1::CancelReferralResponse resp;
  EXPECT_EQ(Cancel(accepted.referral_id(), &resp, "P85902").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Cancel(accepted.referral_id(), &resp, kOfficer).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(WithdrawalAndAuditTest, UnknownRefusedOrReasonlessCancellationsAreClearErrors) {
  v1::CancelReferralResponse resp;
  EXPECT_EQ(Cancel("no-such-referral", &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::Referral refused = RoytonReferral("w5");
  refused.clear_consents();
  const v1::SubmitReferralResponse r = Submit(refused);
  ASSERT_EQ(r.disposition(), v1::REFUSED);
  EXPECT_EQ(Cancel(r.referral_id(), &resp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Cancel(r.referral_id(), &resp, kReferrer, v1::CANCEL_REASON_UNSPECIFIED).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(WithdrawalAndAuditTest, QueryAuditByNonIgOfficerIsPermissionDenied) {
  grpc::Status status;
  Query(v1::QueryAuditRequest(), &status, kReferrer);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Query(v1::QueryAuditRequest(), &status, "action-together-oldham");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::VerifyAuditResponse verify;
  EXPECT_EQ(audit_->VerifyAudit(As(kReferrer).get(), v1::VerifyAuditRequest(), &verify).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(WithdrawalAndAuditTest, EveryDisclosureAboutAPersonIsListedWithConsentAndRules) {
  v1::Referral referral = RoytonReferral("w6");
  v1::Coding* hiv = referral.add_reasons();
  hiv->set_system("http://snomed.info/sct");
  hiv->set_code("86406008");
  hiv->set_display("Human immunodeficiency virus infection");
  referral.set_referrer_text("CLINICAL-FREE-TEXT-MARKER");
  const v1::SubmitReferralResponse accepted = Submit(referral);
  ASSERT_EQ(accepted.disposition(), v1::ACCEPTED);
  ASSERT_TRUE(Eventually([&] { return Get(accepted.referral_id()).delivery_state() == v1::DELIVERED; }));
  v1::CancelReferralResponse cancelled;
  ASSERT_TRUE(Cancel(accepted.referral_id(), &cancelled).ok());
  ASSERT_TRUE(Eventually([&] { return Get(accepted.referral_id()).cease_processing_acknowledged(); }));

  v1::QueryAuditRequest q;
  q.set_nhs_number(referral.person().nhs_number());
  grpc::Status status;
  const std::vector<v1::AuditRecord> records = Query(q, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> actions;
  for (const v1::AuditRecord& r : records) {
    actions.push_back(r.action());
    EXPECT_EQ(r.nhs_number(), referral.person().nhs_number());
    EXPECT_EQ(r.SerializeAsString().find("CLINICAL-FREE-TEXT-MARKER"), std::string::npos);
    EXPECT_EQ(r.SerializeAsString().find("86406008"), std::string::npos) << "categories, never values";
  }
  ASSERT_GE(records.size(), 5u);
  EXPECT_EQ(actions.front(), "decide");
  EXPECT_EQ(records.front().outcome(), "permit");
  EXPECT_EQ(records.front().consent_reference(), referral.consents(0).id());
  EXPECT_EQ(records.front().recipient_endpoint(), "action-together-oldham");
  EXPECT_EQ(records.front().lawful_basis(), "UK GDPR Art 6(1)(e); Art 9(2)(h) (direct care)");
  EXPECT_NE(std::find(actions.begin(), actions.end(), "withhold"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "deliver"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "withdraw"), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "cease"), actions.end());
  bool hiv_withheld = false;
  for (const v1::AuditRecord& r : records) {
    for (const std::string& c : r.withheld_categories()) hiv_withheld = hiv_withheld || c == "hiv";
  }
  EXPECT_TRUE(hiv_withheld);
  for (size_t i = 1; i < records.size(); ++i) EXPECT_LT(records[i - 1].index(), records[i].index()) << "oldest first";

  // The query itself was audited, about the person queried.
  v1::QueryAuditRequest queries;
  queries.set_outcome("query");
  const std::vector<v1::AuditRecord> audited = Query(queries, &status);
  ASSERT_TRUE(status.ok());
  ASSERT_FALSE(audited.empty());
  EXPECT_EQ(audited.front().actor(), kOfficer);
  EXPECT_EQ(audited.front().nhs_number(), referral.person().nhs_number());
}

TEST_P(WithdrawalAndAuditTest, RuleAndRecipientFiltersNarrowTheAnswer) {
  v1::Referral refused = RoytonReferral("w7");
  refused.clear_consents();
  Submit(refused);
  Submit(RoytonReferral("w8"));
  v1::QueryAuditRequest q;
  q.set_rule_id("IG-1");
  grpc::Status status;
  const std::vector<v1::AuditRecord> ig1 = Query(q, &status);
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(ig1.size(), 1u);
  EXPECT_EQ(ig1[0].outcome(), "refuse");
  q.Clear();
  q.set_outcome("permit");
  q.set_referrer_ods(kReferrer);
  EXPECT_EQ(Query(q, &status).size(), 1u);
  q.Clear();
  q.set_from_time("not a time");
  Query(q, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(WithdrawalAndAuditTest, UntouchedLogVerifiesAndAProofChecksOfflineWithThePublicKey) {
  Submit(RoytonReferral("w9"));
  ASSERT_TRUE(Eventually([&] { return connector_.WaitForDistinct(1, absl::Milliseconds(1)) == 1; }));
  v1::VerifyAuditResponse verify;
  ASSERT_TRUE(audit_->VerifyAudit(As(kOfficer).get(), v1::VerifyAuditRequest(), &verify).ok());
  EXPECT_TRUE(verify.verified()) << verify.message();
  EXPECT_GT(verify.tree_size(), 0u);

  v1::ProveInclusionRequest prove;
  prove.set_index(0);
  v1::AuditInclusionProof proof;
  ASSERT_TRUE(audit_->ProveInclusion(As(kOfficer).get(), prove, &proof).ok());
  v1::GetPublicKeyResponse key;
  ASSERT_TRUE(audit_->GetPublicKey(As(kOfficer).get(), v1::GetPublicKeyRequest(), &key).ok());
  EXPECT_TRUE(audit::CheckInclusionProof(proof, key.public_key_pem()).ok());
  proof.mutable_record()->set_outcome("refuse");
  EXPECT_FALSE(audit::CheckInclusionProof(proof, key.public_key_pem()).ok());
  prove.set_index(100000);
  EXPECT_EQ(audit_->ProveInclusion(As(kOfficer).get(), prove, &proof).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace frontdoor::gateway
