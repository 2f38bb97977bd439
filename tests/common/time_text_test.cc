// FormatRfc3339Utc and ParseRfc3339 must give absl's answers: the same text for every time, and
// the same verdict and time for every string, whether or not the fast path handled it.
#include "common/time_text.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace frontdoor {
namespace {

std::string AbslFormat(absl::Time t, int digits) {
  const char* format = digits == 0   ? "%Y-%m-%dT%H:%M:%SZ"
                       : digits == 3 ? "%Y-%m-%dT%H:%M:%E3SZ"
                                     : "%Y-%m-%dT%H:%M:%E6SZ";
  return absl::FormatTime(format, t, absl::UTCTimeZone());
}

void ExpectSameParse(const std::string& text) {
  absl::Time ours = absl::UnixEpoch();
  absl::Time theirs = absl::UnixEpoch();
  std::string error;
  const bool ok = ParseRfc3339(text, &ours);
  ASSERT_EQ(ok, absl::ParseTime(absl::RFC3339_full, text, &theirs, &error)) << "\"" << text << "\"";
  if (ok) EXPECT_EQ(ours, theirs) << "\"" << text << "\"";
}

TEST(TimeTextTest, FormatsLikeAbslFormatTime) {
  EXPECT_EQ(FormatRfc3339Utc(absl::FromUnixMicros(1'763'806'443'123'456), 6), "2025-11-22T10:14:03.123456Z");
  EXPECT_EQ(FormatRfc3339Utc(absl::FromUnixMicros(1'763'806'443'123'456), 3), "2025-11-22T10:14:03.123Z");
  EXPECT_EQ(FormatRfc3339Utc(absl::FromUnixMicros(1'763'806'443'123'456), 0), "2025-11-22T10:14:03Z");
  std::mt19937_64 rng(20261122);
  // Sub-microsecond parts, times before 1970, leap days, the ends of the four-digit years, and
  // beyond them (which absl formats itself).
  std::vector<absl::Time> times = {absl::UnixEpoch(),
                                   absl::UnixEpoch() - absl::Nanoseconds(1),
                                   absl::FromCivil(absl::CivilSecond(2024, 2, 29, 23, 59, 59), absl::UTCTimeZone()),
                                   absl::FromCivil(absl::CivilSecond(0, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
                                   absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone()) +
                                       absl::Nanoseconds(999'999'999),
                                   absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
                                   absl::FromCivil(absl::CivilSecond(-1, 12, 31, 23, 59, 59), absl::UTCTimeZone()),
                                   absl::InfiniteFuture(),
                                   absl::InfinitePast()};
  // Seconds from the year 0 to about 11,500, and any nanosecond within them.
  std::uniform_int_distribution<int64_t> seconds(-62'200'000'000, 300'000'000'000);
  std::uniform_int_distribution<int64_t> nanos(0, 999'999'999);
  for (int i = 0; i < 20000; ++i) {
    times.push_back(absl::FromUnixSeconds(seconds(rng)) + absl::Nanoseconds(nanos(rng)));
  }
  for (const absl::Time t : times) {
    for (int digits : {0, 3, 6}) ASSERT_EQ(FormatRfc3339Utc(t, digits), AbslFormat(t, digits)) << t;
  }
}

TEST(TimeTextTest, ParsesLikeAbslRfc3339Full) {
  for (const char* text : {"2025-11-22T10:14:03Z",
                           "2025-11-22T10:14:03.1Z",
                           "2025-11-22T10:14:03.123456789Z",
                           "2025-11-22T10:14:03.1234567891Z",
                           "2025-11-22T10:14:03+01:00",
                           "2025-11-22t10:14:03z",
                           "2025-02-29T00:00:00Z",
                           "2024-02-29T00:00:00Z",
                           "2025-04-31T00:00:00Z",
                           "2025-13-01T00:00:00Z",
                           "2025-00-10T00:00:00Z",
                           "2025-11-00T00:00:00Z",
                           "2025-11-22T24:00:00Z",
                           "2025-11-22T23:60:00Z",
                           "2016-12-31T23:59:60Z",
                           "2025-11-22T10:14:03.Z",
                           "2025-11-22T10:14:03.12a4Z",
                           "0000-01-01T00:00:00Z",
                           "9999-12-31T23:59:59.999999999Z",
                           "12025-11-22T10:14:03Z",
                           "-001-11-22T10:14:03Z",
                           "2025-11-22 10:14:03Z",
                           "2025-11-22T10:14:03",
                           "",
                           "Z",
                           "2025-11-22T1a:14:03Z",
                           "+025-11-22T10:14:03Z",
                           "2025-+1-22T10:14:03Z",
                           " 2025-11-22T10:14:03Z",
                           "2025-11-22T10:14:03Z "}) {
    ExpectSameParse(text);
  }
  // Every time this gateway writes reads back as itself (to its precision).
  std::mt19937_64 rng(1122);
  std::uniform_int_distribution<int64_t> seconds(-30'000'000'000, 250'000'000'000);  // years 1019 to 9892
  std::uniform_int_distribution<int64_t> micros(0, 999'999);
  for (int i = 0; i < 20000; ++i) {
    const absl::Time t = absl::FromUnixSeconds(seconds(rng)) + absl::Microseconds(micros(rng));
    const std::string text = FormatRfc3339Utc(t, 6);
    absl::Time back;
    ASSERT_TRUE(ParseRfc3339(text, &back)) << text;
    EXPECT_EQ(back, t) << text;
    ExpectSameParse(text);
    // And one character changed to anything printable: the verdicts still agree.
    std::string mutated = text;
    mutated[rng() % mutated.size()] = static_cast<char>(' ' + rng() % 95);
    ExpectSameParse(mutated);
  }
}

}  // namespace
}  // namespace frontdoor
