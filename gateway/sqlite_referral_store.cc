#include "gateway/sqlite_referral_store.h"

#include <sqlite3.h>

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "audit/audit_record.h"
#include "audit/search_columns.h"
#include "common/status_macros.h"
#include "common/threads.h"
#include "gateway/audit_search.h"
#include "gateway/store_rows.h"

namespace frontdoor::gateway {

using store_rows::AuditTimeText;
using store_rows::CancelReasonText;
using store_rows::FromMicros;
using store_rows::ParseRecord;
using store_rows::ToMicros;

namespace {

// 1 -> 2: withdrawal (IG-7) and the tamper-evident audit log (IG-9). audit_log rows are
// append-only; `record` (a frontdoor.v1.AuditRecord without leaf_hash_hex) becomes NULL when
// retention prunes it, and its leaf_hash stays so the Merkle tree remains verifiable. The other
// audit_log columns are copies of record fields for QueryAudit's filters (cleared when pruned).
constexpr char kAuditAndWithdrawalSchema[] = R"sql(
CREATE TABLE audit_log (
  leaf_index          INTEGER PRIMARY KEY,
  leaf_hash           TEXT NOT NULL,        -- hex SHA-256(0x00 || canonical record bytes)
  time_us             INTEGER NOT NULL,
  record              BLOB,                 -- frontdoor.v1.AuditRecord; NULL once pruned
  referral_id         TEXT NOT NULL DEFAULT '',
  nhs_number          TEXT NOT NULL DEFAULT '',
  recipient_endpoint  TEXT NOT NULL DEFAULT '',
  referrer_ods        TEXT NOT NULL DEFAULT '',
  outcome             TEXT NOT NULL DEFAULT '',
  rule_ids            TEXT NOT NULL DEFAULT ''  -- ",IG-1,IG-5," for matching one rule
);
CREATE INDEX audit_by_nhs ON audit_log (nhs_number, leaf_index);
CREATE INDEX audit_by_time ON audit_log (time_us);
CREATE TABLE audit_checkpoints (
  tree_size   INTEGER PRIMARY KEY,
  checkpoint  BLOB NOT NULL                 -- frontdoor.v1.SignedCheckpoint
);
-- What later audit records of a referral cite: who it is about, the consent, the rules.
CREATE TABLE audit_context (
  referral_id        TEXT PRIMARY KEY REFERENCES referrals(referral_id),
  nhs_number         TEXT NOT NULL,
  consent_reference  TEXT NOT NULL,
  referrer_ods       TEXT NOT NULL,
  rule_ids           TEXT NOT NULL          -- comma-separated
);
CREATE TABLE cancellations (
  referral_id   TEXT PRIMARY KEY REFERENCES referrals(referral_id),
  reason        INTEGER NOT NULL,           -- frontdoor.v1.CancelReason
  cancelled_us  INTEGER NOT NULL,
  actor         TEXT NOT NULL,
  response      BLOB NOT NULL               -- frontdoor.v1.CancelReferralResponse, for repeats
);
)sql";

// 2 -> 3 (issue 5): dead letters (outbox state 'dead', with a fresh retry budget on replay) and
// feedback events with their gateway-wide sequence.
constexpr const char kDeadLettersAndFeedbackSql[] = R"sql(
ALTER TABLE outbox ADD COLUMN dead_us INTEGER;                      -- when it became a dead letter
ALTER TABLE outbox ADD COLUMN replayed_us INTEGER;                  -- last replay: the budget restarts
ALTER TABLE outbox ADD COLUMN replay_base INTEGER NOT NULL DEFAULT 0;  -- attempts before that replay
CREATE INDEX outbox_dead ON outbox (state, endpoint_id, outbox_id);
CREATE TABLE feedback_events (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,   -- the gateway-wide feedback sequence
  referral_id      TEXT NOT NULL REFERENCES referrals(referral_id),
  sender_ods       TEXT NOT NULL,                       -- the referrer, for WatchFeedback
  endpoint_id      TEXT NOT NULL,                       -- the reporting connector organisation
  idempotency_key  TEXT NOT NULL,
  status           INTEGER NOT NULL,                    -- frontdoor.v1.ProgressStatus
  report           BLOB NOT NULL,                       -- frontdoor.v1.ReportProgressRequest
  recorded_us      INTEGER NOT NULL,
  UNIQUE (endpoint_id, idempotency_key)
);
CREATE INDEX feedback_by_sender ON feedback_events (sender_ods, seq);
CREATE INDEX feedback_by_referral ON feedback_events (referral_id, seq);
)sql";

// 3 -> 4 (issue 8): the outbox's delivery indexes hold only the rows they are for. outbox_due and
// outbox_dead indexed every row ever queued, and marking a row delivered moved its entries in both
// (four index pages written per acknowledgement, and indexes that grew with the history). Partial
// indexes keep the pending rows (what the delivery workers read) and the dead letters (what
// operators list and replay); a delivered row leaves them and is never indexed again. Every query
// on the outbox names its state as a literal so that the planner can use them.
constexpr const char kPartialOutboxIndexesSql[] = R"sql(
DROP INDEX outbox_due;
DROP INDEX outbox_dead;
CREATE INDEX outbox_pending ON outbox (endpoint_id, outbox_id) WHERE state = 'pending';
CREATE INDEX outbox_pending_due ON outbox (endpoint_id, next_attempt_us) WHERE state = 'pending';
CREATE INDEX outbox_dead_letters ON outbox (outbox_id, endpoint_id) WHERE state = 'dead';
)sql";

// 4 -> 5 (issue 8): two B-tree pages fewer in every commit of a referral. AUTOINCREMENT made each
// outbox insert rewrite its sqlite_sequence row; without it a new row's id is the largest id + 1,
// which never repeats an id because outbox rows are never deleted (keep it so). audit_context was
// a rowid table plus an index on its key; WITHOUT ROWID it is one B-tree keyed by referral_id.
// Both tables are rebuilt with their rows (ids kept) and the outbox's indexes recreated.
constexpr const char kFewerPagesPerCommitSql[] = R"sql(
CREATE TABLE outbox_v5 (
  outbox_id        INTEGER PRIMARY KEY,       -- never reused: outbox rows are never deleted
  referral_id      TEXT NOT NULL REFERENCES referrals(referral_id),
  endpoint_id      TEXT NOT NULL,
  kind             TEXT NOT NULL,             -- deliver | cease
  idempotency_key  TEXT NOT NULL UNIQUE,
  payload          BLOB NOT NULL,             -- DeliverReferralRequest | CeaseProcessingRequest
  state            TEXT NOT NULL,             -- pending | delivered | cancelled | dead
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_us  INTEGER NOT NULL,
  last_error       TEXT NOT NULL DEFAULT '',
  created_us       INTEGER NOT NULL,
  delivered_us     INTEGER,
  dead_us          INTEGER,
  replayed_us      INTEGER,
  replay_base      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_v5 (outbox_id, referral_id, endpoint_id, kind, idempotency_key, payload, state, attempts,
                       next_attempt_us, last_error, created_us, delivered_us, dead_us, replayed_us, replay_base)
  SELECT outbox_id, referral_id, endpoint_id, kind, idempotency_key, payload, state, attempts,
         next_attempt_us, last_error, created_us, delivered_us, dead_us, replayed_us, replay_base FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v5 RENAME TO outbox;
DELETE FROM sqlite_sequence WHERE name = 'outbox';
CREATE INDEX outbox_by_referral ON outbox (referral_id);
CREATE INDEX outbox_pending ON outbox (endpoint_id, outbox_id) WHERE state = 'pending';
CREATE INDEX outbox_pending_due ON outbox (endpoint_id, next_attempt_us) WHERE state = 'pending';
CREATE INDEX outbox_dead_letters ON outbox (outbox_id, endpoint_id) WHERE state = 'dead';
CREATE TABLE audit_context_v5 (
  referral_id        TEXT PRIMARY KEY REFERENCES referrals(referral_id),
  nhs_number         TEXT NOT NULL,
  consent_reference  TEXT NOT NULL,
  referrer_ods       TEXT NOT NULL,
  rule_ids           TEXT NOT NULL          -- comma-separated
) WITHOUT ROWID;
INSERT INTO audit_context_v5 (referral_id, nhs_number, consent_reference, referrer_ods, rule_ids)
  SELECT referral_id, nhs_number, consent_reference, referrer_ods, rule_ids FROM audit_context;
DROP TABLE audit_context;
ALTER TABLE audit_context_v5 RENAME TO audit_context;
)sql";

