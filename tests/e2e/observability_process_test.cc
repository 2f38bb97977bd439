// Observability end to end, with the real executables over loopback: the Prometheus endpoint scraped over
// real HTTP, request and correlation ids over real gRPC, the JSON log lines the process writes, and
// SIGTERM under load (every referral answered ACCEPTED is stored; the health port says NOT_SERVING
// while the gateway drains; new calls are refused; exit 0).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/e2e/process_harness.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {
namespace {

namespace v1 = ::frontdoor::v1;

const char* const kEndpoints[] = {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"};

std::string Sample(const std::string& name) {
  return ReadFileOrEmpty(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/" + name);
}

// GET http://127.0.0.1:port/path over a plain socket; returns the body ("" on failure).
std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.find(" 200 ") == std::string::npos || body == std::string::npos) {
    return "";
  }
  return response.substr(body + 4);
}

// The value of the sample `name{...}` whose labels include every one of `labels`; -1 when absent.
double MetricValue(const std::string& exposition, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    bool all = true;
    for (const auto& [k, v] : labels) {
      if (line.find(k + "=\"" + v + "\"") == std::string::npos) all = false;
    }
    if (!all) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

// Every line of a log, parsed as JSON; a line that does not parse fails the test.
std::vector<std::map<std::string, std::string>> JsonLogLines(const std::string& log) {
  std::vector<std::map<std::string, std::string>> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    rapidjson::Document doc;
    doc.Parse(line.c_str(), line.size());
    EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << line;
    if (doc.HasParseError() || !doc.IsObject()) continue;
    std::map<std::string, std::string> fields;
    for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
      if (it->value.IsString()) {
        fields[it->name.GetString()] = it->value.GetString();
      } else if (it->value.IsNumber()) {
        fields[it->name.GetString()] = std::to_string(it->value.GetDouble());
      }
    }
    EXPECT_EQ(fields.count("time"), 1u) << line;
    EXPECT_EQ(fields.count("level"), 1u) << line;
    EXPECT_EQ(fields.count("msg"), 1u) << line;
    EXPECT_EQ(fields.count("event"), 1u) << line;
    out.push_back(std::move(fields));
  }
  return out;
}

// A ConnectorService that takes `delay` to acknowledge each delivery (so a drain is long enough to
// watch), recording what it acknowledged.
class SlowConnector final : public v1::ConnectorService::CallbackService {
 public:
  explicit SlowConnector(absl::Duration delay) : delay_(delay) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  ~SlowConnector() override {
    server_->Shutdown(std::chrono::system_clock::now());
    absl::MutexLock lock(&mu_);
    for (std::thread& t : threads_) t.join();
  }
  const std::string& address() const { return address_; }
  int acknowledged() const {
    absl::MutexLock lock(&mu_);
    return acknowledged_;
  }

  grpc::ServerUnaryReactor* DeliverReferral(grpc::CallbackServerContext* ctx, const v1::DeliverReferralRequest*,
                                            v1::DeliverReferralResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, reactor] {
      absl::SleepFor(delay_);
      {
        absl::MutexLock l(&mu_);
        ++acknowledged_;
      }
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }
  grpc::ServerUnaryReactor* CeaseProcessing(grpc::CallbackServerContext* ctx, const v1::CeaseProcessingRequest*,
                                            v1::CeaseProcessingResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const absl::Duration delay_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  mutable absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  int acknowledged_ ABSL_GUARDED_BY(mu_) = 0;
};

struct GatewayAddresses {
  std::string target;  // gRPC HOST:PORT
  int metrics_port = 0;
  int health_port = 0;
};

class ObservabilityProcessTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  std::map<std::string, std::string> StartSim() {
    const std::string ready = Path("sim.ready");
    std::vector<std::string> argv = {BinaryPath("tools/frontdoor-connector-sim"), "--record", Path("deliveries.jsonl"),
                                     "--ready-file", ready};
    for (const char* e : kEndpoints) {
      argv.push_back("--serve");
      argv.push_back(std::string(e) + "=127.0.0.1:0");
    }
    sim_ = std::make_unique<ChildProcess>(argv, Path("sim.log"));
    std::map<std::string, std::string> out;
    auto text = WaitForFile(ready, absl::Seconds(30));
    EXPECT_TRUE(text.has_value()) << ReadFileOrEmpty(Path("sim.log"));
    std::istringstream in(text.value_or(""));
    std::string line;
    while (std::getline(in, line)) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
  }

