#include "adapters/feedback_messages.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/hl7v2_message.h"
#include "adapters/sender_replies.h"
#include "common/utf8.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace frontdoor::adapters {
namespace {

namespace v1 = ::frontdoor::v1;

constexpr char kNhsNumberSystem[] = "https://fhir.nhs.uk/Id/nhs-number";
constexpr char kGatewayApplication[] = "FRONTDOOR";
constexpr char kGatewayFacility[] = "SPFRONTDOOR";

std::string Clean(std::string_view text) {
  std::string out = ToValidUtf8(text);
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return out;
}

// The same small writer as the submit replies: every string escaped, empty members left out.
class Json {
 public:
  Json() : writer_(buffer_) {}
  void Key(std::string_view key) { writer_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size())); }
  void String(std::string_view value) {
    const std::string clean = Clean(value);
    writer_.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
  }
  void Member(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    Key(key);
    String(value);
  }
  void Number(std::string_view key, double value) {
    Key(key);
    writer_.Double(value);
  }
  void StartObject(std::string_view key = {}) {
    if (!key.empty()) Key(key);
    writer_.StartObject();
  }
  void EndObject() { writer_.EndObject(); }
  void StartArray(std::string_view key) {
    Key(key);
    writer_.StartArray();
  }
  void EndArray() { writer_.EndArray(); }
  // {"system": ..., "code": ..., "display": ...}
  void Coding(std::string_view system, std::string_view code, std::string_view display) {
    StartObject();
    Member("system", system);
    Member("code", code);
    Member("display", display);
    EndObject();
  }
  std::string Take() { return std::string(buffer_.GetString(), buffer_.GetSize()); }

 private:
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

const char* TaskStatus(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_RECEIVED:
      return "received";
    case v1::PROGRESS_DECLINED:
      return "cancelled";
    case v1::PROGRESS_CLOSED:
      return "completed";
    default:
      return "in-progress";
  }
}

// The national social prescribing code for the event, if one applies: code and display.
std::pair<const char*, const char*> SnomedFor(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_FIRST_CONVERSATION_HELD:
    case v1::PROGRESS_CONNECTED:
      return {kSocialPrescribingReferralCode, "Referral to social prescribing service"};
    case v1::PROGRESS_DECLINED:
      return {kSocialPrescribingDeclinedCode, "Social prescribing declined"};
    default:
      return {nullptr, nullptr};
  }
}

std::string Score(double v) {
  // Whole scores print without a fraction; SWEMWBS metric scores keep two decimals.
  if (v == static_cast<double>(static_cast<long long>(v))) return absl::StrCat(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

const Hl7Delimiters kDelimiters{};
std::string Esc(std::string_view text) { return Hl7Escape(Clean(text), kDelimiters); }

}  // namespace

std::string ProgressStatusCode(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_RECEIVED:
      return "received";
    case v1::PROGRESS_CONTACTED:
      return "contacted";
    case v1::PROGRESS_FIRST_CONVERSATION_HELD:
      return "first-conversation-held";
    case v1::PROGRESS_CONNECTED:
      return "connected";
    case v1::PROGRESS_DECLINED:
      return "declined";
    case v1::PROGRESS_UNABLE_TO_CONTACT:
      return "unable-to-contact";
    case v1::PROGRESS_CLOSED:
      return "closed";
    default:
      return "unknown";
  }
}

std::string ProgressStatusDisplay(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_RECEIVED:
      return "Received by the connector team";
    case v1::PROGRESS_CONTACTED:
      return "Contacted by a connector";
    case v1::PROGRESS_FIRST_CONVERSATION_HELD:
      return "First \"what matters to you\" conversation held";
    case v1::PROGRESS_CONNECTED:
      return "Connected to activities or services";
    case v1::PROGRESS_DECLINED:
      return "Declined by the person";
    case v1::PROGRESS_UNABLE_TO_CONTACT:
      return "Unable to contact";
    case v1::PROGRESS_CLOSED:
      return "Closed";
    default:
      return "Unknown";
  }
}

