// The store's contract (ReferralRecords, DeliveryOutbox, Withdrawals), run against both backends:
// an SQLite file and a database on a real PostgreSQL server.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "common/time_text.h"
#include "gateway/store/message_fingerprint.h"
#include "gateway/store/report_fact_rows.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/store/outbox_test_steps.h"
#include "tests/gateway/store/store_test_rows.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

using testing::Accepted;
using testing::AcceptedBatch;
using testing::AcceptedWithAudit;
using testing::kT0;
using testing::LastAuditRecord;
using testing::One;
using testing::Refused;
using testing::Rows;

using frontdoor::testing::OpenedStore;
using frontdoor::testing::StoreBackend;

class ReferralStoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(GetParam());
    db_ = std::make_unique<frontdoor::testing::TestDatabase>(GetParam());
  }
  OpenedStore OpenStore() { return db_->Open(); }
  std::unique_ptr<frontdoor::testing::TestDatabase> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ReferralStoreTest, frontdoor::testing::AllStoreBackends(),
                         frontdoor::testing::StoreBackendName);

TEST_P(ReferralStoreTest, RecordsAnAcceptedReferralWithItsOutboxRow) {
  auto store = OpenStore();
  auto out = store->RecordReferrals(One(Accepted("r1", "P85901", "m1")));
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_FALSE((*out)[0].duplicate);

  auto got = store->GetReferral("r1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->message_id, "m1");
  EXPECT_EQ((*got)->delivery_state, v1::DELIVERY_PENDING);
  auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].kind, OutboxKind::kDeliver);
  v1::DeliverReferralRequest request;
  ASSERT_TRUE(request.ParseFromString((*due)[0].request)) << "the request as it was queued";
  EXPECT_EQ(request.idempotency_key(), "deliver:r1");
}

TEST_P(ReferralStoreTest, SameSenderAndMessageIdIsADuplicateWithTheFirstDecision) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  auto again = store->RecordReferrals(One(Accepted("r2", "P85901", "m1")));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].duplicate);
  EXPECT_EQ((*again)[0].decision.referral_id(), "r1");
  auto second = store->GetReferral("r2");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->has_value()) << "a duplicate must not be recorded";
  auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  EXPECT_EQ(due->size(), 1u) << "a duplicate must not be delivered twice";
}

TEST_P(ReferralStoreTest, DuplicateInsideOneBatchIsRecognised) {
  auto store = OpenStore();
  std::vector<NewReferral> batch;
  batch.push_back(Accepted("r1", "P85901", "m1"));
  batch.push_back(Accepted("r2", "P85901", "m1"));
  auto out = store->RecordReferrals(std::move(batch));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE((*out)[0].duplicate);
  EXPECT_TRUE((*out)[1].duplicate);
  EXPECT_EQ((*out)[1].decision.referral_id(), "r1");
}

// The same sender's id used again for another message (another person, here): not a duplicate,
// nothing recorded, and nothing of the first referral in the outcome.
NewReferral AnotherMessageUnder(const std::string& id, const std::string& message_id) {
  NewReferral r = Accepted(id, "P85901", message_id);
  r.referral.mutable_person()->set_nhs_number("9434765919");
  r.content_fingerprint = MessageFingerprint(r.referral);
  r.received_at = kT0 + absl::Hours(2);
  return r;
}

TEST_P(ReferralStoreTest, ADifferentMessageUnderAUsedIdIsAReusedIdNotADuplicate) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  auto again = store->RecordReferrals(One(AnotherMessageUnder("r2", "m1")));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE((*again)[0].duplicate);
  EXPECT_TRUE((*again)[0].message_id_reused);
  EXPECT_EQ((*again)[0].first_received_at, kT0);
  EXPECT_EQ((*again)[0].decision.ByteSizeLong(), 0u) << "nothing of the first referral is echoed";
  EXPECT_FALSE(store->GetReferral("r2")->has_value()) << "nothing is recorded";
  EXPECT_EQ(store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(3), 10)->size(), 1u);
  // The first message itself is still a resend.
  EXPECT_TRUE(store->RecordReferrals(One(Accepted("r3", "P85901", "m1"))).value()[0].duplicate);
}

