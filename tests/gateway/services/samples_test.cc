// Every sample message of tests/data/samples (a copy of shared/samples) sent over real gRPC to a
// gateway on loopback, each answer compared with expected.json as its README says, and each
// delivered copy checked for what the IG rules withhold.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
namespace pb = ::google::protobuf;

const std::string kSamples = std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples";
const std::set<std::string> kDecisionCodes = {"IG-1", "IG-2", "IG-3", "OUT_OF_AREA"};
const std::set<std::string> kValidationCodes = {"MALFORMED", "UNSUPPORTED_MESSAGE", "MISSING_ELEMENT",
                                                "INVALID_NHS_NUMBER", "INVALID_VALUE"};

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Str(const pb::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}
bool Bool(const pb::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it != s.fields().end() && it->second.bool_value();
}
std::vector<std::string> List(const pb::Struct& s, const std::string& key) {
  std::vector<std::string> out;
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return out;
  for (const auto& v : it->second.list_value().values()) out.push_back(v.string_value());
  return out;
}

// The HL7 fields of the first segment named `id` (field 0 is the segment id; for MSH, field 1 is
// the field separator, so MSH-n is index n).
std::vector<std::string> Hl7Segment(const std::string& message, const std::string& id) {
  std::string normalised = message;
  std::replace(normalised.begin(), normalised.end(), '\n', '\r');
  std::istringstream in(normalised);
  std::string segment;
  while (std::getline(in, segment, '\r')) {
    if (segment.rfind(id + "|", 0) != 0) continue;
    std::vector<std::string> fields;
    std::string field;
    std::istringstream fs(segment);
    while (std::getline(fs, field, '|')) fields.push_back(field);
    if (id == "MSH") fields.insert(fields.begin() + 1, "|");
    return fields;
  }
  return {};
}

class SamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    for (const char* e : {"action-together-oldham", "ageuk-oldham", "mind-oldham", "action-together-tameside"}) {
      connectors_[e] = std::make_unique<frontdoor::testing::RecordingConnector>();
      options.connector_overrides[e] = connectors_[e]->address();
    }
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::ReferralService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
    ASSERT_TRUE(pb::util::JsonStringToMessage(Read(kSamples + "/expected.json"), &expected_).ok());
  }

  frontdoor::testing::TempDir dir_;
  std::map<std::string, std::unique_ptr<frontdoor::testing::RecordingConnector>> connectors_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
  pb::Struct expected_;
};

