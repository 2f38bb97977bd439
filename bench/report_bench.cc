// frontdoor-report-bench: is an outcome report answered in under a second on a year of a large
// network's referrals (issue 22, "fast on years of data")? Seeds a store through the store API
// with N referrals of 2025 and their feedback (report_seed.h), then times report requests through
// the whole OutcomeReporter path (its access record, the store read, the facts, BuildReport) and
// each part alone, against a floor measured in the same run on the same store: the same rows read
// with SQL and not parsed, and a plain count(*) of the referrals table.
//
//   frontdoor-report-bench --sqlite var/bench/reports/sqlite-1000000.db --referrals 1000000
//   frontdoor-report-bench --postgres "host=/tmp/pg port=5432 dbname=reports_100000" --referrals 100000
//
// A seeded store is kept and reused: a SQLite file is seeded under --seed-dir (/dev/shm when it
// exists: its fsyncs cost nothing, and what is measured is reads) and moved to its path when
// complete; a PostgreSQL database that holds N referrals of 2025 is not seeded again
// (--seed-only seeds and stops, so a script can seed with synchronous_commit off).
//
// Then, unless --no-contention, what a running report does to the store's other users: the
// latency of one-referral commits (a submission's RecordReferrals) and of DueDeliveries (the
// delivery workers' read), 3 s alone, then while the weekly-by-cluster report runs twice.
//
// Prints a table and writes every figure to --json. Times are wall-clock milliseconds over
// --repetitions runs (median and max), after one report that warms the page cache.
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/report_seed.h"
#include "common/clock.h"
#include "common/time_text.h"
#include "common/uuid.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "gateway/reports/outcome_reporter.h"
#include "gateway/reports/report_facts.h"
#include "gateway/security/authorization.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/store_work_queue.h"
#include "network/network_directory.h"
#include "reporting/report_builder.h"
#include "reporting/report_calendar.h"

namespace frontdoor::bench {
namespace {

namespace v1 = ::frontdoor::v1;
using gateway::ReportRow;
using gateway::Store;

const absl::Time kYearStart = ReportYearStart();
const absl::Time kYearEnd = ReportYearEnd();
constexpr char kCommissioner[] = "commissioner-bench";

struct Options {
  std::string sqlite_path;
  std::string postgres_conninfo;
  int64_t referrals = 100000;
  int repetitions = 5;
  int seed_threads = 0;  // 0: 1 for SQLite (one writer anyway), 4 for PostgreSQL
  std::string seed_dir;
  bool contention = true;
  bool seed_only = false;
  std::string only;  // time only the requests whose name contains this
  std::string label;
  std::string json;
};

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// ---- The floor: the same rows read with SQL, not parsed ------------------------------------------

constexpr char kFactRowsSql[] =
    "SELECT received_us, facts FROM report_facts"
    " WHERE received_us >= %1$s AND received_us < %2$s ORDER BY received_us, referral_id";

std::string Sql(const char* pattern, absl::Time from, absl::Time to) {
  char buf[512];
  std::snprintf(buf, sizeof buf, pattern, std::to_string(absl::ToUnixMicros(from)).c_str(),
                std::to_string(absl::ToUnixMicros(to)).c_str());
  return buf;
}

// A raw connection to the same store, for the floor and for counting.
class RawReader {
 public:
  virtual ~RawReader() = default;
  // Steps every row of `sql`, touching each column's bytes; returns the bytes seen.
  virtual absl::StatusOr<int64_t> ReadRows(const std::string& sql) = 0;
  virtual absl::StatusOr<int64_t> Count(const std::string& sql) = 0;
  // A second floor where the backend has one worth knowing (PostgreSQL: binary results).
  virtual bool HasBinary() const { return false; }
  virtual absl::StatusOr<int64_t> ReadRowsBinary(const std::string&) { return 0; }
  // The query plan of `sql`, one line.
  virtual std::string Plan(const std::string& sql) = 0;
};

class SqliteRaw final : public RawReader {
 public:
  explicit SqliteRaw(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_exec(db_, "PRAGMA cache_size = -8192", nullptr, nullptr, nullptr);  // as the store's reader
  }
  ~SqliteRaw() override { sqlite3_close(db_); }
  absl::StatusOr<int64_t> ReadRows(const std::string& sql) override {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(db_));
    }
    int64_t bytes = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      for (int c = 0, n = sqlite3_column_count(st); c < n; ++c) {
        sqlite3_column_blob(st, c);
        bytes += sqlite3_column_bytes(st, c);
      }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return absl::InternalError(sqlite3_errmsg(db_));
    return bytes;
  }
  absl::StatusOr<int64_t> Count(const std::string& sql) override {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(db_));
    }
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }
  std::string Plan(const std::string& sql) override {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr) != SQLITE_OK) return out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      absl::StrAppend(&out, out.empty() ? "" : "; ", reinterpret_cast<const char*>(sqlite3_column_text(st, 3)));
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

