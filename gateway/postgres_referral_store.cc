#include "gateway/postgres_referral_store.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "audit/audit_record.h"
#include "audit/search_columns.h"
#include "common/status_macros.h"
#include "gateway/audit_search.h"
#include "gateway/store_rows.h"

namespace frontdoor::gateway {

using store_rows::AuditTimeText;
using store_rows::CancelReasonText;
using store_rows::FromMicros;
using store_rows::ParseRecord;
using store_rows::ToMicros;

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
  kind             TEXT NOT NULL,             -- deliver | cease
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
static_assert(std::size(kMigrations) == PostgresReferralStore::kSchemaVersion);

// pg_advisory_lock key held while migrating ("frontdoo").
constexpr char kMigrationLockKey[] = "7381728012658405231";

constexpr unsigned kTextOid = 25;
constexpr unsigned kByteaOid = 17;
constexpr unsigned kInt8Oid = 20;

// PostgreSQL text cannot hold a NUL byte (SQLite's can): it becomes U+FFFD, so that free text from
// outside (a connector's error message, a consent id) is stored rather than failing a whole group
// commit. Keys and ids are validated printable text before they get here.
std::string WithoutNul(std::string_view v) {
  if (v.find('\0') == std::string_view::npos) return std::string(v);
  std::string out;
  out.reserve(v.size() + 8);
  for (char c : v) {
    if (c == '\0') {
      out += "\xEF\xBF\xBD";
    } else {
      out += c;
    }
  }
  return out;
}

// Query parameters, always typed. Text and bytea go in binary format (with their length, so a
// value is never cut at a NUL byte); integers as decimal text.
class Params {
 public:
  Params& Text(std::string_view v) { return Add(WithoutNul(v), kTextOid, 1); }
  Params& Bytes(std::string v) { return Add(std::move(v), kByteaOid, 1); }
  Params& Int(int64_t v) { return Add(std::to_string(v), kInt8Oid, 0); }
  Params& NullInt() {
    values_.emplace_back();
    types_.push_back(kInt8Oid);
    formats_.push_back(0);
    nulls_.push_back(true);
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }

  // Pointers into this object: valid while it lives and is not changed.
  struct View {
    std::vector<const char*> values;
    std::vector<int> lengths;
  };
  View Pointers() const {
    View v;
    for (size_t i = 0; i < values_.size(); ++i) {
      v.values.push_back(nulls_[i] ? nullptr : values_[i].data());
      v.lengths.push_back(static_cast<int>(values_[i].size()));
    }
    return v;
  }
  const unsigned* types() const { return reinterpret_cast<const unsigned*>(types_.data()); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& Add(std::string v, unsigned type, int format) {
    values_.push_back(std::move(v));
    types_.push_back(type);
    formats_.push_back(format);
    nulls_.push_back(false);
    return *this;
  }
  std::vector<std::string> values_;
  std::vector<unsigned> types_;
  std::vector<int> formats_;
  std::vector<bool> nulls_;
};

// A result in text format.
class Result {
 public:
  explicit Result(PGresult* res) : res_(res, &PQclear) {}
  int rows() const { return PQntuples(res_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(res_.get(), row, col), PQgetlength(res_.get(), row, col));
  }
  int64_t Int(int row, int col) const { return std::strtoll(PQgetvalue(res_.get(), row, col), nullptr, 10); }
  std::string Bytes(int row, int col) const {
    size_t n = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(res_.get(), row, col)), &n);
    if (raw == nullptr) return std::string();
    std::string out(reinterpret_cast<const char*>(raw), n);
    PQfreemem(raw);
    return out;
  }
  int64_t Affected() const {
    const char* n = PQcmdTuples(res_.get());
    return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
  }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> res_;
};

// Retrying the transaction may succeed: serialization failures and deadlocks.
bool IsRetryableConflict(const std::string& sqlstate) { return sqlstate == "40001" || sqlstate == "40P01"; }

absl::Status StatusFor(PGconn* conn, const PGresult* res, std::string_view what, std::string* sqlstate_out) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  if (sqlstate_out != nullptr) *sqlstate_out = sqlstate;
  // The primary message only: DETAIL lines may quote values (a duplicate key, say).
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? primary : (conn != nullptr ? PQerrorMessage(conn) : "no connection");
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const std::string text = absl::StrCat(std::string(what), ": ", message, sqlstate.empty() ? "" : " (SQLSTATE ",
                                        sqlstate, sqlstate.empty() ? "" : ")");
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK || sqlstate.empty()) return absl::UnavailableError(text);
  const std::string cls = sqlstate.substr(0, 2);
  // Connection trouble, resources, operator intervention, conflicts, lock timeouts: retry later.
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58" || IsRetryableConflict(sqlstate) ||
      sqlstate == "55P03") {
    return absl::UnavailableError(text);
  }
  if (cls == "22") return absl::InvalidArgumentError(text);  // data exception: a value the database refuses
  return absl::InternalError(text);
}

// Per-session settings, on every new or reset connection. A replica that stalls inside a
// transaction (holding the audit head lock every writer needs) is cut off by the server after a
// minute, and a writer waits at most half a minute for a lock before answering UNAVAILABLE.
bool PrepareSession(PGconn* conn) {
  PGresult* res = PQexec(conn,
                         "SET synchronous_commit = on; SET client_min_messages = warning;"
                         " SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'");
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  return ok;
}

// A statement that may simply be sent again when the connection turned out to be broken before
// it ran: it reads, or opens a transaction. (A write outside a transaction is not repeated: it may
// have committed before the connection broke.)
bool SafeToRepeat(const char* sql) { return std::strncmp(sql, "SELECT", 6) == 0 || std::strncmp(sql, "BEGIN", 5) == 0; }

// One connection, used by one thread at a time.
class Connection {
 public:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  PGconn* raw() const { return conn_; }
  const std::string& last_sqlstate() const { return last_sqlstate_; }

  // A broken connection (the server restarted, a failover, an administrator ended the session)
  // is reset and a read or BEGIN sent again once; anything else fails UNAVAILABLE and the pool
  // resets the connection before its next use.
  absl::StatusOr<Result> Exec(const char* sql, const Params& params, std::string_view what) {
    const bool outside_transaction = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    absl::StatusOr<Result> r = ExecOnce(sql, params, what);
    if (!r.ok() && outside_transaction && PQstatus(conn_) != CONNECTION_OK && SafeToRepeat(sql)) {
      PQreset(conn_);
      if (PQstatus(conn_) == CONNECTION_OK && PrepareSession(conn_)) r = ExecOnce(sql, params, what);
    }
    return r;
  }
  absl::StatusOr<Result> Exec(const std::string& sql, const Params& params, std::string_view what) {
    return Exec(sql.c_str(), params, what);
  }
  // Statements without parameters (may be several; used for schema and transaction control).
  absl::Status Run(const char* sql, std::string_view what) {
    if (SafeToRepeat(sql)) return Exec(sql, Params(), what).status();
    return Check(PQexec(conn_, sql), what).status();
  }

