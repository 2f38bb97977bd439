// Unit tests of tools/report_command: `frontdoor report`'s command line (defaults, filters, and a
// usage error naming the flag for each rule), and the table and CSV it prints from a hand-built
// Report (suppressed cells as *, statistics over no one, a breakdown too fine to show anything, the
// footnote with the Report's threshold). No gateway: the renderers are pure.
#include "tools/report_command.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reporting/report_text.h"

namespace frontdoor::cli {
namespace {

namespace v1 = ::frontdoor::v1;
using reporting::ReportCsv;
using reporting::ReportJson;
using reporting::ReportTable;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

absl::StatusOr<ReportCommand> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "report");
  std::optional<absl::StatusOr<ReportCommand>> command = ParseReportCommand(args);
  if (!command.has_value()) return absl::InternalError("not read as report");
  return *command;
}

// ---- The command line ----

TEST(ReportCommandParse, OtherCommandsAreNotReport) {
  EXPECT_FALSE(ParseReportCommand({"audit", "query"}).has_value());
  EXPECT_FALSE(ParseReportCommand({}).has_value());
}

TEST(ReportCommandParse, DefaultsToWeeklyTotals) {
  absl::StatusOr<ReportCommand> c = Parse({"--from", "2025-04-01", "--to", "2025-06-30"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->request.from_date(), "2025-04-01");
  EXPECT_EQ(c->request.to_date(), "2025-06-30");
  EXPECT_EQ(c->request.period(), v1::ReportRequest::WEEK);
  EXPECT_EQ(c->request.breakdown(), v1::ReportRequest::NONE);
  EXPECT_EQ(c->request.boroughs_size() + c->request.sources_size() + c->request.teams_size(), 0);
}

TEST(ReportCommandParse, FormatDefaultsToTableOnTerminalAndJsonOtherwise) {
  absl::StatusOr<ReportCommand> c = Parse({"--from", "2025-04-01", "--to", "2025-04-01"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->FormatFor(/*terminal=*/true), ReportCommand::Format::kTable);
  EXPECT_EQ(c->FormatFor(/*terminal=*/false), ReportCommand::Format::kJson);
  c = Parse({"--from", "2025-04-01", "--to", "2025-04-01", "--format", "csv"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->FormatFor(/*terminal=*/true), ReportCommand::Format::kCsv);
}

TEST(ReportCommandParse, PeriodBreakdownAndRepeatedFiltersAreSent) {
  absl::StatusOr<ReportCommand> c = Parse(
      {"--from",       "2024-02-29",   "--to",   "2025-02-28",        "--period", "month",       "--by",
       "team",         "--borough",    "oldham", "--borough",         "tameside", "--cluster",   "oldham-north-royton",
       "--category",   "older-people", "--team", "oldham-front-door", "--source", "gp-practice", "--source",
       "self-referral"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->request.period(), v1::ReportRequest::MONTH);
  EXPECT_EQ(c->request.breakdown(), v1::ReportRequest::TEAM);
  EXPECT_THAT(c->request.boroughs(), ElementsAre("oldham", "tameside"));
  EXPECT_THAT(c->request.clusters(), ElementsAre("oldham-north-royton"));
  EXPECT_THAT(c->request.categories(), ElementsAre("older-people"));
  EXPECT_THAT(c->request.teams(), ElementsAre("oldham-front-door"));
  EXPECT_THAT(c->request.sources(), ElementsAre("gp-practice", "self-referral"));
}

TEST(ReportCommandParse, EveryBreakdownWordIsTaken) {
  for (const char* by : {"none", "borough", "cluster", "category", "team", "source"}) {
    EXPECT_TRUE(Parse({"--from", "2025-04-01", "--to", "2025-04-30", "--by", by}).ok()) << by;
  }
}

struct BadLine {
  std::vector<std::string> args;
  std::string named;  // what the message must say
};

TEST(ReportCommandParse, AWrongLineIsAUsageErrorNamingTheFlag) {
  const std::vector<std::string> range = {"--from", "2025-04-01", "--to", "2025-04-30"};
  const auto with = [&range](std::vector<std::string> more) {
    more.insert(more.begin(), range.begin(), range.end());
    return more;
  };
  const std::vector<BadLine> cases = {
      {{"--to", "2025-04-30"}, "--from"},
      {{"--from", "2025-04-01"}, "--to"},
      {{"--from", "2025-02-29", "--to", "2025-04-30"}, "--from 2025-02-29"},  // not a leap year
      {{"--from", "2025-04-01", "--to", "30/04/2025"}, "--to 30/04/2025"},
      {{"--from", "2025-04-01T00:00:00Z", "--to", "2025-04-30"}, "--from"},
      {{"--from", "2025-05-01", "--to", "2025-04-30"}, "is after --to"},
      {{"--from", "2000-01-01", "--to", "2025-04-30"}, "at most 3660"},
      {with({"--period", "fortnight"}), "--period fortnight: not one of week, month"},
      {with({"--by", "ward"}), "--by ward: not one of none, borough, cluster, category, team, source"},
      {with({"--format", "xlsx"}), "--format xlsx: not one of table, csv, json"},
      {with({"--source", "pharmacy"}), "--source pharmacy"},
      {with({"--borough", "oldham-east"}), "--borough oldham-east"},
      {with({"--cluster", "Oldham North"}), "--cluster Oldham North"},
      {with({"--team", "--format"}), "--team --format"},
      {with({"--category", ""}), "--category"},
      {with({"--ward", "x"}), "unknown option --ward"},
      {with({"--period"}), "--period needs a value"},
      {with({"--by", "team", "--by", "borough"}), "--by is given twice"},
      {with({"extra"}), "not extra"},
  };
  for (const BadLine& c : cases) {
    absl::StatusOr<ReportCommand> parsed = Parse(c.args);
    ASSERT_FALSE(parsed.ok()) << c.named;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.named));
  }
}

TEST(ReportCommandParse, AFilterTakesAtMostAHundredValues) {
  std::vector<std::string> args = {"--from", "2025-04-01", "--to", "2025-04-30"};
  for (int i = 0; i < 101; ++i) args.insert(args.end(), {"--team", "team-" + std::to_string(i)});
  absl::StatusOr<ReportCommand> parsed = Parse(args);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("--team is given 101 times: at most 100"));
}

// ---- Rendering ----

void SetCount(v1::Count* c, int value) { c->set_value(value); }
void Suppress(v1::Count* c) { c->set_suppressed(true); }

// A group with figures; `small` suppresses its refused and rejected counts (and what is over them).
void FillGroup(v1::ReportGroup* g, const std::string& key, int received, bool small) {
  g->set_key(key);
  v1::ReferralCounts* r = g->mutable_referrals();
  SetCount(r->mutable_received(), received);
  SetCount(r->mutable_accepted(), received - (small ? 3 : 0));
  small ? Suppress(r->mutable_refused()) : SetCount(r->mutable_refused(), 0);
  small ? Suppress(r->mutable_rejected()) : SetCount(r->mutable_rejected(), 0);
  SetCount(r->mutable_front_door(), 0);
  v1::RuleCount* rule = r->add_refused_by_rule();
  rule->set_rule_id("IG-1");
  small ? Suppress(rule->mutable_referrals()) : SetCount(rule->mutable_referrals(), 0);
  v1::CaseworkFunnel* f = g->mutable_funnel();
  SetCount(f->mutable_received(), received);
  SetCount(f->mutable_contacted(), received - 2);
  Suppress(f->mutable_first_conversation_held());
  SetCount(f->mutable_connected(), 0);
  SetCount(f->mutable_declined(), 0);
  SetCount(f->mutable_unable_to_contact(), 0);
  SetCount(f->mutable_closed(), 0);
  v1::TimeToEvent* contact = g->mutable_times()->mutable_to_first_contact();
  SetCount(contact->mutable_people(), received - 2);
  contact->mutable_median_days()->set_value(2.4);
  contact->mutable_p90_days()->set_value(6.5);
  v1::TimeToEvent* conversation = g->mutable_times()->mutable_to_first_conversation();
  Suppress(conversation->mutable_people());
  conversation->mutable_median_days()->set_suppressed(true);
  conversation->mutable_p90_days()->set_suppressed(true);
  SetCount(g->mutable_times()->mutable_to_closure()->mutable_people(), 0);  // over no one: no statistic
  v1::OutcomeChange* o = g->add_outcomes();
  o->set_instrument("SWEMWBS");
  SetCount(o->mutable_people(), 9);
  o->mutable_mean_change()->set_value(-1.5);
  Suppress(o->mutable_improved());
  o->mutable_share_improved()->set_suppressed(true);
}

// Two weeks by borough: the second week is too fine (every group's received count suppressed).
v1::Report TwoWeeksByBorough() {
  v1::Report report;
  v1::ReportRequest* q = report.mutable_request();
  q->set_from_date("2025-04-07");
  q->set_to_date("2025-04-20");
  q->set_period(v1::ReportRequest::WEEK);
  q->set_breakdown(v1::ReportRequest::BOROUGH);
  q->add_sources("gp-practice");
  report.set_time_zone("Europe/London");
  v1::ReportPeriod* first = report.add_periods();
  first->set_start_date("2025-04-07");
  first->set_end_date("2025-04-13");
  FillGroup(first->add_groups(), "oldham", 30, /*small=*/true);
  FillGroup(first->add_groups(), "tameside", 12, /*small=*/true);
  FillGroup(first->mutable_total(), "total", 42, /*small=*/false);
  v1::ReportPeriod* second = report.add_periods();
  second->set_start_date("2025-04-14");
  second->set_end_date("2025-04-20");
  second->set_too_fine(true);
  for (const char* key : {"oldham", "tameside"}) {
    v1::ReportGroup* g = second->add_groups();
    g->set_key(key);
    Suppress(g->mutable_referrals()->mutable_received());
  }
  second->mutable_total()->set_key("total");
  SetCount(second->mutable_total()->mutable_referrals()->mutable_received(), 9);
  v1::ReportPeriod* whole = report.mutable_whole_range();
  whole->set_start_date("2025-04-07");
  whole->set_end_date("2025-04-20");
  FillGroup(whole->add_groups(), "oldham", 35, /*small=*/true);
  FillGroup(whole->add_groups(), "tameside, east", 16, /*small=*/true);  // a key that needs CSV quoting
  FillGroup(whole->mutable_total(), "total", 51, /*small=*/false);
  v1::ConnectedTo* walk = whole->mutable_total()->add_connected_to();
  walk->set_name("Walking for health, Royton");
  SetCount(walk->mutable_people(), 11);
  v1::DisclosureRule* rule = report.mutable_disclosure_rule();
  rule->set_smallest_suppressed(1);
  rule->set_largest_suppressed(7);
  rule->set_description("NHS Digital disclosure control, values 1 to 7");
  v1::OutcomeInstrument* swemwbs = report.add_instruments();
  swemwbs->set_instrument("SWEMWBS");
  swemwbs->set_meaningful_change(1);
  swemwbs->set_source("Shah et al. 2018");
  return report;
}

// The lines of `text` that contain every one of `parts`.
std::vector<std::string> LinesWith(const std::string& text, std::vector<std::string> parts) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    bool all = true;
    for (const std::string& p : parts) all = all && line.find(p) != absl::string_view::npos;
    if (all) out.emplace_back(line);
  }
  return out;
}

