// The BaRS door of a real gateway on loopback (plain HTTP, identity from X-Frontdoor-Client), driven
// by a real HTTP client: every FHIR sample answered as a BaRS receiver answers and delivered as
// over gRPC, one referral whichever door, a revoked ServiceRequest withdrawing its referral,
// reads for the referring organisation only, the transport's errors as OperationOutcomes, one
// budget per caller across both doors, and the hostile HTTP a door on a network meets.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "observability/request_ids.h"
#include "prometheus/registry.h"
#include "tests/gateway/gateway_test_support.h"
#include "tests/support/http_test_client.h"
#include "tests/support/json_value.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
namespace pb = ::google::protobuf;
using frontdoor::testing::Field;
using frontdoor::testing::HttpReply;
using frontdoor::testing::HttpTestClient;
using frontdoor::testing::Json;
using frontdoor::testing::RawExchange;
using frontdoor::testing::StatusCodesIn;
using frontdoor::testing::Text;

const std::string kSamples = std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples";
constexpr char kProcessMessage[] = "/FHIR/R4/$process-message";
constexpr char kBarsSystem[] = "https://fhir.nhs.uk/Codesystem/http-error-codes";
constexpr char kIssueSystem[] = "https://frontdoor.example.org/CodeSystem/issue-code";
constexpr char kReferralIdSystem[] = "https://frontdoor.example.org/Id/referral-id";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every (system, code) of every issue's details.coding of an OperationOutcome.
std::multimap<std::string, std::string> Codings(const pb::Value& outcome) {
  std::multimap<std::string, std::string> out;
  for (const pb::Value& issue : Field(outcome, "issue").list_value().values()) {
    for (const pb::Value& coding : Field(Field(issue, "details"), "coding").list_value().values()) {
      out.emplace(Text(coding, "system"), Text(coding, "code"));
    }
  }
  return out;
}

bool HasCoding(const pb::Value& outcome, const std::string& system, const std::string& code) {
  const std::multimap<std::string, std::string> codings = Codings(outcome);
  auto [from, to] = codings.equal_range(system);
  return std::any_of(from, to, [&](const auto& c) { return c.second == code; });
}

std::string CodingOf(const pb::Value& outcome, const std::string& system) {
  auto codings = Codings(outcome);
  auto it = codings.find(system);
  return it == codings.end() ? "" : it->second;
}

// The referral id in an accepted answer: its Task's identifier.
std::string AcceptedReferralId(const pb::Value& bundle) {
  for (const pb::Value& entry : Field(bundle, "entry").list_value().values()) {
    const pb::Value& resource = Field(entry, "resource");
    if (Text(resource, "resourceType") != "Task") continue;
    for (const pb::Value& id : Field(resource, "identifier").list_value().values()) {
      if (Text(id, "system") == kReferralIdSystem) return Text(id, "value");
    }
  }
  return "";
}

std::string Sample(const std::string& name) { return Read(kSamples + "/" + name); }

// Sample 01 re-sent as BaRS cancels: the ServiceRequest with `status`, `id` the referral's id,
// under a new Bundle.id.
std::string Revoked(const std::string& referral_id, const std::string& status = "revoked") {
  std::string bundle = Sample("01-fhir-oldham-wellbeing.json");
  pb::Value value = Json(bundle);
  pb::Struct& root = *value.mutable_struct_value();
  (*root.mutable_fields())["id"].set_string_value(observability::NewRequestId());
  for (pb::Value& entry : *(*root.mutable_fields())["entry"].mutable_list_value()->mutable_values()) {
    pb::Struct& resource = *(*entry.mutable_struct_value()->mutable_fields())["resource"].mutable_struct_value();
    if (resource.fields().at("resourceType").string_value() != "ServiceRequest") continue;
    (*resource.mutable_fields())["status"].set_string_value(status);
    (*resource.mutable_fields())["id"].set_string_value(referral_id);
  }
  std::string out;
  EXPECT_TRUE(pb::util::MessageToJsonString(value, &out).ok());
  return out;
}

