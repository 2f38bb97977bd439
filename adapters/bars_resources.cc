#include "adapters/bars_resources.h"

#include "absl/strings/str_cat.h"
#include "adapters/feedback_messages.h"
#include "adapters/fhir_json_out.h"
#include "adapters/sender_replies.h"

namespace frontdoor::adapters {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr char kBarsEventSystem[] = "https://fhir.nhs.uk/CodeSystem/message-events-bars";
constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";
constexpr char kGatewayName[] = "frontdoor: Oldham and Tameside Social Prescribing Front Door";

void Coding(JsonOut& json, std::string_view system, std::string_view code, std::string_view display = "") {
  json.StartObject();
  json.Member("system", system);
  json.Member("code", code);
  json.Member("display", display);
  json.EndObject();
}

void Identifier(JsonOut& json, std::string_view system, std::string_view value) {
  json.StartObject();
  json.Member("system", system);
  json.Member("value", value);
  json.EndObject();
}

// rest[0].resource[] entry: a type with its interactions and search parameters.
void RestResource(JsonOut& json, std::string_view type, std::initializer_list<const char*> interactions,
                  std::initializer_list<std::pair<const char*, const char*>> params) {
  json.StartObject();
  json.Member("type", type);
  json.Key("interaction");
  json.StartArray();
  for (const char* code : interactions) {
    json.StartObject();
    json.Member("code", code);
    json.EndObject();
  }
  json.EndArray();
  if (params.size() > 0) {
    json.Key("searchParam");
    json.StartArray();
    for (const auto& [name, param_type] : params) {
      json.StartObject();
      json.Member("name", name);
      json.Member("type", param_type);
      json.EndObject();
    }
    json.EndArray();
  }
  json.EndObject();
}

void SupportedMessage(JsonOut& json, std::string_view mode, std::string_view definition) {
  json.StartObject();
  json.Member("mode", mode);
  json.Member("definition", definition);
  json.EndObject();
}

// One MessageDefinition.focus: a resource type and how many of it a message holds.
void Focus(JsonOut& json, std::string_view type, int min, std::string_view max) {
  json.StartObject();
  json.Member("code", type);
  json.Key("min");
  json.Int(min);
  json.Member("max", max);
  json.EndObject();
}

std::string ServiceRequestStatus(const v1::GetReferralResponse& referral) {
  if (!referral.cancelled_at().empty()) return "revoked";
  if (referral.decision().disposition() != v1::ACCEPTED) return "revoked";
  if (referral.status() == v1::PROGRESS_CLOSED || referral.status() == v1::PROGRESS_DECLINED) return "completed";
  return "active";
}

std::string DecisionInWords(const v1::GetReferralResponse& referral) {
  const v1::SubmitReferralResponse& decision = referral.decision();
  std::string words = absl::StrCat(v1::Disposition_Name(decision.disposition()), " on ", referral.received_at());
  for (const v1::Issue& issue : decision.issues()) {
    if (issue.severity() == v1::Issue::ERROR) absl::StrAppend(&words, "; ", issue.code());
  }
  absl::StrAppend(&words, ". Delivery: ", v1::DeliveryState_Name(referral.delivery_state()));
  if (!referral.delivered_at().empty()) absl::StrAppend(&words, " at ", referral.delivered_at());
  if (!referral.cancelled_at().empty()) {
    absl::StrAppend(&words, ". Withdrawn at ", referral.cancelled_at(), " (",
                    v1::CancelReason_Name(referral.cancel_reason()), ")");
  }
  if (referral.status() != v1::PROGRESS_STATUS_UNSPECIFIED) {
    absl::StrAppend(&words, ". Progress: ", ProgressStatusDisplay(referral.status()));
  }
  return words + ".";
}

// rest[0]: the server's security (client certificates), the resources it reads and searches, and
// $process-message.
void WriteServerRest(JsonOut& json) {
  json.Key("rest");
  json.StartArray();
  json.StartObject();
  json.Member("mode", "server");
  json.Key("security");
  json.StartObject();
  json.Key("service");
  json.StartArray();
  json.StartObject();
  json.Key("coding");
  json.StartArray();
  Coding(json, "http://terminology.hl7.org/CodeSystem/restful-security-service", "Certificates");
  json.EndArray();
  json.EndObject();
  json.EndArray();
  json.Member("description",
              "Mutual TLS: the client certificate's Subject CN is the caller's ODS code. Only the referring "
              "organisation may read its referrals.");
  json.EndObject();
  json.Key("resource");
  json.StartArray();
  RestResource(json, "CapabilityStatement", {"read"}, {});
  RestResource(json, "MessageDefinition", {"search-type"}, {});
  RestResource(json, "ServiceRequest", {"read"}, {});
  RestResource(json, "Task", {"search-type"}, {{"focus", "reference"}});
  json.EndArray();
  json.Key("operation");
  json.StartArray();
  json.StartObject();
  json.Member("name", "process-message");
  json.Member("definition", "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message");
  json.EndObject();
  json.EndArray();
  json.EndObject();
  json.EndArray();
}

// messaging[0]: what it takes (referrals and their withdrawal) and what it sends (feedback).
void WriteMessaging(JsonOut& json) {
  json.Key("messaging");
  json.StartArray();
  json.StartObject();
  json.Key("supportedMessage");
  json.StartArray();
  SupportedMessage(json, "receiver", kReferralMessageDefinition);
  SupportedMessage(json, "receiver",
                   "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral");
  SupportedMessage(json, "receiver",
                   "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled");
  SupportedMessage(json, "sender",
                   "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral");
  json.EndArray();
  json.EndObject();
  json.EndArray();
}

}  // namespace

