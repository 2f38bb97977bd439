#include "adapters/bars_feedback_message.h"

#include "absl/strings/str_cat.h"
#include "adapters/fhir_ids.h"
#include "adapters/fhir_json_out.h"

namespace frontdoor::adapters {

namespace {

constexpr char kBarsEventSystem[] = "https://fhir.nhs.uk/CodeSystem/message-events-bars";
constexpr char kBarsReasonSystem[] = "https://fhir.nhs.uk/CodeSystem/message-reason-bars";
constexpr char kResponseDefinition[] =
    "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral";
constexpr char kGatewayName[] = "Oldham and Tameside Social Prescribing Front Door";
constexpr char kGatewayEndpoint[] = "https://frontdoor.example.org/fhir/$process-message";

}  // namespace

std::string BarsFeedbackMessageId(std::string_view event_id) {
  return DerivedUuid(absl::StrCat("frontdoor-feedback-message-", std::string(event_id)), 0);
}

std::string RenderBarsFeedbackMessage(const FeedbackMessageContext& context,
                                      const frontdoor::v1::ReportProgressRequest& report,
                                      std::string_view destination_endpoint, std::string_view timestamp_rfc3339) {
  const std::string message_id = BarsFeedbackMessageId(context.event_id);
  const std::string header_id = DerivedUuid(message_id, 1);
  const std::string task_url = absl::StrCat("urn:uuid:", DerivedUuid(message_id, 2));

  JsonOut json;
  json.StartObject();
  json.Member("resourceType", "Bundle");
  json.Member("id", message_id);
  json.Member("type", "message");
  json.Member("timestamp", timestamp_rfc3339);
  json.Key("entry");
  json.StartArray();

  json.StartObject();
  json.Member("fullUrl", absl::StrCat("urn:uuid:", header_id));
  json.Key("resource");
  json.StartObject();
  json.Member("resourceType", "MessageHeader");
  json.Member("id", header_id);
  json.Key("eventCoding");
  json.StartObject();
  json.Member("system", kBarsEventSystem);
  json.Member("code", "servicerequest-response");
  json.EndObject();
  json.Key("destination");
  json.StartArray();
  json.StartObject();
  json.Member("endpoint", destination_endpoint);
  json.EndObject();
  json.EndArray();
  json.Key("source");
  json.StartObject();
  json.Member("name", kGatewayName);
  json.Member("endpoint", kGatewayEndpoint);
  json.EndObject();
  json.Key("reason");
  json.StartObject();
  json.Key("coding");
  json.StartArray();
  json.StartObject();
  json.Member("system", kBarsReasonSystem);
  json.Member("code", "new");
  json.EndObject();
  json.EndArray();
  json.EndObject();
  if (IsFhirId(context.referrer_message_id)) {
    json.Key("response");
    json.StartObject();
    json.Member("identifier", context.referrer_message_id);
    json.Member("code", "ok");
    json.EndObject();
  }
  json.Key("focus");
  json.StartArray();
  json.StartObject();
  json.Member("reference", task_url);
  json.EndObject();
  json.EndArray();
  json.Member("definition", kResponseDefinition);
  json.EndObject();
  json.EndObject();

  json.StartObject();
  json.Member("fullUrl", task_url);
  json.Key("resource");
  json.RawObject(RenderFeedbackTask(context, report));
  json.EndObject();

  json.EndArray();
  json.EndObject();
  return json.Take();
}

}  // namespace frontdoor::adapters
