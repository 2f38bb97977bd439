// The ReferralStore contract, run against both backends (an SQLite file and a database on a real
// PostgreSQL server), plus what is particular to the SQLite file.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "gateway/message_fingerprint.h"
#include "gateway/sqlite_referral_store.h"
#include "gtest/gtest.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

const absl::Time kT0 = absl::FromUnixSeconds(1738577700);

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

// Accepted referrals r<first>..r<last> from P85901, message ids m<first>..m<last>.
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

// Rows as the dispatcher hands them to MarkDeliveredMany.
std::vector<const OutboxItem*> Rows(const std::vector<OutboxItem>& items) {
  std::vector<const OutboxItem*> rows;
  for (const OutboxItem& item : items) rows.push_back(&item);
  return rows;
}

// An accepted referral with its decision's audit record, whose context (who, consent, referrer,
// rules) later records of the referral cite.
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

// The newest record of the audit log.
v1::AuditRecord LastAuditRecord(AuditStore* audit) {
  const uint64_t size = audit->AuditTreeSize().value();
  return audit->GetAuditRecord(size - 1).value().value();
}

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

// The SQLite file itself.
class SqliteReferralStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.path() + "/frontdoor.db"; }
  std::unique_ptr<SqliteReferralStore> OpenStore() {
    auto store = SqliteReferralStore::Open(DbPath());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // For the migration tests: r1..r3 recorded with their audit context, then r1's row delivered,
  // r2's dead-lettered and r3's left pending: a row in each state a migration must keep.
  struct RowIds {
    int64_t delivered = 0;
    int64_t dead = 0;
    int64_t pending = 0;
  };
  RowIds RecordARowInEachState() {
    auto store = OpenStore();
    std::vector<NewReferral> batch;
    for (int i = 1; i <= 3; ++i) batch.push_back(AcceptedWithAudit("r" + std::to_string(i), "m" + std::to_string(i)));
    EXPECT_TRUE(store->RecordReferrals(std::move(batch)).ok());
    const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
    EXPECT_EQ(due->size(), 3u);
    if (due->size() != 3) return {};
    const RowIds ids{due->at(0).outbox_id, due->at(1).outbox_id, due->at(2).outbox_id};
    EXPECT_TRUE(store->MarkDelivered(ids.delivered, kT0 + absl::Seconds(1)).ok());
    EXPECT_TRUE(*store->RecordFailedAttemptOrDeadLetter(ids.dead, kT0 + absl::Seconds(5), "refused",
                                                        DeadLetterLimits{.max_attempts = 1}, kT0 + absl::Seconds(1)));
    return ids;
  }

  // Runs `sql` on the store's file through a connection of its own (an older gateway's, an
  // operator's, a fault's).
  void ExecOnFile(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  frontdoor::testing::TempDir dir_;
};

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
  ASSERT_TRUE(store->MarkDelivered(id, kT0 + absl::Seconds(1)).ok());
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
  ASSERT_TRUE(store->MarkDelivered(due->at(1).outbox_id, kT0 + absl::Seconds(1)).ok());
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
  v1::AuditRecord withdraw;
  withdraw.set_time("2025-02-03T10:15:01.000000Z");
  withdraw.set_actor("P85901");
  withdraw.set_action("withdraw");
  withdraw.set_outcome("withdraw");
  ASSERT_TRUE(store->CancelReferral("r1", cease, withdraw, kT0 + absl::Seconds(1)).ok());

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
  ASSERT_TRUE(store->RecordFailedAttempt(id, kT0 + absl::Seconds(30), "14 unavailable").ok());
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
  v1::CeaseProcessingRequest cease;
  cease.set_idempotency_key("cease:r1");
  cease.set_referral_id("r1");
  ASSERT_TRUE(store->EnqueueCeaseProcessing("r1", "action-together-oldham", cease, kT0).ok());
  // The delivery is in backoff; the cease is due, but must not overtake it.
  const int64_t deliver_id = store->DueDeliveries("action-together-oldham", kT0, 10)->at(0).outbox_id;
  ASSERT_TRUE(store->RecordFailedAttempt(deliver_id, kT0 + absl::Minutes(5), "14 unavailable").ok());
  EXPECT_TRUE(store->DueDeliveries("action-together-oldham", kT0 + absl::Minutes(1), 10)->empty());
  auto due = store->DueDeliveries("action-together-oldham", kT0 + absl::Minutes(5), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].kind, OutboxKind::kDeliver);
  ASSERT_TRUE(store->MarkDelivered(deliver_id, kT0 + absl::Minutes(5)).ok());
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
  EXPECT_EQ(store->EnqueueCeaseProcessing("x", "ageuk-oldham", cease, kT0).code(), absl::StatusCode::kNotFound);
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
  EXPECT_TRUE(store->RecordFailedAttempt(id, kT0 + absl::Seconds(5), std::string("14 down\0now", 11)).ok());
  EXPECT_EQ(**store->NextDeliveryDue("action-together-oldham"), kT0);  // r2's row is still due now
}