std::string RenderCapabilityStatement(std::string_view software_version, std::string_view date) {
  JsonOut json;
  json.StartObject();
  json.Member("resourceType", "CapabilityStatement");
  json.Member("id", "frontdoor");
  json.Member("name", "FrontdoorBaRSReceiver");
  json.Member("title", kGatewayName);
  json.Member("status", "active");
  json.Member("date", date);
  json.Member("description",
              "The social prescribing front door's BaRS API: referrals are POSTed to $process-message as "
              "servicerequest-request messages (a ServiceRequest re-sent as revoked withdraws one); feedback on a "
              "referral is sent to the referrer's own $process-message as servicerequest-response messages, and "
              "can be read as Tasks.");
  json.Member("kind", "instance");
  json.Key("software");
  json.StartObject();
  json.Member("name", "frontdoor-gateway");
  json.Member("version", software_version);
  json.EndObject();
  json.Key("implementation");
  json.StartObject();
  json.Member("description", kGatewayName);
  json.EndObject();
  json.Member("fhirVersion", "4.0.1");
  json.Key("format");
  json.StartArray();
  json.String("application/fhir+json");
  json.EndArray();
  WriteServerRest(json);
  WriteMessaging(json);
  json.EndObject();
  return json.Take();
}

std::string RenderMessageDefinitionBundle(std::string_view date) {
  JsonOut json;
  json.StartObject();
  json.Member("resourceType", "Bundle");
  json.Member("type", "searchset");
  json.Key("total");
  json.Int(1);
  json.Key("entry");
  json.StartArray();
  json.StartObject();
  json.Member("fullUrl", kReferralMessageDefinition);
  json.Key("resource");
  json.StartObject();
  json.Member("resourceType", "MessageDefinition");
  json.Member("id", "servicerequest-request");
  json.Member("url", kReferralMessageDefinition);
  json.Member("name", "SocialPrescribingReferral");
  json.Member("title", "A referral to the social prescribing front door");
  json.Member("status", "active");
  json.Member("date", date);
  json.Member("description",
              "A BaRS servicerequest-request message Bundle (type message, Bundle.id the message id) whose "
              "MessageHeader (entry[0], sender an Organization with an ODS code) focuses a ServiceRequest (status "
              "active, intent plan, authoredOn the referral date, reasonCode SNOMED CT) about a Patient (exactly one "
              "NHS number, birthDate; home postcode and registered practice route it). Consent entries carry the "
              "person's consent to share (IG-1, IG-2); a Flag with category SG marks safeguarding (IG-5). At most "
              "1 MiB. Re-sent with ServiceRequest.status revoked or entered-in-error (and the referral id as "
              "ServiceRequest.id, or as an identifier in https://frontdoor.example.org/Id/referral-id), it "
              "withdraws the referral.");
  json.Member("base", "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral");
  json.Key("eventCoding");
  json.StartObject();
  json.Member("system", kBarsEventSystem);
  json.Member("code", "servicerequest-request");
  json.EndObject();
  json.Member("category", "consequence");
  json.Key("focus");
  json.StartArray();
  Focus(json, "MessageHeader", 1, "1");
  Focus(json, "ServiceRequest", 1, "1");
  Focus(json, "Patient", 1, "1");
  Focus(json, "Consent", 0, "*");
  Focus(json, "Flag", 0, "*");
  Focus(json, "PractitionerRole", 0, "1");
  Focus(json, "Practitioner", 0, "1");
  Focus(json, "Organization", 1, "*");
  json.EndArray();
  json.Member("responseRequired", "always");
  json.EndObject();
  json.Key("search");
  json.StartObject();
  json.Member("mode", "match");
  json.EndObject();
  json.EndObject();
  json.EndArray();
  json.EndObject();
  return json.Take();
}

