// Unit tests of reporting/outcome_instruments: the meaningful change of each instrument (exactly
// at it counts, just below does not), ONS4-ANXIETY's direction, and the list reports follow.
#include "reporting/outcome_instruments.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace frontdoor::reporting {
namespace {

using ::testing::ElementsAre;

bool Improved(const char* instrument, double start, double end) {
  const OutcomeInstrument* i = FindOutcomeInstrument(instrument);
  EXPECT_NE(i, nullptr) << instrument;
  return i != nullptr && i->Improved(start, end);
}

TEST(OutcomeInstrumentsTest, SwemwbsCountsOnePointOrMore) {
  EXPECT_TRUE(Improved("SWEMWBS", 19.25, 20.25));
  EXPECT_TRUE(Improved("SWEMWBS", 7.03, 8.03)) << "a whole point on paper, a hair less in binary";
  EXPECT_FALSE(Improved("SWEMWBS", 19.25, 20.24));
  EXPECT_FALSE(Improved("SWEMWBS", 24.11, 19.25));
}

TEST(OutcomeInstrumentsTest, WemwbsCountsThreePointsOrMore) {
  EXPECT_TRUE(Improved("WEMWBS", 40, 43));
  EXPECT_FALSE(Improved("WEMWBS", 40, 42));
}

TEST(OutcomeInstrumentsTest, Ons4ItemsCountOnePointOrMore) {
  EXPECT_TRUE(Improved("ONS4-HAPPINESS", 5, 6));
  EXPECT_FALSE(Improved("ONS4-HAPPINESS", 5, 5));
  EXPECT_TRUE(Improved("ONS4-SATISFACTION", 3, 7));
  EXPECT_TRUE(Improved("ONS4-WORTHWHILE", 0, 1));
  EXPECT_TRUE(Improved("ONS4", 5.25, 6.25));
  EXPECT_FALSE(Improved("ONS4", 5.25, 6));
}

TEST(OutcomeInstrumentsTest, LessAnxietyIsTheImprovement) {
  EXPECT_TRUE(Improved("ONS4-ANXIETY", 6, 5));
  EXPECT_FALSE(Improved("ONS4-ANXIETY", 5, 6));
  EXPECT_FALSE(Improved("ONS4-ANXIETY", 5, 5));
  EXPECT_TRUE(FindOutcomeInstrument("ONS4-ANXIETY")->lower_is_better);
  EXPECT_FALSE(FindOutcomeInstrument("ONS4-HAPPINESS")->lower_is_better);
}

TEST(OutcomeInstrumentsTest, EveryInstrumentSaysWhereItsThresholdComesFrom) {
  std::vector<std::string> names;
  for (const OutcomeInstrument& i : OutcomeInstruments()) {
    names.push_back(i.name);
    EXPECT_GT(i.meaningful_change, 0) << i.name;
    EXPECT_NE(std::string(i.source), "") << i.name;
  }
  EXPECT_THAT(names, ElementsAre("SWEMWBS", "WEMWBS", "ONS4", "ONS4-SATISFACTION", "ONS4-WORTHWHILE", "ONS4-HAPPINESS",
                                 "ONS4-ANXIETY"));
  EXPECT_EQ(FindOutcomeInstrument("swemwbs"), nullptr) << "exact names only";
  EXPECT_EQ(FindOutcomeInstrument("GAD-7"), nullptr);
}

}  // namespace
}  // namespace frontdoor::reporting
