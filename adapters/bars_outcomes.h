// The BaRS receiver's answers over HTTP (NHS Booking and Referral Standard; the API specification
// NHSDigital/booking-and-referral-fhir-api): which HTTP status a submission's answer takes, and
// the OperationOutcome every error body is. Each issue's details.coding carries the BaRS code
// (kBarsErrorSystem, REC_ prefixed: the receiver's codes) and then frontdoor's own issue code
// (kIssueCodeSystem), so a BaRS system reads the first and a person or a frontdoor-aware system
// the second, with the same FHIRPath `expression` the gRPC reply carries.
//
//   BarsAnswer answer = BarsSubmissionAnswer(response, outcome_id);   // 200 / 400 / 409 / 422
//   std::string body = RenderBarsError({401, "REC_UNAUTHORIZED", "login", "no client certificate"}, id);
//
// A submission's answer, by disposition:
//   ACCEPTED (and a withdrawal made)  200, the FHIR response message Bundle (response.fhir_json)
//   REJECTED                          400 REC_BAD_REQUEST, one issue per finding
//   REFUSED                           422 REC_UNPROCESSABLE_ENTITY, one issue per rule (IG-1 ...)
//   a resend (duplicate)              409 REC_CONFLICT, issue code `duplicate`: "already processed",
//                                     with the first answer's disposition (kDispositionSystem) and
//                                     referral id in the first issue, the first answer's findings
//                                     after it
//
// Pure and thread-safe; invalid UTF-8 in what is quoted becomes U+FFFD.
#ifndef FRONTDOOR_ADAPTERS_BARS_OUTCOMES_H_
#define FRONTDOOR_ADAPTERS_BARS_OUTCOMES_H_

#include <string>
#include <string_view>

#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::adapters {

// As every example of the BaRS specification spells it (lower-case "s" in Codesystem).
inline constexpr char kBarsErrorSystem[] = "https://fhir.nhs.uk/Codesystem/http-error-codes";
inline constexpr char kDispositionSystem[] = "https://frontdoor.example.org/CodeSystem/disposition";

// One error as BaRS codes it: the HTTP status, the REC_ code, the FHIR issue type, and words.
struct BarsError {
  int http_status = 500;
  std::string bars_code;    // REC_BAD_REQUEST, REC_FORBIDDEN, ...
  std::string issue_type;   // invalid, required, forbidden, not-found, throttled, transient, ...
  std::string diagnostics;  // what went wrong and what to do, without patient data
};

// An OperationOutcome with the one issue `error` describes.
std::string RenderBarsError(const BarsError& error, std::string_view outcome_id);

struct BarsAnswer {
  int http_status = 200;
  std::string body;  // application/fhir+json
};

// The answer to a submission the intake answered (see above). `response.fhir_json` must be set
// (the sender-format reply) for ACCEPTED.
BarsAnswer BarsSubmissionAnswer(const frontdoor::v1::SubmitReferralResponse& response, std::string_view outcome_id);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_BARS_OUTCOMES_H_
