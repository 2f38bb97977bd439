// Unit tests of reporting/report_builder: exact figures of a hand-built set of referrals for every
// breakdown, by week and by month (counts, funnel, times with their medians and 90th percentiles,
// activities, outcome change); disclosure control in whole reports (primary and secondary
// suppression across groups and periods, a received total that would give a refusal count back, a
// breakdown too fine to show anything, statistics suppressed with their counts, activities listed
// only where their count is shown); outcome thresholds; filters; and the request and row rules.
#include "reporting/report_builder.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reporting/cell_suppression.h"

namespace frontdoor::reporting {
namespace {

namespace v1 = ::frontdoor::v1;
using ::frontdoor::v1::ReportRequest;
using ::testing::HasSubstr;
using ::testing::Not;

absl::Time Utc(int y, int m, int d, int hh = 9) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), absl::UTCTimeZone());
}
absl::Time After(absl::Time t, double days) { return t + absl::Seconds(days * 86400); }

// Where a referral is from and for: borough, cluster, category, team, source kind.
struct Where {
  const char* borough;
  const char* cluster;
  const char* category;
  const char* team;
  const char* source;
};
constexpr Where kRoyton = {"oldham", "oldham-north-royton", "wellbeing", "oldham-north-royton-wellbeing",
                           "gp-practice"};
constexpr Where kAshton = {"tameside", "tameside-ashton", "all", "tameside-ashton-all", "self-referral"};
// Refused before a team was chosen.
constexpr Where kAshtonRefused = {"tameside", "tameside-ashton", "", "", "self-referral"};
// Rejected: nothing but the sender is known.
constexpr Where kHospitalRejected = {"", "", "", "", "hospital"};

ReferralFacts Referral(absl::Time received, v1::Disposition disposition, const Where& w) {
  ReferralFacts f;
  f.received_at = received;
  f.disposition = disposition;
  f.borough = w.borough;
  f.cluster_id = w.cluster;
  f.category = w.category;
  f.team_id = w.team;
  f.source_kind = w.source;
  return f;
}

// The hand-built cohorts, received from Monday 31 March to Sunday 13 April 2025 (two ISO weeks;
// 31 March alone in March). Every count is 0 or at least 8, so nothing is suppressed and every
// figure can be checked.
//  A: 10 Royton GP referrals on Tue 1 April, person i contacted after i+1 days, first
//     conversation after i+2, connected after i+3 (all to Walking club, the first 3 to Men's Room
//     too), closed after 7(i+1) days; SWEMWBS +2 for 8 of them, +0.5 for 2.
//  B: 12 Royton GP referrals on Tue 8 April, contacted after 3 days; 8 of them declined.
//  C: 9 Ashton self-referrals on Mon 31 March, taken by the front door; unable to contact,
//     closed after 14 days.
//  D: 8 Ashton self-referrals on Wed 9 April, refused by IG-1.
//  E: 8 hospital referrals on Wed 2 April, rejected.
//  And two outside the range, which no figure counts.
std::vector<ReferralFacts> Cohorts() {
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 10; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 1), v1::ACCEPTED, kRoyton);
    f.contacted_at = After(f.received_at, i + 1);
    f.first_conversation_at = After(f.received_at, i + 2);
    f.connected_at = After(f.received_at, i + 3);
    f.connected_to = {"Walking club"};
    if (i < 3) f.connected_to.push_back("Men's Room");
    f.closed_at = After(f.received_at, 7 * (i + 1));
    f.outcomes.push_back({"SWEMWBS", 20, i < 8 ? 22.0 : 20.5});
    facts.push_back(f);
  }
  for (int i = 0; i < 12; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton);
    f.contacted_at = After(f.received_at, 3);
    f.declined = i < 8;
    facts.push_back(f);
  }
  for (int i = 0; i < 9; ++i) {
    ReferralFacts f = Referral(Utc(2025, 3, 31), v1::ACCEPTED, kAshton);
    f.front_door = true;
    f.unable_to_contact = true;
    f.closed_at = After(f.received_at, 14);
    facts.push_back(f);
  }
  for (int i = 0; i < 8; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 9), v1::REFUSED, kAshtonRefused);
    f.refusal_rule_ids = {"IG-1"};
    if (i == 0) f.refusal_rule_ids.push_back("IG-1");  // Named twice, counted once.
    facts.push_back(f);
  }
  for (int i = 0; i < 8; ++i) facts.push_back(Referral(Utc(2025, 4, 2), v1::REJECTED, kHospitalRejected));
  facts.push_back(Referral(Utc(2025, 4, 14, 0), v1::ACCEPTED, kRoyton));
  facts.push_back(Referral(Utc(2025, 3, 30, 23), v1::ACCEPTED, kRoyton));
  return facts;
}

ReportRequest Request(ReportRequest::Breakdown breakdown, ReportRequest::Period period = ReportRequest::WEEK,
                      const char* from = "2025-03-31", const char* to = "2025-04-13") {
  ReportRequest r;
  r.set_from_date(from);
  r.set_to_date(to);
  r.set_period(period);
  r.set_breakdown(breakdown);
  return r;
}

v1::Report Build(const ReportRequest& request, const std::vector<ReferralFacts>& facts,
                 absl::TimeZone zone = absl::UTCTimeZone()) {
  absl::StatusOr<v1::Report> report = BuildReport(request, facts, zone);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? *report : v1::Report();
}

