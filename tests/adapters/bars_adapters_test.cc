// Unit tests of the BaRS door's pure pieces: the HTTP answers and their OperationOutcomes
// (bars_outcomes.h), the base64 JSON request headers (bars_headers.h), the resources served for
// reading (bars_resources.h), and how the FHIR adapter reads ServiceRequest.status, the field a
// BaRS sender withdraws a referral with (fhir_referral_adapter.h, WithdrawalRequest).
//
// Every JSON output is parsed with RapidJSON (validating UTF-8) and read by JSON Pointer, so a test
// checks the structure a BaRS client reads rather than a substring of the text.

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "adapters/bars_headers.h"
#include "adapters/bars_outcomes.h"
#include "adapters/bars_resources.h"
#include "adapters/fhir_outcome_issues.h"
#include "adapters/fhir_referral_adapter.h"
#include "adapters/sender_replies.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/pointer.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/adapters/adapter_test_support.h"

namespace frontdoor::adapters {
namespace {

namespace v1 = ::frontdoor::v1;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using testing::ReadSample;
using ::testing::StartsWith;

constexpr char kReferralId[] = "ref-000123";
constexpr char kOutcomeId[] = "outcome-1";

// ---------------------------------------------------------------------------------------------
// Reading JSON output.

// Parses strictly (UTF-8 validated) and fails the test when the text is not JSON.
rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << rapidjson::GetParseError_En(document.GetParseError()) << " at offset "
                                         << document.GetErrorOffset() << " in " << text;
  return document;
}

// The value at a JSON Pointer (RFC 6901: "/rest/0/mode"), or nullptr when there is none.
const rapidjson::Value* At(const rapidjson::Value& root, const std::string& pointer) {
  return rapidjson::Pointer(pointer.c_str()).Get(root);
}

// The string at `pointer`; "<absent>" or "<not a string>" otherwise, so a comparison fails readably.
std::string StringAt(const rapidjson::Value& root, const std::string& pointer) {
  const rapidjson::Value* value = At(root, pointer);
  if (value == nullptr) return "<absent>";
  if (!value->IsString()) return "<not a string>";
  return std::string(value->GetString(), value->GetStringLength());
}

// The number of elements of the array at `pointer`; -1 when there is no array there.
int SizeAt(const rapidjson::Value& root, const std::string& pointer) {
  const rapidjson::Value* value = At(root, pointer);
  return value != nullptr && value->IsArray() ? static_cast<int>(value->Size()) : -1;
}

// An OperationOutcome issue's details.coding as (system, code) pairs, in order.
std::vector<std::pair<std::string, std::string>> Codings(const rapidjson::Value& outcome, int issue) {
  std::vector<std::pair<std::string, std::string>> codings;
  const std::string prefix = absl::StrCat("/issue/", issue, "/details/coding");
  for (int i = 0; i < SizeAt(outcome, prefix); ++i) {
    codings.emplace_back(StringAt(outcome, absl::StrCat(prefix, "/", i, "/system")),
                         StringAt(outcome, absl::StrCat(prefix, "/", i, "/code")));
  }
  return codings;
}

// An OperationOutcome issue's expression (FHIRPaths), in order.
std::vector<std::string> Expressions(const rapidjson::Value& outcome, int issue) {
  std::vector<std::string> expressions;
  const std::string prefix = absl::StrCat("/issue/", issue, "/expression");
  for (int i = 0; i < SizeAt(outcome, prefix); ++i)
    expressions.push_back(StringAt(outcome, absl::StrCat(prefix, "/", i)));
  return expressions;
}

std::string IssueField(const rapidjson::Value& outcome, int issue, const char* field) {
  return StringAt(outcome, absl::StrCat("/issue/", issue, "/", field));
}

v1::Issue MakeIssue(const std::string& code, const std::string& path, const std::string& message,
                    v1::Issue::Severity severity = v1::Issue::ERROR) {
  v1::Issue issue;
  issue.set_code(code);
  issue.set_path(path);
  issue.set_message(message);
  issue.set_severity(severity);
  return issue;
}

// ---------------------------------------------------------------------------------------------
// BarsSubmissionAnswer and RenderBarsError (bars_outcomes.h).

TEST(BarsSubmissionAnswerTest, AcceptedIsA200WhoseBodyIsTheFhirResponseBundle) {
  v1::SubmitReferralResponse response;
  response.set_referral_id(kReferralId);
  response.set_disposition(v1::ACCEPTED);
  response.set_fhir_json(R"({"resourceType":"Bundle","id":"resp-1","type":"message"})");

  BarsAnswer answer = BarsSubmissionAnswer(response, kOutcomeId);

  EXPECT_EQ(answer.http_status, 200);
  EXPECT_EQ(answer.body, response.fhir_json());
}

TEST(BarsSubmissionAnswerTest, RejectedIsA400WithOneIssuePerFindingCodedBarsFirstThenOurs) {
  v1::SubmitReferralResponse response;
  response.set_disposition(v1::REJECTED);
  *response.add_issues() =
      MakeIssue("MISSING_ELEMENT", "Bundle.entry[2].resource.birthDate", "The Patient has no birthDate.");
  *response.add_issues() =
      MakeIssue("INVALID_VALUE", "Bundle.entry[1].resource.authoredOn", "authoredOn is a partial date.");

  BarsAnswer answer = BarsSubmissionAnswer(response, kOutcomeId);

  EXPECT_EQ(answer.http_status, 400);
  rapidjson::Document outcome = ParseJson(answer.body);
  EXPECT_EQ(StringAt(outcome, "/resourceType"), "OperationOutcome");
  EXPECT_EQ(StringAt(outcome, "/id"), kOutcomeId);
  // A REJECTED message was not recorded: no referral id, so no information issue after the findings.
  ASSERT_EQ(SizeAt(outcome, "/issue"), 2);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(absl::StrCat("issue ", i));
    const v1::Issue& finding = response.issues(i);
    EXPECT_EQ(IssueField(outcome, i, "severity"), "error");
    EXPECT_THAT(Codings(outcome, i),
                ElementsAre(Pair(kBarsErrorSystem, "REC_BAD_REQUEST"), Pair(kIssueCodeSystem, finding.code())));
    EXPECT_THAT(Expressions(outcome, i), ElementsAre(finding.path()));
    EXPECT_EQ(IssueField(outcome, i, "diagnostics"), finding.message());
  }
}