 private:
  absl::StatusOr<Result> ExecOnce(const char* sql, const Params& params, std::string_view what) {
    const Params::View v = params.Pointers();
    PGresult* res = PQexecParams(conn_, sql, params.size(), params.types(), v.values.data(), v.lengths.data(),
                                 params.formats(), /*resultFormat=*/0);
    return Check(res, what);
  }
  absl::StatusOr<Result> Check(PGresult* res, std::string_view what) {
    const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      last_sqlstate_.clear();
      return Result(res);
    }
    absl::Status s = StatusFor(conn_, res, what, &last_sqlstate_);
    PQclear(res);
    return s;
  }

  PGconn* conn_;
  std::string last_sqlstate_;
};

}  // namespace

// A fixed set of connections. Acquire waits for a free one and resets it if it broke.
class PostgresConnectionPool {
 public:
  class Lease {
   public:
    Lease(PostgresConnectionPool* pool, Connection* conn) : pool_(pool), conn_(conn) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::exchange(other.conn_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(conn_);
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_; }

   private:
    PostgresConnectionPool* pool_;
    Connection* conn_;
  };

  static absl::StatusOr<std::unique_ptr<PostgresConnectionPool>> Connect(const std::string& conninfo, int size) {
    // Parse first: a malformed string is the operator's mistake, not an outage.
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
    if (parsed == nullptr) {
      std::string why = parse_error != nullptr ? parse_error : "out of memory";
      PQfreemem(parse_error);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return absl::InvalidArgumentError(absl::StrCat("the PostgreSQL conninfo does not parse: ", why));
    }
    PQconninfoFree(parsed);
    auto pool = std::unique_ptr<PostgresConnectionPool>(new PostgresConnectionPool(conninfo));
    for (int i = 0; i < std::max(1, size); ++i) {
      FRONTDOOR_ASSIGN_OR_RETURN(PGconn * conn, pool->NewConnection());
      pool->all_.push_back(std::make_unique<Connection>(conn));
      pool->idle_.push_back(pool->all_.back().get());
    }
    return pool;
  }

  ~PostgresConnectionPool() {
    for (auto& c : all_) PQfinish(c->raw());
  }

  absl::StatusOr<Lease> Acquire() {
    Connection* conn = nullptr;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](std::vector<Connection*>* idle) { return !idle->empty(); }, &idle_));
      conn = idle_.back();
      idle_.pop_back();
    }
    Lease lease(this, conn);
    if (PQstatus(conn->raw()) != CONNECTION_OK || PQtransactionStatus(conn->raw()) == PQTRANS_UNKNOWN) {
      PQreset(conn->raw());
      if (PQstatus(conn->raw()) != CONNECTION_OK) {
        return absl::UnavailableError(absl::StrCat("cannot reconnect to PostgreSQL: ", ErrorText(conn->raw())));
      }
      if (!PrepareSession(conn->raw())) {
        return absl::UnavailableError(absl::StrCat("cannot configure a PostgreSQL session: ", ErrorText(conn->raw())));
      }
    }
    // A transaction left open by a failure is rolled back before anyone else uses the connection.
    if (PQtransactionStatus(conn->raw()) != PQTRANS_IDLE) {
      (void)conn->Run("ROLLBACK", "roll back");
    }
    return lease;
  }

 private:
  explicit PostgresConnectionPool(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  static std::string ErrorText(PGconn* conn) {
    std::string m = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return m;
  }

  absl::StatusOr<PGconn*> NewConnection() {
    // expand_dbname: `dbname` holds the whole conninfo, whose settings override the defaults
    // before it; keywords it leaves out come from the PG* environment variables.
    const char* keys[] = {"application_name", "connect_timeout", "keepalives_idle", "dbname", nullptr};
    const char* values[] = {"frontdoor-gateway", "10", "30", conninfo_.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      absl::Status s = absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", ErrorText(conn)));
      PQfinish(conn);
      return s;
    }
    if (!PrepareSession(conn)) {
      absl::Status s = absl::UnavailableError(absl::StrCat("cannot configure a PostgreSQL session: ", ErrorText(conn)));
      PQfinish(conn);
      return s;
    }
    return conn;
  }

  void Release(Connection* conn) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(conn);
  }

  const std::string conninfo_;
  std::vector<std::unique_ptr<Connection>> all_;
  absl::Mutex mu_;
  std::vector<Connection*> idle_ ABSL_GUARDED_BY(mu_);
};

namespace {

using Lease = PostgresConnectionPool::Lease;

// Runs `body` in one transaction on one pooled connection; COMMIT when it returns OK, ROLLBACK
// otherwise. A deadlock or serialization failure is retried (body must start from scratch each
// time). A body that wants to answer without writing returns OK after setting `*rollback`.
absl::Status InTransaction(PostgresConnectionPool* pool,
                           const std::function<absl::Status(Connection&, bool* rollback)>& body) {
  for (int attempt = 0;; ++attempt) {
    FRONTDOOR_ASSIGN_OR_RETURN(Lease conn, pool->Acquire());
    absl::Status s = conn->Run("BEGIN", "begin");
    bool rollback = false;
    if (s.ok()) s = body(*conn, &rollback);
    if (s.ok() && !rollback) {
      s = conn->Run("COMMIT", "commit");
      if (s.ok()) return s;
    } else if (s.ok()) {
      return conn->Run("ROLLBACK", "roll back");
    }
    const bool retry = IsRetryableConflict(conn->last_sqlstate()) && attempt < 4;
    if (PQtransactionStatus(conn->raw()) != PQTRANS_IDLE) (void)conn->Run("ROLLBACK", "roll back");
    if (!retry) return s;
  }
}

// Locks the audit log's head row: the first statement of every transaction that appends to the
// audit log (or records feedback), so such transactions take their locks in one order.
absl::Status LockAuditHead(Connection& c) {
  return c.Exec("SELECT next_index FROM audit_head FOR UPDATE", Params(), "lock audit head").status();
}

// Inside a transaction holding the audit head lock: appends `records` at the next indexes.
absl::Status AppendAuditLocked(Connection& c, std::vector<frontdoor::v1::AuditRecord>* records) {
  if (records->empty()) return absl::OkStatus();
  const int64_t n = static_cast<int64_t>(records->size());
  FRONTDOOR_ASSIGN_OR_RETURN(Result head,
                             c.Exec("UPDATE audit_head SET next_index = next_index + $1 RETURNING next_index - $1",
                                    Params().Int(n), "next audit index"));
  if (head.rows() != 1) return absl::InternalError("the audit head row is missing");
  int64_t index = head.Int(0, 0);
  for (frontdoor::v1::AuditRecord& r : *records) {
    r.set_index(static_cast<uint64_t>(index));
    r.clear_leaf_hash_hex();
    r.set_pruned(false);
    FRONTDOOR_ASSIGN_OR_RETURN(const audit::AuditSearchColumns columns, audit::SearchColumnsOf(r));
    const std::string leaf_hash = audit::ToHex(audit::RecordLeafHash(r));
    Params p;
    p.Int(index)
        .Text(leaf_hash)
        .Int(columns.time_us)
        .Bytes(r.SerializeAsString())
        .Text(columns.referral_id)
        .Text(columns.nhs_number)
        .Text(columns.recipient_endpoint)
        .Text(columns.referrer_ods)
        .Text(columns.outcome)
        .Text(columns.rule_ids);
    FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO audit_log (leaf_index, leaf_hash, time_us, record, referral_id,"
                                     " nhs_number, recipient_endpoint, referrer_ods, outcome, rule_ids)"
                                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                                     p, "append audit record")
                                  .status());
    r.set_leaf_hash_hex(leaf_hash);
    ++index;
  }
  return absl::OkStatus();
}

