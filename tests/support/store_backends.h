// The store test-suite runs against both backends: a value-parameterized test takes a
// StoreBackend and opens its stores through a TestDatabase (a SQLite file in a temporary
// directory, or a fresh database on the test run's real PostgreSQL server).
//
//   class MyStoreTest : public ::testing::TestWithParam<StoreBackend> {
//     void SetUp() override { FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(GetParam()); db_.emplace(GetParam()); }
//   };
//   TEST_P(MyStoreTest, ...) { OpenedStore store = db_->Open(); store->RecordReferrals(...); }
//   INSTANTIATE_TEST_SUITE_P(Backends, MyStoreTest, AllStoreBackends(), StoreBackendName);
#ifndef FRONTDOOR_TESTS_SUPPORT_STORE_BACKENDS_H_
#define FRONTDOOR_TESTS_SUPPORT_STORE_BACKENDS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/store/store.h"
#include "gtest/gtest.h"
#include "tests/support/postgres_server.h"
#include "tests/support/test_support.h"

namespace frontdoor::testing {

enum class StoreBackend { kSqlite, kPostgres };

inline ::testing::internal::ParamGenerator<StoreBackend> AllStoreBackends() {
  return ::testing::Values(StoreBackend::kSqlite, StoreBackend::kPostgres);
}
std::string StoreBackendName(const ::testing::TestParamInfo<StoreBackend>& info);

// Skips the test when PostgreSQL's binaries are not installed (never in CI: scripts/install-deps).
#define FRONTDOOR_SKIP_IF_BACKEND_UNAVAILABLE(backend)                   \
  do {                                                                   \
    if ((backend) == ::frontdoor::testing::StoreBackend::kPostgres &&    \
        !::frontdoor::testing::PostgresUnavailableReason().empty()) {    \
      GTEST_SKIP() << ::frontdoor::testing::PostgresUnavailableReason(); \
    }                                                                    \
  } while (0)

// One open store: every interface a backend implements (gateway/store/store.h).
class OpenedStore {
 public:
  OpenedStore() = default;
  explicit OpenedStore(std::unique_ptr<gateway::Store> store) : store_(std::move(store)) {}
  gateway::Store* operator->() const { return store_.get(); }
  gateway::Store* get() const { return store_.get(); }
  gateway::AuditStore* audit() const { return store_.get(); }
  explicit operator bool() const { return store_ != nullptr; }
  void reset() { store_.reset(); }

 private:
  std::unique_ptr<gateway::Store> store_;
};

// One test's database.
class TestDatabase {
 public:
  explicit TestDatabase(StoreBackend backend);
  StoreBackend backend() const { return backend_; }

  // Opens a store on it (again: a new store object on the same data). `replica` and `lease` are
  // PostgreSQL's outbox-lease settings; the SQLite store has one writer and ignores them.
  absl::StatusOr<OpenedStore> TryOpen(const std::string& replica = "replica-a",
                                      absl::Duration lease = absl::Seconds(30));
  // TryOpen that fails the test on error.
  OpenedStore Open(const std::string& replica = "replica-a", absl::Duration lease = absl::Seconds(30));

  // The gateway configuration's store block for this database (for WriteBulkTestConfig's `extra`).
  std::string ConfigBlock(const std::string& replica = "", int lease_seconds = 0) const;
  const std::string& postgres_conninfo() const { return conninfo_; }
  // Runs `sql` on the database through a connection of its own, as an insider with the database
  // (or an operator's tool) would, beside any open store.
  absl::Status ExecSql(const std::string& sql) const;
  const std::string& sqlite_path() const { return sqlite_path_; }

 private:
  StoreBackend backend_;
  TempDir dir_;
  std::string sqlite_path_;
  std::string conninfo_;
};

}  // namespace frontdoor::testing

#endif  // FRONTDOOR_TESTS_SUPPORT_STORE_BACKENDS_H_