TEST_P(ReferralStoreTest, AReusedIdInsideOneBatchIsRecognised) {
  auto store = OpenStore();
  std::vector<NewReferral> batch;
  batch.push_back(Accepted("r1", "P85901", "m1"));
  batch.push_back(AnotherMessageUnder("r2", "m1"));
  auto out = store->RecordReferrals(std::move(batch));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE((*out)[0].duplicate);
  EXPECT_TRUE((*out)[1].message_id_reused);
  EXPECT_FALSE(store->GetReferral("r2")->has_value());
}

TEST_P(ReferralStoreTest, AMessageRecordedWithoutAFingerprintTakesAnyMessageUnderItsIdAsAResend) {
  auto store = OpenStore();
  NewReferral old = Accepted("r1", "P85901", "m1");
  old.content_fingerprint.clear();  // as recorded before fingerprints existed
  ASSERT_TRUE(store->RecordReferrals(One(std::move(old))).ok());
  auto again = store->RecordReferrals(One(AnotherMessageUnder("r2", "m1")));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)[0].duplicate);
  EXPECT_EQ((*again)[0].decision.referral_id(), "r1");
}

TEST_P(ReferralStoreTest, SameMessageIdFromAnotherSenderIsNotADuplicate) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  auto other = store->RecordReferrals(One(Accepted("r2", "P85902", "m1")));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)[0].duplicate);
}

TEST_P(ReferralStoreTest, RefusedReferralIsRememberedButNeverQueued) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(Refused("r1", "m1"))).ok());
  auto got = store->GetReferral("r1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->delivery_state, v1::NOT_FOR_DELIVERY);
  EXPECT_TRUE(store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(1), 10)->empty());
  EXPECT_TRUE(store->RecordReferrals(One(Refused("r2", "m1"))).value()[0].duplicate);
}

TEST_P(ReferralStoreTest, EverythingRecordedSurvivesReopeningTheStore) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  }
  auto reopened = OpenStore();
  auto got = reopened->GetReferral("r1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->decision.connector_id(), "oldham-north-royton-wellbeing");
  EXPECT_EQ(reopened->DueDeliveries("action-together-oldham", kT0, 10)->size(), 1u);
}

TEST_P(ReferralStoreTest, DeliveredRowIsNotDueAgain) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  const int64_t id = store->DueDeliveries("action-together-oldham", kT0, 10)->at(0).outbox_id;
  ASSERT_TRUE(testing::MarkOneDelivered(store.get(), id, kT0 + absl::Seconds(1)).ok());
  EXPECT_TRUE(store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(1), 10)->empty());
  auto got = store->GetReferral("r1");
  EXPECT_EQ((*got)->delivery_state, v1::DELIVERED);
  EXPECT_EQ((*got)->delivery_attempts, 1u);
  ASSERT_TRUE((*got)->delivered_at.has_value());
  EXPECT_FALSE(store->NextDeliveryDue("action-together-oldham")->has_value());
}

TEST_P(ReferralStoreTest, MarkDeliveredManyMarksEveryRowWithItsOwnAuditRecord) {
  auto store = OpenStore();
  std::vector<NewReferral> batch = AcceptedBatch(0, 2);
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  ASSERT_EQ(due->size(), 3u);
  const std::vector<const OutboxItem*> rows = Rows(*due);
  const uint64_t before = *store.audit()->AuditTreeSize();
  ASSERT_TRUE(store->MarkDeliveredMany(rows, kT0 + absl::Seconds(1)).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*store->GetReferral("r" + std::to_string(i)))->delivery_state, v1::DELIVERED) << i;
  }
  EXPECT_EQ(*store.audit()->AuditTreeSize(), before + 3) << "one disclosure record per delivery";
  EXPECT_TRUE(store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(1), 10)->empty());
  // Marking again changes nothing and records nothing.
  ASSERT_TRUE(store->MarkDeliveredMany(rows, kT0 + absl::Seconds(2)).ok());
  EXPECT_EQ(*store.audit()->AuditTreeSize(), before + 3);
}

