// ReportCalendar: the periods a report's date range is cut into (ISO weeks, Monday to Sunday, or
// calendar months), counted in the reporting time zone, and which period an instant falls in.
// The first and last periods are cut to the range, so every day of the range is in exactly one
// period and the periods add up to the whole range.
//
//   absl::StatusOr<ReportCalendar> calendar =
//       ReportCalendar::Create("2025-04-01", "2025-06-30", ReportRequest::WEEK, london);
//   int period = calendar->PeriodOf(received_at);   // -1 outside the range
//   calendar->periods()[period].first               // absl::CivilDay
//
// Pure; thread-safe once made.
#ifndef FRONTDOOR_REPORTING_REPORT_CALENDAR_H_
#define FRONTDOOR_REPORTING_REPORT_CALENDAR_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "frontdoor/v1/reporting_service.pb.h"

namespace frontdoor::reporting {

// The longest range a report covers, in days (ten years and some).
inline constexpr int kMaxReportDays = 3660;

struct CalendarPeriod {
  absl::CivilDay first;  // included
  absl::CivilDay last;   // included
};

class ReportCalendar {
 public:
  // INVALID_ARGUMENT naming the field for a date that is not YYYY-MM-DD naming a real day, a
  // to_date before from_date, a range longer than kMaxReportDays, or a period other than WEEK or
  // MONTH.
  static absl::StatusOr<ReportCalendar> Create(std::string_view from_date, std::string_view to_date,
                                               frontdoor::v1::ReportRequest::Period period, absl::TimeZone zone);

  const std::vector<CalendarPeriod>& periods() const { return periods_; }
  // The instants the range covers: [start, end).
  absl::Time start() const { return boundaries_.front(); }
  absl::Time end() const { return boundaries_.back(); }
  // The index in periods() of the period `t` falls in, or -1 outside the range.
  int PeriodOf(absl::Time t) const;

 private:
  std::vector<CalendarPeriod> periods_;
  std::vector<absl::Time> boundaries_;  // periods_.size() + 1 instants: each period's first midnight, then the end
};

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_REPORT_CALENDAR_H_
