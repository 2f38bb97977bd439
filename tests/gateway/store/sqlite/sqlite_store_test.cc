// What is particular to the SQLite store: its file (WAL checkpoints, a bounded WAL), the shared
// writes that let acknowledgements ride in a group commit, and the migrations of older files.
#include "gateway/store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "gateway/store/sqlite/sqlite_statements.h"
#include "gtest/gtest.h"
#include "tests/gateway/store/outbox_test_steps.h"
#include "tests/gateway/store/store_test_rows.h"
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
using testing::Rows;

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.path() + "/frontdoor.db"; }
  std::unique_ptr<SqliteStore> OpenStore() {
    auto store = SqliteStore::Open(DbPath());
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
    EXPECT_TRUE(testing::MarkOneDelivered(store.get(), ids.delivered, kT0 + absl::Seconds(1)).ok());
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

TEST_F(SqliteStoreTest, CommittedPagesReachTheDatabaseFileWithoutAnotherCommit) {
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

TEST_F(SqliteStoreTest, TheWalStaysBoundedUnderSteadyCommits) {
  // One referral per commit without a pause, as at steady load: the background checkpoint must let
  // the WAL start again from its beginning, or it grows for as long as the load lasts (each of
  // these commits appends about ten pages; 3,000 of them are over 100 MiB). It starts again once
  // past 16 MiB, and these commits can add several MiB in each 100 ms between checkpoints.
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::string wal = DbPath() + "-wal";
  uintmax_t largest = 0;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(store->RecordReferrals(One(Accepted("r" + std::to_string(i), "P85901", "m" + std::to_string(i)))).ok());
    if (i % 100 == 99) largest = std::max(largest, std::filesystem::file_size(wal));
  }
  EXPECT_LT(largest, uintmax_t{64} << 20) << "the WAL kept growing: it never started again (" << largest << " bytes)";
  EXPECT_EQ(store->GetReferral("r2999")->value().referral_id, "r2999");
}

TEST_F(SqliteStoreTest, AnAcknowledgementQueuedDuringAGroupCommitSharesItsTransaction) {
  // At steady load a delivery mark arrives while a group commit of submissions holds the write
  // lock: it must ride in that commit (one fsync for both), durable when MarkDeliveredMany returns.
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  const OutboxItem* row = &due->at(0);
  const uint64_t before = *store->AuditTreeSize();
  const SqliteStore::SharedWriteCounts counts_before = store->shared_write_counts();

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

  const SqliteStore::SharedWriteCounts counts = store->shared_write_counts();
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

TEST_F(SqliteStoreTest, AnAcknowledgementWaitsForTheNextGroupCommitToCarryIt) {
  // A mark made while no commit runs waits for the next group commit instead of taking the write
  // lock for an fsync of its own that the next submissions would wait behind. (The wait is made
  // long here so that the test does not depend on how fast this machine starts a thread.)
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  store->SetSharedWriteWaitForTest(absl::Seconds(30), absl::Hours(1));
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  const OutboxItem* row = &due->at(0);
  const SqliteStore::SharedWriteCounts before = store->shared_write_counts();

  std::atomic<bool> returned = false;
  absl::Status marked = absl::UnknownError("not run");
  std::thread marker([&] {
    marked = store->MarkDeliveredMany({row}, kT0 + absl::Seconds(2));
    returned = true;
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (store->SharedWritesQueuedForTest() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(returned) << "the mark did not wait for a group commit";
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERY_PENDING);

  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r2", "P85901", "m2"))).ok());
  marker.join();
  ASSERT_TRUE(marked.ok()) << marked;
  const SqliteStore::SharedWriteCounts after = store->shared_write_counts();
  EXPECT_EQ(after.carried - before.carried, 1) << "the mark did not ride in the group commit";
  EXPECT_EQ(after.own_transactions, before.own_transactions) << "the mark made a transaction of its own";
  store.reset();
  store = OpenStore();
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERED);
}

TEST_F(SqliteStoreTest, AFailingAcknowledgementFailsNeitherTheGroupCommitNorTheOthersItRidesWith) {
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

TEST_F(SqliteStoreTest, AnAcknowledgementWithNoSubmissionsComingDoesNotWaitForThem) {
  // Deliveries catching up after an outage, with no submissions meanwhile: each mark commits at
  // once (waiting for a group commit that does not come would slow the catching up).
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  store->SetSharedWriteWaitForTest(absl::Seconds(30), absl::Milliseconds(20));
  absl::SleepFor(absl::Milliseconds(40));
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  const SqliteStore::SharedWriteCounts before = store->shared_write_counts();
  const absl::Time began = absl::Now();
  ASSERT_TRUE(store->MarkDeliveredMany({&due->at(0)}, kT0 + absl::Seconds(1)).ok());
  EXPECT_LT(absl::Now() - began, absl::Seconds(10)) << "the mark waited for a group commit";
  EXPECT_EQ(store->shared_write_counts().own_transactions - before.own_transactions, 1);
}

TEST_F(SqliteStoreTest, AnAcknowledgementWithNoCommitComingCommitsOnItsOwnSoonAfter) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordReferrals(One(Accepted("r1", "P85901", "m1"))).ok());
  const auto due = store->DueDeliveries("action-together-oldham", kT0, 10);
  const SqliteStore::SharedWriteCounts before = store->shared_write_counts();
  ASSERT_TRUE(store->MarkDeliveredMany({&due->at(0)}, kT0 + absl::Seconds(1)).ok());
  const SqliteStore::SharedWriteCounts after = store->shared_write_counts();
  EXPECT_EQ(after.own_transactions - before.own_transactions, 1);
  EXPECT_EQ(after.carried, before.carried);
  store.reset();
  store = OpenStore();
  EXPECT_EQ((*store->GetReferral("r1"))->delivery_state, v1::DELIVERED);
}

TEST_F(SqliteStoreTest, AVersion3FileMigratesToPartialOutboxIndexesWithNothingLost) {
  const RowIds ids = RecordARowInEachState();
  const int64_t dead_id = ids.dead;
  const int64_t pending_id = ids.pending;
  // Back to what a version 3 gateway left: its two full indexes instead of the partial ones.
  ExecOnFile(
      "DROP INDEX outbox_pending; DROP INDEX outbox_pending_due; DROP INDEX outbox_dead_letters;"
      " CREATE INDEX outbox_due ON outbox (endpoint_id, state, next_attempt_us, outbox_id);"
      " CREATE INDEX outbox_dead ON outbox (state, endpoint_id, outbox_id);"
      " ALTER TABLE referrals DROP COLUMN content_fingerprint; DROP TABLE report_facts;"
      " PRAGMA user_version = 3;");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
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

TEST_F(SqliteStoreTest, AVersion4FileMigratesToFewerPagesPerCommitWithNothingLost) {
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
DROP TABLE report_facts;
PRAGMA user_version = 4;
COMMIT;
)sql");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
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

// A version 6 file has no report facts: the migration computes them from the referrals and
// their feedback already recorded, the same as recording them today would have.
TEST_F(SqliteStoreTest, AVersion6FileGainsTheReportFactsOfWhatItHolds) {
  std::vector<std::string> recorded;
  {
    auto store = OpenStore();
    testing::RecordReferralsWithCasework(store.get());
    recorded = testing::ReportRowTexts(store.get());
  }
  ASSERT_EQ(recorded.size(), 3u);
  ExecOnFile("DROP TABLE report_facts; PRAGMA user_version = 6;");
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
  EXPECT_EQ(testing::ReportRowTexts(store.get()), recorded);
}

TEST_F(SqliteStoreTest, SchemaIsVersioned) {
  auto store = OpenStore();
  EXPECT_EQ(store->schema_version(), SqliteStore::kSchemaVersion);
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerGateway) {
  { OpenStore(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteStore::Open(DbPath());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, UnopenablePathIsUnavailable) {
  auto store = SqliteStore::Open(dir_.path() + "/no/such/dir/frontdoor.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

// A damaged file is refused at start, naming it and what to do, and left as it was: the gateway
// must not write new referrals into a file it cannot trust.
TEST_F(SqliteStoreTest, ADamagedFileIsRefusedAtStartAndLeftUntouched) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 200; ++i) {
      const std::string id = "r" + std::to_string(i);
      ASSERT_TRUE(store->RecordReferrals(One(AcceptedWithAudit(id, "m-" + id))).ok());
    }
  }
  ASSERT_GT(std::filesystem::file_size(DbPath()), 5 * 4096u);
  {
    // Pages 2 to 5 overwritten with random bytes, as a failing disk or a stray write would.
    std::fstream file(DbPath(), std::ios::in | std::ios::out | std::ios::binary);
    std::mt19937 rng(42);
    std::string junk(4 * 4096, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    file.seekp(4096);
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  std::ifstream before_in(DbPath(), std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(before_in)), std::istreambuf_iterator<char>());
  absl::StatusOr<std::unique_ptr<SqliteStore>> damaged = SqliteStore::Open(DbPath());
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss) << damaged.status();
  EXPECT_NE(damaged.status().message().find(DbPath()), std::string::npos) << damaged.status();
  EXPECT_NE(damaged.status().message().find("backup"), std::string::npos) << damaged.status();
  std::ifstream after_in(DbPath(), std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(after_in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(after, before) << "the damaged file must be left as it was";
}

// What SQLite says when it reads damage while running (a page it had not cached) is DATA_LOSS, the
// code the gateway turns into NOT_SERVING; a busy or full database stays UNAVAILABLE (retried).
TEST_F(SqliteStoreTest, ADamagedPageReadWhileRunningIsDataLoss) {
  {
    auto store = SqliteStore::Open(DbPath());
    ASSERT_TRUE(store.ok());
    for (int i = 0; i < 200; ++i) {
      const std::string id = "r" + std::to_string(i);
      ASSERT_TRUE((*store)->RecordReferrals(One(AcceptedWithAudit(id, "m-" + id))).ok());
    }
  }
  {
    std::fstream file(DbPath(), std::ios::in | std::ios::out | std::ios::binary);
    std::mt19937 rng(7);
    std::string junk(4 * 4096, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    file.seekp(4096);
    file.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  // A connection that reads the damaged pages (as a running gateway does once they leave its cache).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM referrals", -1, &st, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
  }
  ASSERT_NE(rc, SQLITE_DONE) << "the damage was not read";
  const absl::Status status = sqlite::SqliteError(db, rc, "count referrals");
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("backup"), std::string::npos) << status;
  EXPECT_EQ(sqlite::SqliteError(nullptr, SQLITE_FULL, "write").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sqlite::SqliteError(nullptr, SQLITE_BUSY, "write").code(), absl::StatusCode::kUnavailable);
}

// A report reads for seconds on a large store; meanwhile deliveries, reads and audit queries use
// the store's shared reader. The report has a connection of its own: here the store is read, and
// written, from inside a report's read (a report holding the shared reader would deadlock).
TEST_F(SqliteStoreTest, AReportReadsOnAConnectionOfItsOwnSoTheStoreStaysReadable) {
  auto store = OpenStore();
  ASSERT_TRUE(store->RecordReferrals(AcceptedBatch(1, 3)).ok());
  bool read_during_report = false;
  store->SetDuringReportHookForTest([&] {
    absl::StatusOr<std::optional<StoredReferral>> got = store->GetReferral("r2");
    read_during_report = got.ok() && got->has_value();
    EXPECT_TRUE(store->DueDeliveries("action-together-oldham", kT0, 10).ok());
    EXPECT_TRUE(store->RecordReferrals(One(Accepted("r-during", "P85901", "m-during"))).ok());
  });
  absl::StatusOr<std::vector<ReportRow>> rows = store->ReferralsReceived(kT0 - absl::Hours(1), kT0 + absl::Hours(1));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_TRUE(read_during_report);
  EXPECT_EQ(rows->size(), 3u) << "the report reads the snapshot it began with";
  store->SetDuringReportHookForTest(nullptr);
  EXPECT_EQ(store->ReferralsReceived(kT0 - absl::Hours(1), kT0 + absl::Hours(1))->size(), 4u);
}

}  // namespace
}  // namespace frontdoor::gateway
