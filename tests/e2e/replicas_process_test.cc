// Replicas end to end, with the real executables over loopback: two frontdoor-gateway replicas on
// one database of a real PostgreSQL server, 2,000 referrals sent across both, one replica killed
// with SIGKILL in the middle of the run. Every acknowledged referral is delivered exactly once (as
// the connector simulator records new deliveries by idempotency key): the survivor takes over the
// dead replica's outbox rows when their leases expire, and a message resent to the survivor after
// the kill is recognised as the one the dead replica recorded.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/postgres_server.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;

const char* const kEndpoints[] = {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"};
constexpr int kLeaseSeconds = 3;

// Submits referrals to several gateway replicas, round robin, as referring systems behind a load
// balancer would: a call that fails is resent (the same message) to the next replica. Thread-safe.
class ReplicaLoadDriver {
 public:
  ReplicaLoadDriver(const std::vector<std::string>& targets, int window) : window_(window) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    for (const std::string& t : targets) {
      stubs_.push_back(
          v1::ReferralService::NewStub(grpc::CreateCustomChannel(t, grpc::InsecureChannelCredentials(), args)));
    }
  }

  void Submit(v1::Referral referral, size_t first_target) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ReplicaLoadDriver* d) ABSL_NO_THREAD_SAFETY_ANALYSIS { return d->in_flight_ < d->window_; }, this));
      ++in_flight_;
    }
    auto call = std::make_shared<Call>();
    *call->request.mutable_referral() = std::move(referral);
    call->target = first_target % stubs_.size();
    Send(call);
  }
  bool Drain(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](ReplicaLoadDriver* d) ABSL_NO_THREAD_SAFETY_ANALYSIS { return d->in_flight_ == 0; }, this),
        timeout);
  }
  int acked() const {
    absl::MutexLock lock(&mu_);
    return acked_;
  }
  int resends() const {
    absl::MutexLock lock(&mu_);
    return resends_;
  }
  // message_id -> every referral_id it was answered with (must be one).
  std::map<std::string, std::set<std::string>> answers() const {
    absl::MutexLock lock(&mu_);
    return answers_;
  }
  // How many answers each replica gave.
  std::map<size_t, int> answers_by_target() const {
    absl::MutexLock lock(&mu_);
    return by_target_;
  }

 private:
  struct Call {
    v1::SubmitReferralRequest request;
    v1::SubmitReferralResponse response;
    std::unique_ptr<grpc::ClientContext> ctx;
    size_t target = 0;
  };

  void Send(std::shared_ptr<Call> call) {
    call->ctx = std::make_unique<grpc::ClientContext>();
    call->ctx->AddMetadata("x-frontdoor-client", call->request.referral().sender_ods());
    call->ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->response.Clear();
    stubs_[call->target]->async()->SubmitReferral(
        call->ctx.get(), &call->request, &call->response, [this, call](grpc::Status s) {
          if (s.ok() && call->response.disposition() == v1::ACCEPTED) {
            absl::MutexLock lock(&mu_);
            ++acked_;
            ++by_target_[call->target];
            answers_[call->request.referral().message_id()].insert(call->response.referral_id());
            --in_flight_;
            return;
          }
          {
            absl::MutexLock lock(&mu_);
            ++resends_;
          }
          // Not answered (that replica is gone): the same message to the next replica, shortly.
          call->target = (call->target + 1) % stubs_.size();
          std::thread([this, call] {
            absl::SleepFor(absl::Milliseconds(50));
            Send(call);
          }).detach();
        });
  }

  std::vector<std::unique_ptr<v1::ReferralService::Stub>> stubs_;
  const int window_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int acked_ ABSL_GUARDED_BY(mu_) = 0;
  int resends_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::set<std::string>> answers_ ABSL_GUARDED_BY(mu_);
  std::map<size_t, int> by_target_ ABSL_GUARDED_BY(mu_);
};

class ReplicasProcessTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(StoreBackend::kPostgres);
    db_ = std::make_unique<TestDatabase>(StoreBackend::kPostgres);
    ASSERT_FALSE(db_->postgres_conninfo().empty());
    // One connector simulator serving every organisation, recording each delivery it receives.
    std::vector<std::string> argv = {BinaryPath("tools/frontdoor-connector-sim"), "--record", Path("deliveries.jsonl"),
                                     "--ready-file", Path("sim.ready")};
    for (const char* e : kEndpoints) {
      connectors_[e] = "127.0.0.1:" + std::to_string(FreePort());
      argv.insert(argv.end(), {"--serve", std::string(e) + "=" + connectors_[e]});
    }
    sim_ = std::make_unique<ChildProcess>(argv, Path("sim.log"));
    ASSERT_TRUE(WaitForFile(Path("sim.ready"), absl::Seconds(30)).has_value()) << ReadFileOrEmpty(Path("sim.log"));
  }

  // Starts replica `name` on the shared database, with its own data directory and listen port.
  void StartGateway(const std::string& name) {
    const std::string home = Path(name);
    std::filesystem::create_directories(home);
    // The replicas share the audit signing key, as they would share a Kubernetes Secret.
    const std::string config =
        WriteBulkTestConfig(home, db_->ConfigBlock("replica-" + name, kLeaseSeconds) + " audit { signing_key_path: \"" +
                                      Path("audit-signing-key.pem") + "\" }");
    addresses_[name] = "127.0.0.1:" + std::to_string(FreePort());
    const std::string ready = home + "/ready";
    std::vector<std::string> argv = {BinaryPath("gateway/frontdoor-gateway"),
                                     "--insecure-plaintext",
                                     "--listen",
                                     addresses_[name],
                                     "--data-dir",
                                     home + "/data",
                                     "--ready-file",
                                     ready,
                                     "--config",
                                     config};
    for (const auto& [endpoint, address] : connectors_)
      argv.insert(argv.end(), {"--connector", endpoint + "=" + address});
    gateways_[name] = std::make_unique<ChildProcess>(argv, home + "/gateway.log");
    ASSERT_TRUE(WaitForFile(ready, absl::Seconds(30)).has_value()) << ReadFileOrEmpty(home + "/gateway.log");
  }

  // referral_id -> deliveries the simulator counted as new (first time it saw the key), and
  // idempotency key -> the same. Returns how many it received again (a key it had seen).
  int NewDeliveries(std::map<std::string, int>* by_referral, std::map<std::string, int>* by_key) const {
    std::istringstream in(ReadFileOrEmpty(Path("deliveries.jsonl")));
    std::string line;
    int again = 0;
    while (std::getline(in, line)) {
      if (JsonField(line, "kind") != "deliver") continue;
      if (JsonField(line, "duplicate") == "true") {
        ++again;
        continue;
      }
      (*by_referral)[JsonField(line, "referral_id")]++;
      if (by_key != nullptr) (*by_key)[JsonField(line, "idempotency_key")]++;
    }
    return again;
  }

  TempDir dir_;
  std::unique_ptr<TestDatabase> db_;
  std::map<std::string, std::string> connectors_;
  std::unique_ptr<ChildProcess> sim_;
  std::map<std::string, std::string> addresses_;
  std::map<std::string, std::unique_ptr<ChildProcess>> gateways_;
};

