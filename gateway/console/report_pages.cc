#include "gateway/console/report_pages.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "boost/url/url.hpp"
#include "reporting/report_text.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;
using kainjow::mustache::data;
using reporting::CountText;

namespace {

struct Choice {
  const char* value;
  const char* text;
};

constexpr Choice kPeriods[] = {{"week", "week (Monday to Sunday)"}, {"month", "month"}};
constexpr Choice kBreakdowns[] = {{"none", "nothing (totals)"},     {"borough", "borough"},     {"cluster", "cluster"},
                                  {"category", "service category"}, {"team", "connector team"}, {"source", "source"}};
constexpr Choice kBoroughs[] = {{"", "both"}, {"oldham", "Oldham"}, {"tameside", "Tameside"}};
constexpr Choice kCategories[] = {{"", "any"},
                                  {"wellbeing", "wellbeing"},
                                  {"older-people", "older people"},
                                  {"mental-health", "mental health"},
                                  {"all", "all (Tameside)"}};
constexpr Choice kSources[] = {{"", "any"},
                               {"gp-practice", "GP practice"},
                               {"self-referral", "self-referral"},
                               {"hospital", "hospital"},
                               {"social-care", "social care"},
                               {"mental-health", "mental health services"},
                               {"early-help", "early help"},
                               {"community", "community"}};

template <size_t N>
const Choice* Find(const Choice (&choices)[N], const std::string& value) {
  for (const Choice& c : choices) {
    if (value == c.value) return &c;
  }
  return nullptr;
}

template <size_t N>
data Options(const Choice (&choices)[N], const std::string& selected) {
  data list{data::type::list};
  for (const Choice& c : choices) {
    data option;
    option.set("value", c.value);
    option.set("text", c.text);
    option.set("selected", selected == c.value);
    list.push_back(option);
  }
  return list;
}

std::string StatisticText(const v1::Statistic& s, const char* format) {
  if (s.has_suppressed()) return "*";
  if (!s.has_value()) return "-";
  return absl::StrFormat(format, s.value());
}

// The query string of `request` as the page's own fields: the CSV link, the form's values.
std::string QueryOf(const FormFields& form) {
  boost::urls::url url("/reports.csv");
  for (const char* name : {"from", "to", "period", "by", "borough", "category", "source"}) {
    if (!form.Get(name).empty()) url.params().append({name, form.Get(name)});
  }
  return std::string(url.buffer());
}

data ChartOf(const v1::Report& report, data& view) {
  constexpr int kWidth = 720, kHeight = 220, kTop = 20, kBase = 200;
  int64_t max = 0;
  for (const v1::ReportPeriod& p : report.periods()) {
    if (!p.total().referrals().received().has_suppressed())
      max = std::max(max, p.total().referrals().received().value());
  }
  const int n = std::max(1, report.periods_size());
  const double slot = static_cast<double>(kWidth) / n;
  data bars{data::type::list};
  for (int i = 0; i < report.periods_size(); ++i) {
    const v1::Count& received = report.periods(i).total().referrals().received();
    data bar;
    const double x = i * slot + slot * 0.15;
    bar.set("shown", !received.has_suppressed());
    bar.set("label_x", absl::StrFormat("%.1f", i * slot + slot / 2));
    bar.set("star_y", std::to_string(kBase - 4));
    if (!received.has_suppressed()) {
      const double h = max == 0 ? 0 : (kBase - kTop) * static_cast<double>(received.value()) / max;
      bar.set("x", absl::StrFormat("%.1f", x));
      bar.set("w", absl::StrFormat("%.1f", slot * 0.7));
      bar.set("y", absl::StrFormat("%.1f", kBase - h));
      bar.set("h", absl::StrFormat("%.1f", h));
    }
    bars.push_back(bar);
  }
  view.set("chart_width", std::to_string(kWidth));
  view.set("chart_height", std::to_string(kHeight));
  view.set("chart_base", std::to_string(kBase));
  view.set("chart_max", absl::StrCat("highest: ", max));
  return bars;
}

void ReportView(const v1::Report& report, data& view) {
  const v1::ReportPeriod& whole = report.whole_range();
  const v1::ReportGroup& total = whole.total();
  view.set("report", true);
  view.set("too_fine", report.too_fine());
  view.set("range", absl::StrCat(whole.start_date(), " to ", whole.end_date()));
  view.set("period_word", report.request().period() == v1::ReportRequest::MONTH ? "month" : "week");
  data headline{data::type::list};
  for (const auto& [label, count] :
       std::vector<std::pair<const char*, const v1::Count*>>{{"Referrals received", &total.referrals().received()},
                                                             {"Accepted", &total.referrals().accepted()},
                                                             {"Refused", &total.referrals().refused()},
                                                             {"Rejected", &total.referrals().rejected()},
                                                             {"Contacted", &total.funnel().contacted()},
                                                             {"Connected", &total.funnel().connected()},
                                                             {"Closed", &total.funnel().closed()}}) {
    data item;
    item.set("label", label);
    item.set("value", CountText(*count));
    headline.push_back(item);
  }
  view.set("headline", headline);
  view.set("bars", ChartOf(report, view));
  data periods{data::type::list};
  for (const v1::ReportPeriod& p : report.periods()) {
    data row;
    row.set("start", p.start_date());
    row.set("end", p.end_date());
    row.set("received", CountText(p.total().referrals().received()));
    row.set("accepted", CountText(p.total().referrals().accepted()));
    row.set("refused", CountText(p.total().referrals().refused()));
    row.set("rejected", CountText(p.total().referrals().rejected()));
    periods.push_back(row);
  }
  view.set("periods_rows", periods);
  const bool by_groups = whole.groups_size() > 0;
  view.set("by_groups", by_groups);
  for (const Choice& c : kBreakdowns) {
    if (v1::ReportRequest::Breakdown_Name(report.request().breakdown()) == absl::AsciiStrToUpper(c.value)) {
      view.set("by_word", c.text);
    }
  }
  view.set("group_heading", by_groups ? "Group" : "Whole range");
  data groups{data::type::list};
  std::vector<const v1::ReportGroup*> shown;
  for (const v1::ReportGroup& g : whole.groups()) shown.push_back(&g);
  shown.push_back(&total);
  for (const v1::ReportGroup* g : shown) {
    data row;
    row.set("key", g->key());
    row.set("received", CountText(g->referrals().received()));
    row.set("accepted", CountText(g->referrals().accepted()));
    row.set("refused", CountText(g->referrals().refused()));
    row.set("rejected", CountText(g->referrals().rejected()));
    row.set("contacted", CountText(g->funnel().contacted()));
    row.set("conversation", CountText(g->funnel().first_conversation_held()));
    row.set("connected", CountText(g->funnel().connected()));
    row.set("closed", CountText(g->funnel().closed()));
    row.set("median_contact", StatisticText(g->times().to_first_contact().median_days(), "%.1f"));
    groups.push_back(row);
  }
  view.set("groups", groups);
  data outcomes{data::type::list};
  for (const v1::OutcomeChange& o : total.outcomes()) {
    data row;
    row.set("instrument", o.instrument());
    row.set("people", CountText(o.people()));
    row.set("mean_change", StatisticText(o.mean_change(), "%+.2f"));
    row.set("improved", CountText(o.improved()));
    row.set("share", o.share_improved().has_value() ? absl::StrFormat("%.0f%%", 100 * o.share_improved().value())
                                                    : StatisticText(o.share_improved(), "%.2f"));
    for (const v1::OutcomeInstrument& i : report.instruments()) {
      if (i.instrument() == o.instrument())
        row.set("threshold",
                absl::StrFormat("%g point%s", i.meaningful_change(), i.meaningful_change() == 1 ? "" : "s"));
    }
    outcomes.push_back(row);
  }
  view.set("outcomes", outcomes);
  data connected{data::type::list};
  for (const v1::ConnectedTo& c : total.connected_to()) {
    data item;
    item.set("name", c.name());
    item.set("people", CountText(c.people()));
    connected.push_back(item);
  }
  view.set("connected_to_any", total.connected_to_size() > 0);
  view.set("connected_to", connected);
  view.set("rule", report.disclosure_rule().description());
  view.set("smallest", std::to_string(report.disclosure_rule().smallest_suppressed()));
  view.set("largest", std::to_string(report.disclosure_rule().largest_suppressed()));
}

}  // namespace

