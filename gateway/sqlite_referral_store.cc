#include "gateway/sqlite_referral_store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace frontdoor::gateway {
namespace {

// 1 -> 2 (issue 5): dead letters (outbox state 'dead', with a fresh retry budget on replay) and
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
    kDeadLettersAndFeedbackSql,
};

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

absl::Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  const std::string text = absl::StrCat(std::string(what), ": ", sqlite3_errstr(rc), " (", db ? sqlite3_errmsg(db) : "", ")");
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

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status status() const {
    return rc_ == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc_, "prepare");
  }
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
  int rc_ = SQLITE_OK;
};

absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat("cannot open database ", path, ": ", sqlite3_errstr(rc)));
    sqlite3_close(db);
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
  FRONTDOOR_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  absl::StatusOr<int> version = UserVersion(db);
  if (!version.ok()) {
    Exec(db, "ROLLBACK").IgnoreError();
    return version.status();
  }
  constexpr int kLatest = static_cast<int>(std::size(kMigrations));
  if (*version > kLatest) {
    Exec(db, "ROLLBACK").IgnoreError();
    return absl::FailedPreconditionError(absl::StrCat("database schema version ", *version,
                                                      " is newer than this gateway understands (", kLatest,
                                                      "); run a newer frontdoor-gateway"));
  }
  for (int v = *version; v < kLatest; ++v) {
    absl::Status s = Exec(db, kMigrations[v]);
    if (s.ok()) s = Exec(db, absl::StrCat("PRAGMA user_version = ", v + 1).c_str());
    if (!s.ok()) {
      Exec(db, "ROLLBACK").IgnoreError();
      return s;
    }
  }
  FRONTDOOR_RETURN_IF_ERROR(Exec(db, "COMMIT"));
  *version_out = kLatest;
  return absl::OkStatus();
}