TEST_F(SqliteReferralStoreTest, CommittedPagesReachTheDatabaseFileWithoutAnotherCommit) {
  // Commits never checkpoint the WAL themselves (no tail for the referrers who wait on them); a
  // background checkpoint copies their pages into the database file shortly after.
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const auto file_size = [&] { return std::filesystem::file_size(DbPath()); };
  const uintmax_t before = file_size();
  std::vector<NewReferral> batch = AcceptedBatch(0, 49);
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (file_size() <= before && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_GT(file_size(), before) << "the committed pages are still only in the WAL";
}

TEST_F(SqliteReferralStoreTest, TheWalStaysBoundedUnderSteadyCommits) {
  // One referral per commit without a pause, as at steady load: the background checkpoint must let
  // the WAL start again from its beginning, or it grows for as long as the load lasts (each of
  // these commits appends about ten pages; 3,000 of them are over 100 MiB).
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::string wal = DbPath() + "-wal";
  uintmax_t largest = 0;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(store->RecordReferrals(One(Accepted("r" + std::to_string(i), "P85901", "m" + std::to_string(i)))).ok());
    if (i % 100 == 99) largest = std::max(largest, std::filesystem::file_size(wal));
  }
  EXPECT_LT(largest, uintmax_t{32} << 20) << "the WAL kept growing: it never started again";
  EXPECT_EQ(store->GetReferral("r2999")->value().referral_id, "r2999");
}

TEST_F(SqliteReferralStoreTest, AnAcknowledgementQueuedDuringAGroupCommitSharesItsTransaction) {
  // At steady load a delivery mark arrives while a group commit of submissions holds the write
  // lock: it must ride in that commit (one fsync for both), durable when MarkDeliveredMany returns.
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  const OutboxItem* row = &due->at(0);
  const uint64_t before = *store->AuditTreeSize();
  const SqliteReferralStore::SharedWriteCounts counts_before = store->shared_write_counts();

  std::thread marker;
  absl::Status marked = absl::UnknownError("not run");
  bool hooked = false;
  store->SetBeforeSharedWritesHookForTest([&] {
    if (hooked) return;
    hooked = true;
    marker = std::thread([&] { marked = store->MarkDeliveredMany({row}, kT0 + absl::Seconds(2)); });
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (store->SharedWritesQueuedForTest() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  });
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r2", "P85901", "m2"))).ok());
  marker.join();
  store->SetBeforeSharedWritesHookForTest(nullptr);
  ASSERT_TRUE(hooked);
  ASSERT_TRUE(marked.ok()) << marked;

  const SqliteReferralStore::SharedWriteCounts counts = store->shared_write_counts();
  EXPECT_EQ(counts.carried - counts_before.carried, 1) << "the mark did not ride in the group commit";
  EXPECT_EQ(counts.own_transactions, counts_before.own_transactions) << "the mark made a transaction of its own";
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERED);
  const auto r2_due = store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(1), 10);
  ASSERT_EQ(r2_due->size(), 1u);
  EXPECT_EQ(r2_due->at(0).referral_id, "r2");
  const uint64_t after = *store->AuditTreeSize();
  // r1's disclosure record, once, with no gap in the log (AuditLeafHashes refuses one).
  EXPECT_EQ(after, before + 1);
  ASSERT_TRUE(store->AuditLeafHashes(0, after).ok());

  // Durable: both survive reopening the file.
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERED);
  EXPECT_EQ((*store->GetReferral("r2"))->delivery_state, v1::DELIVERY_PENDING);
  EXPECT_EQ(*store->AuditTreeSize(), after);
}