// Copies the referral's audit context into `record` (who it is about, consent, referrer, rules).
absl::Status FillFromContext(Connection& c, const std::string& referral_id, frontdoor::v1::AuditRecord* record) {
  FRONTDOOR_ASSIGN_OR_RETURN(Result r, c.Exec("SELECT nhs_number, consent_reference, referrer_ods, rule_ids"
                                              " FROM audit_context WHERE referral_id = $1",
                                              Params().Text(referral_id), "read audit context"));
  if (r.rows() == 0) return absl::OkStatus();
  store_rows::CiteContext(ReferralAuditContext{r.Text(0, 0), r.Text(0, 1), r.Text(0, 2), r.Text(0, 3)}, record);
  return absl::OkStatus();
}

absl::Status RecordDecisionAudit(Connection& c, const std::string& referral_id, const std::string& sender_ods,
                                 std::vector<frontdoor::v1::AuditRecord> records) {
  if (records.empty()) return absl::OkStatus();
  const frontdoor::v1::AuditRecord& decision = records.front();
  Params p;
  p.Text(referral_id)
      .Text(decision.nhs_number())
      .Text(decision.consent_reference())
      .Text(sender_ods)
      .Text(absl::StrJoin(decision.rule_ids(), ","));
  FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO audit_context (referral_id, nhs_number, consent_reference,"
                                   " referrer_ods, rule_ids) VALUES ($1, $2, $3, $4, $5)",
                                   p, "insert audit context")
                                .status());
  return AppendAuditLocked(c, &records);
}

// An acknowledged outbox row's referral, endpoint, kind and audit context (none: recorded before
// the audit log existed, and the record cites nothing).
absl::StatusOr<OutboxItem> ReadAcknowledgedRow(Connection& c, int64_t outbox_id) {
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c.Exec("SELECT o.referral_id, o.endpoint_id, o.kind, c.nhs_number, c.consent_reference,"
                                    " c.referrer_ods, c.rule_ids FROM outbox o LEFT JOIN audit_context c"
                                    " ON c.referral_id = o.referral_id WHERE o.outbox_id = $1",
                                    Params().Int(outbox_id), "read acknowledged outbox row"));
  if (r.rows() != 1) return absl::InternalError("the acknowledged outbox row is missing");
  OutboxItem row;
  row.outbox_id = outbox_id;
  row.referral_id = r.Text(0, 0);
  row.endpoint_id = r.Text(0, 1);
  row.kind = r.Text(0, 2) == "cease" ? OutboxKind::kCease : OutboxKind::kDeliver;
  row.audit_context = ReferralAuditContext{r.Text(0, 3), r.Text(0, 4), r.Text(0, 5), r.Text(0, 6)};
  return row;
}

absl::Status ReadCancellation(Connection& c, StoredReferral* out) {
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c.Exec("SELECT c.reason, c.cancelled_us,"
                       " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'cease'"
                       "  ORDER BY outbox_id LIMIT 1),"
                       " (SELECT state FROM outbox o WHERE o.referral_id = c.referral_id AND o.kind = 'deliver'"
                       "  ORDER BY outbox_id LIMIT 1)"
                       " FROM cancellations c WHERE c.referral_id = $1",
                       Params().Text(out->referral_id), "read cancellation"));
  if (r.rows() == 0) return absl::OkStatus();
  out->cancel_reason = static_cast<frontdoor::v1::CancelReason>(r.Int(0, 0));
  out->cancelled_at = FromMicros(r.Int(0, 1));
  out->cease_processing_sent = !r.IsNull(0, 2);
  out->cease_processing_acknowledged = r.Text(0, 2) == "delivered";
  if (r.Text(0, 3) == "cancelled") out->delivery_state = frontdoor::v1::DELIVERY_CANCELLED;
  return absl::OkStatus();
}

frontdoor::v1::DeliveryState StateFor(const frontdoor::v1::SubmitReferralResponse& decision, bool has_outbox,
                                      bool delivered) {
  if (decision.disposition() != frontdoor::v1::ACCEPTED) return frontdoor::v1::NOT_FOR_DELIVERY;
  if (!has_outbox) return frontdoor::v1::DELIVERY_PENDING;
  return delivered ? frontdoor::v1::DELIVERED : frontdoor::v1::DELIVERY_PENDING;
}

// " AND <column> = $n" clauses for a DeadLetterFilter, appended to `params`.
std::string DeadLetterWhere(const DeadLetterFilter& filter, Params* params) {
  std::string where;
  if (!filter.referral_id.empty()) {
    params->Text(filter.referral_id);
    absl::StrAppend(&where, " AND referral_id = $", params->size());
  }
  if (!filter.endpoint_id.empty()) {
    params->Text(filter.endpoint_id);
    absl::StrAppend(&where, " AND endpoint_id = $", params->size());
  }
  if (!filter.outbox_ids.empty()) {
    absl::StrAppend(&where, " AND outbox_id IN (");
    for (size_t i = 0; i < filter.outbox_ids.size(); ++i) {
      params->Int(filter.outbox_ids[i]);
      absl::StrAppend(&where, i == 0 ? "" : ", ", "$", params->size());
    }
    absl::StrAppend(&where, ")");
  }
  return where;
}

constexpr char kFeedbackColumns[] =
    "SELECT f.seq, f.referral_id, f.sender_ods, f.endpoint_id, r.connector_id, r.message_id, r.format,"
    " r.referral, f.report, f.recorded_us FROM feedback_events f JOIN referrals r ON r.referral_id = f.referral_id ";

absl::StatusOr<std::vector<StoredFeedback>> ReadFeedbackRows(const Result& r) {
  std::vector<StoredFeedback> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    StoredFeedback f;
    f.seq = r.Int(i, 0);
    f.referral_id = r.Text(i, 1);
    f.sender_ods = r.Text(i, 2);
    f.endpoint_id = r.Text(i, 3);
    f.team_id = r.Text(i, 4);
    f.message_id = r.Text(i, 5);
    f.format = r.Text(i, 6);
    frontdoor::v1::Referral referral;
    if (!referral.ParseFromString(r.Bytes(i, 7)) || !f.report.ParseFromString(r.Bytes(i, 8))) {
      return absl::InternalError(absl::StrCat("feedback event ", f.seq, " does not parse"));
    }
    f.nhs_number = referral.person().nhs_number();
    f.referrer_reference = referral.referrer_reference();
    f.recorded_at = FromMicros(r.Int(i, 9));
    out.push_back(std::move(f));
  }
  return out;
}

