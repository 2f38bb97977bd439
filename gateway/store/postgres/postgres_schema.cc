#include "gateway/store/postgres/postgres_schema.h"

#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gateway/store/report_fact_rows.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway::pg {

namespace {

// The report facts of every referral recorded before report_facts existed (schema 3), from its
// decision, its referral and its feedback events in the order they were recorded; a thousand
// referrals at a time, so that a large database is never read into memory whole.
absl::Status FillReportFacts(Connection& c) {
  std::string after;
  for (;;) {
    FRONTDOOR_ASSIGN_OR_RETURN(Result referrals,
                               c.Exec("SELECT referral_id, received_us, sender_ods, decision, referral FROM referrals"
                                      " WHERE referral_id > $1 ORDER BY referral_id LIMIT 1000",
                                      Params().Text(after), "read referrals for report facts"));
    if (referrals.rows() == 0) return absl::OkStatus();
    after = referrals.Text(referrals.rows() - 1, 0);
    FRONTDOOR_ASSIGN_OR_RETURN(
        Result feedback, c.Exec("SELECT referral_id, report FROM feedback_events"
                                " WHERE referral_id >= $1 AND referral_id <= $2 ORDER BY seq",
                                Params().Text(referrals.Text(0, 0)).Text(after), "read feedback for report facts"));
    std::map<std::string, std::vector<std::string>> events;  // referral_id -> its events, in order
    for (int i = 0; i < feedback.rows(); ++i) events[feedback.Text(i, 0)].push_back(feedback.Bytes(i, 1));
    for (int i = 0; i < referrals.rows(); ++i) {
      const std::string id = referrals.Text(i, 0);
      FRONTDOOR_ASSIGN_OR_RETURN(
          frontdoor::internal::ReportFacts facts,
          gateway::FactsOfRecordedReferral(id, referrals.Text(i, 2), store_rows::FromMicros(referrals.Int(i, 1)),
                                           referrals.Bytes(i, 3), referrals.Bytes(i, 4), events[id]));
      FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO report_facts (received_us, referral_id, facts) VALUES ($1, $2, $3)",
                                       Params().Int(referrals.Int(i, 1)).Text(id).Bytes(facts.SerializeAsString()),
                                       "insert report facts")
                                    .status());
    }
  }
}