// Figures as text: a number, "*" for suppressed, "-" for a statistic over no one.
std::string C(const v1::Count& c) {
  if (c.has_value()) return absl::StrCat(c.value());
  return c.suppressed() ? "*" : "?";
}
std::string S(const v1::Statistic& s) {
  if (s.has_value()) return absl::StrCat(s.value());
  return s.suppressed() ? "*" : "-";
}

// One line per group (and total) per period, then the whole range: "<start> <key>: <figures>".
template <typename Describe>
std::string Lines(const v1::Report& report, Describe describe) {
  std::vector<std::string> lines;
  auto period = [&](const v1::ReportPeriod& p, const std::string& name) {
    for (const v1::ReportGroup& g : p.groups()) lines.push_back(absl::StrCat(name, " ", g.key(), ": ", describe(g)));
    lines.push_back(absl::StrCat(name, " ", p.total().key(), ": ", describe(p.total())));
  };
  for (const v1::ReportPeriod& p : report.periods()) period(p, p.start_date());
  period(report.whole_range(), "whole");
  return absl::StrJoin(lines, "\n");
}

// received accepted refused rejected front-door rule=count...
std::string Referrals(const v1::Report& report) {
  return Lines(report, [](const v1::ReportGroup& g) {
    const v1::ReferralCounts& r = g.referrals();
    std::string line = absl::StrCat(C(r.received()), " ", C(r.accepted()), " ", C(r.refused()), " ", C(r.rejected()),
                                    " ", C(r.front_door()));
    for (const v1::RuleCount& rule : r.refused_by_rule())
      absl::StrAppend(&line, " ", rule.rule_id(), "=", C(rule.referrals()));
    return line;
  });
}

// received contacted first-conversation connected declined unable-to-contact closed
std::string Funnel(const v1::Report& report) {
  return Lines(report, [](const v1::ReportGroup& g) {
    const v1::CaseworkFunnel& f = g.funnel();
    return absl::StrJoin({C(f.received()), C(f.contacted()), C(f.first_conversation_held()), C(f.connected()),
                          C(f.declined()), C(f.unable_to_contact()), C(f.closed())},
                         " ");
  });
}

std::string Time(const v1::TimeToEvent& t) {
  return absl::StrCat(C(t.people()), " ", S(t.median_days()), " ", S(t.p90_days()));
}

std::string Times(const v1::Report& report) {
  return Lines(report, [](const v1::ReportGroup& g) {
    const v1::CaseworkTimes& t = g.times();
    return absl::StrCat("contact ", Time(t.to_first_contact()), " | conversation ", Time(t.to_first_conversation()),
                        " | closure ", Time(t.to_closure()));
  });
}

std::string ConnectedTo(const v1::Report& report) {
  return Lines(report, [](const v1::ReportGroup& g) {
    std::vector<std::string> names;
    for (const v1::ConnectedTo& c : g.connected_to()) names.push_back(absl::StrCat(c.name(), "=", C(c.people())));
    return absl::StrJoin(names, ", ");
  });
}

// Every instrument with people (or suppressed people): "<instrument> people mean improved share".
std::string Outcomes(const v1::Report& report) {
  return Lines(report, [](const v1::ReportGroup& g) {
    std::vector<std::string> parts;
    for (const v1::OutcomeChange& o : g.outcomes()) {
      if (o.people().has_value() && o.people().value() == 0) continue;
      parts.push_back(absl::StrCat(o.instrument(), " ", C(o.people()), " ", S(o.mean_change()), " ", C(o.improved()),
                                   " ", S(o.share_improved())));
    }
    return absl::StrJoin(parts, "; ");
  });
}

// Exact figures, by week and by borough.

TEST(ReportBuilderTest, ReferralCountsByBoroughAndWeek) {
  const v1::Report report = Build(Request(ReportRequest::BOROUGH), Cohorts());
  EXPECT_EQ(Referrals(report),
            "2025-03-31 oldham: 10 10 0 0 0 IG-1=0\n"
            "2025-03-31 tameside: 9 9 0 0 9 IG-1=0\n"
            "2025-03-31 unknown: 8 0 0 8 0 IG-1=0\n"
            "2025-03-31 total: 27 19 0 8 9 IG-1=0\n"
            "2025-04-07 oldham: 12 12 0 0 0 IG-1=0\n"
            "2025-04-07 tameside: 8 0 8 0 0 IG-1=8\n"
            "2025-04-07 unknown: 0 0 0 0 0 IG-1=0\n"
            "2025-04-07 total: 20 12 8 0 0 IG-1=8\n"
            "whole oldham: 22 22 0 0 0 IG-1=0\n"
            "whole tameside: 17 9 8 0 9 IG-1=8\n"
            "whole unknown: 8 0 0 8 0 IG-1=0\n"
            "whole total: 47 31 8 8 9 IG-1=8");
  ASSERT_EQ(report.periods_size(), 2);
  EXPECT_EQ(report.periods(0).end_date(), "2025-04-06");
  EXPECT_EQ(report.whole_range().start_date(), "2025-03-31");
  EXPECT_EQ(report.whole_range().end_date(), "2025-04-13");
  EXPECT_FALSE(report.too_fine());
}