absl::StatusOr<v1::ReportRequest> ReportRequestFromForm(const FormFields& form, const std::string& today) {
  v1::ReportRequest request;
  absl::CivilDay to_day;
  if (!absl::ParseCivilTime(today, &to_day)) return absl::InternalError("today is not a day");
  // Twelve whole weeks: from the Monday eleven weeks before this week's.
  absl::CivilDay monday = to_day;
  while (absl::GetWeekday(monday) != absl::Weekday::monday) --monday;
  request.set_from_date(form.Get("from").empty() ? absl::FormatCivilTime(monday - 77) : form.Get("from"));
  request.set_to_date(form.Get("to").empty() ? today : form.Get("to"));
  const std::string period = form.Get("period").empty() ? "week" : form.Get("period");
  const std::string by = form.Get("by").empty() ? "none" : form.Get("by");
  if (Find(kPeriods, period) == nullptr || Find(kBreakdowns, by) == nullptr ||
      Find(kBoroughs, form.Get("borough")) == nullptr || Find(kCategories, form.Get("category")) == nullptr ||
      Find(kSources, form.Get("source")) == nullptr) {
    return absl::InvalidArgumentError("Choose the period, breakdown and filters from their lists.");
  }
  request.set_period(period == "month" ? v1::ReportRequest::MONTH : v1::ReportRequest::WEEK);
  v1::ReportRequest::Breakdown breakdown = v1::ReportRequest::NONE;
  v1::ReportRequest::Breakdown_Parse(absl::AsciiStrToUpper(by), &breakdown);
  request.set_breakdown(breakdown);
  if (!form.Get("borough").empty()) request.add_boroughs(form.Get("borough"));
  if (!form.Get("category").empty()) request.add_categories(form.Get("category"));
  if (!form.Get("source").empty()) request.add_sources(form.Get("source"));
  return request;
}

