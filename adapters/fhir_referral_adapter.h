// The FHIR R4 inbound adapter: reads a BaRS-shaped `servicerequest-request` message Bundle (JSON,
// the `fhir_json` payload of SubmitReferral) into the canonical frontdoor.v1.Referral, following
// shared/samples/PROFILE.md (tests/data/samples/PROFILE.md) element by element.
//
//   ParsedReferral parsed = ParseFhirReferral(request.fhir_json(), FhirLimits{});
//   if (HasErrors(parsed.issues)) { /* REJECTED: reply with parsed.reply.bundle_id */ }
//   std::vector<Issue> more = ValidateReferral(parsed.referral, parsed.paths, today);
//
// What it reports (each an ERROR issue; messages never contain patient data):
//  - MALFORMED: empty, over `max_bytes`, a NUL byte, not UTF-8, not JSON (trailing content too),
//    duplicate keys in any object, nesting deeper than `max_depth`, a number a double cannot hold
//    (1e999), a JSON root that is not an object. Nothing else is read then.
//  - UNSUPPORTED_MESSAGE: resourceType not Bundle, Bundle.type not message, an event other than
//    BaRS servicerequest-request.
//  - MISSING_ELEMENT: absent Bundle.id, MessageHeader, sender, ServiceRequest (focus), Patient
//    (subject), NHS number, birth date, referral date; references that resolve to no entry.
//  - INVALID_VALUE: a non-string where a string belongs (or a non-array/non-object where one
//    belongs), two NHS numbers, a duplicate fullUrl, a partial date (referral date, birth date,
//    consent dates).
// It does not check NHS number Modulus 11, SNOMED CT check digits, ODS shapes or dates in the
// future: ValidateReferral does that with `paths`, which name each datum's element as a FHIRPath
// (`Bundle.entry[2].resource.birthDate`) or, when absent, the element where it was expected. A
// missing or partial date is therefore reported by both; callers merging the two lists may drop
// issues with the same code and path.
//
// Everything the message carries beyond the canonical fields (MedicationStatement, Condition,
// Observation, Flag, any other resource) becomes Referral.clinical_content so IG-4 can show it
// was kept back; a Flag keeps its category (`SG` is safeguarding, IG-5).
//
// The JSON is read by simdjson when it can (a fast path) and otherwise by RapidJSON's SAX Reader,
// whose answers (error messages, byte offsets) senders get: whatever simdjson refuses, or accepts
// but the RapidJSON reader would refuse (duplicate keys, a \u0000 escape), is read again by
// RapidJSON. Both trees are mapped by the same code.
//
// Pure and thread-safe: no I/O, no shared state (each thread keeps a simdjson parser and an index
// of its document's keys for messages up to 64 KiB: at most about 2.5 MB, held for the thread's
// life). Memory is bounded by a small
// multiple of `limits.max_bytes`; nothing recurses deeper than `limits.max_depth` (or 256 levels
// when it is higher).
#ifndef FRONTDOOR_ADAPTERS_FHIR_REFERRAL_ADAPTER_H_
#define FRONTDOOR_ADAPTERS_FHIR_REFERRAL_ADAPTER_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "adapters/parsed_referral.h"

namespace frontdoor::adapters {

// Limits on untrusted JSON; PROFILE.md's hostile corpus exceeds them by far.
struct FhirLimits {
  size_t max_bytes = 1 << 20;  // The whole payload, in bytes.
  int max_depth = 64;          // Nested objects and arrays; the root object is depth 1.
};

// Never fails as a function: problems are issues in the result (see above). The result's format
// is MessageFormat::kFhir; `reply.bundle_id` is Bundle.id whenever it could be read and
// `reply.source_endpoint` is MessageHeader.source.endpoint.
ParsedReferral ParseFhirReferral(std::string_view json, const FhirLimits& limits);

// The two readers behind ParseFhirReferral (which is exactly "the first, else the second"):
//  - the fast path alone: nullopt whenever ParseFhirReferral would fall back to RapidJSON. It
//    validates the whole message as UTF-8, so the gateway's ParseText tries it on the raw bytes
//    before its own UTF-8 pass and calls the second only for what it declines (after that pass,
//    on repaired text); that is the one other place this choice is made;
//  - the RapidJSON reader alone, the reference for every answer.
// Tests and the differential fuzzer (whatever the first returns, the second returns too) use both.
std::optional<ParsedReferral> ParseFhirReferralWithSimdjson(std::string_view json, const FhirLimits& limits);
ParsedReferral ParseFhirReferralWithRapidJson(std::string_view json, const FhirLimits& limits);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_FHIR_REFERRAL_ADAPTER_H_