TEST_P(ReferralStoreTest, AnAcknowledgementRecordCitesTheReferralsAuditContextHoweverTheRowCame) {
  // The dispatcher passes rows as DueDeliveries read them (with the referral's audit context where
  // the store reads it there); MarkDelivered has only the id, so the store reads it in the
  // transaction. The disclosure record must be the same either way (IG-9).
  auto store = OpenStore();
  std::vector<NewReferral> batch;
  batch.push_back(AcceptedWithAudit("r1", "m1"));
  batch.push_back(AcceptedWithAudit("r2", "m2"));
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  ASSERT_EQ(due->size(), 2u);

  ASSERT_TRUE(store->MarkDeliveredMany({&due->at(0)}, kT0 + absl::Seconds(1)).ok());
  const v1::AuditRecord with_row = LastAuditRecord(store.audit());
  ASSERT_TRUE(testing::MarkOneDelivered(store.get(), due->at(1).outbox_id, kT0 + absl::Seconds(1)).ok());
  const v1::AuditRecord by_id = LastAuditRecord(store.audit());

  for (const v1::AuditRecord* r : {&with_row, &by_id}) {
    EXPECT_EQ(r->action(), "deliver");
    EXPECT_EQ(r->outcome(), "deliver");
    EXPECT_EQ(r->actor(), "frontdoor-gateway");
    EXPECT_EQ(r->actor_organisation(), "action-together-oldham");
    EXPECT_EQ(r->recipient_endpoint(), "action-together-oldham");
    EXPECT_EQ(r->nhs_number(), "9434765919");
    EXPECT_EQ(r->referrer_ods(), "P85901");
    ASSERT_EQ(r->rule_ids_size(), 2);
    EXPECT_EQ(r->rule_ids(0), "IG-1");
    EXPECT_EQ(r->rule_ids(1), "IG-5");
    EXPECT_EQ(r->lawful_basis(), "UK GDPR Art 6(1)(e); Art 9(2)(h) (direct care)");
    EXPECT_EQ(r->detail(), "minimum-necessary copy acknowledged by the connector");
    EXPECT_EQ(r->time(), "2025-02-03T10:15:01.000000Z");
  }
  EXPECT_EQ(with_row.referral_id(), "r1");
  EXPECT_EQ(with_row.consent_reference(), "consent-r1");
  EXPECT_EQ(by_id.referral_id(), "r2");
  EXPECT_EQ(by_id.consent_reference(), "consent-r2");
  const uint64_t size = *store.audit()->AuditTreeSize();
  EXPECT_TRUE(store.audit()->AuditLeafHashes(0, size).ok());
}