TEST(BarsSubmissionAnswerTest, RefusedIsA422WithEachRuleAndAnIssueNamingTheReferral) {
  v1::SubmitReferralResponse response;
  response.set_referral_id(kReferralId);
  response.set_disposition(v1::REFUSED);
  *response.add_issues() = MakeIssue("IG-1", "", "There is no record of the person's consent to share.");
  *response.add_issues() = MakeIssue("OUT_OF_AREA", "", "The person lives outside Oldham and Tameside.");

  BarsAnswer answer = BarsSubmissionAnswer(response, kOutcomeId);

  EXPECT_EQ(answer.http_status, 422);
  rapidjson::Document outcome = ParseJson(answer.body);
  ASSERT_EQ(SizeAt(outcome, "/issue"), 3);
  EXPECT_EQ(IssueField(outcome, 0, "severity"), "error");
  EXPECT_THAT(Codings(outcome, 0),
              ElementsAre(Pair(kBarsErrorSystem, "REC_UNPROCESSABLE_ENTITY"), Pair(kIssueCodeSystem, "IG-1")));
  EXPECT_EQ(IssueField(outcome, 1, "severity"), "error");
  EXPECT_THAT(Codings(outcome, 1),
              ElementsAre(Pair(kBarsErrorSystem, "REC_UNPROCESSABLE_ENTITY"), Pair(kIssueCodeSystem, "OUT_OF_AREA")));
  // The decision was recorded: the last issue tells the sender the referral id to quote.
  EXPECT_EQ(IssueField(outcome, 2, "severity"), "information");
  EXPECT_THAT(Codings(outcome, 2), ElementsAre(Pair(kReferralIdSystem, kReferralId)));
  EXPECT_THAT(IssueField(outcome, 2, "diagnostics"), HasSubstr(kReferralId));
}

