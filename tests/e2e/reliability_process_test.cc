// Reliability end to end, with the real executables over loopback: a referral's feedback comes back to
// the referrer (frontdoor watch); kill -9 of the gateway in the middle of a 5,000-referral run
// loses nothing and delivers each referral once in effect; a connector outage does not slow the
// others and its backlog is delivered when it returns; a connector that never returns ends in
// dead letters that an operator replays.
//
// FRONTDOOR_OUTAGE_SECONDS sets the outage (default 60, as the issue asks; CI keeps it).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "frontdoor/v1/admin_service.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;

const char* const kEndpoints[] = {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"};
constexpr char kOldham[] = "action-together-oldham";      // RoytonReferral goes here
constexpr char kTameside[] = "action-together-tameside";  // TamesideReferral goes here

// One delivery as the simulator recorded it.
struct Delivery {
  std::string endpoint_id, referral_id, key;
  bool duplicate = false;
  int64_t received_unix_ms = 0;
};

class ReliabilityProcessTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  void SetUp() override {
    gateway_address_ = "127.0.0.1:" + std::to_string(FreePort());
    for (const char* e : kEndpoints) connectors_[e] = "127.0.0.1:" + std::to_string(FreePort());
  }

  // One simulator process per endpoint, so that one can be stopped alone.
  void StartSim(const std::string& endpoint, bool report_progress = false) {
    const std::string ready = Path("sim." + endpoint + ".ready." + std::to_string(++starts_));
    std::vector<std::string> argv = {BinaryPath("tools/frontdoor-connector-sim"),
                                     "--serve",
                                     endpoint + "=" + connectors_[endpoint],
                                     "--record",
                                     Path("deliveries." + endpoint + ".jsonl"),
                                     "--ready-file",
                                     ready};
    if (report_progress) {
      argv.insert(argv.end(), {"--report-to", gateway_address_, "--progress-interval-ms", "100"});
    }
    sims_[endpoint] = std::make_unique<ChildProcess>(argv, Path("sim." + endpoint + ".log"));
    ASSERT_TRUE(WaitForFile(ready, absl::Seconds(30)).has_value()) << ReadFileOrEmpty(Path("sim." + endpoint + ".log"));
  }
  void StopSim(const std::string& endpoint) {
    sims_[endpoint]->Signal(SIGKILL);
    sims_[endpoint]->Wait(absl::Seconds(10));
    sims_.erase(endpoint);
  }

  void StartGateway(const std::string& config_text = "") {
    const std::string ready = Path("gateway.ready." + std::to_string(++starts_));
    std::vector<std::string> argv = {BinaryPath("gateway/frontdoor-gateway"),
                                     "--insecure-plaintext",
                                     "--listen",
                                     gateway_address_,
                                     "--data-dir",
                                     Path("data"),
                                     "--ready-file",
                                     ready};
    // Thousands of referrals from one identity: above the per-identity rate limit of real referrers.
    const std::string config = WriteBulkTestConfig(dir_.path(), config_text);
    argv.insert(argv.end(), {"--config", config});
    for (const auto& [endpoint, address] : connectors_)
      argv.insert(argv.end(), {"--connector", endpoint + "=" + address});
    gateway_ = std::make_unique<ChildProcess>(argv, Path("gateway.log"));
    ASSERT_TRUE(WaitForFile(ready, absl::Seconds(30)).has_value()) << ReadFileOrEmpty(Path("gateway.log"));
  }

  std::vector<Delivery> Deliveries(const std::string& endpoint) const {
    std::vector<Delivery> out;
    std::istringstream in(ReadFileOrEmpty(Path("deliveries." + endpoint + ".jsonl")));
    std::string line;
    while (std::getline(in, line)) {
      if (JsonField(line, "kind") != "deliver") continue;
      Delivery d;
      d.endpoint_id = JsonField(line, "endpoint_id");
      d.referral_id = JsonField(line, "referral_id");
      d.key = JsonField(line, "idempotency_key");
      d.duplicate = JsonField(line, "duplicate") == "true";
      d.received_unix_ms = std::atoll(JsonField(line, "received_unix_ms").c_str());
      out.push_back(d);
    }
    return out;
  }
  // referral_id -> new (non-duplicate) deliveries, over every endpoint.
  std::map<std::string, int> NewDeliveriesByReferral() const {
    std::map<std::string, int> out;
    for (const char* e : kEndpoints) {
      for (const Delivery& d : Deliveries(e)) {
        if (!d.duplicate) out[d.referral_id]++;
      }
    }
    return out;
  }
  bool WaitUntilDelivered(const std::set<std::string>& ids, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      const auto delivered = NewDeliveriesByReferral();
      size_t missing = 0;
      for (const std::string& id : ids) missing += delivered.count(id) == 0;
      if (missing == 0) return true;
      if (absl::Now() > deadline) {
        ADD_FAILURE() << missing << " of " << ids.size() << " acknowledged referrals not delivered";
        return false;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  CommandResult Cli(const std::string& as, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        BinaryPath("tools/frontdoor"), "--insecure-plaintext", "--target", gateway_address_, "--as", as};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  TempDir dir_;
  std::string gateway_address_;
  std::map<std::string, std::string> connectors_;
  std::map<std::string, std::unique_ptr<ChildProcess>> sims_;
  std::unique_ptr<ChildProcess> gateway_;
  int starts_ = 0;
};

// Submits referrals concurrently with the callback API, resending each (same message) until it is
// answered, as a referring system would. Thread-safe.
class LoadDriver {
 public:
  LoadDriver(const std::string& target, int window) : window_(window) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    stub_ = v1::ReferralService::NewStub(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }

  // Queues a referral; `on_ack` runs (on a gRPC thread) with the answer once it is acknowledged.
  void Submit(v1::Referral referral, std::function<void(const v1::SubmitReferralResponse&)> on_ack = nullptr) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](LoadDriver* d) ABSL_NO_THREAD_SAFETY_ANALYSIS { return d->in_flight_ < d->window_; }, this));
      ++in_flight_;
    }
    auto call = std::make_shared<Call>();
    *call->request.mutable_referral() = std::move(referral);
    call->on_ack = std::move(on_ack);
    Send(call);
  }
  // Waits until every queued referral was acknowledged.
  bool Drain(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](LoadDriver* d) ABSL_NO_THREAD_SAFETY_ANALYSIS { return d->in_flight_ == 0; }, this),
        timeout);
  }
  int acked() const {
    absl::MutexLock lock(&mu_);
    return acked_;
  }
  // message_id -> every referral_id it was answered with (must be one).
  std::map<std::string, std::set<std::string>> answers() const {
    absl::MutexLock lock(&mu_);
    return answers_;
  }
  int errors() const {
    absl::MutexLock lock(&mu_);
    return errors_;
  }

 private:
  struct Call {
    v1::SubmitReferralRequest request;
    v1::SubmitReferralResponse response;
    std::unique_ptr<grpc::ClientContext> ctx;
    std::function<void(const v1::SubmitReferralResponse&)> on_ack;
  };

  void Send(std::shared_ptr<Call> call) {
    call->ctx = std::make_unique<grpc::ClientContext>();
    call->ctx->AddMetadata("x-frontdoor-client", call->request.referral().sender_ods());
    call->ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    call->response.Clear();
    stub_->async()->SubmitReferral(call->ctx.get(), &call->request, &call->response, [this, call](grpc::Status s) {
      if (s.ok() && call->response.disposition() == v1::ACCEPTED) {
        if (call->on_ack) call->on_ack(call->response);
        absl::MutexLock lock(&mu_);
        ++acked_;
        answers_[call->request.referral().message_id()].insert(call->response.referral_id());
        --in_flight_;
        return;
      }
      {
        absl::MutexLock lock(&mu_);
        ++errors_;
      }
      // Not answered (the gateway is down or restarting): send the same message again shortly.
      std::thread([this, call] {
        absl::SleepFor(absl::Milliseconds(100));
        Send(call);
      }).detach();
    });
  }

  std::unique_ptr<v1::ReferralService::Stub> stub_;
  const int window_;
  mutable absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int acked_ ABSL_GUARDED_BY(mu_) = 0;
  int errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::set<std::string>> answers_ ABSL_GUARDED_BY(mu_);
};

