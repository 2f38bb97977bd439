#include "adapters/fhir_outcome_issues.h"

#include "adapters/referral_validation.h"

namespace frontdoor::adapters {

using frontdoor::v1::Issue;

std::string FhirIssueType(const Issue& issue) {
  const std::string& code = issue.code();
  if (code == kMalformed) return "structure";
  if (code == kUnsupportedMessage) return "not-supported";
  if (code == kMissingElement) return "required";
  if (code == kInvalidValue || code == kInvalidNhsNumber) return "value";
  if (code == "UNKNOWN_REASON_CODE") return "code-invalid";
  if (code == kMessageIdReused) return "conflict";
  if (issue.severity() == Issue::INFORMATION) return "informational";
  if (code.rfind("IG-", 0) == 0 || code == "OUT_OF_AREA") return "business-rule";
  return "processing";
}

const char* FhirSeverity(Issue::Severity severity) {
  switch (severity) {
    case Issue::ERROR:
      return "error";
    case Issue::WARNING:
      return "warning";
    default:
      return "information";
  }
}

void WriteOutcomeIssue(JsonOut& json, const Issue& issue, const std::vector<CodingPair>& first_codings) {
  json.StartObject();
  json.Member("severity", FhirSeverity(issue.severity()));
  json.Member("code", FhirIssueType(issue));
  if (!issue.code().empty() || !first_codings.empty()) {
    json.Key("details");
    json.StartObject();
    json.Key("coding");
    json.StartArray();
    auto coding = [&](std::string_view system, std::string_view code) {
      json.StartObject();
      json.Member("system", system);
      json.Member("code", code);
      json.EndObject();
    };
    for (const auto& [system, code] : first_codings) coding(system, code);
    if (!issue.code().empty()) coding(kIssueCodeSystem, issue.code());
    json.EndArray();
    json.EndObject();
  }
  json.Member("diagnostics", issue.message());
  if (!issue.path().empty()) {
    json.Key("expression");
    json.StartArray();
    json.String(issue.path());
    json.EndArray();
  }
  json.EndObject();
}

}  // namespace frontdoor::adapters