class PostgresRaw final : public RawReader {
 public:
  explicit PostgresRaw(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~PostgresRaw() override { PQfinish(conn_); }
  absl::StatusOr<int64_t> ReadRows(const std::string& sql) override { return Read(sql, 0); }
  bool HasBinary() const override { return true; }
  absl::StatusOr<int64_t> ReadRowsBinary(const std::string& sql) override { return Read(sql, 1); }
  absl::StatusOr<int64_t> Count(const std::string& sql) override {
    PGresult* res = PQexec(conn_, sql.c_str());
    const int64_t n = PQresultStatus(res) == PGRES_TUPLES_OK ? std::stoll(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    if (n < 0) return absl::InternalError(PQerrorMessage(conn_));
    return n;
  }
  std::string Plan(const std::string& sql) override {
    PGresult* res = PQexec(conn_, ("EXPLAIN " + sql).c_str());
    std::string out;
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); ++i) {
      absl::StrAppend(&out, out.empty() ? "" : "; ", PQgetvalue(res, i, 0));
    }
    PQclear(res);
    return out;
  }

 private:
  // As the store reads them (PQexecParams, text results: bytea comes hex-encoded), or binary.
  absl::StatusOr<int64_t> Read(const std::string& sql, int format) {
    PGresult* res = PQexecParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, format);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      PQclear(res);
      return absl::InternalError(PQerrorMessage(conn_));
    }
    int64_t bytes = 0;
    for (int i = 0, rows = PQntuples(res), cols = PQnfields(res); i < rows; ++i) {
      for (int c = 0; c < cols; ++c) bytes += PQgetlength(res, i, c);
    }
    PQclear(res);
    return bytes;
  }
  PGconn* conn_;
};

// ---- Timing -------------------------------------------------------------------------------------

struct Series {
  std::vector<double> ms;
  double Median() const {
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    if (v.empty()) return 0;
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  double Max() const { return ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end()); }
  std::string Json() const {
    std::string list;
    for (double m : ms) absl::StrAppend(&list, list.empty() ? "" : ", ", m);
    return absl::StrCat("{\"median_ms\": ", Median(), ", \"max_ms\": ", Max(), ", \"runs_ms\": [", list, "]}");
  }
};

struct Request {
  std::string name;
  v1::ReportRequest request;
};

std::vector<Request> Requests() {
  auto make = [](std::string name, const char* from, const char* to, v1::ReportRequest::Period period,
                 v1::ReportRequest::Breakdown by) {
    Request r{std::move(name), {}};
    r.request.set_from_date(from);
    r.request.set_to_date(to);
    r.request.set_period(period);
    r.request.set_breakdown(by);
    return r;
  };
  return {
      make("year by month", "2025-01-01", "2025-12-31", v1::ReportRequest::MONTH, v1::ReportRequest::NONE),
      make("year by month by team", "2025-01-01", "2025-12-31", v1::ReportRequest::MONTH, v1::ReportRequest::TEAM),
      make("year by week by cluster", "2025-01-01", "2025-12-31", v1::ReportRequest::WEEK, v1::ReportRequest::CLUSTER),
      make("month by source", "2025-06-01", "2025-06-30", v1::ReportRequest::MONTH, v1::ReportRequest::SOURCE)};
}