TEST_F(ReplicasProcessTest, TwoReplicasOneKilledMidRunDeliverEveryAcknowledgedReferralExactlyOnce) {
  constexpr int kReferrals = 2000;
  StartGateway("a");  // first: creates the shared signing key and migrates the schema
  StartGateway("b");
  ReplicaLoadDriver driver({addresses_["a"], addresses_["b"]}, /*window=*/48);
  std::thread load([&] {
    for (int i = 0; i < kReferrals; ++i) {
      const std::string id = "replica-load-" + std::to_string(i);
      driver.Submit(i % 2 == 0 ? RoytonReferral(id) : TamesideReferral(id), static_cast<size_t>(i));
    }
  });
  // SIGKILL replica a once a good part of the run is acknowledged; it is not restarted.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (driver.acked() < kReferrals * 2 / 5 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_GT(driver.acked(), 0);
  const int acked_before_kill = driver.acked();
  gateways_["a"]->Signal(SIGKILL);
  ASSERT_TRUE(gateways_["a"]->Wait(absl::Seconds(10)).has_value());
  load.join();
  ASSERT_TRUE(driver.Drain(absl::Seconds(90))) << "acknowledged " << driver.acked();
  const auto by_target = driver.answers_by_target();
  std::fprintf(stderr, "replicas test: %d acknowledged before the kill; answers a=%d b=%d; %d resends\n",
               acked_before_kill, by_target.count(0) ? by_target.at(0) : 0, by_target.count(1) ? by_target.at(1) : 0,
               driver.resends());
  EXPECT_GT(by_target.count(0) ? by_target.at(0) : 0, 0) << "replica a took part";

  // Every message has one referral id, whichever replica answered it.
  std::set<std::string> acked_ids;
  for (const auto& [message_id, ids] : driver.answers()) {
    EXPECT_EQ(ids.size(), 1u) << message_id << " was answered with different referral ids";
    acked_ids.insert(ids.begin(), ids.end());
  }
  ASSERT_EQ(acked_ids.size(), static_cast<size_t>(kReferrals));

  // Every acknowledged referral arrives (replica a's leased rows after their lease expires).
  const absl::Time delivered_by = absl::Now() + absl::Seconds(60);
  std::map<std::string, int> by_referral, by_key;
  int sent_again = 0;
  for (;;) {
    by_referral.clear();
    by_key.clear();
    sent_again = NewDeliveries(&by_referral, &by_key);
    size_t missing = 0;
    for (const std::string& id : acked_ids) missing += by_referral.count(id) == 0;
    if (missing == 0) break;
    ASSERT_LT(absl::Now(), delivered_by) << missing << " acknowledged referrals never delivered\n"
                                         << ReadFileOrEmpty(Path("b/gateway.log")).substr(0, 3000);
    absl::SleepFor(absl::Milliseconds(200));
  }
  // Exactly once: no referral and no idempotency key was new to the connector twice, and nothing
  // arrived that was not acknowledged.
  for (const auto& [id, count] : by_referral) EXPECT_EQ(count, 1) << "referral " << id << " delivered as new twice";
  for (const auto& [key, count] : by_key) EXPECT_EQ(count, 1) << key;
  std::set<std::string> delivered;
  for (const auto& [id, count] : by_referral) delivered.insert(id);
  EXPECT_EQ(delivered, acked_ids);
  // A row is sent again only when the killed replica sent it and died before recording that: its
  // workers have at most one batch in flight per endpoint (DeliveryConfig.batch_size, 32 by
  // default) and mark a batch's acknowledgements together. Replicas sharing rows while both alive
  // would resend far more.
  std::fprintf(stderr, "replicas test: %d deliveries sent again after the kill\n", sent_again);
  constexpr int kDefaultBatchSize = 32;
  EXPECT_LE(sent_again, static_cast<int>(std::size(kEndpoints)) * kDefaultBatchSize);

  // The audit log written by both replicas verifies through the survivor.
  CommandResult verify = RunCommand({BinaryPath("tools/frontdoor"), "--insecure-plaintext", "--target", addresses_["b"],
                                     "--as", "ig-officer-oldham", "audit", "verify"});
  EXPECT_EQ(verify.exit_status, 0) << "audit verify: " << verify.out;
}

}  // namespace
}  // namespace frontdoor::testing