TEST_P(ReferralStoreTest, ACopyAcknowledgedWhileBeingWithdrawnIsRecordedAsSuchThenItsCease) {
  // The row was read for sending, then the referral was withdrawn (IG-7) while the call was out:
  // the connector has the copy, so the disclosure is recorded, saying so; the cease follows.
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(AcceptedWithAudit("r1", "m1"))).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  ASSERT_EQ(due->size(), 1u);
  v1::CeaseProcessingRequest cease;
  cease.set_idempotency_key("cease:r1");
  cease.set_reason(v1::CONSENT_WITHDRAWN);
  ASSERT_TRUE(store->CancelReferral("r1", cease, AuditActor{"P85901", "P85901"}, kT0 + absl::Seconds(1)).ok());

  ASSERT_TRUE(store->MarkDeliveredMany(Rows(*due), kT0 + absl::Seconds(2)).ok());
  const v1::AuditRecord delivered = LastAuditRecord(store.audit());
  EXPECT_EQ(delivered.action(), "deliver");
  EXPECT_EQ(delivered.nhs_number(), "9434765919");
  EXPECT_EQ(delivered.consent_reference(), "consent-r1");
  EXPECT_EQ(delivered.detail(),
            "minimum-necessary copy acknowledged by the connector while being withdrawn; cease follows");
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERY_CANCELLED);

  const auto cease_due = store->DueDeliveries("action-together-oldham", kT0 + absl::Seconds(3), 10);
  ASSERT_EQ(cease_due->size(), 1u);
  EXPECT_EQ(cease_due->at(0).kind, OutboxKind::kCease);
  ASSERT_TRUE(store->MarkDeliveredMany(Rows(*cease_due), kT0 + absl::Seconds(4)).ok());
  const v1::AuditRecord ceased = LastAuditRecord(store.audit());
  EXPECT_EQ(ceased.action(), "cease");
  EXPECT_EQ(ceased.nhs_number(), "9434765919");
  ASSERT_EQ(ceased.rule_ids_size(), 1);
  EXPECT_EQ(ceased.rule_ids(0), "IG-7");
  EXPECT_EQ(ceased.lawful_basis(), "");
  EXPECT_EQ(ceased.detail(), "the connector acknowledged CeaseProcessing: stop and delete");
  EXPECT_TRUE((*store->GetReferral("r1"))->cease_processing_acknowledged);
  // Marking the cease again records nothing more.
  const uint64_t size = *store.audit()->AuditTreeSize();
  ASSERT_TRUE(store->MarkDeliveredMany(Rows(*cease_due), kT0 + absl::Seconds(5)).ok());
  EXPECT_EQ(*store.audit()->AuditTreeSize(), size);
}

TEST_P(ReferralStoreTest, FailedAttemptIsRetriedOnlyWhenDue) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  const int64_t id = store->DueDeliveries("action-together-oldham", kT0, 10)->at(0).outbox_id;
  ASSERT_TRUE(testing::RecordFailedAttempt(store.get(), id, kT0 + absl::Seconds(30), "14 unavailable").ok());
  EXPECT_TRUE(store->DueDeliveries("action-together-oldham", kT0 + absl::Seconds(29), 10)->empty());
  auto due = store->DueDeliveries("action-together-oldham", kT0 + absl::Seconds(30), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].attempts, 1u);
  EXPECT_EQ(**store->NextDeliveryDue("action-together-oldham"), kT0 + absl::Seconds(30));
}

TEST_P(ReferralStoreTest, DueDeliveriesAreOnlyThatEndpointsOldestFirst) {
  auto store = OpenStore();
  std::vector<NewReferral> batch = AcceptedBatch(0, 2);
  NewReferral other = Accepted("x", "P85901", "mx");
  other.delivery->endpoint_id = "mind-oldham";
  batch.push_back(std::move(other));
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  auto due = store->DueDeliveries("action-together-oldham", kT0, 2);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].referral_id, "r0");
  EXPECT_EQ((*due)[1].referral_id, "r1");
  EXPECT_EQ(store->DueDeliveries("mind-oldham", kT0, 10)->size(), 1u);
}

TEST_P(ReferralStoreTest, CeaseIsNotDueWhileItsDeliveryIsPending) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  ASSERT_TRUE(testing::QueueCeaseBehind(*db_, "r1", "action-together-oldham", kT0).ok());
  // The delivery is in backoff; the cease is due, but must not overtake it.
  const int64_t deliver_id = store->DueDeliveries("action-together-oldham", kT0, 10)->at(0).outbox_id;
  ASSERT_TRUE(testing::RecordFailedAttempt(store.get(), deliver_id, kT0 + absl::Minutes(5), "14 unavailable").ok());
  EXPECT_TRUE(store->DueDeliveries("action-together-oldham", kT0 + absl::Minutes(1), 10)->empty());
  auto due = store->DueDeliveries("action-together-oldham", kT0 + absl::Minutes(5), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].kind, OutboxKind::kDeliver);
  ASSERT_TRUE(testing::MarkOneDelivered(store.get(), deliver_id, kT0 + absl::Minutes(5)).ok());
  due = store->DueDeliveries("action-together-oldham", kT0 + absl::Minutes(5), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].kind, OutboxKind::kCease);
  v1::CeaseProcessingRequest queued_cease;
  ASSERT_TRUE(queued_cease.ParseFromString((*due)[0].request));
  EXPECT_EQ(queued_cease.idempotency_key(), "cease:r1");
}

