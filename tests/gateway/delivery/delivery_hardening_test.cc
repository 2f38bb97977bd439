// Delivery hardening: the per-endpoint circuit breaker, dead letters, and the operators'
// AdminService (list and replay) over real gRPC on loopback.
#include <fstream>

#include "frontdoor/v1/admin_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/delivery/delivery_dispatcher.h"
#include "gateway/server/gateway_server.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

using frontdoor::testing::WaitFor;

class DispatcherHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = *SqliteStore::Open(dir_.path() + "/db"); }

  void Record(const std::string& id, const std::string& endpoint_id) {
    NewReferral r;
    r.referral_id = id;
    r.sender_ods = "P85901";
    r.message_id = "m-" + id;
    r.format = "typed";
    r.received_at = absl::Now();
    r.decision.set_disposition(v1::ACCEPTED);
    r.delivery = NewDelivery{endpoint_id, {}};
    r.delivery->request.set_idempotency_key("deliver:" + id);
    r.delivery->request.mutable_referral()->set_referral_id(id);
    std::vector<NewReferral> batch;
    batch.push_back(std::move(r));
    ASSERT_TRUE(store_->RecordReferrals(std::move(batch)).ok());
  }

  TransportMap Stubs(const std::map<std::string, std::string>& addresses) {
    ChannelMap channels;
    for (const auto& [endpoint, address] : addresses) {
      channels[endpoint] = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    }
    return ConnectorTransports(channels);
  }

  frontdoor::testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(DispatcherHardeningTest, AnOpenBreakerStopsCallingTheFailingConnector) {
  frontdoor::testing::RecordingConnector failing;
  failing.FailNext(1000);
  for (int i = 0; i < 10; ++i) Record("r" + std::to_string(i), "mind-oldham");
  SystemClock clock;
  DeliveryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(10);
  policy.breaker.failure_threshold = 3;
  policy.breaker.open_for = absl::Seconds(30);
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy, Stubs({{"mind-oldham", failing.address()}}));
  dispatcher.Start();
  ASSERT_TRUE(WaitFor([&] { return failing.failed_calls() >= 3; }, absl::Seconds(20)));
  absl::SleepFor(absl::Milliseconds(300));  // long enough for a busy loop to show itself
  dispatcher.Shutdown();
  EXPECT_EQ(failing.failed_calls(), 3) << "no call while the breaker is open";
}

TEST_F(DispatcherHardeningTest, ASlowConnectorGetsABatchOfCallsAtOnce) {
  // Calls wait for each other only within the window: 48 deliveries at 100 ms each would take
  // 4.8 s one at a time; the window (1, 2, 4, 8, 16, 16, ...) needs about eight round trips.
  frontdoor::testing::RecordingConnector slow;
  slow.SetAnswerDelay(absl::Milliseconds(100));
  for (int i = 0; i < 48; ++i) Record("r" + std::to_string(i), "mind-oldham");
  SystemClock clock;
  DeliveryPolicy policy;
  policy.batch_size = 16;
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy, Stubs({{"mind-oldham", slow.address()}}));
  const absl::Time start = absl::Now();
  dispatcher.Start();
  EXPECT_EQ(slow.WaitForDistinct(48, absl::Seconds(20)), 48);
  const absl::Duration took = absl::Now() - start;
  dispatcher.Shutdown();
  EXPECT_GT(slow.max_in_flight(), 1) << "calls to one connector go out together";
  EXPECT_LE(slow.max_in_flight(), 16) << "never more than batch_size at once";
  EXPECT_LT(took, absl::Milliseconds(2500)) << "one call at a time would take 4.8 s";
  for (const auto& [key, calls] : slow.calls_per_key()) EXPECT_EQ(calls, 1) << key;
}