struct RequestFigures {
  std::string name;
  int64_t rows = 0;
  int64_t bytes = 0;
  Series whole, read, facts, build, floor_rows, floor_rows_binary, floor_count;
};

class ReportTimer {
 public:
  ReportTimer(Store* store, RawReader* raw, const network::NetworkDirectory& network, absl::TimeZone zone)
      : store_(store),
        raw_(raw),
        network_(network),
        zone_(zone),
        authorizer_(&network, {}, {}, {kCommissioner}),
        reporter_({&authorizer_, store, store, nullptr, &network, &clock_, &work_}) {}

  absl::StatusOr<v1::Report> WholePath(const v1::ReportRequest& request) {
    absl::Notification done;
    absl::StatusOr<v1::Report> out;
    reporter_.Report(gateway::Caller{kCommissioner, gateway::CallerKind::kCommissioner}, request,
                     [&](absl::StatusOr<v1::Report> report) {
                       out = std::move(report);
                       done.Notify();
                     });
    done.WaitForNotification();
    return out;
  }

  absl::StatusOr<RequestFigures> Time(const Request& r, int repetitions) {
    RequestFigures f;
    f.name = r.name;
    absl::StatusOr<reporting::ReportCalendar> calendar =
        reporting::ReportCalendar::Create(r.request.from_date(), r.request.to_date(), r.request.period(), zone_);
    if (!calendar.ok()) return calendar.status();
    const absl::Time from = calendar->start(), to = calendar->end();
    const std::string facts_sql = Sql(kFactRowsSql, from, to);
    for (int rep = 0; rep < repetitions; ++rep) {
      // The floor: the store's query, every column's bytes touched, nothing parsed.
      absl::Time t0 = absl::Now();
      absl::StatusOr<int64_t> a = raw_->ReadRows(facts_sql);
      if (!a.ok()) return a.status();
      f.floor_rows.ms.push_back(Ms(absl::Now() - t0));
      f.bytes = *a;
      if (raw_->HasBinary()) {
        t0 = absl::Now();
        if (absl::StatusOr<int64_t> x = raw_->ReadRowsBinary(facts_sql); !x.ok()) return x.status();
        f.floor_rows_binary.ms.push_back(Ms(absl::Now() - t0));
      }
      t0 = absl::Now();
      if (absl::StatusOr<int64_t> n = raw_->Count("SELECT count(*) FROM referrals"); !n.ok()) return n.status();
      f.floor_count.ms.push_back(Ms(absl::Now() - t0));

      // The whole path, as ReportingService calls it.
      t0 = absl::Now();
      absl::StatusOr<v1::Report> whole = WholePath(r.request);
      if (!whole.ok()) return whole.status();
      f.whole.ms.push_back(Ms(absl::Now() - t0));

      // Its parts.
      // The store's read alone (each row parsed, nothing kept), then with the facts made of it.
      t0 = absl::Now();
      f.rows = 0;
      absl::Status read = store_->ForEachReferralReceived(from, to, [&](const ReportRow&) { ++f.rows; });
      if (!read.ok()) return read;
      f.read.ms.push_back(Ms(absl::Now() - t0));
      t0 = absl::Now();
      gateway::ReportFactsReader reader(network_, r.request);
      int64_t made = 0;
      read = store_->ForEachReferralReceived(from, to,
                                             [&](const ReportRow& row) { made += reader.FactsOf(row).ok() ? 1 : 0; });
      if (!read.ok()) return read;
      f.facts.ms.push_back(Ms(absl::Now() - t0) - f.read.ms.back());
      if (made != f.rows) return absl::InternalError("the facts were not made of every row");
      // BuildReport alone, on the facts collected beforehand (untimed; their strings are views of
      // the rows, kept meanwhile).
      absl::StatusOr<std::vector<ReportRow>> rows = store_->ReferralsReceived(from, to);
      if (!rows.ok()) return rows.status();
      std::vector<reporting::ReferralFacts> facts;
      facts.reserve(rows->size());
      std::vector<frontdoor::internal::ReportFacts> parsed(rows->size());
      for (size_t i = 0; i < rows->size(); ++i) {
        if (!(*rows)[i].ParseFacts(&parsed[i])) return absl::InternalError("stored report facts do not parse");
      }
      for (size_t i = 0; i < rows->size(); ++i) facts.push_back(reader.FactsOf((*rows)[i].received_at, parsed[i]));
      t0 = absl::Now();
      absl::StatusOr<v1::Report> built = reporting::BuildReport(r.request, facts, zone_);
      if (!built.ok()) return built.status();
      f.build.ms.push_back(Ms(absl::Now() - t0));
    }
    return f;
  }

