#include "gateway/feedback/progress_report_rules.h"

#include <cmath>

#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

const absl::Time kNow = absl::FromUnixSeconds(1739180000);  // 2025-02-10T09:33:20Z

v1::ReportProgressRequest Report(v1::ProgressStatus status) {
  v1::ReportProgressRequest r;
  r.set_referral_id("ref-1");
  r.set_idempotency_key("k-1");
  r.set_status(status);
  r.set_occurred_at("2025-02-10T09:30:00Z");
  if (status == v1::PROGRESS_CONNECTED) r.add_connected_to("Walking club");
  if (status == v1::PROGRESS_DECLINED || status == v1::PROGRESS_CLOSED) r.set_reason("Goals met");
  return r;
}

StoredReferral Delivered() {
  StoredReferral r;
  r.referral_id = "ref-1";
  r.sender_ods = "P85901";
  r.received_at = kNow - absl::Hours(72);
  r.decision.set_disposition(v1::ACCEPTED);
  r.delivery_state = v1::DELIVERED;
  return r;
}

std::vector<StoredFeedback> History(std::initializer_list<v1::ProgressStatus> statuses) {
  std::vector<StoredFeedback> out;
  int64_t seq = 0;
  for (v1::ProgressStatus s : statuses) {
    StoredFeedback f;
    f.seq = ++seq;
    f.report = Report(s);
    f.report.set_idempotency_key("h-" + std::to_string(seq));
    out.push_back(f);
  }
  return out;
}

absl::StatusCode Code(const v1::ReportProgressRequest& r) { return CheckProgressReport(r, kNow).code(); }

TEST(CheckProgressReportTest, AValidReportOfEachStatusPasses) {
  for (int s = 1; s <= 7; ++s) {
    EXPECT_TRUE(CheckProgressReport(Report(static_cast<v1::ProgressStatus>(s)), kNow).ok()) << s;
  }
}

TEST(CheckProgressReportTest, TheStatusMustBeSet) {
  EXPECT_EQ(Code(Report(v1::PROGRESS_STATUS_UNSPECIFIED)), absl::StatusCode::kInvalidArgument);
  v1::ReportProgressRequest r = Report(v1::PROGRESS_RECEIVED);
  r.set_status(static_cast<v1::ProgressStatus>(42));
  EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument);
}

TEST(CheckProgressReportTest, ConnectedNamesWhatThePersonWasConnectedTo) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_CONNECTED);
  r.clear_connected_to();
  absl::Status s = CheckProgressReport(r, kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("connected_to"), absl::string_view::npos);
  r.add_connected_to("");
  EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument) << "an empty name";
}

TEST(CheckProgressReportTest, DeclinedAndClosedGiveAReason) {
  for (v1::ProgressStatus status : {v1::PROGRESS_DECLINED, v1::PROGRESS_CLOSED}) {
    v1::ReportProgressRequest r = Report(status);
    r.clear_reason();
    absl::Status s = CheckProgressReport(r, kNow);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("reason"), absl::string_view::npos);
  }
}

TEST(CheckProgressReportTest, OccurredAtIsAnRfc3339TimeNotInTheFuture) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_RECEIVED);
  for (const char* bad :
       {"", "2025-02-10", "2025-02-10 09:30:00Z", "2025-02-10T09:30:00", "yesterday", "2025-02-30T09:30:00Z"}) {
    r.set_occurred_at(bad);
    EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument) << bad;
  }
  r.set_occurred_at("2025-02-10T10:30:00+01:00");
  EXPECT_TRUE(CheckProgressReport(r, kNow).ok()) << "offsets are fine";
  r.set_occurred_at("2025-02-10T12:00:00Z");
  EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument) << "in the future";
  r.set_occurred_at("2025-02-10T09:36:00Z");
  EXPECT_TRUE(CheckProgressReport(r, kNow).ok()) << "within five minutes of clock skew";
}

TEST(CheckProgressReportTest, OutcomeMeasuresUseKnownInstrumentsInTheirRanges) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_CLOSED);
  auto measure = [&](const std::string& instrument, double start, double end) {
    r.clear_outcome_measures();
    v1::OutcomeMeasure* m = r.add_outcome_measures();
    m->set_instrument(instrument);
    m->set_start_score(start);
    m->set_end_score(end);
    return CheckProgressReport(r, kNow).code();
  };
  EXPECT_EQ(measure("SWEMWBS", 19.25, 24.11), absl::StatusCode::kOk);
  EXPECT_EQ(measure("SWEMWBS", 6, 20), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(measure("SWEMWBS", 20, 36), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(measure("SWEMWBS", 0, 0), absl::StatusCode::kInvalidArgument) << "unset scores are out of range";
  EXPECT_EQ(measure("ONS4-HAPPINESS", 0, 10), absl::StatusCode::kOk);
  EXPECT_EQ(measure("ONS4-HAPPINESS", 3, 11), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(measure("ONS4-HAPPINESS", 3.5, 7), absl::StatusCode::kInvalidArgument) << "ONS4 items are whole numbers";
  EXPECT_EQ(measure("ONS4", 3.5, 7.25), absl::StatusCode::kOk) << "the ONS4 mean is not";
  EXPECT_EQ(measure("ONS4", -1, 7), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(measure("PHQ9", 10, 5), absl::StatusCode::kInvalidArgument) << "not a known instrument";
  EXPECT_EQ(measure("SWEMWBS", std::nan(""), 20), absl::StatusCode::kInvalidArgument);
  r.clear_outcome_measures();
  for (int i = 0; i < 2; ++i) {
    v1::OutcomeMeasure* m = r.add_outcome_measures();
    m->set_instrument("ONS4");
    m->set_start_score(4);
    m->set_end_score(6);
  }
  EXPECT_EQ(CheckProgressReport(r, kNow).code(), absl::StatusCode::kInvalidArgument) << "an instrument twice";
}

TEST(CheckProgressReportTest, IdsAreBounded) {
  v1::ReportProgressRequest r = Report(v1::PROGRESS_RECEIVED);
  r.set_idempotency_key("");
  EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument);
  r.set_idempotency_key(std::string(129, 'k'));
  EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument);
  r.set_idempotency_key("has space");
  EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument);
  r = Report(v1::PROGRESS_RECEIVED);
  r.set_referral_id("");
  EXPECT_EQ(Code(r), absl::StatusCode::kInvalidArgument);
}

