// The HL7 v2 inbound adapter: reads a ward system's REF^I12 (ER7, the `hl7v2` payload of
// SubmitReferral) into the canonical frontdoor.v1.Referral, following the HL7 table of
// shared/samples/PROFILE.md (tests/data/samples/PROFILE.md) field by field.
//
//   ParsedReferral parsed = ParseHl7v2Referral(request.hl7v2(), Hl7Limits{});
//   if (HasErrors(parsed.issues)) { /* REJECTED: the ACK answers parsed.reply.control_id */ }
//   std::vector<Issue> more = ValidateReferral(parsed.referral, parsed.paths, today);
//
// What it reports (each an ERROR issue; messages never contain patient data):
//  - MALFORMED: anything Hl7Message::Parse refuses (not UTF-8, NUL bytes, no MSH first, bad MSH-1 or
//    MSH-2, a limit of `limits` exceeded). The reply context is still read from the MSH line when
//    that line alone is readable, so the ACK can name the request's MSH-10.
//  - UNSUPPORTED_MESSAGE: MSH-9 is not REF^I12.
//  - MISSING_ELEMENT: no MSH-10, MSH-4, RF1-7, PID, NHS number (a PID-3 repetition with CX-5 = NH),
//    PID-7.
//  - INVALID_VALUE: two NHS numbers in PID-3, a date shorter than YYYYMMDD (RF1-7, PID-7, CON-13,
//    CON-14, CON-15), a CON-11 this profile does not read (only A, R, X, P, B).
// As with the FHIR adapter, NHS Modulus 11, SNOMED CT, ODS shapes and future dates are left to
// ValidateReferral, which receives `paths`: HL7 positions such as `PID-3`, `PID-7`, `RF1-7`,
// `PID-11.5`, `PRD[3]-4.4`, `DG1[2]-3.1`, `CON[1]-13` (a bracket counts that segment's
// occurrences from 1; `[r]` after a field number is its repetition).
//
// Mapping notes: CON-11 A is an active permit, R an active deny (an objection), X inactive, P draft,
// B proposed. A ward referral is never a self-referral. DG1 with DG1-3.3 = SCT are reasons (system
// http://snomed.info/sct); other DG1, OBX, medication segments, NTE other than 1R/WMTM and any other
// segment become Referral.clinical_content (never forwarded, IG-4).
//
// Pure and thread-safe: no I/O, no globals; memory bounded by the limits.
#ifndef FRONTDOOR_ADAPTERS_HL7V2_REFERRAL_ADAPTER_H_
#define FRONTDOOR_ADAPTERS_HL7V2_REFERRAL_ADAPTER_H_

#include <string_view>

#include "adapters/hl7v2_message.h"
#include "adapters/parsed_referral.h"

namespace frontdoor::adapters {

// Never fails as a function: problems are issues in the result (see above). The result's format
// is MessageFormat::kHl7v2; `reply` holds MSH-3, -4, -5, -6 (first components), MSH-10, MSH-11
// and MSH-12 whenever the MSH could be read.
ParsedReferral ParseHl7v2Referral(std::string_view er7, const Hl7Limits& limits);

// What an acknowledgment of `er7` must echo, read from its MSH alone (empty fields when the MSH
// cannot be read): for a door that must answer a message the intake did not take (a refusal).
// reply.sending_facility is MSH-4, the sending facility.
ReplyContext Hl7v2ReplyContext(std::string_view er7, const Hl7Limits& limits);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_HL7V2_REFERRAL_ADAPTER_H_
