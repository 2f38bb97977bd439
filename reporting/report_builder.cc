#include "reporting/report_builder.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "common/utf8.h"
#include "reporting/cell_suppression.h"
#include "reporting/outcome_instruments.h"
#include "reporting/percentile.h"
#include "reporting/report_calendar.h"
#include "reporting/report_figures.h"

namespace frontdoor::reporting {
namespace {

namespace v1 = ::frontdoor::v1;
using ::frontdoor::v1::ReportRequest;
using Strings = ::google::protobuf::RepeatedPtrField<std::string>;

constexpr int kMaxFilterValues = 100;
constexpr size_t kMaxFilterValueBytes = 200;

constexpr char kDisclosureDescription[] =
    "Counts from 1 to 7 are suppressed (NHS Digital, disclosure control methodology for HES and ECDS, 2018), "
    "and enough other counts that none can be worked out from the totals shown (secondary suppression); "
    "a median, percentile, mean or share over a suppressed count is suppressed with it; an activity is "
    "listed only where its count of people is shown (8 or more).";

// Disclosure control over tables that are published together: each table's rows and columns are
// sums, and with `first_is_sum_of_rest` tables[0] is the sum of the others cell by cell.
// hidden[t][cell] is set for the suppressed cells.
absl::Status Suppress(const ReportLayout& layout, const std::vector<const std::vector<int64_t>*>& tables,
                      bool first_is_sum_of_rest, const std::vector<std::vector<char>*>& hidden) {
  CellSuppression cells;
  const int n = layout.cells();
  for (const std::vector<int64_t>* table : tables) {
    for (int64_t count : *table) cells.AddCell(count);
  }
  auto id = [n](int table, int cell) { return static_cast<CellSuppression::Cell>(table * n + cell); };
  std::vector<CellSuppression::Cell> parts;
  for (int t = 0; t < static_cast<int>(tables.size()); ++t) {
    if (layout.groups > 0) {
      for (int r = 0; r < layout.rows(); ++r) {
        parts.clear();
        for (int g = 0; g < layout.groups; ++g) parts.push_back(id(t, layout.Cell(r, g)));
        FRONTDOOR_RETURN_IF_ERROR(cells.AddSum(0, parts, id(t, layout.Cell(r, layout.total()))));
      }
    }
    for (int c = 0; c < layout.columns(); ++c) {
      parts.clear();
      for (int r = 0; r < layout.periods; ++r) parts.push_back(id(t, layout.Cell(r, c)));
      FRONTDOOR_RETURN_IF_ERROR(cells.AddSum(1, parts, id(t, layout.Cell(layout.whole(), c))));
    }
  }
  if (first_is_sum_of_rest) {
    for (int cell = 0; cell < n; ++cell) {
      parts.clear();
      for (int t = 1; t < static_cast<int>(tables.size()); ++t) parts.push_back(id(t, cell));
      FRONTDOOR_RETURN_IF_ERROR(cells.AddSum(2, parts, id(0, cell)));
    }
  }
  cells.Apply();
  for (int t = 0; t < static_cast<int>(tables.size()); ++t) {
    hidden[t]->assign(n, 0);
    for (int cell = 0; cell < n; ++cell) (*hidden[t])[cell] = cells.IsSuppressed(id(t, cell)) ? 1 : 0;
  }
  return absl::OkStatus();
}

absl::Status CheckFilter(const Strings& values, absl::string_view field) {
  if (values.size() > kMaxFilterValues) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": more than ", kMaxFilterValues, " values"));
  }
  for (int i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    if (value.empty() || value.size() > kMaxFilterValueBytes || FirstInvalidUtf8Offset(value).has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i, "]: is not 1..", kMaxFilterValueBytes, " bytes of UTF-8"));
    }
  }
  return absl::OkStatus();
}

// The figures under disclosure control: which counts may be shown, and the activities listed in
// each cell.
struct Published {
  explicit Published(const ReportFigures& f) : figures(f), layout(f.layout) {}

  int64_t count(int measure, int cell) const { return figures.count(measure, cell); }
  bool shown(int measure, int cell) const { return !hidden[measure][cell]; }

  const ReportFigures& figures;
  const ReportLayout& layout;
  std::vector<std::vector<char>> hidden;  // [measure][cell]
  // [cell]: (name, people), most people first.
  std::vector<std::vector<std::pair<const std::string*, int64_t>>> activities;
};