absl::StatusCode Transition(const v1::ReportProgressRequest& r, const std::vector<StoredFeedback>& history,
                            const StoredReferral& referral = Delivered()) {
  return CheckProgressTransition(r, referral, history).status().code();
}

TEST(CheckProgressTransitionTest, NothingIsReportedOnARefusedOrUndeliveredReferral) {
  StoredReferral refused = Delivered();
  refused.decision.set_disposition(v1::REFUSED);
  refused.delivery_state = v1::NOT_FOR_DELIVERY;
  EXPECT_EQ(Transition(Report(v1::PROGRESS_RECEIVED), {}, refused), absl::StatusCode::kFailedPrecondition);
  for (v1::DeliveryState state : {v1::DELIVERY_PENDING, v1::DELIVERY_FAILED, v1::DELIVERY_CANCELLED}) {
    StoredReferral r = Delivered();
    r.delivery_state = state;
    EXPECT_EQ(Transition(Report(v1::PROGRESS_RECEIVED), {}, r), absl::StatusCode::kFailedPrecondition) << state;
  }
}

TEST(CheckProgressTransitionTest, TheUsualPathIsAccepted) {
  std::vector<StoredFeedback> history;
  for (v1::ProgressStatus s :
       {v1::PROGRESS_RECEIVED, v1::PROGRESS_UNABLE_TO_CONTACT, v1::PROGRESS_CONTACTED,
        v1::PROGRESS_FIRST_CONVERSATION_HELD, v1::PROGRESS_CONNECTED, v1::PROGRESS_CONNECTED, v1::PROGRESS_CLOSED}) {
    absl::StatusOr<std::optional<int64_t>> d = CheckProgressTransition(Report(s), Delivered(), history);
    ASSERT_TRUE(d.ok()) << s << " " << d.status();
    EXPECT_FALSE(d->has_value());
    StoredFeedback f;
    f.seq = static_cast<int64_t>(history.size()) + 1;
    f.report = Report(s);
    history.push_back(f);
  }
}

TEST(CheckProgressTransitionTest, StepsDoNotGoBack) {
  EXPECT_EQ(Transition(Report(v1::PROGRESS_RECEIVED), History({v1::PROGRESS_RECEIVED, v1::PROGRESS_CONTACTED})),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Transition(Report(v1::PROGRESS_UNABLE_TO_CONTACT), History({v1::PROGRESS_FIRST_CONVERSATION_HELD})),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Transition(Report(v1::PROGRESS_CONNECTED), History({v1::PROGRESS_CONNECTED})), absl::StatusCode::kOk);
}

TEST(CheckProgressTransitionTest, OnlyClosedFollowsDeclined) {
  const auto declined = History({v1::PROGRESS_CONTACTED, v1::PROGRESS_DECLINED});
  EXPECT_EQ(Transition(Report(v1::PROGRESS_CONNECTED), declined), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Transition(Report(v1::PROGRESS_DECLINED), declined), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Transition(Report(v1::PROGRESS_CLOSED), declined), absl::StatusCode::kOk);
}

TEST(CheckProgressTransitionTest, NothingFollowsClosedExceptTheSameReportAgain) {
  const auto closed = History({v1::PROGRESS_RECEIVED, v1::PROGRESS_CLOSED});
  EXPECT_EQ(Transition(Report(v1::PROGRESS_CONNECTED), closed), absl::StatusCode::kFailedPrecondition);
  v1::ReportProgressRequest other = Report(v1::PROGRESS_CLOSED);
  other.set_reason("Moved away");
  EXPECT_EQ(Transition(other, closed), absl::StatusCode::kFailedPrecondition);
  v1::ReportProgressRequest again = Report(v1::PROGRESS_CLOSED);
  again.set_idempotency_key("a-new-key");
  absl::StatusOr<std::optional<int64_t>> d = CheckProgressTransition(again, Delivered(), closed);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, std::optional<int64_t>(2)) << "recorded once, as the first CLOSED";
}

TEST(CheckProgressTransitionTest, AnEventBeforeTheReferralArrivedIsRefused) {
  StoredReferral r = Delivered();
  r.received_at = kNow;
  v1::ReportProgressRequest early = Report(v1::PROGRESS_RECEIVED);
  early.set_occurred_at("2025-02-10T08:00:00Z");
  EXPECT_EQ(Transition(early, {}, r), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Transition(Report(v1::PROGRESS_RECEIVED), {}, r), absl::StatusCode::kOk) << "within the clock skew";
}

}  // namespace
}  // namespace frontdoor::gateway