TEST(BarsSubmissionAnswerTest, DuplicateIsA409ConflictNamingTheFirstDispositionAndReferral) {
  v1::SubmitReferralResponse first;
  first.set_duplicate(true);
  first.set_referral_id(kReferralId);
  first.set_disposition(v1::ACCEPTED);
  first.set_connector_id("oldham-north-royton-wellbeing");
  first.set_fhir_json(R"({"resourceType":"Bundle"})");  // Not the answer to a resend: 409, not 200.

  BarsAnswer answer = BarsSubmissionAnswer(first, kOutcomeId);

  EXPECT_EQ(answer.http_status, 409);
  rapidjson::Document outcome = ParseJson(answer.body);
  ASSERT_EQ(SizeAt(outcome, "/issue"), 1);
  EXPECT_EQ(IssueField(outcome, 0, "severity"), "error");
  EXPECT_EQ(IssueField(outcome, 0, "code"), "duplicate");
  EXPECT_THAT(Codings(outcome, 0),
              ElementsAre(Pair(kBarsErrorSystem, "REC_CONFLICT"), Pair(kDispositionSystem, "ACCEPTED"),
                          Pair(kReferralIdSystem, kReferralId)));
}

TEST(BarsSubmissionAnswerTest, DuplicateOfARefusalIsStillA409AndEchoesTheFindingsAsInformation) {
  v1::SubmitReferralResponse first;
  first.set_duplicate(true);
  first.set_referral_id(kReferralId);
  first.set_disposition(v1::REFUSED);
  *first.add_issues() = MakeIssue("IG-2", "Bundle.entry[3].resource", "The person objected to the referral.");

  BarsAnswer answer = BarsSubmissionAnswer(first, kOutcomeId);

  EXPECT_EQ(answer.http_status, 409);
  rapidjson::Document outcome = ParseJson(answer.body);
  ASSERT_EQ(SizeAt(outcome, "/issue"), 2);
  EXPECT_THAT(Codings(outcome, 0), Contains(Pair(kDispositionSystem, "REFUSED")));
  // The first answer's finding follows, as information: this answer's error is the conflict.
  EXPECT_EQ(IssueField(outcome, 1, "severity"), "information");
  EXPECT_THAT(Codings(outcome, 1), ElementsAre(Pair(kIssueCodeSystem, "IG-2")));
  EXPECT_THAT(Expressions(outcome, 1), ElementsAre("Bundle.entry[3].resource"));
}

TEST(BarsSubmissionAnswerTest, InvalidUtf8InAnIssueStillYieldsValidJson) {
  // A truncated two-byte sequence, a lone continuation byte and 0xFF: none is UTF-8.
  const std::string bad = "bad \xC3( bytes \x80 and \xFF";
  const std::string replacement = "\xEF\xBF\xBD";  // U+FFFD
  v1::SubmitReferralResponse rejected;
  rejected.set_disposition(v1::REJECTED);
  *rejected.add_issues() = MakeIssue("INVALID_VALUE", "Bundle.entry[1].resource." + bad, "The value " + bad);
  v1::SubmitReferralResponse refused = rejected;
  refused.set_disposition(v1::REFUSED);
  refused.set_referral_id(kReferralId);
  v1::SubmitReferralResponse duplicate = refused;
  duplicate.set_duplicate(true);

  for (const v1::SubmitReferralResponse& response : {rejected, refused, duplicate}) {
    SCOPED_TRACE(absl::StrCat(v1::Disposition_Name(response.disposition()), response.duplicate() ? " resent" : ""));
    rapidjson::Document outcome = ParseJson(BarsSubmissionAnswer(response, kOutcomeId).body);
    ASSERT_TRUE(outcome.IsObject());
    // The finding is the last issue in each answer, its bad bytes replaced rather than dropped.
    const int last = SizeAt(outcome, "/issue") - 1;
    ASSERT_GE(last, 0);
    int finding = last;
    if (!response.duplicate() && !response.referral_id().empty()) finding = last - 1;  // before "recorded as"
    EXPECT_THAT(IssueField(outcome, finding, "diagnostics"), HasSubstr(replacement));
    EXPECT_THAT(Expressions(outcome, finding), ElementsAre(HasSubstr(replacement)));
  }
}

TEST(BarsSubmissionAnswerTest, AnOutcomeIdThatIsNotAFhirIdIsLeftOut) {
  v1::SubmitReferralResponse response;
  response.set_disposition(v1::REJECTED);
  *response.add_issues() = MakeIssue("MALFORMED", "", "Not JSON.");

  rapidjson::Document outcome = ParseJson(BarsSubmissionAnswer(response, "not a FHIR id!").body);

  EXPECT_EQ(At(outcome, "/id"), nullptr);
}

