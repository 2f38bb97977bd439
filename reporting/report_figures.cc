#include "reporting/report_figures.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace frontdoor::reporting {
namespace {

namespace v1 = ::frontdoor::v1;
using ::frontdoor::v1::ReportRequest;

// The request's filters: a referral passes when, for every filter given, its value is listed.
class Filters {
 public:
  explicit Filters(const ReportRequest& request)
      : boroughs_(request.boroughs().begin(), request.boroughs().end()),
        clusters_(request.clusters().begin(), request.clusters().end()),
        categories_(request.categories().begin(), request.categories().end()),
        teams_(request.teams().begin(), request.teams().end()),
        sources_(request.sources().begin(), request.sources().end()) {}

  bool Pass(const ReferralFacts& f) const {
    return Listed(boroughs_, f.borough) && Listed(clusters_, f.cluster_id) && Listed(categories_, f.category) &&
           Listed(teams_, f.team_id) && Listed(sources_, f.source_kind);
  }

 private:
  using Set = absl::flat_hash_set<std::string>;
  static bool Listed(const Set& filter, absl::string_view value) { return filter.empty() || filter.contains(value); }

  Set boroughs_, clusters_, categories_, teams_, sources_;
};

absl::string_view GroupValue(const ReferralFacts& f, ReportRequest::Breakdown breakdown) {
  switch (breakdown) {
    case ReportRequest::BOROUGH:
      return f.borough;
    case ReportRequest::CLUSTER:
      return f.cluster_id;
    case ReportRequest::CATEGORY:
      return f.category;
    case ReportRequest::TEAM:
      return f.team_id;
    case ReportRequest::SOURCE:
      return f.source_kind;
    default:
      return f.borough;  // NONE: not used
  }
}

// The stores' guarantees, checked where a row is used.
absl::Status CheckFacts(const ReferralFacts& f, size_t index) {
  auto broken = [index](absl::string_view what) {
    return absl::InternalError(absl::StrCat("facts[", index, "]: ", what));
  };
  if (f.disposition != v1::ACCEPTED && f.disposition != v1::REFUSED && f.disposition != v1::REJECTED) {
    return broken("disposition is not ACCEPTED, REFUSED or REJECTED");
  }
  if (f.disposition != v1::ACCEPTED) return absl::OkStatus();
  const std::pair<const std::optional<absl::Time>*, absl::string_view> times[] = {
      {&f.contacted_at, "contacted_at"},
      {&f.first_conversation_at, "first_conversation_at"},
      {&f.connected_at, "connected_at"},
      {&f.closed_at, "closed_at"},
  };
  for (const auto& [time, name] : times) {
    if (time->has_value() && **time < f.received_at) return broken(absl::StrCat(name, " is before received_at"));
  }
  for (const OutcomeScores& scores : f.outcomes) {
    if (!std::isfinite(scores.start_score) || !std::isfinite(scores.end_score)) {
      return broken("an outcome score is not a finite number");
    }
  }
  return absl::OkStatus();
}

std::optional<absl::Time> Earliest(std::initializer_list<const std::optional<absl::Time>*> times) {
  std::optional<absl::Time> earliest;
  for (const std::optional<absl::Time>* t : times) {
    if (t->has_value() && (!earliest.has_value() || **t < *earliest)) earliest = **t;
  }
  return earliest;
}

double DaysBetween(absl::Time from, absl::Time to) { return absl::FDivDuration(to - from, absl::Hours(24)); }

int InstrumentIndex(const OutcomeInstrument* instrument) {
  return static_cast<int>(instrument - OutcomeInstruments().data());
}

}  // namespace

// What is counted so far. Tables are indexed by slot: the groups in order of finding, each with
// a slot per period; Finish lays them out as ReportLayout cells once every group is known.
struct ReportCounter::Counting {
  explicit Counting(const ReportRequest& request) : filters(request) {}

  Filters filters;
  size_t rows_added = 0;
  absl::flat_hash_map<std::string, int> groups_found;
  std::vector<std::string> group_names;
  std::vector<std::vector<int64_t>> counts;            // [measure][slot]
  std::vector<std::vector<double>> change_sums;        // [instrument][slot]
  std::vector<std::vector<std::vector<double>>> days;  // [time measure][slot]
  absl::flat_hash_map<std::string, int> rule_measure;
  std::vector<std::string> rule_ids;
  absl::flat_hash_map<std::string, int> activity_index;
  std::vector<std::pair<std::string, std::vector<int32_t>>> activities;  // name, slot of each person
  std::vector<const std::string*> names;                                 // scratch
};

