// The ids the gateway gives: a referral's id, and the ids of the replies it writes.
//
//   std::string id = NewReferralId();   // "0193a4f2-8c1e-7d3a-9b2f-4c5d6e7f8a9b"
//
// Thread-safe.
#ifndef FRONTDOOR_GATEWAY_INTAKE_REFERRAL_IDS_H_
#define FRONTDOOR_GATEWAY_INTAKE_REFERRAL_IDS_H_

#include <string>

namespace frontdoor::gateway {

// A new referral id: a UUID version 7 (RFC 9562), the Unix time in milliseconds then 74 bits from
// OpenSSL's CSPRNG. Ids made later sort after earlier ones (to the millisecond), so the store's
// indexes keyed by referral id grow at their right-hand end instead of dirtying a random page per
// referral; the random bits keep ids unguessable.
std::string NewReferralId();

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_REFERRAL_IDS_H_
