#include "tests/support/test_support.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/server/gateway_config.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace frontdoor::testing {

namespace v1 = ::frontdoor::v1;

TempDir::TempDir() {
  std::string base = ::testing::TempDir();
  if (base.empty() || base.back() != '/') base += '/';
  std::string pattern = base + "frontdoor-XXXXXX";
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string WriteBulkTestConfig(const std::string& dir, const std::string& extra) {
  v1::GatewayConfig config;
  google::protobuf::TextFormat::ParseFromString(frontdoor::gateway::DemoGatewayConfigText(), &config);
  config.clear_network_dir();  // the demo network built in
  config.mutable_caller_limits()->set_requests_per_second(1000000);
  config.mutable_caller_limits()->set_burst(1000000);
  config.mutable_caller_limits()->set_max_concurrent_calls(100000);
  if (!extra.empty() && !google::protobuf::TextFormat::MergeFromString(extra, &config)) {
    ADD_FAILURE() << "the extra gateway configuration does not parse: " << extra;
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  const std::string path = dir + "/bulk-test-gateway.textproto";
  std::ofstream(path) << text;
  return path;
}

v1::Referral RoytonReferral(const std::string& message_id) {
  v1::Referral r;
  r.set_message_id(message_id);
  r.set_sender_ods("P85901");
  r.set_referral_date("2025-02-03");
  v1::Person* p = r.mutable_person();
  p->set_nhs_number("9991951024");
  p->mutable_name()->set_family("Pickup");
  p->mutable_name()->add_given("Olivia");
  p->set_birth_date("1979-08-14");
  p->mutable_home_address()->add_lines("51 Windmill Lane");
  p->mutable_home_address()->set_city("Royton");
  p->mutable_home_address()->set_postcode("OL2 6LB");
  v1::ContactPoint* phone = p->add_telecom();
  phone->set_system(v1::ContactPoint::PHONE);
  phone->set_value("07700 900363");
  p->set_registered_practice_ods("P85901");
  v1::Coding* reason = r.add_reasons();
  reason->set_system("http://snomed.info/sct");
  reason->set_code("267076002");
  reason->set_display("Feeling lonely");
  r.set_referrer_text("Feels lonely since moving to Royton.");
  v1::Consent* c = r.add_consents();
  c->set_id("consent-1");
  c->set_status(v1::Consent::ACTIVE);
  c->set_provision(v1::Consent::PERMIT);
  c->set_date("2025-02-03");
  return r;
}

v1::Referral TamesideReferral(const std::string& message_id) {
  v1::Referral r = RoytonReferral(message_id);
  r.mutable_person()->mutable_home_address()->set_postcode("OL6 7AB");
  return r;
}

RecordingConnector::RecordingConnector() : RecordingConnector("127.0.0.1:0") {}

RecordingConnector::RecordingConnector(const std::string& address) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    std::fprintf(stderr, "RecordingConnector: cannot listen on %s\n", address.c_str());
    std::abort();
  }
  address_ = "127.0.0.1:" + std::to_string(port);
}

RecordingConnector::~RecordingConnector() {
  std::vector<std::thread> delayed;
  {
    absl::MutexLock lock(&mu_);
    delayed.swap(delayed_answers_);
  }
  for (std::thread& t : delayed) t.join();
  server_->Shutdown(std::chrono::system_clock::now());
}

void RecordingConnector::SetAnswerDelay(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  answer_delay_ = delay;
}

int RecordingConnector::max_in_flight() const {
  absl::MutexLock lock(&mu_);
  return max_in_flight_;
}

void RecordingConnector::FailNext(int n) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n;
}

int RecordingConnector::WaitForDistinct(int n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return static_cast<int>(calls_per_key_.size()) >= n; };
  mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  return static_cast<int>(calls_per_key_.size());
}

std::vector<v1::DeliverReferralRequest> RecordingConnector::received() const {
  absl::MutexLock lock(&mu_);
  return received_;
}

std::map<std::string, int> RecordingConnector::calls_per_key() const {
  absl::MutexLock lock(&mu_);
  return calls_per_key_;
}

int RecordingConnector::failed_calls() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

grpc::ServerUnaryReactor* RecordingConnector::DeliverReferral(grpc::CallbackServerContext* ctx,
                                                              const v1::DeliverReferralRequest* req,
                                                              v1::DeliverReferralResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::MutexLock lock(&mu_);
  if (fail_next_ > 0) {
    --fail_next_;
    ++failed_;
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected outage"));
    return reactor;
  }
  received_.push_back(*req);
  events_.push_back("deliver:" + req->referral().referral_id());
  resp->set_duplicate(++calls_per_key_[req->idempotency_key()] > 1);
  if (answer_delay_ > absl::ZeroDuration()) {
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    delayed_answers_.emplace_back([this, reactor, delay = answer_delay_] {
      absl::SleepFor(delay);
      {
        absl::MutexLock lock(&mu_);
        --in_flight_;
      }
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* RecordingConnector::CeaseProcessing(grpc::CallbackServerContext* ctx,
                                                              const v1::CeaseProcessingRequest* req,
                                                              v1::CeaseProcessingResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::MutexLock lock(&mu_);
  if (fail_next_ > 0) {
    --fail_next_;
    ++failed_;
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected outage"));
    return reactor;
  }
  events_.push_back("cease:" + req->referral_id());
  resp->set_duplicate(++calls_per_key_[req->idempotency_key()] > 1);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

std::vector<std::string> RecordingConnector::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

WriteLockHolder::WriteLockHolder(const std::string& path) {
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db_, 5000);
  EXPECT_EQ(sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
}

WriteLockHolder::~WriteLockHolder() {
  Release();
  sqlite3_close(db_);
}

void WriteLockHolder::Release() {
  if (held_) EXPECT_EQ(sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  held_ = false;
}

}  // namespace frontdoor::testing