TEST_F(SamplesTest, EverySampleGetsItsExpectedAnswerOverGrpc) {
  std::vector<std::string> files;
  for (const auto& [name, _] : expected_.fields()) files.push_back(name);
  std::sort(files.begin(), files.end());  // resends (15, 22) come after their originals
  ASSERT_EQ(files.size(), 23u);

  std::map<std::string, std::string> referral_ids;
  std::map<std::string, std::string> accepted_endpoint;  // referral_id -> endpoint
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const pb::Struct& want = expected_.fields().at(file).struct_value();
    const std::string payload = Read(kSamples + "/" + file);
    ASSERT_FALSE(payload.empty());
    v1::SubmitReferralRequest req;
    const bool hl7 = Str(want, "format") == "hl7v2";
    if (hl7) {
      req.set_hl7v2(payload);
    } else {
      req.set_fhir_json(payload);
    }
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", Str(want, "sender"));
    v1::SubmitReferralResponse got;
    const grpc::Status status = stub_->SubmitReferral(&ctx, req, &got);
    ASSERT_TRUE(status.ok()) << status.error_message();

    EXPECT_EQ(v1::Disposition_Name(got.disposition()), Str(want, "disposition"));
    EXPECT_EQ(got.connector_id(), Str(want, "connector_id"));
    EXPECT_EQ(got.endpoint_id(), Str(want, "endpoint_id"));
    EXPECT_EQ(got.front_door(), Bool(want, "front_door"));
    std::vector<std::string> withheld(got.withheld_categories().begin(), got.withheld_categories().end());
    EXPECT_EQ(withheld, List(want, "withheld_categories"));

    std::set<std::string> codes;
    for (const auto& issue : got.issues()) codes.insert(issue.code());
    const std::vector<std::string> want_codes = List(want, "issue_codes");
    const std::set<std::string> want_set(want_codes.begin(), want_codes.end());
    if (got.disposition() == v1::ACCEPTED) {
      for (const std::string& c : codes) {
        EXPECT_FALSE(kDecisionCodes.count(c) || kValidationCodes.count(c)) << "accepted with " << c;
      }
    } else if (got.disposition() == v1::REFUSED) {
      int decision_codes = 0;
      bool carries_ig = false;
      for (const std::string& c : codes) {
        if (!kDecisionCodes.count(c)) continue;
        ++decision_codes;
        EXPECT_TRUE(want_set.count(c)) << "unexpected " << c;
        carries_ig = carries_ig || c.rfind("IG-", 0) == 0;
      }
      EXPECT_GE(decision_codes, 1);
      const bool want_ig = std::any_of(want_codes.begin(), want_codes.end(),
                                       [](const std::string& c) { return c.rfind("IG-", 0) == 0; });
      if (want_ig) EXPECT_TRUE(carries_ig) << "an IG rule is decided before OUT_OF_AREA";
    } else {
      for (const std::string& c : want_codes) EXPECT_TRUE(codes.count(c)) << "missing " << c;
      for (const std::string& c : codes) EXPECT_FALSE(kDecisionCodes.count(c)) << "rejected with " << c;
    }

    const std::string dup_of = Str(want, "duplicate_of");
    EXPECT_EQ(got.duplicate(), !dup_of.empty());
    if (!dup_of.empty()) EXPECT_EQ(got.referral_id(), referral_ids[dup_of]);
    referral_ids[file] = got.referral_id();
    if (got.disposition() == v1::ACCEPTED && !got.duplicate()) accepted_endpoint[got.referral_id()] = got.endpoint_id();

    // The reply in the sender's own format.
    if (hl7) {
      const std::vector<std::string> msa = Hl7Segment(got.hl7v2_ack(), "MSA");
      ASSERT_GE(msa.size(), 3u) << got.hl7v2_ack();
      EXPECT_EQ(msa[1], got.disposition() == v1::ACCEPTED ? "AA" : (msa[1] == "AR" ? "AR" : "AE"));
      if (got.disposition() != v1::ACCEPTED) EXPECT_NE(msa[1], "AA");
      const std::vector<std::string> msh = Hl7Segment(payload, "MSH");
      ASSERT_GE(msh.size(), 11u);
      EXPECT_EQ(msa[2], msh[10]) << "MSA-2 is the request's MSH-10";
      EXPECT_TRUE(got.fhir_json().empty());
    } else {
      pb::Struct bundle;
      ASSERT_TRUE(pb::util::JsonStringToMessage(got.fhir_json(), &bundle).ok()) << got.fhir_json();
      EXPECT_EQ(Str(bundle, "resourceType"), "Bundle");
      EXPECT_EQ(Str(bundle, "type"), "message");
      const auto& entries = bundle.fields().at("entry").list_value().values();
      ASSERT_FALSE(entries.empty());
      const pb::Struct& header = entries[0].struct_value().fields().at("resource").struct_value();
      EXPECT_EQ(Str(header, "resourceType"), "MessageHeader");
      if (got.disposition() != v1::REJECTED) {
        const pb::Struct& response = header.fields().at("response").struct_value();
        EXPECT_EQ(Str(response, "code"), got.disposition() == v1::ACCEPTED ? "ok" : "fatal-error");
        EXPECT_EQ(Str(response, "identifier"), List(want, "message_ids").at(0));
      }
      EXPECT_TRUE(got.hl7v2_ack().empty());
    }
  }

  // Each accepted referral reached its organisation once, and nothing withheld went with it.
  for (const auto& [referral_id, endpoint] : accepted_endpoint) {
    ASSERT_GE(connectors_[endpoint]->WaitForDistinct(1, absl::Seconds(30)), 1);
  }
  size_t delivered = 0;
  for (const auto& [endpoint, connector] : connectors_) {
    for (const auto& req : connector->received()) {
      ++delivered;
      EXPECT_EQ(accepted_endpoint[req.referral().referral_id()], endpoint);
      const std::string bytes = req.SerializeAsString();
      for (const char* sensitive : {"105629000", "Chlamydia", "86406008", "836881000000105"}) {
        EXPECT_EQ(bytes.find(sensitive), std::string::npos) << sensitive << " left the gateway";
      }
    }
  }
  for (const auto& [endpoint, connector] : connectors_) {
    connector->WaitForDistinct(static_cast<int>(std::count_if(accepted_endpoint.begin(), accepted_endpoint.end(),
                                                              [&](const auto& kv) { return kv.second == endpoint; })),
                               absl::Seconds(30));
  }
  delivered = 0;
  for (const auto& [endpoint, connector] : connectors_) delivered += connector->calls_per_key().size();
  EXPECT_EQ(delivered, accepted_endpoint.size()) << "each accepted referral delivered once, duplicates never";
}

TEST_F(SamplesTest, RestrictedPersonsAreDeliveredWithoutAddressOrPhone) {
  for (const auto& [file, sender] : std::vector<std::pair<std::string, std::string>>{
           {"12-fhir-ig6-s-flag.json", "P85901"}, {"23-hl7-s-flag.hl7", "R9O02"}}) {
    SCOPED_TRACE(file);
    const pb::Struct& want = expected_.fields().at(file).struct_value();
    v1::SubmitReferralRequest req;
    const std::string payload = Read(kSamples + "/" + file);
    if (Str(want, "format") == "hl7v2") {
      req.set_hl7v2(payload);
    } else {
      req.set_fhir_json(payload);
    }
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", Str(want, "sender"));
    v1::SubmitReferralResponse got;
    ASSERT_TRUE(stub_->SubmitReferral(&ctx, req, &got).ok());
    ASSERT_EQ(got.disposition(), v1::ACCEPTED);
    auto& connector = connectors_[got.endpoint_id()];
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    const v1::DeliverReferralRequest* found = nullptr;
    std::vector<v1::DeliverReferralRequest> received;
    while (found == nullptr && absl::Now() < deadline) {
      received = connector->received();
      for (const auto& r : received) {
        if (r.referral().referral_id() == got.referral_id()) found = &r;
      }
      if (found == nullptr) absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_NE(found, nullptr);
    EXPECT_TRUE(found->referral().contact_via_referrer());
    EXPECT_FALSE(found->referral().has_home_address());
    for (const auto& t : found->referral().telecom()) EXPECT_NE(t.system(), v1::ContactPoint::PHONE);
  }
}

}  // namespace
}  // namespace frontdoor::gateway
