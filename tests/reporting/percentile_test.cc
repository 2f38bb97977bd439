// Unit tests of reporting/percentile: the inclusive (PERCENTILE.INC) definition, on even and odd
// counts, unsorted input, one value, the ends, and no values.
#include "reporting/percentile.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace frontdoor::reporting {
namespace {

double At(std::vector<double> values, double fraction) { return Percentile(absl::MakeSpan(values), fraction); }

TEST(PercentileTest, TheMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo) {
  EXPECT_DOUBLE_EQ(At({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(At({10, 1, 7}, 0.5), 7);
}

TEST(PercentileTest, The90thPercentileInterpolatesBetweenTheNearestRanks) {
  // As PERCENTILE.INC({1..10}, 0.9): rank 0.9 * 9 = 8.1, between 9 and 10.
  EXPECT_NEAR(At({10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0.9), 9.1, 1e-12);
  EXPECT_NEAR(At({1, 2, 3, 4}, 0.9), 3.7, 1e-12);
  // Ties: nineteen values, ten of them 14 (rank 16.2 lands between 56 and 63).
  EXPECT_NEAR(At({70, 14, 63, 14, 56, 14, 49, 14, 42, 14, 35, 14, 28, 14, 21, 14, 14, 14, 7}, 0.9), 57.4, 1e-12);
}

TEST(PercentileTest, OneValueIsEveryPercentile) {
  EXPECT_DOUBLE_EQ(At({3.25}, 0.5), 3.25);
  EXPECT_DOUBLE_EQ(At({3.25}, 0.9), 3.25);
}

TEST(PercentileTest, TheEndsAreTheSmallestAndLargest) {
  EXPECT_DOUBLE_EQ(At({5, 2, 9}, 0), 2);
  EXPECT_DOUBLE_EQ(At({5, 2, 9}, 1), 9);
  EXPECT_DOUBLE_EQ(At({5, 2, 9}, 7), 9) << "clamped";
}

TEST(PercentileTest, NoValuesHaveNoPercentile) {
  EXPECT_TRUE(std::isnan(At({}, 0.5)));
  std::vector<double> none;
  double out[2] = {1, 1};
  Percentiles(absl::MakeSpan(none), {0.5, 0.9}, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_TRUE(std::isnan(out[1]));
}

TEST(PercentileTest, SeveralAtOnceAreEachAsIfAlone) {
  std::mt19937 random(7);
  const std::vector<double> fractions = {0.5, 0.9, 0.1, 0.9, 1, 0, 0.25, 0.75};
  for (int round = 0; round < 200; ++round) {
    std::vector<double> values(1 + random() % 30);
    for (double& v : values) v = static_cast<double>(random() % 20) / 4;  // ties on purpose
    std::vector<double> out(fractions.size());
    std::vector<double> shared = values;
    Percentiles(absl::MakeSpan(shared), fractions, absl::MakeSpan(out));
    for (size_t i = 0; i < fractions.size(); ++i) {
      EXPECT_DOUBLE_EQ(out[i], At(values, fractions[i])) << "round " << round << ", fraction " << fractions[i];
    }
  }
}

TEST(PercentileTest, OneSortedByHandAgrees) {
  // Against a full sort and the definition, for every n up to 25.
  for (int n = 1; n <= 25; ++n) {
    std::vector<double> values;
    for (int i = 0; i < n; ++i) values.push_back((i * 7919) % n);
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    for (double f : {0.5, 0.9}) {
      const double rank = (n - 1) * f;
      const size_t lo = static_cast<size_t>(rank);
      const double expected =
          lo + 1 < sorted.size() ? sorted[lo] + (rank - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
      EXPECT_DOUBLE_EQ(At(values, f), expected) << "n " << n << ", fraction " << f;
    }
  }
}

}  // namespace
}  // namespace frontdoor::reporting
