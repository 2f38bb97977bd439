// What makes a resend a resend: the fingerprint of a message's content, as the gateway reads it.
// The same sender using the same message id again is a resend only when the fingerprints agree;
// otherwise the id was reused for a different message, which is refused (MESSAGE_ID_REUSED) rather
// than answered with another referral's decision.
//
//   std::string fingerprint = MessageFingerprint(parsed.referral);   // "v1:<64 hex digits>"
//
// What is compared: the canonical Referral the adapter produced (every datum the gateway reads:
// the person, reasons, texts, consents, requester, clinical content, the message id and sender),
// serialized deterministically and hashed with SHA-256. So whatever the transport or the format
// lets differ without changing what the gateway reads does not count: JSON whitespace and key
// order, the segment terminator (CR, LF, CR LF), HL7 escapes that decode to the same text, and
// elements the adapters do not read (Bundle.timestamp, meta, MSH-7). A message that changes
// anything the gateway reads, even a consent date or a note, is a different message.
//
// The "v1:" prefix names this recipe; a stored fingerprint of another version (or none, for rows
// recorded before fingerprints existed) cannot be compared and is taken as a resend. Pure;
// thread-safe.
#ifndef FRONTDOOR_GATEWAY_STORE_MESSAGE_FINGERPRINT_H_
#define FRONTDOOR_GATEWAY_STORE_MESSAGE_FINGERPRINT_H_

#include <string>
#include <string_view>

#include "frontdoor/v1/referral.pb.h"

namespace frontdoor::gateway {

std::string MessageFingerprint(const frontdoor::v1::Referral& referral);

// True when a message with fingerprint `incoming` under a used (sender, message id) is a resend of
// the one recorded with `stored`: they agree, or either cannot be compared (empty, or of another
// recipe version).
bool IsResendOf(std::string_view stored, std::string_view incoming);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_MESSAGE_FINGERPRINT_H_
