// What is particular to the PostgreSQL store, on a real server: several replicas (store objects
// with their own connection pools) sharing one database. Outbox leases, duplicates, audit indexes
// and feedback sequence numbers hold across replicas; migrations run once; a newer schema is
// refused; connection trouble is UNAVAILABLE and a broken connection is replaced.
#include "gateway/store/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <atomic>
#include <set>
#include <thread>

#include "audit/checkpoint_signer.h"
#include "audit/log_verification.h"
#include "common/clock.h"
#include "gateway/audit_log/audit_checkpointer.h"
#include "gateway/server/gateway_config.h"
#include "gateway/server/store_selection.h"
#include "gtest/gtest.h"
#include "tests/gateway/store/outbox_test_steps.h"
#include "tests/gateway/store/store_test_rows.h"
#include "tests/support/postgres_server.h"
#include "tests/support/store_backends.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::OpenedStore;
using frontdoor::testing::StoreBackend;
using frontdoor::testing::TestDatabase;

const absl::Time kT0 = absl::FromUnixSeconds(1738577700);
constexpr char kEndpoint[] = "action-together-oldham";

v1::AuditRecord AuditOf(const std::string& referral_id, const std::string& action) {
  v1::AuditRecord r;
  r.set_referral_id(referral_id);
  r.set_time("2025-02-03T10:15:00Z");
  r.set_actor("P85901");
  r.set_action(action);
  r.set_outcome(action);
  r.set_nhs_number("9434765919");
  r.add_rule_ids("IG-1");
  return r;
}

NewReferral Accepted(const std::string& id, const std::string& message_id, const std::string& sender = "P85901") {
  NewReferral r;
  r.referral_id = id;
  r.sender_ods = sender;
  r.message_id = message_id;
  r.format = "typed";
  r.received_at = kT0;
  r.decision.set_referral_id(id);
  r.decision.set_disposition(v1::ACCEPTED);
  r.decision.set_connector_id("oldham-north-royton-wellbeing");
  r.decision.set_endpoint_id(kEndpoint);
  r.referral = frontdoor::testing::RoytonReferral(message_id);
  NewDelivery d;
  d.endpoint_id = kEndpoint;
  d.request.set_idempotency_key("deliver:" + id);
  d.request.mutable_referral()->set_referral_id(id);
  r.delivery = d;
  r.audit.push_back(AuditOf(id, "decide"));
  return r;
}

std::vector<NewReferral> One(NewReferral r) {
  std::vector<NewReferral> v;
  v.push_back(std::move(r));
  return v;
}

// Runs SQL on the test database directly; the first column of the first row ("" when none).
std::string Sql(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* res = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(res);
  EXPECT_TRUE(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) << PQresultErrorMessage(res);
  std::string out = (st == PGRES_TUPLES_OK && PQntuples(res) > 0) ? PQgetvalue(res, 0, 0) : "";
  PQclear(res);
  PQfinish(conn);
  return out;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(StoreBackend::kPostgres);
    db_ = std::make_unique<TestDatabase>(StoreBackend::kPostgres);
  }
  std::unique_ptr<TestDatabase> db_;
};

