#include "gateway/store/postgres/postgres_schema.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace frontdoor::gateway::pg {

namespace {

// Forward migrations; entry i takes the schema from version i to i + 1. Never edit a released
// entry: add a new one. Times are microseconds since the Unix epoch (as in the SQLite store), so
// both stores compare the times the gateway passes in, never the database server's clock.
constexpr const char* kMigrations[] = {
    // 0 -> 1: everything of SQLite schema 3, plus outbox leases and the two counters that
    // serialise audit appends and feedback sequence numbers across replicas.
    R"sql(
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
)sql",
    // 1 -> 2: what makes a resend a resend (SQLite schema 6): the message's content fingerprint.
    R"sql(
ALTER TABLE referrals ADD COLUMN content_fingerprint TEXT;
)sql",
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
      absl::Status s = c.Run(kMigrations[next], absl::StrCat("migrate schema to version ", next + 1));
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
