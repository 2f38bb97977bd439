// Referral ids: UUID version 7, unique, and ordered by the time they were made (the store's
// indexes keyed by referral id rely on that to stay compact).
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/intake/referral_ids.h"
#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(ReferralIdTest, IsAVersion7UuidCarryingItsCreationTime) {
  const int64_t before = absl::ToUnixMillis(absl::Now());
  const std::string id = NewReferralId();
  const int64_t after = absl::ToUnixMillis(absl::Now());
  ASSERT_EQ(id.size(), 36u) << id;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(id[i], '-') << id;
    } else {
      EXPECT_TRUE(IsLowerHex(id[i])) << id;
    }
  }
  EXPECT_EQ(id[14], '7') << "version nibble: " << id;
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << "RFC 9562 variant: " << id;
  uint64_t millis = 0;
  ASSERT_TRUE(absl::SimpleHexAtoi(id.substr(0, 8) + id.substr(9, 4), &millis)) << id;
  EXPECT_GE(static_cast<int64_t>(millis), before);
  EXPECT_LE(static_cast<int64_t>(millis), after);
}

TEST(ReferralIdTest, LaterIdsSortAfterEarlierOnesAndNoneRepeat) {
  std::set<std::string> seen;
  std::string previous_ms_last;
  for (int round = 0; round < 5; ++round) {
    const std::string first = NewReferralId();
    if (!previous_ms_last.empty()) EXPECT_LT(previous_ms_last, first) << "made a few milliseconds later";
    seen.insert(first);
    for (int i = 0; i < 2000; ++i) EXPECT_TRUE(seen.insert(NewReferralId()).second) << "an id repeated";
    previous_ms_last = NewReferralId();
    seen.insert(previous_ms_last);
    absl::SleepFor(absl::Milliseconds(3));
  }
}

TEST(ReferralIdTest, IdsMadeOnManyThreadsAtOnceNeverRepeat) {
  // Each thread draws its random bits from a pool of its own, refilled from OpenSSL's CSPRNG.
  constexpr int kThreads = 8;
  constexpr int kEach = 3000;  // several refills of each pool
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i) made[t].push_back(NewReferralId());
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> seen;
  std::set<std::string> random_parts;
  for (const auto& ids : made) {
    for (const std::string& id : ids) {
      EXPECT_TRUE(seen.insert(id).second) << "an id repeated: " << id;
      // The 62 random bits after the variant, which do not depend on the time.
      random_parts.insert(id.substr(20));
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(random_parts.size(), static_cast<size_t>(kThreads * kEach)) << "two threads drew the same random bits";
}

}  // namespace
}  // namespace frontdoor::gateway
