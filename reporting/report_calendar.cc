#include "reporting/report_calendar.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/calendar_date.h"

namespace frontdoor::reporting {
namespace {

using ::frontdoor::v1::ReportRequest;

absl::StatusOr<absl::CivilDay> ParseDay(std::string_view text, absl::string_view field) {
  const std::optional<CalendarDate> date = CalendarDate::Parse(text);
  if (!date.has_value()) return absl::InvalidArgumentError(absl::StrCat(field, ": is not a date (YYYY-MM-DD)"));
  return absl::CivilDay(date->year, date->month, date->day);
}

// The first day of the period `day` is in (before cutting to the range).
absl::CivilDay PeriodStart(absl::CivilDay day, ReportRequest::Period period) {
  if (period == ReportRequest::WEEK) return absl::PrevWeekday(day + 1, absl::Weekday::monday);
  return absl::CivilDay(absl::CivilMonth(day));
}

absl::CivilDay NextPeriodStart(absl::CivilDay day, ReportRequest::Period period) {
  if (period == ReportRequest::WEEK) return PeriodStart(day, period) + 7;
  return absl::CivilDay(absl::CivilMonth(day) + 1);
}

}  // namespace

absl::StatusOr<ReportCalendar> ReportCalendar::Create(std::string_view from_date, std::string_view to_date,
                                                      ReportRequest::Period period, absl::TimeZone zone) {
  absl::StatusOr<absl::CivilDay> first = ParseDay(from_date, "from_date");
  if (!first.ok()) return first.status();
  absl::StatusOr<absl::CivilDay> last = ParseDay(to_date, "to_date");
  if (!last.ok()) return last.status();
  if (*last < *first) return absl::InvalidArgumentError("to_date: is before from_date");
  if (*last - *first + 1 > kMaxReportDays) {
    return absl::InvalidArgumentError(absl::StrCat("to_date: the range is longer than ", kMaxReportDays, " days"));
  }
  if (period != ReportRequest::WEEK && period != ReportRequest::MONTH) {
    return absl::InvalidArgumentError("period: is required (WEEK or MONTH)");
  }

  ReportCalendar calendar;
  for (absl::CivilDay day = *first; day <= *last; day = NextPeriodStart(day, period)) {
    calendar.periods_.push_back({day, std::min(*last, NextPeriodStart(day, period) - 1)});
    calendar.boundaries_.push_back(absl::FromCivil(day, zone));
  }
  calendar.boundaries_.push_back(absl::FromCivil(*last + 1, zone));
  return calendar;
}

int ReportCalendar::PeriodOf(absl::Time t) const {
  if (t < boundaries_.front() || t >= boundaries_.back()) return -1;
  // The last boundary not after t.
  const auto after = std::upper_bound(boundaries_.begin(), boundaries_.end(), t);
  return static_cast<int>(after - boundaries_.begin()) - 1;
}

}  // namespace frontdoor::reporting
