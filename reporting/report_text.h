// A Report (proto/frontdoor/v1/reporting_service.proto) as text, wherever one is printed or
// downloaded (`frontdoor report`, the web console): a table to read, CSV for a spreadsheet, or the
// Report itself as JSON. They print what the Report holds and nothing else: a suppressed cell is
// `*`, a statistic over no one `-` (empty in CSV).
//
//   std::cout << reporting::ReportCsv(report);
//
// Pure; thread-safe.
#ifndef FRONTDOOR_REPORTING_REPORT_TEXT_H_
#define FRONTDOOR_REPORTING_REPORT_TEXT_H_

#include <string>

#include "frontdoor/v1/reporting_service.pb.h"

namespace frontdoor::reporting {

// One count as every rendering shows it: its number, or `*` when suppressed.
std::string CountText(const frontdoor::v1::Count& count);

// The report as aligned text for a person: what was asked, then referrals, refusals by rule, the
// funnel, the days to each event and outcome change per period and group (then the whole range),
// what people were connected to, and footnotes on `*` and the thresholds the Report used. A
// breakdown too fine to show anything is said in words.
std::string ReportTable(const frontdoor::v1::Report& report);

// The report as CSV (RFC 4180): a header, then one row per period and group (each period's total
// as group "total", then the whole range with span "whole-range"). Columns are fixed, plus four
// per outcome instrument of the Report (swemwbs_people, ...). Suppressed cells are `*`.
std::string ReportCsv(const frontdoor::v1::Report& report);

// The Report in proto3 JSON, proto field names kept.
std::string ReportJson(const frontdoor::v1::Report& report);

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_REPORT_TEXT_H_
