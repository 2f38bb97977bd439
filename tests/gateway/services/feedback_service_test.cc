// FeedbackService.ReportProgress, GetReferral's history and ReferralService.WatchFeedback over real
// gRPC on loopback: a GatewayServer with its SQLite store, delivering to an in-process connector.
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/gateway/gateway_test_support.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::RoytonReferral;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string NowRfc3339() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Seconds(1), absl::UTCTimeZone());
}

v1::ReportProgressRequest Report(const std::string& referral_id, v1::ProgressStatus status, const std::string& key) {
  v1::ReportProgressRequest r;
  r.set_referral_id(referral_id);
  r.set_idempotency_key(key);
  r.set_status(status);
  r.set_occurred_at(NowRfc3339());
  if (status == v1::PROGRESS_CONNECTED) {
    r.add_connected_to("Royton walking club");
    r.add_connected_to("Coffee morning at the library");
  }
  if (status == v1::PROGRESS_DECLINED) r.set_reason("Does not want support just now");
  if (status == v1::PROGRESS_CLOSED) {
    r.set_reason("Goals met");
    v1::OutcomeMeasure* m = r.add_outcome_measures();
    m->set_instrument("SWEMWBS");
    m->set_start_score(19.25);
    m->set_end_score(24.11);
  }
  return r;
}

class FeedbackServiceTest : public ::testing::TestWithParam<frontdoor::testing::StoreBackend> {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(GetParam());
    db_ = std::make_unique<frontdoor::testing::TestDatabase>(GetParam());
    GatewayOptions options = testing::LoopbackGatewayOptions(dir_.path(), connector_.address());
    options.config_path = frontdoor::testing::WriteBulkTestConfig(dir_.path(), db_->ConfigBlock());
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    referrals_ = v1::ReferralService::NewStub(channel);
    feedback_ = v1::FeedbackService::NewStub(channel);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // Submits, waits until delivered; returns the answer.
  v1::SubmitReferralResponse SubmitDelivered(const v1::SubmitReferralRequest& req, const std::string& as) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    v1::SubmitReferralResponse resp;
    EXPECT_TRUE(referrals_->SubmitReferral(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.disposition(), v1::ACCEPTED);
    for (int i = 0; i < 2000; ++i) {
      v1::GetReferralResponse got;
      if (Get(resp.referral_id(), &got, as).ok() && got.delivery_state() == v1::DELIVERED) return resp;
      absl::SleepFor(absl::Milliseconds(10));
    }
    ADD_FAILURE() << "not delivered";
    return resp;
  }
  std::string SubmitRoyton(const std::string& message_id, const std::string& sender = "P85901") {
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = RoytonReferral(message_id);
    req.mutable_referral()->set_sender_ods(sender);
    return SubmitDelivered(req, sender).referral_id();
  }
  grpc::Status Get(const std::string& id, v1::GetReferralResponse* resp, const std::string& as = "P85901") {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    v1::GetReferralRequest req;
    req.set_referral_id(id);
    return referrals_->GetReferral(&ctx, req, resp);
  }
  grpc::Status ReportAs(const std::string& as, const v1::ReportProgressRequest& req,
                        v1::ReportProgressResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    v1::ReportProgressResponse ignored;
    return feedback_->ReportProgress(&ctx, req, resp ? resp : &ignored);
  }
  // Reads `n` events from a new stream after `cursor`, then drops the stream.
  std::vector<v1::FeedbackEvent> Watch(const std::string& as, const std::string& cursor, size_t n,
                                       grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::WatchFeedbackRequest req;
    req.set_cursor(cursor);
    auto reader = referrals_->WatchFeedback(&ctx, req);
    std::vector<v1::FeedbackEvent> out;
    v1::FeedbackEvent event;
    bool open = true;
    while (out.size() < n && (open = reader->Read(&event))) out.push_back(event);
    if (open) ctx.TryCancel();  // drop the stream, as a client that goes away would
    grpc::Status s = reader->Finish();
    if (status) *status = s;
    return out;
  }

  frontdoor::testing::TempDir dir_;
  std::unique_ptr<frontdoor::testing::TestDatabase> db_;  // SQLite file or PostgreSQL database
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::FeedbackService::Stub> feedback_;
};

INSTANTIATE_TEST_SUITE_P(Backends, FeedbackServiceTest, frontdoor::testing::AllStoreBackends(),
                         frontdoor::testing::StoreBackendName);