// 5 -> 6: what makes a resend a resend. A message under a recorded (sender_ods, message_id) is a
// duplicate only when its fingerprint (gateway/message_fingerprint.h) agrees; rows recorded before
// have none, and any message under their id is taken as a resend.
constexpr char kContentFingerprintSql[] = R"sql(
ALTER TABLE referrals ADD COLUMN content_fingerprint TEXT;
)sql";

// Forward migrations; entry i takes the schema from version i to i + 1. Never edit a released
// entry: add a new one.
constexpr const char* kMigrations[] = {
    // 0 -> 1: referrals and the delivery outbox.
    R"sql(
CREATE TABLE referrals (
  referral_id   TEXT PRIMARY KEY,
  sender_ods    TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  format        TEXT NOT NULL,
  received_us   INTEGER NOT NULL,
  disposition   INTEGER NOT NULL,
  connector_id  TEXT NOT NULL,
  endpoint_id   TEXT NOT NULL,
  decision      BLOB NOT NULL,   -- frontdoor.v1.SubmitReferralResponse
  referral      BLOB NOT NULL,   -- frontdoor.v1.Referral, the casework record
  UNIQUE (sender_ods, message_id)
);
CREATE TABLE outbox (
  outbox_id        INTEGER PRIMARY KEY AUTOINCREMENT,
  referral_id      TEXT NOT NULL REFERENCES referrals(referral_id),
  endpoint_id      TEXT NOT NULL,
  kind             TEXT NOT NULL,             -- deliver | cease
  idempotency_key  TEXT NOT NULL UNIQUE,
  payload          BLOB NOT NULL,             -- frontdoor.v1.DeliverReferralRequest
  state            TEXT NOT NULL,             -- pending | delivered
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_us  INTEGER NOT NULL,
  last_error       TEXT NOT NULL DEFAULT '',
  created_us       INTEGER NOT NULL,
  delivered_us     INTEGER
);
CREATE INDEX outbox_due ON outbox (endpoint_id, state, next_attempt_us, outbox_id);
CREATE INDEX outbox_by_referral ON outbox (referral_id);
)sql",
    // 1 -> 2
    kAuditAndWithdrawalSchema,
    // 2 -> 3
    kDeadLettersAndFeedbackSql,
    // 3 -> 4
    kPartialOutboxIndexesSql,
    // 4 -> 5
    kFewerPagesPerCommitSql,
    // 5 -> 6
    kContentFingerprintSql,
};

absl::Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const std::string text =
      absl::StrCat(std::string(what), ": ", sqlite3_errstr(rc), " (", db ? sqlite3_errmsg(db) : "", ")");
  // Busy, locked, full or I/O trouble is worth retrying; anything else is a bug or corruption.
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return absl::UnavailableError(text);
    default:
      return absl::InternalError(text);
  }
}

absl::Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    absl::Status s = SqliteError(db, rc, err ? err : sql);
    sqlite3_free(err);
    return s;
  }
  return absl::OkStatus();
}

// Prepared statements are kept per connection and reused: compiling SQL was a sixth of the
// gateway's CPU under load (docs/PERFORMANCE.md). Keyed by the SQL text, so queries built at run
// time are safe too. A connection's cache is used only under that connection's mutex (the store's
// write_mu_ or read_mu_); the registry of caches has its own lock.
struct CachedStatement {
  sqlite3_stmt* stmt = nullptr;
  bool in_use = false;
};
using StatementCache = std::unordered_map<std::string, CachedStatement>;

absl::Mutex cache_registry_mu(absl::kConstInit);
std::unordered_map<sqlite3*, StatementCache>* cache_registry ABSL_GUARDED_BY(cache_registry_mu) = nullptr;

StatementCache& CacheFor(sqlite3* db) {
  absl::MutexLock lock(&cache_registry_mu);
  if (cache_registry == nullptr) cache_registry = new std::unordered_map<sqlite3*, StatementCache>();
  return (*cache_registry)[db];  // node-based: the reference stays valid while others are added
}

// Finalizes the connection's cached statements and closes it.
void CloseConnection(sqlite3* db) {
  if (db == nullptr) return;
  {
    absl::MutexLock lock(&cache_registry_mu);
    if (cache_registry != nullptr) {
      if (auto it = cache_registry->find(db); it != cache_registry->end()) {
        for (auto& [sql, cached] : it->second) sqlite3_finalize(cached.stmt);
        cache_registry->erase(it);
      }
    }
  }
  sqlite3_close(db);
}

// A prepared statement from the connection's cache (reset and unbound when it goes out of scope),
// or a fresh one when the cached one is already in use further up the stack.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    StatementCache& cache = CacheFor(db);
    auto [it, inserted] = cache.try_emplace(sql);
    if (!it->second.in_use) {
      if (it->second.stmt == nullptr) {
        rc_ = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second.stmt, nullptr);
        if (rc_ != SQLITE_OK) {
          sqlite3_finalize(it->second.stmt);
          cache.erase(it);
          return;
        }
      }
      cached_ = &it->second;
      cached_->in_use = true;
      stmt_ = cached_->stmt;
      return;
    }
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() {
    if (cached_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
      cached_->in_use = false;
    } else {
      sqlite3_finalize(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status status() const { return rc_ == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc_, "prepare"); }
  void Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, const std::string& bytes) {
    sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  std::string Blob(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  CachedStatement* cached_ = nullptr;
  int rc_ = SQLITE_OK;
};

// One statement without results (BEGIN IMMEDIATE, COMMIT, ROLLBACK), through the cache.
absl::Status Run(sqlite3* db, const char* sql) {
  Statement st(db, sql);
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  const int rc = st.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, sql);
  return absl::OkStatus();
}

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat("cannot open database ", path, ": ", sqlite3_errstr(rc)));
    CloseConnection(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  return db;
}

absl::StatusOr<int> UserVersion(sqlite3* db) {
  Statement st(db, "PRAGMA user_version");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  if (st.Step() != SQLITE_ROW) return absl::InternalError("PRAGMA user_version returned no row");
  return static_cast<int>(st.Int(0));
}

absl::Status Migrate(sqlite3* db, int* version_out) {
  FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
  absl::StatusOr<int> version = UserVersion(db);
  if (!version.ok()) {
    Run(db, "ROLLBACK").IgnoreError();
    return version.status();
  }
  constexpr int kLatest = static_cast<int>(std::size(kMigrations));
  if (*version > kLatest) {
    Run(db, "ROLLBACK").IgnoreError();
    return absl::FailedPreconditionError(absl::StrCat("database schema version ", *version,
                                                      " is newer than this gateway understands (", kLatest,
                                                      "); run a newer frontdoor-gateway"));
  }
  for (int v = *version; v < kLatest; ++v) {
    absl::Status s = Exec(db, kMigrations[v]);
    if (s.ok()) s = Exec(db, absl::StrCat("PRAGMA user_version = ", v + 1).c_str());
    if (!s.ok()) {
      Run(db, "ROLLBACK").IgnoreError();
      return s;
    }
  }
  FRONTDOOR_RETURN_IF_ERROR(Run(db, "COMMIT"));
  *version_out = kLatest;
  return absl::OkStatus();
}