TEST_F(ReliabilityProcessTest, AReferralGoesInAndItsFeedbackComesBackToTheReferrer) {
  for (const char* e : kEndpoints) StartSim(e, /*report_progress=*/true);
  StartGateway();
  std::ofstream(Path("referral.json")) << [] {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(RoytonReferral("feedback-loop-1"), &json);
    return json;
  }();
  CommandResult submitted = Cli("P85901", {"submit", Path("referral.json")});
  ASSERT_EQ(submitted.exit_status, 0) << submitted.out;
  v1::SubmitReferralResponse resp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(submitted.out, &resp).ok());

  // Two events, disconnect, then resume from the last cursor for two more: every path a link
  // worker takes (connected or declined) has at least four steps.
  CommandResult first = Cli("P85901", {"watch", "--count", "2", "--timeout", "60"});
  ASSERT_EQ(first.exit_status, 0) << first.out << ReadFileOrEmpty(Path("gateway.log"));
  std::vector<v1::FeedbackEvent> events;
  auto parse = [&](const std::string& out) {
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      v1::FeedbackEvent e;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &e).ok()) << line;
      events.push_back(e);
    }
  };
  parse(first.out);
  ASSERT_EQ(events.size(), 2u);
  CommandResult second = Cli("P85901", {"watch", "--from", events.back().cursor(), "--count", "2", "--timeout", "60"});
  ASSERT_EQ(second.exit_status, 0) << second.out;
  parse(second.out);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].status(), v1::PROGRESS_RECEIVED);
  EXPECT_EQ(events[1].status(), v1::PROGRESS_CONTACTED);
  std::set<std::string> cursors;
  for (const auto& e : events) {
    EXPECT_EQ(e.referral_id(), resp.referral_id());
    cursors.insert(e.cursor());
  }
  EXPECT_EQ(cursors.size(), 4u) << "nothing repeated across the reconnect";

  CommandResult got = Cli("P85901", {"get", resp.referral_id()});
  EXPECT_EQ(got.exit_status, 0);
  EXPECT_NE(got.out.find("\"history\""), std::string::npos) << got.out;
}

