// Validation of a canonical Referral, whatever format it arrived in: the checks that make a message
// a readable referral (shared/samples/PROFILE.md, "Validation code"). Each adapter translates its
// format into a Referral and says, in ReferralSourcePaths, where each datum sat in the sender's
// message, so every issue names the sender's own element (`Bundle.entry[2].resource.birthDate`,
// `PID-7`, `referral.person.birth_date`).
//
//   std::vector<frontdoor::v1::Issue> issues =
//       ValidateReferral(referral, TypedReferralPaths(referral), today);
//   if (HasErrors(issues)) { /* REJECTED */ }
//
// Pure: no I/O, no clock (the caller passes today's date). Thread-safe.
#ifndef FRONTDOOR_ADAPTERS_REFERRAL_VALIDATION_H_
#define FRONTDOOR_ADAPTERS_REFERRAL_VALIDATION_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/calendar_date.h"
#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::adapters {

// Validation issue codes (PROFILE.md).
inline constexpr char kMalformed[] = "MALFORMED";
inline constexpr char kUnsupportedMessage[] = "UNSUPPORTED_MESSAGE";
inline constexpr char kMissingElement[] = "MISSING_ELEMENT";
inline constexpr char kInvalidNhsNumber[] = "INVALID_NHS_NUMBER";
inline constexpr char kInvalidValue[] = "INVALID_VALUE";
// Not the adapters' finding but the intake's: the sender used this message id before for a
// different message (gateway/message_fingerprint.h).
inline constexpr char kMessageIdReused[] = "MESSAGE_ID_REUSED";
// The intake's, as information: the message withdrew a referral sent before (a BaRS ServiceRequest
// re-sent as revoked or entered-in-error), rather than making a new one.
inline constexpr char kWithdrawn[] = "WITHDRAWN";

inline constexpr char kSnomedSystem[] = "http://snomed.info/sct";

// Where each validated datum of a Referral sat in the sender's message. An empty path means the
// element was absent; the adapter then names where it was expected.
struct ReferralSourcePaths {
  std::string message_id;
  std::string sender_ods;
  std::string referral_date;
  std::string nhs_number;
  std::string birth_date;
  std::string postcode;
  std::string registered_practice_ods;
  std::vector<std::string> reasons;         // One per Referral.reasons entry.
  std::vector<std::string> consent_dates;   // One per Referral.consents entry (its date).
  std::vector<std::string> consent_starts;  // One per consent: period start.
  std::vector<std::string> consent_ends;    // One per consent: period end.
};

// The paths of a typed referral: its proto field paths, `referral.person.nhs_number`,
// `referral.reasons[2].code`, ...
ReferralSourcePaths TypedReferralPaths(const frontdoor::v1::Referral& referral);

// Checks, each issue with ERROR severity and the path from `paths`:
//  - MISSING_ELEMENT: message id, sender ODS, referral date, NHS number, birth date absent.
//  - INVALID_NHS_NUMBER: not 10 digits or failing Modulus 11.
//  - INVALID_VALUE: ODS codes not ODS-shaped (sender, practice); dates not YYYY-MM-DD real days
//    (referral date, birth date, consent dates and periods); a referral date or birth date after
//    `today`; a birth date after the referral date (a consent dated after the referral date is
//    readable: it is not in force, which is the IG decision's to answer); SNOMED CT reason codes not well-formed
//    concept ids (digits, 6..18 long, no leading zero, concept partition, Verhoeff check digit). Codings in other
//    systems are not checked.
//  - INVALID_VALUE: a message id that is not 1..64 of [A-Za-z0-9.-_].
// Returns every issue found (empty when valid).
std::vector<frontdoor::v1::Issue> ValidateReferral(const frontdoor::v1::Referral& referral,
                                                   const ReferralSourcePaths& paths, const CalendarDate& today);

// True when any issue has ERROR severity.
bool HasErrors(const std::vector<frontdoor::v1::Issue>& issues);

// NHS number: exactly 10 ASCII digits, Modulus 11 check (weights 10..2; remainder 11 -> 0; 10 -> invalid).
bool IsValidNhsNumber(std::string_view nhs_number);
// ODS organisation code shape: 3 to 6 upper-case letters and digits (P85901, R9T01, 8AT01, RXX).
bool IsWellFormedOdsCode(std::string_view ods_code);
// SNOMED CT concept id: 6..18 digits, no leading zero, partition "00" or "10", Verhoeff check digit.
bool IsWellFormedSnomedConceptId(std::string_view sctid);
// Verhoeff check over the whole digit string (the last digit is the check digit).
bool VerhoeffCheck(std::string_view digits);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_REFERRAL_VALIDATION_H_
