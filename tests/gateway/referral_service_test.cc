// ReferralService over real gRPC on loopback: a GatewayServer with its SQLite store in a temporary
// directory, delivering to a real in-process ConnectorService.
#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gateway/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::RoytonReferral;

bool HasIssue(const v1::SubmitReferralResponse& r, const std::string& code) {
  for (const auto& i : r.issues()) {
    if (i.code() == code) return true;
  }
  return false;
}

class ReferralServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.connector_overrides["action-together-oldham"] = connector_.address();
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    stub_ = v1::ReferralService::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::Status Submit(const v1::SubmitReferralRequest& req, v1::SubmitReferralResponse* resp,
                      const std::string& as = "P85901") {
    grpc::ClientContext ctx;
    if (!as.empty()) ctx.AddMetadata("x-frontdoor-client", as);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub_->SubmitReferral(&ctx, req, resp);
  }
  grpc::Status SubmitTyped(const v1::Referral& referral, v1::SubmitReferralResponse* resp,
                           const std::string& as = "P85901") {
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = referral;
    return Submit(req, resp, as);
  }
  grpc::Status Get(const std::string& id, v1::GetReferralResponse* resp, const std::string& as = "P85901") {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    v1::GetReferralRequest req;
    req.set_referral_id(id);
    return stub_->GetReferral(&ctx, req, resp);
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
};

TEST_F(ReferralServiceTest, TypedReferralIsAcceptedRoutedAndDelivered) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::ACCEPTED);
  EXPECT_EQ(resp.connector_id(), "oldham-north-royton-wellbeing");
  EXPECT_EQ(resp.endpoint_id(), "action-together-oldham");
  EXPECT_FALSE(resp.referral_id().empty());
  EXPECT_FALSE(resp.duplicate());
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  const v1::DeliverReferralRequest delivered = connector_.received()[0];
  EXPECT_EQ(delivered.referral().referral_id(), resp.referral_id());
  EXPECT_EQ(delivered.referral().team_id(), "oldham-north-royton-wellbeing");
  EXPECT_EQ(delivered.referral().nhs_number(), "9991951024") << "Action Together accepts NHS numbers";
  EXPECT_EQ(delivered.SerializeAsString().find("1979-08-14"), std::string::npos) << "birth date is not forwarded";
}

TEST_F(ReferralServiceTest, AnswerComesOnlyAfterTheReferralIsOnDisk) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  // Read the SQLite file through a separate connection, as a restarted gateway would.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_.path() + "/data/frontdoor.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM outbox o JOIN referrals r USING (referral_id) WHERE r.referral_id = ?1",
                               -1, &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, resp.referral_id().c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(ReferralServiceTest, SameMessageAgainIsADuplicateOfTheFirst) {
  v1::SubmitReferralResponse first, second;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &first).ok());
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &second).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.referral_id(), first.referral_id());
  EXPECT_EQ(second.connector_id(), first.connector_id());
  connector_.WaitForDistinct(1, absl::Seconds(20));
  EXPECT_EQ(connector_.calls_per_key().size(), 1u);
}

TEST_F(ReferralServiceTest, ConcurrentResendsOfOneFhirMessageBecomeOneReferral) {
  std::ifstream in(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/01-fhir-oldham-wellbeing.json");
  std::stringstream text;
  text << in.rdbuf();
  v1::SubmitReferralRequest req;
  req.set_fhir_json(text.str());
  constexpr int kSenders = 12;
  std::vector<v1::SubmitReferralResponse> answers(kSenders);
  std::vector<grpc::Status> statuses(kSenders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kSenders; ++i) {
    threads.emplace_back([&, i] { statuses[i] = Submit(req, &answers[i]); });
  }
  for (auto& t : threads) t.join();
  int firsts = 0;
  for (int i = 0; i < kSenders; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(answers[i].disposition(), v1::ACCEPTED);
    EXPECT_EQ(answers[i].referral_id(), answers[0].referral_id());
    firsts += answers[i].duplicate() ? 0 : 1;
  }
  EXPECT_EQ(firsts, 1);
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  // Give a second delivery every chance to show up before counting: the outbox is drained.
  v1::GetReferralResponse got;
  for (int i = 0; i < 400 && got.delivery_state() != v1::DELIVERED; ++i) {
    got.Clear();
    ASSERT_TRUE(Get(answers[0].referral_id(), &got).ok());
    absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_EQ(got.delivery_state(), v1::DELIVERED);
  EXPECT_EQ(connector_.calls_per_key().size(), 1u);
  EXPECT_EQ(connector_.received().size(), 1u);
}

TEST_F(ReferralServiceTest, InvalidNhsNumberIsRejectedAndNotRemembered) {
  v1::Referral bad = RoytonReferral("m1");
  bad.mutable_person()->set_nhs_number("9991951025");
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(bad, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REJECTED);
  EXPECT_TRUE(HasIssue(resp, "INVALID_NHS_NUMBER"));
  EXPECT_TRUE(resp.referral_id().empty());
  for (const auto& i : resp.issues()) EXPECT_EQ(i.message().find("9991951025"), std::string::npos);
  // A corrected message with the same id is a new referral, not a duplicate of the rejection.
  v1::SubmitReferralResponse fixed;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &fixed).ok());
  EXPECT_EQ(fixed.disposition(), v1::ACCEPTED);
  EXPECT_FALSE(fixed.duplicate());
}

