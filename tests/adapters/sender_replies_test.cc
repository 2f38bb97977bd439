#include "adapters/sender_replies.h"

#include <set>
#include <string>

#include "adapters/fhir_referral_adapter.h"
#include "adapters/hl7v2_message.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "tests/adapters/adapter_test_support.h"

namespace frontdoor::adapters {
namespace {

using frontdoor::v1::Issue;
using frontdoor::v1::SubmitReferralResponse;
using testing::ReadSample;

constexpr char kRequestBundleId[] = "416d4e4e-3f58-5660-a408-b2fa0b0e74a4";

Issue MakeIssue(const std::string& code, const std::string& path, const std::string& message,
                Issue::Severity severity = Issue::ERROR) {
  Issue issue;
  issue.set_code(code);
  issue.set_path(path);
  issue.set_message(message);
  issue.set_severity(severity);
  return issue;
}

SubmitReferralResponse Accepted() {
  SubmitReferralResponse response;
  response.set_referral_id("ref-000123");
  response.set_disposition(frontdoor::v1::ACCEPTED);
  response.set_connector_id("oldham-north-royton-wellbeing");
  response.set_routing_reason("Oldham North cluster from the postcode; wellbeing");
  return response;
}

SubmitReferralResponse Rejected(const Issue& issue) {
  SubmitReferralResponse response;
  response.set_disposition(frontdoor::v1::REJECTED);
  *response.add_issues() = issue;
  return response;
}

SubmitReferralResponse Refused(const std::string& rule) {
  SubmitReferralResponse response;
  response.set_referral_id("ref-000124");
  response.set_disposition(frontdoor::v1::REFUSED);
  *response.add_issues() = MakeIssue(rule, "", "The person objected to the referral (IG-2).");
  return response;
}

ReplyContext FhirRequest() {
  return ParseFhirReferral(ReadSample("01-fhir-oldham-wellbeing.json"), FhirLimits{}).reply;
}
ReplyContext Hl7Request() { return ParseHl7v2Referral(ReadSample("17-hl7-tameside-hospital.hl7"), Hl7Limits{}).reply; }

// Parses strictly (UTF-8 validated) and fails the test when the text is not JSON.
rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << rapidjson::GetParseError_En(document.GetParseError()) << " in " << text;
  return document;
}

const rapidjson::Value* FindEntry(const rapidjson::Document& bundle, const std::string& type) {
  for (const auto& entry : bundle["entry"].GetArray()) {
    if (entry["resource"]["resourceType"] == type.c_str()) return &entry["resource"];
  }
  return nullptr;
}

// FHIR JSON never has empty strings, empty arrays or empty objects.
void ExpectNoEmptyValues(const rapidjson::Value& value, const std::string& where) {
  if (value.IsString()) {
    EXPECT_GT(value.GetStringLength(), 0u) << where;
  } else if (value.IsArray()) {
    EXPECT_FALSE(value.Empty()) << where;
    for (const auto& item : value.GetArray()) ExpectNoEmptyValues(item, where + "[]");
  } else if (value.IsObject()) {
    EXPECT_FALSE(value.ObjectEmpty()) << where;
    for (const auto& member : value.GetObject())
      ExpectNoEmptyValues(member.value, where + "." + member.name.GetString());
  }
}

void ExpectWellFormedBundle(const rapidjson::Document& bundle) {
  ASSERT_TRUE(bundle.IsObject());
  EXPECT_EQ(bundle["resourceType"], "Bundle");
  EXPECT_EQ(bundle["type"], "message");
  ASSERT_TRUE(bundle["entry"].IsArray());
  EXPECT_EQ(bundle["entry"][0]["resource"]["resourceType"], "MessageHeader");
  std::set<std::string> urls;
  for (const auto& entry : bundle["entry"].GetArray()) {
    std::string url = entry["fullUrl"].GetString();
    EXPECT_THAT(
        url, ::testing::MatchesRegex("urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    EXPECT_TRUE(urls.insert(url).second) << "duplicate fullUrl " << url;
    EXPECT_EQ(url, "urn:uuid:" + std::string(entry["resource"]["id"].GetString()));
  }
  for (const auto& focus : bundle["entry"][0]["resource"]["focus"].GetArray()) {
    EXPECT_TRUE(urls.count(focus["reference"].GetString())) << "focus does not resolve";
  }
  ExpectNoEmptyValues(bundle, "Bundle");
}

TEST(FhirResponseTest, AcceptedIsOkWithTheReferralIdInATask) {
  std::string json = RenderFhirResponse(FhirRequest(), Accepted(), "resp-1", "2025-02-03T10:15:01Z");
  rapidjson::Document bundle = ParseJson(json);
  ExpectWellFormedBundle(bundle);
  EXPECT_EQ(bundle["id"], "resp-1");
  EXPECT_EQ(bundle["timestamp"], "2025-02-03T10:15:01Z");
  const auto& header = bundle["entry"][0]["resource"];
  EXPECT_EQ(header["response"]["identifier"], kRequestBundleId);
  EXPECT_EQ(header["response"]["code"], "ok");
  EXPECT_EQ(header["eventCoding"]["code"], "servicerequest-request");
  EXPECT_EQ(header["destination"][0]["endpoint"], "https://referrers.example.org/P85901/fhir");
  const rapidjson::Value* task = FindEntry(bundle, "Task");
  ASSERT_NE(task, nullptr);
  EXPECT_EQ((*task)["identifier"][0]["system"], kReferralIdSystem);
  EXPECT_EQ((*task)["identifier"][0]["value"], "ref-000123");
  EXPECT_EQ((*task)["status"], "accepted");
  EXPECT_EQ((*task)["intent"], "order");
  EXPECT_EQ((*task)["owner"]["identifier"]["value"], "oldham-north-royton-wellbeing");
  const rapidjson::Value* outcome = FindEntry(bundle, "OperationOutcome");
  ASSERT_NE(outcome, nullptr);
  EXPECT_EQ((*outcome)["issue"][0]["severity"], "information");
}

TEST(FhirResponseTest, RejectedIsAFatalErrorWithOneIssuePerProblem) {
  SubmitReferralResponse response =
      Rejected(MakeIssue("MISSING_ELEMENT", "Bundle.entry[2].resource.birthDate", "The Patient has no birthDate."));
  *response.add_issues() = MakeIssue("UNKNOWN_REASON_CODE", "Bundle.entry[1].resource.reasonCode[0].coding[0].code",
                                     "Not a known reason code.", Issue::WARNING);
  rapidjson::Document bundle = ParseJson(RenderFhirResponse(FhirRequest(), response, "resp-2", "2025-02-03T10:15:01Z"));
  ExpectWellFormedBundle(bundle);
  EXPECT_EQ(bundle["entry"][0]["resource"]["response"]["identifier"], kRequestBundleId);
  EXPECT_EQ(bundle["entry"][0]["resource"]["response"]["code"], "fatal-error");
  EXPECT_EQ(FindEntry(bundle, "Task"), nullptr);
  const rapidjson::Value& issues = (*FindEntry(bundle, "OperationOutcome"))["issue"];
  ASSERT_EQ(issues.Size(), 2u);
  EXPECT_EQ(issues[0]["severity"], "error");
  EXPECT_EQ(issues[0]["code"], "required");
  EXPECT_EQ(issues[0]["details"]["coding"][0]["system"], kIssueCodeSystem);
  EXPECT_EQ(issues[0]["details"]["coding"][0]["code"], "MISSING_ELEMENT");
  EXPECT_EQ(issues[0]["diagnostics"], "The Patient has no birthDate.");
  EXPECT_EQ(issues[0]["expression"][0], "Bundle.entry[2].resource.birthDate");
  EXPECT_EQ(issues[1]["severity"], "warning");
  EXPECT_EQ(issues[1]["code"], "code-invalid");
}

TEST(FhirResponseTest, RefusedIsABusinessRuleWithTheRecordedReferral) {
  rapidjson::Document bundle =
      ParseJson(RenderFhirResponse(FhirRequest(), Refused("IG-2"), "resp-3", "2025-02-03T10:15:01Z"));
  ExpectWellFormedBundle(bundle);
  EXPECT_EQ(bundle["entry"][0]["resource"]["response"]["code"], "fatal-error");
  const rapidjson::Value& issue = (*FindEntry(bundle, "OperationOutcome"))["issue"][0];
  EXPECT_EQ(issue["code"], "business-rule");
  EXPECT_EQ(issue["details"]["coding"][0]["code"], "IG-2");
  EXPECT_FALSE(issue.HasMember("expression"));
  EXPECT_EQ((*FindEntry(bundle, "Task"))["status"], "rejected");
}

TEST(FhirResponseTest, UnreadableRequestGetsAResponseWithoutAnIdentifier) {
  ReplyContext request;  // nothing could be read
  rapidjson::Document bundle = ParseJson(
      RenderFhirResponse(request, Rejected(MakeIssue("MALFORMED", "", "not JSON")), "resp-4", "2025-02-03T10:15:01Z"));
  ExpectWellFormedBundle(bundle);
  EXPECT_FALSE(bundle["entry"][0]["resource"].HasMember("response"));
  EXPECT_FALSE(bundle["entry"][0]["resource"].HasMember("destination"));
  EXPECT_EQ((*FindEntry(bundle, "OperationOutcome"))["issue"][0]["code"], "structure");
}

TEST(FhirResponseTest, HostileTextStaysValidJson) {
  ReplyContext request;
  request.bundle_id = "not a \"FHIR\" id";
  request.source_endpoint = "https://x.example/\"}],\x01\xFF\xC3";
  std::string message = std::string("quote \" backslash \\ newline \n nul ") + '\0' + " bad \xC3\x28 end";
  rapidjson::Document bundle =
      ParseJson(RenderFhirResponse(request, Rejected(MakeIssue("INVALID_VALUE", "a\"b", message)), "", ""));
  ASSERT_TRUE(bundle.IsObject());
  EXPECT_FALSE(bundle.HasMember("id"));
  EXPECT_FALSE(bundle["entry"][0]["resource"].HasMember("response"));
  std::string diagnostics = (*FindEntry(bundle, "OperationOutcome"))["issue"][0]["diagnostics"].GetString();
  EXPECT_THAT(diagnostics, ::testing::StartsWith("quote \" backslash \\ newline \n nul  bad \xEF\xBF\xBD("));
}

TEST(FhirResponseTest, SameInputSameReply) {
  EXPECT_EQ(RenderFhirResponse(FhirRequest(), Accepted(), "resp-5", "t"),
            RenderFhirResponse(FhirRequest(), Accepted(), "resp-5", "t"));
  EXPECT_NE(RenderFhirResponse(FhirRequest(), Accepted(), "resp-5", "t"),
            RenderFhirResponse(FhirRequest(), Accepted(), "resp-6", "t"));
}

// ---------------------------------------------------------------------------------------------
// HL7 v2 ACK.

Hl7Message ParseAck(const std::string& ack) {
  EXPECT_EQ(ack.find('\n'), std::string::npos) << "segments are separated by CR only";
  EXPECT_EQ(ack.back(), '\r');
  absl::StatusOr<Hl7Message> message = Hl7Message::Parse(ack, Hl7Limits{});
  EXPECT_TRUE(message.ok()) << message.status();
  return *std::move(message);
}

TEST(Hl7AckTest, AcceptedIsAaWithTheHeaderSwapped) {
  Hl7Message ack = ParseAck(RenderHl7v2Ack(Hl7Request(), Accepted(), "FD000001", "20250225101501"));
  EXPECT_EQ(ack.Field("MSH", 2), "^~\\&");
  EXPECT_EQ(ack.Field("MSH", 3), "FRONTDOOR");
  EXPECT_EQ(ack.Field("MSH", 4), "SPFRONTDOOR");
  EXPECT_EQ(ack.Field("MSH", 5), "WARDWATCH");
  EXPECT_EQ(ack.Field("MSH", 6), "R9T01");
  EXPECT_EQ(ack.Field("MSH", 7), "20250225101501");
  EXPECT_EQ(ack.Field("MSH", 9, 1, 1), "ACK");
  EXPECT_EQ(ack.Field("MSH", 9, 1, 2), "I12");
  EXPECT_EQ(ack.Field("MSH", 9, 1, 3), "ACK");
  EXPECT_EQ(ack.Field("MSH", 10), "FD000001");
  EXPECT_EQ(ack.Field("MSH", 11), "P");
  EXPECT_EQ(ack.Field("MSH", 12), "2.5.1");
  EXPECT_EQ(ack.Field("MSA", 1), "AA");
  EXPECT_EQ(ack.Field("MSA", 2), "TGH2502256530");
  EXPECT_EQ(ack.FindFirst("ERR"), std::nullopt);
  EXPECT_EQ(ack.segment_count(), 2u);
}

TEST(Hl7AckTest, MalformedOrUnsupportedIsAr) {
  Hl7Message ack =
      ParseAck(RenderHl7v2Ack(Hl7Request(), Rejected(MakeIssue("MALFORMED", "", "not ER7")), "C2", "20250225"));
  EXPECT_EQ(ack.Field("MSA", 1), "AR");
  EXPECT_EQ(ack.Field("ERR", 2), "");
  EXPECT_EQ(ack.Field("ERR", 3, 1, 1), "102");
  EXPECT_EQ(ack.Field("ERR", 3, 1, 3), "HL70357");
  EXPECT_EQ(ack.Field("ERR", 4), "E");
  EXPECT_EQ(ack.Field("ERR", 5, 1, 1), "MALFORMED");
  EXPECT_EQ(ack.Field("ERR", 8), "not ER7");
  ack = ParseAck(RenderHl7v2Ack(Hl7Request(), Rejected(MakeIssue("UNSUPPORTED_MESSAGE", "MSH-9", "not REF^I12")), "C3",
                                "20250225"));
  EXPECT_EQ(ack.Field("MSA", 1), "AR");
  EXPECT_EQ(ack.Field("ERR", 2, 1, 1), "MSH");
  EXPECT_EQ(ack.Field("ERR", 2, 1, 3), "9");
  EXPECT_EQ(ack.Field("ERR", 3, 1, 1), "200");
  EXPECT_EQ(ack.Field("ERR", 8), "not REF^I12");
}

TEST(Hl7AckTest, OtherValidationErrorsAndRefusalsAreAe) {
  Hl7Message ack =
      ParseAck(RenderHl7v2Ack(Hl7Request(), Rejected(MakeIssue("MISSING_ELEMENT", "PID", "no PID")), "C4", "20250225"));
  EXPECT_EQ(ack.Field("MSA", 1), "AE");
  EXPECT_EQ(ack.Field("ERR", 2), "PID");
  EXPECT_EQ(ack.Field("ERR", 2, 1, 2), "1");
  EXPECT_EQ(ack.Field("ERR", 3, 1, 1), "101");
  ack = ParseAck(RenderHl7v2Ack(Hl7Request(), Refused("IG-2"), "C5", "20250225"));
  EXPECT_EQ(ack.Field("MSA", 1), "AE");
  EXPECT_EQ(ack.Field("MSA", 2), "TGH2502256530");
  EXPECT_EQ(ack.Field("ERR", 3, 1, 1), "207");
  EXPECT_EQ(ack.Field("ERR", 5, 1, 1), "IG-2");
  EXPECT_EQ(ack.Field("ERR", 5, 1, 3), "L");
}

TEST(Hl7AckTest, OneErrPerIssueWithSeverityAndLocation) {
  SubmitReferralResponse response = Accepted();
  *response.add_issues() = MakeIssue("UNKNOWN_REASON_CODE", "DG1[2]-3.1", "unknown code", Issue::WARNING);
  *response.add_issues() = MakeIssue("FRONT_DOOR", "", "front door", Issue::INFORMATION);
  *response.add_issues() = MakeIssue("INVALID_VALUE", "PID-11[2].5", "x", Issue::WARNING);
  *response.add_issues() = MakeIssue("INVALID_VALUE", "Bundle.entry[2].resource.birthDate", "x", Issue::WARNING);
  Hl7Message ack = ParseAck(RenderHl7v2Ack(Hl7Request(), response, "C6", "20250225"));
  EXPECT_EQ(ack.Field("MSA", 1), "AA");
  std::vector<size_t> errs = ack.FindSegments("ERR");
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(ack.RawField(errs[0], 2), "DG1^2^3^1^1");
  EXPECT_EQ(ack.Value(errs[0], 3, 1, 1), "103");
  EXPECT_EQ(ack.Value(errs[0], 4), "W");
  EXPECT_EQ(ack.Value(errs[1], 4), "I");
  EXPECT_EQ(ack.Value(errs[1], 3, 1, 1), "0");
  EXPECT_EQ(ack.RawField(errs[2], 2), "PID^1^11^2^5");
  EXPECT_EQ(ack.RawField(errs[3], 2), "");  // a FHIRPath is no HL7 location
}

TEST(Hl7AckTest, TextIsEscaped) {
  std::string message = "a|b^c~d\\e&f\r\nnext line";
  ReplyContext request = Hl7Request();
  request.control_id = "ID|with^delims";
  Hl7Message ack =
      ParseAck(RenderHl7v2Ack(request, Rejected(MakeIssue("INVALID_VALUE", "RF1-7", message)), "C7", "20250225"));
  EXPECT_EQ(ack.segment_count(), 3u);
  EXPECT_EQ(ack.Field("ERR", 8), message);
  EXPECT_EQ(ack.Field("MSA", 2), "ID|with^delims");
}

TEST(Hl7AckTest, DefaultsWhenTheRequestGaveNothing) {
  Hl7Message ack =
      ParseAck(RenderHl7v2Ack(ReplyContext{}, Rejected(MakeIssue("MALFORMED", "", "empty")), "C8", "20250225"));
  EXPECT_EQ(ack.Field("MSH", 3), "FRONTDOOR");
  EXPECT_EQ(ack.Field("MSH", 4), "SPFRONTDOOR");
  EXPECT_EQ(ack.Field("MSH", 11), "P");
  EXPECT_EQ(ack.Field("MSH", 12), "2.5.1");
  EXPECT_EQ(ack.Field("MSA", 1), "AR");
  EXPECT_EQ(ack.Field("MSA", 2), "");
}

}  // namespace
}  // namespace frontdoor::adapters