TEST(ReportBuilderTest, CaseworkFunnelByBoroughAndWeek) {
  const v1::Report report = Build(Request(ReportRequest::BOROUGH), Cohorts());
  EXPECT_EQ(Funnel(report),
            "2025-03-31 oldham: 10 10 10 10 0 0 10\n"
            "2025-03-31 tameside: 9 0 0 0 0 9 9\n"
            "2025-03-31 unknown: 0 0 0 0 0 0 0\n"
            "2025-03-31 total: 19 10 10 10 0 9 19\n"
            "2025-04-07 oldham: 12 12 0 0 8 0 0\n"
            "2025-04-07 tameside: 0 0 0 0 0 0 0\n"
            "2025-04-07 unknown: 0 0 0 0 0 0 0\n"
            "2025-04-07 total: 12 12 0 0 8 0 0\n"
            "whole oldham: 22 22 10 10 8 0 10\n"
            "whole tameside: 9 0 0 0 0 9 9\n"
            "whole unknown: 0 0 0 0 0 0 0\n"
            "whole total: 31 22 10 10 8 9 19");
}

TEST(ReportBuilderTest, TimesToContactConversationAndClosureWithMedianAndP90) {
  // A's contacts after 1..10 days: median 5.5, p90 9.1; with B's twelve at 3 days: 22 people,
  // median 3, p90 7.9. Closures 7..70 days: median 38.5, p90 63.7; with C's nine at 14: median
  // 14, p90 57.4.
  const v1::Report report = Build(Request(ReportRequest::BOROUGH), Cohorts());
  EXPECT_EQ(Times(report),
            "2025-03-31 oldham: contact 10 5.5 9.1 | conversation 10 6.5 10.1 | closure 10 38.5 63.7\n"
            "2025-03-31 tameside: contact 0 - - | conversation 0 - - | closure 9 14 14\n"
            "2025-03-31 unknown: contact 0 - - | conversation 0 - - | closure 0 - -\n"
            "2025-03-31 total: contact 10 5.5 9.1 | conversation 10 6.5 10.1 | closure 19 14 57.4\n"
            "2025-04-07 oldham: contact 12 3 3 | conversation 0 - - | closure 0 - -\n"
            "2025-04-07 tameside: contact 0 - - | conversation 0 - - | closure 0 - -\n"
            "2025-04-07 unknown: contact 0 - - | conversation 0 - - | closure 0 - -\n"
            "2025-04-07 total: contact 12 3 3 | conversation 0 - - | closure 0 - -\n"
            "whole oldham: contact 22 3 7.9 | conversation 10 6.5 10.1 | closure 10 38.5 63.7\n"
            "whole tameside: contact 0 - - | conversation 0 - - | closure 9 14 14\n"
            "whole unknown: contact 0 - - | conversation 0 - - | closure 0 - -\n"
            "whole total: contact 22 3 7.9 | conversation 10 6.5 10.1 | closure 19 14 57.4");
  // The exact values behind the text.
  const v1::TimeToEvent& closure = report.whole_range().total().times().to_closure();
  EXPECT_NEAR(closure.median_days().value(), 14, 1e-9);
  EXPECT_NEAR(closure.p90_days().value(), 57.4, 1e-9);
}

TEST(ReportBuilderTest, TimesAreFractionalDaysFromReceipt) {
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 8; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8, 10), v1::ACCEPTED, kRoyton);
    f.contacted_at = After(f.received_at, 1.25);  // 16:00 the next day
    facts.push_back(f);
  }
  const v1::Report report = Build(Request(ReportRequest::NONE), facts);
  EXPECT_DOUBLE_EQ(report.whole_range().total().times().to_first_contact().median_days().value(), 1.25);
}

TEST(ReportBuilderTest, ActivitiesAndOutcomesByBoroughAndWeek) {
  // Men's Room (3 people) is listed nowhere; SWEMWBS: 8 of 10 improved by 1 point or more, mean
  // change (8 x 2 + 2 x 0.5) / 10.
  const v1::Report report = Build(Request(ReportRequest::BOROUGH), Cohorts());
  EXPECT_EQ(ConnectedTo(report),
            "2025-03-31 oldham: Walking club=10\n"
            "2025-03-31 tameside: \n"
            "2025-03-31 unknown: \n"
            "2025-03-31 total: Walking club=10\n"
            "2025-04-07 oldham: \n"
            "2025-04-07 tameside: \n"
            "2025-04-07 unknown: \n"
            "2025-04-07 total: \n"
            "whole oldham: Walking club=10\n"
            "whole tameside: \n"
            "whole unknown: \n"
            "whole total: Walking club=10");
  EXPECT_EQ(Outcomes(report),
            "2025-03-31 oldham: SWEMWBS 10 1.7 8 0.8\n"
            "2025-03-31 tameside: \n"
            "2025-03-31 unknown: \n"
            "2025-03-31 total: SWEMWBS 10 1.7 8 0.8\n"
            "2025-04-07 oldham: \n"
            "2025-04-07 tameside: \n"
            "2025-04-07 unknown: \n"
            "2025-04-07 total: \n"
            "whole oldham: SWEMWBS 10 1.7 8 0.8\n"
            "whole tameside: \n"
            "whole unknown: \n"
            "whole total: SWEMWBS 10 1.7 8 0.8");
  EXPECT_THAT(report.SerializeAsString(), Not(HasSubstr("Men's Room")));
}

// Exact figures for every other breakdown, and by month.

