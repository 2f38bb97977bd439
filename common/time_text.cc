#include "common/time_text.h"

#include <cstdint>

#include "absl/time/civil_time.h"

namespace frontdoor {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;
const absl::CivilDay kEpochDay(1970, 1, 1);

void PutDigits(char* out, int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// The value of `n` decimal digits at `p`, or -1 when one of them is not a digit.
int64_t Digits(std::string_view text, size_t p, size_t n) {
  int64_t v = 0;
  for (size_t i = p; i < p + n; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::string FormatRfc3339Utc(absl::Time t, int fraction_digits) {
  if (fraction_digits != 0 && fraction_digits != 3) fraction_digits = 6;
  const char* format = fraction_digits == 0   ? "%Y-%m-%dT%H:%M:%SZ"
                       : fraction_digits == 3 ? "%Y-%m-%dT%H:%M:%E3SZ"
                                              : "%Y-%m-%dT%H:%M:%E6SZ";
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return absl::FormatTime(format, t, absl::UTCTimeZone());
  // Whole microseconds since the epoch, rounded down (as absl truncates sub-seconds), then days
  // and the time of day.
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t days = micros / kMicrosPerDay;
  int64_t of_day = micros % kMicrosPerDay;
  if (of_day < 0) {
    of_day += kMicrosPerDay;
    --days;
  }
  const absl::CivilDay day = kEpochDay + days;
  // absl writes years as they are ("999", "12025"): only four-digit years are written here.
  if (day.year() < 1000 || day.year() > 9999) {  // also where ToUnixMicros saturated
    return absl::FormatTime(format, t, absl::UTCTimeZone());
  }
  const int64_t seconds = of_day / 1'000'000;
  char buf[32] = "0000-00-00T00:00:00";
  PutDigits(buf, day.year(), 4);
  PutDigits(buf + 5, day.month(), 2);
  PutDigits(buf + 8, day.day(), 2);
  PutDigits(buf + 11, seconds / 3600, 2);
  PutDigits(buf + 14, seconds / 60 % 60, 2);
  PutDigits(buf + 17, seconds % 60, 2);
  size_t n = 19;
  if (fraction_digits > 0) {
    buf[n++] = '.';
    const int64_t micro = of_day % 1'000'000;
    PutDigits(buf + n, fraction_digits == 3 ? micro / 1000 : micro, fraction_digits);
    n += static_cast<size_t>(fraction_digits);
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

bool ParseRfc3339(std::string_view text, absl::Time* out) {
  // The common form: YYYY-MM-DDTHH:MM:SS, then optionally '.' and 1-9 digits, then 'Z'.
  const size_t size = text.size();
  bool fast = size >= 20 && size <= 30 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
              text[16] == ':' && text[size - 1] == 'Z' && (size == 20 || (size >= 22 && text[19] == '.'));
  if (fast) {
    const int64_t year = Digits(text, 0, 4);
    const int64_t month = Digits(text, 5, 2);
    const int64_t mday = Digits(text, 8, 2);
    const int64_t hour = Digits(text, 11, 2);
    const int64_t minute = Digits(text, 14, 2);
    const int64_t second = Digits(text, 17, 2);
    int64_t nanos = 0;
    if (size > 20) {
      const size_t n = size - 21;  // the fraction's digits
      nanos = Digits(text, 20, n);
      for (size_t i = n; i < 9 && nanos >= 0; ++i) nanos *= 10;
    }
    const absl::CivilDay day(year, static_cast<int>(month), static_cast<int>(mday));
    if (year >= 0 && month >= 1 && month <= 12 && mday >= 1 && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 &&
        second >= 0 && second <= 59 && nanos >= 0 && day.month() == month && day.day() == mday) {
      const int64_t seconds = (day - kEpochDay) * 86'400 + hour * 3600 + minute * 60 + second;
      *out = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
      return true;
    }
    // Not in range here (29 February of a common year, 24:00, 23:59:60...): absl decides.
  }
  std::string error;
  return absl::ParseTime(absl::RFC3339_full, absl::string_view(text.data(), text.size()), out, &error);
}

}  // namespace frontdoor