TEST(ReportTable, SaysWhatWasAsked) {
  const std::string table = ReportTable(TwoWeeksByBorough());
  EXPECT_THAT(table, HasSubstr("Referrals received 2025-04-07 to 2025-04-20 (Europe/London), by week and borough\n"));
  EXPECT_THAT(table, HasSubstr("Only referrals with source gp-practice\n"));
}

// The section of `table` under the line starting with `title`, up to the next blank line.
std::string Section(const std::string& table, const std::string& title) {
  const size_t start = table.find("\n" + title);
  if (start == std::string::npos) return "";
  const size_t body = table.find('\n', start + 1) + 1;
  const size_t end = table.find("\n\n", body);
  return table.substr(body, end == std::string::npos ? std::string::npos : end - body + 1);
}

TEST(ReportTable, ShowsReferralsPerPeriodAndGroupWithSuppressedCellsAsStars) {
  EXPECT_EQ(Section(ReportTable(TwoWeeksByBorough()), "Referrals ("),
            "period                  group           received  accepted  refused  rejected  fallbacks\n"
            "2025-04-07..2025-04-13  oldham                30        27        *         *          0\n"
            "                        tameside              12         9        *         *          0\n"
            "                        total                 42        42        0         0          0\n"
            "2025-04-14..2025-04-20  oldham                 *         0        0         0          0\n"
            "                        tameside               *         0        0         0          0\n"
            "                        total                  9         0        0         0          0  too fine: no "
            "group can be shown\n"
            "whole range             oldham                35        32        *         *          0\n"
            "                        tameside, east        16        13        *         *          0\n"
            "                        total                 51        51        0         0          0\n");
}