std::string DefaultReplicaId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "frontdoor", "-", getpid());
}

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

}  // namespace

std::string RedactConninfo(const std::string& conninfo) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return "(a conninfo that does not parse)";
  std::vector<std::string> parts;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || o->val[0] == '\0') continue;
    const std::string key = o->keyword;
    parts.push_back(absl::StrCat(key, "=", key == "password" ? std::string("***") : std::string(o->val)));
  }
  PQconninfoFree(options);
  return parts.empty() ? "(from the PG* environment)" : absl::StrJoin(parts, " ");
}

absl::StatusOr<std::unique_ptr<PostgresReferralStore>> PostgresReferralStore::Open(
    const PostgresStoreOptions& options) {
  if (options.outbox_lease <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the outbox lease must be positive");
  }
  FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<PostgresConnectionPool> pool,
                             PostgresConnectionPool::Connect(options.conninfo, std::max(1, options.pool_size)));
  int version = 0;
  {
    FRONTDOOR_ASSIGN_OR_RETURN(Lease conn, pool->Acquire());
    FRONTDOOR_RETURN_IF_ERROR(Migrate(*conn, &version));
  }
  std::string replica = options.replica_id.empty() ? DefaultReplicaId() : options.replica_id;
  return std::unique_ptr<PostgresReferralStore>(
      new PostgresReferralStore(std::move(pool), std::move(replica), options.outbox_lease, version));
}

PostgresReferralStore::PostgresReferralStore(std::unique_ptr<PostgresConnectionPool> pool, std::string replica_id,
                                             absl::Duration outbox_lease, int schema_version)
    : pool_(std::move(pool)),
      replica_id_(std::move(replica_id)),
      outbox_lease_(outbox_lease),
      schema_version_(schema_version) {}

PostgresReferralStore::~PostgresReferralStore() = default;

absl::StatusOr<std::vector<RecordOutcome>> PostgresReferralStore::RecordReferrals(std::vector<NewReferral> batch) {
  std::vector<RecordOutcome> outcomes;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    outcomes.clear();
    outcomes.reserve(batch.size());
    // The audit head first: referral transactions of all replicas then queue in one order, so a
    // duplicate's unique-index wait can never deadlock against the audit lock.
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    for (const NewReferral& r : batch) {
      Params p;
      p.Text(r.referral_id)
          .Text(r.sender_ods)
          .Text(r.message_id)
          .Text(r.format)
          .Int(ToMicros(r.received_at))
          .Int(static_cast<int64_t>(r.decision.disposition()))
          .Text(r.decision.connector_id())
          .Text(r.decision.endpoint_id())
          .Bytes(r.decision.SerializeAsString())
          .Bytes(r.referral.SerializeAsString())
          .Text(r.content_fingerprint);
      FRONTDOOR_ASSIGN_OR_RETURN(
          Result inserted,
          c.Exec("INSERT INTO referrals (referral_id, sender_ods, message_id, format, received_us, disposition,"
                 " connector_id, endpoint_id, decision, referral, content_fingerprint)"
                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                 " ON CONFLICT (sender_ods, message_id) DO NOTHING",
                 p, "insert referral"));
      if (inserted.Affected() == 0) {
        // Recorded before (by any replica, or earlier in this batch): a resend, or a reused id.
        FRONTDOOR_ASSIGN_OR_RETURN(
            Result first, c.Exec("SELECT decision, COALESCE(content_fingerprint, ''), received_us FROM referrals"
                                 " WHERE sender_ods = $1 AND message_id = $2",
                                 Params().Text(r.sender_ods).Text(r.message_id), "look up duplicate"));
        if (first.rows() != 1) return absl::InternalError("the recorded message is missing");
        FRONTDOOR_ASSIGN_OR_RETURN(
            RecordOutcome out,
            store_rows::OutcomeForRecordedId(r, first.Text(0, 1), first.Bytes(0, 0), FromMicros(first.Int(0, 2))));
        outcomes.push_back(std::move(out));
        continue;
      }
      if (r.delivery.has_value()) {
        Params o;
        o.Text(r.referral_id)
            .Text(r.delivery->endpoint_id)
            .Text(r.delivery->request.idempotency_key())
            .Bytes(r.delivery->request.SerializeAsString())
            .Int(ToMicros(r.received_at));
        FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key,"
                                         " payload, state, next_attempt_us, created_us)"
                                         " VALUES ($1, $2, 'deliver', $3, $4, 'pending', $5, $5)",
                                         o, "insert outbox row")
                                      .status());
      }
      FRONTDOOR_RETURN_IF_ERROR(RecordDecisionAudit(c, r.referral_id, r.sender_ods, r.audit));
      RecordOutcome out;
      out.decision = r.decision;
      outcomes.push_back(std::move(out));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return outcomes;
}

absl::StatusOr<std::optional<StoredReferral>> PostgresReferralStore::GetReferral(std::string_view referral_id) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec("SELECT r.referral_id, r.sender_ods, r.message_id, r.format, r.received_us, r.decision,"
                        " o.state, o.delivered_us, o.attempts, o.outbox_id"
                        " FROM referrals r LEFT JOIN outbox o ON o.referral_id = r.referral_id AND o.kind = 'deliver'"
                        " WHERE r.referral_id = $1",
                        Params().Text(referral_id), "read referral"));
  if (r.rows() == 0) return std::nullopt;
  StoredReferral out;
  out.referral_id = r.Text(0, 0);
  out.sender_ods = r.Text(0, 1);
  out.message_id = r.Text(0, 2);
  out.format = r.Text(0, 3);
  out.received_at = FromMicros(r.Int(0, 4));
  if (!out.decision.ParseFromString(r.Bytes(0, 5))) return absl::InternalError("stored decision does not parse");
  const bool has_outbox = !r.IsNull(0, 9);
  const std::string state = r.Text(0, 6);
  out.delivery_state = StateFor(out.decision, has_outbox, has_outbox && state == "delivered");
  if (has_outbox && state == "dead") out.delivery_state = frontdoor::v1::DELIVERY_FAILED;
  if (!r.IsNull(0, 7)) out.delivered_at = FromMicros(r.Int(0, 7));
  out.delivery_attempts = has_outbox ? static_cast<uint32_t>(r.Int(0, 8)) : 0;
  FRONTDOOR_RETURN_IF_ERROR(ReadCancellation(*c, &out));
  return out;
}

