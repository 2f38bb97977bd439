#include "reporting/report_figures.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
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
  static bool Listed(const Set& filter, const std::string& value) { return filter.empty() || filter.contains(value); }

  Set boroughs_, clusters_, categories_, teams_, sources_;
};

const std::string& GroupValue(const ReferralFacts& f, ReportRequest::Breakdown breakdown) {
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

absl::Status CountReportFigures(const ReportRequest& request, absl::Span<const ReferralFacts> facts,
                                const ReportCalendar& calendar, ReportFigures* figures) {
  const bool by_group = request.breakdown() != ReportRequest::NONE;
  const Filters filters(request);

  // Which rows count, with their period; the groups they name, in order of finding.
  struct Row {
    size_t index;
    int period;
    int group;
  };
  std::vector<Row> rows;
  absl::flat_hash_map<std::string, int> groups_found;
  std::vector<std::string> group_names;
  const std::string unknown(kUnknownGroup);
  for (size_t i = 0; i < facts.size(); ++i) {
    const ReferralFacts& f = facts[i];
    const int period = calendar.PeriodOf(f.received_at);
    if (period < 0 || !filters.Pass(f)) continue;
    FRONTDOOR_RETURN_IF_ERROR(CheckFacts(f, i));
    int group = 0;
    if (by_group) {
      const std::string& value = GroupValue(f, request.breakdown());
      const std::string& key = value.empty() ? unknown : value;
      auto [it, added] = groups_found.try_emplace(key, static_cast<int>(group_names.size()));
      if (added) group_names.push_back(key);
      group = it->second;
    }
    rows.push_back({i, period, group});
  }

  // Groups sorted by key, kUnknownGroup last.
  std::vector<int> by_key(group_names.size());
  for (size_t g = 0; g < by_key.size(); ++g) by_key[g] = static_cast<int>(g);
  std::sort(by_key.begin(), by_key.end(), [&](int a, int b) {
    const bool a_unknown = group_names[a] == kUnknownGroup, b_unknown = group_names[b] == kUnknownGroup;
    if (a_unknown != b_unknown) return b_unknown;
    return group_names[a] < group_names[b];
  });
  std::vector<int> column_of(group_names.size());
  for (size_t c = 0; c < by_key.size(); ++c) {
    column_of[by_key[c]] = static_cast<int>(c);
    figures->group_keys.push_back(group_names[by_key[c]]);
  }

  ReportLayout& layout = figures->layout;
  layout.periods = static_cast<int>(calendar.periods().size());
  layout.groups = by_group ? static_cast<int>(group_names.size()) : 0;
  const int instruments = static_cast<int>(OutcomeInstruments().size());
  figures->counts.assign(kFirstRuleMeasure, std::vector<int64_t>(layout.cells(), 0));
  figures->change_sums.assign(instruments, std::vector<double>(layout.cells(), 0));
  figures->days.assign(kTimeMeasures, std::vector<std::vector<double>>(layout.cells()));

  absl::flat_hash_map<std::string, int> rule_measure;
  absl::flat_hash_map<std::string, int> activity_index;
  std::vector<const std::string*> names;
  for (const Row& row : rows) {
    const ReferralFacts& f = facts[row.index];
    const int cell = layout.Cell(row.period, by_group ? column_of[row.group] : layout.total());
    auto& counts = figures->counts;
    ++counts[kReceived][cell];
    if (f.disposition == v1::REJECTED) {
      ++counts[kRejected][cell];
      continue;
    }
    if (f.disposition == v1::REFUSED) {
      ++counts[kRefused][cell];
      std::vector<std::string> rules = f.refusal_rule_ids;
      std::sort(rules.begin(), rules.end());
      rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
      for (const std::string& rule : rules) {
        auto [it, added] = rule_measure.try_emplace(rule, static_cast<int>(counts.size()));
        if (added) {
          counts.emplace_back(layout.cells(), 0);
          figures->rule_ids.push_back(rule);
        }
        ++counts[it->second][cell];
      }
      continue;
    }

    ++counts[kAccepted][cell];
    if (f.front_door) ++counts[kFrontDoor][cell];
    const std::optional<absl::Time> first_contact =
        Earliest({&f.contacted_at, &f.first_conversation_at, &f.connected_at});
    const std::optional<absl::Time> first_conversation = Earliest({&f.first_conversation_at, &f.connected_at});
    if (first_contact.has_value()) {
      ++counts[kContacted][cell];
      figures->days[kToFirstContact][cell].push_back(DaysBetween(f.received_at, *first_contact));
    }
    if (first_conversation.has_value()) {
      ++counts[kFirstConversation][cell];
      figures->days[kToFirstConversation][cell].push_back(DaysBetween(f.received_at, *first_conversation));
    }
    if (f.connected_at.has_value()) ++counts[kConnected][cell];
    if (f.declined) ++counts[kDeclined][cell];
    if (f.unable_to_contact) ++counts[kUnableToContact][cell];
    if (f.closed_at.has_value()) {
      ++counts[kClosed][cell];
      figures->days[kToClosure][cell].push_back(DaysBetween(f.received_at, *f.closed_at));
    }

    names.clear();
    for (const std::string& name : f.connected_to) names.push_back(&name);
    std::sort(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    names.erase(
        std::unique(names.begin(), names.end(), [](const std::string* a, const std::string* b) { return *a == *b; }),
        names.end());
    for (const std::string* name : names) {
      auto [it, added] = activity_index.try_emplace(*name, static_cast<int>(figures->activities.size()));
      if (added) figures->activities.push_back({*name, {}});
      figures->activities[it->second].second.push_back(cell);
    }

    std::array<const OutcomeScores*, kOutcomeInstrumentCount> latest{};
    for (const OutcomeScores& scores : f.outcomes) {
      const OutcomeInstrument* instrument = FindOutcomeInstrument(scores.instrument);
      if (instrument != nullptr) latest[InstrumentIndex(instrument)] = &scores;
    }
    for (int i = 0; i < instruments; ++i) {
      if (latest[i] == nullptr) continue;
      ++counts[kOutcomePeople + i][cell];
      if (OutcomeInstruments()[i].Improved(latest[i]->start_score, latest[i]->end_score)) {
        ++counts[kOutcomeImproved + i][cell];
      }
      figures->change_sums[i][cell] += latest[i]->end_score - latest[i]->start_score;
    }
  }

  for (std::vector<int64_t>& table : figures->counts) AddMargins(layout, &table);
  for (std::vector<double>& sums : figures->change_sums) AddMargins(layout, &sums);
  return absl::OkStatus();
}

}  // namespace frontdoor::reporting
