// Unit tests of reporting/report_calendar: ISO weeks and calendar months cut to the range, the
// period an instant falls in (its edges, and a time zone other than UTC), and the request's date
// rules.
#include "reporting/report_calendar.h"

#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace frontdoor::reporting {
namespace {

using ::frontdoor::v1::ReportRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Spans(const ReportCalendar& calendar) {
  std::vector<std::string> spans;
  for (const CalendarPeriod& p : calendar.periods()) {
    spans.push_back(absl::FormatCivilTime(p.first) + ".." + absl::FormatCivilTime(p.last));
  }
  return spans;
}

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), absl::UTCTimeZone());
}

TEST(ReportCalendarTest, WeeksRunMondayToSundayCutToTheRange) {
  // 2 April 2025 is a Wednesday, 20 April a Sunday.
  absl::StatusOr<ReportCalendar> calendar =
      ReportCalendar::Create("2025-04-02", "2025-04-20", ReportRequest::WEEK, absl::UTCTimeZone());
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_THAT(Spans(*calendar),
              ElementsAre("2025-04-02..2025-04-06", "2025-04-07..2025-04-13", "2025-04-14..2025-04-20"));
}

TEST(ReportCalendarTest, MonthsAreCalendarMonthsCutToTheRange) {
  absl::StatusOr<ReportCalendar> calendar =
      ReportCalendar::Create("2024-01-15", "2024-03-10", ReportRequest::MONTH, absl::UTCTimeZone());
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_THAT(Spans(*calendar),
              ElementsAre("2024-01-15..2024-01-31", "2024-02-01..2024-02-29", "2024-03-01..2024-03-10"));
}

TEST(ReportCalendarTest, OneDayIsOnePeriod) {
  absl::StatusOr<ReportCalendar> calendar =
      ReportCalendar::Create("2025-04-06", "2025-04-06", ReportRequest::WEEK, absl::UTCTimeZone());
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_THAT(Spans(*calendar), ElementsAre("2025-04-06..2025-04-06"));
}

TEST(ReportCalendarTest, AnInstantFallsInThePeriodOfItsDay) {
  absl::StatusOr<ReportCalendar> calendar =
      ReportCalendar::Create("2025-04-02", "2025-04-20", ReportRequest::WEEK, absl::UTCTimeZone());
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 1, 23, 59, 59)), -1);
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 2)), 0);
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 6, 23, 59, 59)), 0);
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 7)), 1);
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 20, 23, 59, 59)), 2);
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 21)), -1);
  EXPECT_EQ(calendar->start(), Utc(2025, 4, 2));
  EXPECT_EQ(calendar->end(), Utc(2025, 4, 21));
}

TEST(ReportCalendarTest, DaysAreCountedInTheReportingTimeZone) {
  // At UTC+1 (British Summer Time), 23:30 UTC on Sunday 6 April is 00:30 on Monday 7 April.
  const absl::TimeZone summer = absl::FixedTimeZone(3600);
  absl::StatusOr<ReportCalendar> calendar =
      ReportCalendar::Create("2025-04-02", "2025-04-20", ReportRequest::WEEK, summer);
  ASSERT_TRUE(calendar.ok()) << calendar.status();
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 6, 23, 30)), 1);
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 1, 23, 30)), 0) << "00:30 on 2 April there";
  EXPECT_EQ(calendar->PeriodOf(Utc(2025, 4, 20, 23, 30)), -1) << "already 21 April there";
}

TEST(ReportCalendarTest, DatesThatBreakTheRulesAreRefusedNamingTheField) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  EXPECT_THAT(ReportCalendar::Create("2025-02-29", "2025-03-01", ReportRequest::WEEK, utc).status().message(),
              HasSubstr("from_date: is not a date"));
  EXPECT_THAT(ReportCalendar::Create("2025-03-01", "01/04/2025", ReportRequest::WEEK, utc).status().message(),
              HasSubstr("to_date: is not a date"));
  EXPECT_THAT(ReportCalendar::Create("2025-03-02", "2025-03-01", ReportRequest::WEEK, utc).status().message(),
              HasSubstr("to_date: is before from_date"));
  EXPECT_THAT(ReportCalendar::Create("2015-01-01", "2025-01-08", ReportRequest::MONTH, utc).status().message(),
              HasSubstr("longer than 3660 days"));
  EXPECT_TRUE(ReportCalendar::Create("2015-01-01", "2025-01-07", ReportRequest::MONTH, utc).ok()) << "3660 days";
  EXPECT_THAT(
      ReportCalendar::Create("2025-03-01", "2025-03-02", ReportRequest::PERIOD_UNSPECIFIED, utc).status().message(),
      HasSubstr("period: is required"));
}

}  // namespace
}  // namespace frontdoor::reporting