TEST_F(DispatcherHardeningTest, ARecoveredConnectorIsFoundByTheHalfOpenProbe) {
  frontdoor::testing::RecordingConnector connector;
  connector.FailNext(2);
  for (int i = 0; i < 4; ++i) Record("r" + std::to_string(i), "mind-oldham");
  SystemClock clock;
  DeliveryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(10);
  policy.breaker.failure_threshold = 2;
  policy.breaker.open_for = absl::Milliseconds(200);
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy, Stubs({{"mind-oldham", connector.address()}}));
  dispatcher.Start();
  EXPECT_EQ(connector.WaitForDistinct(4, absl::Seconds(20)), 4);
  dispatcher.Shutdown();
}

// An address where nothing listens now (a connector may start there later).
std::string VacantAddress() {
  frontdoor::testing::RecordingConnector gone;
  return gone.address();
}

TEST_F(DispatcherHardeningTest, TheProbeTriesAConnectorThatCameBackDespiteGrpcsOwnReconnectBackoff) {
  // gRPC waits out its own reconnect backoff after a refused connection (a minute here) and fails
  // calls at once meanwhile; the breaker's probe must try the connector itself.
  const std::string address = VacantAddress();
  Record("r1", "mind-oldham");
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 60000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 60000);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 60000);
  ChannelMap channels;
  channels["mind-oldham"] = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  SystemClock clock;
  DeliveryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(20);
  policy.max_backoff = absl::Milliseconds(100);
  policy.breaker.failure_threshold = 1;
  policy.breaker.open_for = absl::Milliseconds(100);
  policy.breaker.max_open = absl::Milliseconds(100);
  policy.dead_letter = DeadLetterLimits{};
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy, ConnectorTransports(channels));
  dispatcher.Start();
  ASSERT_TRUE(WaitFor([&] { return (*store_->GetReferral("r1"))->delivery_attempts >= 2; }, absl::Seconds(20)))
      << "the connector is down: attempts fail";
  frontdoor::testing::RecordingConnector back(address);
  EXPECT_EQ(back.WaitForDistinct(1, absl::Seconds(10)), 1) << "found by a probe, not a minute later";
  dispatcher.Shutdown();
}

TEST_F(DispatcherHardeningTest, AReplayEndsAnOpenBreakersPauseSoItsProbeGoesNow) {
  const std::string address = VacantAddress();
  Record("r1", "mind-oldham");
  SystemClock clock;
  DeliveryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(20);
  policy.breaker.failure_threshold = 1;
  policy.breaker.open_for = absl::Seconds(120);
  policy.breaker.max_open = absl::Seconds(120);
  policy.idle_poll = absl::Milliseconds(50);
  policy.dead_letter = DeadLetterLimits{};
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy, Stubs({{"mind-oldham", address}}));
  dispatcher.Start();
  ASSERT_TRUE(WaitFor([&] { return (*store_->GetReferral("r1"))->delivery_attempts >= 1; }, absl::Seconds(20)));
  frontdoor::testing::RecordingConnector back(address);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(back.received().size(), 0u) << "the breaker is open for two minutes: no call yet";
  dispatcher.Wake();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(back.received().size(), 0u) << "new rows do not end the pause";
  dispatcher.Replayed();
  EXPECT_EQ(back.WaitForDistinct(1, absl::Seconds(10)), 1) << "the operator's replay probes now";
  dispatcher.Shutdown();
}