TEST_F(PostgresStoreTest, ARowClaimedByOneReplicaIsNotReturnedToAnotherUntilTheLeaseExpires) {
  OpenedStore a = db_->Open("replica-a", absl::Seconds(30));
  OpenedStore b = db_->Open("replica-b", absl::Seconds(30));
  ASSERT_TRUE(a->RecordReferrals(One(Accepted("r1", "m1"))).ok());

  auto claimed = a->DueDeliveries(kEndpoint, kT0, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_TRUE(b->DueDeliveries(kEndpoint, kT0 + absl::Seconds(29), 10)->empty()) << "leased by replica-a";
  // replica-b's worker is told to come back when the lease runs out, not to sleep past it.
  EXPECT_EQ(**b->NextDeliveryDue(kEndpoint), kT0 + absl::Seconds(30));

  // replica-a died without a word: the row comes back to replica-b after the lease.
  auto taken_over = b->DueDeliveries(kEndpoint, kT0 + absl::Seconds(30), 10);
  ASSERT_EQ(taken_over->size(), 1u);
  EXPECT_EQ((*taken_over)[0].outbox_id, (*claimed)[0].outbox_id);
  v1::DeliverReferralRequest request;
  ASSERT_TRUE(request.ParseFromString((*taken_over)[0].request));
  EXPECT_EQ(request.idempotency_key(), "deliver:r1") << "the connector de-duplicates by it";
  EXPECT_TRUE(a->DueDeliveries(kEndpoint, kT0 + absl::Seconds(31), 10)->empty()) << "now leased by replica-b";
}

TEST_F(PostgresStoreTest, AFailedAttemptReleasesTheLeaseForTheRetry) {
  OpenedStore a = db_->Open("replica-a");
  OpenedStore b = db_->Open("replica-b");
  ASSERT_TRUE(a->RecordReferrals(One(Accepted("r1", "m1"))).ok());
  const int64_t id = a->DueDeliveries(kEndpoint, kT0, 10)->at(0).outbox_id;
  ASSERT_TRUE(testing::RecordFailedAttempt(a.get(), id, kT0 + absl::Seconds(5), "14 unavailable").ok());
  EXPECT_EQ(**b->NextDeliveryDue(kEndpoint), kT0 + absl::Seconds(5));
  auto retry = b->DueDeliveries(kEndpoint, kT0 + absl::Seconds(5), 10);
  ASSERT_EQ(retry->size(), 1u) << "any replica may make the retry";
  EXPECT_EQ((*retry)[0].attempts, 1u);
}

TEST_F(PostgresStoreTest, AFailureRecordedLateDoesNotTakeTheRowFromTheReplicaThatTookItOver) {
  OpenedStore a = db_->Open("replica-a", absl::Seconds(30));
  OpenedStore b = db_->Open("replica-b", absl::Seconds(30));
  OpenedStore c = db_->Open("replica-c", absl::Seconds(30));
  ASSERT_TRUE(a->RecordReferrals(One(Accepted("r1", "m1"))).ok());
  const int64_t id = a->DueDeliveries(kEndpoint, kT0, 10)->at(0).outbox_id;
  ASSERT_EQ(b->DueDeliveries(kEndpoint, kT0 + absl::Seconds(30), 10)->size(), 1u);  // a's lease ran out
  // replica-a's call finally times out; b's attempt is under way and keeps its lease.
  ASSERT_TRUE(testing::RecordFailedAttempt(a.get(), id, kT0 + absl::Seconds(31), "4 deadline exceeded").ok());
  EXPECT_FALSE(*a->RecordFailedAttemptOrDeadLetter(id, kT0 + absl::Seconds(31), "4 deadline exceeded",
                                                   DeadLetterLimits{1, absl::ZeroDuration()}, kT0 + absl::Seconds(31)));
  EXPECT_TRUE(c->DueDeliveries(kEndpoint, kT0 + absl::Seconds(45), 10)->empty()) << "still replica-b's";
  EXPECT_EQ((*c->GetReferral("r1"))->delivery_attempts, 0u);
  EXPECT_EQ((*c->GetReferral("r1"))->delivery_state, v1::DELIVERY_PENDING) << "not dead-lettered by a stale replica";
}

TEST_F(PostgresStoreTest, ADeliveredRowIsDoneForEveryReplica) {
  OpenedStore a = db_->Open("replica-a", absl::Seconds(1));
  OpenedStore b = db_->Open("replica-b", absl::Seconds(1));
  ASSERT_TRUE(a->RecordReferrals(One(Accepted("r1", "m1"))).ok());
  const int64_t id = a->DueDeliveries(kEndpoint, kT0, 10)->at(0).outbox_id;
  ASSERT_TRUE(testing::MarkOneDelivered(a.get(), id, kT0).ok());
  EXPECT_TRUE(b->DueDeliveries(kEndpoint, kT0 + absl::Hours(1), 10)->empty());
  EXPECT_FALSE(b->NextDeliveryDue(kEndpoint)->has_value());
  EXPECT_EQ((*b->GetReferral("r1"))->delivery_state, v1::DELIVERED);
}

TEST_F(PostgresStoreTest, TwoReplicasClaimingAtOnceNeverShareARow) {
  OpenedStore a = db_->Open("replica-a");
  OpenedStore b = db_->Open("replica-b");
  constexpr int kRows = 300;
  for (int i = 0; i < kRows; i += 50) {
    std::vector<NewReferral> batch;
    for (int j = i; j < i + 50; ++j) batch.push_back(Accepted("r" + std::to_string(j), "m" + std::to_string(j)));
    ASSERT_TRUE(a->RecordReferrals(std::move(batch)).ok());
  }
  std::set<int64_t> got_a, got_b;
  auto drain = [](OpenedStore* store, std::set<int64_t>* got) {
    for (;;) {
      auto due = (*store)->DueDeliveries(kEndpoint, kT0, 7);
      ASSERT_TRUE(due.ok()) << due.status();
      if (due->empty()) return;
      for (const OutboxItem& item : *due) {
        got->insert(item.outbox_id);
        ASSERT_TRUE(testing::MarkOneDelivered(store->get(), item.outbox_id, kT0).ok());
      }
    }
  };
  std::thread ta(drain, &a, &got_a);
  std::thread tb(drain, &b, &got_b);
  ta.join();
  tb.join();
  for (int64_t id : got_a) EXPECT_EQ(got_b.count(id), 0u) << "row " << id << " claimed by both replicas";
  EXPECT_EQ(got_a.size() + got_b.size(), static_cast<size_t>(kRows));
  EXPECT_GT(got_a.size(), 0u);
  EXPECT_GT(got_b.size(), 0u);
}

TEST_F(PostgresStoreTest, TheSameMessageSentThroughTwoReplicasAtOnceIsRecordedOnce) {
  OpenedStore a = db_->Open("replica-a");
  OpenedStore b = db_->Open("replica-b");
  constexpr int kMessages = 60;
  std::vector<RecordOutcome> out_a(kMessages), out_b(kMessages);
  auto send = [](OpenedStore* store, const std::string& prefix, std::vector<RecordOutcome>* out) {
    for (int i = 0; i < kMessages; ++i) {
      auto r = (*store)->RecordReferrals(One(Accepted(prefix + std::to_string(i), "m" + std::to_string(i))));
      ASSERT_TRUE(r.ok()) << r.status();
      (*out)[i] = (*r)[0];
    }
  };
  std::thread ta(send, &a, "a", &out_a);
  std::thread tb(send, &b, "b", &out_b);
  ta.join();
  tb.join();
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_NE(out_a[i].duplicate, out_b[i].duplicate) << "message m" << i << " must be new exactly once";
    EXPECT_EQ(out_a[i].decision.referral_id(), out_b[i].decision.referral_id()) << "both answer with the first";
  }
  EXPECT_EQ(Sql(db_->postgres_conninfo(), "SELECT COUNT(*) FROM referrals"), std::to_string(kMessages));
  EXPECT_EQ(Sql(db_->postgres_conninfo(), "SELECT COUNT(*) FROM outbox"), std::to_string(kMessages));
}

