// ParsedReferral: what an inbound adapter (typed, FHIR R4, HL7 v2) hands the gateway: the canonical
// Referral, where each datum sat in the sender's message, the problems found while reading it, and
// what the reply in the sender's own format needs to echo back.
//
//   ParsedReferral parsed = ParseFhirReferral(json, FhirLimits{});
//   if (HasErrors(parsed.issues)) { /* REJECTED; render the reply from parsed.reply */ }
#ifndef FRONTDOOR_ADAPTERS_PARSED_REFERRAL_H_
#define FRONTDOOR_ADAPTERS_PARSED_REFERRAL_H_

#include <optional>
#include <string>
#include <vector>

#include "adapters/referral_validation.h"
#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::adapters {

enum class MessageFormat { kTyped, kFhir, kHl7v2 };

// The name stored with a referral and shown to users: "typed", "fhir", "hl7v2".
const char* MessageFormatName(MessageFormat format);

// What a reply must echo from the request. Fields not read from the request stay empty.
struct ReplyContext {
  // FHIR: the request Bundle.id (MessageHeader.response.identifier) and its MessageHeader
  // source endpoint and event, to address the response.
  std::string bundle_id;
  std::string source_endpoint;
  // HL7 v2: MSH-3 sending application, MSH-4 sending facility, MSH-5 receiving application,
  // MSH-6 receiving facility, MSH-10 control id (MSA-2), MSH-11 processing id, MSH-12 version,
  // and the encoding characters to answer with.
  std::string sending_application;
  std::string sending_facility;
  std::string receiving_application;
  std::string receiving_facility;
  std::string control_id;
  std::string processing_id;
  std::string version;
  // MSH-15, the accept acknowledgment type: AL, ER or SU ask for enhanced mode (an accept
  // acknowledgment, CA/CE/CR); empty or NE, original mode (AA/AE/AR).
  std::string accept_ack_type;
};

// A message that withdraws a referral sent before instead of making a new one (IG-7): BaRS
// re-sends the ServiceRequest with status `revoked` or `entered-in-error`.
struct WithdrawalRequest {
  // The ids the message may name the referral by, most specific first: ServiceRequest.identifier
  // values in frontdoor's referral-id system, then ServiceRequest.id (a referral read first as
  // ServiceRequest/{referral id}, as BaRS has a sender do before it cancels, carries that id).
  std::vector<std::string> referral_ids;
  frontdoor::v1::CancelReason reason = frontdoor::v1::NO_LONGER_NEEDED;
  std::string path;  // where the status sits, for findings
};

struct ParsedReferral {
  MessageFormat format = MessageFormat::kTyped;
  frontdoor::v1::Referral referral;
  ReferralSourcePaths paths;
  // Problems found while reading the message (MALFORMED, UNSUPPORTED_MESSAGE, MISSING_ELEMENT,
  // INVALID_VALUE, ...). Validation of the canonical content (ValidateReferral) is run by the
  // gateway afterwards with `paths`; adapters report only what is specific to their format.
  std::vector<frontdoor::v1::Issue> issues;
  ReplyContext reply;
  // Set when the message withdraws a referral rather than making one; `referral` then holds what
  // was read of it but is not a new referral.
  std::optional<WithdrawalRequest> withdrawal;
};

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_PARSED_REFERRAL_H_