absl::StatusOr<std::vector<OutboxItem>> PostgresReferralStore::DueDeliveries(std::string_view endpoint_id,
                                                                             absl::Time now, int limit) {
  // Claim: rows leased by another replica are skipped until their lease expires; SKIP LOCKED
  // leaves rows another replica is claiming at this instant to it. A row behind an earlier pending
  // or dead row of its referral (even one leased elsewhere) is not due.
  Params p;
  p.Text(replica_id_).Text(endpoint_id).Int(ToMicros(now)).Int(limit).Int(absl::ToInt64Microseconds(outbox_lease_));
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("UPDATE outbox AS o SET lease_owner = $1, lease_until_us = $3 + $5"
              " WHERE o.outbox_id IN ("
              "   SELECT d.outbox_id FROM outbox AS d"
              "   WHERE d.endpoint_id = $2 AND d.state = 'pending' AND d.next_attempt_us <= $3"
              "   AND (d.lease_until_us IS NULL OR d.lease_until_us <= $3 OR d.lease_owner = $1)"
              "   AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = d.referral_id"
              "                   AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < d.outbox_id)"
              "   ORDER BY d.outbox_id LIMIT $4 FOR UPDATE SKIP LOCKED)"
              " RETURNING o.outbox_id, o.referral_id, o.attempts, o.payload, o.kind, o.created_us",
              p, "claim outbox rows"));
  std::vector<OutboxItem> items;
  items.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    OutboxItem item;
    item.outbox_id = r.Int(i, 0);
    item.referral_id = r.Text(i, 1);
    item.endpoint_id = std::string(endpoint_id);
    item.attempts = static_cast<uint32_t>(r.Int(i, 2));
    if (!r.IsNull(i, 5)) item.created_at = FromMicros(r.Int(i, 5));  // delivery latency (metrics)
    FRONTDOOR_RETURN_IF_ERROR(store_rows::SetOutboxRequest(r.Text(i, 4), r.Bytes(i, 3), &item));
    items.push_back(std::move(item));
  }
  // RETURNING has no order: oldest first, as promised.
  std::sort(items.begin(), items.end(),
            [](const OutboxItem& a, const OutboxItem& b) { return a.outbox_id < b.outbox_id; });
  return items;
}

absl::StatusOr<std::optional<absl::Time>> PostgresReferralStore::NextDeliveryDue(std::string_view endpoint_id) {
  // A row leased by another replica is due when its lease runs out (that replica may have died).
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("SELECT MIN(CASE WHEN o.lease_until_us IS NOT NULL AND o.lease_owner <> $2"
              "           THEN GREATEST(o.next_attempt_us, o.lease_until_us) ELSE o.next_attempt_us END)"
              " FROM outbox AS o WHERE o.endpoint_id = $1 AND o.state = 'pending'"
              " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = o.referral_id"
              "                 AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < o.outbox_id)",
              Params().Text(endpoint_id).Text(replica_id_), "read next due"));
  if (r.rows() != 1 || r.IsNull(0, 0)) return std::nullopt;
  return FromMicros(r.Int(0, 0));
}

absl::StatusOr<std::vector<OutboxDepth>> PostgresReferralStore::OutboxDepths() {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c->Exec("SELECT endpoint_id, COUNT(*) FILTER (WHERE state = 'pending'),"
                                     " COUNT(*) FILTER (WHERE state = 'dead') FROM outbox"
                                     " WHERE state IN ('pending', 'dead') GROUP BY endpoint_id ORDER BY endpoint_id",
                                     Params(), "read outbox depth"));
  std::vector<OutboxDepth> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(OutboxDepth{r.Text(i, 0), r.Int(i, 1), r.Int(i, 2)});
  return out;
}

absl::Status PostgresReferralStore::EnqueueCeaseProcessing(std::string_view referral_id, std::string_view endpoint_id,
                                                           const frontdoor::v1::CeaseProcessingRequest& request,
                                                           absl::Time at) {
  Params p;
  p.Text(referral_id)
      .Text(endpoint_id)
      .Text(request.idempotency_key())
      .Bytes(request.SerializeAsString())
      .Int(ToMicros(at));
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec("INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
                        " next_attempt_us, created_us)"
                        " SELECT referral_id, $2, 'cease', $3, $4, 'pending', $5, $5 FROM referrals"
                        " WHERE referral_id = $1",
                        p, "queue cease processing"));
  if (r.Affected() == 0) return absl::NotFoundError("no referral with that id");
  return absl::OkStatus();
}

absl::Status PostgresReferralStore::MarkDeliveredMany(absl::Span<const OutboxItem* const> rows, absl::Time at) {
  if (rows.empty()) return absl::OkStatus();
  return InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    // The acknowledgements and their audit records (IG-9) commit together, in one commit.
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    std::vector<frontdoor::v1::AuditRecord> records;
    for (const OutboxItem* row : rows) {
      const Params p = Params().Int(row->outbox_id).Int(ToMicros(at));
      FRONTDOOR_ASSIGN_OR_RETURN(
          Result done, c.Exec("UPDATE outbox SET state = 'delivered', delivered_us = $2, attempts = attempts + 1,"
                              " last_error = '', lease_owner = NULL, lease_until_us = NULL"
                              " WHERE outbox_id = $1 AND state = 'pending'",
                              p, "mark delivered"));
      bool withdrawn = false;
      if (done.Affected() == 0) {
        // A delivery in flight when it was withdrawn (IG-7) still reached the connector: keep its time.
        FRONTDOOR_ASSIGN_OR_RETURN(
            Result in_flight, c.Exec("UPDATE outbox SET delivered_us = $2, lease_owner = NULL, lease_until_us = NULL"
                                     " WHERE outbox_id = $1 AND state = 'cancelled' AND delivered_us IS NULL",
                                     p, "mark delivered"));
        if (in_flight.Affected() == 0) continue;  // marked before: nothing to record again
        withdrawn = true;
      }
      absl::StatusOr<OutboxItem> read;
      if (!row->audit_context.has_value()) {
        read = ReadAcknowledgedRow(c, row->outbox_id);
        if (!read.ok()) return read.status();
        row = &*read;
      }
      records.push_back(store_rows::AcknowledgementRecord(*row, withdrawn, at));
    }
    return AppendAuditLocked(c, &records);
  });
}

absl::Status PostgresReferralStore::RecordFailedAttempt(int64_t outbox_id, absl::Time next_attempt_at,
                                                        std::string_view error) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  // Not when another replica has taken the row over (this one's lease ran out): the attempt that
  // counts now is theirs.
  return c
      ->Exec(
          "UPDATE outbox SET attempts = attempts + 1, next_attempt_us = $2, last_error = $3,"
          " lease_owner = NULL, lease_until_us = NULL WHERE outbox_id = $1 AND state = 'pending'"
          " AND (lease_owner IS NULL OR lease_owner = $4)",
          Params().Int(outbox_id).Int(ToMicros(next_attempt_at)).Text(error.substr(0, 500)).Text(replica_id_),
          "record failed attempt")
      .status();
}

