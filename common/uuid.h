#ifndef FRONTDOOR_COMMON_UUID_H_
#define FRONTDOOR_COMMON_UUID_H_

#include <string>

namespace frontdoor {

// The canonical text of a UUID's 16 bytes: 8-4-4-4-12 lower-case hex digits (RFC 9562).
std::string FormatUuid(const unsigned char (&bytes)[16]);

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_UUID_H_
