// The ids the gateway writes into FHIR: checking a FHIR id, and UUIDs derived from a seed, so that
// the same thing rendered again (a reply's entries, a pushed message resent) has the same ids.
//
//   if (IsFhirId(bundle_id)) ...
//   std::string id = DerivedUuid("feedback-42", 0);   // the same on every call
//
// Pure and thread-safe.
#ifndef FRONTDOOR_ADAPTERS_FHIR_IDS_H_
#define FRONTDOOR_ADAPTERS_FHIR_IDS_H_

#include <string>
#include <string_view>

namespace frontdoor::adapters {

// FHIR id: [A-Za-z0-9\-\.]{1,64}.
bool IsFhirId(std::string_view id);

// A UUID (RFC 9562 version 8, "custom") derived from `seed` and `index`: the same inputs always
// give the same UUID.
std::string DerivedUuid(std::string_view seed, int index);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_FHIR_IDS_H_
