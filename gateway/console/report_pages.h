// The commissioners' page of the console, a thin layer over the OutcomeReporter the gRPC
// ReportingService uses too (the same checks, figures, suppression and audit record):
//
//   GET /reports      the filters, the headline figures, referrals per period as a chart (SVG
//                     drawn here, no script) with a table alongside, the funnel, wellbeing change
//   GET /reports.csv  the same report as `frontdoor report --format csv` prints it
//
// The filters are in the URL (they hold no one's data, and a report is worth bookmarking).
// Thread-safety: const methods; the reporter and clock must outlive the pages.
#ifndef FRONTDOOR_GATEWAY_CONSOLE_REPORT_PAGES_H_
#define FRONTDOOR_GATEWAY_CONSOLE_REPORT_PAGES_H_

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "gateway/console/console_visit.h"
#include "gateway/reports/outcome_reporter.h"

namespace frontdoor::gateway {

// The report the page's fields ask for; without dates, the last twelve whole weeks to `today`
// (YYYY-MM-DD). INVALID_ARGUMENT, in words, for a word not in the lists. Pure.
absl::StatusOr<frontdoor::v1::ReportRequest> ReportRequestFromForm(const FormFields& form, const std::string& today);

class ReportPages {
 public:
  ReportPages(const OutcomeReporter* reporter, const Clock* clock) : reporter_(reporter), clock_(clock) {}

  void Page(const ConsoleVisit& visit) const;
  void Csv(const ConsoleVisit& visit) const;

 private:
  const OutcomeReporter* const reporter_;
  const Clock* const clock_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_REPORT_PAGES_H_