TEST_F(PostgresStoreTest, AuditIndexesStayContiguousAndTheLogVerifiesAfterConcurrentAppends) {
  OpenedStore a = db_->Open("replica-a");
  OpenedStore b = db_->Open("replica-b");
  frontdoor::testing::TempDir keys;
  ManualClock clock(kT0);
  // Replicas share the signing key (a Kubernetes Secret); each signs checkpoints of what it sees.
  AuditCheckpointer cp_a(a.audit(), *audit::CheckpointSigner::LoadOrCreate(keys.path() + "/key.pem"), &clock, {});
  AuditCheckpointer cp_b(b.audit(), *audit::CheckpointSigner::LoadOrCreate(keys.path() + "/key.pem"), &clock, {});
  constexpr int kRounds = 25;
  auto work = [&](OpenedStore* store, AuditCheckpointer* checkpointer, const std::string& prefix) {
    for (int i = 0; i < kRounds; ++i) {
      std::vector<NewReferral> batch;
      batch.push_back(Accepted(prefix + "x" + std::to_string(i), prefix + "mx" + std::to_string(i)));
      batch.push_back(Accepted(prefix + "y" + std::to_string(i), prefix + "my" + std::to_string(i)));
      batch.back().audit.push_back(AuditOf(batch.back().referral_id, "withhold"));
      ASSERT_TRUE((*store)->RecordReferrals(std::move(batch)).ok());
      ASSERT_TRUE(store->audit()->AppendAudit({AuditOf(prefix + "x" + std::to_string(i), "query")}).ok());
      if (i % 5 == 4) {
        ASSERT_TRUE(checkpointer->CheckpointNow().ok());
      }
    }
  };
  std::thread ta(work, &a, &cp_a, "a");
  std::thread tb(work, &b, &cp_b, "b");
  ta.join();
  tb.join();
  ASSERT_TRUE(cp_a.CheckpointNow().ok());

  auto leaves = a.audit()->ReadAuditLeaves();
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), static_cast<size_t>(2 * kRounds * 4));
  for (size_t i = 0; i < leaves->size(); ++i) ASSERT_EQ((*leaves)[i].index, i) << "a gap or a repeat";
  const v1::VerifyAuditResponse verdict =
      audit::VerifyAuditLog(*leaves, *b.audit()->AuditCheckpoints(), cp_a.PublicKeyPem());
  EXPECT_TRUE(verdict.verified()) << verdict.message();
  EXPECT_GE(verdict.checkpoints_verified(), 2u);
  EXPECT_EQ(*b.audit()->AuditTreeSize(), leaves->size());
}

