// BuildReport: the Report of proto/frontdoor/v1/reporting_service.proto for a request, from one
// ReferralFacts row per referral. It filters the rows, counts them per period and group (with the
// totals of each period and of the whole range), puts every count under disclosure control
// (reporting/cell_suppression.h) and only then writes the proto, so that a suppressed count's
// number never reaches it.
//
//   FRONTDOOR_RETURN_IF_ERROR(CheckReportRequest(request));   // before reading the store
//   std::vector<ReferralFacts> facts = ...;   // the referrals received in the range (more is fine)
//   absl::StatusOr<v1::Report> report = BuildReport(request, facts, london);
//
// What is counted where:
//  - A referral belongs to the period (and the day) it was received in, in `zone`; its casework,
//    times and outcomes are counted there too, however late they happened (a cohort).
//  - Its group is its value of the breakdown (ReferralFacts::borough, cluster_id, category,
//    team_id, source_kind), or kUnknownGroup when it has none. Groups found anywhere in the report
//    are listed in every period, zeros included.
//  - Funnel stages count everyone who reached the stage or a later one; first contact is the
//    earliest of contacted_at, first_conversation_at and connected_at, first conversation the
//    earlier of the last two. Casework of referrals that were not ACCEPTED is ignored.
//  - Times are in days (fractional) from received_at; median and 90th percentile as
//    reporting/percentile.h computes them, over the people the funnel stage counts.
//  - Outcomes: per instrument (reporting/outcome_instruments.h), people with a measure, the mean
//    of end - start, and the share improved by at least the meaningful change. Unknown
//    instruments are left out.
//
// Disclosure control (the rules and their sources: cell_suppression.h):
//  - Every count is a cell. The cells of one measure form a table of periods (and the whole
//    range) by groups (and the total); received = accepted + refused + rejected links four of
//    them cell by cell. Counts from 1 to 7 are suppressed, then enough other cells that none can
//    be worked out from the rows, columns and totals shown.
//  - A median, percentile or mean is suppressed with the count of people it is over; a share
//    improved with either of its two counts.
//  - An activity is listed in a group only when its count of people there is shown: 8 or more,
//    and not suppressed to protect another group's count of it.
//  - Not protected: the difference between nested counts (accepted and contacted, people and
//    improved), which no sum in the report states; and comparing several reports (each request
//    is audited, IG-9).
//
// Pure: no I/O, no clock; thread-safe. Time is linear in the rows plus the table (periods x
// groups x measures), memory in the table and the people with a time to count (a row is not kept):
// a year of Oldham and Tameside (5,000 rows) takes milliseconds; a million rows over a year, weekly
// by cluster, about 0.3 s on one core (0.2 s without a breakdown). The counting is in
// report_figures.h.
#ifndef FRONTDOOR_REPORTING_REPORT_BUILDER_H_
#define FRONTDOOR_REPORTING_REPORT_BUILDER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "reporting/referral_facts.h"
#include "reporting/report_calendar.h"
#include "reporting/report_figures.h"

namespace frontdoor::reporting {

// OK, or INVALID_ARGUMENT naming the field and the rule it breaks (never quoting it): dates
// (report_calendar.h), period, breakdown, and filters (at most 100 values each, each 1..200
// bytes of UTF-8).
absl::Status CheckReportRequest(const frontdoor::v1::ReportRequest& request);

// The report. INVALID_ARGUMENT as CheckReportRequest; INTERNAL when a row of the range breaks
// what the stores guarantee (a disposition other than ACCEPTED, REFUSED or REJECTED, a casework
// time before received_at, a score that is not a finite number): the message names the row's
// index and the field. Rows outside the range or the filters are not looked at.
absl::StatusOr<frontdoor::v1::Report> BuildReport(const frontdoor::v1::ReportRequest& request,
                                                  absl::Span<const ReferralFacts> facts, absl::TimeZone zone);

// The same, a row at a time as a store reads them, so that none need be kept:
//
//   FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<ReportBuilder> builder, ReportBuilder::Create(request, london));
//   for each row: FRONTDOOR_RETURN_IF_ERROR(builder->Add(facts));
//   absl::StatusOr<v1::Report> report = std::move(*builder).Finish();
class ReportBuilder {
 public:
  // INVALID_ARGUMENT as CheckReportRequest.
  static absl::StatusOr<std::unique_ptr<ReportBuilder>> Create(const frontdoor::v1::ReportRequest& request,
                                                               absl::TimeZone zone);
  ReportBuilder(const ReportBuilder&) = delete;
  ReportBuilder& operator=(const ReportBuilder&) = delete;

  // The periods asked for: a store need read only the rows received from calendar().start() to
  // calendar().end().
  const ReportCalendar& calendar() const { return calendar_; }
  const frontdoor::v1::ReportRequest& request() const { return request_; }
  // INTERNAL as BuildReport.
  absl::Status Add(const ReferralFacts& f) { return counter_.Add(f); }
  absl::StatusOr<frontdoor::v1::Report> Finish() &&;

 private:
  ReportBuilder(const frontdoor::v1::ReportRequest& request, ReportCalendar calendar, absl::TimeZone zone);

  const frontdoor::v1::ReportRequest request_;
  const ReportCalendar calendar_;
  const absl::TimeZone zone_;
  ReportCounter counter_;  // of request_ and calendar_
};

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_REPORT_BUILDER_H_
