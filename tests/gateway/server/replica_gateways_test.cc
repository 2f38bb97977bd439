// Two GatewayServers (replicas) on one PostgreSQL database, over real gRPC on loopback: what one
// replica commits, the other serves: GetReferral of a referral submitted elsewhere, a WatchFeedback
// stream on one replica for progress reported through the other (no in-process notification
// reaches it: it polls the shared database), and one delivery whichever replica's worker sends it.
#include <filesystem>
#include <map>
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
using frontdoor::testing::StoreBackend;

struct Replica {
  std::unique_ptr<GatewayServer> server;
  std::unique_ptr<v1::ReferralService::Stub> referrals;
  std::unique_ptr<v1::FeedbackService::Stub> feedback;
};

class ReplicaGatewaysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(StoreBackend::kPostgres);
    db_ = std::make_unique<frontdoor::testing::TestDatabase>(StoreBackend::kPostgres);
    for (const char* name : {"a", "b"}) StartReplica(name);
  }
  void TearDown() override {
    for (auto& [name, r] : replicas_) {
      if (r.server) r.server->Shutdown();
    }
  }

  void StartReplica(const std::string& name) {
    const std::string home = dir_.path() + "/" + name;
    std::filesystem::create_directories(home);
    GatewayOptions options = testing::LoopbackGatewayOptions(home, connector_.address());
    options.config_path = frontdoor::testing::WriteBulkTestConfig(home, db_->ConfigBlock("replica-" + name, 5));
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    Replica& r = replicas_[name];
    r.server = std::move(*server);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(r.server->port()), grpc::InsecureChannelCredentials());
    r.referrals = v1::ReferralService::NewStub(channel);
    r.feedback = v1::FeedbackService::NewStub(channel);
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& who) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("x-frontdoor-client", who);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }
  v1::GetReferralResponse Get(const std::string& replica, const std::string& id, grpc::Status* status) {
    v1::GetReferralRequest req;
    req.set_referral_id(id);
    v1::GetReferralResponse resp;
    *status = replicas_[replica].referrals->GetReferral(As("P85901").get(), req, &resp);
    return resp;
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<frontdoor::testing::TestDatabase> db_;
  std::map<std::string, Replica> replicas_;
};

TEST_F(ReplicaGatewaysTest, AReferralSubmittedToOneReplicaIsServedDeliveredOnceAndWatchedThroughTheOther) {
  v1::SubmitReferralRequest submit;
  *submit.mutable_referral() = frontdoor::testing::RoytonReferral("across-1");
  v1::SubmitReferralResponse accepted;
  ASSERT_TRUE(replicas_["a"].referrals->SubmitReferral(As("P85901").get(), submit, &accepted).ok());
  ASSERT_EQ(accepted.disposition(), v1::ACCEPTED);

  // The same message sent to the other replica is the same referral.
  v1::SubmitReferralResponse again;
  ASSERT_TRUE(replicas_["b"].referrals->SubmitReferral(As("P85901").get(), submit, &again).ok());
  EXPECT_TRUE(again.duplicate());
  EXPECT_EQ(again.referral_id(), accepted.referral_id());

  // Delivered once, and replica b reports it so.
  ASSERT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
  grpc::Status status;
  v1::GetReferralResponse got;
  for (int i = 0; i < 200; ++i) {
    got = Get("b", accepted.referral_id(), &status);
    if (status.ok() && got.delivery_state() == v1::DELIVERED) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(got.delivery_state(), v1::DELIVERED);
  EXPECT_EQ(connector_.received().size(), 1u) << "one replica's worker sent it, once";

  // A referrer watching on replica b sees progress reported through replica a.
  std::vector<v1::FeedbackEvent> events;
  grpc::Status watch_status;
  std::thread watcher([&] {
    auto ctx = As("P85901");
    auto reader = replicas_["b"].referrals->WatchFeedback(ctx.get(), v1::WatchFeedbackRequest());
    v1::FeedbackEvent event;
    if (reader->Read(&event)) events.push_back(event);
    ctx->TryCancel();
    watch_status = reader->Finish();
  });
  absl::SleepFor(absl::Milliseconds(300));  // the stream is open and idle on b
  v1::ReportProgressRequest report;
  report.set_referral_id(accepted.referral_id());
  report.set_idempotency_key("across-k1");
  report.set_status(v1::PROGRESS_RECEIVED);
  report.set_occurred_at(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Seconds(1), absl::UTCTimeZone()));
  v1::ReportProgressResponse reported;
  ASSERT_TRUE(replicas_["a"].feedback->ReportProgress(As("action-together-oldham").get(), report, &reported).ok());
  watcher.join();
  ASSERT_EQ(events.size(), 1u) << watch_status.error_message();
  EXPECT_EQ(events[0].referral_id(), accepted.referral_id());
  EXPECT_EQ(events[0].status(), v1::PROGRESS_RECEIVED);
}

}  // namespace
}  // namespace frontdoor::gateway