class FhirApiTest : public ::testing::Test {
 protected:
  void StartGateway(const std::string& extra_config = "") {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.fhir_listen = "127.0.0.1:0";
    options.metrics_registry = registry_;
    options.config_path = frontdoor::testing::WriteBulkTestConfig(dir_.path(), extra_config);
    for (const char* e : {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"}) {
      connectors_[e] = std::make_unique<frontdoor::testing::RecordingConnector>();
      options.connector_overrides[e] = connectors_[e]->address();
    }
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->fhir_port(), 0);
    auto channel =
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    referrals_ = v1::ReferralService::NewStub(channel);
    feedback_ = v1::FeedbackService::NewStub(channel);
    audit_ = v1::AuditService::NewStub(channel);
  }

  HttpReply Call(const std::string& method, const std::string& target, const std::string& caller,
                 const std::string& body = "", std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!caller.empty()) headers.emplace_back("x-frontdoor-client", caller);
    if (std::none_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "x-request-id"; })) {
      headers.emplace_back("x-request-id", observability::NewRequestId());
    }
    if (method == "POST" &&
        std::none_of(headers.begin(), headers.end(), [](const auto& h) { return h.first == "content-type"; })) {
      headers.emplace_back("content-type", "application/fhir+json");
    }
    absl::StatusOr<HttpReply> reply = HttpTestClient::Plain(server_->fhir_port()).Send(method, target, headers, body);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : HttpReply{};
  }

  HttpReply Post(const std::string& caller, const std::string& body) {
    return Call("POST", kProcessMessage, caller, body);
  }

  frontdoor::testing::TempDir dir_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::map<std::string, std::unique_ptr<frontdoor::testing::RecordingConnector>> connectors_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> referrals_;
  std::unique_ptr<v1::FeedbackService::Stub> feedback_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
};