TEST_F(SqliteReferralStoreTest, AFailingAcknowledgementFailsNeitherTheGroupCommitNorTheOthersItRidesWith) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<NewReferral> batch = AcceptedBatch(1, 2);
  ASSERT_TRUE(store->RecordReferrals(std::move(batch)).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  ASSERT_EQ(due->size(), 2u);
  const OutboxItem* good = &due->at(0);
  const int64_t bad = due->at(1).outbox_id;
  {
    // A real fault in the real file: marking r2's row delivered is refused by the database.
    const std::string trigger =
        "CREATE TRIGGER refuse_mark BEFORE UPDATE ON outbox WHEN NEW.outbox_id = " + std::to_string(bad) +
        " BEGIN SELECT RAISE(ABORT, 'refused for the test'); END";
    ExecOnFile(trigger.c_str());
  }
  const uint64_t before = *store->AuditTreeSize();

  std::thread mark_good;
  std::thread mark_bad;
  absl::Status good_marked = absl::UnknownError("not run");
  absl::Status bad_marked = absl::UnknownError("not run");
  bool hooked = false;
  store->SetBeforeSharedWritesHookForTest([&] {
    if (hooked) return;
    hooked = true;
    mark_good = std::thread([&] { good_marked = store->MarkDeliveredMany({good}, kT0 + absl::Seconds(2)); });
    mark_bad = std::thread([&] { bad_marked = store->MarkDeliveredMany({&due->at(1)}, kT0 + absl::Seconds(2)); });
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (store->SharedWritesQueuedForTest() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  });
  const auto recorded = store->RecordReferrals(One(Accepted("r3", "P85901", "m3")));
  mark_good.join();
  mark_bad.join();
  store->SetBeforeSharedWritesHookForTest(nullptr);
  ASSERT_TRUE(hooked);

  EXPECT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_TRUE(good_marked.ok()) << good_marked;
  EXPECT_FALSE(bad_marked.ok());
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERED);
  EXPECT_EQ((*store->GetReferral("r2"))->delivery_state, v1::DELIVERY_PENDING);
  EXPECT_EQ((*store->GetReferral("r3"))->delivery_state, v1::DELIVERY_PENDING);
  // r1's disclosure record only, and no gap where r2's would have been.
  const uint64_t after = *store->AuditTreeSize();
  EXPECT_EQ(after, before + 1);
  EXPECT_TRUE(store->AuditLeafHashes(0, after).ok());
}

TEST_F(SqliteReferralStoreTest, AnAcknowledgementWithNoCommitRunningCommitsOnItsOwn) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  const SqliteReferralStore::SharedWriteCounts before = store->shared_write_counts();
  ASSERT_TRUE(store->MarkDeliveredMany({&due->at(0)}, kT0 + absl::Seconds(1)).ok());
  const SqliteReferralStore::SharedWriteCounts after = store->shared_write_counts();
  EXPECT_EQ(after.own_transactions - before.own_transactions, 1);
  EXPECT_EQ(after.carried, before.carried);
  store.reset();
  store = OpenStore();
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERED);
}

TEST_F(SqliteReferralStoreTest, AVersion3FileMigratesToPartialOutboxIndexesWithNothingLost) {
  const RowIds ids = RecordARowInEachState();
  const int64_t dead_id = ids.dead;
  const int64_t pending_id = ids.pending;
  // Back to what a version 3 gateway left: its two full indexes instead of the partial ones.
  ExecOnFile(
      "DROP INDEX outbox_pending; DROP INDEX outbox_pending_due; DROP INDEX outbox_dead_letters;"
      " CREATE INDEX outbox_due ON outbox (endpoint_id, state, next_attempt_us, outbox_id);"
      " CREATE INDEX outbox_dead ON outbox (state, endpoint_id, outbox_id);"
      " ALTER TABLE referrals DROP COLUMN content_fingerprint;"
      " PRAGMA user_version = 3;");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), SqliteReferralStore::kSchemaVersion);
  const auto due = store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(1), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->at(0).outbox_id, pending_id);
  const auto dead = store->ListDeadLetters(DeadLetterFilter{}, 10);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->at(0).outbox_id, dead_id);
  const auto depths = store->OutboxDepths();
  ASSERT_EQ(depths->size(), 1u);
  EXPECT_EQ(depths->at(0).endpoint_id, "action-together-oldham");
  EXPECT_EQ(depths->at(0).pending, 1);
  EXPECT_EQ(depths->at(0).dead, 1);
  // Replayed, the dead letter is pending again, in the pending index.
  EXPECT_EQ(*store->ReplayDeadLetters(DeadLetterFilter{}, kT0 + absl::Hours(2)), 1);
  EXPECT_EQ(store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(3), 10)->size(), 2u);
  EXPECT_TRUE(store->ListDeadLetters(DeadLetterFilter{}, 10)->empty());
}