TEST_F(DispatcherHardeningTest, RowsOfAConnectorThatNeverAnswersEndAsDeadLettersWhileOthersAreDelivered) {
  frontdoor::testing::RecordingConnector alive;
  std::string dead_address;
  {
    frontdoor::testing::RecordingConnector gone;
    dead_address = gone.address();
  }
  for (int i = 0; i < 5; ++i) Record("dead" + std::to_string(i), "mind-oldham");
  for (int i = 0; i < 5; ++i) Record("live" + std::to_string(i), "ageuk-oldham");
  SystemClock clock;
  DeliveryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(20);
  policy.max_backoff = absl::Milliseconds(100);
  policy.breaker.failure_threshold = 2;
  policy.breaker.open_for = absl::Milliseconds(50);
  policy.breaker.max_open = absl::Milliseconds(100);
  policy.dead_letter = DeadLetterLimits{0, absl::Milliseconds(500)};
  DeliveryDispatcher dispatcher(store_.get(), &clock, policy,
                                Stubs({{"ageuk-oldham", alive.address()}, {"mind-oldham", dead_address}}));
  dispatcher.Start();
  EXPECT_EQ(alive.WaitForDistinct(5, absl::Seconds(10)), 5);
  ASSERT_TRUE(WaitFor([&] { return store_->ListDeadLetters({}, 100)->size() == 5; }, absl::Seconds(20)));
  dispatcher.Shutdown();
  // Held in a variable: a range-for over *temporary would read the rows after the StatusOr died.
  const absl::StatusOr<std::vector<DeadLetterRow>> dead = store_->ListDeadLetters({}, 100);
  ASSERT_TRUE(dead.ok()) << dead.status();
  for (const DeadLetterRow& row : *dead) EXPECT_EQ(row.endpoint_id, "mind-oldham");
  EXPECT_EQ((*store_->GetReferral("dead0"))->delivery_state, v1::DELIVERY_FAILED);
}

