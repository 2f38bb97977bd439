#include "tests/gateway/store/store_test_rows.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/store/message_fingerprint.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway::testing {

namespace v1 = ::frontdoor::v1;

NewReferral Accepted(const std::string& id, const std::string& sender, const std::string& message_id) {
  NewReferral r;
  r.referral_id = id;
  r.sender_ods = sender;
  r.message_id = message_id;
  r.format = "typed";
  r.received_at = kT0;
  r.decision.set_referral_id(id);
  r.decision.set_disposition(v1::ACCEPTED);
  r.decision.set_connector_id("oldham-north-royton-wellbeing");
  r.decision.set_endpoint_id("action-together-oldham");
  r.referral = frontdoor::testing::RoytonReferral(message_id);
  r.content_fingerprint = MessageFingerprint(r.referral);
  NewDelivery d;
  d.endpoint_id = "action-together-oldham";
  d.request.set_idempotency_key("deliver:" + id);
  d.request.mutable_referral()->set_referral_id(id);
  r.delivery = d;
  return r;
}

std::vector<NewReferral> AcceptedBatch(int first, int last) {
  std::vector<NewReferral> batch;
  for (int i = first; i <= last; ++i)
    batch.push_back(Accepted("r" + std::to_string(i), "P85901", "m" + std::to_string(i)));
  return batch;
}

NewReferral Refused(const std::string& id, const std::string& message_id) {
  NewReferral r = Accepted(id, "P85901", message_id);
  r.decision.set_disposition(v1::REFUSED);
  r.decision.clear_connector_id();
  r.decision.clear_endpoint_id();
  r.delivery.reset();
  return r;
}

std::vector<NewReferral> One(NewReferral r) {
  std::vector<NewReferral> v;
  v.push_back(std::move(r));
  return v;
}

std::vector<const OutboxItem*> Rows(const std::vector<OutboxItem>& items) {
  std::vector<const OutboxItem*> rows;
  for (const OutboxItem& item : items) rows.push_back(&item);
  return rows;
}

// An accepted referral with its decision's audit record, whose context (who, consent, referrer,
NewReferral AcceptedWithAudit(const std::string& id, const std::string& message_id) {
  NewReferral r = Accepted(id, "P85901", message_id);
  v1::AuditRecord decide;
  decide.set_time("2025-02-03T10:15:00.000000Z");
  decide.set_actor("P85901");
  decide.set_actor_organisation("P85901");
  decide.set_nhs_number("9434765919");
  decide.set_referral_id(id);
  decide.set_action("decide");
  decide.add_rule_ids("IG-1");
  decide.add_rule_ids("IG-5");
  decide.set_consent_reference("consent-" + id);
  decide.set_recipient_endpoint("action-together-oldham");
  decide.set_outcome("permit");
  r.audit.push_back(decide);
  return r;
}

void RecordReferralsWithCasework(Store* store) {
  std::vector<NewReferral> batch;
  batch.push_back(Accepted("r-cw1", "P85901", "m-cw1"));
  NewReferral refused = Refused("r-cw2", "m-cw2");
  refused.received_at = kT0 + absl::Minutes(5);
  v1::Issue* rule = refused.decision.add_issues();
  rule->set_code("IG-2");
  rule->set_severity(v1::Issue::ERROR);
  batch.push_back(std::move(refused));
  NewReferral later = Accepted("r-cw3", "P85901", "m-cw3");
  later.received_at = kT0 + absl::Minutes(10);
  batch.push_back(std::move(later));
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  const StoredReferral referral = **store->GetReferral("r-cw1");
  const std::pair<v1::ProgressStatus, const char*> events[] = {{v1::PROGRESS_CONTACTED, "2025-02-04T09:00:00Z"},
                                                               {v1::PROGRESS_CONNECTED, "2025-02-11T09:00:00Z"},
                                                               {v1::PROGRESS_CLOSED, "2025-03-04T09:00:00Z"}};
  for (const auto& [status, at] : events) {
    RecordProgress(store, Progress("r-cw1", at, status, at, {"Royton walking group"}), referral);
  }
}

NewFeedback Progress(const std::string& referral_id, const std::string& key, v1::ProgressStatus status,
                     const std::string& occurred_at, const std::vector<std::string>& connected_to) {
  NewFeedback feedback;
  feedback.endpoint_id = "action-together-oldham";
  feedback.report.set_referral_id(referral_id);
  feedback.report.set_idempotency_key(key);
  feedback.report.set_status(status);
  feedback.report.set_occurred_at(occurred_at);
  if (status == v1::PROGRESS_CONNECTED) {
    for (const std::string& name : connected_to) feedback.report.add_connected_to(name);
  }
  if (status == v1::PROGRESS_CLOSED) {
    v1::OutcomeMeasure* m = feedback.report.add_outcome_measures();
    m->set_instrument("SWEMWBS");
    m->set_start_score(19.25);
    m->set_end_score(24.11);
  }
  feedback.recorded_at = kT0;
  return feedback;
}

void RecordProgress(Store* store, const NewFeedback& feedback, const StoredReferral& referral) {
  ASSERT_TRUE(
      store
          ->RecordFeedback(feedback, referral,
                           [](const FeedbackContext&) { return absl::StatusOr<std::optional<int64_t>>(std::nullopt); })
          .ok());
}

std::vector<std::string> ReportRowTexts(Store* store) {
  absl::StatusOr<std::vector<ReportRow>> rows = store->ReferralsReceived(kT0, kT0 + absl::Hours(1));
  EXPECT_TRUE(rows.ok()) << rows.status();
  std::vector<std::string> texts;
  if (!rows.ok()) return texts;
  for (const ReportRow& row : *rows) {
    frontdoor::internal::ReportFacts facts;
    EXPECT_TRUE(row.ParseFacts(&facts));
    texts.push_back(absl::StrCat(absl::FormatTime(row.received_at), " ", facts.ShortDebugString()));
  }
  return texts;
}

v1::AuditRecord LastAuditRecord(AuditStore* audit) {
  const uint64_t size = audit->AuditTreeSize().value();
  return audit->GetAuditRecord(size - 1).value().value();
}

}  // namespace frontdoor::gateway::testing