ReportCounter::ReportCounter(const ReportRequest& request, const ReportCalendar& calendar)
    : request_(request), calendar_(calendar), counting_(std::make_unique<Counting>(request)) {
  Counting& c = *counting_;
  c.counts.assign(kFirstRuleMeasure, {});
  c.change_sums.assign(OutcomeInstruments().size(), {});
  c.days.assign(kTimeMeasures, {});
  // Without a breakdown there is one group, the total, found before any row.
  if (request_.breakdown() == ReportRequest::NONE) GroupOf(ReferralFacts());
}

ReportCounter::~ReportCounter() = default;

int ReportCounter::Slot(int group, int period) const {
  return group * static_cast<int>(calendar_.periods().size()) + period;
}

// The row's group, added to every table when it is new.
int ReportCounter::GroupOf(const ReferralFacts& f) {
  Counting& c = *counting_;
  if (request_.breakdown() == ReportRequest::NONE && !c.group_names.empty()) return 0;
  const absl::string_view value = GroupValue(f, request_.breakdown());
  const absl::string_view key = value.empty() ? absl::string_view(kUnknownGroup) : value;
  auto [it, added] = c.groups_found.try_emplace(key, static_cast<int>(c.group_names.size()));
  if (added) {
    c.group_names.emplace_back(key);
    const size_t slots = c.group_names.size() * calendar_.periods().size();
    for (std::vector<int64_t>& table : c.counts) table.resize(slots, 0);
    for (std::vector<double>& sums : c.change_sums) sums.resize(slots, 0);
    for (std::vector<std::vector<double>>& d : c.days) d.resize(slots);
  }
  return it->second;
}

absl::Status ReportCounter::Add(const ReferralFacts& f) {
  Counting& c = *counting_;
  const size_t index = c.rows_added++;
  const int period = calendar_.PeriodOf(f.received_at);
  if (period < 0 || !c.filters.Pass(f)) return absl::OkStatus();
  FRONTDOOR_RETURN_IF_ERROR(CheckFacts(f, index));
  const int cell = Slot(GroupOf(f), period);
  auto& counts = c.counts;
  ++counts[kReceived][cell];
  if (f.disposition == v1::REJECTED) {
    ++counts[kRejected][cell];
    return absl::OkStatus();
  }
  if (f.disposition == v1::REFUSED) {
    ++counts[kRefused][cell];
    std::vector<std::string> rules = f.refusal_rule_ids;
    std::sort(rules.begin(), rules.end());
    rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
    for (const std::string& rule : rules) {
      auto [it, added] = c.rule_measure.try_emplace(rule, static_cast<int>(counts.size()));
      if (added) {
        counts.emplace_back(counts[kReceived].size(), 0);
        c.rule_ids.push_back(rule);
      }
      ++counts[it->second][cell];
    }
    return absl::OkStatus();
  }

  ++counts[kAccepted][cell];
  if (f.front_door) ++counts[kFrontDoor][cell];
  const std::optional<absl::Time> first_contact =
      Earliest({&f.contacted_at, &f.first_conversation_at, &f.connected_at});
  const std::optional<absl::Time> first_conversation = Earliest({&f.first_conversation_at, &f.connected_at});
  if (first_contact.has_value()) {
    ++counts[kContacted][cell];
    c.days[kToFirstContact][cell].push_back(DaysBetween(f.received_at, *first_contact));
  }
  if (first_conversation.has_value()) {
    ++counts[kFirstConversation][cell];
    c.days[kToFirstConversation][cell].push_back(DaysBetween(f.received_at, *first_conversation));
  }
  if (f.connected_at.has_value()) ++counts[kConnected][cell];
  if (f.declined) ++counts[kDeclined][cell];
  if (f.unable_to_contact) ++counts[kUnableToContact][cell];
  if (f.closed_at.has_value()) {
    ++counts[kClosed][cell];
    c.days[kToClosure][cell].push_back(DaysBetween(f.received_at, *f.closed_at));
  }

  std::vector<const std::string*>& names = c.names;
  names.clear();
  for (const std::string& name : f.connected_to) names.push_back(&name);
  std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  names.erase(
      std::unique(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a == *b; }),
      names.end());
  for (const std::string* name : names) {
    auto [it, added] = c.activity_index.try_emplace(*name, static_cast<int>(c.activities.size()));
    if (added) c.activities.push_back({*name, {}});
    c.activities[it->second].second.push_back(cell);
  }

  std::array<const OutcomeScores*, kOutcomeInstrumentCount> latest{};
  for (const OutcomeScores& scores : f.outcomes) {
    const OutcomeInstrument* instrument = FindOutcomeInstrument(scores.instrument);
    if (instrument != nullptr) latest[InstrumentIndex(instrument)] = &scores;
  }
  for (int i = 0; i < static_cast<int>(latest.size()); ++i) {
    if (latest[i] == nullptr) continue;
    ++counts[kOutcomePeople + i][cell];
    if (OutcomeInstruments()[i].Improved(latest[i]->start_score, latest[i]->end_score)) {
      ++counts[kOutcomeImproved + i][cell];
    }
    c.change_sums[i][cell] += latest[i]->end_score - latest[i]->start_score;
  }
  return absl::OkStatus();
}