TEST(ReportBuilderTest, AFunnelStageCountsEveryoneWhoReachedALaterOne) {
  // 8 people connected after 4 days with no contact or conversation reported: they were contacted
  // and had a conversation, then. Casework reported on refused referrals is not counted.
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 8; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton);
    f.connected_at = After(f.received_at, 4);
    facts.push_back(f);
    ReferralFacts refused = Referral(Utc(2025, 4, 8), v1::REFUSED, kRoyton);
    refused.contacted_at = After(f.received_at, 1);
    refused.closed_at = After(f.received_at, 2);
    facts.push_back(refused);
  }
  const v1::Report report = Build(Request(ReportRequest::NONE, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  EXPECT_EQ(Funnel(report),
            "2025-04-07 total: 8 8 8 8 0 0 0\n"
            "whole total: 8 8 8 8 0 0 0");
  EXPECT_EQ(Times(report),
            "2025-04-07 total: contact 8 4 4 | conversation 8 4 4 | closure 0 - -\n"
            "whole total: contact 8 4 4 | conversation 8 4 4 | closure 0 - -");
}

TEST(ReportBuilderTest, ReferralCountsByCluster) {
  EXPECT_EQ(Referrals(Build(Request(ReportRequest::CLUSTER), Cohorts())),
            "2025-03-31 oldham-north-royton: 10 10 0 0 0 IG-1=0\n"
            "2025-03-31 tameside-ashton: 9 9 0 0 9 IG-1=0\n"
            "2025-03-31 unknown: 8 0 0 8 0 IG-1=0\n"
            "2025-03-31 total: 27 19 0 8 9 IG-1=0\n"
            "2025-04-07 oldham-north-royton: 12 12 0 0 0 IG-1=0\n"
            "2025-04-07 tameside-ashton: 8 0 8 0 0 IG-1=8\n"
            "2025-04-07 unknown: 0 0 0 0 0 IG-1=0\n"
            "2025-04-07 total: 20 12 8 0 0 IG-1=8\n"
            "whole oldham-north-royton: 22 22 0 0 0 IG-1=0\n"
            "whole tameside-ashton: 17 9 8 0 9 IG-1=8\n"
            "whole unknown: 8 0 0 8 0 IG-1=0\n"
            "whole total: 47 31 8 8 9 IG-1=8");
}

TEST(ReportBuilderTest, ReferralCountsByCategoryWithUnknownLast) {
  // "all" is Tameside's category; "unknown" (refused and rejected) sorts last.
  EXPECT_EQ(Referrals(Build(Request(ReportRequest::CATEGORY), Cohorts())),
            "2025-03-31 all: 9 9 0 0 9 IG-1=0\n"
            "2025-03-31 wellbeing: 10 10 0 0 0 IG-1=0\n"
            "2025-03-31 unknown: 8 0 0 8 0 IG-1=0\n"
            "2025-03-31 total: 27 19 0 8 9 IG-1=0\n"
            "2025-04-07 all: 0 0 0 0 0 IG-1=0\n"
            "2025-04-07 wellbeing: 12 12 0 0 0 IG-1=0\n"
            "2025-04-07 unknown: 8 0 8 0 0 IG-1=8\n"
            "2025-04-07 total: 20 12 8 0 0 IG-1=8\n"
            "whole all: 9 9 0 0 9 IG-1=0\n"
            "whole wellbeing: 22 22 0 0 0 IG-1=0\n"
            "whole unknown: 16 0 8 8 0 IG-1=8\n"
            "whole total: 47 31 8 8 9 IG-1=8");
}

TEST(ReportBuilderTest, ReferralCountsByTeam) {
  EXPECT_EQ(Referrals(Build(Request(ReportRequest::TEAM), Cohorts())),
            "2025-03-31 oldham-north-royton-wellbeing: 10 10 0 0 0 IG-1=0\n"
            "2025-03-31 tameside-ashton-all: 9 9 0 0 9 IG-1=0\n"
            "2025-03-31 unknown: 8 0 0 8 0 IG-1=0\n"
            "2025-03-31 total: 27 19 0 8 9 IG-1=0\n"
            "2025-04-07 oldham-north-royton-wellbeing: 12 12 0 0 0 IG-1=0\n"
            "2025-04-07 tameside-ashton-all: 0 0 0 0 0 IG-1=0\n"
            "2025-04-07 unknown: 8 0 8 0 0 IG-1=8\n"
            "2025-04-07 total: 20 12 8 0 0 IG-1=8\n"
            "whole oldham-north-royton-wellbeing: 22 22 0 0 0 IG-1=0\n"
            "whole tameside-ashton-all: 9 9 0 0 9 IG-1=0\n"
            "whole unknown: 16 0 8 8 0 IG-1=8\n"
            "whole total: 47 31 8 8 9 IG-1=8");
}

TEST(ReportBuilderTest, ReferralCountsBySource) {
  EXPECT_EQ(Referrals(Build(Request(ReportRequest::SOURCE), Cohorts())),
            "2025-03-31 gp-practice: 10 10 0 0 0 IG-1=0\n"
            "2025-03-31 hospital: 8 0 0 8 0 IG-1=0\n"
            "2025-03-31 self-referral: 9 9 0 0 9 IG-1=0\n"
            "2025-03-31 total: 27 19 0 8 9 IG-1=0\n"
            "2025-04-07 gp-practice: 12 12 0 0 0 IG-1=0\n"
            "2025-04-07 hospital: 0 0 0 0 0 IG-1=0\n"
            "2025-04-07 self-referral: 8 0 8 0 0 IG-1=8\n"
            "2025-04-07 total: 20 12 8 0 0 IG-1=8\n"
            "whole gp-practice: 22 22 0 0 0 IG-1=0\n"
            "whole hospital: 8 0 0 8 0 IG-1=0\n"
            "whole self-referral: 17 9 8 0 9 IG-1=8\n"
            "whole total: 47 31 8 8 9 IG-1=8");
}

TEST(ReportBuilderTest, NoBreakdownGivesTotalsOnly) {
  const v1::Report report = Build(Request(ReportRequest::NONE), Cohorts());
  EXPECT_EQ(Referrals(report),
            "2025-03-31 total: 27 19 0 8 9 IG-1=0\n"
            "2025-04-07 total: 20 12 8 0 0 IG-1=8\n"
            "whole total: 47 31 8 8 9 IG-1=8");
  EXPECT_EQ(Times(report),
            "2025-03-31 total: contact 10 5.5 9.1 | conversation 10 6.5 10.1 | closure 19 14 57.4\n"
            "2025-04-07 total: contact 12 3 3 | conversation 0 - - | closure 0 - -\n"
            "whole total: contact 22 3 7.9 | conversation 10 6.5 10.1 | closure 19 14 57.4");
}

TEST(ReportBuilderTest, ReferralCountsByBoroughAndMonth) {
  // 31 March is March's only day in the range.
  const v1::Report report = Build(Request(ReportRequest::BOROUGH, ReportRequest::MONTH), Cohorts());
  EXPECT_EQ(Referrals(report),
            "2025-03-31 oldham: 0 0 0 0 0 IG-1=0\n"
            "2025-03-31 tameside: 9 9 0 0 9 IG-1=0\n"
            "2025-03-31 unknown: 0 0 0 0 0 IG-1=0\n"
            "2025-03-31 total: 9 9 0 0 9 IG-1=0\n"
            "2025-04-01 oldham: 22 22 0 0 0 IG-1=0\n"
            "2025-04-01 tameside: 8 0 8 0 0 IG-1=8\n"
            "2025-04-01 unknown: 8 0 0 8 0 IG-1=0\n"
            "2025-04-01 total: 38 22 8 8 0 IG-1=8\n"
            "whole oldham: 22 22 0 0 0 IG-1=0\n"
            "whole tameside: 17 9 8 0 9 IG-1=8\n"
            "whole unknown: 8 0 0 8 0 IG-1=0\n"
            "whole total: 47 31 8 8 9 IG-1=8");
  EXPECT_EQ(report.periods(0).end_date(), "2025-03-31");
  EXPECT_EQ(report.periods(1).end_date(), "2025-04-13");
}

TEST(ReportBuilderTest, FiltersKeepOnlyTheReferralsListed) {
  ReportRequest oldham = Request(ReportRequest::NONE);
  oldham.add_boroughs("oldham");
  EXPECT_EQ(Referrals(Build(oldham, Cohorts())),
            "2025-03-31 total: 10 10 0 0 0\n"
            "2025-04-07 total: 12 12 0 0 0\n"
            "whole total: 22 22 0 0 0");
  ReportRequest sources = Request(ReportRequest::SOURCE);
  sources.add_sources("hospital");
  sources.add_sources("self-referral");
  EXPECT_EQ(Referrals(Build(sources, Cohorts())),
            "2025-03-31 hospital: 8 0 0 8 0 IG-1=0\n"
            "2025-03-31 self-referral: 9 9 0 0 9 IG-1=0\n"
            "2025-03-31 total: 17 9 0 8 9 IG-1=0\n"
            "2025-04-07 hospital: 0 0 0 0 0 IG-1=0\n"
            "2025-04-07 self-referral: 8 0 8 0 0 IG-1=8\n"
            "2025-04-07 total: 8 0 8 0 0 IG-1=8\n"
            "whole hospital: 8 0 0 8 0 IG-1=0\n"
            "whole self-referral: 17 9 8 0 9 IG-1=8\n"
            "whole total: 25 9 8 8 9 IG-1=8");
  ReportRequest teams = Request(ReportRequest::NONE);
  teams.add_teams("tameside-ashton-all");
  EXPECT_EQ(Referrals(Build(teams, Cohorts())),
            "2025-03-31 total: 9 9 0 0 9\n"
            "2025-04-07 total: 0 0 0 0 0\n"
            "whole total: 9 9 0 0 9")
      << "a referral without a team is left out by a team filter";
}

TEST(ReportBuilderTest, DaysAreTheReportingTimeZones) {
  // 23:30 UTC on Sunday 6 April is Monday 7 April at UTC+1.
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 8; ++i) {
    facts.push_back(Referral(After(Utc(2025, 4, 6, 23), 1.0 / 48), v1::ACCEPTED, kRoyton));
  }
  const v1::Report utc = Build(Request(ReportRequest::NONE), facts);
  EXPECT_EQ(C(utc.periods(0).total().referrals().received()), "8");
  const v1::Report summer = Build(Request(ReportRequest::NONE), facts, absl::FixedTimeZone(3600));
  EXPECT_EQ(C(summer.periods(0).total().referrals().received()), "0");
  EXPECT_EQ(C(summer.periods(1).total().referrals().received()), "8");
  EXPECT_EQ(summer.time_zone(), absl::FixedTimeZone(3600).name());
}

