// Feedback pushed back the BaRS way, through a real gateway on loopback: the connector reports over
// gRPC, and the referrer's own $process-message (a real HTTP server here, answering as the test
// says) receives each event as a servicerequest-response message, in order, through the durable
// outbox: retried while the referrer is down or failing, delivered on 2xx or 409, a dead letter at
// once on another 4xx, replayed by an operator.
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "boost/asio/ip/tcp.hpp"
#include "frontdoor/v1/admin_service.grpc.pb.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "gateway/net/http_server.h"
#include "gateway/net/io_loop.h"
#include "gateway/server/gateway_server.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "observability/request_ids.h"
#include "tests/support/http_test_client.h"
#include "tests/support/json_value.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
namespace pb = ::google::protobuf;
using frontdoor::testing::Field;
using frontdoor::testing::Json;
using frontdoor::testing::Text;

const std::string kSample = std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/01-fhir-oldham-wellbeing.json";
constexpr char kSampleBundleId[] = "416d4e4e-3f58-5660-a408-b2fa0b0e74a4";

// The referrer's own $process-message: records what it is sent; answers `status` (default 200).
class FakeReferrer {
 public:
  explicit FakeReferrer(const std::string& listen = "127.0.0.1:0") {
    HttpServerOptions options;
    options.listen = listen;
    auto server = HttpServer::Start(
        loop_.context(), options,
        [this](HttpExchange request, HttpResponder respond) {
          absl::MutexLock lock(&mu_);
          int status = next_statuses_.empty() ? 200 : next_statuses_.front();
          if (!next_statuses_.empty()) next_statuses_.erase(next_statuses_.begin());
          if (status < 300 || status == 409) received_.push_back(request);
          ++calls_;
          respond(HttpAnswer{status, {{"content-type", "application/fhir+json"}}, "{}"});
        },
        [](int status, const std::string&) {
          return HttpAnswer{status, {}, ""};
        });
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    loop_.Start();
  }
  ~FakeReferrer() {
    server_->Close();
    loop_.Stop();
  }
  int port() const { return server_->port(); }
  void AnswerNext(std::vector<int> statuses) {
    absl::MutexLock lock(&mu_);
    next_statuses_ = std::move(statuses);
  }
  std::vector<HttpExchange> received() const {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  bool WaitForReceived(size_t n, absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (received().size() >= n) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return received().size() >= n;
  }

 private:
  IoLoop loop_{1};
  std::unique_ptr<HttpServer> server_;
  mutable absl::Mutex mu_;
  std::vector<int> next_statuses_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpExchange> received_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A loopback port that was free a moment ago: where a referrer will listen once it is back.
int FreePort() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(context, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class FeedbackPushTest : public ::testing::Test {
 protected:
  void StartGateway(int referrer_port) {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.fhir_listen = "127.0.0.1:0";
    options.connector_overrides["action-together-oldham"] = connector_.address();
    // Quick retries, so that the tests need not wait for the demo's backoff.
    options.config_path = frontdoor::testing::WriteBulkTestConfig(
        dir_.path(), absl::StrCat("delivery { initial_backoff_ms: 50 max_backoff_ms: 200 breaker_open_ms: 100 }",
                                  " fhir_api { feedback_endpoints { ods: \"P85901\" base_url: \"http://127.0.0.1:",
                                  referrer_port, "/FHIR/R4\" } }"));
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    feedback_ = v1::FeedbackService::NewStub(channel);
    admin_ = v1::AdminService::NewStub(channel);
    audit_ = v1::AuditService::NewStub(channel);
  }

  // Sample 01 over the BaRS door; returns its referral id once the connector has it.
  std::string Submit() {
    absl::StatusOr<frontdoor::testing::HttpReply> reply =
        frontdoor::testing::HttpTestClient::Plain(server_->fhir_port())
            .Send("POST", "/FHIR/R4/$process-message",
                  {{"x-request-id", observability::NewRequestId()},
                   {"x-frontdoor-client", "P85901"},
                   {"content-type", "application/fhir+json"}},
                  ReadFile(kSample));
    EXPECT_TRUE(reply.ok() && reply->status == 200);
    EXPECT_EQ(connector_.WaitForDistinct(1, absl::Seconds(30)), 1);
    const std::string body = reply.ok() ? reply->body : "";
    const std::string marker = "\"system\":\"https://frontdoor.example.org/Id/referral-id\",\"value\":\"";
    const size_t at = body.find(marker);
    return at == std::string::npos ? "" : body.substr(at + marker.size(), 36);
  }

  // The connector reports `status` (again until the gateway knows the referral was delivered).
  void Report(const std::string& referral_id, v1::ProgressStatus status, const std::string& key) {
    v1::ReportProgressRequest report;
    report.set_referral_id(referral_id);
    report.set_idempotency_key(key);
    report.set_status(status);
    if (status == v1::PROGRESS_DECLINED) report.set_reason("moved away");
    report.set_occurred_at(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Seconds(1), absl::UTCTimeZone()));
    grpc::Status result;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    do {
      grpc::ClientContext context;
      context.AddMetadata("x-frontdoor-client", "action-together-oldham");
      v1::ReportProgressResponse response;
      result = feedback_->ReportProgress(&context, report, &response);
      if (!result.ok()) absl::SleepFor(absl::Milliseconds(20));
    } while (!result.ok() && absl::Now() < deadline);
    ASSERT_TRUE(result.ok()) << result.error_message();
  }

  std::vector<v1::DeadLetter> DeadLetters() {
    grpc::ClientContext context;
    context.AddMetadata("x-frontdoor-client", "frontdoor-operator");
    v1::ListDeadLettersRequest request;
    request.set_endpoint_id("bars:P85901");
    v1::ListDeadLettersResponse response;
    EXPECT_TRUE(admin_->ListDeadLetters(&context, request, &response).ok());
    return {response.dead_letters().begin(), response.dead_letters().end()};
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::FeedbackService::Stub> feedback_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

TEST_F(FeedbackPushTest, EachEventArrivesAsABarsResponseMessageInOrder) {
  FakeReferrer referrer;
  StartGateway(referrer.port());
  const std::string referral_id = Submit();
  ASSERT_FALSE(referral_id.empty());
  Report(referral_id, v1::PROGRESS_RECEIVED, "k1");
  Report(referral_id, v1::PROGRESS_CONTACTED, "k2");
  ASSERT_TRUE(referrer.WaitForReceived(2, absl::Seconds(30)));
  std::vector<HttpExchange> got = referrer.received();
  ASSERT_EQ(got.size(), 2u);
  std::vector<std::string> statuses;
  for (const HttpExchange& request : got) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.Path(), "/FHIR/R4/$process-message");
    EXPECT_EQ(request.Header("content-type"), "application/fhir+json");
    const pb::Value bundle = Json(request.body);
    EXPECT_EQ(Field(bundle, "type").string_value(), "message");
    // The message id is the request id: a resend is recognisable by both.
    EXPECT_EQ(Field(bundle, "id").string_value(), request.Header("x-request-id"));
    EXPECT_FALSE(request.Header("nhsd-target-identifier").empty());
    const auto& entries = Field(bundle, "entry").list_value().values();
    ASSERT_EQ(entries.size(), 2);
    const pb::Value& header = Field(entries[0], "resource");
    EXPECT_EQ(Field(Field(header, "eventCoding"), "code").string_value(), "servicerequest-response");
    EXPECT_EQ(Field(Field(header, "response"), "identifier").string_value(), kSampleBundleId);
    EXPECT_EQ(Field(Field(header, "response"), "code").string_value(), "ok");
    const pb::Value& task = Field(entries[1], "resource");
    EXPECT_EQ(Field(task, "resourceType").string_value(), "Task");
    statuses.push_back(Field(task, "status").string_value());
  }
  EXPECT_EQ(statuses, std::vector<std::string>({"received", "in-progress"}));
  EXPECT_NE(got[0].Header("x-request-id"), got[1].Header("x-request-id"));
  EXPECT_EQ(got[0].Header("x-correlation-id"), got[1].Header("x-correlation-id"));

  // Each acknowledged push is in the audit log.
  grpc::ClientContext context;
  context.AddMetadata("x-frontdoor-client", "ig-officer-oldham");
  auto reader = audit_->QueryAudit(&context, v1::QueryAuditRequest());
  v1::AuditRecord record;
  int pushes = 0;
  while (reader->Read(&record)) {
    if (record.action() == "feedback-push" && record.referral_id() == referral_id) ++pushes;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(pushes, 2);
}

TEST_F(FeedbackPushTest, ADownOrFailingReferrerGetsTheBacklogWhenItRecovers) {
  const int port = FreePort();
  StartGateway(port);
  const std::string referral_id = Submit();
  // Nobody listening yet: the events wait in the outbox.
  Report(referral_id, v1::PROGRESS_RECEIVED, "k1");
  Report(referral_id, v1::PROGRESS_CONTACTED, "k2");
  absl::SleepFor(absl::Milliseconds(500));
  // Back, but failing twice (a 503 and a 500) before it answers 200, then 409 for a message it had.
  FakeReferrer referrer("127.0.0.1:" + std::to_string(port));
  referrer.AnswerNext({503, 500});
  ASSERT_TRUE(referrer.WaitForReceived(2, absl::Seconds(30)));
  Report(referral_id, v1::PROGRESS_FIRST_CONVERSATION_HELD, "k3");
  referrer.AnswerNext({409});
  ASSERT_TRUE(referrer.WaitForReceived(3, absl::Seconds(30)));
  absl::SleepFor(absl::Milliseconds(500));
  // Nothing more: 409 counted as delivered, and nothing was dead-lettered.
  EXPECT_EQ(referrer.received().size(), 3u);
  EXPECT_GE(referrer.calls(), 5);
  EXPECT_TRUE(DeadLetters().empty());
}

TEST_F(FeedbackPushTest, AMessageTheReferrerRefusesIsADeadLetterAtOnceAndReplayable) {
  FakeReferrer referrer;
  StartGateway(referrer.port());
  const std::string referral_id = Submit();
  referrer.AnswerNext({400});
  Report(referral_id, v1::PROGRESS_RECEIVED, "k1");
  std::vector<v1::DeadLetter> dead;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((dead = DeadLetters()).empty() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].kind(), "feedback");
  EXPECT_EQ(dead[0].attempts(), 1u);
  EXPECT_NE(dead[0].last_error().find("400"), std::string::npos) << dead[0].last_error();
  EXPECT_EQ(referrer.calls(), 1);

  // An operator replays it once the referrer is fixed.
  grpc::ClientContext context;
  context.AddMetadata("x-frontdoor-client", "frontdoor-operator");
  v1::ReplayDeadLettersRequest replay;
  replay.set_endpoint_id("bars:P85901");
  v1::ReplayDeadLettersResponse replayed;
  ASSERT_TRUE(admin_->ReplayDeadLetters(&context, replay, &replayed).ok());
  EXPECT_TRUE(referrer.WaitForReceived(1, absl::Seconds(30)));
  EXPECT_TRUE(DeadLetters().empty());
}

}  // namespace
}  // namespace frontdoor::gateway
