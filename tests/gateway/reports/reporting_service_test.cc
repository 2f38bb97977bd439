// Outcome reports from a real gateway: referrals submitted and feedback reported through its doors
// come back as figures, exactly, by gRPC; small numbers are suppressed; no identifier is in any
// answer; only commissioners and IG officers may ask, and each request is an audit record.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "frontdoor/v1/reporting_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

constexpr int kAccepted = 10;  // Royton referrals, each one person
constexpr int kClosed = 9;     // of which the connector closed this many with SWEMWBS scores

class ReportingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.config_path = frontdoor::testing::WriteBulkTestConfig(dir_.path());
    options.connector_overrides["action-together-oldham"] = connector_.address();
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<grpc::ClientContext> As(const std::string& identity) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("x-frontdoor-client", identity);
    return ctx;
  }

  // kAccepted Royton referrals, kClosed of them contacted then closed with SWEMWBS 18 -> 22; and
  // one refused under IG-1 (sample 08, another practice).
  void Seed() {
    auto referrals = v1::ReferralService::NewStub(channel_);
    auto feedback = v1::FeedbackService::NewStub(channel_);
    std::vector<std::string> ids;
    for (int i = 0; i < kAccepted; ++i) {
      v1::SubmitReferralRequest req;
      *req.mutable_referral() = frontdoor::testing::RoytonReferral(absl::StrCat("report-", i));
      req.mutable_referral()->mutable_person()->set_nhs_number(kNhsNumbers[i]);
      v1::SubmitReferralResponse resp;
      ASSERT_TRUE(referrals->SubmitReferral(As("P85901").get(), req, &resp).ok());
      ASSERT_EQ(resp.disposition(), v1::ACCEPTED);
      ids.push_back(resp.referral_id());
    }
    // A connector reports on what it has received.
    ASSERT_EQ(connector_.WaitForDistinct(kAccepted, absl::Seconds(20)), kAccepted);
    for (int i = 0; i < kClosed; ++i) {
      v1::SubmitReferralResponse resp;
      resp.set_referral_id(ids[i]);
      int step = 0;
      for (v1::ProgressStatus status : {v1::PROGRESS_CONTACTED, v1::PROGRESS_CLOSED}) {
        v1::ReportProgressRequest report;
        report.set_referral_id(resp.referral_id());
        report.set_idempotency_key(absl::StrCat(resp.referral_id(), "-", step));
        report.set_status(status);
        ++step;
        report.set_occurred_at(absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()));
        if (status == v1::PROGRESS_CLOSED) {
          report.set_reason("Support completed");
          v1::OutcomeMeasure* m = report.add_outcome_measures();
          m->set_instrument("SWEMWBS");
          m->set_start_score(18);
          m->set_end_score(22);
        }
        v1::ReportProgressResponse ack;
        const grpc::Status s = feedback->ReportProgress(As("action-together-oldham").get(), report, &ack);
        ASSERT_TRUE(s.ok()) << s.error_message();
      }
    }
    std::ifstream in(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/08-fhir-ig1-no-consent.json");
    std::stringstream bundle;
    bundle << in.rdbuf();
    v1::SubmitReferralRequest refused;
    refused.set_fhir_json(bundle.str());
    v1::SubmitReferralResponse resp;
    ASSERT_TRUE(referrals->SubmitReferral(As("P85915").get(), refused, &resp).ok());
    ASSERT_EQ(resp.disposition(), v1::REFUSED);
  }

  grpc::Status Report(const std::string& as, v1::ReportRequest request, v1::Report* report) {
    return v1::ReportingService::NewStub(channel_)->GetReport(As(as).get(), request, report);
  }

  static v1::ReportRequest Today(v1::ReportRequest::Breakdown by = v1::ReportRequest::NONE) {
    v1::ReportRequest r;
    const absl::Time now = absl::Now();
    r.set_from_date(absl::FormatTime("%Y-%m-%d", now - absl::Hours(48), absl::UTCTimeZone()));
    r.set_to_date(absl::FormatTime("%Y-%m-%d", now + absl::Hours(48), absl::UTCTimeZone()));
    r.set_period(v1::ReportRequest::MONTH);
    r.set_breakdown(by);
    return r;
  }

  static constexpr const char* kNhsNumbers[kAccepted] = {"9991951024", "9434765919", "9991830545", "9991414894",
                                                         "9991296506", "9000000009", "9000000017", "9000000025",
                                                         "9000000033", "9000000041"};

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ReportingServiceTest, ACommissionerGetsTheFiguresWithSmallNumbersSuppressed) {
  Seed();
  v1::Report report;
  const grpc::Status s = Report("commissioner-oldham-tameside", Today(v1::ReportRequest::TEAM), &report);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::ReportGroup& total = report.whole_range().total();
  EXPECT_EQ(total.referrals().received().value(), kAccepted + 1);
  EXPECT_TRUE(total.referrals().refused().suppressed()) << "1 refusal is a small number";
  EXPECT_TRUE(total.referrals().accepted().suppressed()) << "received - accepted would give the refusal away";
  EXPECT_EQ(total.funnel().contacted().value(), kClosed);
  EXPECT_EQ(total.funnel().closed().value(), kClosed);
  ASSERT_FALSE(total.outcomes().empty());
  bool swemwbs = false;
  for (const v1::OutcomeChange& o : total.outcomes()) {
    if (o.instrument() != "SWEMWBS") continue;
    swemwbs = true;
    EXPECT_EQ(o.people().value(), kClosed);
    EXPECT_DOUBLE_EQ(o.mean_change().value(), 4.0);
    EXPECT_EQ(o.improved().value(), kClosed);
  }
  EXPECT_TRUE(swemwbs);
  bool royton = false;
  for (const v1::ReportGroup& g : report.whole_range().groups()) {
    if (g.key() == "oldham-north-royton-wellbeing") {
      royton = true;
      EXPECT_EQ(g.funnel().contacted().value(), kClosed);
      // Total received (11) less this team's received (10) would be the one refused referral
      // (its group is "unknown": a refused referral has no team), so one of them is hidden.
      EXPECT_TRUE(g.referrals().received().suppressed() || total.referrals().received().suppressed())
          << g.DebugString();
    }
  }
  EXPECT_TRUE(royton);

  // Aggregates only: nothing of any person is in the answer.
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(report, &json).ok());
  for (const char* nhs : kNhsNumbers) EXPECT_EQ(json.find(nhs), std::string::npos) << nhs;
  for (const char* name : {"Pickup", "Olivia", "OL2 6LB", "OL2"}) EXPECT_EQ(json.find(name), std::string::npos) << name;
}