  // Starts the gateway (plaintext, bulk limits) with a metrics endpoint and a health port on
  // ports the system picks; learns them from its JSON "listening" log line.
  GatewayAddresses StartGateway(const std::map<std::string, std::string>& connectors, const std::string& log_name,
                                const std::string& extra_config = "") {
    const std::string ready = Path(log_name + ".ready");
    std::vector<std::string> argv = {BinaryPath("gateway/frontdoor-gateway"),
                                     "--insecure-plaintext",
                                     "--config",
                                     WriteBulkTestConfig(dir_.path(), extra_config),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--data-dir",
                                     Path("data"),
                                     "--ready-file",
                                     ready,
                                     "--metrics-listen",
                                     "127.0.0.1:0",
                                     "--health-listen",
                                     "127.0.0.1:0"};
    for (const auto& [endpoint, address] : connectors) {
      argv.push_back("--connector");
      argv.push_back(endpoint + "=" + address);
    }
    gateway_ = std::make_unique<ChildProcess>(argv, Path(log_name));
    GatewayAddresses out;
    auto text = WaitForFile(ready, absl::Seconds(30));
    EXPECT_TRUE(text.has_value()) << ReadFileOrEmpty(Path(log_name));
    out.target = text.value_or("");
    while (!out.target.empty() && out.target.back() == '\n') out.target.pop_back();
    for (const auto& line : JsonLogLines(ReadFileOrEmpty(Path(log_name)))) {
      auto event = line.find("event");
      if (event == line.end() || event->second != "listening") continue;
      auto port_of = [](const std::string& address) {
        return std::atoi(address.substr(address.rfind(':') + 1).c_str());
      };
      if (line.count("metrics_address")) out.metrics_port = port_of(line.at("metrics_address"));
      if (line.count("health_address")) out.health_port = port_of(line.at("health_address"));
    }
    EXPECT_NE(out.metrics_port, 0) << ReadFileOrEmpty(Path(log_name));
    EXPECT_NE(out.health_port, 0) << ReadFileOrEmpty(Path(log_name));
    return out;
  }

  static std::unique_ptr<v1::ReferralService::Stub> Stub(const std::string& target) {
    return v1::ReferralService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }

