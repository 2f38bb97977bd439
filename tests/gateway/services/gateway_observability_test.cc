// The gateway's metrics read straight from the registry it was given (GatewayOptions::
// metrics_registry), with the gateway in process over real loopback gRPC: feedback lag, calls the
// gateway refuses, and a metrics port that cannot be had.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/gateway/gateway_test_support.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::RoytonReferral;
using testing::ReadMetric;

class GatewayObservabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options = testing::LoopbackGatewayOptions(dir_.path(), connector_.address());
    options.metrics_registry = registry_;
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

  std::string SubmitDelivered(const std::string& message_id) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = RoytonReferral(message_id);
    v1::SubmitReferralResponse resp;
    EXPECT_TRUE(referrals_->SubmitReferral(&ctx, req, &resp).ok());
    // Reports are taken once the gateway has recorded the delivery.
    for (int i = 0; i < 3000; ++i) {
      grpc::ClientContext get_ctx;
      get_ctx.AddMetadata("x-frontdoor-client", "P85901");
      v1::GetReferralRequest get;
      get.set_referral_id(resp.referral_id());
      v1::GetReferralResponse got;
      if (referrals_->GetReferral(&get_ctx, get, &got).ok() && got.delivery_state() == v1::DELIVERED) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return resp.referral_id();
  }
  grpc::Status Report(const std::string& referral_id, v1::ProgressStatus status, const std::string& key) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "action-together-oldham");
    v1::ReportProgressRequest r;
    r.set_referral_id(referral_id);
    r.set_idempotency_key(key);
    r.set_status(status);
    r.set_occurred_at(absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()));
    v1::ReportProgressResponse resp;
    return feedback_->ReportProgress(&ctx, r, &resp);
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::FeedbackService::Stub> feedback_;
};

TEST_F(GatewayObservabilityTest, FeedbackLagIsObservedForEventsRecordedWhileTheStreamIsOpenNotForHistory) {
  const std::string id = SubmitDelivered("lag-1");
  const grpc::Status first = Report(id, v1::PROGRESS_RECEIVED, "k1");  // history by the time the stream opens
  ASSERT_TRUE(first.ok()) << first.error_message();

  grpc::ClientContext ctx;
  ctx.AddMetadata("x-frontdoor-client", "P85901");
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto reader = referrals_->WatchFeedback(&ctx, v1::WatchFeedbackRequest());
  v1::FeedbackEvent event;
  ASSERT_TRUE(reader->Read(&event));  // the history event: the stream is open
  EXPECT_EQ(event.status(), v1::PROGRESS_RECEIVED);
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_feedback_lag_seconds", {}), 0);

  const grpc::Status second = Report(id, v1::PROGRESS_CONTACTED, "k2");
  ASSERT_TRUE(second.ok()) << second.error_message();
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.status(), v1::PROGRESS_CONTACTED);
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_feedback_lag_seconds", {}), 1);
  ctx.TryCancel();
  reader->Finish();
}

TEST_F(GatewayObservabilityTest, EachGroupCommitIsObservedWithItsSizeWaitAndDuration) {
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_commit_seconds", {}), 0);
  SubmitDelivered("commit-1");
  SubmitDelivered("commit-2");
  // One referral at a time: two commits of one referral each.
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_commit_batch_referrals", {}), 2);
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_commit_wait_seconds", {}), 2);
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_commit_seconds", {}), 2);
  for (const prometheus::MetricFamily& family : registry_->Collect()) {
    if (family.name != "frontdoor_commit_batch_referrals") continue;
    EXPECT_DOUBLE_EQ(family.metric.at(0).histogram.sample_sum, 2.0) << "two referrals in all";
  }
}

TEST_F(GatewayObservabilityTest, RefusedCallsAreCountedWithTheirStatusCode) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-frontdoor-client", "NOT-A-MEMBER");
  v1::GetReferralRequest req;
  req.set_referral_id("x");
  v1::GetReferralResponse resp;
  EXPECT_EQ(referrals_->GetReferral(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext anonymous;
  EXPECT_EQ(referrals_->GetReferral(&anonymous, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  const std::string method = "/frontdoor.v1.ReferralService/GetReferral";
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_grpc_server_handled_total",
                       {{"method", method}, {"code", "PERMISSION_DENIED"}}),
            1);
  EXPECT_EQ(
      ReadMetric(*registry_, "frontdoor_grpc_server_handled_total", {{"method", method}, {"code", "UNAUTHENTICATED"}}),
      1);
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_grpc_server_handling_seconds",
                       {{"method", method}, {"code", "UNAUTHENTICATED"}}),
            1);
}

TEST_F(GatewayObservabilityTest, AMetricsPortThatCannotBeHadRefusesToStart) {
  // Hold a port, then ask a second gateway to serve metrics on it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir_.path() + "/data2";
  options.insecure_plaintext = true;
  options.metrics_listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto second = GatewayServer::Start(options, &clock_);
  ::close(fd);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(second.status().message()).find("metrics"), std::string::npos) << second.status();
}

// From the first scrape, before any referral: every route of the network at zero, so that the
// alerts of docs/METRICS.md have a series to judge (each connector's outbox is at zero already).
TEST_F(GatewayObservabilityTest, EveryKnownRouteAndEndpointIsExportedAtZeroFromTheStart) {
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_front_door_fallbacks_total", {{"borough", "oldham"}}), 0);
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_front_door_fallbacks_total", {{"borough", "tameside"}}), 0);
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_routed_total",
                       {{"team", "oldham-north-royton-wellbeing"}, {"borough", "oldham"}}),
            0);
}

// Every door a gateway listens on is its own: a second gateway asking for the first one's health
// or metrics port refuses to start, saying which and why.
TEST_F(GatewayObservabilityTest, AnotherGatewaysHealthOrMetricsPortRefusesToStartSayingItIsInUse) {
  GatewayOptions first_options = testing::LoopbackGatewayOptions(dir_.path() + "/first", connector_.address());
  first_options.health_listen = "127.0.0.1:0";
  first_options.metrics_listen = "127.0.0.1:0";
  auto first = GatewayServer::Start(first_options, &clock_);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string health = (*first)->health_address();
  const std::string metrics = (*first)->metrics_address();
  ASSERT_FALSE(health.empty());
  ASSERT_FALSE(metrics.empty());
  for (const auto& [what, address] : {std::pair<std::string, std::string>{"health", health}, {"metrics", metrics}}) {
    SCOPED_TRACE(what);
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data-" + what;
    options.insecure_plaintext = true;
    (what == "health" ? options.health_listen : options.metrics_listen) = address;
    auto second = GatewayServer::Start(options, &clock_);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(std::string(second.status().message()).find("already in use"), std::string::npos) << second.status();
    EXPECT_NE(std::string(second.status().message()).find(what), std::string::npos) << second.status();
  }
}

}  // namespace
}  // namespace frontdoor::gateway