// A rejected message has no referral, but a report counts it, by who sent it: nothing else of it
// is kept (its counting is written after the answer, so the report is asked until it shows).
TEST_F(ReportingServiceTest, RejectedMessagesAreCountedBySourceWithNothingOfThemKept) {
  std::ifstream in(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/13-fhir-invalid-nhs-number.json");
  std::stringstream bundle;
  bundle << in.rdbuf();
  auto referrals = v1::ReferralService::NewStub(channel_);
  constexpr int kRejected = 9;
  for (int i = 0; i < kRejected; ++i) {
    v1::SubmitReferralRequest req;
    req.set_fhir_json(bundle.str());
    v1::SubmitReferralResponse resp;
    ASSERT_TRUE(referrals->SubmitReferral(As("P85903").get(), req, &resp).ok());
    ASSERT_EQ(resp.disposition(), v1::REJECTED);
  }
  v1::Report report;
  frontdoor::testing::WaitFor(
      [&] {
        report.Clear();
        return Report("commissioner-oldham-tameside", Today(v1::ReportRequest::SOURCE), &report).ok() &&
               report.whole_range().total().referrals().rejected().value() == kRejected;
      },
      absl::Seconds(10), absl::Milliseconds(50));
  const v1::ReportGroup& total = report.whole_range().total();
  EXPECT_EQ(total.referrals().received().value(), kRejected);
  EXPECT_EQ(total.referrals().rejected().value(), kRejected);
  EXPECT_EQ(total.referrals().accepted().value(), 0);
  ASSERT_EQ(report.whole_range().groups_size(), 1) << report.whole_range().DebugString();
  EXPECT_EQ(report.whole_range().groups(0).key(), "gp-practice") << "P85903 is a practice";
  EXPECT_EQ(report.whole_range().groups(0).referrals().rejected().value(), kRejected);
  // Nothing of the messages: not the (invalid) NHS number nor the person's name.
  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(report, &json).ok());
  EXPECT_EQ(json.find("P85903"), std::string::npos);
}

TEST_F(ReportingServiceTest, OnlyCommissionersAndIgOfficersMayAskAndEachRequestIsAudited) {
  v1::Report report;
  EXPECT_EQ(Report("P85901", Today(), &report).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Report("action-together-oldham", Today(), &report).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Report("frontdoor-operator", Today(), &report).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Report("", Today(), &report).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Report("ig-officer-oldham", Today(), &report).ok());
  EXPECT_TRUE(Report("commissioner-oldham-tameside", Today(v1::ReportRequest::BOROUGH), &report).ok());
  v1::ReportRequest bad = Today();
  bad.set_to_date("2020-13-01");
  EXPECT_EQ(Report("commissioner-oldham-tameside", bad, &report).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A commissioner reads figures, not the audit log or a referral.
  auto ctx = As("commissioner-oldham-tameside");
  auto reader = v1::AuditService::NewStub(channel_)->QueryAudit(ctx.get(), v1::QueryAuditRequest());
  v1::AuditRecord record;
  while (reader->Read(&record)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  auto officer = As("ig-officer-tameside");
  v1::QueryAuditRequest q;
  q.set_action("report");
  auto reports = v1::AuditService::NewStub(channel_)->QueryAudit(officer.get(), q);
  int audited = 0;
  std::string actors;
  while (reports->Read(&record)) {
    ++audited;
    actors += record.actor() + " " + record.detail() + "\n";
  }
  ASSERT_TRUE(reports->Finish().ok());
  EXPECT_EQ(audited, 2) << "the two reports answered, each recorded; the refused ones never ran:\n" << actors;
  EXPECT_NE(actors.find("commissioner-oldham-tameside outcome report"), std::string::npos) << actors;
  EXPECT_NE(actors.find("BOROUGH"), std::string::npos) << actors;
}

}  // namespace
}  // namespace frontdoor::gateway