// Disclosure control in whole reports.

TEST(ReportBuilderTest, SmallCountsAreSuppressedWithWhatWouldGiveThemBack) {
  // Tameside's 5 in week 1 is primary. With the totals shown, Oldham's 20 (row), Tameside's 10 in
  // week 2 (column) and Oldham's 30 (its row) go too; the totals stay.
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 20; ++i) facts.push_back(Referral(Utc(2025, 4, 1), v1::ACCEPTED, kRoyton));
  for (int i = 0; i < 5; ++i) facts.push_back(Referral(Utc(2025, 4, 1), v1::ACCEPTED, kAshton));
  for (int i = 0; i < 30; ++i) facts.push_back(Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton));
  for (int i = 0; i < 10; ++i) facts.push_back(Referral(Utc(2025, 4, 8), v1::ACCEPTED, kAshton));
  const v1::Report report = Build(Request(ReportRequest::BOROUGH), facts);
  EXPECT_EQ(Referrals(report),
            "2025-03-31 oldham: * * 0 0 0\n"
            "2025-03-31 tameside: * * 0 0 0\n"
            "2025-03-31 total: 25 25 0 0 0\n"
            "2025-04-07 oldham: * * 0 0 0\n"
            "2025-04-07 tameside: * * 0 0 0\n"
            "2025-04-07 total: 40 40 0 0 0\n"
            "whole oldham: 50 50 0 0 0\n"
            "whole tameside: 15 15 0 0 0\n"
            "whole total: 65 65 0 0 0");
  // A suppressed count carries no number at all.
  const v1::Count& hidden = report.periods(0).groups(1).referrals().received();
  EXPECT_FALSE(hidden.has_value());
  EXPECT_TRUE(hidden.suppressed());
  EXPECT_EQ(hidden.value(), 0);
  // Each week's breakdown shows nothing; the whole range's does.
  EXPECT_TRUE(report.periods(0).too_fine());
  EXPECT_TRUE(report.periods(1).too_fine());
  EXPECT_FALSE(report.whole_range().too_fine());
  EXPECT_FALSE(report.too_fine());
}