std::string OutcomeSummary(const v1::ReportProgressRequest& report) {
  std::string summary = ProgressStatusDisplay(report.status());
  if (!report.reason().empty()) absl::StrAppend(&summary, ": ", report.reason());
  summary += ".";
  if (report.connected_to_size() > 0) {
    absl::StrAppend(&summary, " Connected to: ", absl::StrJoin(report.connected_to(), ", "), ".");
  }
  for (const v1::OutcomeMeasure& m : report.outcome_measures()) {
    absl::StrAppend(&summary, " ", m.instrument(), " ", Score(m.start_score()), " at start, ", Score(m.end_score()),
                    " at end.");
  }
  return Clean(summary);
}

namespace {

// "type" and "identifier" of a reference, inside an object already started.
void IdentifierReference(Json& json, std::string_view type, std::string_view system, std::string_view value) {
  json.Member("type", type);
  json.StartObject("identifier");
  json.Member("system", system);
  json.Member("value", value);
  json.EndObject();
}

// Task.status, .statusReason and .businessStatus: the FHIR task status, the reason given, and the
// progress event coded (with its national social prescribing code where one applies).
void TaskStatusMembers(Json& json, const v1::ReportProgressRequest& report) {
  const v1::ProgressStatus status = report.status();
  json.Member("status", TaskStatus(status));
  if (!report.reason().empty()) {
    json.StartObject("statusReason");
    json.Member("text", report.reason());
    json.EndObject();
  }
  json.StartObject("businessStatus");
  json.StartArray("coding");
  json.Coding(kProgressStatusSystem, ProgressStatusCode(status), ProgressStatusDisplay(status));
  if (auto [code, display] = SnomedFor(status); code != nullptr) json.Coding(kSnomedSystem, code, display);
  json.EndArray();
  json.Member("text", ProgressStatusDisplay(status));
  json.EndObject();
}

// Task.output: the outcome summary, what the person was connected to, each outcome measure's
// start and end scores, and what matters to the person.
void TaskOutputs(Json& json, const v1::ReportProgressRequest& report) {
  json.StartArray("output");
  auto text_output = [&](std::string_view type, std::string_view value) {
    json.StartObject();
    json.StartObject("type");
    json.Member("text", type);
    json.EndObject();
    json.Member("valueString", value);
    json.EndObject();
  };
  text_output("Outcome summary", OutcomeSummary(report));
  for (const std::string& name : report.connected_to()) text_output("Connected to", name);
  for (const v1::OutcomeMeasure& m : report.outcome_measures()) {
    for (int end = 0; end < 2; ++end) {
      json.StartObject();
      json.StartObject("type");
      json.StartArray("coding");
      json.Coding(kOutcomeInstrumentSystem, m.instrument(), m.instrument());
      json.EndArray();
      json.Member("text", absl::StrCat(m.instrument(), end ? " end score" : " start score"));
      json.EndObject();
      json.Number("valueDecimal", end ? m.end_score() : m.start_score());
      json.EndObject();
    }
  }
  if (!report.what_matters().empty()) text_output("What matters to the person", report.what_matters());
  json.EndArray();
}

}  // namespace