// Disclosure control over every count.
absl::Status SuppressCounts(Published* published) {
  const ReportLayout& layout = published->layout;
  const std::vector<std::vector<int64_t>>& counts = published->figures.counts;
  published->hidden.assign(counts.size(), {});
  auto table = [&](int m) { return &counts[m]; };
  auto hidden = [&](int m) { return &published->hidden[m]; };
  // received = accepted + refused + rejected, cell by cell.
  FRONTDOOR_RETURN_IF_ERROR(Suppress(layout, {table(kReceived), table(kAccepted), table(kRefused), table(kRejected)},
                                     /*first_is_sum_of_rest=*/true,
                                     {hidden(kReceived), hidden(kAccepted), hidden(kRefused), hidden(kRejected)}));
  for (int m = kFrontDoor; m < static_cast<int>(counts.size()); ++m) {
    FRONTDOOR_RETURN_IF_ERROR(Suppress(layout, {table(m)}, /*first_is_sum_of_rest=*/false, {hidden(m)}));
  }
  return absl::OkStatus();
}

// The activities listed in each cell: those whose count of people there is shown and not zero.
absl::Status ListActivities(Published* published) {
  const ReportLayout& layout = published->layout;
  std::vector<std::vector<std::pair<const std::string*, int64_t>>>& listed = published->activities;
  listed.assign(layout.cells(), {});
  std::vector<int64_t> people(layout.cells());
  std::vector<char> hidden;
  for (const auto& [name, cells] : published->figures.activities) {
    std::fill(people.begin(), people.end(), 0);
    for (int32_t cell : cells) ++people[cell];
    AddMargins(layout, &people);
    // With at most 7 people in the whole report, no cell of it can be shown.
    if (IsSmallCount(people[layout.Cell(layout.whole(), layout.total())])) continue;
    FRONTDOOR_RETURN_IF_ERROR(Suppress(layout, {&people}, /*first_is_sum_of_rest=*/false, {&hidden}));
    for (int cell = 0; cell < layout.cells(); ++cell) {
      if (!hidden[cell] && people[cell] > 0) listed[cell].push_back({&name, people[cell]});
    }
  }
  for (auto& cell : listed) {
    std::sort(cell.begin(), cell.end(), [](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      return *a.first < *b.first;
    });
  }
  return absl::OkStatus();
}

void SetCount(const Published& published, int measure, int cell, v1::Count* out) {
  if (published.shown(measure, cell)) {
    out->set_value(published.count(measure, cell));
  } else {
    out->set_suppressed(true);
  }
}

// Times of one cell, over the counting cells it adds up.
void SetTime(const Published& published, int people_measure, TimeMeasure time, int row, int column,
             std::vector<double>* scratch, v1::TimeToEvent* out) {
  const ReportLayout& layout = published.layout;
  const int cell = layout.Cell(row, column);
  SetCount(published, people_measure, cell, out->mutable_people());
  if (!published.shown(people_measure, cell)) {
    out->mutable_median_days()->set_suppressed(true);
    out->mutable_p90_days()->set_suppressed(true);
    return;
  }
  if (published.count(people_measure, cell) == 0) return;
  scratch->clear();
  const bool all_rows = row == layout.whole();
  const bool all_groups = layout.groups > 0 && column == layout.total();
  for (int r = all_rows ? 0 : row; r < (all_rows ? layout.periods : row + 1); ++r) {
    for (int c = all_groups ? 0 : column; c < (all_groups ? layout.groups : column + 1); ++c) {
      const std::vector<double>& days = published.figures.days[time][layout.Cell(r, c)];
      scratch->insert(scratch->end(), days.begin(), days.end());
    }
  }
  double median_and_p90[2];
  Percentiles(absl::MakeSpan(*scratch), {0.5, 0.9}, median_and_p90);
  out->mutable_median_days()->set_value(median_and_p90[0]);
  out->mutable_p90_days()->set_value(median_and_p90[1]);
}

