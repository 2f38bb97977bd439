#include "reporting/report_text.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "audit/audit_csv.h"
#include "google/protobuf/util/json_util.h"

namespace frontdoor::reporting {
namespace {

namespace v1 = ::frontdoor::v1;

constexpr char kStar[] = "*";
constexpr char kOverNoOne[] = "-";

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// `empty`: what a statistic over no one prints as.
std::string StatisticText(const v1::Statistic& s, int decimals, absl::string_view empty) {
  switch (s.cell_case()) {
    case v1::Statistic::kSuppressed:
      return kStar;
    case v1::Statistic::kValue:
      return Fixed(s.value(), decimals);
    default:
      return std::string(empty);
  }
}

std::string ShareText(const v1::Statistic& s) {
  if (s.cell_case() != v1::Statistic::kValue) return StatisticText(s, 0, kOverNoOne);
  return absl::StrCat(Fixed(100 * s.value(), 0), "%");
}

absl::string_view PeriodWord(v1::ReportRequest::Period period) {
  return period == v1::ReportRequest::MONTH ? "month" : "week";
}

std::string BreakdownWord(v1::ReportRequest::Breakdown breakdown) {
  return absl::AsciiStrToLower(v1::ReportRequest::Breakdown_Name(breakdown));
}

// The rows of a report, in the order both renderers print them: each period's groups then its
// total, then the whole range's.
struct Row {
  const v1::ReportPeriod* period;
  const v1::ReportGroup* group;
  bool whole_range;
  bool first_of_period;
};

std::vector<Row> Rows(const v1::Report& report) {
  std::vector<Row> rows;
  const auto add = [&rows](const v1::ReportPeriod& p, bool whole_range) {
    bool first = true;
    for (const v1::ReportGroup& g : p.groups()) {
      rows.push_back({&p, &g, whole_range, first});
      first = false;
    }
    rows.push_back({&p, &p.total(), whole_range, first});
  };
  for (const v1::ReportPeriod& p : report.periods()) add(p, false);
  add(report.whole_range(), true);
  return rows;
}

std::string GroupName(const v1::ReportGroup& g) { return g.key().empty() ? "total" : g.key(); }

// Rule ids in the order the report first names them.
std::vector<std::string> RuleIds(const v1::Report& report) {
  std::vector<std::string> ids;
  for (const Row& row : Rows(report)) {
    for (const v1::RuleCount& r : row.group->referrals().refused_by_rule()) {
      if (std::find(ids.begin(), ids.end(), r.rule_id()) == ids.end()) ids.push_back(r.rule_id());
    }
  }
  return ids;
}

const v1::Count* RuleCountOf(const v1::ReportGroup& g, const std::string& rule_id) {
  for (const v1::RuleCount& r : g.referrals().refused_by_rule()) {
    if (r.rule_id() == rule_id) return &r.referrals();
  }
  return nullptr;
}

const v1::OutcomeChange* OutcomeOf(const v1::ReportGroup& g, const std::string& instrument) {
  for (const v1::OutcomeChange& o : g.outcomes()) {
    if (o.instrument() == instrument) return &o;
  }
  return nullptr;
}

// A text table: columns as wide as their widest cell, the first `left` columns left-aligned and the
// figures right-aligned.
class TextTable {
 public:
  TextTable(std::vector<std::string> header, size_t left) : left_(left) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  std::string Render() const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        const std::string pad(width[i] - row[i].size(), ' ');
        if (i > 0) line += "  ";
        line += i < left_ ? row[i] + pad : pad + row[i];
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  size_t left_;
  std::vector<std::vector<std::string>> rows_;
};

std::string PeriodLabel(const Row& row) {
  if (!row.first_of_period) return "";
  if (row.whole_range) return "whole range";
  return absl::StrCat(row.period->start_date(), "..", row.period->end_date());
}

std::vector<std::string> Leading(const Row& row) { return {PeriodLabel(row), GroupName(*row.group)}; }

std::string Heading(const v1::Report& report) {
  const v1::ReportRequest& q = report.request();
  std::string out = absl::StrCat("Referrals received ", q.from_date(), " to ", q.to_date(),
                                 report.time_zone().empty() ? "" : absl::StrCat(" (", report.time_zone(), ")"), ", by ",
                                 PeriodWord(q.period()));
  if (q.breakdown() != v1::ReportRequest::NONE && q.breakdown() != v1::ReportRequest::BREAKDOWN_UNSPECIFIED) {
    absl::StrAppend(&out, " and ", BreakdownWord(q.breakdown()));
  }
  absl::StrAppend(&out, "\n");
  std::vector<std::string> filters;
  for (const auto& [name, values] :
       {std::pair{"borough", &q.boroughs()}, std::pair{"cluster", &q.clusters()},
        std::pair{"category", &q.categories()}, std::pair{"team", &q.teams()}, std::pair{"source", &q.sources()}}) {
    if (!values->empty()) filters.push_back(absl::StrCat(name, " ", absl::StrJoin(*values, " or ")));
  }
  if (!filters.empty()) absl::StrAppend(&out, "Only referrals with ", absl::StrJoin(filters, "; "), "\n");
  return out;
}

std::string TooFineNote(const Row& row, const v1::Report& report) {
  if (!row.period->too_fine() || row.group != &row.period->total()) return "";
  return report.request().breakdown() == v1::ReportRequest::NONE ? "too few referrals to show"
                                                                 : "too fine: no group can be shown";
}

}  // namespace

std::string CountText(const v1::Count& c) {
  if (c.cell_case() == v1::Count::kSuppressed) return kStar;
  return absl::StrCat(c.value());  // a count never set is 0
}

std::string ReportTable(const v1::Report& report) {
  const std::vector<Row> rows = Rows(report);
  std::string out = Heading(report);
  if (report.too_fine()) {
    absl::StrAppend(&out,
                    "\nThis breakdown is too fine to show anything: there were referrals, but every figure that "
                    "would\nshow them is too small to publish. Ask for a coarser one (--period month, --by none, "
                    "fewer filters).\n");
  }

  const bool any_too_fine =
      report.whole_range().too_fine() ||
      std::any_of(report.periods().begin(), report.periods().end(), [](const auto& p) { return p.too_fine(); });
  std::vector<std::string> header = {"period", "group", "received", "accepted", "refused", "rejected", "fallbacks"};
  if (any_too_fine) header.push_back("");
  TextTable referrals(header, 2);
  for (const Row& row : rows) {
    const v1::ReferralCounts& r = row.group->referrals();
    std::vector<std::string> cells = Leading(row);
    for (const v1::Count* c : {&r.received(), &r.accepted(), &r.refused(), &r.rejected(), &r.front_door()}) {
      cells.push_back(CountText(*c));
    }
    if (any_too_fine) cells.push_back(TooFineNote(row, report));
    referrals.Add(std::move(cells));
  }
  absl::StrAppend(&out, "\nReferrals (fallbacks: accepted referrals a borough's front-door team took)\n",
                  referrals.Render());

  const std::vector<std::string> rule_ids = RuleIds(report);
  if (!rule_ids.empty()) {
    std::vector<std::string> rule_header = {"period", "group"};
    rule_header.insert(rule_header.end(), rule_ids.begin(), rule_ids.end());
    TextTable rules(rule_header, 2);
    for (const Row& row : rows) {
      std::vector<std::string> cells = Leading(row);
      for (const std::string& id : rule_ids) {
        const v1::Count* c = RuleCountOf(*row.group, id);
        cells.push_back(c == nullptr ? "0" : CountText(*c));
      }
      rules.Add(std::move(cells));
    }
    absl::StrAppend(&out, "\nRefused, by rule (a referral refused by two rules counts under both)\n", rules.Render());
  }

  TextTable funnel({"period", "group", "received", "contacted", "conversation", "connected", "declined",
                    "unable to contact", "closed"},
                   2);
  for (const Row& row : rows) {
    const v1::CaseworkFunnel& f = row.group->funnel();
    std::vector<std::string> cells = Leading(row);
    for (const v1::Count* c : {&f.received(), &f.contacted(), &f.first_conversation_held(), &f.connected(),
                               &f.declined(), &f.unable_to_contact(), &f.closed()}) {
      cells.push_back(CountText(*c));
    }
    funnel.Add(std::move(cells));
  }
  absl::StrAppend(&out,
                  "\nCasework funnel (accepted referrals; a stage counts everyone who reached it or a later one)\n",
                  funnel.Render());

  TextTable times(
      {"period", "group", "contacted", "median", "p90", "conversation", "median", "p90", "closed", "median", "p90"}, 2);
  for (const Row& row : rows) {
    const v1::CaseworkTimes& t = row.group->times();
    std::vector<std::string> cells = Leading(row);
    for (const v1::TimeToEvent* e : {&t.to_first_contact(), &t.to_first_conversation(), &t.to_closure()}) {
      cells.push_back(CountText(e->people()));
      cells.push_back(StatisticText(e->median_days(), 1, kOverNoOne));
      cells.push_back(StatisticText(e->p90_days(), 1, kOverNoOne));
    }
    times.Add(std::move(cells));
  }
  absl::StrAppend(&out,
                  "\nDays from referral to first contact, first conversation and closure (people, median, 90th "
                  "percentile)\n",
                  times.Render());

  TextTable outcomes({"period", "group", "instrument", "people", "mean change", "improved", "share improved"}, 3);
  bool any_outcome = false;
  for (const Row& row : rows) {
    bool first = true;
    for (const v1::OutcomeChange& o : row.group->outcomes()) {
      if (o.people().cell_case() == v1::Count::kValue && o.people().value() == 0) continue;
      std::vector<std::string> cells = {first ? PeriodLabel(row) : "", first ? GroupName(*row.group) : "",
                                        o.instrument()};
      cells.push_back(CountText(o.people()));
      cells.push_back(StatisticText(o.mean_change(), 2, kOverNoOne));
      cells.push_back(CountText(o.improved()));
      cells.push_back(ShareText(o.share_improved()));
      outcomes.Add(std::move(cells));
      any_outcome = true;
      first = false;
    }
  }
  absl::StrAppend(&out, "\nOutcomes (people with a start and an end score)\n",
                  any_outcome ? outcomes.Render() : "no one in this report has both scores of an instrument\n");
  if (!report.instruments().empty()) {
    absl::StrAppend(&out,
                    "improved: changed by at least the instrument's meaningful change, in the better direction\n");
    for (const v1::OutcomeInstrument& i : report.instruments()) {
      absl::StrAppend(&out, "  ", i.instrument(), ": ", Fixed(i.meaningful_change(), 0), " point",
                      i.meaningful_change() == 1 ? "" : "s", i.lower_is_better() ? " (lower is better)" : "",
                      i.source().empty() ? "" : absl::StrCat("; ", i.source()), "\n");
    }
  }

  TextTable connected({"group", "connected to", "people"}, 2);
  bool any_connected = false;
  for (const Row& row : rows) {
    if (!row.whole_range) continue;
    for (const v1::ConnectedTo& c : row.group->connected_to()) {
      connected.Add({GroupName(*row.group), c.name(), CountText(c.people())});
      any_connected = true;
    }
  }
  if (any_connected) {
    absl::StrAppend(&out, "\nWhat people were connected to, whole range (names with at least 8 people)\n",
                    connected.Render());
  }

  const v1::DisclosureRule& rule = report.disclosure_rule();
  absl::StrAppend(&out, "\n* suppressed: a count from ", rule.smallest_suppressed(), " to ", rule.largest_suppressed(),
                  ", or one that would let such a count be worked out\n"
                  "  from the totals, and any figure over such a count (statistical disclosure control)\n",
                  rule.description().empty() ? "" : absl::StrCat("  ", rule.description(), "\n"));
  absl::StrAppend(&out, "- over no one\n");
  return out;
}

std::string ReportCsv(const v1::Report& report) {
  std::vector<std::string> instruments;
  for (const v1::OutcomeInstrument& i : report.instruments()) instruments.push_back(i.instrument());
  std::vector<std::string> header = {"span",
                                     "period_start",
                                     "period_end",
                                     "group",
                                     "period_too_fine",
                                     "received",
                                     "accepted",
                                     "refused",
                                     "rejected",
                                     "fallbacks",
                                     "refused_by_rule",
                                     "funnel_received",
                                     "contacted",
                                     "first_conversation_held",
                                     "connected",
                                     "declined",
                                     "unable_to_contact",
                                     "closed"};
  for (const char* event : {"first_contact", "first_conversation", "closure"}) {
    for (const char* column : {"_people", "_median_days", "_p90_days"}) header.push_back(absl::StrCat(event, column));
  }
  for (const std::string& instrument : instruments) {
    const std::string stem = absl::StrReplaceAll(absl::AsciiStrToLower(instrument), {{"-", "_"}});
    for (const char* column : {"_people", "_mean_change", "_improved", "_share_improved"}) {
      header.push_back(stem + column);
    }
  }
  header.push_back("connected_to");
  std::string out = absl::StrJoin(header, ",") + "\n";

  // Figures are written as they are (CsvField would make a negative change text); names are quoted.
  const std::string span = report.request().period() == v1::ReportRequest::MONTH ? "month" : "week";
  for (const Row& row : Rows(report)) {
    const v1::ReportGroup& g = *row.group;
    const v1::ReferralCounts& r = g.referrals();
    std::vector<std::string> rules;
    for (const v1::RuleCount& rc : r.refused_by_rule()) {
      rules.push_back(absl::StrCat(rc.rule_id(), ":", CountText(rc.referrals())));
    }
    std::vector<std::string> cells = {row.whole_range ? "whole-range" : span, row.period->start_date(),
                                      row.period->end_date(), audit::CsvField(GroupName(g)),
                                      row.period->too_fine() ? "true" : "false"};
    for (const v1::Count* c : {&r.received(), &r.accepted(), &r.refused(), &r.rejected(), &r.front_door()}) {
      cells.push_back(CountText(*c));
    }
    cells.push_back(audit::CsvField(absl::StrJoin(rules, ";")));
    const v1::CaseworkFunnel& f = g.funnel();
    for (const v1::Count* c : {&f.received(), &f.contacted(), &f.first_conversation_held(), &f.connected(),
                               &f.declined(), &f.unable_to_contact(), &f.closed()}) {
      cells.push_back(CountText(*c));
    }
    const v1::CaseworkTimes& t = g.times();
    for (const v1::TimeToEvent* e : {&t.to_first_contact(), &t.to_first_conversation(), &t.to_closure()}) {
      cells.push_back(CountText(e->people()));
      cells.push_back(StatisticText(e->median_days(), 2, ""));
      cells.push_back(StatisticText(e->p90_days(), 2, ""));
    }
    for (const std::string& instrument : instruments) {
      const v1::OutcomeChange* o = OutcomeOf(g, instrument);
      if (o == nullptr) {
        cells.insert(cells.end(), {"0", "", "0", ""});
        continue;
      }
      cells.push_back(CountText(o->people()));
      cells.push_back(StatisticText(o->mean_change(), 3, ""));
      cells.push_back(CountText(o->improved()));
      cells.push_back(StatisticText(o->share_improved(), 4, ""));
    }
    std::vector<std::string> names;
    for (const v1::ConnectedTo& c : g.connected_to()) {
      names.push_back(absl::StrCat(c.name(), ":", CountText(c.people())));
    }
    cells.push_back(audit::CsvField(absl::StrJoin(names, ";")));
    absl::StrAppend(&out, absl::StrJoin(cells, ","), "\n");
  }
  return out;
}

std::string ReportJson(const v1::Report& report) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(report, &out, options).ok()) return "{}\n";
  return out;
}

}  // namespace frontdoor::reporting