TEST_F(FhirApiTest, EverySampleGetsItsBarsAnswerAndEachAcceptedOneIsDeliveredOnce) {
  StartGateway();
  pb::Value expected = Json(Sample("expected.json"));
  std::vector<std::string> files;
  for (const auto& [name, want] : expected.struct_value().fields()) {
    if (Text(want, "format") == "fhir") files.push_back(name);
  }
  std::sort(files.begin(), files.end());  // 15 resends 01
  ASSERT_EQ(files.size(), 16u);
  std::map<std::string, std::string> referral_of;  // file -> referral id
  std::set<std::string> accepted;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const pb::Value& want = Field(expected, file);
    const std::string request_id = observability::NewRequestId();
    HttpReply reply = Call("POST", kProcessMessage, Text(want, "sender"), Sample(file), {{"x-request-id", request_id}});
    EXPECT_EQ(reply.Header("x-request-id"), request_id);
    EXPECT_EQ(reply.Header("content-type"), "application/fhir+json; charset=utf-8");
    EXPECT_EQ(reply.Header("cache-control"), "no-store");
    const pb::Value body = Json(reply.body);
    const std::string disposition = Text(want, "disposition");
    const std::string duplicate_of = Text(want, "duplicate_of");
    if (!duplicate_of.empty()) {
      // Already processed: 409, and the first answer (disposition, referral id) still told.
      EXPECT_EQ(reply.status, 409);
      EXPECT_EQ(Text(body, "resourceType"), "OperationOutcome");
      EXPECT_TRUE(HasCoding(body, kBarsSystem, "REC_CONFLICT"));
      EXPECT_EQ(Text(Field(body, "issue").list_value().values(0), "code"), "duplicate");
      EXPECT_TRUE(HasCoding(body, "https://frontdoor.example.org/CodeSystem/disposition", disposition));
      EXPECT_EQ(CodingOf(body, kReferralIdSystem), referral_of[duplicate_of]);
      continue;
    }
    if (disposition == "ACCEPTED") {
      ASSERT_EQ(reply.status, 200) << reply.body;
      EXPECT_EQ(Text(body, "resourceType"), "Bundle");
      const pb::Value& header = Field(Field(body, "entry").list_value().values(0), "resource");
      EXPECT_EQ(Text(Field(header, "response"), "code"), "ok");
      referral_of[file] = AcceptedReferralId(body);
      EXPECT_FALSE(referral_of[file].empty());
      accepted.insert(referral_of[file]);
      continue;
    }
    EXPECT_EQ(reply.status, disposition == "REFUSED" ? 422 : 400) << reply.body;
    EXPECT_EQ(Text(body, "resourceType"), "OperationOutcome");
    EXPECT_TRUE(
        HasCoding(body, kBarsSystem, disposition == "REFUSED" ? "REC_UNPROCESSABLE_ENTITY" : "REC_BAD_REQUEST"));
    for (const pb::Value& code : Field(want, "issue_codes").list_value().values()) {
      EXPECT_TRUE(HasCoding(body, kIssueSystem, code.string_value())) << code.string_value() << "\n" << reply.body;
    }
  }
  // Delivered exactly as over gRPC: each accepted referral once, to its connector.
  std::set<std::string> delivered;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (delivered.size() < accepted.size() && absl::Now() < deadline) {
    delivered.clear();
    for (const auto& [endpoint, connector] : connectors_) {
      for (const v1::DeliverReferralRequest& d : connector->received()) delivered.insert(d.referral().referral_id());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(delivered, accepted);
  EXPECT_GE(
      frontdoor::gateway::testing::ReadMetric(*registry_, "frontdoor_http_requests_total",
                                              {{"door", "fhir"}, {"route", "$process-message"}, {"status", "200"}}),
      static_cast<double>(accepted.size()));
}

TEST_F(FhirApiTest, TheSameMessageThroughBothDoorsIsOneReferral) {
  StartGateway();
  // gRPC first, then the same Bundle over HTTP.
  v1::SubmitReferralRequest request;
  request.set_fhir_json(Sample("01-fhir-oldham-wellbeing.json"));
  grpc::ClientContext context;
  context.AddMetadata("x-frontdoor-client", "P85901");
  v1::SubmitReferralResponse first;
  ASSERT_TRUE(referrals_->SubmitReferral(&context, request, &first).ok());
  ASSERT_EQ(first.disposition(), v1::ACCEPTED);
  HttpReply again = Post("P85901", Sample("01-fhir-oldham-wellbeing.json"));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(CodingOf(Json(again.body), kReferralIdSystem), first.referral_id());

  // HTTP first, then gRPC: the gRPC answer is the duplicate.
  HttpReply over_http = Post("P85913", Sample("02-fhir-oldham-older-people.json"));
  ASSERT_EQ(over_http.status, 200);
  const std::string referral_id = AcceptedReferralId(Json(over_http.body));
  request.set_fhir_json(Sample("02-fhir-oldham-older-people.json"));
  grpc::ClientContext context2;
  context2.AddMetadata("x-frontdoor-client", "P85913");
  v1::SubmitReferralResponse second;
  ASSERT_TRUE(referrals_->SubmitReferral(&context2, request, &second).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(second.referral_id(), referral_id);
}

TEST_F(FhirApiTest, ARevokedServiceRequestWithdrawsTheReferral) {
  StartGateway();
  HttpReply accepted = Post("P85901", Sample("01-fhir-oldham-wellbeing.json"));
  ASSERT_EQ(accepted.status, 200);
  const std::string referral_id = AcceptedReferralId(Json(accepted.body));
  ASSERT_EQ(connectors_["action-together-oldham"]->WaitForDistinct(1, absl::Seconds(30)), 1);

  // As BaRS has a sender do: read the ServiceRequest, re-send it revoked.
  HttpReply read = Call("GET", "/FHIR/R4/ServiceRequest/" + referral_id, "P85901");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(Text(Json(read.body), "status"), "active");

  HttpReply withdrawn = Post("P85901", Revoked(referral_id));
  ASSERT_EQ(withdrawn.status, 200) << withdrawn.body;
  EXPECT_NE(withdrawn.body.find("\"WITHDRAWN\""), std::string::npos);
  EXPECT_NE(withdrawn.body.find("\"status\":\"cancelled\""), std::string::npos);
  // IG-7: the connector is told to cease processing.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  auto ceased = [&] {
    auto events = connectors_["action-together-oldham"]->events();
    return std::find(events.begin(), events.end(), "cease:" + referral_id) != events.end();
  };
  while (!ceased() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(ceased());
  EXPECT_EQ(Text(Json(Call("GET", "/FHIR/R4/ServiceRequest/" + referral_id, "P85901").body), "status"), "revoked");

  // Withdrawn already: already processed.
  EXPECT_EQ(Post("P85901", Revoked(referral_id)).status, 409);
  // No such referral.
  HttpReply unknown = Post("P85901", Revoked(observability::NewRequestId(), "entered-in-error"));
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_TRUE(HasCoding(Json(unknown.body), kBarsSystem, "REC_NOT_FOUND"));
}

TEST_F(FhirApiTest, ReadsServeOnlyTheReferringOrganisationAndRecordARefusal) {
  StartGateway();
  HttpReply accepted = Post("P85901", Sample("01-fhir-oldham-wellbeing.json"));
  ASSERT_EQ(accepted.status, 200);
  const std::string referral_id = AcceptedReferralId(Json(accepted.body));

  // The connector reports progress; the referrer polls it as Tasks.
  v1::ReportProgressRequest report;
  report.set_referral_id(referral_id);
  report.set_idempotency_key("k1");
  report.set_status(v1::PROGRESS_RECEIVED);
  report.set_occurred_at(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Seconds(1), absl::UTCTimeZone()));
  // The gateway records the delivery a moment after the connector has it: report as a connector
  // does, again until the gateway knows it was delivered.
  ASSERT_EQ(connectors_["action-together-oldham"]->WaitForDistinct(1, absl::Seconds(30)), 1);
  grpc::Status status;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    grpc::ClientContext context;
    context.AddMetadata("x-frontdoor-client", "action-together-oldham");
    v1::ReportProgressResponse reported;
    status = feedback_->ReportProgress(&context, report, &reported);
    if (!status.ok()) absl::SleepFor(absl::Milliseconds(20));
  } while (!status.ok() && absl::Now() < deadline);
  ASSERT_TRUE(status.ok()) << status.error_message();
  HttpReply tasks = Call("GET", "/FHIR/R4/Task?focus=ServiceRequest/" + referral_id, "P85901");
  ASSERT_EQ(tasks.status, 200) << tasks.body;
  const pb::Value bundle = Json(tasks.body);
  EXPECT_EQ(Text(bundle, "type"), "searchset");
  ASSERT_EQ(Field(bundle, "entry").list_value().values_size(), 1);
  EXPECT_EQ(Text(Field(Field(bundle, "entry").list_value().values(0), "resource"), "resourceType"), "Task");
  EXPECT_EQ(Call("GET", "/FHIR/R4/Task?focus=ServiceRequest%2F" + referral_id, "P85901").status, 200);
  EXPECT_EQ(Call("GET", "/FHIR/R4/Task", "P85901").status, 400);

  // Another practice: refused, and the refusal is in the audit log.
  HttpReply other = Call("GET", "/FHIR/R4/ServiceRequest/" + referral_id, "P85913");
  EXPECT_EQ(other.status, 403);
  EXPECT_TRUE(HasCoding(Json(other.body), kBarsSystem, "REC_FORBIDDEN"));
  EXPECT_EQ(Call("GET", "/FHIR/R4/Task?focus=ServiceRequest/" + referral_id, "P85913").status, 403);
  EXPECT_EQ(Call("GET", "/FHIR/R4/ServiceRequest/" + observability::NewRequestId(), "P85901").status, 404);

  grpc::ClientContext audit_context;
  audit_context.AddMetadata("x-frontdoor-client", "ig-officer-oldham");
  v1::QueryAuditRequest query;
  auto reader = audit_->QueryAudit(&audit_context, query);
  v1::AuditRecord record;
  int refused_reads = 0;
  while (reader->Read(&record)) {
    if (record.action() == "read" && record.outcome() == "refused" && record.referral_id() == referral_id &&
        record.actor() == "P85913") {
      ++refused_reads;
    }
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(refused_reads, 2);
}

TEST_F(FhirApiTest, TransportErrorsAreOperationOutcomesWithTheirBarsCodes) {
  StartGateway();
  const std::string bundle = Sample("01-fhir-oldham-wellbeing.json");
  struct Case {
    std::string what;
    HttpReply reply;
    int status;
    std::string bars_code;
  };
  absl::StatusOr<HttpReply> no_request_id =
      HttpTestClient::Plain(server_->fhir_port())
          .Send("POST", kProcessMessage, {{"x-frontdoor-client", "P85901"}, {"content-type", "application/fhir+json"}},
                bundle);
  ASSERT_TRUE(no_request_id.ok());
  std::vector<Case> cases = {
      {"no X-Request-Id", *no_request_id, 400, "REC_BAD_REQUEST"},
      {"X-Request-Id not a UUID", Call("POST", kProcessMessage, "P85901", bundle, {{"x-request-id", "abc"}}), 400,
       "REC_BAD_REQUEST"},
      {"no identity", Call("POST", kProcessMessage, "", bundle), 401, "REC_UNAUTHORIZED"},
      {"an identity the network does not know", Post("Z99999", bundle), 403, "REC_FORBIDDEN"},
      {"a message naming another sender", Post("P85913", bundle), 403, "REC_FORBIDDEN"},
      {"an organisation header naming another",
       Call("POST", kProcessMessage, "P85901", bundle,
            {{"nhsd-end-user-organisation",
              "eyJyZXNvdXJjZVR5cGUiOiJPcmdhbml6YXRpb24iLCJpZGVudGlmaWVyIjpbeyJzeXN0ZW0iOiJodHRwczovL2ZoaXIubmhzLnVrL0lk"
              "L29kcy1vcmdhbml6YXRpb24tY29kZSIsInZhbHVlIjoiUDg1OTEzIn1dfQ=="}}),
       403, "REC_FORBIDDEN"},
      {"an unknown path", Call("GET", "/FHIR/R4/Patient/1", "P85901"), 404, "REC_NOT_FOUND"},
      {"outside the base path", Call("GET", "/metadata", "P85901"), 404, "REC_NOT_FOUND"},
      {"the wrong method", Call("GET", kProcessMessage, "P85901"), 405, "REC_METHOD_NOT_ALLOWED"},
      {"not FHIR JSON",
       Call("POST", kProcessMessage, "P85901", "<Bundle/>", {{"content-type", "application/fhir+xml"}}), 415,
       "REC_BAD_REQUEST"},
      {"over 1 MiB", Post("P85901", std::string((1 << 20) + 10, ' ')), 413, "REC_BAD_REQUEST"},
      {"not JSON at all", Post("P85901", "{\"resourceType\": "), 400, "REC_BAD_REQUEST"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(c.reply.status, c.status) << c.reply.body;
    const pb::Value outcome = Json(c.reply.body);
    EXPECT_EQ(Text(outcome, "resourceType"), "OperationOutcome");
    EXPECT_TRUE(HasCoding(outcome, kBarsSystem, c.bars_code)) << c.reply.body;
  }
  EXPECT_EQ(cases[8].reply.Header("allow"), "POST");

  HttpReply metadata = Call("GET", "/FHIR/R4/metadata", "P85901");
  EXPECT_EQ(metadata.status, 200);
  EXPECT_EQ(Text(Json(metadata.body), "resourceType"), "CapabilityStatement");
  HttpReply definition = Call("GET", "/FHIR/R4/MessageDefinition", "P85901");
  EXPECT_EQ(definition.status, 200);
  EXPECT_EQ(Text(Field(Field(Json(definition.body), "entry").list_value().values(0), "resource"), "resourceType"),
            "MessageDefinition");
}

// The intake's answers hold at this door too: a used id for another message, and two people in one.
TEST_F(FhirApiTest, AReusedMessageIdAndASecondPatientAreRejectedHereToo) {
  StartGateway();
  ASSERT_EQ(Post("P85901", Sample("01-fhir-oldham-wellbeing.json")).status, 200);
  // The same Bundle.id, another message (another reason in words).
  std::string other = Sample("01-fhir-oldham-wellbeing.json");
  const size_t birth = other.find("\"birthDate\"");
  ASSERT_NE(birth, std::string::npos);
  other.replace(other.find('"', birth + 12) + 1, 10, "1980-01-01");
  HttpReply reused = Post("P85901", other);
  EXPECT_EQ(reused.status, 400) << reused.body;
  EXPECT_TRUE(HasCoding(Json(reused.body), kIssueSystem, "MESSAGE_ID_REUSED")) << reused.body;

  // A second Patient entry: one message is one referral about one person.
  pb::Value two = Json(Sample("02-fhir-oldham-older-people.json"));
  pb::ListValue& entries = *(*two.mutable_struct_value()->mutable_fields())["entry"].mutable_list_value();
  for (int i = 0; i < entries.values_size(); ++i) {
    if (Text(Field(entries.values(i), "resource"), "resourceType") != "Patient") continue;
    pb::Value copy = entries.values(i);
    (*copy.mutable_struct_value()->mutable_fields())["fullUrl"].set_string_value("urn:uuid:" +
                                                                                 observability::NewRequestId());
    *entries.add_values() = copy;
    break;
  }
  std::string body;
  ASSERT_TRUE(pb::util::MessageToJsonString(two, &body).ok());
  HttpReply second = Post("P85913", body);
  EXPECT_EQ(second.status, 400) << second.body;
  EXPECT_TRUE(HasCoding(Json(second.body), kIssueSystem, "INVALID_VALUE")) << second.body;
}

// A gateway owns every port it listens on: a second one on this door's address refuses to start.
TEST_F(FhirApiTest, ASecondGatewayOnTheSameFhirAddressRefusesToStart) {
  StartGateway();
  frontdoor::testing::TempDir other;
  GatewayOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = other.path() + "/data";
  options.insecure_plaintext = true;
  options.fhir_listen = "127.0.0.1:" + std::to_string(server_->fhir_port());
  auto second = GatewayServer::Start(options, &clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("the FHIR API"), std::string::npos) << second.status();
  EXPECT_EQ(Call("GET", "/FHIR/R4/metadata", "P85901").status, 200) << "the first keeps serving";
}

TEST_F(FhirApiTest, OneCallerHasOneBudgetAcrossTheGrpcAndFhirDoors) {
  StartGateway("caller_limits { requests_per_second: 1 burst: 3 max_concurrent_calls: 16 }");
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("x-frontdoor-client", "P85901");
    v1::GetReferralRequest request;
    request.set_referral_id("none");
    v1::GetReferralResponse response;
    EXPECT_EQ(referrals_->GetReferral(&context, request, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  }
  HttpReply throttled = Call("GET", "/FHIR/R4/metadata", "P85901");
  EXPECT_EQ(throttled.status, 429);
  EXPECT_TRUE(HasCoding(Json(throttled.body), kBarsSystem, "REC_TOO_MANY_REQUESTS"));
  EXPECT_GE(std::atoi(throttled.Header("retry-after").c_str()), 1);
  // Another caller's budget is its own.
  EXPECT_EQ(Call("GET", "/FHIR/R4/metadata", "P85913").status, 200);
}

TEST_F(FhirApiTest, HostileHttpIsAnsweredClearlyAndTheDoorKeepsServing) {
  StartGateway("fhir_api { request_deadline_seconds: 1 max_connections: 6 }");
  const int port = server_->fhir_port();
  const std::string ids = "X-Request-Id: " + observability::NewRequestId() + "\r\nX-Frontdoor-Client: P85901\r\n";
  const absl::Duration wait = absl::Seconds(3);
  struct Case {
    std::string what;
    std::string raw;
    int status;
  };
  std::vector<Case> cases = {
      {"a chunked body",
       "POST /FHIR/R4/$process-message HTTP/1.1\r\nHost: x\r\n" + ids +
           "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       411},
      {"HTTP/1.0", "GET /FHIR/R4/metadata HTTP/1.0\r\n" + ids + "\r\n", 400},
      {"an absurd Content-Length",
       "POST /FHIR/R4/$process-message HTTP/1.1\r\nHost: x\r\n" + ids +
           "Content-Type: application/fhir+json\r\nContent-Length: 999999999999\r\n\r\n{}",
       413},
      {"a header flood",
       "GET /FHIR/R4/metadata HTTP/1.1\r\nHost: x\r\n" + ids + "X-Junk: " + std::string(64 * 1024, 'a') + "\r\n\r\n",
       431},
      {"not HTTP", "\x16\x03\x01 hello there\r\n\r\n", 400},
      {"a body shorter than its Content-Length, then silence",
       "POST /FHIR/R4/$process-message HTTP/1.1\r\nHost: x\r\n" + ids + "Content-Length: 100\r\n\r\n{\"a\"", 408},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string answer = RawExchange(port, c.raw, wait);
    std::vector<int> codes = StatusCodesIn(answer);
    ASSERT_EQ(codes.size(), 1u) << answer;
    EXPECT_EQ(codes[0], c.status) << answer;
    EXPECT_NE(answer.find("OperationOutcome"), std::string::npos);
  }
  // A sender that dribbles its headers in past the deadline is cut off (408), not waited for.
  const std::string slow = RawExchange(port, "GET /FHIR/R4/metadata HTTP/1.1\r\nHost: x\r\n" + ids + "\r\n", wait,
                                       /*pieces=*/8, absl::Milliseconds(300));
  EXPECT_EQ(StatusCodesIn(slow), std::vector<int>({408})) << slow;

  // Pipelined requests are answered, in order.
  const std::string two = "GET /FHIR/R4/metadata HTTP/1.1\r\nHost: x\r\n" + ids +
                          "\r\nGET /FHIR/R4/nowhere HTTP/1.1\r\nHost: x\r\n" + ids + "Connection: close\r\n\r\n";
  EXPECT_EQ(StatusCodesIn(RawExchange(port, two, wait)), std::vector<int>({200, 404}));

  // The connection limit: past it a connection is closed at once; the others are served.
  std::vector<std::unique_ptr<std::thread>> idle;
  std::vector<std::string> idle_answers(6);
  for (int i = 0; i < 6; ++i) {
    idle.push_back(
        std::make_unique<std::thread>([&, i] { idle_answers[i] = RawExchange(port, "", absl::Seconds(2)); }));
  }
  absl::SleepFor(absl::Milliseconds(500));
  const absl::Time before = absl::Now();
  EXPECT_EQ(RawExchange(port, "GET /FHIR/R4/metadata HTTP/1.1\r\nHost: x\r\n" + ids + "\r\n", wait), "");
  EXPECT_LT(absl::Now() - before, absl::Seconds(2)) << "the connection over the limit should be closed at once";
  for (auto& t : idle) t->join();

  // After all of that, a well-formed request is served as ever.
  EXPECT_EQ(Call("GET", "/FHIR/R4/metadata", "P85901").status, 200);
  EXPECT_EQ(Post("P85901", Sample("01-fhir-oldham-wellbeing.json")).status, 200);
}

}  // namespace
}  // namespace frontdoor::gateway