TEST(ReportTable, ShowsTheFunnelAndTheDaysMedianAndP90) {
  const std::string table = ReportTable(TwoWeeksByBorough());
  EXPECT_THAT(LinesWith(Section(table, "Casework funnel"), {"2025-04-07..2025-04-13"}),
              ElementsAre(testing::MatchesRegex("2025-04-07..2025-04-13 +oldham +30 +28 +\\* +0 +0 +0 +0")));
  // Shown, suppressed with its count, and over no one.
  EXPECT_THAT(
      LinesWith(Section(table, "Days from referral"), {"2025-04-07..2025-04-13"}),
      ElementsAre(testing::MatchesRegex("2025-04-07..2025-04-13 +oldham +28 +2.4 +6.5 +\\* +\\* +\\* +0 +- +-")));
}

TEST(ReportTable, FootnoteSaysWhatAStarMeansWithTheReportsThreshold) {
  v1::Report report = TwoWeeksByBorough();
  report.mutable_disclosure_rule()->set_largest_suppressed(10);
  const std::string table = ReportTable(report);
  EXPECT_THAT(table, HasSubstr("* suppressed: a count from 1 to 10, or one that would let such a count be worked out"));
  EXPECT_THAT(table, HasSubstr("NHS Digital disclosure control, values 1 to 7"));
  EXPECT_THAT(table, HasSubstr("- over no one"));
}