TEST(RenderBarsErrorTest, OneIssueWhoseBarsCodingDisplaysStatusAndCode) {
  BarsError error{401, "REC_UNAUTHORIZED", "login", "No client certificate was presented."};

  rapidjson::Document outcome = ParseJson(RenderBarsError(error, kOutcomeId));

  EXPECT_EQ(StringAt(outcome, "/resourceType"), "OperationOutcome");
  EXPECT_EQ(StringAt(outcome, "/id"), kOutcomeId);
  ASSERT_EQ(SizeAt(outcome, "/issue"), 1);
  EXPECT_EQ(IssueField(outcome, 0, "severity"), "error");
  EXPECT_EQ(IssueField(outcome, 0, "code"), "login");
  EXPECT_EQ(IssueField(outcome, 0, "diagnostics"), error.diagnostics);
  EXPECT_THAT(Codings(outcome, 0), ElementsAre(Pair(kBarsErrorSystem, "REC_UNAUTHORIZED")));
  EXPECT_EQ(StringAt(outcome, "/issue/0/details/coding/0/display"), "401 - REC_UNAUTHORIZED");
}

// ---------------------------------------------------------------------------------------------
// EndUserOrganisationOds and TargetIdentifier (bars_headers.h).

constexpr char kEndUserOrganisation[] =
    R"({"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code",)"
    R"("value":"P85901"}]})";

// The same Organization with a name chosen so that its standard base64 has both '+' and '/' and
// ends in "==": only then do the URL-safe and unpadded encodings differ from the standard one.
constexpr char kEndUserOrganisationWithName[] =
    R"({"resourceType":"Organization","name":"Werneth ~ Oldham ??>","identifier":[{"system":)"
    R"("https://fhir.nhs.uk/Id/ods-organization-code","value":"P85901"}]})";

std::string Base64(std::string_view json) { return absl::Base64Escape(absl::string_view(json.data(), json.size())); }

std::string WithoutPadding(std::string base64) {
  while (!base64.empty() && base64.back() == '=') base64.pop_back();
  return base64;
}

std::string UrlSafe(std::string base64) {
  for (char& c : base64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return base64;
}

void ExpectInvalidEndUserOrganisation(std::string_view header_value) {
  absl::StatusOr<std::string> ods = EndUserOrganisationOds(header_value);
  ASSERT_FALSE(ods.ok()) << "read as " << *ods;
  EXPECT_EQ(ods.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(ods.status().message()), HasSubstr("NHSD-End-User-Organisation"));
}

TEST(EndUserOrganisationOdsTest, ReadsTheOdsCodeOfABase64Organization) {
  absl::StatusOr<std::string> ods = EndUserOrganisationOds(Base64(kEndUserOrganisation));
  ASSERT_TRUE(ods.ok()) << ods.status();
  EXPECT_EQ(*ods, "P85901");
}

TEST(EndUserOrganisationOdsTest, ReadsStandardAndUrlSafeBase64WithAndWithoutPadding) {
  const std::string standard = Base64(kEndUserOrganisationWithName);
  // Preconditions: otherwise the four encodings below would be one.
  ASSERT_THAT(standard, HasSubstr("+"));
  ASSERT_THAT(standard, HasSubstr("/"));
  ASSERT_THAT(standard, EndsWith("=="));
  ASSERT_EQ(WithoutPadding(UrlSafe(standard)),
            absl::WebSafeBase64Escape(absl::string_view(kEndUserOrganisationWithName)));

  for (const std::string& encoded :
       {standard, WithoutPadding(standard), UrlSafe(standard), WithoutPadding(UrlSafe(standard))}) {
    SCOPED_TRACE(encoded);
    absl::StatusOr<std::string> ods = EndUserOrganisationOds(encoded);
    ASSERT_TRUE(ods.ok()) << ods.status();
    EXPECT_EQ(*ods, "P85901");
  }
}

TEST(EndUserOrganisationOdsTest, NotBase64IsInvalid) { ExpectInvalidEndUserOrganisation("not base64 at all!"); }

TEST(EndUserOrganisationOdsTest, Base64OfSomethingNotJsonIsInvalid) {
  ExpectInvalidEndUserOrganisation(Base64("resourceType=Organization; ods=P85901"));
}

TEST(EndUserOrganisationOdsTest, AJsonArrayIsInvalid) {
  ExpectInvalidEndUserOrganisation(Base64(absl::StrCat("[", kEndUserOrganisation, "]")));
}

TEST(EndUserOrganisationOdsTest, AResourceOtherThanAnOrganizationIsInvalid) {
  ExpectInvalidEndUserOrganisation(
      Base64(R"({"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code",)"
             R"("value":"P85901"}]})"));
  ExpectInvalidEndUserOrganisation(Base64(R"({"identifier":[]})"));  // no resourceType at all
}

// An Organization whose base64 is exactly `length` characters (a multiple of 4): its name pads it.
std::string EndUserOrganisationOfBase64Length(size_t length) {
  const std::string head = R"({"resourceType":"Organization","name":")";
  const std::string tail =
      R"(","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"P85901"}]})";
  const size_t json_length = length / 4 * 3;
  return Base64(head + std::string(json_length - head.size() - tail.size(), 'x') + tail);
}