frontdoor::v1::DeliveryState StateFor(const frontdoor::v1::SubmitReferralResponse& decision, bool has_outbox,
                                      bool delivered) {
  if (decision.disposition() != frontdoor::v1::ACCEPTED) return frontdoor::v1::NOT_FOR_DELIVERY;
  if (!has_outbox) return frontdoor::v1::DELIVERY_PENDING;
  return delivered ? frontdoor::v1::DELIVERED : frontdoor::v1::DELIVERY_PENDING;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteReferralStore>> SqliteReferralStore::Open(const std::string& path) {
  FRONTDOOR_ASSIGN_OR_RETURN(sqlite3 * writer, OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  // WAL: readers never block the writer; FULL: a commit is durable when it returns.
  // cache_size: 8 MiB of pages per connection (SQLite's default is 2 MiB): the right-hand ends of
  // the tables and the hot index pages stay in memory instead of being read again with pread.
  // journal_size_limit: when the WAL starts again from its beginning, a file grown past 64 MiB (a
  // burst, an outage's backlog) is cut back to that.
  absl::Status s = Exec(writer,
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                        " PRAGMA cache_size = -8192; PRAGMA journal_size_limit = 67108864;");
  int version = 0;
  if (s.ok()) s = Migrate(writer, &version);
  if (!s.ok()) {
    CloseConnection(writer);
    return s;
  }
  absl::StatusOr<sqlite3*> reader = OpenConnection(path, SQLITE_OPEN_READONLY);
  if (reader.ok()) {
    if (absl::Status set = Exec(*reader, "PRAGMA cache_size = -8192"); !set.ok()) {
      CloseConnection(*reader);
      reader = set;
    }
  }
  if (!reader.ok()) {
    CloseConnection(writer);
    return reader.status();
  }
  // WAL checkpoints (copying committed pages into the database file, with its fsync) run on a
  // connection and thread of their own, so a commit that answers referrers never does that work:
  // it was a source of long tails at steady load (docs/PERFORMANCE.md).
  absl::StatusOr<sqlite3*> checkpointer = OpenConnection(path, SQLITE_OPEN_READWRITE);
  if (checkpointer.ok()) {
    absl::Status set = Exec(writer, "PRAGMA wal_autocheckpoint = 0");
    if (set.ok()) set = Exec(*checkpointer, "PRAGMA synchronous = FULL");
    if (!set.ok()) {
      CloseConnection(*checkpointer);
      checkpointer = set;
    }
  }
  if (!checkpointer.ok()) {
    CloseConnection(*reader);
    CloseConnection(writer);
    return checkpointer.status();
  }
  return std::unique_ptr<SqliteReferralStore>(new SqliteReferralStore(writer, *reader, *checkpointer, version));
}

SqliteReferralStore::SqliteReferralStore(sqlite3* writer, sqlite3* reader, sqlite3* checkpointer, int schema_version)
    : writer_(writer), reader_(reader), checkpointer_(checkpointer), schema_version_(schema_version) {
  wal_thread_ = std::thread([this] { RunWalCheckpoints(); });
}

void SqliteReferralStore::RunWalCheckpoints() {
  NameThisThread("fd-wal-ckpt");
  for (;;) {
    {
      absl::MutexLock lock(&wal_mu_);
      wal_mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(100));
      if (stopping_) return;
    }
    CheckpointWal();
  }
}

void SqliteReferralStore::CheckpointWal() {
  // PASSIVE: copies what no reader still needs and never waits for, or blocks, the writer. Under
  // steady writes that alone never catches up (frames keep arriving while it copies), so the WAL
  // would never start again from its beginning and would grow for as long as the load lasts (it
  // did: 740 MB in ten seconds at 1,000 referrals/s). So: passes without the writer until what is
  // left is small, then one more holding write_mu_ so that no frame arrives during it. Then the
  // whole WAL is in the database file, and the writer's next transaction starts the WAL again at
  // its beginning, overwriting it in place (journal_size_limit trims it after a burst).
  constexpr int kSmallRemainder = 64;  // frames (4 KiB pages): a few milliseconds of writes
  int frames = 0;
  int copied = 0;
  for (int pass = 0; pass < 4; ++pass) {
    if (sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied) != SQLITE_OK) {
      return;  // busy or failing: the next round tries again
    }
    if (frames - copied <= kSmallRemainder) break;
  }
  if (frames <= 0 || frames - copied > kSmallRemainder) return;
  absl::MutexLock lock(&write_mu_);
  sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

SqliteReferralStore::~SqliteReferralStore() {
  {
    absl::MutexLock lock(&wal_mu_);
    stopping_ = true;
  }
  wal_thread_.join();
  // The last committed pages go into the database file now rather than at the next start.
  sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  CloseConnection(checkpointer_);
  absl::MutexLock w(&write_mu_);
  absl::MutexLock r(&read_mu_);
  CloseConnection(reader_);
  CloseConnection(writer_);
}

absl::StatusOr<std::vector<RecordOutcome>> SqliteReferralStore::RecordReferrals(std::vector<NewReferral> batch) {
  absl::MutexLock lock(&write_mu_);
  sqlite3* db = writer_;
  Statement find(db,
                 "SELECT decision, content_fingerprint, received_us FROM referrals"
                 " WHERE sender_ods = ?1 AND message_id = ?2");
  Statement insert(db,
                   "INSERT INTO referrals (referral_id, sender_ods, message_id, format, received_us, disposition,"
                   " connector_id, endpoint_id, decision, referral, content_fingerprint)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  Statement outbox(db,
                   "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
                   " next_attempt_us, created_us) VALUES (?1, ?2, 'deliver', ?3, ?4, 'pending', ?5, ?5)");
  FRONTDOOR_RETURN_IF_ERROR(find.status());
  FRONTDOOR_RETURN_IF_ERROR(insert.status());
  FRONTDOOR_RETURN_IF_ERROR(outbox.status());

  FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
  // Acknowledgements and checkpoints that queued for the write lock during the last commit share
  // this one's fsync. First, while no page is dirty yet (see TakeSharedWritesInto).
  if (before_shared_writes_hook_) before_shared_writes_hook_();
  absl::StatusOr<std::vector<SharedWrite*>> shared = TakeSharedWritesInto(db);
  if (!shared.ok()) return shared.status();
  auto fail = [this, db, &shared](absl::Status s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    Run(db, "ROLLBACK").IgnoreError();
    // The writes this batch carried must not fail with it.
    CommitEachAlone(db, *shared);
    return s;
  };

  std::vector<RecordOutcome> outcomes;
  outcomes.reserve(batch.size());
  for (NewReferral& r : batch) {
    find.Reset();
    find.Bind(1, r.sender_ods);
    find.Bind(2, r.message_id);
    const int found = find.Step();
    if (found == SQLITE_ROW) {
      absl::StatusOr<RecordOutcome> out =
          store_rows::OutcomeForRecordedId(r, find.Text(1), find.Blob(0), FromMicros(find.Int(2)));
      if (!out.ok()) return fail(out.status());
      outcomes.push_back(std::move(*out));
      continue;
    }
    if (found != SQLITE_DONE) return fail(SqliteError(db, found, "look up duplicate"));

    insert.Reset();
    insert.Bind(1, r.referral_id);
    insert.Bind(2, r.sender_ods);
    insert.Bind(3, r.message_id);
    insert.Bind(4, r.format);
    insert.Bind(5, ToMicros(r.received_at));
    insert.Bind(6, static_cast<int64_t>(r.decision.disposition()));
    insert.Bind(7, r.decision.connector_id());
    insert.Bind(8, r.decision.endpoint_id());
    insert.BindBlob(9, r.decision.SerializeAsString());
    insert.BindBlob(10, r.referral.SerializeAsString());
    insert.Bind(11, r.content_fingerprint);
    if (int rc = insert.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "insert referral"));

    if (r.delivery.has_value()) {
      outbox.Reset();
      outbox.Bind(1, r.referral_id);
      outbox.Bind(2, r.delivery->endpoint_id);
      outbox.Bind(3, r.delivery->request.idempotency_key());
      outbox.BindBlob(4, r.delivery->request.SerializeAsString());
      outbox.Bind(5, ToMicros(r.received_at));
      if (int rc = outbox.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "insert outbox row"));
    }
    if (absl::Status s = RecordDecisionAudit(db, r.referral_id, r.sender_ods, std::move(r.audit)); !s.ok()) {
      return fail(s);
    }
    RecordOutcome out;
    out.decision = std::move(r.decision);
    outcomes.push_back(std::move(out));
  }
  FRONTDOOR_RETURN_IF_ERROR(CommitCarrying(db, *shared));
  return outcomes;
}

absl::Status SqliteReferralStore::WriteShared(SharedWrite* write) {
  {
    absl::MutexLock queue(&shared_mu_);
    shared_queue_.push_back(write);
  }
  absl::MutexLock lock(&write_mu_);
  {
    // Whoever held the write lock while this waited for it finished the transaction it took this
    // write into (commit or rollback) before letting go.
    absl::MutexLock queue(&shared_mu_);
    if (write->done) {
      if (write->carried) ++shared_counts_.carried;
      return write->result;
    }
  }
  sqlite3* db = writer_;
  absl::Status begun = Run(db, "BEGIN IMMEDIATE");
  if (!begun.ok()) {
    // Nothing was taken: this write fails; any queued behind it try for themselves.
    absl::MutexLock queue(&shared_mu_);
    std::erase(shared_queue_, write);
    return begun;
  }
  absl::StatusOr<std::vector<SharedWrite*>> shared = TakeSharedWritesInto(db);
  if (!shared.ok()) return write->result;     // this write was committed (or refused) on its own
  CommitCarrying(db, *shared).IgnoreError();  // its result, and each carried write's, is in `result`
  absl::MutexLock queue(&shared_mu_);
  if (write->carried) ++shared_counts_.own_transactions;
  return write->result;
}