TEST(ReportTable, APeriodTooFineIsSaidInWords) {
  const std::string table = ReportTable(TwoWeeksByBorough());
  EXPECT_THAT(LinesWith(table, {"total", "too fine: no group can be shown"}), testing::SizeIs(1));
  EXPECT_THAT(table, Not(HasSubstr("This breakdown is too fine to show anything")));
}

TEST(ReportTable, AReportTooFineIsSaidInWords) {
  v1::Report report = TwoWeeksByBorough();
  report.set_too_fine(true);
  EXPECT_THAT(ReportTable(report), HasSubstr("This breakdown is too fine to show anything"));
}

TEST(ReportTable, ListsOutcomesRulesActivitiesAndThresholds) {
  const std::string table = ReportTable(TwoWeeksByBorough());
  EXPECT_THAT(table, HasSubstr("Refused, by rule"));
  EXPECT_THAT(LinesWith(table, {"SWEMWBS", "9", "-1.50", "*"}), Not(testing::IsEmpty()));
  EXPECT_THAT(table, HasSubstr("  SWEMWBS: 1 point; Shah et al. 2018\n"));
  EXPECT_THAT(LinesWith(table, {"total", "Walking for health, Royton", "11"}), testing::SizeIs(1));
}

TEST(ReportCsv, HasStableColumnsAndOneRowPerPeriodAndGroup) {
  const std::string csv = ReportCsv(TwoWeeksByBorough());
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines[0],
            "span,period_start,period_end,group,period_too_fine,received,accepted,refused,rejected,fallbacks,"
            "refused_by_rule,funnel_received,contacted,first_conversation_held,connected,declined,unable_to_contact,"
            "closed,first_contact_people,first_contact_median_days,first_contact_p90_days,first_conversation_people,"
            "first_conversation_median_days,first_conversation_p90_days,closure_people,closure_median_days,"
            "closure_p90_days,swemwbs_people,swemwbs_mean_change,swemwbs_improved,swemwbs_share_improved,"
            "connected_to");
  ASSERT_EQ(lines.size(), 1u + 3 + 3 + 3);  // two weeks and the whole range, two boroughs and the total each
  EXPECT_EQ(lines[1],
            "week,2025-04-07,2025-04-13,oldham,false,30,27,*,*,0,IG-1:*,30,28,*,0,0,0,0,28,2.40,6.50,*,*,*,0,,,9,"
            "-1.500,*,*,");
  EXPECT_THAT(lines[5], testing::StartsWith("week,2025-04-14,2025-04-20,tameside,true,*,"));
  EXPECT_THAT(lines[8], testing::StartsWith("whole-range,2025-04-07,2025-04-20,\"tameside, east\",false,16,"));
  EXPECT_THAT(lines[9], testing::EndsWith(",\"Walking for health, Royton:11\""));
}

TEST(ReportJson, KeepsProtoFieldNames) {
  const std::string json = ReportJson(TwoWeeksByBorough());
  EXPECT_THAT(json, HasSubstr("\"from_date\": \"2025-04-07\""));
  EXPECT_THAT(json, HasSubstr("\"too_fine\": true"));
  EXPECT_THAT(json, HasSubstr("\"suppressed\": true"));
}

}  // namespace
}  // namespace frontdoor::cli