TEST(EndUserOrganisationOdsTest, OverEightKibIsInvalidEvenWhenWellFormed) {
  const std::string at_limit = EndUserOrganisationOfBase64Length(8 * 1024);
  ASSERT_EQ(at_limit.size(), 8u * 1024);
  absl::StatusOr<std::string> ods = EndUserOrganisationOds(at_limit);
  ASSERT_TRUE(ods.ok()) << ods.status();  // the limit itself is allowed
  EXPECT_EQ(*ods, "P85901");

  const std::string over_limit = EndUserOrganisationOfBase64Length(8 * 1024 + 4);
  ASSERT_EQ(over_limit.size(), 8u * 1024 + 4);
  ExpectInvalidEndUserOrganisation(over_limit);
}

TEST(EndUserOrganisationOdsTest, AnOrganizationWithoutAnOdsCodeNamesNone) {
  for (const char* json : {
           R"({"resourceType":"Organization","name":"Royton Wellbeing Hub"})",
           R"({"resourceType":"Organization","identifier":[{"system":"https://example.org/Id/local","value":"L1"}]})",
       }) {
    SCOPED_TRACE(json);
    absl::StatusOr<std::string> ods = EndUserOrganisationOds(Base64(json));
    ASSERT_TRUE(ods.ok()) << ods.status();
    EXPECT_EQ(*ods, "");
  }
}

// A header naming two organisations, or an ODS identifier without a value before a real one, must
// not let a second claim slip past the check against the certificate.
TEST(EndUserOrganisationOdsTest, TwoOrEmptyOdsCodesAreInvalid) {
  for (const char* json : {
           R"({"resourceType":"Organization","identifier":[)"
           R"({"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"P85901"},)"
           R"({"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"P85913"}]})",
           R"({"resourceType":"Organization","identifier":[)"
           R"({"system":"https://fhir.nhs.uk/Id/ods-organization-code"},)"
           R"({"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"P85913"}]})",
       }) {
    SCOPED_TRACE(json);
    ExpectInvalidEndUserOrganisation(Base64(json));
  }
}

