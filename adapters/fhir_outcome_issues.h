// How the gateway's findings (frontdoor.v1.Issue) are written as FHIR OperationOutcome issues,
// the same in every FHIR answer: the response message Bundle of a submission (sender_replies.h)
// and the BaRS door's HTTP error bodies (bars_outcomes.h).
//
//   JsonOut json;
//   WriteOutcomeIssue(json, issue, {{kBarsErrorSystem, "REC_BAD_REQUEST"}});
//
// Each issue: severity (error | warning | information); code, a FHIR issue type (structure,
// not-supported, required, value, code-invalid, business-rule, informational, processing);
// details.coding: the codings given first, then our code in kIssueCodeSystem; diagnostics, the
// message; expression, [path] when there is one.
//
// Pure and thread-safe.
#ifndef FRONTDOOR_ADAPTERS_FHIR_OUTCOME_ISSUES_H_
#define FRONTDOOR_ADAPTERS_FHIR_OUTCOME_ISSUES_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/fhir_ids.h"
#include "adapters/fhir_json_out.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::adapters {

inline constexpr char kIssueCodeSystem[] = "https://frontdoor.example.org/CodeSystem/issue-code";

// A (system, code) pair for details.coding.
using CodingPair = std::pair<std::string_view, std::string_view>;

// The FHIR issue type (http://hl7.org/fhir/issue-type) of one of our findings.
std::string FhirIssueType(const frontdoor::v1::Issue& issue);
const char* FhirSeverity(frontdoor::v1::Issue::Severity severity);

void WriteOutcomeIssue(JsonOut& json, const frontdoor::v1::Issue& issue, const std::vector<CodingPair>& first_codings);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_FHIR_OUTCOME_ISSUES_H_