absl::StatusOr<CancelOutcome> PostgresReferralStore::CancelReferral(std::string_view referral_id,
                                                                    const frontdoor::v1::CeaseProcessingRequest& cease,
                                                                    const frontdoor::v1::AuditRecord& audit,
                                                                    absl::Time at) {
  const std::string id(referral_id);
  CancelOutcome out;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool* rollback) -> absl::Status {
    out = CancelOutcome();
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    FRONTDOOR_ASSIGN_OR_RETURN(Result earlier, c.Exec("SELECT response FROM cancellations WHERE referral_id = $1",
                                                      Params().Text(id), "read cancellation"));
    if (earlier.rows() > 0) {
      out.duplicate = true;
      if (!out.response.ParseFromString(earlier.Bytes(0, 0))) {
        return absl::InternalError("stored cancellation does not parse");
      }
      *rollback = true;
      return absl::OkStatus();
    }
    FRONTDOOR_ASSIGN_OR_RETURN(Result referral,
                               c.Exec("SELECT disposition, endpoint_id FROM referrals WHERE referral_id = $1",
                                      Params().Text(id), "read referral"));
    if (referral.rows() == 0) return absl::NotFoundError("no referral with that id");
    if (referral.Int(0, 0) != frontdoor::v1::ACCEPTED) {
      return absl::FailedPreconditionError(
          "that referral was not accepted, so nothing was or will be sent; there is nothing to withdraw");
    }
    const std::string endpoint_id = referral.Text(0, 1);
    frontdoor::v1::CancelReferralResponse response;
    response.set_referral_id(id);
    // A dead-lettered delivery is stopped too: otherwise the cease would wait behind it.
    FRONTDOOR_ASSIGN_OR_RETURN(Result stopped, c.Exec("UPDATE outbox SET state = 'cancelled' WHERE referral_id = $1"
                                                      " AND kind = 'deliver' AND state IN ('pending', 'dead')",
                                                      Params().Text(id), "stop pending delivery"));
    response.set_delivery_state(stopped.Affected() > 0 ? frontdoor::v1::DELIVERY_CANCELLED : frontdoor::v1::DELIVERED);
    Params q;
    q.Text(id).Text(endpoint_id).Text(cease.idempotency_key()).Bytes(cease.SerializeAsString()).Int(ToMicros(at));
    FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key,"
                                     " payload, state, next_attempt_us, created_us)"
                                     " VALUES ($1, $2, 'cease', $3, $4, 'pending', $5, $5)",
                                     q, "queue cease processing")
                                  .status());
    response.set_cease_processing_sent(true);
    Params rec;
    rec.Text(id)
        .Int(static_cast<int64_t>(cease.reason()))
        .Int(ToMicros(at))
        .Text(audit.actor())
        .Bytes(response.SerializeAsString());
    FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO cancellations (referral_id, reason, cancelled_us, actor, response)"
                                     " VALUES ($1, $2, $3, $4, $5)",
                                     rec, "record cancellation")
                                  .status());
    frontdoor::v1::AuditRecord r = audit;
    r.set_referral_id(id);
    r.set_recipient_endpoint(endpoint_id);
    if (r.time().empty()) r.set_time(AuditTimeText(at));
    FRONTDOOR_RETURN_IF_ERROR(FillFromContext(c, id, &r));
    r.clear_rule_ids();
    r.add_rule_ids("IG-7");
    r.set_action("withdraw");
    r.set_outcome("withdraw");
    r.set_detail(absl::StrCat("reason: ", CancelReasonText(cease.reason()), "; ",
                              response.delivery_state() == frontdoor::v1::DELIVERY_CANCELLED
                                  ? "pending delivery stopped"
                                  : "already delivered",
                              "; cease processing queued"));
    std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
    FRONTDOOR_RETURN_IF_ERROR(AppendAuditLocked(c, &records));
    out.response = std::move(response);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> PostgresReferralStore::AppendAudit(
    std::vector<frontdoor::v1::AuditRecord> records) {
  std::vector<frontdoor::v1::AuditRecord> appended;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    appended = records;
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    return AppendAuditLocked(c, &appended);
  });
  if (!s.ok()) return s;
  return appended;
}

absl::StatusOr<std::vector<frontdoor::v1::AuditRecord>> PostgresReferralStore::QueryAudit(const AuditQuery& q,
                                                                                          int64_t after_index,
                                                                                          int limit) {
  // The records themselves are searched (gateway/audit_search.h), a chunk at a time.
  return SearchAuditLog(
      q, after_index, limit, [this](int64_t after, int n) -> absl::StatusOr<std::vector<StoredAuditRow>> {
        FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
        FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                                   c->Exec("SELECT leaf_index, leaf_hash, record FROM audit_log WHERE leaf_index > $1"
                                           " AND record IS NOT NULL ORDER BY leaf_index LIMIT $2",
                                           Params().Int(after).Int(n), "query audit log"));
        std::vector<StoredAuditRow> rows;
        rows.reserve(r.rows());
        for (int i = 0; i < r.rows(); ++i) rows.push_back(StoredAuditRow{r.Int(i, 0), r.Text(i, 1), r.Bytes(i, 2)});
        return rows;
      });
}

absl::StatusOr<uint64_t> PostgresReferralStore::AuditTreeSize() {
  // Gapless leaf indexes (handed out under the audit_head lock, never deleted): the primary key's
  // last entry gives the size without counting the log.
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM audit_log", Params(), "audit log size"));
  return static_cast<uint64_t>(r.Int(0, 0));
}

absl::StatusOr<std::vector<audit::Hash>> PostgresReferralStore::AuditLeafHashes(uint64_t from, uint64_t to) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("SELECT leaf_index, leaf_hash FROM audit_log WHERE leaf_index >= $1 AND leaf_index < $2"
              " ORDER BY leaf_index",
              Params().Int(static_cast<int64_t>(from)).Int(static_cast<int64_t>(to)), "read audit leaf hashes"));
  std::vector<audit::Hash> out;
  for (int i = 0; i < r.rows(); ++i) {
    std::optional<audit::Hash> h = audit::HashFromHex(r.Text(i, 1));
    if (!h.has_value() || r.Int(i, 0) != static_cast<int64_t>(from + out.size())) {
      return absl::DataLossError(absl::StrCat("audit record ", from + out.size(), " is missing or damaged"));
    }
    out.push_back(*h);
  }
  if (out.size() != to - from) return absl::DataLossError("audit records are missing");
  return out;
}

absl::StatusOr<std::optional<frontdoor::v1::AuditRecord>> PostgresReferralStore::GetAuditRecord(uint64_t index) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT leaf_hash, record, time_us FROM audit_log"
                                               " WHERE leaf_index = $1",
                                               Params().Int(static_cast<int64_t>(index)), "read audit record"));
  if (r.rows() == 0) return std::nullopt;
  if (r.IsNull(0, 1)) {
    frontdoor::v1::AuditRecord rec;
    rec.set_index(index);
    rec.set_time(AuditTimeText(FromMicros(r.Int(0, 2))));
    rec.set_leaf_hash_hex(r.Text(0, 0));
    rec.set_pruned(true);
    return rec;
  }
  FRONTDOOR_ASSIGN_OR_RETURN(frontdoor::v1::AuditRecord rec,
                             ParseRecord(r.Bytes(0, 1), static_cast<int64_t>(index), r.Text(0, 0)));
  return rec;
}