TEST_F(PostgresStoreTest, FeedbackSequenceNumbersFromTwoReplicasHaveNoGaps) {
  OpenedStore a = db_->Open("replica-a");
  OpenedStore b = db_->Open("replica-b");
  ASSERT_TRUE(a->RecordReferrals(One(Accepted("r1", "m1"))).ok());
  const StoredReferral referral = **a->GetReferral("r1");
  constexpr int kReports = 40;
  auto report = [&](OpenedStore* store, const std::string& prefix) {
    for (int i = 0; i < kReports; ++i) {
      NewFeedback f;
      f.endpoint_id = kEndpoint;
      f.report.set_referral_id("r1");
      f.report.set_idempotency_key(prefix + std::to_string(i));
      f.report.set_status(v1::PROGRESS_CONTACTED);
      f.recorded_at = kT0;
      auto out = (*store)->RecordFeedback(
          f, referral, [](const FeedbackContext&) { return absl::StatusOr<std::optional<int64_t>>(std::nullopt); });
      ASSERT_TRUE(out.ok()) << out.status();
    }
  };
  std::thread ta(report, &a, "a");
  std::thread tb(report, &b, "b");
  ta.join();
  tb.join();
  auto events = b->FeedbackAfter("P85901", 0, 1000);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), static_cast<size_t>(2 * kReports));
  for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, static_cast<int64_t>(i + 1));
}

TEST_F(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
  std::vector<absl::StatusOr<OpenedStore>> opened;
  for (int i = 0; i < 4; ++i) opened.emplace_back(absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { opened[i] = db_->TryOpen("replica-" + std::to_string(i)); });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : opened) EXPECT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(Sql(db_->postgres_conninfo(), "SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(PostgresStore::kSchemaVersion));
  EXPECT_EQ(Sql(db_->postgres_conninfo(), "SELECT MAX(version) FROM schema_migrations"),
            std::to_string(PostgresStore::kSchemaVersion));
}

// A version 2 database has no report facts: the migration computes them from the referrals and
// their feedback already recorded, the same as recording them today would have.
TEST_F(PostgresStoreTest, AVersion2DatabaseGainsTheReportFactsOfWhatItHolds) {
  std::vector<std::string> recorded;
  {
    OpenedStore store = db_->Open();
    gateway::testing::RecordReferralsWithCasework(store.get());
    recorded = gateway::testing::ReportRowTexts(store.get());
  }
  ASSERT_EQ(recorded.size(), 3u);
  Sql(db_->postgres_conninfo(), "DROP TABLE report_facts; DELETE FROM schema_migrations WHERE version = 3");
  OpenedStore store = db_->Open();
  EXPECT_EQ(Sql(db_->postgres_conninfo(), "SELECT MAX(version) FROM schema_migrations"),
            std::to_string(PostgresStore::kSchemaVersion));
  EXPECT_EQ(gateway::testing::ReportRowTexts(store.get()), recorded);
}

TEST_F(PostgresStoreTest, RefusesADatabaseFromANewerGateway) {
  { ASSERT_TRUE(db_->Open()); }
  Sql(db_->postgres_conninfo(), "INSERT INTO schema_migrations (version) VALUES (99)");
  auto store = db_->TryOpen();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("newer"), std::string::npos) << store.status();
}