SqliteReferralStore::SharedWriteCounts SqliteReferralStore::shared_write_counts() {
  absl::MutexLock queue(&shared_mu_);
  return shared_counts_;
}

void SqliteReferralStore::SetBeforeSharedWritesHookForTest(std::function<void()> hook) {
  absl::MutexLock lock(&write_mu_);
  before_shared_writes_hook_ = std::move(hook);
}

size_t SqliteReferralStore::SharedWritesQueuedForTest() {
  absl::MutexLock queue(&shared_mu_);
  return shared_queue_.size();
}

absl::StatusOr<std::vector<SqliteReferralStore::SharedWrite*>> SqliteReferralStore::TakeSharedWritesInto(sqlite3* db) {
  std::vector<SharedWrite*> taken;
  {
    absl::MutexLock queue(&shared_mu_);
    taken.swap(shared_queue_);
  }
  for (SharedWrite* w : taken) {
    w->result = w->apply(db);
    if (!w->result.ok()) {
      // None of them may commit half-done, and the caller's own work must not fail with one of
      // them: roll back, let each commit (or fail) on its own, and begin again.
      Run(db, "ROLLBACK").IgnoreError();
      CommitEachAlone(db, taken);
      FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
      return std::vector<SharedWrite*>();
    }
  }
  return taken;
}

void SqliteReferralStore::CommitEachAlone(sqlite3* db, const std::vector<SharedWrite*>& writes) {
  for (SharedWrite* w : writes) {
    absl::Status s = Run(db, "BEGIN IMMEDIATE");
    if (s.ok()) {
      s = w->apply(db);
      if (s.ok()) s = Run(db, "COMMIT");
      if (!s.ok()) Run(db, "ROLLBACK").IgnoreError();
    }
    w->result = s;
    w->carried = false;
  }
  absl::MutexLock queue(&shared_mu_);
  shared_counts_.own_transactions += static_cast<int64_t>(writes.size());
  for (SharedWrite* w : writes) w->done = true;
}

absl::Status SqliteReferralStore::CommitCarrying(sqlite3* db, const std::vector<SharedWrite*>& carried) {
  const absl::Status committed = Run(db, "COMMIT");
  if (!committed.ok()) Run(db, "ROLLBACK").IgnoreError();
  absl::MutexLock queue(&shared_mu_);
  for (SharedWrite* w : carried) {
    if (!committed.ok()) w->result = committed;
    w->done = true;
  }
  return committed;
}

absl::StatusOr<std::optional<StoredReferral>> SqliteReferralStore::GetReferral(std::string_view referral_id) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT r.referral_id, r.sender_ods, r.message_id, r.format, r.received_us, r.decision,"
               " o.state, o.delivered_us, o.attempts, o.outbox_id"
               " FROM referrals r LEFT JOIN outbox o ON o.referral_id = r.referral_id AND o.kind = 'deliver'"
               " WHERE r.referral_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, referral_id);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(reader_, rc, "read referral");
  StoredReferral out;
  out.referral_id = st.Text(0);
  out.sender_ods = st.Text(1);
  out.message_id = st.Text(2);
  out.format = st.Text(3);
  out.received_at = FromMicros(st.Int(4));
  if (!out.decision.ParseFromString(st.Blob(5))) return absl::InternalError("stored decision does not parse");
  const bool has_outbox = !st.IsNull(9);
  const bool delivered = has_outbox && st.Text(6) == "delivered";
  out.delivery_state = StateFor(out.decision, has_outbox, delivered);
  if (has_outbox && st.Text(6) == "dead") out.delivery_state = frontdoor::v1::DELIVERY_FAILED;
  if (!st.IsNull(7)) out.delivered_at = FromMicros(st.Int(7));
  out.delivery_attempts = has_outbox ? static_cast<uint32_t>(st.Int(8)) : 0;
  FRONTDOOR_RETURN_IF_ERROR(ReadCancellation(reader_, &out));
  return out;
}

absl::StatusOr<std::vector<OutboxItem>> SqliteReferralStore::DueDeliveries(std::string_view endpoint_id, absl::Time now,
                                                                           int limit) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT o.outbox_id, o.referral_id, o.attempts, o.payload, o.kind, o.created_us,"
               " c.nhs_number, c.consent_reference, c.referrer_ods, c.rule_ids"
               " FROM outbox AS o LEFT JOIN audit_context AS c ON c.referral_id = o.referral_id"
               " WHERE o.endpoint_id = ?1 AND o.state = 'pending' AND +o.next_attempt_us <= ?2"
               " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = o.referral_id"
               "                 AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < o.outbox_id)"
               " ORDER BY o.outbox_id LIMIT ?3");
  // The unary + keeps SQLite from using next_attempt_us as an index range: it then walks
  // outbox_pending (endpoint_id, outbox_id: the pending rows only) in order and stops at the limit,
  // instead of sorting every due row of a backlog on each call (docs/PERFORMANCE.md).
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, endpoint_id);
  st.Bind(2, ToMicros(now));
  st.Bind(3, static_cast<int64_t>(limit));
  std::vector<OutboxItem> items;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    OutboxItem item;
    item.outbox_id = st.Int(0);
    item.referral_id = st.Text(1);
    item.endpoint_id = std::string(endpoint_id);
    item.attempts = static_cast<uint32_t>(st.Int(2));
    item.created_at = FromMicros(st.Int(5));
    FRONTDOOR_RETURN_IF_ERROR(store_rows::SetOutboxRequest(st.Text(4), st.Blob(3), &item));
    // For the acknowledgement's audit record (MarkDeliveredMany); none: recorded before the audit
    // log existed, and the record cites nothing.
    item.audit_context = ReferralAuditContext{st.Text(6), st.Text(7), st.Text(8), st.Text(9)};
    items.push_back(std::move(item));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read outbox");
  return items;
}

absl::StatusOr<std::optional<absl::Time>> SqliteReferralStore::NextDeliveryDue(std::string_view endpoint_id) {
  absl::MutexLock lock(&read_mu_);
  // Rows held behind an earlier pending or dead row of their referral are not due, whatever their time.
  Statement st(reader_,
               "SELECT MIN(next_attempt_us) FROM outbox AS o WHERE endpoint_id = ?1 AND state = 'pending'"
               " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = o.referral_id"
               "                 AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < o.outbox_id)");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, endpoint_id);
  const int rc = st.Step();
  if (rc != SQLITE_ROW) return SqliteError(reader_, rc, "read next due");
  if (st.IsNull(0)) return std::nullopt;
  return FromMicros(st.Int(0));
}

absl::StatusOr<std::vector<OutboxDepth>> SqliteReferralStore::OutboxDepths() {
  absl::MutexLock lock(&read_mu_);
  // One state at a time: each is then a walk of its partial index (pending rows, dead letters),
  // where `state IN (...)` would read the whole outbox.
  std::map<std::string, OutboxDepth> depths;
  for (const bool dead : {false, true}) {
    Statement st(reader_,
                 dead ? "SELECT endpoint_id, COUNT(*) FROM outbox WHERE state = 'dead' GROUP BY endpoint_id"
                      : "SELECT endpoint_id, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY endpoint_id");
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      OutboxDepth& depth = depths[st.Text(0)];
      depth.endpoint_id = st.Text(0);
      (dead ? depth.dead : depth.pending) = st.Int(1);
    }
    if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read outbox depth");
  }
  std::vector<OutboxDepth> out;
  out.reserve(depths.size());
  for (auto& [endpoint, depth] : depths) out.push_back(std::move(depth));
  return out;
}

