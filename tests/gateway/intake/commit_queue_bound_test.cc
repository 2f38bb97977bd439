// The gateway-wide bound on submissions held for the group commit (limits.max_queued_submissions),
// end to end: a real gateway over real loopback gRPC on a real SQLite file, with the commit really
// stalled: the test holds the database's write lock from a second sqlite3 connection (BEGIN
// EXCLUSIVE), so the gateway's writer waits in its BEGIN IMMEDIATE. The store's busy timeout is 5 s;
// everything the test does while it holds the lock takes well under that.
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/security/caller_limits.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/adapters/adapter_test_support.h"
#include "tests/gateway/gateway_test_support.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::adapters::testing::ReadSample;
using frontdoor::testing::RoytonReferral;
using frontdoor::testing::WriteLockHolder;
using testing::ReadMetric;

constexpr int kMaxQueued = 3;

// One submission in flight on the client's callback API.
struct PendingCall {
  grpc::ClientContext context;
  v1::SubmitReferralRequest request;
  v1::SubmitReferralResponse response;
  grpc::Status status;
  absl::Notification done;
};

class CommitQueueBoundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options = testing::LoopbackGatewayOptions(dir_.path(), connector_.address());
    options.config_path = frontdoor::testing::WriteBulkTestConfig(
        dir_.path(), "limits { max_queued_submissions: " + std::to_string(kMaxQueued) + " }");
    options.metrics_registry = registry_;
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::ReferralService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    // A failed assertion may leave calls in flight: they must end before their buffers go.
    for (const auto& call : calls_) {
      call->context.TryCancel();
      call->done.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    if (server_) server_->Shutdown();
  }

  std::string DatabasePath() const { return dir_.path() + "/data/frontdoor.db"; }

  // Starts a submission without waiting for it; the fixture owns the call.
  PendingCall* Start(v1::SubmitReferralRequest request, const std::string& as) {
    calls_.push_back(std::make_unique<PendingCall>());
    PendingCall* c = calls_.back().get();
    c->request = std::move(request);
    c->context.AddMetadata("x-frontdoor-client", as);
    c->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stub_->async()->SubmitReferral(&c->context, &c->request, &c->response, [c](grpc::Status s) {
      c->status = std::move(s);
      c->done.Notify();
    });
    return c;
  }

  // A blocking submission; `retry_after_ms` gets the trailing metadata when there is one.
  grpc::Status Submit(const v1::SubmitReferralRequest& request, const std::string& as, v1::SubmitReferralResponse* out,
                      std::string* retry_after_ms = nullptr) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status s = stub_->SubmitReferral(&ctx, request, out);
    auto it = ctx.GetServerTrailingMetadata().find(kRetryAfterMetadataKey);
    if (retry_after_ms != nullptr && it != ctx.GetServerTrailingMetadata().end()) {
      retry_after_ms->assign(it->second.data(), it->second.size());
    }
    return s;
  }

  // Polls the metric until it has `value` (what the gateway holds is only visible there).
  bool WaitForMetric(const std::string& name, double value, absl::Duration limit) {
    const absl::Time until = absl::Now() + limit;
    while (absl::Now() < until) {
      if (ReadMetric(*registry_, name) == value) return true;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return ReadMetric(*registry_, name) == value;
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
  std::vector<std::unique_ptr<PendingCall>> calls_;
};

v1::SubmitReferralRequest Typed(const std::string& message_id) {
  v1::SubmitReferralRequest req;
  *req.mutable_referral() = RoytonReferral(message_id);
  return req;
}

TEST_F(CommitQueueBoundTest, PastTheBoundEveryFormatIsRefusedWithRetryAfterAndItsResendIsANewReferral) {
  // The refused ones, one per inbound format, each from its own sender.
  v1::SubmitReferralRequest fhir;
  fhir.set_fhir_json(ReadSample("01-fhir-oldham-wellbeing.json"));  // P85901
  v1::SubmitReferralRequest hl7;
  hl7.set_hl7v2(ReadSample("17-hl7-tameside-hospital.hl7"));  // R9T01
  const std::vector<std::pair<v1::SubmitReferralRequest, std::string>> over = {
      {fhir, "P85901"}, {hl7, "R9T01"}, {Typed("over-typed"), "P85901"}};

  std::vector<PendingCall*> held;
  {
    WriteLockHolder lock(DatabasePath());
    const absl::Time locked = absl::Now();
    for (int i = 0; i < kMaxQueued; ++i) held.push_back(Start(Typed("held-" + std::to_string(i)), "P85901"));
    ASSERT_TRUE(WaitForMetric("frontdoor_commit_queue_referrals", kMaxQueued, absl::Seconds(3)))
        << "the gateway should hold all " << kMaxQueued << " submissions while the store is locked; it holds "
        << ReadMetric(*registry_, "frontdoor_commit_queue_referrals");
    for (PendingCall* call : held) EXPECT_FALSE(call->done.HasBeenNotified()) << "answered before it was recorded";

    for (const auto& [request, as] : over) {
      v1::SubmitReferralResponse response;
      std::string retry_after;
      const absl::Time sent = absl::Now();
      grpc::Status refused = Submit(request, as, &response, &retry_after);
      EXPECT_LT(absl::Now() - sent, absl::Seconds(2)) << "refused at once, not after waiting for the store";
      EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << as << ": " << refused.error_message();
      EXPECT_EQ(retry_after, "1000");
      EXPECT_NE(refused.error_message().find("retry after 1000 ms"), std::string::npos) << refused.error_message();
      EXPECT_NE(refused.error_message().find("nothing was recorded"), std::string::npos) << refused.error_message();
      // As for the per-identity limits: a transport answer, no FHIR or HL7 reply.
      EXPECT_TRUE(response.fhir_json().empty());
      EXPECT_TRUE(response.hl7v2_ack().empty());
    }
    EXPECT_EQ(ReadMetric(*registry_, "frontdoor_commit_queue_full_total"), 3);
    EXPECT_EQ(ReadMetric(*registry_, "frontdoor_commit_queue_referrals"), kMaxQueued);
    ASSERT_LT(absl::Now() - locked, absl::Seconds(4))
        << "too slow: the store gives up waiting for the lock after 5 s and the held referrals fail";
  }  // the lock is released: the writer's BEGIN IMMEDIATE goes through

  std::set<std::string> ids;
  for (PendingCall* call : held) {
    ASSERT_TRUE(call->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
    ASSERT_TRUE(call->status.ok()) << call->status.error_message();
    EXPECT_EQ(call->response.disposition(), v1::ACCEPTED);
    EXPECT_FALSE(call->response.duplicate());
    ids.insert(call->response.referral_id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kMaxQueued)) << "every held submission is its own referral, none lost";
  EXPECT_TRUE(WaitForMetric("frontdoor_commit_queue_referrals", 0, absl::Seconds(10)));

  // The referrers send the refused messages again, same message ids: first submissions, accepted,
  // answered in their own formats; sent once more, duplicates of those.
  for (const auto& [request, as] : over) {
    v1::SubmitReferralResponse first, again;
    grpc::Status s = Submit(request, as, &first);
    ASSERT_TRUE(s.ok()) << as << ": " << s.error_message();
    EXPECT_EQ(first.disposition(), v1::ACCEPTED) << as;
    EXPECT_FALSE(first.duplicate()) << as << ": the refused submission was not recorded";
    if (request.has_fhir_json()) {
      EXPECT_NE(
          first.fhir_json().find(R"("response":{"identifier":"416d4e4e-3f58-5660-a408-b2fa0b0e74a4","code":"ok")"),
          std::string::npos)
          << first.fhir_json();
    }
    if (request.has_hl7v2()) {
      EXPECT_NE(first.hl7v2_ack().find("MSA|AA|TGH2502256530"), std::string::npos) << first.hl7v2_ack();
    }
    s = Submit(request, as, &again);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(again.duplicate());
    EXPECT_EQ(again.referral_id(), first.referral_id());
    ids.insert(first.referral_id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kMaxQueued) + over.size());
  EXPECT_EQ(ReadMetric(*registry_, "frontdoor_commit_queue_full_total"), 3) << "nothing refused once the store moved";
}

TEST_F(CommitQueueBoundTest, ReadsAreServedWhileSubmissionsAreRefused) {
  v1::SubmitReferralResponse before;
  ASSERT_TRUE(Submit(Typed("before"), "P85901", &before).ok());
  // Its room in the bound is given back just after its answer (once what it held is freed).
  ASSERT_TRUE(WaitForMetric("frontdoor_commit_queue_referrals", 0, absl::Seconds(10)));
  std::vector<PendingCall*> held;
  {
    WriteLockHolder lock(DatabasePath());
    for (int i = 0; i < kMaxQueued; ++i) held.push_back(Start(Typed("held-" + std::to_string(i)), "P85901"));
    ASSERT_TRUE(WaitForMetric("frontdoor_commit_queue_referrals", kMaxQueued, absl::Seconds(3)))
        << ReadMetric(*registry_, "frontdoor_commit_queue_referrals");
    v1::SubmitReferralResponse refused;
    EXPECT_EQ(Submit(Typed("over"), "P85901", &refused).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    // The bound is on submissions only: a referrer can still read what it sent.
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    v1::GetReferralRequest get;
    get.set_referral_id(before.referral_id());
    v1::GetReferralResponse got;
    grpc::Status read = stub_->GetReferral(&ctx, get, &got);
    EXPECT_TRUE(read.ok()) << read.error_message();
    EXPECT_EQ(got.message_id(), "before");
  }
  for (PendingCall* call : held) {
    ASSERT_TRUE(call->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
    EXPECT_TRUE(call->status.ok()) << call->status.error_message();
  }
}

}  // namespace
}  // namespace frontdoor::gateway
