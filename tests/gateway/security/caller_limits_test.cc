// Per-identity abuse limits: the token bucket and the open-call cap (CallerLimiter, on a manual
// clock), and the same limits applied to real gRPC calls by GatewayServer (RESOURCE_EXHAUSTED with
// retry-after-ms, then recovery once the clock moves on).
#include "gateway/security/caller_limits.h"

#include <fstream>

#include "common/clock.h"
#include "frontdoor/v1/admin_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

CallerLimits Limits(double rate, int burst, int concurrent) {
  CallerLimits limits;
  limits.requests_per_second = rate;
  limits.burst = burst;
  limits.max_concurrent_calls = concurrent;
  return limits;
}

TEST(CallerLimiterTest, BurstIsAllowedThenRefusedWithWhenToRetry) {
  ManualClock clock(absl::FromUnixSeconds(1'700'000'000));
  CallerLimiter limiter(Limits(2, 3, 10), &clock);
  absl::Duration retry;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryTakeToken("P85901", &retry).ok()) << i;
  absl::Status s = limiter.TryTakeToken("P85901", &retry);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(retry, absl::Milliseconds(500));  // 2 tokens a second
  EXPECT_NE(s.message().find("retry after 500 ms"), std::string::npos) << s;
}

TEST(CallerLimiterTest, RefusedCallerRecoversAsTokensRefill) {
  ManualClock clock(absl::FromUnixSeconds(1'700'000'000));
  CallerLimiter limiter(Limits(2, 1, 10), &clock);
  absl::Duration retry;
  ASSERT_TRUE(limiter.TryTakeToken("P85901", &retry).ok());
  ASSERT_FALSE(limiter.TryTakeToken("P85901", &retry).ok());
  clock.Advance(retry);
  EXPECT_TRUE(limiter.TryTakeToken("P85901", &retry).ok());
}

TEST(CallerLimiterTest, EachIdentityHasItsOwnBudget) {
  ManualClock clock(absl::FromUnixSeconds(1'700'000'000));
  CallerLimiter limiter(Limits(1, 1, 10), &clock);
  absl::Duration retry;
  ASSERT_TRUE(limiter.TryTakeToken("P85901", &retry).ok());
  ASSERT_FALSE(limiter.TryTakeToken("P85901", &retry).ok());
  EXPECT_TRUE(limiter.TryTakeToken("P85902", &retry).ok());
}

TEST(CallerLimiterTest, OpenCallsAreCappedAndFreedWhenACallEnds) {
  ManualClock clock(absl::FromUnixSeconds(1'700'000'000));
  CallerLimiter limiter(Limits(100, 100, 2), &clock);
  absl::Duration retry;
  ASSERT_TRUE(limiter.TryBeginCall("mind-oldham", &retry).ok());
  ASSERT_TRUE(limiter.TryBeginCall("mind-oldham", &retry).ok());
  EXPECT_EQ(limiter.TryBeginCall("mind-oldham", &retry).code(), absl::StatusCode::kResourceExhausted);
  limiter.EndCall("mind-oldham");
  EXPECT_TRUE(limiter.TryBeginCall("mind-oldham", &retry).ok());
}

TEST(CallerLimitsFromTest, UnsetFieldsTakeTheDefaults) {
  v1::GatewayConfig config;
  config.mutable_caller_limits()->set_burst(5);
  CallerLimits limits = CallerLimitsFrom(config);
  EXPECT_EQ(limits.burst, 5);
  EXPECT_EQ(limits.requests_per_second, 20);
  EXPECT_EQ(limits.max_concurrent_calls, 16);
}

// Over real gRPC: a practice that exceeds its rate gets RESOURCE_EXHAUSTED with retry-after-ms,
// another practice is unaffected, and the first recovers when the (manual) clock moves on.
class GatewayRateLimitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string config = dir_.path() + "/gateway.textproto";
    std::ofstream(config) << "caller_limits { requests_per_second: 1 burst: 2 }\noperators: \"frontdoor-operator\"\n";
    GatewayOptions options;
    options.config_path = config;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::ReferralService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // A GetReferral for an unknown id: NOT_FOUND when admitted.
  grpc::Status Call(const std::string& as, std::string* retry_after_ms = nullptr) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetReferralRequest req;
    req.set_referral_id("nope");
    v1::GetReferralResponse resp;
    grpc::Status s = stub_->GetReferral(&ctx, req, &resp);
    auto it = ctx.GetServerTrailingMetadata().find(kRetryAfterMetadataKey);
    if (retry_after_ms != nullptr && it != ctx.GetServerTrailingMetadata().end()) {
      retry_after_ms->assign(it->second.data(), it->second.size());
    }
    return s;
  }

  frontdoor::testing::TempDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'750'000'000)};
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
};

TEST_F(GatewayRateLimitTest, CallerOverItsRateIsRefusedWithRetryAfterAndRecovers) {
  EXPECT_EQ(Call("P85901").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Call("P85901").error_code(), grpc::StatusCode::NOT_FOUND);
  std::string retry_after;
  grpc::Status refused = Call("P85901", &retry_after);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(retry_after, "1000");
  EXPECT_NE(refused.error_message().find("retry after 1000 ms"), std::string::npos) << refused.error_message();

  EXPECT_EQ(Call("P85902").error_code(), grpc::StatusCode::NOT_FOUND);  // its own budget

  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Call("P85901").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GatewayRateLimitTest, ConnectorsAndOperatorsAreLimitedToo) {
  const auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
  auto feedback = v1::FeedbackService::NewStub(channel);
  auto report = [&] {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "ageuk-oldham");
    v1::ReportProgressRequest req;
    req.set_referral_id("nope");
    req.set_idempotency_key("k");
    req.set_status(v1::PROGRESS_RECEIVED);
    req.set_occurred_at("2025-06-15T00:00:00Z");
    v1::ReportProgressResponse resp;
    return feedback->ReportProgress(&ctx, req, &resp).error_code();
  };
  EXPECT_NE(report(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(report(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(report(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  auto admin = v1::AdminService::NewStub(channel);
  auto list = [&] {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "frontdoor-operator");
    v1::ListDeadLettersRequest req;
    v1::ListDeadLettersResponse resp;
    return admin->ListDeadLetters(&ctx, req, &resp).error_code();
  };
  EXPECT_EQ(list(), grpc::StatusCode::OK);
  EXPECT_EQ(list(), grpc::StatusCode::OK);
  EXPECT_EQ(list(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(GatewayRateLimitTest, UnknownIdentitiesAreRefusedNotCounted) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Call("X99999").error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace frontdoor::gateway
