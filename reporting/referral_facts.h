// ReferralFacts: what a report knows about one referral. The stores (SQLite, PostgreSQL) keep one
// row of report facts per referral, folded from its decision and its feedback events as they are
// recorded (gateway/store/report_fact_rows.h); ReportBuilder (reporting/report_builder.h) counts
// rows into a Report.
//
// There is deliberately no NHS number, name, date of birth, address, referral id or free text
// (reasons, what matters, decline reasons) here: what is not read cannot leak into a report.
// Activity names (connected_to) are the one text, and a report lists a name only where at least 8
// people were connected to it.
//
//   ReferralFacts f;
//   f.received_at = received;  f.disposition = frontdoor::v1::ACCEPTED;
//   f.borough = "oldham";  f.cluster_id = "oldham-north-royton";  f.category = "wellbeing";
//   f.team_id = "oldham-north-royton-wellbeing";  f.source_kind = kSourceGpPractice;
//   f.contacted_at = contacted;  f.closed_at = closed;
//   f.outcomes.push_back({"SWEMWBS", 19.25, 24.11});
#ifndef FRONTDOOR_REPORTING_REFERRAL_FACTS_H_
#define FRONTDOOR_REPORTING_REFERRAL_FACTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::reporting {

// Source kinds (ReportRequest.Breakdown SOURCE). A self-referral is "self-referral" whoever
// passed it on; otherwise a practices.csv sender is "gp-practice", and a referrers.csv sender is
// its kind column (hospital, social-care, mental-health, early-help, community).
inline constexpr char kSourceGpPractice[] = "gp-practice";
inline constexpr char kSourceSelfReferral[] = "self-referral";

// The group key of a referral without the breakdown's value (a rejected referral has no
// cluster; a refused one no team).
inline constexpr char kUnknownGroup[] = "unknown";
// The key of a period's total (ReportGroup.key); not "all", which is a Tameside category.
inline constexpr char kTotalGroup[] = "total";

// One wellbeing measure with a start and an end score (OutcomeMeasure): scores as the connector
// reported them, in the instrument's range (gateway/feedback/progress_report_rules.h).
struct OutcomeScores {
  std::string instrument;  // SWEMWBS, WEMWBS, ONS4, ONS4-SATISFACTION, ... (outcome_instruments.h)
  double start_score = 0;
  double end_score = 0;
};

struct ReferralFacts {
  absl::Time received_at;  // When the gateway received it; decides its day and period.
  frontdoor::v1::Disposition disposition = frontdoor::v1::DISPOSITION_UNSPECIFIED;
  std::vector<std::string> refusal_rule_ids;  // REFUSED: IG-1, IG-2, IG-3, OUT_OF_AREA, ...

  // Empty when not known (the report shows kUnknownGroup). Views: the strings must live as long
  // as the facts are used (ReportBuilder::Add copies what it keeps; BuildReport's rows until it
  // returns), so that a million rows with a few hundred distinct values are not a million copies.
  absl::string_view borough;
  absl::string_view cluster_id;
  absl::string_view category;  // wellbeing | older-people | mental-health | all
  absl::string_view team_id;
  absl::string_view source_kind;  // kSourceGpPractice, kSourceSelfReferral or a referrers.csv kind
  bool front_door = false;        // ACCEPTED by the borough's front-door team (fallback).

  // The casework (feedback events), for ACCEPTED referrals; ignored otherwise. Each time is the
  // first event of that status; none is before received_at.
  std::optional<absl::Time> contacted_at;
  std::optional<absl::Time> first_conversation_at;
  std::optional<absl::Time> connected_at;
  std::optional<absl::Time> closed_at;
  bool declined = false;
  bool unable_to_contact = false;
  std::vector<std::string> connected_to;  // Activities and services, by name (PROGRESS_CONNECTED).
  // At most one per instrument; when there are more, the last one counts.
  std::vector<OutcomeScores> outcomes;
};

}  // namespace frontdoor::reporting

#endif  // FRONTDOOR_REPORTING_REFERRAL_FACTS_H_