ReportFigures ReportCounter::Finish() && {
  Counting& c = *counting_;
  const bool by_group = request_.breakdown() != ReportRequest::NONE;
  ReportFigures figures;

  // Groups sorted by key, kUnknownGroup last.
  std::vector<int> by_key(c.group_names.size());
  for (size_t g = 0; g < by_key.size(); ++g) by_key[g] = static_cast<int>(g);
  std::sort(by_key.begin(), by_key.end(), [&](int a, int b) {
    const bool a_unknown = c.group_names[a] == kUnknownGroup, b_unknown = c.group_names[b] == kUnknownGroup;
    if (a_unknown != b_unknown) return b_unknown;
    return c.group_names[a] < c.group_names[b];
  });
  ReportLayout& layout = figures.layout;
  layout.periods = static_cast<int>(calendar_.periods().size());
  layout.groups = by_group ? static_cast<int>(c.group_names.size()) : 0;
  std::vector<int> column_of(c.group_names.size(), layout.total());
  if (by_group) {
    for (size_t col = 0; col < by_key.size(); ++col) {
      column_of[by_key[col]] = static_cast<int>(col);
      figures.group_keys.push_back(c.group_names[by_key[col]]);
    }
  }
  // Slot (group in order of finding, period) -> the layout's cell.
  std::vector<int32_t> cell_of(c.group_names.size() * layout.periods);
  for (size_t g = 0; g < c.group_names.size(); ++g) {
    for (int p = 0; p < layout.periods; ++p) cell_of[Slot(static_cast<int>(g), p)] = layout.Cell(p, column_of[g]);
  }

  figures.counts.assign(c.counts.size(), std::vector<int64_t>(layout.cells(), 0));
  for (size_t m = 0; m < c.counts.size(); ++m) {
    for (size_t slot = 0; slot < cell_of.size(); ++slot) figures.counts[m][cell_of[slot]] = c.counts[m][slot];
  }
  figures.change_sums.assign(c.change_sums.size(), std::vector<double>(layout.cells(), 0));
  for (size_t i = 0; i < c.change_sums.size(); ++i) {
    for (size_t slot = 0; slot < cell_of.size(); ++slot) figures.change_sums[i][cell_of[slot]] = c.change_sums[i][slot];
  }
  figures.days.assign(kTimeMeasures, std::vector<std::vector<double>>(layout.cells()));
  for (int t = 0; t < kTimeMeasures; ++t) {
    for (size_t slot = 0; slot < cell_of.size(); ++slot) figures.days[t][cell_of[slot]] = std::move(c.days[t][slot]);
  }
  figures.rule_ids = std::move(c.rule_ids);
  figures.activities = std::move(c.activities);
  for (auto& [name, cells] : figures.activities) {
    for (int32_t& cell : cells) cell = cell_of[cell];
  }

  for (std::vector<int64_t>& table : figures.counts) AddMargins(layout, &table);
  for (std::vector<double>& sums : figures.change_sums) AddMargins(layout, &sums);
  return figures;
}

absl::Status CountReportFigures(const ReportRequest& request, absl::Span<const ReferralFacts> facts,
                                const ReportCalendar& calendar, ReportFigures* figures) {
  ReportCounter counter(request, calendar);
  for (const ReferralFacts& f : facts) FRONTDOOR_RETURN_IF_ERROR(counter.Add(f));
  *figures = std::move(counter).Finish();
  return absl::OkStatus();
}

}  // namespace frontdoor::reporting
