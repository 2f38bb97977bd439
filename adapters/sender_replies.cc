#include "adapters/sender_replies.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapters/fhir_ids.h"
#include "adapters/fhir_json_out.h"
#include "adapters/fhir_outcome_issues.h"
#include "adapters/hl7v2_message.h"
#include "adapters/referral_validation.h"
#include "common/utf8.h"

namespace frontdoor::adapters {
namespace {

using frontdoor::v1::Issue;
using frontdoor::v1::SubmitReferralResponse;

constexpr char kGatewayName[] = "Oldham and Tameside Social Prescribing Front Door";
constexpr char kGatewayEndpoint[] = "https://frontdoor.example.org/fhir/$process-message";
constexpr char kBarsEventSystem[] = "https://fhir.nhs.uk/CodeSystem/message-events-bars";
constexpr char kBarsEventCode[] = "servicerequest-request";
constexpr char kGatewayApplication[] = "FRONTDOOR";
constexpr char kGatewayFacility[] = "SPFRONTDOOR";

void WriteOperationOutcome(JsonOut& json, const SubmitReferralResponse& response, const std::string& id) {
  json.StartObject();
  json.Member("resourceType", "OperationOutcome");
  json.Member("id", id);
  json.Key("issue");
  json.StartArray();
  for (const Issue& issue : response.issues()) WriteOutcomeIssue(json, issue, {});
  if (response.issues().empty()) {
    json.StartObject();
    json.Member("severity", "information");
    json.Member("code", "informational");
    json.Member("diagnostics",
                response.disposition() == frontdoor::v1::ACCEPTED ? "Referral accepted." : "No details.");
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

void WriteTask(JsonOut& json, const SubmitReferralResponse& response, const std::string& id) {
  json.StartObject();
  json.Member("resourceType", "Task");
  json.Member("id", id);
  json.Key("identifier");
  json.StartArray();
  json.StartObject();
  json.Member("system", kReferralIdSystem);
  json.Member("value", response.referral_id());
  json.EndObject();
  json.EndArray();
  const bool withdrawn = std::any_of(response.issues().begin(), response.issues().end(),
                                     [](const Issue& issue) { return issue.code() == kWithdrawn; });
  json.Member("status", withdrawn                                           ? "cancelled"
                        : response.disposition() == frontdoor::v1::ACCEPTED ? "accepted"
                                                                            : "rejected");
  if (!response.routing_reason().empty()) {
    json.Key("statusReason");
    json.StartObject();
    json.Member("text", response.routing_reason());
    json.EndObject();
  }
  if (response.duplicate()) {
    json.Key("businessStatus");
    json.StartObject();
    json.Member("text", "duplicate");
    json.EndObject();
  }
  json.Member("intent", "order");
  if (!response.connector_id().empty()) {
    json.Key("owner");
    json.StartObject();
    json.Member("type", "Organization");
    json.Key("identifier");
    json.StartObject();
    json.Member("system", kConnectorTeamSystem);
    json.Member("value", response.connector_id());
    json.EndObject();
    json.Member("display", response.connector_id());
    json.EndObject();
  }
  json.EndObject();
}

// ---------------------------------------------------------------------------------------------
// HL7 v2.

const Hl7Delimiters kStandardDelimiters{};

std::string Esc(std::string_view text) { return Hl7Escape(SanitizeUtf8(text), kStandardDelimiters); }

// ERR-2 (ERL) from a path in the adapters' notation: `PID`, `PID-7`, `PID-11[2].5`, `DG1[2]-3.1`.
// Empty for anything else (a FHIRPath, a typed field path).
std::string ErrorLocation(std::string_view path) {
  size_t i = 0;
  auto number = [&](size_t* out) {
    size_t start = i;
    size_t value = 0;
    while (i < path.size() && path[i] >= '0' && path[i] <= '9' && i - start < 6) value = value * 10 + (path[i++] - '0');
    *out = value;
    return i > start;
  };
  if (path.size() < 3) return "";
  for (size_t k = 0; k < 3; ++k) {
    char c = path[k];
    if (!((c >= 'A' && c <= 'Z') || (k > 0 && c >= '0' && c <= '9'))) return "";
  }
  i = 3;
  size_t sequence = 1, field = 0, repetition = 1, component = 0, subcomponent = 0;
  if (i < path.size() && path[i] == '[') {
    ++i;
    if (!number(&sequence) || i >= path.size() || path[i] != ']') return "";
    ++i;
  }
  if (i < path.size() && path[i] == '-') {
    ++i;
    if (!number(&field)) return "";
    if (i < path.size() && path[i] == '[') {
      ++i;
      if (!number(&repetition) || i >= path.size() || path[i] != ']') return "";
      ++i;
    }
    if (i < path.size() && path[i] == '.') {
      ++i;
      if (!number(&component)) return "";
    }
    if (i < path.size() && path[i] == '.') {
      ++i;
      if (!number(&subcomponent)) return "";
    }
  }
  if (i != path.size()) return "";
  std::string erl = absl::StrCat(std::string(path.substr(0, 3)), "^", sequence);
  if (field > 0) absl::StrAppend(&erl, "^", field, "^", repetition);
  if (component > 0) absl::StrAppend(&erl, "^", component);
  if (subcomponent > 0) absl::StrAppend(&erl, "^", subcomponent);
  return erl;
}

// HL7 table 0357, message error condition codes.
// A path naming a whole segment occurrence ("PID[2]"), not a field in it: the message's segments
// are not what a REF^I12 allows (a second PID, RF1 or PD1).
bool NamesASegment(std::string_view path) {
  if (path.size() < 6 || path[3] != '[' || path.back() != ']') return false;
  for (size_t i = 4; i + 1 < path.size(); ++i) {
    if (path[i] < '0' || path[i] > '9') return false;
  }
  return true;
}

// Findings that no resend of this message can mend: an unreadable message, another message
// type, segments a REF^I12 does not allow, an id already used for another message. HL7 v2
// answers those with AR (application reject), the rest with AE.
bool ResendCannotHelp(const Issue& issue) {
  return issue.code() == kMalformed || issue.code() == kUnsupportedMessage || issue.code() == kMessageIdReused ||
         (issue.code() == kInvalidValue && NamesASegment(issue.path()));
}

std::string Hl7ErrorCode(const Issue& issue) {
  const std::string& code = issue.code();
  if (code == kUnsupportedMessage) return "200^Unsupported message type^HL70357";
  if (code == kMessageIdReused) return "205^Duplicate key identifier^HL70357";
  if (code == kInvalidValue && NamesASegment(issue.path())) return "100^Segment sequence error^HL70357";
  if (code == kMissingElement) return "101^Required field missing^HL70357";
  if (code == kMalformed || code == kInvalidValue || code == kInvalidNhsNumber) {
    return "102^Data type error^HL70357";
  }
  if (code == "UNKNOWN_REASON_CODE") return "103^Table value not found^HL70357";
  if (issue.severity() == Issue::INFORMATION) return "0^Message accepted^HL70357";
  return "207^Application internal error^HL70357";
}

const char* Hl7Severity(Issue::Severity severity) {
  switch (severity) {
    case Issue::ERROR:
      return "E";
    case Issue::WARNING:
      return "W";
    default:
      return "I";
  }
}

std::string OrDefault(const std::string& value, std::string_view fallback) {
  return value.empty() ? std::string(fallback) : value;
}

// The response's MessageHeader resource: answering the request's Bundle, focused on the outcome
// and on the Task at `task_url` (empty when the referral was not recorded, so there is no Task).
void WriteResponseHeader(JsonOut& json, const ReplyContext& request, const SubmitReferralResponse& response,
                         std::string_view header_id, std::string_view outcome_url, std::string_view task_url) {
  json.StartObject();
  json.Member("resourceType", "MessageHeader");
  json.Member("id", header_id);
  json.Key("eventCoding");
  json.StartObject();
  json.Member("system", kBarsEventSystem);
  json.Member("code", kBarsEventCode);
  json.EndObject();
  if (!request.source_endpoint.empty()) {
    json.Key("destination");
    json.StartArray();
    json.StartObject();
    json.Member("endpoint", request.source_endpoint);
    json.EndObject();
    json.EndArray();
  }
  json.Key("source");
  json.StartObject();
  json.Member("name", kGatewayName);
  json.Member("endpoint", kGatewayEndpoint);
  json.EndObject();
  if (IsFhirId(request.bundle_id)) {
    json.Key("response");
    json.StartObject();
    json.Member("identifier", request.bundle_id);
    json.Member("code", response.disposition() == frontdoor::v1::ACCEPTED ? "ok" : "fatal-error");
    json.Key("details");
    json.StartObject();
    json.Member("reference", outcome_url);
    json.EndObject();
    json.EndObject();
  }
  json.Key("focus");
  json.StartArray();
  json.StartObject();
  json.Member("reference", outcome_url);
  json.EndObject();
  if (!task_url.empty()) {
    json.StartObject();
    json.Member("reference", task_url);
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();
}

// One Bundle.entry: its fullUrl and the resource `write_resource` writes.
template <typename WriteResource>
void WriteEntry(JsonOut& json, std::string_view full_url, WriteResource write_resource) {
  json.StartObject();
  json.Member("fullUrl", full_url);
  json.Key("resource");
  write_resource();
  json.EndObject();
}

}  // namespace

std::string RenderFhirResponse(const ReplyContext& request, const SubmitReferralResponse& response,
                               std::string_view response_bundle_id, std::string_view timestamp_rfc3339) {
  const bool recorded = !response.referral_id().empty();
  const std::string header_id = DerivedUuid(response_bundle_id, 0);
  const std::string outcome_id = DerivedUuid(response_bundle_id, 1);
  const std::string task_id = DerivedUuid(response_bundle_id, 2);
  const std::string outcome_url = "urn:uuid:" + outcome_id;
  const std::string task_url = "urn:uuid:" + task_id;

  JsonOut json;
  json.StartObject();
  json.Member("resourceType", "Bundle");
  if (IsFhirId(response_bundle_id)) json.Member("id", response_bundle_id);
  json.Member("type", "message");
  json.Member("timestamp", timestamp_rfc3339);
  json.Key("entry");
  json.StartArray();

  WriteEntry(json, "urn:uuid:" + header_id, [&] {
    WriteResponseHeader(json, request, response, header_id, outcome_url,
                        recorded ? std::string_view(task_url) : std::string_view());
  });
  WriteEntry(json, outcome_url, [&] { WriteOperationOutcome(json, response, outcome_id); });
  if (recorded) WriteEntry(json, task_url, [&] { WriteTask(json, response, task_id); });
  json.EndArray();
  json.EndObject();
  return json.Take();
}

namespace {

// ERR segments, one per finding.
void AppendErrors(const SubmitReferralResponse& response, std::string* ack) {
  for (const Issue& issue : response.issues()) {
    std::string application_code = issue.code().empty() ? "" : Esc(issue.code()) + "^^L";
    absl::StrAppend(ack, "ERR||", ErrorLocation(issue.path()), "|", Hl7ErrorCode(issue), "|",
                    Hl7Severity(issue.severity()), "|", application_code, "|||", Esc(issue.message()), "\r");
  }
}

std::string AckHeader(const ReplyContext& request, std::string_view control_id, std::string_view timestamp_hl7) {
  return absl::StrCat("MSH|^~\\&|", Esc(OrDefault(request.receiving_application, kGatewayApplication)), "|",
                      Esc(OrDefault(request.receiving_facility, kGatewayFacility)), "|",
                      Esc(request.sending_application), "|", Esc(request.sending_facility), "|", Esc(timestamp_hl7),
                      "||ACK^I12^ACK|", Esc(control_id), "|", Esc(OrDefault(request.processing_id, "P")), "|",
                      Esc(OrDefault(request.version, "2.5.1")), "\r");
}

}  // namespace

std::string RenderHl7v2Refusal(const ReplyContext& request, bool resend_may_help, std::string_view text,
                               std::string_view control_id, std::string_view timestamp_hl7) {
  std::string ack = AckHeader(request, control_id, timestamp_hl7);
  const char* acknowledgment =
      WantsAcceptAck(request) ? (resend_may_help ? "CE" : "CR") : (resend_may_help ? "AE" : "AR");
  absl::StrAppend(&ack, "MSA|", acknowledgment, "|", Esc(request.control_id), "\r");
  absl::StrAppend(&ack, "ERR|||207^Application internal error^HL70357|E||||", Esc(text), "\r");
  return ack;
}

std::string RenderHl7v2Ack(const ReplyContext& request, const SubmitReferralResponse& response,
                           std::string_view control_id, std::string_view timestamp_hl7) {
  std::string ack = AckHeader(request, control_id, timestamp_hl7);

  const char* acknowledgment = "AE";
  if (response.disposition() == frontdoor::v1::ACCEPTED) {
    acknowledgment = "AA";
  } else if (response.disposition() == frontdoor::v1::REJECTED) {
    for (const Issue& issue : response.issues()) {
      if (ResendCannotHelp(issue)) acknowledgment = "AR";
    }
  }
  absl::StrAppend(&ack, "MSA|", acknowledgment, "|", Esc(request.control_id), "\r");
  AppendErrors(response, &ack);
  return ack;
}

bool WantsAcceptAck(const ReplyContext& request) {
  const std::string& mode = request.accept_ack_type;
  return mode == "AL" || mode == "ER" || mode == "SU";
}

std::string RenderHl7v2AcceptAck(const ReplyContext& request, const SubmitReferralResponse& response,
                                 std::string_view control_id, std::string_view timestamp_hl7) {
  std::string ack = AckHeader(request, control_id, timestamp_hl7);
  // Committed to safe storage (accepted or refused, recorded either way) or not taken at all.
  const char* acknowledgment = response.referral_id().empty() ? "CR" : "CA";
  absl::StrAppend(&ack, "MSA|", acknowledgment, "|", Esc(request.control_id), "\r");
  AppendErrors(response, &ack);
  return ack;
}

}  // namespace frontdoor::adapters
