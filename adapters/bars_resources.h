// The FHIR resources the BaRS door serves for reading (GET), beside $process-message:
//
//  - the CapabilityStatement (GET metadata): a FHIR R4 (4.0.1) server that takes messages
//    (`$process-message`: servicerequest-request, new referrals and their withdrawal) and sends
//    them (servicerequest-response: feedback on a referral, to a referrer that configured its
//    own $process-message), reads ServiceRequest by id, searches Task by focus, searches
//    MessageDefinition; JSON only;
//  - the MessageDefinition of what a servicerequest-request must hold (GET MessageDefinition): a
//    searchset Bundle holding one MessageDefinition, its `focus` listing the resources and how
//    many of each (PROFILE.md, the inbound message profile);
//  - a referral as a ServiceRequest (GET ServiceRequest/{referral id}): id = the referral id;
//    identifier = the referral id (kReferralIdSystem) and the sender's message id; status
//    `active` (accepted, in hand), `completed` (the connector closed it), `revoked` (withdrawn,
//    or refused by a rule: nothing was sent); intent `plan`; code SNOMED CT 871731000000106;
//    requester = the referring organisation (ODS); performer = the connector team; subject =
//    display text only (the referrer has the person's record; a read repeats no patient data);
//    note = the decision and the delivery in words;
//  - a referral's feedback as Tasks (GET Task?focus=ServiceRequest/{id}): a searchset Bundle of
//    the Tasks WatchFeedback carries (adapters/feedback_messages.h), oldest first.
//
// Pure and thread-safe.
#ifndef FRONTDOOR_ADAPTERS_BARS_RESOURCES_H_
#define FRONTDOOR_ADAPTERS_BARS_RESOURCES_H_

#include <string>
#include <string_view>
#include <vector>

#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::adapters {

inline constexpr char kReferralMessageDefinition[] =
    "https://frontdoor.example.org/MessageDefinition/servicerequest-request";
inline constexpr char kMessageIdSystem[] = "https://frontdoor.example.org/Id/referrer-message-id";

// `software_version` is the gateway's version; `date` an RFC 3339 date for the resources' `date`.
std::string RenderCapabilityStatement(std::string_view software_version, std::string_view date);
std::string RenderMessageDefinitionBundle(std::string_view date);
std::string RenderReferralServiceRequest(const frontdoor::v1::GetReferralResponse& referral);
// `tasks`: each a FHIR Task as JSON (FeedbackEvent.fhir_task_json), oldest first.
std::string RenderTaskSearchBundle(const std::vector<std::string>& tasks, std::string_view bundle_id);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_BARS_RESOURCES_H_