TEST_F(ReferralServiceTest, NoConsentIsRefusedWithIg1AndNothingIsDelivered) {
  v1::Referral r = RoytonReferral("m1");
  r.clear_consents();
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(r, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REFUSED);
  EXPECT_TRUE(HasIssue(resp, "IG-1"));
  EXPECT_TRUE(resp.connector_id().empty());
  v1::GetReferralResponse got;
  ASSERT_TRUE(Get(resp.referral_id(), &got).ok());
  EXPECT_EQ(got.delivery_state(), v1::NOT_FOR_DELIVERY);
}

TEST_F(ReferralServiceTest, UnderEighteenIsRefusedWithIg3) {
  v1::Referral r = RoytonReferral("m1");
  r.mutable_person()->set_birth_date("2008-06-01");
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(r, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REFUSED);
  EXPECT_TRUE(HasIssue(resp, "IG-3"));
}

TEST_F(ReferralServiceTest, OutOfAreaIsRefused) {
  v1::Referral r = RoytonReferral("m1");
  r.mutable_person()->mutable_home_address()->set_postcode("M1 1AE");
  r.mutable_person()->set_registered_practice_ods("Y01234");
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(r, &resp).ok());
  EXPECT_EQ(resp.disposition(), v1::REFUSED);
  EXPECT_TRUE(HasIssue(resp, "OUT_OF_AREA"));
}

TEST_F(ReferralServiceTest, CallerWithoutIdentityIsUnauthenticated) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(SubmitTyped(RoytonReferral("m1"), &resp, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ReferralServiceTest, IdentityOutsideTheNetworkIsPermissionDenied) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(SubmitTyped(RoytonReferral("m1"), &resp, "X99999").error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReferralServiceTest, PracticeSubmittingAsAnotherIsPermissionDenied) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(SubmitTyped(RoytonReferral("m1"), &resp, "P85902").error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ReferralServiceTest, RequestWithoutPayloadIsInvalidArgument) {
  v1::SubmitReferralResponse resp;
  EXPECT_EQ(Submit(v1::SubmitReferralRequest(), &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReferralServiceTest, GetReferralShowsTheDeliveryOnceItArrives) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  v1::GetReferralResponse got;
  for (int i = 0; i < 200; ++i) {
    got.Clear();
    ASSERT_TRUE(Get(resp.referral_id(), &got).ok());
    if (got.delivery_state() == v1::DELIVERED) break;
    absl::SleepFor(absl::Milliseconds(25));  // the mark follows the connector's answer
  }
  EXPECT_EQ(got.delivery_state(), v1::DELIVERED);
  EXPECT_EQ(got.message_id(), "m1");
  EXPECT_EQ(got.decision().connector_id(), "oldham-north-royton-wellbeing");
  EXPECT_FALSE(got.delivered_at().empty());
}

TEST_F(ReferralServiceTest, AnotherOrganisationCannotReadTheReferral) {
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(SubmitTyped(RoytonReferral("m1"), &resp).ok());
  v1::GetReferralResponse got;
  EXPECT_EQ(Get(resp.referral_id(), &got, "P85902").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get("no-such-referral", &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReferralServiceTest, HealthServiceReportsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace frontdoor::gateway
