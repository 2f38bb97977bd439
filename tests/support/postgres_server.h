// A real PostgreSQL server for tests: Debian's postgresql-15 binaries (initdb, pg_ctl) run into a
// temporary data directory, on a free loopback port, with its unix socket in that directory,
// fsync on; stopped at the end (pg_ctl stop -m immediate: no shutdown checkpoint, the directory is
// removed next). initdb and postgres refuse to run as root: under root they run as the `postgres`
// system user (runuser), which owns the directory.
//
// One server serves a whole test run: CTest starts it once (the `postgres` fixture,
// postgres_test_server start DIR) and tells every test binary where through FRONTDOOR_TEST_POSTGRES;
// a binary run by hand starts its own. Each test takes a fresh database:
//
//   std::string conninfo = frontdoor::testing::FreshPostgresDatabase();  // "host=/tmp/... port=... dbname=t_..."
//   auto store = PostgresStore::Open({.conninfo = conninfo});
//
// Tests call GTEST_SKIP() with PostgresUnavailableReason() only when the binaries are absent
// (scripts/install-deps installs them, so CI always runs these tests).
#ifndef FRONTDOOR_TESTS_SUPPORT_POSTGRES_SERVER_H_
#define FRONTDOOR_TESTS_SUPPORT_POSTGRES_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace frontdoor::testing {

// Where the PostgreSQL 15 server binaries are; empty when they are not installed.
std::string PostgresBinDir();

class PostgresServer {
 public:
  // initdb + pg_ctl start under a new directory in `parent` (or the system temp dir when empty).
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(const std::string& parent = "");
  // A server another process started, described by the file Describe() wrote.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Attach(const std::string& description_file);
  // Stops the server (when this object started it) and removes its directory.
  ~PostgresServer();

  // Writes where the server is (for Attach) to `file`.
  absl::Status Describe(const std::string& file) const;
  // Stops it now (idempotent).
  void Stop();
  // Leaves it running when this object goes (the CTest fixture's `start`).
  void Detach() { owned_ = false; }
  // Stops the server described in `description_file` (if any) and removes that file.
  static void StopDescribed(const std::string& description_file);

  const std::string& socket_dir() const { return socket_dir_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // A libpq conninfo for `database` as the test superuser, over the unix socket.
  std::string Conninfo(const std::string& database = "postgres") const;
  // CREATE DATABASE with a name unique to this process; returns its conninfo.
  absl::StatusOr<std::string> CreateDatabase();

 private:
  PostgresServer() = default;
  std::string dir_;
  std::string socket_dir_;
  int port_ = 0;
  bool owned_ = false;
};

// Why PostgreSQL tests cannot run here ("" when they can).
std::string PostgresUnavailableReason();

// The process-wide server (the CTest fixture's, or one started now and stopped at exit).
// FAILED_PRECONDITION when the binaries are absent.
absl::StatusOr<PostgresServer*> SharedPostgresServer();

// A fresh, empty database on the shared server: its conninfo. Fails the calling test (and returns
// "") when that is impossible although the binaries are installed.
std::string FreshPostgresDatabase();

}  // namespace frontdoor::testing

#endif  // FRONTDOOR_TESTS_SUPPORT_POSTGRES_SERVER_H_