TEST_P(FeedbackServiceTest, ProgressFromTheRoutedOrganisationShowsInGetReferral) {
  const std::string id = SubmitRoyton("fb-1");
  v1::ReportProgressResponse resp;
  ASSERT_TRUE(ReportAs("action-together-oldham", Report(id, v1::PROGRESS_RECEIVED, "k1"), &resp).ok());
  EXPECT_FALSE(resp.duplicate());
  EXPECT_FALSE(resp.event_id().empty());
  ASSERT_TRUE(ReportAs("action-together-oldham", Report(id, v1::PROGRESS_CONNECTED, "k2")).ok());
  v1::GetReferralResponse got;
  ASSERT_TRUE(Get(id, &got).ok());
  EXPECT_EQ(got.status(), v1::PROGRESS_CONNECTED);
  ASSERT_EQ(got.history_size(), 2);
  EXPECT_EQ(got.history(0).status(), v1::PROGRESS_RECEIVED);
  EXPECT_EQ(got.history(1).connected_to_size(), 2);
  EXPECT_EQ(got.history(1).team_id(), "oldham-north-royton-wellbeing");
  EXPECT_EQ(got.history(1).message_id(), "fb-1");
  EXPECT_TRUE(got.history(1).fhir_task_json().empty()) << "a typed referrer gets the typed form";
}

