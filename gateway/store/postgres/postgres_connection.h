// The PostgreSQL store's way of talking to PostgreSQL (libpq): typed parameters, results, one
// connection with the statuses a caller should retry by, a fixed pool of them, and transactions
// retried on conflicts. Internal to gateway/store/postgres/.
//
//   absl::Status s = InTransaction(pool, [&](Connection& c, bool* rollback) -> absl::Status {
//     FRONTDOOR_ASSIGN_OR_RETURN(Result r, c.Exec("SELECT ... WHERE id = $1", Params().Text(id), "read"));
//     ...
//   });
//
// Thread-safety: the pool and InTransaction may be used from any thread; a Connection by the one
// thread that holds its Lease.
#ifndef FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_CONNECTION_H_
#define FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace frontdoor::gateway::pg {

constexpr unsigned kTextOid = 25;
constexpr unsigned kByteaOid = 17;
constexpr unsigned kInt8Oid = 20;

// PostgreSQL text cannot hold a NUL byte (SQLite's can): it becomes U+FFFD, so that free text from
// outside (a connector's error message, a consent id) is stored rather than failing a whole group
// commit. Keys and ids are validated printable text before they get here.
std::string WithoutNul(std::string_view v);

// Retrying the transaction may succeed: serialization failures and deadlocks.
bool IsRetryableConflict(const std::string& sqlstate);

// `what` failed on `conn` with `res`: UNAVAILABLE for trouble worth retrying (connection,
// resources, conflicts, lock timeouts), INVALID_ARGUMENT for a value the database refuses,
// INTERNAL otherwise. Sets `*sqlstate_out` when given. Never quotes a value (DETAIL lines may).
absl::Status StatusFor(PGconn* conn, const PGresult* res, std::string_view what, std::string* sqlstate_out);

// Per-session settings, on every new or reset connection. A replica that stalls inside a
// transaction (holding the audit head lock every writer needs) is cut off by the server after a
// minute, and a writer waits at most half a minute for a lock before answering UNAVAILABLE.
bool PrepareSession(PGconn* conn);

// A statement that may simply be sent again when the connection turned out to be broken before
// it ran: it reads, or opens a transaction. (A write outside a transaction is not repeated: it may
// have committed before the connection broke.)
bool SafeToRepeat(const char* sql);

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

// A result: in text format (Text, Int, Bytes), or in binary format from ExecBinary (BinaryInt,
// BinaryBytes: bytea arrives as its bytes, not hex, for large reads).
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
  int64_t BinaryInt(int row, int col) const {  // int8, network byte order
    const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(res_.get(), row, col));
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return static_cast<int64_t>(v);
  }
  // Valid while the Result lives.
  std::string_view BinaryBytes(int row, int col) const {
    return std::string_view(PQgetvalue(res_.get(), row, col), PQgetlength(res_.get(), row, col));
  }
  int64_t Affected() const {
    const char* n = PQcmdTuples(res_.get());
    return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
  }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> res_;
};

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
    return ExecIn(/*result_format=*/0, sql, params, what);
  }
  // The same, with the result in binary format.
  absl::StatusOr<Result> ExecBinary(const char* sql, const Params& params, std::string_view what) {
    return ExecIn(/*result_format=*/1, sql, params, what);
  }
  absl::StatusOr<Result> Exec(const std::string& sql, const Params& params, std::string_view what) {
    return Exec(sql.c_str(), params, what);
  }
  // Sends a statement without parameters and does not wait: its result, in binary format, is
  // Receive's. One at a time; the server works on it meanwhile (a cursor's next rows while the
  // caller uses the last ones).
  absl::Status SendBinary(const char* sql, std::string_view what) {
    if (PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, /*resultFormat=*/1) == 1) {
      return absl::OkStatus();
    }
    return StatusFor(conn_, nullptr, what, &last_sqlstate_);
  }
  absl::StatusOr<Result> Receive(std::string_view what) {
    PGresult* res = PQgetResult(conn_);
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);  // until the statement is done
    return Check(res, what);
  }
  // Statements without parameters (may be several; used for schema and transaction control).
  absl::Status Run(const char* sql, std::string_view what) {
    if (SafeToRepeat(sql)) return Exec(sql, Params(), what).status();
    return Check(PQexec(conn_, sql), what).status();
  }

 private:
  absl::StatusOr<Result> ExecIn(int result_format, const char* sql, const Params& params, std::string_view what) {
    const bool outside_transaction = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    absl::StatusOr<Result> r = ExecOnce(result_format, sql, params, what);
    if (!r.ok() && outside_transaction && PQstatus(conn_) != CONNECTION_OK && SafeToRepeat(sql)) {
      PQreset(conn_);
      if (PQstatus(conn_) == CONNECTION_OK && PrepareSession(conn_)) r = ExecOnce(result_format, sql, params, what);
    }
    return r;
  }
  absl::StatusOr<Result> ExecOnce(int result_format, const char* sql, const Params& params, std::string_view what) {
    const Params::View v = params.Pointers();
    PGresult* res = PQexecParams(conn_, sql, params.size(), params.types(), v.values.data(), v.lengths.data(),
                                 params.formats(), result_format);
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

// A fixed set of connections. Acquire waits for a free one and resets it if it broke.
class PostgresConnectionPool {
 public:
  // A connection taken from the pool, given back when it goes out of scope.
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

  // `size` connections to `conninfo`. INVALID_ARGUMENT for a conninfo that does not parse,
  // UNAVAILABLE when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<PostgresConnectionPool>> Connect(const std::string& conninfo, int size);
  ~PostgresConnectionPool();

  // A free connection, reconnected if it broke and with no transaction left open; UNAVAILABLE when
  // it cannot be reconnected.
  absl::StatusOr<Lease> Acquire();

 private:
  explicit PostgresConnectionPool(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  static std::string ErrorText(PGconn* conn);
  absl::StatusOr<PGconn*> NewConnection();
  void Release(Connection* conn);

  const std::string conninfo_;
  std::vector<std::unique_ptr<Connection>> all_;
  absl::Mutex mu_;
  std::vector<Connection*> idle_ ABSL_GUARDED_BY(mu_);
};

using Lease = PostgresConnectionPool::Lease;

// Runs `body` in one transaction on one pooled connection; COMMIT when it returns OK, ROLLBACK
// otherwise. A deadlock or serialization failure is retried (body must start from scratch each
// time). A body that wants to answer without writing returns OK after setting `*rollback`.
absl::Status InTransaction(PostgresConnectionPool* pool,
                           const std::function<absl::Status(Connection&, bool* rollback)>& body);

}  // namespace frontdoor::gateway::pg

#endif  // FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_CONNECTION_H_
