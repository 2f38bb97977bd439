// Feedback in the referrer's own format: a connector's progress report on a referral, rendered for
// the system that sent the referral (FeedbackEvent.fhir_task_json / .hl7v2). The typed form needs
// no rendering; these are for FHIR and HL7 v2 referrers, who file them as they are.
//
//   FeedbackMessageContext ctx{.event_id = "42", .referral_id = id, ...};
//   std::string task = RenderFeedbackTask(ctx, report);            // FHIR R4 Task, JSON
//   std::string rri = RenderFeedbackHl7v2(ctx, report);             // HL7 v2.5.1 RRI^I12, ER7
//
// FHIR R4 Task (one per event; Task is how FHIR, and BaRS, tell a requester how its request is
// being acted on):
//  - id `feedback-<event_id>`; identifier = event_id in https://frontdoor.example.org/Id/feedback-event;
//  - focus and basedOn: the ServiceRequest, by the gateway's referral id
//    (https://frontdoor.example.org/Id/referral-id, as in the acceptance Task of the submit reply);
//  - for: the patient by NHS number (https://fhir.nhs.uk/Id/nhs-number), for filing;
//  - status: RECEIVED -> received; CONTACTED, FIRST_CONVERSATION_HELD, CONNECTED,
//    UNABLE_TO_CONTACT -> in-progress; DECLINED -> cancelled; CLOSED -> completed;
//  - businessStatus: the progress status in https://frontdoor.example.org/CodeSystem/progress-status
//    (received, contacted, first-conversation-held, connected, declined, unable-to-contact, closed)
//    and, from the national social prescribing codes (network/reason_codes.csv, procedure group),
//    SNOMED CT 871731000000106 "Referral to social prescribing service" when the person takes the
//    referral up (FIRST_CONVERSATION_HELD, CONNECTED) and 871711000000103 "Social prescribing
//    declined" when DECLINED; statusReason.text = the reason (DECLINED, CLOSED);
//  - intent `order`; lastModified = occurred_at; owner = the connector team;
//  - output: "Outcome summary" (valueString, always: the status in words, the reason, what the
//    person was connected to, each measure start -> end), one "Connected to" per activity or
//    service, each outcome measure's start and end score (valueDecimal, type coded in
//    https://frontdoor.example.org/CodeSystem/outcome-instrument), and "What matters to the person".
//
// HL7 v2.5.1 RRI^I12 ("return referral information", the conventional answer to a REF^I12 and
// the message HL7 defines for a referral's status going back to the referrer):
//   MSH  FRONTDOOR|SPFRONTDOOR -> the referrer (MSH-6 its ODS code); MSH-9 RRI^I12^RRI_I12;
//        MSH-10 `FB<event_id>` (the same on every rendering, so a resend is recognisable)
//   RF1  RF1-1 referral status (HL7 table 0283: R rejected for DECLINED, A accepted otherwise);
//        RF1-6 the referrer's own reference (RF1-6 of its REF^I12, else its MSH-10); RF1-7 when it
//        happened; RF1-11 the gateway's referral id ^FRONTDOOR
//   PRD  PRD-1 RT (referred-to provider), PRD-7 the connector team ^^FRONTDOOR
//   PID  PID-3 the NHS number ^^^NHS^NH
//   OBX  1: the progress status, CWE, in the local table SPPROGRESS with the SNOMED CT code
//        above as a second repetition; then ST "CONNECTED" per activity, ST "REASON", ST
//        "WHATMATTERS", NM "<INSTRUMENT>-START" / "<INSTRUMENT>-END" per measure; all OBX-11 F
//   NTE  the outcome summary
//
// Pure, thread-safe, never fail; invalid UTF-8 becomes U+FFFD; HL7 text is escaped.
#ifndef FRONTDOOR_ADAPTERS_FEEDBACK_MESSAGES_H_
#define FRONTDOOR_ADAPTERS_FEEDBACK_MESSAGES_H_

#include <string>

#include "adapters/referral_validation.h"  // kSnomedSystem
#include "frontdoor/v1/feedback_service.pb.h"

namespace frontdoor::adapters {

inline constexpr char kFeedbackEventSystem[] = "https://frontdoor.example.org/Id/feedback-event";
inline constexpr char kProgressStatusSystem[] = "https://frontdoor.example.org/CodeSystem/progress-status";
inline constexpr char kOutcomeInstrumentSystem[] = "https://frontdoor.example.org/CodeSystem/outcome-instrument";
inline constexpr char kSocialPrescribingReferralCode[] = "871731000000106";
inline constexpr char kSocialPrescribingDeclinedCode[] = "871711000000103";

// What a rendering needs besides the report itself.
struct FeedbackMessageContext {
  std::string event_id;             // the gateway's id for the event (its sequence number)
  std::string referral_id;          // the gateway's referral id
  std::string referrer_ods;         // the referring organisation
  std::string referrer_reference;   // the referrer's own reference for the referral (may be empty)
  std::string referrer_message_id;  // the referrer's message id (Bundle.id, MSH-10)
  std::string nhs_number;           // may be empty
  std::string team_id;              // the connector team
  std::string occurred_at_hl7;      // the report's occurred_at as an HL7 DTM (20250210093000+0000)
  std::string message_time_hl7;     // when the message is rendered, HL7 DTM
};

// The progress status's code and words in kProgressStatusSystem ("connected", "Connected to ...").
std::string ProgressStatusCode(frontdoor::v1::ProgressStatus status);
std::string ProgressStatusDisplay(frontdoor::v1::ProgressStatus status);

// One line for a person: the status in words, the reason, connections and measures.
std::string OutcomeSummary(const frontdoor::v1::ReportProgressRequest& report);

std::string RenderFeedbackTask(const FeedbackMessageContext& context,
                               const frontdoor::v1::ReportProgressRequest& report);
std::string RenderFeedbackHl7v2(const FeedbackMessageContext& context,
                                const frontdoor::v1::ReportProgressRequest& report);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_FEEDBACK_MESSAGES_H_