TEST_P(FeedbackServiceTest, OnlyTheOrganisationTheReferralWasRoutedToMayReport) {
  const std::string id = SubmitRoyton("fb-2");
  EXPECT_EQ(ReportAs("ageuk-oldham", Report(id, v1::PROGRESS_RECEIVED, "k1")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReportAs("P85901", Report(id, v1::PROGRESS_RECEIVED, "k1")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReportAs("", Report(id, v1::PROGRESS_RECEIVED, "k1")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ReportAs("action-together-oldham", Report("no-such-referral", v1::PROGRESS_RECEIVED, "k1")).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_P(FeedbackServiceTest, AResendWithTheSameKeyIsRecordedOnce) {
  const std::string id = SubmitRoyton("fb-3");
  const v1::ReportProgressRequest report = Report(id, v1::PROGRESS_RECEIVED, "once");
  v1::ReportProgressResponse first, second;
  ASSERT_TRUE(ReportAs("action-together-oldham", report, &first).ok());
  ASSERT_TRUE(ReportAs("action-together-oldham", report, &second).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.event_id(), first.event_id());
  v1::ReportProgressRequest changed = report;
  changed.set_status(v1::PROGRESS_CONTACTED);
  EXPECT_EQ(ReportAs("action-together-oldham", changed).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  v1::GetReferralResponse got;
  ASSERT_TRUE(Get(id, &got).ok());
  EXPECT_EQ(got.history_size(), 1);
}

TEST_P(FeedbackServiceTest, InvalidReportsAndImpossibleTransitionsAreRefused) {
  const std::string id = SubmitRoyton("fb-4");
  v1::ReportProgressRequest connected = Report(id, v1::PROGRESS_CONNECTED, "k1");
  connected.clear_connected_to();
  EXPECT_EQ(ReportAs("action-together-oldham", connected).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(ReportAs("action-together-oldham", Report(id, v1::PROGRESS_CLOSED, "k2")).ok());
  EXPECT_EQ(ReportAs("action-together-oldham", Report(id, v1::PROGRESS_CONTACTED, "k3")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_P(FeedbackServiceTest, FhirAndHl7ReferrersGetTheFeedbackInTheirOwnFormat) {
  v1::SubmitReferralRequest fhir;
  fhir.set_fhir_json(ReadFile(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/01-fhir-oldham-wellbeing.json"));
  const v1::SubmitReferralResponse f = SubmitDelivered(fhir, "P85901");
  v1::SubmitReferralRequest hl7;
  hl7.set_hl7v2(ReadFile(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/17-hl7-tameside-hospital.hl7"));
  const v1::SubmitReferralResponse h = SubmitDelivered(hl7, "R9T01");
  ASSERT_TRUE(ReportAs(f.endpoint_id(), Report(f.referral_id(), v1::PROGRESS_DECLINED, "f1")).ok());
  ASSERT_TRUE(ReportAs(h.endpoint_id(), Report(h.referral_id(), v1::PROGRESS_CONNECTED, "h1")).ok());

  v1::GetReferralResponse got;
  ASSERT_TRUE(Get(f.referral_id(), &got, "P85901").ok());
  ASSERT_EQ(got.history_size(), 1);
  const std::string& task = got.history(0).fhir_task_json();
  EXPECT_NE(task.find("\"resourceType\":\"Task\""), std::string::npos) << task;
  EXPECT_NE(task.find("871711000000103"), std::string::npos) << "declined: the national code";
  EXPECT_NE(task.find(f.referral_id()), std::string::npos) << "focus: the referral";
  EXPECT_TRUE(got.history(0).hl7v2().empty());

  ASSERT_TRUE(Get(h.referral_id(), &got, "R9T01").ok());
  ASSERT_EQ(got.history_size(), 1);
  const std::string& rri = got.history(0).hl7v2();
  EXPECT_EQ(rri.rfind("MSH|^~\\&|FRONTDOOR|SPFRONTDOOR||R9T01|", 0), 0u) << rri;
  EXPECT_NE(rri.find("|RRI^I12^RRI_I12|"), std::string::npos);
  EXPECT_NE(rri.find("871731000000106"), std::string::npos) << "took it up: the national code";
  EXPECT_NE(rri.find("OBX|2|ST|CONNECTED^Connected to^L||Royton walking club"), std::string::npos) << rri;
}

TEST_P(FeedbackServiceTest, WatchStreamsOnlyTheCallersOwnReferralsInOrder) {
  const std::string mine = SubmitRoyton("w-1", "P85901");
  const std::string theirs = SubmitRoyton("w-2", "P85902");
  ASSERT_TRUE(ReportAs("action-together-oldham", Report(theirs, v1::PROGRESS_RECEIVED, "t1")).ok());
  ASSERT_TRUE(ReportAs("action-together-oldham", Report(mine, v1::PROGRESS_RECEIVED, "m1")).ok());
  ASSERT_TRUE(ReportAs("action-together-oldham", Report(mine, v1::PROGRESS_CONTACTED, "m2")).ok());
  std::vector<v1::FeedbackEvent> events = Watch("P85901", "", 2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].referral_id(), mine);
  EXPECT_EQ(events[0].status(), v1::PROGRESS_RECEIVED);
  EXPECT_EQ(events[1].status(), v1::PROGRESS_CONTACTED);
  std::vector<v1::FeedbackEvent> others = Watch("P85902", "", 1);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].referral_id(), theirs);
}

TEST_P(FeedbackServiceTest, OnlyReferrersWatchAndOnlyWithACursorTheGatewayGave) {
  grpc::Status status;
  Watch("action-together-oldham", "", 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Watch("P85901", "not-a-cursor", 1, &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Reports keep arriving while a referrer's stream is dropped and
// resumed from its last cursor, twice; the referrer sees every event once, in order.
TEST_P(FeedbackServiceTest, AStreamDroppedMidFlowAndResumedFromItsCursorMissesAndRepeatsNothing) {
  constexpr int kReferrals = 6;
  const v1::ProgressStatus kSteps[] = {v1::PROGRESS_RECEIVED, v1::PROGRESS_CONTACTED,
                                       v1::PROGRESS_FIRST_CONVERSATION_HELD, v1::PROGRESS_CONNECTED,
                                       v1::PROGRESS_CLOSED};
  constexpr int kEvents = kReferrals * 5;
  std::vector<std::string> ids;
  for (int i = 0; i < kReferrals; ++i) ids.push_back(SubmitRoyton("s-" + std::to_string(i)));

  std::thread reporter([&] {
    for (v1::ProgressStatus step : kSteps) {
      for (const std::string& id : ids) {
        const std::string key = id + ":" + std::to_string(step);
        EXPECT_TRUE(ReportAs("action-together-oldham", Report(id, step, key)).ok());
        absl::SleepFor(absl::Milliseconds(5));
      }
    }
  });
  std::vector<v1::FeedbackEvent> seen;
  std::string cursor;
  for (size_t take : {size_t{7}, size_t{9}, static_cast<size_t>(kEvents)}) {
    const size_t want = std::min<size_t>(take, kEvents - seen.size());
    std::vector<v1::FeedbackEvent> part = Watch("P85901", cursor, want);
    ASSERT_EQ(part.size(), want) << "stream ended early after " << seen.size() << " events";
    seen.insert(seen.end(), part.begin(), part.end());
    cursor = seen.back().cursor();
  }
  reporter.join();

  ASSERT_EQ(seen.size(), static_cast<size_t>(kEvents));
  std::set<std::string> distinct;
  for (const v1::FeedbackEvent& e : seen) distinct.insert(e.referral_id() + "/" + std::to_string(e.status()));
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kEvents)) << "nothing repeated";
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_LT(std::stoll(seen[i - 1].cursor().substr(4)), std::stoll(seen[i].cursor().substr(4))) << "in order";
  }
  // The stream shows what GetReferral shows.
  v1::GetReferralResponse got;
  ASSERT_TRUE(Get(ids[0], &got).ok());
  EXPECT_EQ(got.history_size(), 5);
  EXPECT_EQ(got.status(), v1::PROGRESS_CLOSED);
  // And a stream resumed after the last event has nothing more.
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-frontdoor-client", "P85901");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  v1::WatchFeedbackRequest req;
  req.set_cursor(cursor);
  auto reader = referrals_->WatchFeedback(&ctx, req);
  v1::FeedbackEvent extra;
  EXPECT_FALSE(reader->Read(&extra));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_P(FeedbackServiceTest, AWatcherSeesNewFeedbackAsItIsCommitted) {
  const std::string id = SubmitRoyton("live-1");
  std::vector<v1::FeedbackEvent> events;
  std::thread watcher([&] { events = Watch("P85901", "", 1); });
  absl::SleepFor(absl::Milliseconds(200));  // the stream is open and idle
  ASSERT_TRUE(ReportAs("action-together-oldham", Report(id, v1::PROGRESS_RECEIVED, "live")).ok());
  watcher.join();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].referral_id(), id);
}

}  // namespace
}  // namespace frontdoor::gateway