 private:
  Store* const store_;
  RawReader* const raw_;
  const network::NetworkDirectory& network_;
  const absl::TimeZone zone_;
  SystemClock clock_;
  gateway::StoreWorkQueue work_{1, 16};
  gateway::Authorizer authorizer_;
  gateway::OutcomeReporter reporter_;
};

// ---- Contention: what a running report does to submissions and delivery reads -------------------

struct Latencies {
  std::vector<double> ms;
  std::string Summary() const {
    if (ms.empty()) return "none";
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return absl::StrCat(v.size(), " calls, p50 ", v[v.size() / 2], " ms, p99 ", v[v.size() * 99 / 100], " ms, max ",
                        v.back(), " ms");
  }
  std::string Json() const {
    if (ms.empty()) return "null";
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    return absl::StrCat("{\"calls\": ", v.size(), ", \"p50_ms\": ", v[v.size() / 2],
                        ", \"p99_ms\": ", v[v.size() * 99 / 100], ", \"max_ms\": ", v.back(), "}");
  }
};

struct Contention {
  Latencies commit_alone, commit_during, due_alone, due_during;
  double report_ms = 0;
};

absl::StatusOr<Contention> MeasureContention(Store* store, ReportTimer* timer, const network::NetworkDirectory& network,
                                             const v1::ReportRequest& request) {
  ReferralSeeder seeder(network);
  const std::string run = absl::StrCat(absl::ToUnixMicros(absl::Now()));
  std::atomic<int64_t> next{0};
  // One-referral commits (received in 2026, outside every report's range) and delivery reads,
  // each on its own thread, a few ms apart, until `stop`.
  auto load = [&](std::atomic<bool>* stop, Latencies* commits, Latencies* dues, absl::Status* error) {
    std::thread committer([&] {
      while (!*stop) {
        SeededReferral s = seeder.Make(0, 1);
        // Ids of their own: the seeder's repeat from run to run, and a kept store has the last run's.
        s.record.message_id = absl::StrCat("contention-", run, "-", next++);
        s.record.referral_id = s.record.message_id;
        s.record.decision.set_referral_id(s.record.referral_id);
        for (v1::AuditRecord& a : s.record.audit) a.set_referral_id(s.record.referral_id);
        s.record.received_at = kYearEnd + absl::Hours(24 * 180);
        const absl::Time t0 = absl::Now();
        absl::StatusOr<std::vector<gateway::RecordOutcome>> out = store->RecordReferrals({std::move(s.record)});
        commits->ms.push_back(Ms(absl::Now() - t0));
        if (!out.ok()) *error = out.status();
        absl::SleepFor(absl::Milliseconds(5));
      }
    });
    while (!*stop) {
      const absl::Time t0 = absl::Now();
      absl::StatusOr<std::vector<gateway::OutboxItem>> due = store->DueDeliveries("action-together-oldham", t0, 64);
      dues->ms.push_back(Ms(absl::Now() - t0));
      if (!due.ok()) *error = due.status();
      absl::SleepFor(absl::Milliseconds(5));
    }
    committer.join();
  };
  Contention c;
  absl::Status error;
  {
    std::atomic<bool> stop{false};
    std::thread t(load, &stop, &c.commit_alone, &c.due_alone, &error);
    absl::SleepFor(absl::Seconds(3));
    stop = true;
    t.join();
  }
  {
    std::atomic<bool> stop{false};
    std::thread t(load, &stop, &c.commit_during, &c.due_during, &error);
    // A seeder is not thread-safe: the report thread does not use it.
    const absl::Time t0 = absl::Now();
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<v1::Report> report = timer->WholePath(request);
      if (!report.ok()) error = report.status();
    }
    c.report_ms = Ms(absl::Now() - t0) / 2;
    stop = true;
    t.join();
  }
  if (!error.ok()) return error;
  return c;
}