absl::Status SqliteReferralStore::EnqueueCeaseProcessing(std::string_view referral_id, std::string_view endpoint_id,
                                                         const frontdoor::v1::CeaseProcessingRequest& request,
                                                         absl::Time at) {
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_,
               "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
               " next_attempt_us, created_us)"
               " SELECT referral_id, ?2, 'cease', ?3, ?4, 'pending', ?5, ?5 FROM referrals WHERE referral_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, referral_id);
  st.Bind(2, endpoint_id);
  st.Bind(3, request.idempotency_key());
  st.BindBlob(4, request.SerializeAsString());
  st.Bind(5, ToMicros(at));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "queue cease processing");
  if (sqlite3_changes(writer_) == 0) return absl::NotFoundError("no referral with that id");
  return absl::OkStatus();
}

absl::Status SqliteReferralStore::MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) {
  if (rows.empty()) return absl::OkStatus();
  // Each acknowledgement's audit record (IG-9) is built here, before the write lock, from the
  // audit context DueDeliveries read with the row: the transaction, which every submission's
  // commit may be waiting for, only marks the rows and appends the records (index and hash).
  std::vector<std::optional<frontdoor::v1::AuditRecord>> prepared(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const OutboxItem& row = *rows[i];
    if (row.audit_context.has_value()) {
      prepared[i] = store_rows::AcknowledgementRecord(row, /*withdrawn=*/false, at);
    }
  }
  // The acknowledgements and their audit records commit together, in one fsync: often the fsync of
  // a group commit of submissions that is running anyway. `apply` may run twice (alone, after a
  // carried write failed), so it leaves `prepared` as it found it.
  SharedWrite write;
  write.apply = [&rows, &prepared, at](sqlite3* db) -> absl::Status {
    Statement st(db,
                 "UPDATE outbox SET state = 'delivered', delivered_us = ?2, attempts = attempts + 1, last_error = ''"
                 " WHERE outbox_id = ?1 AND state = 'pending'");
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    // A delivery that was in flight when it was withdrawn (IG-7) still reached the connector: keep
    // its time (the row stays 'cancelled') so the audit log records the disclosure.
    Statement in_flight(db,
                        "UPDATE outbox SET delivered_us = ?2 WHERE outbox_id = ?1 AND state = 'cancelled'"
                        " AND delivered_us IS NULL");
    FRONTDOOR_RETURN_IF_ERROR(in_flight.status());
    std::vector<frontdoor::v1::AuditRecord> records;
    records.reserve(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const int64_t outbox_id = rows[i]->outbox_id;
      st.Reset();
      st.Bind(1, outbox_id);
      st.Bind(2, ToMicros(at));
      if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "mark delivered");
      bool withdrawn = false;
      if (sqlite3_changes(db) == 0) {
        in_flight.Reset();
        in_flight.Bind(1, outbox_id);
        in_flight.Bind(2, ToMicros(at));
        if (int rc = in_flight.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "mark delivered");
        if (sqlite3_changes(db) == 0) continue;  // marked before: nothing to record again
        withdrawn = true;
      }
      if (prepared[i].has_value() && !withdrawn) {
        records.push_back(*prepared[i]);
        continue;
      }
      const OutboxItem* row = rows[i];
      absl::StatusOr<OutboxItem> read;
      if (!row->audit_context.has_value()) {
        read = ReadAcknowledgedRow(db, outbox_id);
        if (!read.ok()) return read.status();
        row = &*read;
      }
      records.push_back(store_rows::AcknowledgementRecord(*row, withdrawn, at));
    }
    return AppendAuditInTransaction(db, &records);
  };
  return WriteShared(&write);
}

absl::Status SqliteReferralStore::RecordFailedAttempt(int64_t outbox_id, absl::Time next_attempt_at,
                                                      std::string_view error) {
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_,
               "UPDATE outbox SET attempts = attempts + 1, next_attempt_us = ?2, last_error = ?3"
               " WHERE outbox_id = ?1 AND state = 'pending'");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, outbox_id);
  st.Bind(2, ToMicros(next_attempt_at));
  st.Bind(3, error.substr(0, 500));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "record failed attempt");
  return absl::OkStatus();
}

// --- IG-7 and IG-9 --------------------------------------------------------------------------------