void ReportPages::Page(const ConsoleVisit& visit) const {
  // An address whose query cannot be read is said to be so (400), with the form at its defaults:
  // never a report of the defaults as if they had been asked for.
  absl::StatusOr<FormFields> form = ParseForm(visit.query);
  const std::string today = absl::FormatTime("%Y-%m-%d", clock_->Now(), absl::UTCTimeZone());
  absl::StatusOr<v1::ReportRequest> request =
      form.ok() ? ReportRequestFromForm(*form, today) : absl::StatusOr<v1::ReportRequest>(form.status());
  if (!form.ok()) form = FormFields{};
  data view = visit.View("Outcome figures");
  view.set("on_reports", true);
  data fields;
  fields.set("from", request.ok() ? request->from_date() : form->Get("from"));
  fields.set("to", request.ok() ? request->to_date() : form->Get("to"));
  view.set("form", fields);
  view.set("periods", Options(kPeriods, form->Get("period").empty() ? "week" : form->Get("period")));
  view.set("breakdowns", Options(kBreakdowns, form->Get("by").empty() ? "none" : form->Get("by")));
  view.set("boroughs", Options(kBoroughs, form->Get("borough")));
  view.set("categories", Options(kCategories, form->Get("category")));
  view.set("sources", Options(kSources, form->Get("source")));
  if (!request.ok()) {
    view.set("problem", std::string(request.status().message()));
    return visit.Page(400, "reports", std::move(view));
  }
  FormFields csv_form = *form;
  csv_form.values["from"] = request->from_date();
  csv_form.values["to"] = request->to_date();
  view.set("csv_href", QueryOf(csv_form));
  reporter_->Report(visit.caller, *request, [visit, view = std::move(view)](absl::StatusOr<v1::Report> report) mutable {
    if (!report.ok()) {
      view.set("problem", std::string(report.status().message()));
      const int status = report.status().code() == absl::StatusCode::kInvalidArgument    ? 400
                         : report.status().code() == absl::StatusCode::kPermissionDenied ? 403
                                                                                         : 503;
      return visit.Page(status, "reports", std::move(view));
    }
    ReportView(*report, view);
    visit.Page(200, "reports", std::move(view));
  });
}

void ReportPages::Csv(const ConsoleVisit& visit) const {
  absl::StatusOr<FormFields> form = ParseForm(visit.query);
  const std::string today = absl::FormatTime("%Y-%m-%d", clock_->Now(), absl::UTCTimeZone());
  absl::StatusOr<v1::ReportRequest> request =
      form.ok() ? ReportRequestFromForm(*form, today) : absl::StatusOr<v1::ReportRequest>(form.status());
  if (!request.ok()) {
    return visit.Problem(400, "Cannot make that report", std::string(request.status().message()), "/reports",
                         "Back to outcome figures");
  }
  reporter_->Report(visit.caller, *request, [visit](absl::StatusOr<v1::Report> report) {
    if (!report.ok()) {
      return visit.Problem(report.status().code() == absl::StatusCode::kInvalidArgument ? 400 : 503,
                           "Cannot make that report", std::string(report.status().message()), "/reports",
                           "Back to outcome figures");
    }
    visit.respond(HttpAnswer{200,
                             {{"content-type", "text/csv; charset=utf-8"},
                              {"content-disposition", "attachment; filename=\"frontdoor-outcomes.csv\""}},
                             reporting::ReportCsv(*report)});
  });
}

}  // namespace frontdoor::gateway