TEST_F(ReliabilityProcessTest, KillNineInTheMiddleOfFiveThousandReferralsLosesNothingAndDeliversEachOnce) {
  constexpr int kReferrals = 5000;
  for (const char* e : kEndpoints) StartSim(e);
  StartGateway();
  LoadDriver driver(gateway_address_, /*window=*/64);
  std::atomic<bool> killed{false};
  std::thread load([&] {
    for (int i = 0; i < kReferrals; ++i) {
      const std::string id = "load-" + std::to_string(i);
      driver.Submit(i % 2 == 0 ? RoytonReferral(id) : TamesideReferral(id));
    }
  });
  // Kill -9 once a good part of the run is acknowledged, and restart on the same data.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (driver.acked() < kReferrals * 2 / 5 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_GT(driver.acked(), 0);
  const int acked_before_kill = driver.acked();
  gateway_->Signal(SIGKILL);
  ASSERT_TRUE(gateway_->Wait(absl::Seconds(10)).has_value());
  killed = true;
  absl::SleepFor(absl::Milliseconds(300));  // the referrers see failures and keep resending
  StartGateway();
  load.join();
  ASSERT_TRUE(driver.Drain(absl::Seconds(90))) << "acknowledged " << driver.acked();
  std::fprintf(stderr, "crash test: %d acknowledged before the kill, %d resends after failures\n", acked_before_kill,
               driver.errors());

  // Every message has one referral id, whether answered before or (as a duplicate) after the kill.
  std::set<std::string> acked_ids;
  for (const auto& [message_id, ids] : driver.answers()) {
    EXPECT_EQ(ids.size(), 1u) << message_id << " was answered with different referral ids";
    acked_ids.insert(ids.begin(), ids.end());
  }
  ASSERT_EQ(acked_ids.size(), static_cast<size_t>(kReferrals));
  ASSERT_TRUE(WaitUntilDelivered(acked_ids, absl::Seconds(90))) << ReadFileOrEmpty(Path("gateway.log")).substr(0, 2000);
  // Exactly once in effect, counted at the connectors by idempotency key; nothing that was not
  // acknowledged.
  std::map<std::string, int> by_key;
  std::set<std::string> delivered;
  for (const char* e : kEndpoints) {
    for (const Delivery& d : Deliveries(e)) {
      if (d.duplicate) continue;
      by_key[d.key]++;
      delivered.insert(d.referral_id);
    }
  }
  for (const auto& [key, count] : by_key) EXPECT_EQ(count, 1) << key;
  EXPECT_EQ(delivered, acked_ids);
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

TEST_F(ReliabilityProcessTest, AConnectorOutageDoesNotSlowTheOthersAndItsBacklogArrivesWhenItReturns) {
  const char* env = std::getenv("FRONTDOOR_OUTAGE_SECONDS");
  const absl::Duration outage = absl::Seconds(env != nullptr ? std::atoi(env) : 60);
  for (const char* e : kEndpoints) StartSim(e);
  StartGateway(
      "delivery { initial_backoff_ms: 100 max_backoff_ms: 1000 attempt_deadline_ms: 2000 breaker_open_ms: 200 }\n");
  LoadDriver driver(gateway_address_, /*window=*/16);
  absl::Mutex mu;
  std::map<std::string, int64_t> acked_at_ms;  // referral_id -> when the referrer had its answer
  std::map<std::string, int> phase_of;         // referral_id -> 0 before, 1 during, 2 after the outage
  std::set<std::string> oldham_ids, tameside_ids;
  std::atomic<int> phase{0};
  auto submit = [&](int i) {
    const bool tameside = i % 2 == 1;
    const std::string id = "outage-" + std::to_string(i);
    const int p = phase.load();
    driver.Submit(tameside ? TamesideReferral(id) : RoytonReferral(id),
                  [&, tameside, p](const v1::SubmitReferralResponse& r) {
                    absl::MutexLock lock(&mu);
                    acked_at_ms[r.referral_id()] = absl::ToUnixMillis(absl::Now());
                    phase_of[r.referral_id()] = p;
                    (tameside ? tameside_ids : oldham_ids).insert(r.referral_id());
                  });
  };
  int n = 0;
  auto run_for = [&](absl::Duration d) {
    const absl::Time end = absl::Now() + d;
    while (absl::Now() < end) {
      submit(n++);
      absl::SleepFor(absl::Milliseconds(40));
    }
  };
  run_for(absl::Seconds(5));
  phase = 1;
  StopSim(kTameside);  // the connector goes away mid-run
  run_for(outage);
  phase = 2;
  StartSim(kTameside);  // and comes back on the same address
  run_for(absl::Seconds(3));
  ASSERT_TRUE(driver.Drain(absl::Seconds(30)));

  std::set<std::string> all;
  {
    absl::MutexLock lock(&mu);
    all.insert(oldham_ids.begin(), oldham_ids.end());
    all.insert(tameside_ids.begin(), tameside_ids.end());
  }
  ASSERT_TRUE(WaitUntilDelivered(all, absl::Seconds(30))) << "the backlog was not delivered after the return";

  // The others' latency, ack to arrival at the connector, before and during the outage.
  std::vector<int64_t> before, during;
  {
    absl::MutexLock lock(&mu);
    for (const Delivery& d : Deliveries(kOldham)) {
      if (d.duplicate || acked_at_ms.count(d.referral_id) == 0) continue;
      const int64_t latency = std::max<int64_t>(0, d.received_unix_ms - acked_at_ms[d.referral_id]);
      (phase_of[d.referral_id] == 0 ? before : during).push_back(latency);
      if (phase_of[d.referral_id] == 2) during.pop_back();
    }
  }
  const int64_t p95_before = Percentile(before, 0.95), p95_during = Percentile(during, 0.95);
  std::fprintf(stderr,
               "outage test: %lld s outage; %s latency p50/p95 before %lld/%lld ms (%zu), during %lld/%lld ms (%zu)\n",
               static_cast<long long>(absl::ToInt64Seconds(outage)), kOldham,
               static_cast<long long>(Percentile(before, 0.5)), static_cast<long long>(p95_before), before.size(),
               static_cast<long long>(Percentile(during, 0.5)), static_cast<long long>(p95_during), during.size());
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(during.empty());
  // Unaffected: within noise of the baseline. Were the others held up by the dead connector they
  // would wait for its attempt deadline (2 s) or breaker pauses (0.2-1 s); the allowances below are
  // for a shared CI machine.
  EXPECT_LE(Percentile(during, 0.5), 2 * Percentile(before, 0.5) + 50);
  EXPECT_LE(p95_during, 2 * p95_before + 500);

  // The returned connector got its whole backlog, each referral once.
  std::map<std::string, int> tameside_keys;
  for (const Delivery& d : Deliveries(kTameside)) {
    if (!d.duplicate) tameside_keys[d.key]++;
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(tameside_keys.size(), tameside_ids.size());
  for (const auto& [key, count] : tameside_keys) EXPECT_EQ(count, 1) << key;
}

TEST_F(ReliabilityProcessTest, AConnectorThatNeverReturnsEndsInDeadLettersThatReplayDelivers) {
  for (const char* e : kEndpoints) {
    if (std::string(e) != kTameside) StartSim(e);
  }
  StartGateway(
      "delivery { initial_backoff_ms: 100 max_backoff_ms: 500 breaker_open_ms: 200 dead_letter_after_ms: 2000 }\n");
  LoadDriver driver(gateway_address_, /*window=*/8);
  for (int i = 0; i < 10; ++i) driver.Submit(TamesideReferral("never-" + std::to_string(i)));
  ASSERT_TRUE(driver.Drain(absl::Seconds(30)));

  // After the limit, all ten are dead letters, and the referrer sees DELIVERY_FAILED.
  v1::ListDeadLettersResponse listed;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    CommandResult r = Cli("frontdoor-operator", {"admin", "dead-letters", "--endpoint", kTameside});
    ASSERT_EQ(r.exit_status, 0) << r.out;
    listed.Clear();
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &listed).ok()) << r.out;
    if (listed.dead_letters_size() == 10) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(listed.dead_letters_size(), 10) << ReadFileOrEmpty(Path("gateway.log")).substr(0, 3000);
  CommandResult got = Cli("P85901", {"get", listed.dead_letters(0).referral_id()});
  EXPECT_NE(got.out.find("DELIVERY_FAILED"), std::string::npos) << got.out;
  EXPECT_EQ(Cli("P85901", {"admin", "dead-letters"}).exit_status, 5) << "only operators";

  // The connector is finally there; the operator replays; each arrives once.
  StartSim(kTameside);
  CommandResult replay = Cli("frontdoor-operator", {"admin", "replay", "--endpoint", kTameside});
  ASSERT_EQ(replay.exit_status, 0) << replay.out;
  EXPECT_NE(replay.out.find("\"replayed\": 10"), std::string::npos) << replay.out;
  std::set<std::string> ids;
  for (const auto& d : listed.dead_letters()) ids.insert(d.referral_id());
  ASSERT_TRUE(WaitUntilDelivered(ids, absl::Seconds(30)));
  for (const auto& [id, count] : NewDeliveriesByReferral()) EXPECT_EQ(count, 1) << id;
}

}  // namespace
}  // namespace frontdoor::testing