TEST(TargetIdentifierTest, IsSystemBarValue) {
  absl::StatusOr<std::string> target =
      TargetIdentifier(Base64(R"({"value":"2000072489","system":"https://fhir.nhs.uk/Id/dos-service-id"})"));
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(*target, "https://fhir.nhs.uk/Id/dos-service-id|2000072489");
}

TEST(TargetIdentifierTest, AMissingValueIsInvalid) {
  for (const char* json : {R"({"system":"https://fhir.nhs.uk/Id/dos-service-id"})",
                           R"({"system":"https://fhir.nhs.uk/Id/dos-service-id","value":""})"}) {
    SCOPED_TRACE(json);
    absl::StatusOr<std::string> target = TargetIdentifier(Base64(json));
    ASSERT_FALSE(target.ok()) << "read as " << *target;
    EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(target.status().message()), HasSubstr("NHSD-Target-Identifier"));
  }
}

// ---------------------------------------------------------------------------------------------
// The resources served for reading (bars_resources.h).

TEST(BarsResourcesTest, CapabilityStatementIsAnR4ServerThatProcessesMessages) {
  rapidjson::Document statement = ParseJson(RenderCapabilityStatement("1.2.3", "2025-02-03"));

  EXPECT_EQ(StringAt(statement, "/resourceType"), "CapabilityStatement");
  EXPECT_EQ(StringAt(statement, "/fhirVersion"), "4.0.1");
  EXPECT_EQ(StringAt(statement, "/kind"), "instance");
  EXPECT_EQ(StringAt(statement, "/software/version"), "1.2.3");
  EXPECT_EQ(StringAt(statement, "/date"), "2025-02-03");
  EXPECT_EQ(StringAt(statement, "/rest/0/mode"), "server");
  std::vector<std::string> operations;
  for (int i = 0; i < SizeAt(statement, "/rest/0/operation"); ++i) {
    operations.push_back(StringAt(statement, absl::StrCat("/rest/0/operation/", i, "/name")));
  }
  EXPECT_THAT(operations, Contains("process-message"));
}

TEST(BarsResourcesTest, MessageDefinitionBundleIsASearchsetOfTheReferralRequest) {
  rapidjson::Document bundle = ParseJson(RenderMessageDefinitionBundle("2025-02-03"));

  EXPECT_EQ(StringAt(bundle, "/resourceType"), "Bundle");
  EXPECT_EQ(StringAt(bundle, "/type"), "searchset");
  ASSERT_EQ(SizeAt(bundle, "/entry"), 1);
  EXPECT_EQ(StringAt(bundle, "/entry/0/resource/resourceType"), "MessageDefinition");
  EXPECT_EQ(StringAt(bundle, "/entry/0/resource/url"), kReferralMessageDefinition);
  EXPECT_EQ(StringAt(bundle, "/entry/0/resource/eventCoding/code"), "servicerequest-request");
}

// An ACCEPTED referral, delivered and in hand: the state a ServiceRequest read most often shows.
v1::GetReferralResponse AcceptedReferral() {
  v1::GetReferralResponse referral;
  referral.set_referral_id(kReferralId);
  referral.set_message_id("416d4e4e-3f58-5660-a408-b2fa0b0e74a4");
  referral.set_sender_ods("P85901");
  referral.set_received_at("2025-02-03T10:15:00Z");
  referral.mutable_decision()->set_referral_id(kReferralId);
  referral.mutable_decision()->set_disposition(v1::ACCEPTED);
  referral.mutable_decision()->set_connector_id("oldham-north-royton-wellbeing");
  referral.set_delivery_state(v1::DELIVERED);
  referral.set_delivered_at("2025-02-03T10:15:02Z");
  referral.set_status(v1::PROGRESS_CONTACTED);
  return referral;
}

std::string ServiceRequestStatusOf(const v1::GetReferralResponse& referral) {
  return StringAt(ParseJson(RenderReferralServiceRequest(referral)), "/status");
}

TEST(ReferralServiceRequestTest, AcceptedAndNotWithdrawnIsActive) {
  EXPECT_EQ(ServiceRequestStatusOf(AcceptedReferral()), "active");
}

TEST(ReferralServiceRequestTest, WithdrawnIsRevoked) {
  v1::GetReferralResponse referral = AcceptedReferral();
  referral.set_cancelled_at("2025-02-04T09:00:00Z");
  referral.set_cancel_reason(v1::NO_LONGER_NEEDED);
  referral.set_delivery_state(v1::DELIVERY_CANCELLED);
  EXPECT_EQ(ServiceRequestStatusOf(referral), "revoked");
}

TEST(ReferralServiceRequestTest, RefusedByARuleIsRevoked) {
  v1::GetReferralResponse referral = AcceptedReferral();
  referral.mutable_decision()->set_disposition(v1::REFUSED);
  referral.mutable_decision()->clear_connector_id();
  referral.set_delivery_state(v1::NOT_FOR_DELIVERY);
  referral.clear_status();
  EXPECT_EQ(ServiceRequestStatusOf(referral), "revoked");
}

TEST(ReferralServiceRequestTest, ClosedByTheConnectorIsCompleted) {
  v1::GetReferralResponse referral = AcceptedReferral();
  referral.set_status(v1::PROGRESS_CLOSED);
  EXPECT_EQ(ServiceRequestStatusOf(referral), "completed");
}

TEST(ReferralServiceRequestTest, IdIsTheReferralId) {
  rapidjson::Document request = ParseJson(RenderReferralServiceRequest(AcceptedReferral()));

  EXPECT_EQ(StringAt(request, "/resourceType"), "ServiceRequest");
  EXPECT_EQ(StringAt(request, "/id"), kReferralId);
  EXPECT_EQ(StringAt(request, "/identifier/0/system"), kReferralIdSystem);
  EXPECT_EQ(StringAt(request, "/identifier/0/value"), kReferralId);
}

TEST(ReferralServiceRequestTest, CarriesNoPatientDataEvenWhenTheStoredAnswerQuotesSome) {
  // Findings never should quote the person, but a read must not repeat it even if one did.
  v1::GetReferralResponse referral = AcceptedReferral();
  *referral.mutable_decision()->add_issues() =
      MakeIssue("IG-2", "Bundle.entry[2].resource.name.where(family='Smith')",
                "Amelia Smith (NHS number 9434765919) objected to the referral.");
  *referral.mutable_decision()->add_issues() =
      MakeIssue("UNKNOWN_REASON_CODE", "", "Amelia Smith, 943 476 5919", v1::Issue::WARNING);
  referral.mutable_decision()->set_routing_reason("Oldham North cluster from the postcode OL2 6QJ");
  v1::FeedbackEvent* event = referral.add_history();
  event->set_status(v1::PROGRESS_CONTACTED);
  event->set_reason("Spoke to Amelia Smith");
  event->set_fhir_task_json(R"({"resourceType":"Task","note":[{"text":"Amelia Smith 9434765919"}]})");

  const std::string text = RenderReferralServiceRequest(referral);

  ParseJson(text);
  for (const char* patient_data : {"9434765919", "943 476 5919", "Amelia", "Smith", "OL2 6QJ"}) {
    EXPECT_THAT(text, Not(HasSubstr(patient_data)));
  }
}

TEST(TaskSearchBundleTest, TwoTasksAreASearchsetOfThoseTasks) {
  const std::vector<std::string> tasks = {
      R"({"resourceType":"Task","id":"event-1","status":"received","intent":"order"})",
      R"({"resourceType":"Task","id":"event-2","status":"in-progress","intent":"order"})",
  };

  rapidjson::Document bundle = ParseJson(RenderTaskSearchBundle(tasks, "search-1"));

  EXPECT_EQ(StringAt(bundle, "/resourceType"), "Bundle");
  EXPECT_EQ(StringAt(bundle, "/id"), "search-1");
  EXPECT_EQ(StringAt(bundle, "/type"), "searchset");
  const rapidjson::Value* total = At(bundle, "/total");
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->GetInt(), 2);
  ASSERT_EQ(SizeAt(bundle, "/entry"), 2);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(absl::StrCat("entry ", i));
    const rapidjson::Value* resource = At(bundle, absl::StrCat("/entry/", i, "/resource"));
    ASSERT_NE(resource, nullptr);
    // Deep equality with the Task as given, in the order given (oldest first).
    EXPECT_TRUE(*resource == ParseJson(tasks[i])) << tasks[i];
  }
}