// Forward migrations; entry i takes the schema from version i to i + 1: its SQL, then its fill
// (rows computed in C++ from what is recorded), if any. Never edit a released entry: add a new
// one. Times are microseconds since the Unix epoch (as in the SQLite store), so both stores compare
// the times the gateway passes in, never the database server's clock.
struct Migration {
  const char* sql;
  absl::Status (*fill)(Connection& c) = nullptr;
};
const Migration kMigrations[] = {
    // 0 -> 1: everything of SQLite schema 3, plus outbox leases and the two counters that
    // serialise audit appends and feedback sequence numbers across replicas.
    {R"sql(
CREATE TABLE referrals (
  referral_id   TEXT PRIMARY KEY,
  sender_ods    TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  format        TEXT NOT NULL,
  received_us   BIGINT NOT NULL,
  disposition   INTEGER NOT NULL,
  connector_id  TEXT NOT NULL,
  endpoint_id   TEXT NOT NULL,
  decision      BYTEA NOT NULL,   -- frontdoor.v1.SubmitReferralResponse
  referral      BYTEA NOT NULL,   -- frontdoor.v1.Referral, the casework record
  UNIQUE (sender_ods, message_id)
);
CREATE TABLE outbox (
  outbox_id        BIGSERIAL PRIMARY KEY,
  referral_id      TEXT NOT NULL REFERENCES referrals(referral_id),
  endpoint_id      TEXT NOT NULL,
  kind             TEXT NOT NULL,             -- deliver | cease | feedback
  idempotency_key  TEXT NOT NULL UNIQUE,
  payload          BYTEA NOT NULL,            -- DeliverReferralRequest | CeaseProcessingRequest
  state            TEXT NOT NULL,             -- pending | delivered | cancelled | dead
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_us  BIGINT NOT NULL,
  last_error       TEXT NOT NULL DEFAULT '',
  created_us       BIGINT NOT NULL,
  delivered_us     BIGINT,
  dead_us          BIGINT,
  replayed_us      BIGINT,
  replay_base      INTEGER NOT NULL DEFAULT 0,
  lease_owner      TEXT,                      -- the replica sending it now
  lease_until_us   BIGINT                     -- until when; then any replica may claim it
);
CREATE INDEX outbox_due ON outbox (endpoint_id, state, next_attempt_us, outbox_id);
CREATE INDEX outbox_by_referral ON outbox (referral_id, outbox_id);
CREATE INDEX outbox_dead ON outbox (state, endpoint_id, outbox_id);
-- One row: the next audit leaf index. Every transaction that appends to the audit log locks it
-- first, so indexes are contiguous and commit in order across replicas.
CREATE TABLE audit_head (
  only_row    BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
  next_index  BIGINT NOT NULL
);
INSERT INTO audit_head (only_row, next_index) VALUES (TRUE, 0);
CREATE TABLE audit_log (
  leaf_index          BIGINT PRIMARY KEY,
  leaf_hash           TEXT NOT NULL,
  time_us             BIGINT NOT NULL,
  record              BYTEA,                -- frontdoor.v1.AuditRecord; NULL once pruned
  referral_id         TEXT NOT NULL DEFAULT '',
  nhs_number          TEXT NOT NULL DEFAULT '',
  recipient_endpoint  TEXT NOT NULL DEFAULT '',
  referrer_ods        TEXT NOT NULL DEFAULT '',
  outcome             TEXT NOT NULL DEFAULT '',
  rule_ids            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_nhs ON audit_log (nhs_number, leaf_index);
CREATE INDEX audit_by_time ON audit_log (time_us);
CREATE TABLE audit_checkpoints (
  tree_size   BIGINT PRIMARY KEY,
  checkpoint  BYTEA NOT NULL
);
CREATE TABLE audit_context (
  referral_id        TEXT PRIMARY KEY REFERENCES referrals(referral_id),
  nhs_number         TEXT NOT NULL,
  consent_reference  TEXT NOT NULL,
  referrer_ods       TEXT NOT NULL,
  rule_ids           TEXT NOT NULL
);
CREATE TABLE cancellations (
  referral_id   TEXT PRIMARY KEY REFERENCES referrals(referral_id),
  reason        INTEGER NOT NULL,
  cancelled_us  BIGINT NOT NULL,
  actor         TEXT NOT NULL,
  response      BYTEA NOT NULL
);
-- One row: the next feedback sequence number, handed out under the audit_head lock.
CREATE TABLE feedback_head (
  only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
  next_seq  BIGINT NOT NULL
);
INSERT INTO feedback_head (only_row, next_seq) VALUES (TRUE, 1);
CREATE TABLE feedback_events (
  seq              BIGINT PRIMARY KEY,
  referral_id      TEXT NOT NULL REFERENCES referrals(referral_id),
  sender_ods       TEXT NOT NULL,
  endpoint_id      TEXT NOT NULL,
  idempotency_key  TEXT NOT NULL,
  status           INTEGER NOT NULL,
  report           BYTEA NOT NULL,
  recorded_us      BIGINT NOT NULL,
  UNIQUE (endpoint_id, idempotency_key)
);
CREATE INDEX feedback_by_sender ON feedback_events (sender_ods, seq);
CREATE INDEX feedback_by_referral ON feedback_events (referral_id, seq);
)sql"},
    // 1 -> 2: what makes a resend a resend (SQLite schema 6): the message's content fingerprint.
    {R"sql(
ALTER TABLE referrals ADD COLUMN content_fingerprint TEXT;
)sql"},
    // 2 -> 3: what outcome reports read (SQLite schema 7): one narrow row per referral, written
    // with it and updated with each feedback event in their transactions, and one per rejected
    // message (key "rejected:" and a fresh id), keyed by time. Rows
    // arrive in time order, so a report's index scan reads the table in its physical order; the
    // free quarter of each page lets a feedback update stay on its row's page (a HOT update: the
    // key does not change), keeping that order and the index untouched.
    {R"sql(
CREATE TABLE report_facts (
  received_us  BIGINT NOT NULL,
  referral_id  TEXT NOT NULL,               -- the referral's id, or rejected:<uuid>
  facts        BYTEA NOT NULL,              -- frontdoor.internal.ReportFacts
  PRIMARY KEY (received_us, referral_id)
) WITH (fillfactor = 75);
)sql",
     FillReportFacts},
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// pg_advisory_lock key held while migrating ("frontdoo").
constexpr char kMigrationLockKey[] = "7381728012658405231";

}  // namespace

absl::Status Migrate(Connection& c, int* version_out) {
  // Session-level advisory lock: replicas starting together migrate one after the other.
  FRONTDOOR_RETURN_IF_ERROR(
      c.Run(absl::StrCat("SELECT pg_advisory_lock(", kMigrationLockKey, ")").c_str(), "lock for migration"));
  auto migrate = [&]() -> absl::Status {
    FRONTDOOR_RETURN_IF_ERROR(
        c.Run("CREATE TABLE IF NOT EXISTS schema_migrations ("
              " version INTEGER PRIMARY KEY,"
              " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
              "create schema_migrations"));
    FRONTDOOR_ASSIGN_OR_RETURN(
        Result v, c.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", Params(), "read schema version"));
    const int current = static_cast<int>(v.Int(0, 0));
    constexpr int kLatest = static_cast<int>(std::size(kMigrations));
    if (current > kLatest) {
      return absl::FailedPreconditionError(absl::StrCat("database schema version ", current,
                                                        " is newer than this gateway understands (", kLatest,
                                                        "); run a newer frontdoor-gateway"));
    }
    for (int next = current; next < kLatest; ++next) {
      FRONTDOOR_RETURN_IF_ERROR(c.Run("BEGIN", "begin migration"));
      absl::Status s = c.Run(kMigrations[next].sql, absl::StrCat("migrate schema to version ", next + 1));
      if (s.ok() && kMigrations[next].fill != nullptr) s = kMigrations[next].fill(c);
      if (s.ok()) {
        s = c.Exec("INSERT INTO schema_migrations (version) VALUES ($1)", Params().Int(next + 1), "record migration")
                .status();
      }
      if (s.ok()) s = c.Run("COMMIT", "commit migration");
      if (!s.ok()) {
        (void)c.Run("ROLLBACK", "roll back migration");
        return s;
      }
    }
    *version_out = kLatest;
    return absl::OkStatus();
  };
  absl::Status s = migrate();
  (void)c.Run(absl::StrCat("SELECT pg_advisory_unlock(", kMigrationLockKey, ")").c_str(), "unlock migration");
  return s;
}

}  // namespace frontdoor::gateway::pg