// ---- Main ---------------------------------------------------------------------------------------

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--sqlite")
      o->sqlite_path = next();
    else if (a == "--postgres")
      o->postgres_conninfo = next();
    else if (a == "--referrals")
      o->referrals = std::stoll(next());
    else if (a == "--repetitions")
      o->repetitions = std::stoi(next());
    else if (a == "--seed-threads")
      o->seed_threads = std::stoi(next());
    else if (a == "--seed-dir")
      o->seed_dir = next();
    else if (a == "--no-contention")
      o->contention = false;
    else if (a == "--seed-only")
      o->seed_only = true;
    else if (a == "--only")
      o->only = next();
    else if (a == "--label")
      o->label = next();
    else if (a == "--json")
      o->json = next();
    else
      return false;
  }
  return o->sqlite_path.empty() != o->postgres_conninfo.empty() && o->referrals > 0 && o->repetitions > 0;
}

int Run(const Options& o) {
  absl::StatusOr<network::NetworkDirectory> network = network::NetworkDirectory::LoadDemo();
  if (!network.ok()) {
    std::fprintf(stderr, "report-bench: %s\n", network.status().ToString().c_str());
    return 1;
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone("Europe/London", &zone)) zone = absl::UTCTimeZone();
  const bool sqlite = !o.sqlite_path.empty();
  const int threads = o.seed_threads > 0 ? o.seed_threads : (sqlite ? 1 : 4);
  const std::string year_count =
      absl::StrCat("SELECT count(*) FROM referrals WHERE received_us >= ", absl::ToUnixMicros(kYearStart),
                   " AND received_us < ", absl::ToUnixMicros(kYearEnd));
  SeedFigures seeded;
  std::unique_ptr<Store> store;
  std::unique_ptr<RawReader> raw;
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "report-bench: %s\n", s.ToString().c_str());
    return 1;
  };
  if (sqlite) {
    namespace fs = std::filesystem;
    if (!fs::exists(o.sqlite_path)) {
      // Seeded elsewhere (tmpfs: its fsyncs are free) and moved here when complete.
      std::string dir = o.seed_dir;
      if (dir.empty()) dir = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::path(o.sqlite_path).parent_path().string();
      const std::string seeding = absl::StrCat(dir, "/frontdoor-report-bench-", getpid(), ".db");
      std::fprintf(stderr, "report-bench: seeding %lld referrals into %s\n", static_cast<long long>(o.referrals),
                   seeding.c_str());
      {
        absl::StatusOr<std::unique_ptr<gateway::SqliteStore>> s = gateway::SqliteStore::Open(seeding);
        if (!s.ok()) return fail(s.status());
        absl::StatusOr<SeedFigures> f = SeedStore(s->get(), *network, o.referrals, threads);
        if (!f.ok()) return fail(f.status());
        seeded = *f;
      }  // closed: the WAL is checkpointed into the file
      std::error_code ec;
      fs::create_directories(fs::path(o.sqlite_path).parent_path(), ec);
      fs::copy_file(seeding, o.sqlite_path + ".part", ec);
      if (!ec) fs::rename(o.sqlite_path + ".part", o.sqlite_path, ec);
      fs::remove(seeding);
      if (ec) return fail(absl::InternalError(absl::StrCat("cannot move the seeded store: ", ec.message())));
    }
    absl::StatusOr<std::unique_ptr<gateway::SqliteStore>> s = gateway::SqliteStore::Open(o.sqlite_path);
    if (!s.ok()) return fail(s.status());
    store = std::move(*s);
    raw = std::make_unique<SqliteRaw>(o.sqlite_path);
  } else {
    absl::StatusOr<std::unique_ptr<gateway::PostgresStore>> s = gateway::PostgresStore::Open(
        {.conninfo = o.postgres_conninfo, .pool_size = std::max(4, threads), .replica_id = "report-bench"});
    if (!s.ok()) return fail(s.status());
    store = std::move(*s);
    raw = std::make_unique<PostgresRaw>(o.postgres_conninfo);
  }
  absl::StatusOr<int64_t> have = raw->Count(year_count);
  if (!have.ok()) return fail(have.status());
  if (*have == 0) {
    std::fprintf(stderr, "report-bench: seeding %lld referrals (%d threads for feedback)\n",
                 static_cast<long long>(o.referrals), threads);
    absl::StatusOr<SeedFigures> f = SeedStore(store.get(), *network, o.referrals, threads);
    if (!f.ok()) return fail(f.status());
    seeded = *f;
    if (!sqlite) raw->Count("ANALYZE").IgnoreError();
  } else if (*have != o.referrals) {
    return fail(absl::FailedPreconditionError(
        absl::StrCat("the store holds ", *have, " referrals of 2025, not ", o.referrals, ": use another")));
  } else if (seeded.referrals == 0) {
    seeded.reused = true;  // neither seeded into the file above nor now
  }
  if (seeded.reused || seeded.referrals == 0) {
    seeded.referrals = *have;
    seeded.feedback = raw->Count("SELECT count(*) FROM feedback_events").value_or(-1);
  }
  if (o.seed_only) {
    std::printf("== %lld referrals of 2025, %lld feedback events (%s)\n", static_cast<long long>(seeded.referrals),
                static_cast<long long>(seeded.feedback), seeded.reused ? "seeded before" : "seeded now");
    return 0;
  }
  const std::string backend = sqlite ? "sqlite" : "postgres";
  std::printf("== outcome reports on %s: %lld referrals of 2025, %lld feedback events (%s)\n", backend.c_str(),
              static_cast<long long>(seeded.referrals), static_cast<long long>(seeded.feedback),
              seeded.reused ? "seeded before, reused" : absl::StrCat("seeded in ", seeded.seconds, " s").c_str());
  std::printf("   plan: %s\n", raw->Plan(Sql(kFactRowsSql, kYearStart, kYearEnd)).c_str());

  ReportTimer timer(store.get(), raw.get(), *network, zone);
  // One report first: the file's pages in the page cache, as on a gateway that has been running.
  const absl::Time warm = absl::Now();
  if (absl::StatusOr<v1::Report> r = timer.WholePath(Requests().front().request); !r.ok()) return fail(r.status());
  const double first_ms = Ms(absl::Now() - warm);
  std::printf("   first report after opening (cold-ish cache): %.0f ms\n", first_ms);
  std::printf("   %-24s %8s %9s | %-15s | %-15s %-15s %-15s | %-15s %-15s %-15s\n", "request (median / max ms)", "rows",
              "MB read", "whole path", "store read", "facts", "BuildReport", "floor: rows", "binary rows", "count(*)");
  std::vector<RequestFigures> figures;
  for (const Request& r : Requests()) {
    if (r.name.find(o.only) == std::string::npos) continue;
    absl::StatusOr<RequestFigures> f = timer.Time(r, o.repetitions);
    if (!f.ok()) return fail(f.status());
    auto mm = [](const Series& s) { return absl::StrFormat("%.0f / %.0f", s.Median(), s.Max()); };
    std::printf("   %-24s %8lld %9lld | %-15s | %-15s %-15s %-15s | %-15s %-15s %-15s\n", f->name.c_str(),
                static_cast<long long>(f->rows), static_cast<long long>(f->bytes >> 20), mm(f->whole).c_str(),
                mm(f->read).c_str(), mm(f->facts).c_str(), mm(f->build).c_str(), mm(f->floor_rows).c_str(),
                f->floor_rows_binary.ms.empty() ? "-" : mm(f->floor_rows_binary).c_str(), mm(f->floor_count).c_str());
    std::fflush(stdout);
    figures.push_back(std::move(*f));
  }
  std::optional<Contention> contention;
  if (o.contention) {
    absl::StatusOr<Contention> c = MeasureContention(store.get(), &timer, *network, Requests()[2].request);
    if (!c.ok()) return fail(c.status());
    contention = *c;
    std::printf("   while nothing else reads (3 s): one-referral commits %s; DueDeliveries %s\n",
                c->commit_alone.Summary().c_str(), c->due_alone.Summary().c_str());
    std::printf("   while 'year by week by cluster' runs (%.0f ms each): commits %s; DueDeliveries %s\n", c->report_ms,
                c->commit_during.Summary().c_str(), c->due_during.Summary().c_str());
  }
  if (!o.json.empty()) {
    std::ofstream out(o.json);
    out << "{\"backend\": \"" << backend << "\", \"label\": \"" << o.label << "\", \"referrals\": " << seeded.referrals
        << ", \"feedback_events\": " << seeded.feedback << ", \"reused\": " << (seeded.reused ? "true" : "false")
        << ", \"seed_seconds\": " << seeded.seconds << ", \"first_report_ms\": " << first_ms << ", \"requests\": [";
    for (size_t i = 0; i < figures.size(); ++i) {
      const RequestFigures& f = figures[i];
      out << (i ? ", " : "") << "{\"name\": \"" << f.name << "\", \"rows\": " << f.rows << ", \"bytes\": " << f.bytes
          << ", \"whole\": " << f.whole.Json() << ", \"store_read\": " << f.read.Json()
          << ", \"facts\": " << f.facts.Json() << ", \"build\": " << f.build.Json()
          << ", \"floor_rows\": " << f.floor_rows.Json()
          << ", \"floor_rows_binary\": " << (f.floor_rows_binary.ms.empty() ? "null" : f.floor_rows_binary.Json())
          << ", \"floor_count\": " << f.floor_count.Json() << "}";
    }
    out << "]";
    if (contention) {
      out << ", \"contention\": {\"report_ms\": " << contention->report_ms
          << ", \"commit_alone\": " << contention->commit_alone.Json()
          << ", \"commit_during\": " << contention->commit_during.Json()
          << ", \"due_deliveries_alone\": " << contention->due_alone.Json()
          << ", \"due_deliveries_during\": " << contention->due_during.Json() << "}";
    }
    out << "}\n";
  }
  return 0;
}

}  // namespace
}  // namespace frontdoor::bench

int main(int argc, char** argv) {
  frontdoor::bench::Options o;
  if (!frontdoor::bench::ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: frontdoor-report-bench (--sqlite FILE | --postgres CONNINFO) [--referrals N] "
                 "[--repetitions R] [--seed-threads T] [--seed-dir DIR] [--seed-only] [--only NAME] [--no-contention] "
                 "[--label NAME] "
                 "[--json FILE]\n");
    return 2;
  }
  return frontdoor::bench::Run(o);
}
