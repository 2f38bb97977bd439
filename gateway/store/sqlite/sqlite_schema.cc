#include "gateway/store/sqlite/sqlite_schema.h"

#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gateway/store/report_fact_rows.h"
#include "gateway/store/sqlite/sqlite_statements.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway::sqlite {

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

// 2 -> 3: dead letters (outbox state 'dead', with a fresh retry budget on replay) and
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

// 3 -> 4: the outbox's delivery indexes hold only the rows they are for. outbox_due and
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

// 4 -> 5: two B-tree pages fewer in every commit of a referral. AUTOINCREMENT made each
// outbox insert rewrite its sqlite_sequence row; without it a new row's id is the largest id + 1,
// which never repeats an id because outbox rows are never deleted (keep it so). audit_context was
// a rowid table plus an index on its key; WITHOUT ROWID it is one B-tree keyed by referral_id.
// Both tables are rebuilt with their rows (ids kept) and the outbox's indexes recreated.
constexpr const char kFewerPagesPerCommitSql[] = R"sql(
CREATE TABLE outbox_v5 (
  outbox_id        INTEGER PRIMARY KEY,       -- never reused: outbox rows are never deleted
  referral_id      TEXT NOT NULL REFERENCES referrals(referral_id),
  endpoint_id      TEXT NOT NULL,
  kind             TEXT NOT NULL,             -- deliver | cease | feedback
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

// 6 -> 7: what outcome reports read, one narrow row per referral (frontdoor.internal.ReportFacts:
// no identifier, no free text), written with the referral and updated with each feedback event in
// their transactions; and one per rejected message, which has no referral ("rejected:" and a
// fresh id as its key, and nothing else of it is recorded). Keyed by time, so a report reads its
// range in order with no sort and no join, and never touches the referrals' blobs. Filled from
// the referrals and feedback recorded before (FillReportFacts).
constexpr char kReportFactsSql[] = R"sql(
CREATE TABLE report_facts (
  received_us  INTEGER NOT NULL,
  referral_id  TEXT NOT NULL,               -- the referral's id, or rejected:<uuid>
  facts        BLOB NOT NULL,               -- frontdoor.internal.ReportFacts
  PRIMARY KEY (received_us, referral_id)
) WITHOUT ROWID;
)sql";

// The report facts of every referral recorded before report_facts existed, from its decision, its
// referral and its feedback events in the order they were recorded.
absl::Status FillReportFacts(sqlite3* db) {
  Statement referrals(db, "SELECT referral_id, received_us, sender_ods, decision, referral FROM referrals");
  Statement feedback(db, "SELECT report FROM feedback_events WHERE referral_id = ?1 ORDER BY seq");
  Statement insert(db, "INSERT INTO report_facts (received_us, referral_id, facts) VALUES (?1, ?2, ?3)");
  FRONTDOOR_RETURN_IF_ERROR(referrals.status());
  FRONTDOOR_RETURN_IF_ERROR(feedback.status());
  FRONTDOOR_RETURN_IF_ERROR(insert.status());
  int rc;
  std::vector<std::string> events;
  while ((rc = referrals.Step()) == SQLITE_ROW) {
    const std::string id = referrals.Text(0);
    events.clear();
    feedback.Reset();
    feedback.Bind(1, id);
    int frc;
    while ((frc = feedback.Step()) == SQLITE_ROW) events.push_back(feedback.Blob(0));
    if (frc != SQLITE_DONE) return SqliteError(db, frc, "read feedback for report facts");
    FRONTDOOR_ASSIGN_OR_RETURN(
        frontdoor::internal::ReportFacts facts,
        gateway::FactsOfRecordedReferral(id, referrals.Text(2), store_rows::FromMicros(referrals.Int(1)),
                                         referrals.BlobView(3), referrals.BlobView(4), events));
    insert.Reset();
    insert.Bind(1, referrals.Int(1));
    insert.Bind(2, id);
    insert.BindBlob(3, facts.SerializeAsString());
    if (int irc = insert.Step(); irc != SQLITE_DONE) return SqliteError(db, irc, "insert report facts");
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "read referrals for report facts");
  return absl::OkStatus();
}

// Forward migrations; entry i takes the schema from version i to i + 1: its SQL, then its fill
// (rows computed in C++ from what is recorded), if any. Never edit a released entry: add a new one.
struct Migration {
  const char* sql;
  absl::Status (*fill)(sqlite3* db) = nullptr;
};
constexpr Migration kMigrations[] = {
    // 0 -> 1: referrals and the delivery outbox.
    {R"sql(
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
  kind             TEXT NOT NULL,             -- deliver | cease | feedback
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
)sql"},
    // 1 -> 2
    {kAuditAndWithdrawalSchema},
    // 2 -> 3
    {kDeadLettersAndFeedbackSql},
    // 3 -> 4
    {kPartialOutboxIndexesSql},
    // 4 -> 5
    {kFewerPagesPerCommitSql},
    // 5 -> 6
    {kContentFingerprintSql},
    // 6 -> 7
    {kReportFactsSql, FillReportFacts},
};

absl::StatusOr<int> UserVersion(sqlite3* db) {
  Statement st(db, "PRAGMA user_version");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  if (st.Step() != SQLITE_ROW) return absl::InternalError("PRAGMA user_version returned no row");
  return static_cast<int>(st.Int(0));
}

static_assert(std::size(kMigrations) == kSchemaVersion);

}  // namespace

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
    absl::Status s = Exec(db, kMigrations[v].sql);
    if (s.ok() && kMigrations[v].fill != nullptr) s = kMigrations[v].fill(db);
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

}  // namespace frontdoor::gateway::sqlite