namespace {

// Copies the referral's audit context into `record` (who it is about, consent, referrer, rules).
absl::Status FillFromContext(sqlite3* db, const std::string& referral_id, frontdoor::v1::AuditRecord* record) {
  Statement st(db,
               "SELECT nhs_number, consent_reference, referrer_ods, rule_ids FROM audit_context"
               " WHERE referral_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, referral_id);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return absl::OkStatus();  // recorded before the audit log existed
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read audit context");
  store_rows::CiteContext(ReferralAuditContext{st.Text(0), st.Text(1), st.Text(2), st.Text(3)}, record);
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteReferralStore::AppendAuditInTransaction(sqlite3* db,
                                                           std::vector<frontdoor::v1::AuditRecord>* records) {
  if (records->empty()) return absl::OkStatus();
  Statement next(db, "SELECT COALESCE(MAX(leaf_index), -1) + 1 FROM audit_log");
  FRONTDOOR_RETURN_IF_ERROR(next.status());
  if (int rc = next.Step(); rc != SQLITE_ROW) return SqliteError(db, rc, "next audit index");
  int64_t index = next.Int(0);
  Statement insert(db,
                   "INSERT INTO audit_log (leaf_index, leaf_hash, time_us, record, referral_id, nhs_number,"
                   " recipient_endpoint, referrer_ods, outcome, rule_ids)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  FRONTDOOR_RETURN_IF_ERROR(insert.status());
  for (frontdoor::v1::AuditRecord& r : *records) {
    r.set_index(static_cast<uint64_t>(index));
    r.clear_leaf_hash_hex();
    r.set_pruned(false);
    FRONTDOOR_ASSIGN_OR_RETURN(const audit::AuditSearchColumns columns, audit::SearchColumnsOf(r));
    const std::string leaf_hash = audit::ToHex(audit::RecordLeafHash(r));
    insert.Reset();
    insert.Bind(1, index);
    insert.Bind(2, leaf_hash);
    insert.Bind(3, columns.time_us);
    insert.BindBlob(4, r.SerializeAsString());
    insert.Bind(5, columns.referral_id);
    insert.Bind(6, columns.nhs_number);
    insert.Bind(7, columns.recipient_endpoint);
    insert.Bind(8, columns.referrer_ods);
    insert.Bind(9, columns.outcome);
    insert.Bind(10, columns.rule_ids);
    if (int rc = insert.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "append audit record");
    r.set_leaf_hash_hex(leaf_hash);
    ++index;
  }
  return absl::OkStatus();
}

absl::Status SqliteReferralStore::RecordDecisionAudit(sqlite3* db, const std::string& referral_id,
                                                      const std::string& sender_ods,
                                                      std::vector<frontdoor::v1::AuditRecord> records) {
  if (records.empty()) return absl::OkStatus();
  const frontdoor::v1::AuditRecord& decision = records.front();
  Statement context(db,
                    "INSERT INTO audit_context (referral_id, nhs_number, consent_reference, referrer_ods, rule_ids)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)");
  FRONTDOOR_RETURN_IF_ERROR(context.status());
  context.Bind(1, referral_id);
  context.Bind(2, decision.nhs_number());
  context.Bind(3, decision.consent_reference());
  context.Bind(4, sender_ods);
  context.Bind(5, absl::StrJoin(decision.rule_ids(), ","));
  if (int rc = context.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "insert audit context");
  return AppendAuditInTransaction(db, &records);
}

absl::StatusOr<OutboxItem> SqliteReferralStore::ReadAcknowledgedRow(sqlite3* db, int64_t outbox_id) {
  Statement st(db,
               "SELECT o.referral_id, o.endpoint_id, o.kind, c.nhs_number, c.consent_reference, c.referrer_ods,"
               " c.rule_ids FROM outbox AS o LEFT JOIN audit_context AS c ON c.referral_id = o.referral_id"
               " WHERE o.outbox_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, outbox_id);
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqliteError(db, rc, "read acknowledged outbox row");
  OutboxItem row;
  row.outbox_id = outbox_id;
  row.referral_id = st.Text(0);
  row.endpoint_id = st.Text(1);
  row.kind = st.Text(2) == "cease" ? OutboxKind::kCease : OutboxKind::kDeliver;
  // No context row: recorded before the audit log existed; the record cites nothing.
  row.audit_context = ReferralAuditContext{st.Text(3), st.Text(4), st.Text(5), st.Text(6)};
  return row;
}

absl::Status SqliteReferralStore::ReadCancellation(sqlite3* db, StoredReferral* out) {
  Statement st(db,
               "SELECT c.reason, c.cancelled_us,"
               " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'cease'"
               "  ORDER BY outbox_id LIMIT 1),"
               " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'deliver'"
               "  ORDER BY outbox_id LIMIT 1)"
               " FROM cancellations c WHERE c.referral_id = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, out->referral_id);
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return absl::OkStatus();
  if (rc != SQLITE_ROW) return SqliteError(db, rc, "read cancellation");
  out->cancel_reason = static_cast<frontdoor::v1::CancelReason>(st.Int(0));
  out->cancelled_at = FromMicros(st.Int(1));
  out->cease_processing_sent = !st.IsNull(2);
  out->cease_processing_acknowledged = st.Text(2) == "delivered";
  if (st.Text(3) == "cancelled") out->delivery_state = frontdoor::v1::DELIVERY_CANCELLED;
  return absl::OkStatus();
}

absl::StatusOr<CancelOutcome> SqliteReferralStore::CancelReferral(std::string_view referral_id,
                                                                  const frontdoor::v1::CeaseProcessingRequest& cease,
                                                                  const frontdoor::v1::AuditRecord& audit,
                                                                  absl::Time at) {
  absl::MutexLock lock(&write_mu_);
  sqlite3* db = writer_;
  FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
  auto fail = [db](absl::Status s) {
    Run(db, "ROLLBACK").IgnoreError();
    return s;
  };
  const std::string id(referral_id);
  {
    Statement earlier(db, "SELECT response FROM cancellations WHERE referral_id = ?1");
    if (!earlier.status().ok()) return fail(earlier.status());
    earlier.Bind(1, id);
    const int rc = earlier.Step();
    if (rc == SQLITE_ROW) {
      CancelOutcome out;
      out.duplicate = true;
      if (!out.response.ParseFromString(earlier.Blob(0)))
        return fail(absl::InternalError("stored cancellation does not parse"));
      Run(db, "ROLLBACK").IgnoreError();
      return out;
    }
    if (rc != SQLITE_DONE) return fail(SqliteError(db, rc, "read cancellation"));
  }
  std::string endpoint_id;
  {
    Statement referral(db, "SELECT disposition, endpoint_id FROM referrals WHERE referral_id = ?1");
    if (!referral.status().ok()) return fail(referral.status());
    referral.Bind(1, id);
    const int rc = referral.Step();
    if (rc == SQLITE_DONE) return fail(absl::NotFoundError("no referral with that id"));
    if (rc != SQLITE_ROW) return fail(SqliteError(db, rc, "read referral"));
    if (referral.Int(0) != frontdoor::v1::ACCEPTED) {
      return fail(absl::FailedPreconditionError(
          "that referral was not accepted, so nothing was or will be sent; there is nothing to withdraw"));
    }
    endpoint_id = referral.Text(1);
  }
  frontdoor::v1::CancelReferralResponse response;
  response.set_referral_id(id);
  {
    // A dead-lettered delivery is stopped too: otherwise the cease would wait behind it, and an
    // operator's replay would send a withdrawn referral.
    Statement stop(db,
                   "UPDATE outbox SET state = 'cancelled' WHERE referral_id = ?1 AND kind = 'deliver'"
                   " AND state IN ('pending', 'dead')");
    if (!stop.status().ok()) return fail(stop.status());
    stop.Bind(1, id);
    if (int rc = stop.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "stop pending delivery"));
    response.set_delivery_state(sqlite3_changes(db) > 0 ? frontdoor::v1::DELIVERY_CANCELLED : frontdoor::v1::DELIVERED);
  }
  {
    Statement queue(db,
                    "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
                    " next_attempt_us, created_us) VALUES (?1, ?2, 'cease', ?3, ?4, 'pending', ?5, ?5)");
    if (!queue.status().ok()) return fail(queue.status());
    queue.Bind(1, id);
    queue.Bind(2, endpoint_id);
    queue.Bind(3, cease.idempotency_key());
    queue.BindBlob(4, cease.SerializeAsString());
    queue.Bind(5, ToMicros(at));
    if (int rc = queue.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "queue cease processing"));
    response.set_cease_processing_sent(true);
  }
  {
    Statement record(db,
                     "INSERT INTO cancellations (referral_id, reason, cancelled_us, actor, response)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!record.status().ok()) return fail(record.status());
    record.Bind(1, id);
    record.Bind(2, static_cast<int64_t>(cease.reason()));
    record.Bind(3, ToMicros(at));
    record.Bind(4, audit.actor());
    record.BindBlob(5, response.SerializeAsString());
    if (int rc = record.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "record cancellation"));
  }
  frontdoor::v1::AuditRecord r = audit;
  r.set_referral_id(id);
  r.set_recipient_endpoint(endpoint_id);
  if (r.time().empty()) r.set_time(AuditTimeText(at));
  if (absl::Status s = FillFromContext(db, id, &r); !s.ok()) return fail(s);
  r.clear_rule_ids();
  r.add_rule_ids("IG-7");
  r.set_action("withdraw");
  r.set_outcome("withdraw");
  r.set_detail(absl::StrCat(
      "reason: ", CancelReasonText(cease.reason()), "; ",
      response.delivery_state() == frontdoor::v1::DELIVERY_CANCELLED ? "pending delivery stopped" : "already delivered",
      "; cease processing queued"));
  std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
  if (absl::Status s = AppendAuditInTransaction(db, &records); !s.ok()) return fail(s);
  if (absl::Status s = Run(db, "COMMIT"); !s.ok()) return fail(s);
  CancelOutcome out;
  out.response = std::move(response);
  return out;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> SqliteReferralStore::AppendAudit(
    std::vector<frontdoor::v1::AuditRecord> records) {
  absl::MutexLock lock(&write_mu_);
  FRONTDOOR_RETURN_IF_ERROR(Run(writer_, "BEGIN IMMEDIATE"));
  if (absl::Status s = AppendAuditInTransaction(writer_, &records); !s.ok()) {
    Run(writer_, "ROLLBACK").IgnoreError();
    return s;
  }
  if (absl::Status s = Run(writer_, "COMMIT"); !s.ok()) {
    Run(writer_, "ROLLBACK").IgnoreError();
    return s;
  }
  return records;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> SqliteReferralStore::QueryAudit(const AuditQuery& q,
                                                                                        int64_t after_index,
                                                                                        int limit) {
  // The records themselves are searched (gateway/audit_search.h), a chunk at a time, so the shared
  // reader is never held for a whole scan.
  return SearchAuditLog(
      q, after_index, limit, [this](int64_t after, int n) -> absl::StatusOr<std::vector<StoredAuditRow>> {
        absl::MutexLock lock(&read_mu_);
        Statement st(reader_,
                     "SELECT leaf_index, leaf_hash, record FROM audit_log WHERE leaf_index > ?1 AND record IS NOT NULL"
                     " ORDER BY leaf_index LIMIT ?2");
        FRONTDOOR_RETURN_IF_ERROR(st.status());
        st.Bind(1, after);
        st.Bind(2, static_cast<int64_t>(n));
        std::vector<StoredAuditRow> rows;
        int rc;
        while ((rc = st.Step()) == SQLITE_ROW) rows.push_back(StoredAuditRow{st.Int(0), st.Text(1), st.Blob(2)});
        if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "query audit log");
        return rows;
      });
}

absl::StatusOr<uint64_t> SqliteReferralStore::AuditTreeSize() {
  absl::MutexLock lock(&read_mu_);
  // Leaf indexes run from 0 without gaps (rows are never deleted, only their bodies pruned), so
  // the size is the largest index + 1: a lookup on the primary key. COUNT(*) would walk the whole
  // log, and the checkpointer asks after every group commit.
  Statement st(reader_, "SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM audit_log");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  if (int rc = st.Step(); rc != SQLITE_ROW) return SqliteError(reader_, rc, "count audit log");
  return static_cast<uint64_t>(st.Int(0));
}

absl::StatusOr<std::vector<audit::Hash>> SqliteReferralStore::AuditLeafHashes(uint64_t from, uint64_t to) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT leaf_index, leaf_hash FROM audit_log WHERE leaf_index >= ?1 AND leaf_index < ?2"
               " ORDER BY leaf_index");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, static_cast<int64_t>(from));
  st.Bind(2, static_cast<int64_t>(to));
  std::vector<audit::Hash> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    std::optional<audit::Hash> h = audit::HashFromHex(st.Text(1));
    if (!h.has_value() || st.Int(0) != static_cast<int64_t>(from + out.size())) {
      return absl::DataLossError(absl::StrCat("audit record ", from + out.size(), " is missing or damaged"));
    }
    out.push_back(*h);
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read audit leaf hashes");
  if (out.size() != to - from) return absl::DataLossError("audit records are missing");
  return out;
}

absl::StatusOr<std::optional<frontdoor::v1::AuditRecord>> SqliteReferralStore::GetAuditRecord(uint64_t index) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, "SELECT leaf_hash, record, time_us FROM audit_log WHERE leaf_index = ?1");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, static_cast<int64_t>(index));
  const int rc = st.Step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) return SqliteError(reader_, rc, "read audit record");
  if (st.IsNull(1)) {
    frontdoor::v1::AuditRecord r;
    r.set_index(index);
    r.set_time(AuditTimeText(FromMicros(st.Int(2))));
    r.set_leaf_hash_hex(st.Text(0));
    r.set_pruned(true);
    return r;
  }
  FRONTDOOR_ASSIGN_OR_RETURN(frontdoor::v1::AuditRecord r,
                             ParseRecord(st.Blob(1), static_cast<int64_t>(index), st.Text(0)));
  return r;
}