std::string RenderReferralServiceRequest(const v1::GetReferralResponse& referral) {
  const v1::SubmitReferralResponse& decision = referral.decision();
  JsonOut json;
  json.StartObject();
  json.Member("resourceType", "ServiceRequest");
  json.Member("id", referral.referral_id());
  json.Key("identifier");
  json.StartArray();
  Identifier(json, kReferralIdSystem, referral.referral_id());
  Identifier(json, kMessageIdSystem, referral.message_id());
  json.EndArray();
  json.Member("status", ServiceRequestStatus(referral));
  json.Member("intent", "plan");
  json.Key("code");
  json.StartObject();
  json.Key("coding");
  json.StartArray();
  Coding(json, kSnomedSystem, kSocialPrescribingReferralCode, "Referral to social prescribing service");
  json.EndArray();
  json.EndObject();
  json.Key("subject");
  json.StartObject();
  json.Member("display", "The person referred (in the referrer's own record)");
  json.EndObject();
  json.Key("requester");
  json.StartObject();
  json.Member("type", "Organization");
  json.Key("identifier");
  Identifier(json, kOdsSystem, referral.sender_ods());
  json.EndObject();
  if (!decision.connector_id().empty()) {
    json.Key("performer");
    json.StartArray();
    json.StartObject();
    json.Member("type", "Organization");
    json.Key("identifier");
    Identifier(json, kConnectorTeamSystem, decision.connector_id());
    json.Member("display", decision.connector_id());
    json.EndObject();
    json.EndArray();
  }
  json.Key("note");
  json.StartArray();
  json.StartObject();
  json.Member("text", DecisionInWords(referral));
  json.EndObject();
  json.EndArray();
  json.EndObject();
  return json.Take();
}

std::string RenderTaskSearchBundle(const std::vector<std::string>& tasks, std::string_view bundle_id) {
  JsonOut json;
  json.StartObject();
  json.Member("resourceType", "Bundle");
  json.Member("id", bundle_id);
  json.Member("type", "searchset");
  json.Key("total");
  json.Int(static_cast<int64_t>(tasks.size()));
  if (!tasks.empty()) {
    json.Key("entry");
    json.StartArray();
    for (const std::string& task : tasks) {
      json.StartObject();
      json.Key("resource");
      json.RawObject(task);
      json.Key("search");
      json.StartObject();
      json.Member("mode", "match");
      json.EndObject();
      json.EndObject();
    }
    json.EndArray();
  }
  json.EndObject();
  return json.Take();
}

}  // namespace frontdoor::adapters