void FillGroup(const Published& published, int row, int column, std::vector<double>* scratch, v1::ReportGroup* out) {
  const int cell = published.layout.Cell(row, column);
  v1::ReferralCounts* referrals = out->mutable_referrals();
  SetCount(published, kReceived, cell, referrals->mutable_received());
  SetCount(published, kAccepted, cell, referrals->mutable_accepted());
  SetCount(published, kRefused, cell, referrals->mutable_refused());
  SetCount(published, kRejected, cell, referrals->mutable_rejected());
  SetCount(published, kFrontDoor, cell, referrals->mutable_front_door());
  const std::vector<std::string>& rule_ids = published.figures.rule_ids;
  for (size_t i = 0; i < rule_ids.size(); ++i) {
    v1::RuleCount* rule = referrals->add_refused_by_rule();
    rule->set_rule_id(rule_ids[i]);
    SetCount(published, kFirstRuleMeasure + static_cast<int>(i), cell, rule->mutable_referrals());
  }

  v1::CaseworkFunnel* funnel = out->mutable_funnel();
  SetCount(published, kAccepted, cell, funnel->mutable_received());
  SetCount(published, kContacted, cell, funnel->mutable_contacted());
  SetCount(published, kFirstConversation, cell, funnel->mutable_first_conversation_held());
  SetCount(published, kConnected, cell, funnel->mutable_connected());
  SetCount(published, kDeclined, cell, funnel->mutable_declined());
  SetCount(published, kUnableToContact, cell, funnel->mutable_unable_to_contact());
  SetCount(published, kClosed, cell, funnel->mutable_closed());

  v1::CaseworkTimes* times = out->mutable_times();
  SetTime(published, kContacted, kToFirstContact, row, column, scratch, times->mutable_to_first_contact());
  SetTime(published, kFirstConversation, kToFirstConversation, row, column, scratch,
          times->mutable_to_first_conversation());
  SetTime(published, kClosed, kToClosure, row, column, scratch, times->mutable_to_closure());

  for (const auto& [name, people] : published.activities[cell]) {
    v1::ConnectedTo* connected = out->add_connected_to();
    connected->set_name(*name);
    connected->mutable_people()->set_value(people);
  }

  for (int i = 0; i < kOutcomeInstrumentCount; ++i) {
    const int people_measure = kOutcomePeople + i;
    const int improved_measure = kOutcomeImproved + i;
    v1::OutcomeChange* change = out->add_outcomes();
    change->set_instrument(OutcomeInstruments()[i].name);
    SetCount(published, people_measure, cell, change->mutable_people());
    SetCount(published, improved_measure, cell, change->mutable_improved());
    const bool people_shown = published.shown(people_measure, cell);
    const int64_t people = published.count(people_measure, cell);
    if (!people_shown) {
      change->mutable_mean_change()->set_suppressed(true);
    } else if (people > 0) {
      change->mutable_mean_change()->set_value(published.figures.change_sums[i][cell] / static_cast<double>(people));
    }
    if (!people_shown || !published.shown(improved_measure, cell)) {
      change->mutable_share_improved()->set_suppressed(true);
    } else if (people > 0) {
      change->mutable_share_improved()->set_value(static_cast<double>(published.count(improved_measure, cell)) /
                                                  static_cast<double>(people));
    }
  }
}

// One period (or the whole range) of the report.
void FillPeriod(const Published& published, int row, const CalendarPeriod& span, std::vector<double>* scratch,
                v1::ReportPeriod* out) {
  const ReportLayout& layout = published.layout;
  out->set_start_date(absl::FormatCivilTime(span.first));
  out->set_end_date(absl::FormatCivilTime(span.last));
  for (int g = 0; g < layout.groups; ++g) {
    v1::ReportGroup* group = out->add_groups();
    group->set_key(published.figures.group_keys[g]);
    FillGroup(published, row, g, scratch, group);
  }
  v1::ReportGroup* total = out->mutable_total();
  total->set_key(kTotalGroup);
  FillGroup(published, row, layout.total(), scratch, total);

  // Too fine: there were referrals, and no cell of the breakdown (the groups; for NONE the total)
  // shows any.
  bool anything_shown = false;
  const int first = layout.groups > 0 ? 0 : layout.total();
  const int last = layout.groups > 0 ? layout.groups - 1 : layout.total();
  for (int c = first; c <= last; ++c) {
    const int cell = layout.Cell(row, c);
    if (published.shown(kReceived, cell) && published.count(kReceived, cell) > 0) anything_shown = true;
  }
  out->set_too_fine(published.count(kReceived, layout.Cell(row, layout.total())) > 0 && !anything_shown);
}

}  // namespace

