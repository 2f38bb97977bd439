// Outcome reports over a real store, SQLite and PostgreSQL alike: referrals, progress reports and
// rejected messages recorded through the store API give exactly the expected figures for every
// breakdown, read from the report facts the store keeps; and nothing of any person is in them.
#include "gateway/reports/outcome_reporter.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "gateway/store/report_fact_rows.h"
#include "gateway/store/store_work_queue.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "network/network_directory.h"
#include "tests/gateway/store/store_test_rows.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::StoreBackend;
using testing::kT0;

constexpr char kCommissioner[] = "commissioner-test";

// Received, accepted, refused, rejected of a group, as the report shows them (-1: suppressed).
struct Referrals {
  int64_t received, accepted, refused, rejected;
  bool operator==(const Referrals&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Referrals& r) {
  return os << "{" << r.received << ", " << r.accepted << ", " << r.refused << ", " << r.rejected << "}";
}
int64_t Shown(const v1::Count& c) { return c.suppressed() ? -1 : c.value(); }
Referrals Of(const v1::ReportGroup& g) {
  return {Shown(g.referrals().received()), Shown(g.referrals().accepted()), Shown(g.referrals().refused()),
          Shown(g.referrals().rejected())};
}

class OutcomeReporterTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(GetParam());
    db_ = std::make_unique<frontdoor::testing::TestDatabase>(GetParam());
    store_ = db_->Open();
    network_ = std::make_unique<network::NetworkDirectory>(*network::NetworkDirectory::LoadDemo());
    authorizer_ = std::make_unique<Authorizer>(network_.get(), std::vector<std::string>{}, std::vector<std::string>{},
                                               std::vector<std::string>{kCommissioner});
    reporter_ = std::make_unique<OutcomeReporter>(
        OutcomeReporterDeps{authorizer_.get(), store_.get(), store_.audit(), nullptr, network_.get(), &clock_, &work_});
    Seed();
  }

  // In February 2025 (kT0 is the 3rd): 8 Royton referrals from a practice, each contacted a day
  // later, connected to a walking group on the third day and closed on the tenth with SWEMWBS
  // 19.25 -> 24.11; 9 Ashton self-referrals with no casework yet; 8 from a hospital refused
  // under IG-2 (routed to the Royton cluster first); 8 messages from another practice rejected.
  // Every count is 0 or at least 8, so nothing is suppressed and every figure can be checked.
  void Seed() {
    std::vector<NewReferral> batch;
    for (int i = 0; i < 8; ++i) {
      NewReferral r = testing::Accepted(absl::StrCat("royton-", i), "P85901", absl::StrCat("m-royton-", i));
      r.decision.set_cluster_id("oldham-north-royton");
      r.decision.set_category("wellbeing");
      batch.push_back(std::move(r));
    }
    for (int i = 0; i < 9; ++i) {
      NewReferral r = testing::Accepted(absl::StrCat("ashton-", i), "P85901", absl::StrCat("m-ashton-", i));
      r.decision.set_cluster_id("tameside-ashton");
      r.decision.set_category("all");
      r.decision.set_connector_id("tameside-ashton-all");
      r.delivery->endpoint_id = "action-together-tameside";
      r.referral.set_self_referral(true);
      batch.push_back(std::move(r));
    }
    for (int i = 0; i < 8; ++i) {
      NewReferral r = testing::Refused(absl::StrCat("refused-", i), absl::StrCat("m-refused-", i));
      r.sender_ods = "R9O02";
      r.decision.set_cluster_id("oldham-north-royton");
      v1::Issue* rule = r.decision.add_issues();
      rule->set_code("IG-2");
      rule->set_severity(v1::Issue::ERROR);
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE(store_->RecordReferrals(std::move(batch)).ok());
    for (int i = 0; i < 8; ++i) {
      const std::string id = absl::StrCat("royton-", i);
      const StoredReferral referral = **store_->GetReferral(id);
      const std::pair<v1::ProgressStatus, const char*> events[] = {{v1::PROGRESS_CONTACTED, "2025-02-04T10:15:00Z"},
                                                                   {v1::PROGRESS_CONNECTED, "2025-02-06T10:15:00Z"},
                                                                   {v1::PROGRESS_CLOSED, "2025-02-13T10:15:00Z"}};
      for (const auto& [status, at] : events) {
        testing::RecordProgress(store_.get(),
                                testing::Progress(id, absl::StrCat(id, "-", at), status, at, {"Royton walking group"}),
                                referral);
      }
    }
    v1::SubmitReferralResponse rejected;
    rejected.set_disposition(v1::REJECTED);
    for (int i = 0; i < 8; ++i) {
      ASSERT_TRUE(store_
                      ->RecordRejection(kT0 + absl::Minutes(i), absl::StrCat("rejected:", i),
                                        FactsOfReferral("P85903", false, rejected))
                      .ok());
    }
  }

  v1::Report ReportBy(v1::ReportRequest::Breakdown by) {
    v1::ReportRequest request;
    request.set_from_date("2025-02-01");
    request.set_to_date("2025-02-28");
    request.set_period(v1::ReportRequest::MONTH);
    request.set_breakdown(by);
    absl::Notification done;
    absl::StatusOr<v1::Report> out;
    reporter_->Report(Caller{kCommissioner, CallerKind::kCommissioner}, request, [&](absl::StatusOr<v1::Report> r) {
      out = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : v1::Report();
  }

  // key -> its referral counts, over the whole range.
  std::map<std::string, Referrals> Groups(v1::ReportRequest::Breakdown by) {
    const v1::Report report = ReportBy(by);
    std::map<std::string, Referrals> groups;
    for (const v1::ReportGroup& g : report.whole_range().groups()) groups[g.key()] = Of(g);
    return groups;
  }

  std::unique_ptr<frontdoor::testing::TestDatabase> db_;
  frontdoor::testing::OpenedStore store_;
  std::unique_ptr<network::NetworkDirectory> network_;
  std::unique_ptr<Authorizer> authorizer_;
  SystemClock clock_;
  StoreWorkQueue work_{1, 16};
  std::unique_ptr<OutcomeReporter> reporter_;
};

INSTANTIATE_TEST_SUITE_P(Backends, OutcomeReporterTest, frontdoor::testing::AllStoreBackends(),
                         frontdoor::testing::StoreBackendName);

TEST_P(OutcomeReporterTest, TheWholeRangeHasEveryFigureExactly) {
  const v1::Report report = ReportBy(v1::ReportRequest::NONE);
  ASSERT_EQ(report.periods_size(), 1);
  EXPECT_FALSE(report.too_fine());
  const v1::ReportGroup& total = report.whole_range().total();
  EXPECT_EQ(Of(total), (Referrals{33, 17, 8, 8}));
  ASSERT_EQ(total.referrals().refused_by_rule_size(), 1);
  EXPECT_EQ(total.referrals().refused_by_rule(0).rule_id(), "IG-2");
  EXPECT_EQ(Shown(total.referrals().refused_by_rule(0).referrals()), 8);
  EXPECT_EQ(Shown(total.funnel().received()), 17);
  EXPECT_EQ(Shown(total.funnel().contacted()), 8);
  EXPECT_EQ(Shown(total.funnel().first_conversation_held()), 8) << "connected counts as a conversation held";
  EXPECT_EQ(Shown(total.funnel().connected()), 8);
  EXPECT_EQ(Shown(total.funnel().closed()), 8);
  EXPECT_EQ(Shown(total.funnel().declined()), 0);
  EXPECT_DOUBLE_EQ(total.times().to_first_contact().median_days().value(), 1.0);
  EXPECT_DOUBLE_EQ(total.times().to_first_conversation().median_days().value(), 3.0);
  EXPECT_DOUBLE_EQ(total.times().to_closure().p90_days().value(), 10.0);
  ASSERT_EQ(total.connected_to_size(), 1);
  EXPECT_EQ(total.connected_to(0).name(), "Royton walking group");
  EXPECT_EQ(Shown(total.connected_to(0).people()), 8);
  bool swemwbs = false;
  for (const v1::OutcomeChange& o : total.outcomes()) {
    if (o.instrument() != "SWEMWBS") continue;
    swemwbs = true;
    EXPECT_EQ(Shown(o.people()), 8);
    EXPECT_NEAR(o.mean_change().value(), 4.86, 1e-9);
    EXPECT_EQ(Shown(o.improved()), 8);
  }
  EXPECT_TRUE(swemwbs);

  std::string json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(report, &json).ok());
  for (const char* what : {"9434765919", "royton-0", "refused-0", "rejected:", "P85901", "R9O02", "P85903"}) {
    EXPECT_EQ(json.find(what), std::string::npos) << what;
  }
}

TEST_P(OutcomeReporterTest, EveryBreakdownSplitsTheSameReferralsExactly) {
  using Map = std::map<std::string, Referrals>;
  EXPECT_EQ(Groups(v1::ReportRequest::BOROUGH),
            (Map{{"oldham", {16, 8, 8, 0}}, {"tameside", {9, 9, 0, 0}}, {"unknown", {8, 0, 0, 8}}}));
  EXPECT_EQ(
      Groups(v1::ReportRequest::CLUSTER),
      (Map{{"oldham-north-royton", {16, 8, 8, 0}}, {"tameside-ashton", {9, 9, 0, 0}}, {"unknown", {8, 0, 0, 8}}}));
  EXPECT_EQ(Groups(v1::ReportRequest::CATEGORY),
            (Map{{"all", {9, 9, 0, 0}}, {"wellbeing", {8, 8, 0, 0}}, {"unknown", {16, 0, 8, 8}}}));
  EXPECT_EQ(Groups(v1::ReportRequest::TEAM), (Map{{"oldham-north-royton-wellbeing", {8, 8, 0, 0}},
                                                  {"tameside-ashton-all", {9, 9, 0, 0}},
                                                  {"unknown", {16, 0, 8, 8}}}));
  EXPECT_EQ(Groups(v1::ReportRequest::SOURCE),
            (Map{{"gp-practice", {16, 8, 0, 8}}, {"hospital", {8, 0, 8, 0}}, {"self-referral", {9, 9, 0, 0}}}));
}

}  // namespace
}  // namespace frontdoor::gateway