TEST(TaskSearchBundleTest, NoTasksIsAnEmptySearchsetWithoutEntries) {
  rapidjson::Document bundle = ParseJson(RenderTaskSearchBundle({}, "search-2"));

  EXPECT_EQ(StringAt(bundle, "/type"), "searchset");
  const rapidjson::Value* total = At(bundle, "/total");
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->GetInt(), 0);
  EXPECT_EQ(At(bundle, "/entry"), nullptr);  // FHIR JSON has no empty arrays
}

// ---------------------------------------------------------------------------------------------
// ServiceRequest.status in the FHIR adapter: `revoked` and `entered-in-error` withdraw a referral.
// Run through both readers (simdjson's fast path and the RapidJSON reference), which share the
// mapper and must agree.

// Each issue as "CODE at path": readable when an expectation fails.
std::vector<std::string> Findings(const ParsedReferral& parsed) {
  std::vector<std::string> findings;
  for (const v1::Issue& issue : parsed.issues) findings.push_back(absl::StrCat(issue.code(), " at ", issue.path()));
  return findings;
}

struct FhirReader {
  const char* name;
  ParsedReferral (*parse)(std::string_view json, const FhirLimits& limits);
};

// So that a failure names the reader rather than printing the struct's bytes.
void PrintTo(const FhirReader& reader, std::ostream* os) { *os << reader.name; }

