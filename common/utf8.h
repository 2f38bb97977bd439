// UTF-8 checks for untrusted text: a message that is not UTF-8 is answered MALFORMED, and what the
// gateway echoes back from it (ids in replies) must be valid UTF-8 itself.
//
//   if (auto bad = FirstInvalidUtf8Offset(payload)) { ... *bad is the byte offset ... }
//   std::string safe = ToValidUtf8(payload);   // invalid sequences become U+FFFD
#ifndef FRONTDOOR_COMMON_UTF8_H_
#define FRONTDOOR_COMMON_UTF8_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace frontdoor {

// The offset of the first byte that does not begin a valid UTF-8 sequence (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or nullopt when all of `text` is valid.
std::optional<size_t> FirstInvalidUtf8Offset(std::string_view text);

// `text` with every invalid sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text);

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_UTF8_H_