// --- AdminService through the gateway ---

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    connector_.FailNext(1);  // the first delivery fails; with a limit of one attempt it is dead
    StartGateway("delivery { initial_backoff_ms: 20 max_backoff_ms: 100 dead_letter_after_attempts: 1 }\n",
                 connector_.address());
  }
  // (Re)starts the gateway with `delivery_config` and action-together-oldham at `connector_address`.
  void StartGateway(const std::string& delivery_config, const std::string& connector_address) {
    if (server_) server_->Shutdown();
    const std::string config = dir_.path() + "/gateway.textproto";
    std::ofstream(config) << "operators: \"frontdoor-operator\"\n" << delivery_config;
    GatewayOptions options;
    options.config_path = config;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data" + std::to_string(++starts_);
    options.insecure_plaintext = true;
    options.connector_overrides["action-together-oldham"] = connector_address;
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    referrals_ = v1::ReferralService::NewStub(channel);
    admin_ = v1::AdminService::NewStub(channel);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::string SubmitOne() {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = frontdoor::testing::RoytonReferral("admin-1");
    v1::SubmitReferralResponse resp;
    EXPECT_TRUE(referrals_->SubmitReferral(&ctx, req, &resp).ok());
    return resp.referral_id();
  }
  grpc::Status List(const std::string& as, v1::ListDeadLettersResponse* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    return admin_->ListDeadLetters(&ctx, v1::ListDeadLettersRequest(), resp);
  }
  // Lists the dead letters as an operator until there is exactly one (20 s at most), polling
  // within the operator's rate limit.
  bool WaitForOneDeadLetter(v1::ListDeadLettersResponse* listed) {
    return WaitFor(
        [&] {
          listed->Clear();
          return List("frontdoor-operator", listed).ok() && listed->dead_letters_size() == 1;
        },
        absl::Seconds(20), absl::Milliseconds(200));
  }
  grpc::Status Replay(const std::string& as, const v1::ReplayDeadLettersRequest& req,
                      v1::ReplayDeadLettersResponse* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", as);
    return admin_->ReplayDeadLetters(&ctx, req, resp);
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  int starts_ = 0;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

TEST_F(AdminServiceTest, AnOperatorListsADeadLetterAndReplayDeliversIt) {
  const std::string id = SubmitOne();
  v1::ListDeadLettersResponse listed;
  ASSERT_TRUE(WaitForOneDeadLetter(&listed));
  EXPECT_EQ(listed.dead_letters(0).referral_id(), id);
  EXPECT_EQ(listed.dead_letters(0).endpoint_id(), "action-together-oldham");
  EXPECT_EQ(listed.dead_letters(0).kind(), "deliver");
  EXPECT_NE(listed.dead_letters(0).last_error().find("injected outage"), std::string::npos);

  v1::ReplayDeadLettersRequest req;
  req.set_referral_id(id);
  v1::ReplayDeadLettersResponse replayed;
  ASSERT_TRUE(Replay("frontdoor-operator", req, &replayed).ok());
  EXPECT_EQ(replayed.replayed(), 1u);
  EXPECT_EQ(connector_.WaitForDistinct(1, absl::Seconds(20)), 1);
}

TEST_F(AdminServiceTest, AReplayOnceTheConnectorIsBackDeliversWithoutWaitingOutTheBreaker) {
  // The connector is down long enough for its breaker to open for two minutes and the referral to
  // become a dead letter; then it comes back and the operator replays.
  const std::string address = VacantAddress();
  StartGateway(
      "delivery { initial_backoff_ms: 20 max_backoff_ms: 120000 breaker_failure_threshold: 1"
      " breaker_open_ms: 120000 dead_letter_after_ms: 200 }\n",
      address);
  const std::string id = SubmitOne();
  v1::ListDeadLettersResponse listed;
  ASSERT_TRUE(WaitForOneDeadLetter(&listed));
  frontdoor::testing::RecordingConnector back(address);
  v1::ReplayDeadLettersRequest req;
  req.set_endpoint_id("action-together-oldham");
  v1::ReplayDeadLettersResponse replayed;
  const grpc::Status status = Replay("frontdoor-operator", req, &replayed);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(replayed.replayed(), 1u);
  EXPECT_EQ(back.WaitForDistinct(1, absl::Seconds(10)), 1) << "delivered now, not when the breaker's pause ends";
  EXPECT_EQ(back.received()[0].referral().referral_id(), id);
}

TEST_F(AdminServiceTest, AReplayRightAfterTheConnectorReturnsIsNotDeadLetteredByTheReconnectWait) {
  // The breaker never opens here (a high threshold); the row dies by attempts. The gateway's channel
  // to the connector is meanwhile waiting out its own reconnect backoff (seconds): a replay must
  // make it try now, or the replayed row fails at once and is a dead letter again.
  const std::string address = VacantAddress();
  StartGateway(
      "delivery { initial_backoff_ms: 20 max_backoff_ms: 100 breaker_failure_threshold: 1000"
      " dead_letter_after_attempts: 2 }\n",
      address);
  const std::string id = SubmitOne();
  v1::ListDeadLettersResponse listed;
  ASSERT_TRUE(WaitForOneDeadLetter(&listed));
  absl::SleepFor(absl::Seconds(1));  // into the channel's reconnect backoff
  frontdoor::testing::RecordingConnector back(address);
  v1::ReplayDeadLettersRequest req;
  req.set_referral_id(id);
  v1::ReplayDeadLettersResponse replayed;
  ASSERT_TRUE(Replay("frontdoor-operator", req, &replayed).ok());
  EXPECT_EQ(replayed.replayed(), 1u);
  EXPECT_EQ(back.WaitForDistinct(1, absl::Seconds(10)), 1) << "delivered, not dead-lettered again";
  listed.Clear();
  ASSERT_TRUE(List("frontdoor-operator", &listed).ok());
  EXPECT_EQ(listed.dead_letters_size(), 0);
}

TEST_F(AdminServiceTest, OnlyOperatorsMayListOrReplay) {
  v1::ListDeadLettersResponse listed;
  EXPECT_EQ(List("P85901", &listed).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(List("action-together-oldham", &listed).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(List("", &listed).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::ReplayDeadLettersRequest req;
  req.set_all(true);
  v1::ReplayDeadLettersResponse replayed;
  EXPECT_EQ(Replay("P85901", req, &replayed).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AdminServiceTest, ReplayWantsExactlyOneSelector) {
  v1::ReplayDeadLettersResponse replayed;
  EXPECT_EQ(Replay("frontdoor-operator", v1::ReplayDeadLettersRequest(), &replayed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::ReplayDeadLettersRequest two;
  two.set_all(true);
  two.set_endpoint_id("mind-oldham");
  EXPECT_EQ(Replay("frontdoor-operator", two, &replayed).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace frontdoor::gateway