TEST_P(ReferralStoreTest, CeaseForAnUnknownReferralIsNotFound) {
  auto store = OpenStore();
  v1::CeaseProcessingRequest cease;
  cease.set_idempotency_key("cease:x");
  EXPECT_EQ(store->CancelReferral("x", cease, AuditActor{"P85901", "P85901"}, kT0).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(ReferralStoreTest, FreeTextWithANulByteIsStoredRatherThanFailingTheCommit) {
  auto store = OpenStore();
  NewReferral r = Accepted("r1", "P85901", "m1");
  v1::AuditRecord decision;
  decision.set_time("2025-02-03T10:15:00Z");
  decision.set_action("decide");
  decision.set_consent_reference(std::string("consent\0id", 10));  // a Consent.id from the sender
  r.audit.push_back(decision);
  std::vector<NewReferral> batch;
  batch.push_back(std::move(r));
  batch.push_back(Accepted("r2", "P85901", "m2"));
  auto out = store->RecordReferrals(std::move(batch));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(store->GetReferral("r2")->has_value()) << "the rest of the batch is committed";
  const int64_t id = store->DueDeliveries("action-together-oldham", kT0, 10)->at(0).outbox_id;
  // A connector's error text is the connector's to choose.
  EXPECT_TRUE(
      testing::RecordFailedAttempt(store.get(), id, kT0 + absl::Seconds(5), std::string("14 down\0now", 11)).ok());
  EXPECT_EQ(**store->NextDeliveryDue("action-together-oldham"), kT0);  // r2's row is still due now
}

// Outcome reports read one narrow row of facts per referral (gateway/store/report_reads.h), written
// with the referral and updated with each feedback event in their transactions.
TEST_P(ReferralStoreTest, ReferralsReceivedAreTheRangeOldestFirstWithTheirFeedbackFolded) {
  auto store = OpenStore();
  NewReferral early = Accepted("r-early", "P85901", "m-early");
  early.received_at = kT0 - absl::Hours(1);
  NewReferral in_range = Accepted("r-in", "P85901", "m-in");
  in_range.decision.set_cluster_id("oldham-north-royton");
  in_range.decision.set_category("wellbeing");
  in_range.referral.set_self_referral(true);
  NewReferral refused = Refused("r-refused", "m-refused");
  refused.received_at = kT0 + absl::Minutes(1);
  for (const char* rule : {"IG-2", "IG-2", "IG-3"}) {
    v1::Issue* issue = refused.decision.add_issues();
    issue->set_code(rule);
    issue->set_severity(v1::Issue::ERROR);
  }
  v1::Issue* warning = refused.decision.add_issues();
  warning->set_code("WEAK_CONSENT");
  warning->set_severity(v1::Issue::WARNING);
  NewReferral late = Accepted("r-late", "P85901", "m-late");
  late.received_at = kT0 + absl::Hours(1);
  std::vector<NewReferral> batch;
  for (NewReferral* r : {&early, &in_range, &refused, &late}) batch.push_back(*r);
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  const StoredReferral referral = **store->GetReferral("r-in");
  struct Event {
    const char* key;
    v1::ProgressStatus status;
    const char* occurred_at;
  };
  // kT0 is 2025-02-03T10:15:00Z. The second contact is reported later but happened first; the
  // connected event's clock is before the referral was received.
  const Event events[] = {
      {"k1", v1::PROGRESS_CONTACTED, "2025-02-04T09:00:00Z"}, {"k2", v1::PROGRESS_CONTACTED, "2025-02-03T12:00:00Z"},
      {"k3", v1::PROGRESS_CONNECTED, "2025-02-01T08:00:00Z"}, {"k4", v1::PROGRESS_CONNECTED, "2025-02-10T08:00:00Z"},
      {"k5", v1::PROGRESS_CLOSED, "2025-03-01T16:30:00Z"},
  };
  for (const Event& e : events) {
    testing::RecordProgress(store.get(),
                            testing::Progress("r-in", e.key, e.status, e.occurred_at,
                                              {"Royton walking group", std::string("Men's shed ") + e.key}),
                            referral);
  }

  absl::StatusOr<std::vector<ReportRow>> rows = store->ReferralsReceived(kT0, kT0 + absl::Hours(1));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u) << "[from, to): the early and the late one are outside";
  frontdoor::internal::ReportFacts in, out;
  ASSERT_TRUE((*rows)[0].ParseFacts(&in));
  ASSERT_TRUE((*rows)[1].ParseFacts(&out));
  EXPECT_EQ((*rows)[0].received_at, kT0);
  EXPECT_EQ(in.disposition(), v1::ACCEPTED);
  EXPECT_EQ(in.sender_ods(), "P85901");
  EXPECT_TRUE(in.self_referral());
  EXPECT_EQ(in.cluster_id(), "oldham-north-royton");
  EXPECT_EQ(in.category(), "wellbeing");
  EXPECT_EQ(in.team_id(), "oldham-north-royton-wellbeing");
  auto at = [](const char* text) {
    absl::Time t;
    EXPECT_TRUE(ParseRfc3339(text, &t)) << text;
    return absl::ToUnixMicros(t);
  };
  ASSERT_TRUE(in.has_contacted_us());
  EXPECT_EQ(in.contacted_us(), at("2025-02-03T12:00:00Z")) << "the first contact, not the first reported";
  ASSERT_TRUE(in.has_connected_us());
  EXPECT_EQ(in.connected_us(), absl::ToUnixMicros(kT0)) << "a time before the referral counts as its receipt";
  EXPECT_FALSE(in.has_first_conversation_us());
  EXPECT_EQ(in.closed_us(), at("2025-03-01T16:30:00Z"));
  EXPECT_THAT(in.connected_to(), ::testing::ElementsAre("Royton walking group", "Men's shed k3", "Men's shed k4"));
  ASSERT_EQ(in.outcomes_size(), 1);
  EXPECT_EQ(in.outcomes(0).instrument(), "SWEMWBS");
  EXPECT_DOUBLE_EQ(in.outcomes(0).end_score(), 24.11);
  EXPECT_EQ(out.disposition(), v1::REFUSED);
  EXPECT_THAT(out.refusal_rule_ids(), ::testing::ElementsAre("IG-2", "IG-3")) << "errors, each once; not warnings";
  EXPECT_FALSE(out.has_contacted_us());
  EXPECT_TRUE(out.connected_to().empty());
}

// A rejected message has no referral: its facts are a row of their own, read with the referrals'.
TEST_P(ReferralStoreTest, ARejectionIsReadInTimeOrderWithTheReferrals) {
  auto store = OpenStore();
  NewReferral before = Accepted("r-before", "P85901", "m-before");
  before.received_at = kT0 - absl::Minutes(1);
  NewReferral after = Accepted("r-after", "P85901", "m-after");
  after.received_at = kT0 + absl::Minutes(1);
  std::vector<NewReferral> batch;
  batch.push_back(std::move(before));
  batch.push_back(std::move(after));
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  v1::SubmitReferralResponse rejected;
  rejected.set_disposition(v1::REJECTED);
  ASSERT_TRUE(store->RecordRejection(kT0, "rejected:1", FactsOfReferral("P85903", false, rejected)).ok());

  absl::StatusOr<std::vector<ReportRow>> rows = store->ReferralsReceived(kT0 - absl::Hours(1), kT0 + absl::Hours(1));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  frontdoor::internal::ReportFacts middle;
  ASSERT_TRUE((*rows)[1].ParseFacts(&middle));
  EXPECT_EQ((*rows)[1].received_at, kT0);
  EXPECT_EQ(middle.disposition(), v1::REJECTED);
  EXPECT_EQ(middle.sender_ods(), "P85903");
}

}  // namespace
}  // namespace frontdoor::gateway