class ServiceRequestStatusTest : public ::testing::TestWithParam<FhirReader> {
 protected:
  // Sample 01 with its ServiceRequest changed by `edit` (on the RapidJSON DOM), then parsed.
  template <typename Edit>
  ParsedReferral ParseSample01With(Edit edit) {
    rapidjson::Document bundle = ParseJson(ReadSample("01-fhir-oldham-wellbeing.json"));
    rapidjson::Value* service_request = nullptr;
    for (rapidjson::Value& entry : bundle["entry"].GetArray()) {
      if (entry["resource"]["resourceType"] == "ServiceRequest") service_request = &entry["resource"];
    }
    EXPECT_NE(service_request, nullptr) << "sample 01 has no ServiceRequest";
    if (service_request == nullptr) return {};
    service_request_id_ = (*service_request)["id"].GetString();
    edit(*service_request, bundle.GetAllocator());
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> writer(text);
    bundle.Accept(writer);
    return GetParam().parse(std::string_view(text.GetString(), text.GetSize()), FhirLimits{});
  }

  ParsedReferral ParseSample01WithStatus(const char* status) {
    return ParseSample01With([status](rapidjson::Value& request, rapidjson::Document::AllocatorType&) {
      request["status"].SetString(rapidjson::StringRef(status));
    });
  }

  std::string service_request_id_;  // of sample 01, set by ParseSample01With
};

TEST_P(ServiceRequestStatusTest, RevokedWithdrawsTheReferralNamedByTheServiceRequestId) {
  ParsedReferral parsed = ParseSample01WithStatus("revoked");

  ASSERT_TRUE(parsed.withdrawal.has_value());
  EXPECT_EQ(parsed.withdrawal->reason, v1::NO_LONGER_NEEDED);
  EXPECT_THAT(parsed.withdrawal->referral_ids, Contains(service_request_id_));
  EXPECT_THAT(parsed.withdrawal->path, EndsWith("status"));
  EXPECT_THAT(Findings(parsed), Not(Contains(HasSubstr("INVALID_VALUE"))));
}

TEST_P(ServiceRequestStatusTest, AReferralIdIdentifierComesBeforeTheServiceRequestId) {
  ParsedReferral parsed =
      ParseSample01With([](rapidjson::Value& request, rapidjson::Document::AllocatorType& allocator) {
        request["status"].SetString("revoked");
        // After the EMIS identifier the sample already has, so order in the message is not what puts it first.
        rapidjson::Value identifier(rapidjson::kObjectType);
        identifier.AddMember("system", rapidjson::StringRef(kReferralIdSystem), allocator);
        identifier.AddMember("value", "ref-000777", allocator);
        request["identifier"].PushBack(identifier, allocator);
      });

  ASSERT_TRUE(parsed.withdrawal.has_value());
  EXPECT_THAT(parsed.withdrawal->referral_ids, ElementsAre("ref-000777", service_request_id_));
}

TEST_P(ServiceRequestStatusTest, EnteredInErrorWithdrawsTheReferralAsEnteredInError) {
  ParsedReferral parsed = ParseSample01WithStatus("entered-in-error");

  ASSERT_TRUE(parsed.withdrawal.has_value());
  EXPECT_EQ(parsed.withdrawal->reason, v1::ENTERED_IN_ERROR);
  EXPECT_THAT(parsed.withdrawal->referral_ids, Contains(service_request_id_));
}

TEST_P(ServiceRequestStatusTest, OnHoldIsAnInvalidValueAndNoWithdrawal) {
  ParsedReferral parsed = ParseSample01WithStatus("on-hold");

  EXPECT_FALSE(parsed.withdrawal.has_value());
  EXPECT_THAT(Findings(parsed), ElementsAre(AllOf(StartsWith("INVALID_VALUE at "), EndsWith("status"))));
}

TEST_P(ServiceRequestStatusTest, ActiveIsANewReferralWithNoFindingAboutStatus) {
  ParsedReferral parsed = ParseSample01WithStatus("active");

  EXPECT_FALSE(parsed.withdrawal.has_value());
  EXPECT_THAT(Findings(parsed), IsEmpty());  // sample 01 is a clean referral: nothing about status either
}

INSTANTIATE_TEST_SUITE_P(BothReaders, ServiceRequestStatusTest,
                         ::testing::Values(FhirReader{"ParseFhirReferral", &ParseFhirReferral},
                                           FhirReader{"RapidJson", &ParseFhirReferralWithRapidJson}),
                         [](const ::testing::TestParamInfo<FhirReader>& info) { return info.param.name; });

}  // namespace
}  // namespace frontdoor::adapters