  // SubmitReferral as `sender`, with optional ids; fills the response and the initial metadata.
  static grpc::Status Submit(v1::ReferralService::Stub* stub, const v1::SubmitReferralRequest& request,
                             const std::string& sender, v1::SubmitReferralResponse* response,
                             std::multimap<std::string, std::string>* initial = nullptr,
                             const std::map<std::string, std::string>& metadata = {}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ctx.AddMetadata("x-frontdoor-client", sender);
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    grpc::Status status = stub->SubmitReferral(&ctx, request, response);
    if (initial != nullptr) {
      for (const auto& [k, v] : ctx.GetServerInitialMetadata()) {
        initial->emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
    }
    return status;
  }

  static v1::SubmitReferralRequest Typed(const v1::Referral& referral) {
    v1::SubmitReferralRequest request;
    *request.mutable_referral() = referral;
    return request;
  }

  bool WaitForDeliveries(const std::vector<std::string>& referral_ids, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      const std::string record = ReadFileOrEmpty(Path("deliveries.jsonl"));
      bool all = true;
      for (const std::string& id : referral_ids) all = all && record.find(id) != std::string::npos;
      if (all) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  static grpc::health::v1::HealthCheckResponse::ServingStatus Health(int port, grpc::StatusCode* code) {
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&ctx, request, &response);
    *code = status.error_code();
    return response.status();
  }

  TempDir dir_;
  std::unique_ptr<ChildProcess> sim_;
  std::unique_ptr<ChildProcess> gateway_;
};

TEST_F(ObservabilityProcessTest, ScrapeShowsReferralsByDispositionRuleBoroughFormatRoutingAndDelivery) {
  const GatewayAddresses gw = StartGateway(StartSim(), "gateway.log");
  auto stub = Stub(gw.target);
  std::vector<std::string> delivered;
  auto submit = [&](const v1::SubmitReferralRequest& request, const std::string& sender) {
    v1::SubmitReferralResponse response;
    const grpc::Status status = Submit(stub.get(), request, sender, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (response.disposition() == v1::ACCEPTED) delivered.push_back(response.referral_id());
    return response;
  };
  v1::SubmitReferralRequest fhir;
  fhir.set_fhir_json(Sample("01-fhir-oldham-wellbeing.json"));
  v1::SubmitReferralRequest front_door;
  front_door.set_fhir_json(Sample("05-fhir-paused-team-front-door.json"));
  v1::SubmitReferralRequest objection;
  objection.set_fhir_json(Sample("09-fhir-ig2-objection.json"));
  v1::SubmitReferralRequest invalid;
  invalid.set_fhir_json(Sample("13-fhir-invalid-nhs-number.json"));
  v1::SubmitReferralRequest hl7;
  hl7.set_hl7v2(Sample("17-hl7-tameside-hospital.hl7"));

  EXPECT_EQ(submit(Typed(RoytonReferral("metrics-typed-1")), "P85901").disposition(), v1::ACCEPTED);
  EXPECT_EQ(submit(fhir, "P85901").disposition(), v1::ACCEPTED);
  EXPECT_TRUE(submit(front_door, "P85910").front_door());
  EXPECT_EQ(submit(objection, "P89901").disposition(), v1::REFUSED);
  EXPECT_EQ(submit(invalid, "P85903").disposition(), v1::REJECTED);
  EXPECT_EQ(submit(hl7, "R9T01").disposition(), v1::ACCEPTED);
  EXPECT_TRUE(submit(fhir, "P85901").duplicate());
  ASSERT_EQ(delivered.size(), 5u);  // the duplicate answers with the first referral's id
  ASSERT_TRUE(WaitForDeliveries(delivered, absl::Seconds(30))) << ReadFileOrEmpty(Path("gateway.log"));

  // The delivery is recorded (and counted) just after the connector acknowledges it.
  std::string text;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    text = HttpGet(gw.metrics_port, "/metrics");
    if (MetricValue(text, "frontdoor_delivery_latency_seconds_count", {{"endpoint", "action-together-tameside"}}) >=
            1 &&
        MetricValue(text, "frontdoor_delivery_latency_seconds_count", {{"endpoint", "action-together-oldham"}}) >= 3) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  ASSERT_FALSE(text.empty()) << "no HTTP answer from /metrics";

  const std::string referrals = "frontdoor_referrals_total";
  EXPECT_EQ(MetricValue(text, referrals,
                        {{"disposition", "ACCEPTED"}, {"rule", "none"}, {"borough", "oldham"}, {"format", "typed"}}),
            1)
      << text;
  EXPECT_EQ(MetricValue(text, referrals,
                        {{"disposition", "ACCEPTED"}, {"rule", "none"}, {"borough", "oldham"}, {"format", "fhir"}}),
            2);  // 01 and the front-door one
  EXPECT_EQ(MetricValue(text, referrals,
                        {{"disposition", "ACCEPTED"}, {"rule", "none"}, {"borough", "tameside"}, {"format", "hl7v2"}}),
            1);
  EXPECT_EQ(MetricValue(text, referrals, {{"disposition", "REFUSED"}, {"rule", "IG-2"}, {"format", "fhir"}}), 1);
  EXPECT_EQ(
      MetricValue(text, referrals, {{"disposition", "REJECTED"}, {"rule", "INVALID_NHS_NUMBER"}, {"format", "fhir"}}),
      1);
  EXPECT_EQ(MetricValue(text, referrals, {{"disposition", "DUPLICATE"}, {"format", "fhir"}}), 1);
  EXPECT_EQ(MetricValue(text, "frontdoor_referral_rules_total", {{"rule", "IG-2"}}), 1);

  EXPECT_EQ(
      MetricValue(text, "frontdoor_routed_total", {{"team", "oldham-north-royton-wellbeing"}, {"borough", "oldham"}}),
      2);
  EXPECT_EQ(MetricValue(text, "frontdoor_routed_total", {{"team", "oldham-front-door"}, {"borough", "oldham"}}), 1);
  EXPECT_EQ(MetricValue(text, "frontdoor_front_door_fallbacks_total", {{"borough", "oldham"}}), 1);
  // No Tameside referral took the front door, and the series is there at 0 (alerts need it).
  EXPECT_EQ(MetricValue(text, "frontdoor_front_door_fallbacks_total", {{"borough", "tameside"}}), 0);

  EXPECT_EQ(MetricValue(text, "frontdoor_delivery_attempts_total",
                        {{"endpoint", "action-together-oldham"}, {"kind", "deliver"}, {"outcome", "delivered"}}),
            3);
  EXPECT_EQ(MetricValue(text, "frontdoor_delivery_latency_seconds_count", {{"endpoint", "action-together-oldham"}}), 3);
  EXPECT_EQ(MetricValue(text, "frontdoor_delivery_latency_seconds_bucket",
                        {{"endpoint", "action-together-oldham"}, {"le", "+Inf"}}),
            3);
  EXPECT_EQ(MetricValue(text, "frontdoor_outbox_pending", {{"endpoint", "action-together-oldham"}}), 0);
  EXPECT_EQ(MetricValue(text, "frontdoor_outbox_dead_letters", {{"endpoint", "mind-oldham"}}), 0);

  const std::string submit_method = "/frontdoor.v1.ReferralService/SubmitReferral";
  EXPECT_EQ(MetricValue(text, "frontdoor_grpc_server_handled_total", {{"method", submit_method}, {"code", "OK"}}), 7);
  EXPECT_EQ(
      MetricValue(text, "frontdoor_grpc_server_handling_seconds_count", {{"method", submit_method}, {"code", "OK"}}),
      7);
  // Nothing in the exposition identifies a person or a message.
  EXPECT_EQ(text.find("9991951024"), std::string::npos);
  for (const std::string& id : delivered) EXPECT_EQ(text.find(id), std::string::npos) << id;
}

TEST_F(ObservabilityProcessTest, OutboxDepthGaugeShowsAPendingRowWhileTheConnectorIsDown) {
  // Learn the simulator's addresses, then stop it: nothing can be delivered.
  const auto connectors = StartSim();
  sim_->Signal(SIGTERM);
  ASSERT_TRUE(sim_->Wait(absl::Seconds(10)).has_value());
  const GatewayAddresses gw = StartGateway(connectors, "gateway.log");
  auto stub = Stub(gw.target);
  v1::SubmitReferralResponse response;
  ASSERT_TRUE(Submit(stub.get(), Typed(RoytonReferral("outbox-1")), "P85901", &response).ok());
  ASSERT_EQ(response.disposition(), v1::ACCEPTED);

  const std::string text = HttpGet(gw.metrics_port, "/metrics");
  EXPECT_EQ(MetricValue(text, "frontdoor_outbox_pending", {{"endpoint", "action-together-oldham"}}), 1) << text;
  EXPECT_EQ(MetricValue(text, "frontdoor_outbox_pending", {{"endpoint", "ageuk-oldham"}}), 0);
  EXPECT_EQ(MetricValue(text, "frontdoor_outbox_dead_letters", {{"endpoint", "action-together-oldham"}}), 0);
  // The failed attempts are counted as such, never as delivered.
  EXPECT_EQ(MetricValue(text, "frontdoor_delivery_attempts_total",
                        {{"endpoint", "action-together-oldham"}, {"outcome", "delivered"}}),
            -1);
}

TEST_F(ObservabilityProcessTest, RequestAndCorrelationIdsAreEchoedAndLoggedWithTheReferralId) {
  const GatewayAddresses gw = StartGateway(StartSim(), "gateway.log");
  auto stub = Stub(gw.target);
  v1::SubmitReferralResponse response;
  std::multimap<std::string, std::string> initial;
  ASSERT_TRUE(Submit(stub.get(), Typed(RoytonReferral("ids-1")), "P85901", &response, &initial,
                     {{"x-request-id", "req-7f3a-0001"}, {"x-correlation-id", "corr-bars-42"}})
                  .ok());
  ASSERT_EQ(response.disposition(), v1::ACCEPTED);
  EXPECT_EQ(initial.count("x-request-id"), 1u);
  EXPECT_EQ(initial.find("x-request-id")->second, "req-7f3a-0001");
  EXPECT_EQ(initial.find("x-correlation-id")->second, "corr-bars-42");

  // The call's log line carries both ids, the caller, the method, the status and the referral id.
  bool found = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!found && absl::Now() < deadline) {
    for (const auto& line : JsonLogLines(ReadFileOrEmpty(Path("gateway.log")))) {
      if (line.count("request_id") && line.at("request_id") == "req-7f3a-0001") {
        found = true;
        EXPECT_EQ(line.at("event"), "grpc_call");
        EXPECT_EQ(line.at("correlation_id"), "corr-bars-42");
        EXPECT_EQ(line.at("method"), "/frontdoor.v1.ReferralService/SubmitReferral");
        EXPECT_EQ(line.at("identity"), "P85901");
        EXPECT_EQ(line.at("code"), "OK");
        EXPECT_EQ(line.at("referral_id"), response.referral_id());
        EXPECT_EQ(line.count("duration_ms"), 1u);
      }
    }
    if (!found) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(found) << ReadFileOrEmpty(Path("gateway.log"));
}

TEST_F(ObservabilityProcessTest, MalformedOrAbsentIdsAreReplacedWithFreshOnes) {
  const GatewayAddresses gw = StartGateway(StartSim(), "gateway.log");
  auto stub = Stub(gw.target);
  const std::string too_long(129, 'a');
  const std::vector<std::map<std::string, std::string>> cases = {
      {},                                                                   // none: both fresh, equal
      {{"x-request-id", too_long}, {"x-correlation-id", "ok-1"}},           // too long
      {{"x-request-id", "has space"}},                                      // not visible ASCII
      {{"x-request-id", ""}, {"x-correlation-id", std::string(200, 'c')}},  // empty; too long
      // (gRPC clients cannot send control characters or non-ASCII in metadata at all.)
  };
  std::set<std::string> seen;
  for (size_t i = 0; i < cases.size(); ++i) {
    v1::SubmitReferralResponse response;
    std::multimap<std::string, std::string> initial;
    grpc::Status status = Submit(stub.get(), Typed(RoytonReferral("fresh-" + std::to_string(i))), "P85901", &response,
                                 &initial, cases[i]);
    ASSERT_TRUE(status.ok()) << i << " " << status.error_message();
    ASSERT_EQ(initial.count("x-request-id"), 1u) << i;
    const std::string request_id = initial.find("x-request-id")->second;
    EXPECT_EQ(request_id.size(), 36u) << request_id;  // a UUID
    EXPECT_EQ(request_id[14], '4') << request_id;     // version 4
    EXPECT_TRUE(seen.insert(request_id).second) << "request ids repeat";
    auto sent_corr = cases[i].find("x-correlation-id");
    const std::string correlation = initial.find("x-correlation-id")->second;
    if (sent_corr == cases[i].end()) {
      EXPECT_EQ(correlation, request_id) << i;
    } else if (sent_corr->second == "ok-1") {
      EXPECT_EQ(correlation, "ok-1");
    } else {
      EXPECT_NE(correlation, sent_corr->second);
      EXPECT_EQ(correlation.size(), 36u);
    }
  }
  // Refused calls get ids too (the observer runs before admission): an unknown caller.
  v1::SubmitReferralResponse response;
  std::multimap<std::string, std::string> initial;
  grpc::Status status =
      Submit(stub.get(), Typed(RoytonReferral("stranger")), "ZZZ99", &response, &initial, {{"x-request-id", "who-1"}});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_EQ(initial.count("x-request-id"), 1u);
  EXPECT_EQ(initial.find("x-request-id")->second, "who-1");
  // The hostile values never reach the log.
  const std::string log = ReadFileOrEmpty(Path("gateway.log"));
  EXPECT_EQ(log.find(too_long), std::string::npos);
  EXPECT_EQ(log.find("has space"), std::string::npos);
}

TEST_F(ObservabilityProcessTest, LogsAreJsonLinesWithoutPatientData) {
  const GatewayAddresses gw = StartGateway(StartSim(), "gateway.log");
  auto stub = Stub(gw.target);
  v1::Referral referral = RoytonReferral("no-pii-1");
  referral.mutable_person()->set_nhs_number("9731146288");
  referral.mutable_person()->mutable_name()->set_family("Zanzibarova");
  referral.mutable_person()->mutable_name()->set_given(0, "Quillon");
  referral.mutable_person()->set_birth_date("1979-08-23");
  referral.mutable_person()->mutable_home_address()->set_lines(0, "77 Marmalade Crescent");
  referral.set_referrer_text("Xylophone whisper since the winter.");
  v1::SubmitReferralResponse response;
  ASSERT_TRUE(Submit(stub.get(), Typed(referral), "P85901", &response).ok());
  ASSERT_EQ(response.disposition(), v1::ACCEPTED);
  ASSERT_TRUE(WaitForDeliveries({response.referral_id()}, absl::Seconds(30)));
  // A refused and a rejected one too (their answers quote rule ids and paths, never the values).
  v1::Referral refused = referral;
  refused.set_message_id("no-pii-2");
  refused.mutable_consents(0)->set_provision(v1::Consent::DENY);
  ASSERT_TRUE(Submit(stub.get(), Typed(refused), "P85901", &response).ok());
  EXPECT_EQ(response.disposition(), v1::REFUSED);
  v1::Referral rejected = referral;
  rejected.set_message_id("no-pii-3");
  rejected.mutable_person()->set_nhs_number("9731146289");  // wrong check digit
  ASSERT_TRUE(Submit(stub.get(), Typed(rejected), "P85901", &response).ok());
  EXPECT_EQ(response.disposition(), v1::REJECTED);

  // Stop it, so every line (the delivery, the calls, the shutdown) is written.
  gateway_->Signal(SIGTERM);
  ASSERT_EQ(gateway_->Wait(absl::Seconds(30)), std::optional<int>(0));
  const std::string log = ReadFileOrEmpty(Path("gateway.log"));
  const auto lines = JsonLogLines(log);
  EXPECT_GE(lines.size(), 6u) << log;
  bool delivery_logged = false;
  for (const auto& line : lines) {
    if (line.at("event") == "delivery" && line.count("referral_id")) delivery_logged = true;
  }
  EXPECT_TRUE(delivery_logged) << log;
  for (const char* secret : {"9731146288", "9731146289", "Zanzibarova", "Quillon", "1979-08-23", "Marmalade", "OL2 6LB",
                             "Xylophone", "07700 900363"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " is in the log:\n" << log;
  }
}

TEST_F(ObservabilityProcessTest, TextLogFormatWritesOneReadableLinePerEvent) {
  const std::string ready = Path("text.ready");
  gateway_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{BinaryPath("gateway/frontdoor-gateway"), "--insecure-plaintext", "--config",
                               WriteBulkTestConfig(dir_.path(), "observability { log_format: \"text\" }"), "--listen",
                               "127.0.0.1:0", "--data-dir", Path("data"), "--ready-file", ready},
      Path("gateway.log"));
  auto target = WaitForFile(ready, absl::Seconds(30));
  ASSERT_TRUE(target.has_value()) << ReadFileOrEmpty(Path("gateway.log"));
  while (!target->empty() && target->back() == '\n') target->pop_back();
  auto stub = Stub(*target);
  v1::SubmitReferralResponse response;
  ASSERT_TRUE(Submit(stub.get(), Typed(RoytonReferral("text-1")), "P85901", &response, nullptr,
                     {{"x-request-id", "text-req-1"}})
                  .ok());
  gateway_->Signal(SIGTERM);
  ASSERT_EQ(gateway_->Wait(absl::Seconds(30)), std::optional<int>(0));
  const std::string log = ReadFileOrEmpty(Path("gateway.log"));
  EXPECT_NE(log.find(" info grpc_call: call finished door=grpc method=/frontdoor.v1.ReferralService/SubmitReferral "
                     "identity=P85901 "
                     "code=OK "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("request_id=text-req-1"), std::string::npos) << log;
  EXPECT_EQ(log.find("{\"time\""), std::string::npos) << log;
}

TEST_F(ObservabilityProcessTest, UnknownLogFormatRefusesToStartAndSaysWhy) {
  ChildProcess gateway({BinaryPath("gateway/frontdoor-gateway"), "--insecure-plaintext", "--config",
                        WriteBulkTestConfig(dir_.path(), "observability { log_format: \"xml\" }"), "--listen",
                        "127.0.0.1:0", "--data-dir", Path("data")},
                       Path("gateway.log"));
  const std::optional<int> status = gateway.Wait(absl::Seconds(30));
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  EXPECT_NE(ReadFileOrEmpty(Path("gateway.log")).find("log_format"), std::string::npos);
}

TEST_F(ObservabilityProcessTest, SigtermUnderLoadDrainsKeepsEveryAcceptedReferralAndExitsZero) {
  // Each delivery takes 1.5 s to be acknowledged, so the drain (which lets the attempt in hand
  // finish) lasts long enough to watch from outside.
  SlowConnector connector(absl::Milliseconds(1500));
  std::map<std::string, std::string> connectors;
  for (const char* e : kEndpoints) connectors[e] = connector.address();
  const GatewayAddresses gw = StartGateway(connectors, "gateway.log", "observability { shutdown_grace_seconds: 10 }");
  grpc::StatusCode health_code;
  ASSERT_EQ(Health(gw.health_port, &health_code), grpc::health::v1::HealthCheckResponse::SERVING);

  // Four clients submit as fast as they can until their calls fail.
  absl::Mutex mu;
  std::vector<std::string> accepted;
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      auto stub = Stub(gw.target);
      for (int i = 0; !stop.load(); ++i) {
        v1::SubmitReferralResponse response;
        const grpc::Status status =
            Submit(stub.get(), Typed(RoytonReferral(absl::StrCat("load-", c, "-", i))), "P85901", &response);
        if (!status.ok()) {
          ++failures;
          if (failures.load() > 50) return;
          absl::SleepFor(absl::Milliseconds(5));
          continue;
        }
        if (response.disposition() == v1::ACCEPTED) {
          absl::MutexLock lock(&mu);
          accepted.push_back(response.referral_id());
        }
      }
    });
  }
  const absl::Time load_deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      if (accepted.size() >= 100) break;
    }
    ASSERT_LT(absl::Now(), load_deadline) << ReadFileOrEmpty(Path("gateway.log"));
    absl::SleepFor(absl::Milliseconds(5));
  }

  const absl::Time sigterm_at = absl::Now();
  gateway_->Signal(SIGTERM);
  // While it drains (the slow delivery in hand), the health port answers NOT_SERVING and the main
  // port takes no new call.
  bool saw_not_serving = false;
  bool new_call_refused = false;
  const absl::Time watch_until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < watch_until && !(saw_not_serving && new_call_refused)) {
    grpc::StatusCode code;
    const auto status = Health(gw.health_port, &code);
    if (code == grpc::StatusCode::OK && status == grpc::health::v1::HealthCheckResponse::NOT_SERVING) {
      saw_not_serving = true;
      // Probes already say NOT_SERVING; a fresh connection's call is refused.
      auto fresh = Stub(gw.target);
      v1::SubmitReferralResponse response;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      ctx.AddMetadata("x-frontdoor-client", "P85901");
      // (The very first may race the listener's closing, a few microseconds after NOT_SERVING.)
      const grpc::Status s = fresh->SubmitReferral(&ctx, Typed(RoytonReferral("after-sigterm")), &response);
      if (!s.ok()) new_call_refused = true;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(saw_not_serving) << "the health port never said NOT_SERVING during the drain";
  EXPECT_TRUE(new_call_refused) << "a new call was taken after SIGTERM";

  const std::optional<int> exit_status = gateway_->Wait(absl::Seconds(15));
  stop = true;
  for (std::thread& t : clients) t.join();
  ASSERT_TRUE(exit_status.has_value()) << "no exit within the grace time";
  EXPECT_EQ(*exit_status, 0) << ReadFileOrEmpty(Path("gateway.log"));
  EXPECT_LT(absl::Now() - sigterm_at, absl::Seconds(12));
  EXPECT_NE(ReadFileOrEmpty(Path("gateway.log")).find("\"msg\":\"stopped\""), std::string::npos);

  // Every referral answered ACCEPTED is in the store: restart on the same data and read each back.
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu);
    ids = accepted;
  }
  ASSERT_GE(ids.size(), 100u);
  const GatewayAddresses again = StartGateway(connectors, "gateway2.log");
  auto stub = Stub(again.target);
  int missing = 0;
  for (const std::string& id : ids) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    v1::GetReferralRequest request;
    request.set_referral_id(id);
    v1::GetReferralResponse response;
    const grpc::Status s = stub->GetReferral(&ctx, request, &response);
    if (!s.ok() || response.referral_id() != id) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << ids.size() << " accepted referrals";
}

}  // namespace
}  // namespace frontdoor::testing
