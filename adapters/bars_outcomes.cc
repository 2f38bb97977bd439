#include "adapters/bars_outcomes.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/fhir_json_out.h"
#include "adapters/fhir_outcome_issues.h"
#include "adapters/sender_replies.h"

namespace frontdoor::adapters {

namespace v1 = ::frontdoor::v1;

namespace {

void StartOutcome(JsonOut& json, std::string_view outcome_id) {
  json.StartObject();
  json.Member("resourceType", "OperationOutcome");
  if (IsFhirId(outcome_id)) json.Member("id", outcome_id);
  json.Key("issue");
  json.StartArray();
}

void EndOutcome(JsonOut& json) {
  json.EndArray();
  json.EndObject();
}

void WriteError(JsonOut& json, const BarsError& error, const std::vector<CodingPair>& more_codings) {
  json.StartObject();
  json.Member("severity", "error");
  json.Member("code", error.issue_type);
  json.Key("details");
  json.StartObject();
  json.Key("coding");
  json.StartArray();
  json.StartObject();
  json.Member("system", kBarsErrorSystem);
  json.Member("code", error.bars_code);
  json.Member("display", absl::StrCat(error.http_status, " - ", error.bars_code));
  json.EndObject();
  for (const auto& [system, code] : more_codings) {
    json.StartObject();
    json.Member("system", system);
    json.Member("code", code);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
  json.Member("diagnostics", error.diagnostics);
  json.EndObject();
}

// Every finding of `response`, each coded with `bars_code` first; an information issue naming the
// referral id when the decision was recorded (a REFUSED referral has one: quote it to the network).
std::string FindingsOutcome(const v1::SubmitReferralResponse& response, std::string_view bars_code,
                            std::string_view outcome_id) {
  JsonOut json;
  StartOutcome(json, outcome_id);
  for (const v1::Issue& issue : response.issues()) {
    const bool error = issue.severity() == v1::Issue::ERROR;
    WriteOutcomeIssue(json, issue,
                      error ? std::vector<CodingPair>{{kBarsErrorSystem, bars_code}} : std::vector<CodingPair>{});
  }
  if (response.issues().empty()) {
    // FHIR wants at least one issue; a refusal always has its reason, so this is only a guard.
    v1::Issue none;
    none.set_severity(v1::Issue::ERROR);
    none.set_message("The message was not accepted.");
    WriteOutcomeIssue(json, none, {{kBarsErrorSystem, bars_code}});
  }
  if (!response.referral_id().empty()) {
    v1::Issue recorded;
    recorded.set_severity(v1::Issue::INFORMATION);
    recorded.set_message(absl::StrCat("frontdoor recorded this decision as referral ", response.referral_id(), "."));
    WriteOutcomeIssue(json, recorded, {{kReferralIdSystem, response.referral_id()}});
  }
  EndOutcome(json);
  return json.Take();
}

std::string DuplicateOutcome(const v1::SubmitReferralResponse& first, std::string_view outcome_id) {
  const std::string disposition = v1::Disposition_Name(first.disposition());
  std::string words =
      absl::StrCat("This message has been recognised as having already been processed: it was ", disposition);
  if (!first.referral_id().empty()) absl::StrAppend(&words, " as referral ", first.referral_id());
  if (!first.connector_id().empty()) absl::StrAppend(&words, " for connector team ", first.connector_id());
  absl::StrAppend(&words, ". Do not send it again.");
  JsonOut json;
  StartOutcome(json, outcome_id);
  std::vector<CodingPair> codings = {{kDispositionSystem, disposition}};
  if (!first.referral_id().empty()) codings.emplace_back(kReferralIdSystem, first.referral_id());
  WriteError(json, BarsError{409, "REC_CONFLICT", "duplicate", words}, codings);
  for (const v1::Issue& issue : first.issues()) {
    // The first answer's findings, as information: this answer is the conflict.
    v1::Issue echoed = issue;
    echoed.set_severity(v1::Issue::INFORMATION);
    WriteOutcomeIssue(json, echoed, {});
  }
  EndOutcome(json);
  return json.Take();
}

}  // namespace

std::string RenderBarsError(const BarsError& error, std::string_view outcome_id) {
  JsonOut json;
  StartOutcome(json, outcome_id);
  WriteError(json, error, {});
  EndOutcome(json);
  return json.Take();
}

BarsAnswer BarsSubmissionAnswer(const v1::SubmitReferralResponse& response, std::string_view outcome_id) {
  if (response.duplicate()) return {409, DuplicateOutcome(response, outcome_id)};
  switch (response.disposition()) {
    case v1::ACCEPTED:
      return {200, response.fhir_json()};
    case v1::REFUSED:
      return {422, FindingsOutcome(response, "REC_UNPROCESSABLE_ENTITY", outcome_id)};
    default:
      return {400, FindingsOutcome(response, "REC_BAD_REQUEST", outcome_id)};
  }
}

}  // namespace frontdoor::adapters
