// Times as RFC 3339 text in UTC, the form frontdoor writes ("2026-11-22T10:14:03.123456Z"): what
// absl::FormatTime and absl::ParseTime give for these fixed formats, without interpreting a format
// string through a time zone for every audit record, log line and reply (together about 3% of the
// gateway's instructions per referral: docs/PERFORMANCE.md). Anything outside the common form (a
// year outside 1000-9999, an offset other than Z, a leap second, more than nine fraction digits)
// is handed to absl, so the answers are always absl's; tests/common/time_text_test.cc holds the
// two to one answer.
//
//   std::string text = FormatRfc3339Utc(absl::Now(), 6);   // "2026-11-22T10:14:03.123456Z"
//   absl::Time t;
//   if (!ParseRfc3339(text, &t)) { ... }
//
// Pure; thread-safe.
#ifndef FRONTDOOR_COMMON_TIME_TEXT_H_
#define FRONTDOOR_COMMON_TIME_TEXT_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace frontdoor {

// absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, UTC) for fraction_digits 0, "%E3S" for 3 and "%E6S"
// for 6 (digits truncated, not rounded). Other fraction_digits are taken as 6.
std::string FormatRfc3339Utc(absl::Time t, int fraction_digits);

// absl::ParseTime(absl::RFC3339_full, text, out, &error): true and `*out` set when `text` is an
// RFC 3339 date-time with an offset.
bool ParseRfc3339(std::string_view text, absl::Time* out);

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_TIME_TEXT_H_
