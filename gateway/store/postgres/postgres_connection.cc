#include "gateway/store/postgres/postgres_connection.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace frontdoor::gateway::pg {

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
  // Data or an index the server found corrupted (XX001, XX002): retrying does not mend it.
  if (sqlstate == "XX001" || sqlstate == "XX002") return absl::DataLossError(text);
  return absl::InternalError(text);
}

bool PrepareSession(PGconn* conn) {
  PGresult* res = PQexec(conn,
                         "SET synchronous_commit = on; SET client_min_messages = warning;"
                         " SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'");
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  return ok;
}

bool SafeToRepeat(const char* sql) { return std::strncmp(sql, "SELECT", 6) == 0 || std::strncmp(sql, "BEGIN", 5) == 0; }

absl::StatusOr<std::unique_ptr<PostgresConnectionPool>> PostgresConnectionPool::Connect(const std::string& conninfo,
                                                                                        int size) {
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

PostgresConnectionPool::~PostgresConnectionPool() {
  for (auto& c : all_) PQfinish(c->raw());
}

absl::StatusOr<Lease> PostgresConnectionPool::Acquire() {
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

std::string PostgresConnectionPool::ErrorText(PGconn* conn) {
  std::string m = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

absl::StatusOr<PGconn*> PostgresConnectionPool::NewConnection() {
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

void PostgresConnectionPool::Release(Connection* conn) {
  absl::MutexLock lock(&mu_);
  idle_.push_back(conn);
}

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

}  // namespace frontdoor::gateway::pg