absl::StatusOr<std::vector<audit::StoredLeaf>> SqliteReferralStore::ReadAuditLeaves() {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT leaf_index, leaf_hash, record, time_us, referral_id, nhs_number, recipient_endpoint,"
               " referrer_ods, outcome, rule_ids FROM audit_log ORDER BY leaf_index");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  std::vector<audit::StoredLeaf> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    audit::StoredLeaf leaf;
    leaf.index = static_cast<uint64_t>(st.Int(0));
    leaf.leaf_hash_hex = st.Text(1);
    leaf.columns =
        audit::AuditSearchColumns{st.Int(3), st.Text(4), st.Text(5), st.Text(6), st.Text(7), st.Text(8), st.Text(9)};
    if (!st.IsNull(2)) {
      frontdoor::v1::AuditRecord r;
      if (r.ParseFromString(st.Blob(2))) {
        leaf.record = std::move(r);
      } else {
        leaf.body_unreadable = true;
      }
    }
    out.push_back(std::move(leaf));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read audit log");
  return out;
}

absl::Status SqliteReferralStore::RecordCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint) {
  // A checkpoint only states what is already committed, so it may share the next commit's fsync.
  SharedWrite write;
  write.apply = [&checkpoint](sqlite3* db) -> absl::Status {
    Statement st(db, "INSERT OR IGNORE INTO audit_checkpoints (tree_size, checkpoint) VALUES (?1, ?2)");
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    st.Bind(1, static_cast<int64_t>(checkpoint.tree_size()));
    st.BindBlob(2, checkpoint.SerializeAsString());
    if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(db, rc, "record checkpoint");
    return absl::OkStatus();
  };
  return WriteShared(&write);
}

absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> SqliteReferralStore::AuditCheckpoints() {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, "SELECT tree_size, checkpoint FROM audit_checkpoints ORDER BY tree_size");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  std::vector<frontdoor::v1::SignedCheckpoint> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    frontdoor::v1::SignedCheckpoint cp;
    // An unreadable checkpoint is kept as an empty one: verification then reports it as unsigned.
    if (!cp.ParseFromString(st.Blob(1))) cp.Clear();
    if (cp.tree_size() == 0) cp.set_tree_size(static_cast<uint64_t>(st.Int(0)));
    out.push_back(std::move(cp));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read checkpoints");
  return out;
}

absl::StatusOr<int64_t> SqliteReferralStore::PruneAuditBefore(absl::Time cutoff) {
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_,
               "UPDATE audit_log SET record = NULL, referral_id = '', nhs_number = '', recipient_endpoint = '',"
               " referrer_ods = '', outcome = '', rule_ids = ''"
               " WHERE record IS NOT NULL AND time_us < ?1"
               " AND leaf_index < (SELECT COALESCE(MAX(tree_size), 0) FROM audit_checkpoints)");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, ToMicros(cutoff));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "prune audit log");
  return static_cast<int64_t>(sqlite3_changes(writer_));
}

// --- Dead letters and feedback (issue 5) ----------------------------------------------------------

namespace {

// " AND <column> = ?n" clauses for a DeadLetterFilter; binds start at `first_param`.
struct FilterSql {
  std::string where;
  std::vector<std::string> texts;
  std::vector<int64_t> ids;
};

FilterSql DeadLetterWhere(const DeadLetterFilter& filter, int first_param) {
  FilterSql out;
  int n = first_param;
  if (!filter.referral_id.empty()) {
    absl::StrAppend(&out.where, " AND referral_id = ?", n++);
    out.texts.push_back(filter.referral_id);
  }
  if (!filter.endpoint_id.empty()) {
    absl::StrAppend(&out.where, " AND endpoint_id = ?", n++);
    out.texts.push_back(filter.endpoint_id);
  }
  if (!filter.outbox_ids.empty()) {
    absl::StrAppend(&out.where, " AND outbox_id IN (");
    for (size_t i = 0; i < filter.outbox_ids.size(); ++i) {
      absl::StrAppend(&out.where, i == 0 ? "" : ", ", "?", n++);
      out.ids.push_back(filter.outbox_ids[i]);
    }
    absl::StrAppend(&out.where, ")");
  }
  return out;
}

void BindFilter(Statement& st, const FilterSql& f, int first_param) {
  int n = first_param;
  for (const std::string& t : f.texts) st.Bind(n++, t);
  for (int64_t id : f.ids) st.Bind(n++, id);
}

constexpr char kFeedbackColumns[] =
    "SELECT f.seq, f.referral_id, f.sender_ods, f.endpoint_id, r.connector_id, r.message_id, r.format,"
    " r.referral, f.report, f.recorded_us FROM feedback_events f JOIN referrals r ON r.referral_id = f.referral_id ";

absl::StatusOr<std::vector<StoredFeedback>> ReadFeedbackRows(sqlite3* db, Statement& st) {
  std::vector<StoredFeedback> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    StoredFeedback f;
    f.seq = st.Int(0);
    f.referral_id = st.Text(1);
    f.sender_ods = st.Text(2);
    f.endpoint_id = st.Text(3);
    f.team_id = st.Text(4);
    f.message_id = st.Text(5);
    f.format = st.Text(6);
    frontdoor::v1::Referral referral;
    if (!referral.ParseFromString(st.Blob(7)) || !f.report.ParseFromString(st.Blob(8))) {
      return absl::InternalError(absl::StrCat("feedback event ", f.seq, " does not parse"));
    }
    f.nhs_number = referral.person().nhs_number();
    f.referrer_reference = referral.referrer_reference();
    f.recorded_at = FromMicros(st.Int(9));
    out.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "read feedback");
  return out;
}

}  // namespace

absl::StatusOr<bool> SqliteReferralStore::RecordFailedAttemptOrDeadLetter(int64_t outbox_id, absl::Time next_attempt_at,
                                                                          std::string_view error,
                                                                          const DeadLetterLimits& limits,
                                                                          absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  // The limits count from when the row was queued or last replayed.
  Statement dead(writer_,
                 "UPDATE outbox SET state = 'dead', dead_us = ?2, attempts = attempts + 1, last_error = ?3"
                 " WHERE outbox_id = ?1 AND state = 'pending' AND ("
                 "   (?4 > 0 AND attempts + 1 - replay_base >= ?4)"
                 "   OR (?5 > 0 AND ?2 - COALESCE(replayed_us, created_us) >= ?5))");
  FRONTDOOR_RETURN_IF_ERROR(dead.status());
  dead.Bind(1, outbox_id);
  dead.Bind(2, ToMicros(now));
  dead.Bind(3, error.substr(0, 500));
  dead.Bind(4, static_cast<int64_t>(limits.max_attempts));
  dead.Bind(5, absl::ToInt64Microseconds(limits.max_age));
  if (int rc = dead.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "dead-letter");
  if (sqlite3_changes(writer_) > 0) return true;
  Statement st(writer_,
               "UPDATE outbox SET attempts = attempts + 1, next_attempt_us = ?2, last_error = ?3"
               " WHERE outbox_id = ?1 AND state = 'pending'");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, outbox_id);
  st.Bind(2, ToMicros(next_attempt_at));
  st.Bind(3, error.substr(0, 500));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "record failed attempt");
  return false;
}