absl::Status CheckReportRequest(const ReportRequest& request) {
  FRONTDOOR_RETURN_IF_ERROR(
      ReportCalendar::Create(request.from_date(), request.to_date(), request.period(), absl::UTCTimeZone()).status());
  switch (request.breakdown()) {
    case ReportRequest::NONE:
    case ReportRequest::BOROUGH:
    case ReportRequest::CLUSTER:
    case ReportRequest::CATEGORY:
    case ReportRequest::TEAM:
    case ReportRequest::SOURCE:
      break;
    default:
      return absl::InvalidArgumentError("breakdown: is required (NONE, BOROUGH, CLUSTER, CATEGORY, TEAM or SOURCE)");
  }
  FRONTDOOR_RETURN_IF_ERROR(CheckFilter(request.boroughs(), "boroughs"));
  FRONTDOOR_RETURN_IF_ERROR(CheckFilter(request.clusters(), "clusters"));
  FRONTDOOR_RETURN_IF_ERROR(CheckFilter(request.categories(), "categories"));
  FRONTDOOR_RETURN_IF_ERROR(CheckFilter(request.teams(), "teams"));
  FRONTDOOR_RETURN_IF_ERROR(CheckFilter(request.sources(), "sources"));
  return absl::OkStatus();
}

absl::StatusOr<v1::Report> BuildReport(const ReportRequest& request, absl::Span<const ReferralFacts> facts,
                                       absl::TimeZone zone) {
  FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<ReportBuilder> builder, ReportBuilder::Create(request, zone));
  for (const ReferralFacts& f : facts) FRONTDOOR_RETURN_IF_ERROR(builder->Add(f));
  return std::move(*builder).Finish();
}

absl::StatusOr<std::unique_ptr<ReportBuilder>> ReportBuilder::Create(const ReportRequest& request,
                                                                     absl::TimeZone zone) {
  // 1. The request, and the periods it asks for.
  FRONTDOOR_RETURN_IF_ERROR(CheckReportRequest(request));
  FRONTDOOR_ASSIGN_OR_RETURN(ReportCalendar calendar,
                             ReportCalendar::Create(request.from_date(), request.to_date(), request.period(), zone));
  return std::unique_ptr<ReportBuilder>(new ReportBuilder(request, std::move(calendar), zone));
}

ReportBuilder::ReportBuilder(const ReportRequest& request, ReportCalendar calendar, absl::TimeZone zone)
    : request_(request), calendar_(std::move(calendar)), zone_(zone), counter_(request_, calendar_) {}

absl::StatusOr<v1::Report> ReportBuilder::Finish() && {
  const ReportRequest& request = request_;
  const ReportCalendar& calendar = calendar_;
  const absl::TimeZone zone = zone_;
  // 2. Every row of the range that passes the filters, counted (Add).
  const ReportFigures figures = std::move(counter_).Finish();

  // 3. Disclosure control, before anything is written.
  Published published(figures);
  FRONTDOOR_RETURN_IF_ERROR(SuppressCounts(&published));
  FRONTDOOR_RETURN_IF_ERROR(ListActivities(&published));

  // 4. The report.
  v1::Report report;
  *report.mutable_request() = request;
  report.set_time_zone(zone.name());
  std::vector<double> scratch;
  const ReportLayout& layout = figures.layout;
  for (int p = 0; p < layout.periods; ++p) {
    FillPeriod(published, p, calendar.periods()[p], &scratch, report.add_periods());
  }
  const CalendarPeriod whole = {calendar.periods().front().first, calendar.periods().back().last};
  FillPeriod(published, layout.whole(), whole, &scratch, report.mutable_whole_range());

  // Too fine as a whole: the whole range (so there were referrals) and every period with
  // referrals are.
  bool too_fine = report.whole_range().too_fine();
  for (int p = 0; p < layout.periods; ++p) {
    if (figures.count(kReceived, layout.Cell(p, layout.total())) > 0 && !report.periods(p).too_fine()) too_fine = false;
  }
  report.set_too_fine(too_fine);

  v1::DisclosureRule* rule = report.mutable_disclosure_rule();
  rule->set_smallest_suppressed(kSmallestSuppressedCount);
  rule->set_largest_suppressed(kLargestSuppressedCount);
  rule->set_description(kDisclosureDescription);
  for (const OutcomeInstrument& instrument : OutcomeInstruments()) {
    v1::OutcomeInstrument* out = report.add_instruments();
    out->set_instrument(instrument.name);
    out->set_meaningful_change(instrument.meaningful_change);
    out->set_lower_is_better(instrument.lower_is_better);
    out->set_source(instrument.source);
  }
  return report;
}

}  // namespace frontdoor::reporting