TEST_F(SqliteReferralStoreTest, AVersion4FileMigratesToFewerPagesPerCommitWithNothingLost) {
  const RowIds ids = RecordARowInEachState();
  const int64_t delivered_id = ids.delivered;
  const int64_t dead_id = ids.dead;
  const int64_t pending_id = ids.pending;
  // Back to what a version 4 gateway left: an AUTOINCREMENT outbox (with its sqlite_sequence row)
  // and a rowid audit_context with an index on its key.
  ExecOnFile(R"sql(
BEGIN;
CREATE TABLE outbox_v4 (
  outbox_id INTEGER PRIMARY KEY AUTOINCREMENT, referral_id TEXT NOT NULL REFERENCES referrals(referral_id),
  endpoint_id TEXT NOT NULL, kind TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, payload BLOB NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_us INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '', created_us INTEGER NOT NULL, delivered_us INTEGER, dead_us INTEGER,
  replayed_us INTEGER, replay_base INTEGER NOT NULL DEFAULT 0);
INSERT INTO outbox_v4 SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v4 RENAME TO outbox;
CREATE INDEX outbox_by_referral ON outbox (referral_id);
CREATE INDEX outbox_pending ON outbox (endpoint_id, outbox_id) WHERE state = 'pending';
CREATE INDEX outbox_pending_due ON outbox (endpoint_id, next_attempt_us) WHERE state = 'pending';
CREATE INDEX outbox_dead_letters ON outbox (outbox_id, endpoint_id) WHERE state = 'dead';
CREATE TABLE audit_context_v4 (referral_id TEXT PRIMARY KEY REFERENCES referrals(referral_id),
  nhs_number TEXT NOT NULL, consent_reference TEXT NOT NULL, referrer_ods TEXT NOT NULL, rule_ids TEXT NOT NULL);
INSERT INTO audit_context_v4 SELECT * FROM audit_context;
DROP TABLE audit_context;
ALTER TABLE audit_context_v4 RENAME TO audit_context;
ALTER TABLE referrals DROP COLUMN content_fingerprint;
PRAGMA user_version = 4;
COMMIT;
)sql");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), SqliteReferralStore::kSchemaVersion);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    auto text = [db](const char* sql) {
      sqlite3_stmt* st = nullptr;
      EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
      std::string out;
      while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(st, 0);
        out += t ? reinterpret_cast<const char*>(t) : "NULL";
        out += ";";
      }
      sqlite3_finalize(st);
      return out;
    };
    const std::string outbox = text("SELECT sql FROM sqlite_master WHERE name = 'outbox'");
    EXPECT_EQ(outbox.find("AUTOINCREMENT"), std::string::npos) << outbox;
    EXPECT_NE(text("SELECT sql FROM sqlite_master WHERE name = 'audit_context'").find("WITHOUT ROWID"),
              std::string::npos);
    EXPECT_EQ(text("SELECT name FROM sqlite_sequence WHERE name = 'outbox'"), "");
    EXPECT_EQ(text("SELECT name FROM sqlite_master WHERE tbl_name = 'outbox' AND type = 'index' ORDER BY name"),
              "outbox_by_referral;outbox_dead_letters;outbox_pending;outbox_pending_due;sqlite_autoindex_outbox_1;");
    EXPECT_EQ(text("PRAGMA integrity_check"), "ok;");
    EXPECT_EQ(text("PRAGMA foreign_key_check"), "");
    sqlite3_close(db);
  }
  // Every row kept its id and state; the audit context is there for the next records.
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERED);
  const auto dead = store->ListDeadLetters(DeadLetterFilter{}, 10);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->at(0).outbox_id, dead_id);
  const auto due = store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(1), 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->at(0).outbox_id, pending_id);
  ASSERT_TRUE(store->MarkDeliveredMany({&due->at(0)}, kT0 + absl::Hours(1)).ok());
  const v1::AuditRecord delivered = LastAuditRecord(store.get());
  EXPECT_EQ(delivered.referral_id(), "r3");
  EXPECT_EQ(delivered.nhs_number(), "9434765919");
  EXPECT_EQ(delivered.consent_reference(), "consent-r3");
  // A new row's id follows the largest: none is ever used twice.
  ASSERT_TRUE(store->RecordReferrals(One(AcceptedWithAudit("r4", "m4"))).ok());
  const auto next = store->DueDeliveries("action-together-oldham", kT0 + absl::Hours(2), 10);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_GT(next->at(0).outbox_id, std::max({delivered_id, dead_id, pending_id}));
}

TEST_F(SqliteReferralStoreTest, SchemaIsVersioned) {
  auto store = OpenStore();
  EXPECT_EQ(store->schema_version(), SqliteReferralStore::kSchemaVersion);
}

TEST_F(SqliteReferralStoreTest, RefusesADatabaseFromANewerGateway) {
  { OpenStore(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteReferralStore::Open(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteReferralStoreTest, UnopenablePathIsUnavailable) {
  auto store = SqliteReferralStore::Open(dir_.path() + "/no/such/dir/frontdoor.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace frontdoor::gateway