absl::StatusOr<std::vector<audit::StoredLeaf>> PostgresReferralStore::ReadAuditLeaves() {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec("SELECT leaf_index, leaf_hash, record, time_us, referral_id, nhs_number, recipient_endpoint,"
                        " referrer_ods, outcome, rule_ids FROM audit_log ORDER BY leaf_index",
                        Params(), "read audit log"));
  std::vector<audit::StoredLeaf> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) {
    audit::StoredLeaf leaf;
    leaf.index = static_cast<uint64_t>(r.Int(i, 0));
    leaf.leaf_hash_hex = r.Text(i, 1);
    leaf.columns = audit::AuditSearchColumns{r.Int(i, 3),  r.Text(i, 4), r.Text(i, 5), r.Text(i, 6),
                                             r.Text(i, 7), r.Text(i, 8), r.Text(i, 9)};
    if (!r.IsNull(i, 2)) {
      frontdoor::v1::AuditRecord rec;
      if (rec.ParseFromString(r.Bytes(i, 2))) {
        leaf.record = std::move(rec);
      } else {
        leaf.body_unreadable = true;
      }
    }
    out.push_back(std::move(leaf));
  }
  return out;
}

absl::Status PostgresReferralStore::RecordCheckpoint(const frontdoor::v1::SignedCheckpoint& checkpoint) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  // Idempotent by tree size: two replicas signing the same size keep the first.
  return c
      ->Exec(
          "INSERT INTO audit_checkpoints (tree_size, checkpoint) VALUES ($1, $2)"
          " ON CONFLICT (tree_size) DO NOTHING",
          Params().Int(static_cast<int64_t>(checkpoint.tree_size())).Bytes(checkpoint.SerializeAsString()),
          "record checkpoint")
      .status();
}

absl::StatusOr<std::vector<frontdoor::v1::SignedCheckpoint>> PostgresReferralStore::AuditCheckpoints() {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT tree_size, checkpoint FROM audit_checkpoints"
                                               " ORDER BY tree_size",
                                               Params(), "read checkpoints"));
  std::vector<frontdoor::v1::SignedCheckpoint> out;
  for (int i = 0; i < r.rows(); ++i) {
    frontdoor::v1::SignedCheckpoint cp;
    // An unreadable checkpoint is kept as an empty one: verification then reports it as unsigned.
    if (!cp.ParseFromString(r.Bytes(i, 1))) cp.Clear();
    if (cp.tree_size() == 0) cp.set_tree_size(static_cast<uint64_t>(r.Int(i, 0)));
    out.push_back(std::move(cp));
  }
  return out;
}

absl::StatusOr<int64_t> PostgresReferralStore::PruneAuditBefore(absl::Time cutoff) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c->Exec("UPDATE audit_log SET record = NULL, referral_id = '', nhs_number = '',"
                                     " recipient_endpoint = '', referrer_ods = '', outcome = '', rule_ids = ''"
                                     " WHERE record IS NOT NULL AND time_us < $1"
                                     " AND leaf_index < (SELECT COALESCE(MAX(tree_size), 0) FROM audit_checkpoints)",
                                     Params().Int(ToMicros(cutoff)), "prune audit log"));
  return r.Affected();
}

// --- Dead letters and feedback ------------------------------------------------------------------

absl::StatusOr<bool> PostgresReferralStore::RecordFailedAttemptOrDeadLetter(int64_t outbox_id,
                                                                            absl::Time next_attempt_at,
                                                                            std::string_view error,
                                                                            const DeadLetterLimits& limits,
                                                                            absl::Time now) {
  bool dead_lettered = false;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool*) -> absl::Status {
    dead_lettered = false;
    const std::string text(error.substr(0, 500));
    // The limits count from when the row was queued or last replayed.
    Params p;
    p.Int(outbox_id)
        .Int(ToMicros(now))
        .Text(text)
        .Int(static_cast<int64_t>(limits.max_attempts))
        .Int(absl::ToInt64Microseconds(limits.max_age))
        .Text(replica_id_);
    FRONTDOOR_ASSIGN_OR_RETURN(Result dead,
                               c.Exec("UPDATE outbox SET state = 'dead', dead_us = $2, attempts = attempts + 1,"
                                      " last_error = $3, lease_owner = NULL, lease_until_us = NULL"
                                      " WHERE outbox_id = $1 AND state = 'pending'"
                                      " AND (lease_owner IS NULL OR lease_owner = $6) AND ("
                                      "   ($4 > 0 AND attempts + 1 - replay_base >= $4)"
                                      "   OR ($5 > 0 AND $2 - COALESCE(replayed_us, created_us) >= $5))",
                                      p, "dead-letter"));
    if (dead.Affected() > 0) {
      dead_lettered = true;
      return absl::OkStatus();
    }
    return c
        .Exec(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_us = $2, last_error = $3,"
            " lease_owner = NULL, lease_until_us = NULL WHERE outbox_id = $1 AND state = 'pending'"
            " AND (lease_owner IS NULL OR lease_owner = $4)",
            Params().Int(outbox_id).Int(ToMicros(next_attempt_at)).Text(text).Text(replica_id_),
            "record failed attempt")
        .status();
  });
  if (!s.ok()) return s;
  return dead_lettered;
}

absl::StatusOr<int> PostgresReferralStore::DeadLetterExpired(std::string_view endpoint_id,
                                                             const DeadLetterLimits& limits, absl::Time now) {
  if (limits.max_age <= absl::ZeroDuration()) return 0;
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  // Not a row another replica is sending right now: its outcome is that replica's to record.
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec("UPDATE outbox SET state = 'dead', dead_us = $2, lease_owner = NULL, lease_until_us = NULL,"
              " last_error = CASE WHEN last_error = '' THEN 'endpoint unreachable (circuit open)' ELSE last_error END"
              " WHERE endpoint_id = $1 AND state = 'pending' AND $2 - COALESCE(replayed_us, created_us) >= $3"
              " AND (lease_until_us IS NULL OR lease_until_us <= $2 OR lease_owner = $4)",
              Params()
                  .Text(endpoint_id)
                  .Int(ToMicros(now))
                  .Int(absl::ToInt64Microseconds(limits.max_age))
                  .Text(replica_id_),
              "dead-letter expired rows"));
  return static_cast<int>(r.Affected());
}