std::string RenderFeedbackTask(const FeedbackMessageContext& context, const v1::ReportProgressRequest& report) {
  Json json;
  json.StartObject();
  json.Member("resourceType", "Task");
  json.Member("id", absl::StrCat("feedback-", context.event_id));
  json.StartArray("identifier");
  json.StartObject();
  json.Member("system", kFeedbackEventSystem);
  json.Member("value", context.event_id);
  json.EndObject();
  json.EndArray();
  json.StartArray("basedOn");
  json.StartObject();
  IdentifierReference(json, "ServiceRequest", kReferralIdSystem, context.referral_id);
  json.EndObject();
  json.EndArray();
  TaskStatusMembers(json, report);
  json.Member("intent", "order");
  json.StartObject("focus");
  IdentifierReference(json, "ServiceRequest", kReferralIdSystem, context.referral_id);
  if (!context.referrer_reference.empty()) json.Member("display", "Referral " + context.referrer_reference);
  json.EndObject();
  if (!context.nhs_number.empty()) {
    json.StartObject("for");
    IdentifierReference(json, "Patient", kNhsNumberSystem, context.nhs_number);
    json.EndObject();
  }
  json.Member("lastModified", report.occurred_at());
  if (!context.team_id.empty()) {
    json.StartObject("owner");
    IdentifierReference(json, "Organization", kConnectorTeamSystem, context.team_id);
    json.Member("display", context.team_id);
    json.EndObject();
  }
  TaskOutputs(json, report);
  json.EndObject();
  return json.Take();
}

std::string RenderFeedbackHl7v2(const FeedbackMessageContext& context, const v1::ReportProgressRequest& report) {
  const v1::ProgressStatus status = report.status();
  std::string out =
      absl::StrCat("MSH|^~\\&|", kGatewayApplication, "|", kGatewayFacility, "||", Esc(context.referrer_ods), "|",
                   Esc(context.message_time_hl7), "||RRI^I12^RRI_I12|FB", Esc(context.event_id), "|P|2.5.1\r");
  const std::string originating =
      !context.referrer_reference.empty() ? context.referrer_reference : context.referrer_message_id;
  const bool declined = status == v1::PROGRESS_DECLINED;
  absl::StrAppend(&out, "RF1|", declined ? "R^Rejected^HL70283" : "A^Accepted^HL70283", "|||||", Esc(originating), "^",
                  Esc(context.referrer_ods), "|", Esc(context.occurred_at_hl7), "||||", Esc(context.referral_id),
                  "^FRONTDOOR\r");
  absl::StrAppend(&out, "PRD|RT||||||", Esc(context.team_id), "^^FRONTDOOR\r");
  absl::StrAppend(&out, "PID|1||", context.nhs_number.empty() ? "" : Esc(context.nhs_number) + "^^^NHS^NH", "\r");
  int obx = 0;
  std::string status_value =
      absl::StrCat(Esc(ProgressStatusCode(status)), "^", Esc(ProgressStatusDisplay(status)), "^SPPROGRESS");
  if (auto [code, display] = SnomedFor(status); code != nullptr) {
    absl::StrAppend(&status_value, "~", code, "^", Esc(display), "^SCT");
  }
  absl::StrAppend(&out, "OBX|", ++obx, "|CWE|PROGRESS^Social prescribing progress^L||", status_value, "||||||F|||",
                  Esc(context.occurred_at_hl7), "\r");
  auto text_obx = [&](std::string_view id, std::string_view words, std::string_view value) {
    absl::StrAppend(&out, "OBX|", ++obx, "|ST|", std::string(id), "^", std::string(words), "^L||", Esc(value),
                    "||||||F\r");
  };
  for (const std::string& name : report.connected_to()) text_obx("CONNECTED", "Connected to", name);
  if (!report.reason().empty()) text_obx("REASON", "Reason", report.reason());
  if (!report.what_matters().empty()) text_obx("WHATMATTERS", "What matters to the person", report.what_matters());
  for (const v1::OutcomeMeasure& m : report.outcome_measures()) {
    for (int end = 0; end < 2; ++end) {
      absl::StrAppend(&out, "OBX|", ++obx, "|NM|", Esc(m.instrument()), end ? "-END^" : "-START^", Esc(m.instrument()),
                      end ? " end score" : " start score", "^L||", Score(end ? m.end_score() : m.start_score()),
                      "||||||F\r");
    }
  }
  absl::StrAppend(&out, "NTE|1||", Esc(OutcomeSummary(report)), "\r");
  return out;
}

}  // namespace frontdoor::adapters
