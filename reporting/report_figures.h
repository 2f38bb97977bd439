// ReportFigures: what a report counts, before disclosure control. CountReportFigures reads the
// rows of the range that pass the request's filters into tables of periods (then the whole range)
// by groups (then the total), one table per measure; BuildReport (report_builder.h, which also
// says what is counted where) puts them under disclosure control and writes the Report.
//
//   ReportFigures figures;
//   FRONTDOOR_RETURN_IF_ERROR(CountReportFigures(request, facts, calendar, &figures));
//   figures.count(kReceived, figures.layout.Cell(period, figures.layout.total()));
//
// Nothing here may leave the gateway as it is: these are the figures before suppression.
// Pure; no I/O.
#ifndef FRONTDOOR_REPORTING_REPORT_FIGURES_H_
#define FRONTDOOR_REPORTING_REPORT_FIGURES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "reporting/outcome_instruments.h"
#include "reporting/referral_facts.h"
#include "reporting/report_calendar.h"

namespace frontdoor::reporting {

// The counts of a report, one table each. The rules that refused referrals follow, one table each.
enum ReportMeasure : int {
  kReceived,
  kAccepted,
  kRefused,
  kRejected,
  kFrontDoor,
  kContacted,
  kFirstConversation,
  kConnected,
  kDeclined,
  kUnableToContact,
  kClosed,
  kOutcomePeople,                                                  // one per instrument
  kOutcomeImproved = kOutcomePeople + kOutcomeInstrumentCount,     // one per instrument
  kFirstRuleMeasure = kOutcomeImproved + kOutcomeInstrumentCount,  // one per rule, in order of finding
};

enum TimeMeasure : int { kToFirstContact, kToFirstConversation, kToClosure, kTimeMeasures };

// A report's tables: rows are the periods then the whole range; columns the groups then the
// total (for Breakdown NONE, the total alone). A referral is counted in its period's row and its
// group's column; the margins are sums.
struct ReportLayout {
  int periods = 0;
  int groups = 0;  // 0 for NONE

  int rows() const { return periods + 1; }
  int columns() const { return groups + 1; }
  int cells() const { return rows() * columns(); }
  int whole() const { return periods; }  // the whole range's row
  int total() const { return groups; }   // the total's column
  int Cell(int row, int column) const { return row * columns() + column; }
};

// Fills a table's margins from its counting cells: each period's total, then the whole range.
template <typename T>
void AddMargins(const ReportLayout& layout, std::vector<T>* table) {
  std::vector<T>& t = *table;
  if (layout.groups > 0) {
    for (int r = 0; r < layout.periods; ++r) {
      for (int g = 0; g < layout.groups; ++g) t[layout.Cell(r, layout.total())] += t[layout.Cell(r, g)];
    }
  }
  for (int c = 0; c < layout.columns(); ++c) {
    for (int r = 0; r < layout.periods; ++r) t[layout.Cell(layout.whole(), c)] += t[layout.Cell(r, c)];
  }
}

// Everything counted, before disclosure control.
struct ReportFigures {
  ReportLayout layout;
  std::vector<std::string> group_keys;           // layout.groups of them: sorted, kUnknownGroup last
  std::vector<std::string> rule_ids;             // of the tables kFirstRuleMeasure + i
  std::vector<std::vector<int64_t>> counts;      // [measure][cell], margins included
  std::vector<std::vector<double>> change_sums;  // [instrument][cell]: sum of end - start, margins included
  // [time measure][cell]: days from receipt, in the counting cells only (a margin gathers them).
  std::vector<std::vector<std::vector<double>>> days;
  // Each activity name with the counting cell of every person connected to it.
  std::vector<std::pair<std::string, std::vector<int32_t>>> activities;

  int64_t count(int measure, int cell) const { return counts[measure][cell]; }
};

// Counts the rows one at a time, as a store reads them (a year of a large network is a million
// rows, none of which need be kept): Add every row, then Finish. Each row received in the
// calendar's range that passes the request's filters counts.
//
//   ReportCounter counter(request, calendar);
//   for (const ReferralFacts& f : rows) FRONTDOOR_RETURN_IF_ERROR(counter.Add(f));
//   ReportFigures figures = std::move(counter).Finish();
class ReportCounter {
 public:
  // The request must have passed CheckReportRequest; both must outlive the counter.
  ReportCounter(const frontdoor::v1::ReportRequest& request, const ReportCalendar& calendar);
  ReportCounter(const ReportCounter&) = delete;
  ReportCounter& operator=(const ReportCounter&) = delete;
  ~ReportCounter();

  // INTERNAL when a row it counts breaks what the stores guarantee (BuildReport), naming the row
  // by its index (the number of rows added before it). The row is not kept.
  absl::Status Add(const ReferralFacts& f);

  // The tables, groups sorted by key (kUnknownGroup last), margins added.
  ReportFigures Finish() &&;

 private:
  struct Counting;
  int Slot(int group, int period) const;
  int GroupOf(const ReferralFacts& f);

  const frontdoor::v1::ReportRequest& request_;
  const ReportCalendar& calendar_;
  std::unique_ptr<Counting> counting_;
};

// The same over rows already read.
absl::Status CountReportFigures(const frontdoor::v1::ReportRequest& request, absl::Span<const ReferralFacts> facts,
                                const ReportCalendar& calendar, ReportFigures* figures);

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_REPORT_FIGURES_H_
