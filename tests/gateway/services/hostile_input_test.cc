// Hostile input over real gRPC: every payload gets REJECTED (with an issue saying why) or a clear
// INVALID_ARGUMENT / RESOURCE_EXHAUSTED, within a deadline, and the gateway keeps serving: a valid
// referral sent afterwards is still accepted.
#include <string>
#include <vector>

#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kMsh =
    "MSH|^~\\&|WARDWATCH|R9T01|FRONTDOOR|SPFRONTDOOR|20250225101500||REF^I12^REF_I12|TGH1|P|2.5.1\r";

struct Hostile {
  std::string name;
  bool hl7;
  std::string payload;
};

std::vector<Hostile> Corpus() {
  std::vector<Hostile> c;
  c.push_back({"empty fhir", false, ""});
  c.push_back({"not json", false, "this is not json"});
  c.push_back({"json array", false, "[1,2,3]"});
  c.push_back({"deep nesting", false, Repeat("[", 100000) + Repeat("]", 100000)});
  c.push_back({"deep objects", false, Repeat("{\"a\":", 5000) + "1" + Repeat("}", 5000)});
  c.push_back(
      {"huge number", false, "{\"resourceType\":\"Bundle\",\"type\":\"message\",\"id\":\"b1\",\"total\":1e999}"});
  c.push_back({"duplicate keys", false, "{\"resourceType\":\"Bundle\",\"resourceType\":\"Patient\"}"});
  c.push_back({"nul byte", false, std::string("{\"resourceType\":\"Bun\0dle\"}", 26)});
  c.push_back({"unterminated string", false, "{\"resourceType\":\"Bundle"});
  c.push_back({"wrong types", false, "{\"resourceType\":\"Bundle\",\"type\":\"message\",\"id\":7,\"entry\":{}}"});
  c.push_back(
      {"entries of garbage", false,
       "{\"resourceType\":\"Bundle\",\"type\":\"message\",\"id\":\"b1\",\"entry\":[" + Repeat("1,", 10000) + "1]}"});
  c.push_back({"just under the size limit", false,
               "{\"resourceType\":\"Bundle\",\"x\":\"" + std::string(1000000, 'a') + "\"}"});
  c.push_back({"empty hl7", true, ""});
  c.push_back({"no MSH", true, "PID|1||9991541594^^^NHS^NH\r"});
  c.push_back({"bad MSH-2", true, "MSH|\r"});
  c.push_back({"100k segments", true, kMsh + Repeat("NTE|1|P|x\r", 100000)});
  c.push_back({"absurd repetitions", true, kMsh + "PID|1||" + Repeat("9991541594^^^NHS^NH~", 50000) + "\r"});
  c.push_back({"absurd components", true, kMsh + "PID|1||" + Repeat("^", 60000) + "\r"});
  c.push_back({"field over 64 KiB", true, kMsh + "NTE|1|P|" + std::string(70000, 'x') + "\r"});
  c.push_back({"escape at the end", true, kMsh + "NTE|1|P|\\"});
  c.push_back({"only separators", true, std::string(5000, '|')});
  return c;
}

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    options.connector_overrides["action-together-oldham"] = connector_.address();
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    stub_ = v1::ReferralService::NewStub(grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->port()),
                                                                   grpc::InsecureChannelCredentials(), args));
  }

  grpc::Status Submit(const v1::SubmitReferralRequest& req, v1::SubmitReferralResponse* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "R9T01");
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->SubmitReferral(&ctx, req, resp);
  }

  void ExpectStillServing() {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", "P85901");
    v1::SubmitReferralRequest req;
    *req.mutable_referral() = frontdoor::testing::RoytonReferral("after-" + std::to_string(++probes_));
    v1::SubmitReferralResponse resp;
    ASSERT_TRUE(stub_->SubmitReferral(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.disposition(), v1::ACCEPTED);
  }

  frontdoor::testing::TempDir dir_;
  frontdoor::testing::RecordingConnector connector_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
  int probes_ = 0;
};

TEST_F(HostileInputTest, EveryHostilePayloadIsRejectedClearlyAndTheGatewayKeepsServing) {
  for (const Hostile& h : Corpus()) {
    SCOPED_TRACE(h.name);
    v1::SubmitReferralRequest req;
    if (h.hl7) {
      req.set_hl7v2(h.payload);
    } else {
      req.set_fhir_json(h.payload);
    }
    v1::SubmitReferralResponse resp;
    const grpc::Status status = Submit(req, &resp);
    if (status.ok()) {
      EXPECT_EQ(resp.disposition(), v1::REJECTED);
      ASSERT_GT(resp.issues_size(), 0);
      EXPECT_FALSE(resp.issues(0).message().empty());
      EXPECT_FALSE(resp.fhir_json().empty() && resp.hl7v2_ack().empty()) << "the sender still gets its reply";
    } else {
      EXPECT_TRUE(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                  status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
          << status.error_code() << " " << status.error_message();
      EXPECT_FALSE(status.error_message().empty());
    }
    ExpectStillServing();
  }
}

TEST_F(HostileInputTest, PayloadOverTheLimitIsRefusedBeforeParsing) {
  v1::SubmitReferralRequest req;
  req.set_fhir_json("{\"resourceType\":\"Bundle\",\"x\":\"" + std::string(8 << 20, 'a') + "\"}");
  v1::SubmitReferralResponse resp;
  const grpc::Status status = Submit(req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  ExpectStillServing();
}

TEST_F(HostileInputTest, PayloadThatIsNotUtf8IsRejectedMalformedWithAValidReply) {
  // proto3 strings must be UTF-8; the gateway reads the payload as bytes so the sender still gets
  // a clear answer in its own format.
  for (const bool hl7 : {false, true}) {
    SCOPED_TRACE(hl7 ? "hl7" : "fhir");
    v1::SubmitReferralRequest req;
    if (hl7) {
      req.set_hl7v2(
          "MSH|^~\\&|WARDWATCH|R9T01|FRONTDOOR|SPFRONTDOOR|20250225101500||REF^I12^REF_I12|TGH\xff1|P|2.5.1\r");
    } else {
      req.set_fhir_json("{\"resourceType\":\"Bundle\",\"type\":\"message\",\"id\":\"b\xfe\xff\"}");
    }
    v1::SubmitReferralResponse resp;
    const grpc::Status status = Submit(req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    EXPECT_EQ(resp.disposition(), v1::REJECTED);
    ASSERT_GT(resp.issues_size(), 0);
    EXPECT_EQ(resp.issues(0).code(), "MALFORMED");
    EXPECT_NE(resp.issues(0).message().find("UTF-8"), std::string::npos);
    EXPECT_FALSE((hl7 ? resp.hl7v2_ack() : resp.fhir_json()).empty());
    ExpectStillServing();
  }
}

TEST_F(HostileInputTest, TypedReferralWithInvalidUtf8IsInvalidArgument) {
  v1::SubmitReferralRequest req;
  *req.mutable_referral() = frontdoor::testing::RoytonReferral("m1");
  req.mutable_referral()->set_referrer_text("bad \xff text");
  v1::SubmitReferralResponse resp;
  const grpc::Status status = Submit(req, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("UTF-8"), std::string::npos);
  ExpectStillServing();
}

}  // namespace
}  // namespace frontdoor::gateway