absl::StatusOr<int> SqliteReferralStore::DeadLetterExpired(std::string_view endpoint_id, const DeadLetterLimits& limits,
                                                           absl::Time now) {
  if (limits.max_age <= absl::ZeroDuration()) return 0;
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_,
               "UPDATE outbox SET state = 'dead', dead_us = ?2,"
               " last_error = CASE WHEN last_error = '' THEN 'endpoint unreachable (circuit open)' ELSE last_error END"
               " WHERE endpoint_id = ?1 AND state = 'pending' AND ?2 - COALESCE(replayed_us, created_us) >= ?3");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, endpoint_id);
  st.Bind(2, ToMicros(now));
  st.Bind(3, absl::ToInt64Microseconds(limits.max_age));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "dead-letter expired rows");
  return sqlite3_changes(writer_);
}

absl::StatusOr<std::vector<DeadLetterRow>> SqliteReferralStore::ListDeadLetters(const DeadLetterFilter& filter,
                                                                                int limit) {
  const FilterSql where = DeadLetterWhere(filter, 2);
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, absl::StrCat("SELECT outbox_id, kind, referral_id, endpoint_id, attempts, last_error,"
                                     " created_us, dead_us FROM outbox WHERE state = 'dead'",
                                     where.where, " ORDER BY outbox_id LIMIT ?1")
                            .c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, static_cast<int64_t>(limit));
  BindFilter(st, where, 2);
  std::vector<DeadLetterRow> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    DeadLetterRow row;
    row.outbox_id = st.Int(0);
    row.kind = st.Text(1) == "cease" ? OutboxKind::kCease : OutboxKind::kDeliver;
    row.referral_id = st.Text(2);
    row.endpoint_id = st.Text(3);
    row.attempts = static_cast<uint32_t>(st.Int(4));
    row.last_error = st.Text(5);
    row.created_at = FromMicros(st.Int(6));
    row.dead_at = st.IsNull(7) ? row.created_at : FromMicros(st.Int(7));
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return SqliteError(reader_, rc, "read dead letters");
  return out;
}

absl::StatusOr<int> SqliteReferralStore::ReplayDeadLetters(const DeadLetterFilter& filter, absl::Time now) {
  const FilterSql where = DeadLetterWhere(filter, 2);
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_, absl::StrCat("UPDATE outbox SET state = 'pending', next_attempt_us = ?1, replayed_us = ?1,"
                                     " replay_base = attempts, dead_us = NULL WHERE state = 'dead'",
                                     where.where)
                            .c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, ToMicros(now));
  BindFilter(st, where, 2);
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "replay dead letters");
  return sqlite3_changes(writer_);
}

absl::StatusOr<FeedbackRecordOutcome> SqliteReferralStore::RecordFeedback(const NewFeedback& feedback,
                                                                          const StoredReferral& referral,
                                                                          const FeedbackCheck& check) {
  const std::string report_bytes = feedback.report.SerializeAsString();
  absl::MutexLock lock(&write_mu_);
  sqlite3* db = writer_;
  FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
  auto fail = [db](absl::Status s) {
    Run(db, "ROLLBACK").IgnoreError();
    return s;
  };
  auto read_where = [db](const std::string& where, auto bind) -> absl::StatusOr<std::vector<StoredFeedback>> {
    Statement st(db, absl::StrCat(kFeedbackColumns, where).c_str());
    FRONTDOOR_RETURN_IF_ERROR(st.status());
    bind(st);
    return ReadFeedbackRows(db, st);
  };

  // A resend of the same report (same connector, same key) is recorded once.
  absl::StatusOr<std::vector<StoredFeedback>> same_key =
      read_where("WHERE f.endpoint_id = ?1 AND f.idempotency_key = ?2", [&](Statement& st) {
        st.Bind(1, feedback.endpoint_id);
        st.Bind(2, feedback.report.idempotency_key());
      });
  if (!same_key.ok()) return fail(same_key.status());
  if (!same_key->empty()) {
    Run(db, "ROLLBACK").IgnoreError();
    if (same_key->front().report.SerializeAsString() != report_bytes) {
      return absl::AlreadyExistsError("that idempotency_key was already used for a different report");
    }
    return FeedbackRecordOutcome{true, std::move(same_key->front())};
  }

  absl::StatusOr<std::vector<StoredFeedback>> history =
      read_where("WHERE f.referral_id = ?1 ORDER BY f.seq", [&](Statement& st) { st.Bind(1, referral.referral_id); });
  if (!history.ok()) return fail(history.status());
  absl::StatusOr<std::optional<int64_t>> decision = check(FeedbackContext{&referral, &*history});
  if (!decision.ok()) return fail(decision.status());
  if (decision->has_value()) {
    Run(db, "ROLLBACK").IgnoreError();
    for (StoredFeedback& earlier : *history) {
      if (earlier.seq == **decision) return FeedbackRecordOutcome{true, std::move(earlier)};
    }
    return absl::InternalError("the repeated feedback event is not in the history");
  }

  Statement insert(db,
                   "INSERT INTO feedback_events (referral_id, sender_ods, endpoint_id, idempotency_key, status,"
                   " report, recorded_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!insert.status().ok()) return fail(insert.status());
  insert.Bind(1, referral.referral_id);
  insert.Bind(2, referral.sender_ods);
  insert.Bind(3, feedback.endpoint_id);
  insert.Bind(4, feedback.report.idempotency_key());
  insert.Bind(5, static_cast<int64_t>(feedback.report.status()));
  insert.BindBlob(6, report_bytes);
  insert.Bind(7, ToMicros(feedback.recorded_at));
  if (int rc = insert.Step(); rc != SQLITE_DONE) return fail(SqliteError(db, rc, "insert feedback event"));
  const int64_t seq = sqlite3_last_insert_rowid(db);
  {
    // IG-9: feedback is accountable too, one audit record in the same transaction. It names the
    // status only, never the connector's words (reasons, activities, what matters).
    frontdoor::v1::AuditRecord r;
    r.set_referral_id(referral.referral_id);
    r.set_time(AuditTimeText(feedback.recorded_at));
    r.set_actor(feedback.endpoint_id);
    r.set_actor_organisation(feedback.endpoint_id);
    if (absl::Status s = FillFromContext(db, referral.referral_id, &r); !s.ok()) return fail(s);
    r.clear_rule_ids();
    r.add_rule_ids("IG-8");
    r.set_action("feedback");
    r.set_outcome("feedback");
    r.set_recipient_endpoint(referral.sender_ods);  // the feedback goes back to the referrer
    r.set_detail(absl::StrCat("progress ", frontdoor::v1::ProgressStatus_Name(feedback.report.status()),
                              " reported by the connector organisation, passed back to the referrer"));
    std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
    if (absl::Status s = AppendAuditInTransaction(db, &records); !s.ok()) return fail(s);
  }
  if (absl::Status s = Run(db, "COMMIT"); !s.ok()) return fail(s);

  FeedbackRecordOutcome out;
  out.event.seq = seq;
  out.event.referral_id = referral.referral_id;
  out.event.sender_ods = referral.sender_ods;
  out.event.endpoint_id = feedback.endpoint_id;
  out.event.team_id = referral.decision.connector_id();
  out.event.message_id = referral.message_id;
  out.event.format = referral.format;
  out.event.report = feedback.report;
  out.event.recorded_at = feedback.recorded_at;
  return out;
}

absl::StatusOr<std::vector<StoredFeedback>> SqliteReferralStore::FeedbackForReferral(std::string_view referral_id) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_, absl::StrCat(kFeedbackColumns, "WHERE f.referral_id = ?1 ORDER BY f.seq").c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, referral_id);
  return ReadFeedbackRows(reader_, st);
}

absl::StatusOr<std::vector<StoredFeedback>> SqliteReferralStore::FeedbackAfter(std::string_view sender_ods,
                                                                               int64_t after_seq, int limit) {
  absl::MutexLock lock(&read_mu_);
  Statement st(
      reader_,
      absl::StrCat(kFeedbackColumns, "WHERE f.sender_ods = ?1 AND f.seq > ?2 ORDER BY f.seq LIMIT ?3").c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, sender_ods);
  st.Bind(2, after_seq);
  st.Bind(3, static_cast<int64_t>(limit));
  return ReadFeedbackRows(reader_, st);
}

}  // namespace frontdoor::gateway
