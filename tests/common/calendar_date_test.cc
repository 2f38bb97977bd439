#include "common/calendar_date.h"

#include "gtest/gtest.h"

namespace frontdoor {
namespace {

TEST(CalendarDateTest, ParsesFullDates) {
  auto d = CalendarDate::Parse("2025-02-03");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->year, 2025);
  EXPECT_EQ(d->month, 2);
  EXPECT_EQ(d->day, 3);
  EXPECT_EQ(d->ToString(), "2025-02-03");
}

TEST(CalendarDateTest, RejectsPartialAndImpossibleDates) {
  EXPECT_FALSE(CalendarDate::Parse("2025-02"));
  EXPECT_FALSE(CalendarDate::Parse("2025"));
  EXPECT_FALSE(CalendarDate::Parse("2025-02-30"));
  EXPECT_FALSE(CalendarDate::Parse("2023-02-29"));
  EXPECT_FALSE(CalendarDate::Parse("2025-13-01"));
  EXPECT_FALSE(CalendarDate::Parse("2025-00-10"));
  EXPECT_FALSE(CalendarDate::Parse("2025-1-01"));
  EXPECT_FALSE(CalendarDate::Parse("2025-02-03T10:00:00Z"));
  EXPECT_FALSE(CalendarDate::Parse("２０２５-02-03"));
  EXPECT_TRUE(CalendarDate::Parse("2024-02-29"));
}

TEST(CalendarDateTest, ParsesCompactHl7Dates) {
  EXPECT_EQ(CalendarDate::ParseCompact("19400322")->ToString(), "1940-03-22");
  EXPECT_FALSE(CalendarDate::ParseCompact("194003"));
  EXPECT_FALSE(CalendarDate::ParseCompact("19400231"));
}

TEST(CalendarDateTest, ConvertsUnixSecondsToUtcDate) {
  EXPECT_EQ(CalendarDate::FromUnixSeconds(0).ToString(), "1970-01-01");
  EXPECT_EQ(CalendarDate::FromUnixSeconds(1738577700).ToString(), "2025-02-03");
  EXPECT_EQ(CalendarDate::FromUnixSeconds(-1).ToString(), "1969-12-31");
  EXPECT_EQ(CalendarDate::FromUnixSeconds(951782400).ToString(), "2000-02-29");
}

TEST(CalendarDateTest, AgeTurnsOnTheBirthday) {
  const CalendarDate born = *CalendarDate::Parse("1960-05-10");
  EXPECT_EQ(WholeYearsBetween(born, *CalendarDate::Parse("2025-05-09")), 64);
  EXPECT_EQ(WholeYearsBetween(born, *CalendarDate::Parse("2025-05-10")), 65);
}

TEST(CalendarDateTest, LeapDayBirthdayFallsOnFirstMarchInNonLeapYears) {
  const CalendarDate born = *CalendarDate::Parse("2008-02-29");
  EXPECT_EQ(WholeYearsBetween(born, *CalendarDate::Parse("2026-02-28")), 17);
  EXPECT_EQ(WholeYearsBetween(born, *CalendarDate::Parse("2026-03-01")), 18);
  EXPECT_EQ(WholeYearsBetween(born, *CalendarDate::Parse("2028-02-29")), 20);
}

TEST(CalendarDateTest, AgeBeforeBirthIsZero) {
  EXPECT_EQ(WholeYearsBetween(*CalendarDate::Parse("2025-01-01"), *CalendarDate::Parse("2024-01-01")), 0);
}

}  // namespace
}  // namespace frontdoor