absl::StatusOr<std::vector<DeadLetterRow>> PostgresReferralStore::ListDeadLetters(const DeadLetterFilter& filter,
                                                                                  int limit) {
  Params p;
  p.Int(limit);
  const std::string where = DeadLetterWhere(filter, &p);
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec(absl::StrCat("SELECT outbox_id, kind, referral_id, endpoint_id, attempts, last_error,"
                                     " created_us, dead_us FROM outbox WHERE state = 'dead'",
                                     where, " ORDER BY outbox_id LIMIT $1"),
                        p, "read dead letters"));
  std::vector<DeadLetterRow> out;
  for (int i = 0; i < r.rows(); ++i) {
    DeadLetterRow row;
    row.outbox_id = r.Int(i, 0);
    row.kind = r.Text(i, 1) == "cease" ? OutboxKind::kCease : OutboxKind::kDeliver;
    row.referral_id = r.Text(i, 2);
    row.endpoint_id = r.Text(i, 3);
    row.attempts = static_cast<uint32_t>(r.Int(i, 4));
    row.last_error = r.Text(i, 5);
    row.created_at = FromMicros(r.Int(i, 6));
    row.dead_at = r.IsNull(i, 7) ? row.created_at : FromMicros(r.Int(i, 7));
    out.push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<int> PostgresReferralStore::ReplayDeadLetters(const DeadLetterFilter& filter, absl::Time now) {
  Params p;
  p.Int(ToMicros(now));
  const std::string where = DeadLetterWhere(filter, &p);
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r, c->Exec(absl::StrCat("UPDATE outbox SET state = 'pending', next_attempt_us = $1, replayed_us = $1,"
                                     " replay_base = attempts, dead_us = NULL, lease_owner = NULL,"
                                     " lease_until_us = NULL WHERE state = 'dead'",
                                     where),
                        p, "replay dead letters"));
  return static_cast<int>(r.Affected());
}

absl::StatusOr<FeedbackRecordOutcome> PostgresReferralStore::RecordFeedback(const NewFeedback& feedback,
                                                                            const StoredReferral& referral,
                                                                            const FeedbackCheck& check) {
  const std::string report_bytes = feedback.report.SerializeAsString();
  FeedbackRecordOutcome out;
  absl::Status s = InTransaction(pool_.get(), [&](Connection& c, bool* rollback) -> absl::Status {
    out = FeedbackRecordOutcome();
    // Feedback appends an audit record, and its seq is handed out under the same lock: a reader
    // never sees a later seq committed before an earlier one.
    FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));
    // A resend of the same report (same connector, same key) is recorded once.
    FRONTDOOR_ASSIGN_OR_RETURN(
        Result same,
        c.Exec(absl::StrCat(kFeedbackColumns, "WHERE f.endpoint_id = $1 AND f.idempotency_key = $2"),
               Params().Text(feedback.endpoint_id).Text(feedback.report.idempotency_key()), "read feedback"));
    FRONTDOOR_ASSIGN_OR_RETURN(std::vector<StoredFeedback> same_key, ReadFeedbackRows(same));
    if (!same_key.empty()) {
      *rollback = true;
      if (same_key.front().report.SerializeAsString() != report_bytes) {
        return absl::AlreadyExistsError("that idempotency_key was already used for a different report");
      }
      out = FeedbackRecordOutcome{true, std::move(same_key.front())};
      return absl::OkStatus();
    }
    FRONTDOOR_ASSIGN_OR_RETURN(Result hist,
                               c.Exec(absl::StrCat(kFeedbackColumns, "WHERE f.referral_id = $1 ORDER BY f.seq"),
                                      Params().Text(referral.referral_id), "read feedback"));
    FRONTDOOR_ASSIGN_OR_RETURN(std::vector<StoredFeedback> history, ReadFeedbackRows(hist));
    FRONTDOOR_ASSIGN_OR_RETURN(std::optional<int64_t> repeat, check(FeedbackContext{&referral, &history}));
    if (repeat.has_value()) {
      *rollback = true;
      for (StoredFeedback& earlier : history) {
        if (earlier.seq == *repeat) {
          out = FeedbackRecordOutcome{true, std::move(earlier)};
          return absl::OkStatus();
        }
      }
      return absl::InternalError("the repeated feedback event is not in the history");
    }
    FRONTDOOR_ASSIGN_OR_RETURN(
        Result seq_row, c.Exec("UPDATE feedback_head SET next_seq = next_seq + 1 RETURNING next_seq - 1", Params(),
                               "next feedback seq"));
    if (seq_row.rows() != 1) return absl::InternalError("the feedback head row is missing");
    const int64_t seq = seq_row.Int(0, 0);
    Params p;
    p.Int(seq)
        .Text(referral.referral_id)
        .Text(referral.sender_ods)
        .Text(feedback.endpoint_id)
        .Text(feedback.report.idempotency_key())
        .Int(static_cast<int64_t>(feedback.report.status()))
        .Bytes(report_bytes)
        .Int(ToMicros(feedback.recorded_at));
    FRONTDOOR_RETURN_IF_ERROR(c.Exec("INSERT INTO feedback_events (seq, referral_id, sender_ods, endpoint_id,"
                                     " idempotency_key, status, report, recorded_us)"
                                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                                     p, "insert feedback event")
                                  .status());
    // IG-9: one audit record in the same transaction, naming the status only.
    frontdoor::v1::AuditRecord r;
    r.set_referral_id(referral.referral_id);
    r.set_time(AuditTimeText(feedback.recorded_at));
    r.set_actor(feedback.endpoint_id);
    r.set_actor_organisation(feedback.endpoint_id);
    FRONTDOOR_RETURN_IF_ERROR(FillFromContext(c, referral.referral_id, &r));
    r.clear_rule_ids();
    r.add_rule_ids("IG-8");
    r.set_action("feedback");
    r.set_outcome("feedback");
    r.set_recipient_endpoint(referral.sender_ods);
    r.set_detail(absl::StrCat("progress ", frontdoor::v1::ProgressStatus_Name(feedback.report.status()),
                              " reported by the connector organisation, passed back to the referrer"));
    std::vector<frontdoor::v1::AuditRecord> records = {std::move(r)};
    FRONTDOOR_RETURN_IF_ERROR(AppendAuditLocked(c, &records));

    out.event.seq = seq;
    out.event.referral_id = referral.referral_id;
    out.event.sender_ods = referral.sender_ods;
    out.event.endpoint_id = feedback.endpoint_id;
    out.event.team_id = referral.decision.connector_id();
    out.event.message_id = referral.message_id;
    out.event.format = referral.format;
    out.event.report = feedback.report;
    out.event.recorded_at = feedback.recorded_at;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<StoredFeedback>> PostgresReferralStore::FeedbackForReferral(std::string_view referral_id) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(Result r,
                             c->Exec(absl::StrCat(kFeedbackColumns, "WHERE f.referral_id = $1 ORDER BY f.seq"),
                                     Params().Text(referral_id), "read feedback"));
  return ReadFeedbackRows(r);
}

absl::StatusOr<std::vector<StoredFeedback>> PostgresReferralStore::FeedbackAfter(std::string_view sender_ods,
                                                                                 int64_t after_seq, int limit) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result r,
      c->Exec(absl::StrCat(kFeedbackColumns, "WHERE f.sender_ods = $1 AND f.seq > $2 ORDER BY f.seq LIMIT $3"),
              Params().Text(sender_ods).Int(after_seq).Int(limit), "read feedback"));
  return ReadFeedbackRows(r);
}

}  // namespace frontdoor::gateway