frontdoor::v1::DeliveryState StateFor(const frontdoor::v1::SubmitReferralResponse& decision,
                                      bool has_outbox, bool delivered) {
  if (decision.disposition() != frontdoor::v1::ACCEPTED) return frontdoor::v1::NOT_FOR_DELIVERY;
  if (!has_outbox) return frontdoor::v1::DELIVERY_PENDING;
  return delivered ? frontdoor::v1::DELIVERED : frontdoor::v1::DELIVERY_PENDING;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteReferralStore>> SqliteReferralStore::Open(const std::string& path) {
  FRONTDOOR_ASSIGN_OR_RETURN(sqlite3 * writer,
                             OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  // WAL: readers never block the writer; FULL: a commit is durable when it returns.
  absl::Status s = Exec(writer, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
  int version = 0;
  if (s.ok()) s = Migrate(writer, &version);
  if (!s.ok()) {
    sqlite3_close(writer);
    return s;
  }
  absl::StatusOr<sqlite3*> reader = OpenConnection(path, SQLITE_OPEN_READONLY);
  if (!reader.ok()) {
    sqlite3_close(writer);
    return reader.status();
  }
  return std::unique_ptr<SqliteReferralStore>(new SqliteReferralStore(writer, *reader, version));
}

SqliteReferralStore::SqliteReferralStore(sqlite3* writer, sqlite3* reader, int schema_version)
    : writer_(writer), reader_(reader), schema_version_(schema_version) {}

SqliteReferralStore::~SqliteReferralStore() {
  absl::MutexLock w(&write_mu_);
  absl::MutexLock r(&read_mu_);
  sqlite3_close(reader_);
  sqlite3_close(writer_);
}

absl::StatusOr<std::vector<RecordOutcome>> SqliteReferralStore::RecordReferrals(std::vector<NewReferral> batch) {
  absl::MutexLock lock(&write_mu_);
  sqlite3* db = writer_;
  Statement find(db, "SELECT decision FROM referrals WHERE sender_ods = ?1 AND message_id = ?2");
  Statement insert(db,
                   "INSERT INTO referrals (referral_id, sender_ods, message_id, format, received_us, disposition,"
                   " connector_id, endpoint_id, decision, referral) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  Statement outbox(db,
                   "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state,"
                   " next_attempt_us, created_us) VALUES (?1, ?2, 'deliver', ?3, ?4, 'pending', ?5, ?5)");
  FRONTDOOR_RETURN_IF_ERROR(find.status());
  FRONTDOOR_RETURN_IF_ERROR(insert.status());
  FRONTDOOR_RETURN_IF_ERROR(outbox.status());

  FRONTDOOR_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  auto fail = [db](absl::Status s) {
    Exec(db, "ROLLBACK").IgnoreError();
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
      RecordOutcome out;
      out.duplicate = true;
      if (!out.decision.ParseFromString(find.Blob(0))) {
        return fail(absl::InternalError("stored decision does not parse"));
      }
      outcomes.push_back(std::move(out));
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
    RecordOutcome out;
    out.decision = std::move(r.decision);
    outcomes.push_back(std::move(out));
  }
  if (absl::Status s = Exec(db, "COMMIT"); !s.ok()) return fail(s);
  return outcomes;
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
  return out;
}

absl::StatusOr<std::vector<OutboxItem>> SqliteReferralStore::DueDeliveries(std::string_view endpoint_id,
                                                                           absl::Time now, int limit) {
  absl::MutexLock lock(&read_mu_);
  Statement st(reader_,
               "SELECT outbox_id, referral_id, attempts, payload, kind FROM outbox AS o"
               " WHERE endpoint_id = ?1 AND state = 'pending' AND next_attempt_us <= ?2"
               " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.referral_id = o.referral_id"
               "                 AND earlier.state IN ('pending', 'dead') AND earlier.outbox_id < o.outbox_id)"
               " ORDER BY outbox_id LIMIT ?3");
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
    const std::string kind = st.Text(4);
    bool parsed = false;
    if (kind == "deliver") {
      item.kind = OutboxKind::kDeliver;
      parsed = item.deliver.ParseFromString(st.Blob(3));
    } else if (kind == "cease") {
      item.kind = OutboxKind::kCease;
      parsed = item.cease.ParseFromString(st.Blob(3));
    }
    if (!parsed) {
      return absl::InternalError(absl::StrCat("outbox row ", item.outbox_id, " (", kind, ") does not parse"));
    }
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

absl::Status SqliteReferralStore::MarkDelivered(int64_t outbox_id, absl::Time at) {
  absl::MutexLock lock(&write_mu_);
  Statement st(writer_,
               "UPDATE outbox SET state = 'delivered', delivered_us = ?2, attempts = attempts + 1, last_error = ''"
               " WHERE outbox_id = ?1 AND state = 'pending'");
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, outbox_id);
  st.Bind(2, ToMicros(at));
  if (int rc = st.Step(); rc != SQLITE_DONE) return SqliteError(writer_, rc, "mark delivered");
  return absl::OkStatus();
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

absl::StatusOr<bool> SqliteReferralStore::RecordFailedAttemptOrDeadLetter(int64_t outbox_id,
                                                                          absl::Time next_attempt_at,
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

absl::StatusOr<int> SqliteReferralStore::DeadLetterExpired(std::string_view endpoint_id,
                                                           const DeadLetterLimits& limits, absl::Time now) {
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
  FRONTDOOR_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  auto fail = [db](absl::Status s) {
    Exec(db, "ROLLBACK").IgnoreError();
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
    Exec(db, "ROLLBACK").IgnoreError();
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
    Exec(db, "ROLLBACK").IgnoreError();
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
  if (absl::Status s = Exec(db, "COMMIT"); !s.ok()) return fail(s);

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
  Statement st(reader_,
               absl::StrCat(kFeedbackColumns, "WHERE f.sender_ods = ?1 AND f.seq > ?2 ORDER BY f.seq LIMIT ?3").c_str());
  FRONTDOOR_RETURN_IF_ERROR(st.status());
  st.Bind(1, sender_ods);
  st.Bind(2, after_seq);
  st.Bind(3, static_cast<int64_t>(limit));
  return ReadFeedbackRows(reader_, st);
}

}  // namespace frontdoor::gateway