TEST_F(PostgresStoreTest, BrokenConnectionsAreReplacedWithoutFailingReadsOrTransactions) {
  OpenedStore a = db_->Open();
  ASSERT_TRUE(a->RecordReferrals(One(Accepted("r1", "m1"))).ok());
  // The server ends every session of the store (a failover, a restart, an administrator).
  Sql(db_->postgres_conninfo(),
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
      " AND pid <> pg_backend_pid()");
  // Reads and transactions that had not begun are sent again on a fresh connection.
  auto got = a->GetReferral("r1");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->has_value());
  EXPECT_TRUE(a->RecordReferrals(One(Accepted("r2", "m2"))).ok()) << "writes work again";
  Sql(db_->postgres_conninfo(),
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
      " AND pid <> pg_backend_pid()");
  EXPECT_TRUE(a->RecordReferrals(One(Accepted("r3", "m3"))).ok()) << "a transaction retries its BEGIN";
}

TEST(PostgresStoreOpenTest, AnUnreachableServerIsUnavailable) {
  FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(StoreBackend::kPostgres);
  frontdoor::testing::TempDir dir;
  PostgresStoreOptions options;
  options.conninfo = "host=" + dir.path() + " port=1 dbname=frontdoor user=frontdoor connect_timeout=2";
  auto store = PostgresStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable) << store.status();
}

TEST(PostgresStoreOpenTest, AMalformedConninfoIsInvalidArgument) {
  PostgresStoreOptions options;
  options.conninfo = "host=/tmp port";
  auto store = PostgresStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument) << store.status();
}

TEST(StoreConfigTest, APasswordInTheConfigurationIsRefusedAndNeverEchoed) {
  v1::StoreConfig config;
  config.mutable_postgres()->set_conninfo("host=db.internal dbname=frontdoor password=s3cr3t-value");
  absl::Status s = ValidateStoreConfig(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("PGPASSWORD"), std::string::npos);
  EXPECT_EQ(s.message().find("s3cr3t-value"), std::string::npos);
  EXPECT_EQ(RedactConninfo("host=db password=s3cr3t-value").find("s3cr3t-value"), std::string::npos);
}

TEST(StoreConfigTest, TheGatewayRefusesAConfigurationFileWithADatabasePassword) {
  frontdoor::testing::TempDir dir;
  const std::string path = frontdoor::testing::WriteBulkTestConfig(
      dir.path(), "store { postgres { conninfo: \"host=db.internal password=s3cr3t-value\" } }");
  absl::StatusOr<LoadedConfig> loaded = LoadGatewayConfig(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(loaded.status().message().find("s3cr3t-value"), std::string::npos);
}

TEST(StoreConfigTest, OutOfRangeSettingsAreClearErrors) {
  v1::StoreConfig config;
  config.mutable_postgres()->set_pool_size(1000);
  EXPECT_NE(ValidateStoreConfig(config).message().find("pool_size"), std::string::npos);
  config.mutable_postgres()->set_pool_size(4);
  config.mutable_postgres()->set_outbox_lease_seconds(86400);
  EXPECT_NE(ValidateStoreConfig(config).message().find("outbox_lease_seconds"), std::string::npos);
  config.mutable_postgres()->set_outbox_lease_seconds(30);
  config.mutable_postgres()->set_replica_id("a b");
  EXPECT_NE(ValidateStoreConfig(config).message().find("replica_id"), std::string::npos);
  config.mutable_postgres()->set_replica_id("frontdoor-0");
  config.mutable_postgres()->set_conninfo("host=/tmp port");
  EXPECT_NE(ValidateStoreConfig(config).message().find("conninfo"), std::string::npos);
  config.mutable_postgres()->set_conninfo("");  // everything from PG* variables
  EXPECT_TRUE(ValidateStoreConfig(config).ok());
}

}  // namespace
}  // namespace frontdoor::gateway