TEST(ReportBuilderTest, AReceivedTotalThatWouldGiveTheRefusalsBackHidesTheAccepted) {
  // 43 received = 40 accepted + 3 refused + 0 rejected: with 43 and 0 shown, 40 would give the 3
  // back, so it is suppressed too (funnel's received with it).
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 40; ++i) facts.push_back(Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton));
  for (int i = 0; i < 3; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8), v1::REFUSED, kRoyton);
    f.refusal_rule_ids = {"IG-2"};
    facts.push_back(f);
  }
  const v1::Report report = Build(Request(ReportRequest::NONE, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  EXPECT_EQ(Referrals(report),
            "2025-04-07 total: 43 * * 0 0 IG-2=*\n"
            "whole total: 43 * * 0 0 IG-2=*");
  EXPECT_EQ(C(report.whole_range().total().funnel().received()), "*");
  EXPECT_FALSE(report.too_fine());
}

TEST(ReportBuilderTest, ABreakdownTooFineToShowAnythingIsSaidToBe) {
  // Six teams with 3 to 5 referrals each in one week: every team is suppressed; the total is not.
  const char* teams[] = {"t-a", "t-b", "t-c", "t-d", "t-e", "t-f"};
  const int counts[] = {3, 4, 5, 3, 4, 5};
  std::vector<ReferralFacts> facts;
  for (int t = 0; t < 6; ++t) {
    for (int i = 0; i < counts[t]; ++i) {
      Where w = kRoyton;
      w.team = teams[t];
      facts.push_back(Referral(Utc(2025, 4, 8), v1::ACCEPTED, w));
    }
  }
  const v1::Report report = Build(Request(ReportRequest::TEAM, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  EXPECT_TRUE(report.too_fine());
  EXPECT_TRUE(report.periods(0).too_fine());
  EXPECT_TRUE(report.whole_range().too_fine());
  EXPECT_EQ(C(report.whole_range().total().referrals().received()), "24");
  for (const v1::ReportGroup& g : report.whole_range().groups()) EXPECT_EQ(C(g.referrals().received()), "*") << g.key();

  // By borough the same referrals show.
  const v1::Report coarser =
      Build(Request(ReportRequest::BOROUGH, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  EXPECT_FALSE(coarser.too_fine());
  EXPECT_EQ(C(coarser.whole_range().groups(0).referrals().received()), "24");
}

TEST(ReportBuilderTest, FiveReferralsInAllAreTooFineEvenWithoutABreakdown) {
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 5; ++i) facts.push_back(Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton));
  const v1::Report report = Build(Request(ReportRequest::NONE, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  EXPECT_TRUE(report.too_fine());
  EXPECT_EQ(C(report.whole_range().total().referrals().received()), "*");
}

TEST(ReportBuilderTest, NoReferralsIsNotTooFine) {
  const v1::Report report = Build(Request(ReportRequest::TEAM), {});
  EXPECT_FALSE(report.too_fine());
  EXPECT_EQ(report.periods_size(), 2);
  EXPECT_EQ(C(report.whole_range().total().referrals().received()), "0");
}

TEST(ReportBuilderTest, StatisticsAreSuppressedWithTheirCounts) {
  // 12 accepted: 5 contacted (suppressed, so their times are); all closed after i days (shown);
  // SWEMWBS for 10 of whom 3 improved (mean shown, share not); ONS4-HAPPINESS for 4 (nothing).
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 12; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton);
    if (i < 5) f.contacted_at = After(f.received_at, 2);
    f.closed_at = After(f.received_at, i);
    if (i < 10) f.outcomes.push_back({"SWEMWBS", 20, i < 3 ? 22.0 : 20.5});
    if (i < 4) f.outcomes.push_back({"ONS4-HAPPINESS", 5, 7});
    facts.push_back(f);
  }
  const v1::Report report = Build(Request(ReportRequest::NONE, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  EXPECT_EQ(Times(report),
            "2025-04-07 total: contact * * * | conversation 0 - - | closure 12 5.5 9.9\n"
            "whole total: contact * * * | conversation 0 - - | closure 12 5.5 9.9");
  EXPECT_EQ(Outcomes(report),
            "2025-04-07 total: SWEMWBS 10 0.95 * *; ONS4-HAPPINESS * * * *\n"
            "whole total: SWEMWBS 10 0.95 * *; ONS4-HAPPINESS * * * *");
  const v1::OutcomeChange& happiness = report.whole_range().total().outcomes(5);
  ASSERT_EQ(happiness.instrument(), "ONS4-HAPPINESS");
  EXPECT_FALSE(happiness.mean_change().has_value());
  EXPECT_FALSE(happiness.share_improved().has_value());
}

TEST(ReportBuilderTest, ActivitiesAreListedOnlyWhereTheirCountIsShown) {
  // Walking club: Oldham 8, Tameside 2. The 2 is small and the total (10) would give it back from
  // the 8, so neither borough lists it; the total does. Men's Room (12, Oldham only) and Singing
  // group (9, Tameside only) are listed; Knitting group (3) nowhere.
  std::vector<ReferralFacts> facts;
  for (int i = 0; i < 12; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton);
    f.connected_at = After(f.received_at, 5);
    f.connected_to = {"Men's Room"};
    if (i < 8) f.connected_to.push_back("Walking club");
    if (i < 3) f.connected_to.push_back("Knitting group");
    facts.push_back(f);
  }
  for (int i = 0; i < 10; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8), v1::ACCEPTED, kAshton);
    f.connected_at = After(f.received_at, 5);
    if (i < 2) f.connected_to.push_back("Walking club");
    if (i < 9) f.connected_to.push_back("Singing group");
    facts.push_back(f);
  }
  const v1::Report report =
      Build(Request(ReportRequest::BOROUGH, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  EXPECT_EQ(ConnectedTo(report),
            "2025-04-07 oldham: Men's Room=12\n"
            "2025-04-07 tameside: Singing group=9\n"
            "2025-04-07 total: Men's Room=12, Walking club=10, Singing group=9\n"
            "whole oldham: Men's Room=12\n"
            "whole tameside: Singing group=9\n"
            "whole total: Men's Room=12, Walking club=10, Singing group=9");
  EXPECT_THAT(report.SerializeAsString(), Not(HasSubstr("Knitting")));
}

TEST(ReportBuilderTest, OutcomeChangeCountsTheMeaningfulChangeOfEachInstrument) {
  // SWEMWBS (1 point): +1 x4 and +3 x4 improved, +0.5 x2 and -2 x2 not: 8 of 12, mean 13/12.
  // WEMWBS (3 points): +3 x8 improved, +2 x2 not: 8 of 10, mean 2.8.
  // ONS4-ANXIETY (1 point, lower is better): 6 -> 5 x8 improved, 5 -> 6 x2 not: mean -0.6.
  std::vector<ReferralFacts> facts;
  const double swemwbs_end[] = {20.25, 20.25, 20.25, 20.25, 22.25, 22.25, 22.25, 22.25, 19.75, 19.75, 17.25, 17.25};
  for (int i = 0; i < 12; ++i) {
    ReferralFacts f = Referral(Utc(2025, 4, 8), v1::ACCEPTED, kRoyton);
    if (i == 0) f.outcomes.push_back({"SWEMWBS", 7, 35});  // An earlier measure: the last one counts.
    f.outcomes.push_back({"SWEMWBS", 19.25, swemwbs_end[i]});
    if (i < 10) f.outcomes.push_back({"WEMWBS", 40, i < 8 ? 43.0 : 42.0});
    if (i < 10) f.outcomes.push_back({"ONS4-ANXIETY", i < 8 ? 6.0 : 5.0, i < 8 ? 5.0 : 6.0});
    f.outcomes.push_back({"GAD-7", 15, 5});  // Not an instrument reports know: left out.
    facts.push_back(f);
  }
  const v1::Report report = Build(Request(ReportRequest::NONE, ReportRequest::WEEK, "2025-04-07", "2025-04-13"), facts);
  const v1::ReportGroup& total = report.whole_range().total();
  ASSERT_EQ(total.outcomes_size(), 7);
  const v1::OutcomeChange& swemwbs = total.outcomes(0);
  EXPECT_EQ(swemwbs.instrument(), "SWEMWBS");
  EXPECT_EQ(C(swemwbs.people()), "12");
  EXPECT_EQ(C(swemwbs.improved()), "8");
  EXPECT_DOUBLE_EQ(swemwbs.mean_change().value(), 13.0 / 12);
  EXPECT_DOUBLE_EQ(swemwbs.share_improved().value(), 8.0 / 12);
  const v1::OutcomeChange& wemwbs = total.outcomes(1);
  EXPECT_EQ(wemwbs.instrument(), "WEMWBS");
  EXPECT_EQ(C(wemwbs.improved()), "8");
  EXPECT_DOUBLE_EQ(wemwbs.mean_change().value(), 2.8);
  EXPECT_DOUBLE_EQ(wemwbs.share_improved().value(), 0.8);
  const v1::OutcomeChange& anxiety = total.outcomes(6);
  EXPECT_EQ(anxiety.instrument(), "ONS4-ANXIETY");
  EXPECT_EQ(C(anxiety.improved()), "8");
  EXPECT_DOUBLE_EQ(anxiety.mean_change().value(), -0.6);
  EXPECT_DOUBLE_EQ(anxiety.share_improved().value(), 0.8);
  EXPECT_EQ(C(total.outcomes(2).people()), "0") << "ONS4 mean: no one";
  EXPECT_FALSE(total.outcomes(2).mean_change().has_value());
  EXPECT_FALSE(total.outcomes(2).mean_change().suppressed());
  EXPECT_THAT(report.SerializeAsString(), Not(HasSubstr("GAD-7")));

  // The thresholds the report used, with their sources.
  ASSERT_EQ(report.instruments_size(), 7);
  EXPECT_EQ(report.instruments(0).instrument(), "SWEMWBS");
  EXPECT_EQ(report.instruments(0).meaningful_change(), 1);
  EXPECT_EQ(report.instruments(1).meaningful_change(), 3);
  EXPECT_TRUE(report.instruments(6).lower_is_better());
  EXPECT_THAT(report.instruments(1).source(), HasSubstr("Maheswaran"));
  EXPECT_EQ(report.disclosure_rule().smallest_suppressed(), 1);
  EXPECT_EQ(report.disclosure_rule().largest_suppressed(), 7);
}

// The request's rules, and the stores' guarantees.

TEST(ReportBuilderTest, RequestsThatBreakARuleAreRefusedNamingTheField) {
  auto refusal = [](const ReportRequest& r) { return std::string(CheckReportRequest(r).message()); };
  EXPECT_TRUE(CheckReportRequest(Request(ReportRequest::TEAM)).ok());
  EXPECT_THAT(refusal(Request(ReportRequest::TEAM, ReportRequest::WEEK, "2025-13-01")), HasSubstr("from_date"));
  EXPECT_THAT(refusal(Request(ReportRequest::TEAM, ReportRequest::WEEK, "2025-04-14")),
              HasSubstr("to_date: is before"));
  EXPECT_THAT(refusal(Request(ReportRequest::TEAM, ReportRequest::PERIOD_UNSPECIFIED)),
              HasSubstr("period: is required"));
  EXPECT_THAT(refusal(Request(ReportRequest::BREAKDOWN_UNSPECIFIED)), HasSubstr("breakdown: is required"));

  ReportRequest empty_value = Request(ReportRequest::TEAM);
  empty_value.add_teams("");
  EXPECT_THAT(refusal(empty_value), HasSubstr("teams[0]: is not 1..200 bytes of UTF-8"));
  ReportRequest not_utf8 = Request(ReportRequest::TEAM);
  not_utf8.add_clusters("oldham");
  not_utf8.add_clusters("\xff\xfe");
  EXPECT_THAT(refusal(not_utf8), HasSubstr("clusters[1]"));
  EXPECT_THAT(refusal(not_utf8), Not(HasSubstr("\xff")));
  ReportRequest too_many = Request(ReportRequest::TEAM);
  for (int i = 0; i < 101; ++i) too_many.add_sources("gp-practice");
  EXPECT_THAT(refusal(too_many), HasSubstr("sources: more than 100 values"));

  const absl::StatusOr<v1::Report> report =
      BuildReport(Request(ReportRequest::BREAKDOWN_UNSPECIFIED), {}, absl::UTCTimeZone());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ReportBuilderTest, ARowThatBreaksTheStoresGuaranteesIsAnInternalError) {
  std::vector<ReferralFacts> facts = Cohorts();
  facts[3].contacted_at = After(facts[3].received_at, -1);
  absl::StatusOr<v1::Report> report = BuildReport(Request(ReportRequest::NONE), facts, absl::UTCTimeZone());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(report.status().message(), HasSubstr("facts[3]: contacted_at is before received_at"));

  facts = Cohorts();
  facts[5].outcomes[0].end_score = std::nan("");
  report = BuildReport(Request(ReportRequest::NONE), facts, absl::UTCTimeZone());
  EXPECT_THAT(report.status().message(), HasSubstr("facts[5]: an outcome score is not a finite number"));

  facts = Cohorts();
  facts[0].disposition = v1::DISPOSITION_UNSPECIFIED;
  report = BuildReport(Request(ReportRequest::NONE), facts, absl::UTCTimeZone());
  EXPECT_THAT(report.status().message(), HasSubstr("facts[0]: disposition"));

  // A broken row outside the range is not looked at.
  facts = Cohorts();
  facts.back().disposition = v1::DISPOSITION_UNSPECIFIED;
  EXPECT_TRUE(BuildReport(Request(ReportRequest::NONE), facts, absl::UTCTimeZone()).ok());
}

}  // namespace
}  // namespace frontdoor::reporting
