#include "gateway/store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "common/threads.h"
#include "gateway/store/sqlite/sqlite_schema.h"
#include "gateway/store/sqlite/sqlite_statements.h"

namespace frontdoor::gateway {

using sqlite::CloseConnection;
using sqlite::Exec;
using sqlite::Migrate;
using sqlite::OpenConnection;
using sqlite::Run;

namespace {

// A damaged file is refused before anything is written into it: SQLite's quick_check (the pages,
// their order, the indexes' structure; O(size), a second or so per GiB). DATA_LOSS names the file
// and what to do; the file is left as it is.
absl::Status CheckIntact(sqlite3* db, const std::string& path) {
  std::string verdict;
  char* error = nullptr;
  const int rc = sqlite3_exec(
      db, "PRAGMA quick_check(1)",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
        return 0;
      },
      &verdict, &error);
  std::string cause = rc != SQLITE_OK ? (error != nullptr ? error : sqlite3_errstr(rc)) : verdict;
  sqlite3_free(error);
  if (rc == SQLITE_OK && verdict == "ok") return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("the SQLite store ", path, " is damaged (", cause,
                                          "): the gateway will not write into it. Restore it from a backup, or move "
                                          "it aside to start an empty store; it has been left untouched"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  FRONTDOOR_ASSIGN_OR_RETURN(sqlite3 * writer, OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  if (absl::Status intact = CheckIntact(writer, path); !intact.ok()) {
    CloseConnection(writer);
    return intact;
  }
  // WAL: readers never block the writer; FULL: a commit is durable when it returns.
  // cache_size: 8 MiB of pages per connection (SQLite's default is 2 MiB): the right-hand ends of
  // the tables and the hot index pages stay in memory instead of being read again with pread.
  // journal_size_limit: when the WAL starts again from its beginning, a file grown past 64 MiB (a
  // burst, an outage's backlog) is cut back to that.
  absl::Status s = Exec(writer,
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                        " PRAGMA cache_size = -8192; PRAGMA journal_size_limit = 67108864;");
  int version = 0;
  if (s.ok()) s = Migrate(writer, &version);
  if (!s.ok()) {
    CloseConnection(writer);
    // A read-only file or folder, a full disk: say which file, and why.
    return absl::Status(s.code(), absl::StrCat("the SQLite store ", path, " cannot be written: ", s.message()));
  }
  absl::StatusOr<sqlite3*> reader = OpenConnection(path, SQLITE_OPEN_READONLY);
  if (reader.ok()) {
    if (absl::Status set = Exec(*reader, "PRAGMA cache_size = -8192"); !set.ok()) {
      CloseConnection(*reader);
      reader = set;
    }
  }
  if (!reader.ok()) {
    CloseConnection(writer);
    return reader.status();
  }
  // WAL checkpoints (copying committed pages into the database file, with its fsync) run on a
  // connection and thread of their own, so a commit that answers referrers never does that work:
  // it was a source of long tails at steady load (docs/PERFORMANCE.md).
  absl::StatusOr<sqlite3*> checkpointer = OpenConnection(path, SQLITE_OPEN_READWRITE);
  if (checkpointer.ok()) {
    absl::Status set = Exec(writer, "PRAGMA wal_autocheckpoint = 0");
    if (set.ok()) set = Exec(*checkpointer, "PRAGMA synchronous = FULL");
    if (!set.ok()) {
      CloseConnection(*checkpointer);
      checkpointer = set;
    }
  }
  if (!checkpointer.ok()) {
    CloseConnection(*reader);
    CloseConnection(writer);
    return checkpointer.status();
  }
  return std::unique_ptr<SqliteStore>(new SqliteStore(path, writer, *reader, *checkpointer, version));
}

SqliteStore::SqliteStore(std::string path, sqlite3* writer, sqlite3* reader, sqlite3* checkpointer, int schema_version)
    : writer_(writer),
      reader_(reader),
      checkpointer_(checkpointer),
      path_(std::move(path)),
      schema_version_(schema_version) {
  wal_thread_ = std::thread([this] { RunWalCheckpoints(); });
}

void SqliteStore::RunWalCheckpoints() {
  NameThisThread("fd-wal-ckpt");
  for (;;) {
    {
      absl::MutexLock lock(&wal_mu_);
      wal_mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(100));
      if (stopping_) return;
    }
    CheckpointWal();
  }
}

void SqliteStore::CheckpointWal() {
  // PASSIVE: copies what no reader still needs and never waits for, or blocks, the writer. Under
  // steady writes that alone never catches up (frames keep arriving while it copies), so the WAL
  // would never start again from its beginning and would grow for as long as the load lasts (it
  // did: 740 MB in ten seconds at 1,000 referrals/s). So: passes without the writer until what is
  // left is small, then one more holding write_mu_ so that no frame arrives during it. Then the
  // whole WAL is in the database file, and the writer's next transaction starts the WAL again at
  // its beginning, overwriting it in place (journal_size_limit trims it after a burst).
  constexpr int kSmallRemainder = 64;  // frames (4 KiB pages): a few milliseconds of writes
  // The pass under write_mu_ holds every commit off for its fsync of the database file (about a
  // millisecond, several at times): at steady load, every 100 ms that was the submissions' worst
  // wait (docs/PERFORMANCE.md). So the WAL is started again only once it is this long (16 MiB),
  // which at 1,000 referrals/s is about three times a second; until then passes without the
  // writer keep the database file up to date, and a pass that copies everything lets the WAL start
  // again without the lock.
  constexpr int kRestartFrames = 4096;
  int frames = 0;
  int copied = 0;
  for (int pass = 0; pass < 4; ++pass) {
    if (sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied) != SQLITE_OK) {
      return;  // busy or failing: the next round tries again
    }
    if (frames - copied <= kSmallRemainder) break;
  }
  if (frames < kRestartFrames || frames - copied > kSmallRemainder) return;
  absl::MutexLock lock(&write_mu_);
  sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

SqliteStore::~SqliteStore() {
  {
    absl::MutexLock lock(&wal_mu_);
    stopping_ = true;
  }
  wal_thread_.join();
  // The last committed pages go into the database file now rather than at the next start.
  sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  CloseConnection(checkpointer_);
  absl::MutexLock w(&write_mu_);
  absl::MutexLock r(&read_mu_);
  CloseConnection(reader_);
  CloseConnection(writer_);
}

absl::Status SqliteStore::WriteShared(SharedWrite* write) {
  {
    absl::MutexLock queue(&shared_mu_);
    shared_queue_.push_back(write);
    // At steady load a group commit of submissions begins within a millisecond or two and takes
    // this write in. Committing it alone at once would cost an fsync of its own and hold the write
    // lock meanwhile, with the next submissions (and their referrers) waiting behind it. So while
    // submissions come, it waits that long for a commit to carry it first.
    if (absl::Now() - last_group_commit_ < steady_load_window_) {
      shared_mu_.AwaitWithTimeout(absl::Condition(&write->done), shared_write_wait_);
      if (write->done) {
        if (write->carried) ++shared_counts_.carried;
        return write->result;
      }
    }
  }
  absl::MutexLock lock(&write_mu_);
  {
    // Whoever held the write lock while this waited for it finished the transaction it took this
    // write into (commit or rollback) before letting go.
    absl::MutexLock queue(&shared_mu_);
    if (write->done) {
      if (write->carried) ++shared_counts_.carried;
      return write->result;
    }
  }
  sqlite3* db = writer_;
  absl::Status begun = Run(db, "BEGIN IMMEDIATE");
  if (!begun.ok()) {
    // Nothing was taken: this write fails; any queued behind it try for themselves.
    absl::MutexLock queue(&shared_mu_);
    std::erase(shared_queue_, write);
    return begun;
  }
  absl::StatusOr<std::vector<SharedWrite*>> shared = TakeSharedWritesInto(db);
  if (!shared.ok()) return write->result;     // this write was committed (or refused) on its own
  CommitCarrying(db, *shared).IgnoreError();  // its result, and each carried write's, is in `result`
  absl::MutexLock queue(&shared_mu_);
  if (write->carried) ++shared_counts_.own_transactions;
  return write->result;
}

SqliteStore::SharedWriteCounts SqliteStore::shared_write_counts() {
  absl::MutexLock queue(&shared_mu_);
  return shared_counts_;
}

void SqliteStore::SetBeforeSharedWritesHookForTest(std::function<void()> hook) {
  absl::MutexLock lock(&write_mu_);
  before_shared_writes_hook_ = std::move(hook);
}

void SqliteStore::SetSharedWriteWaitForTest(absl::Duration wait, absl::Duration after_group_commit_within) {
  absl::MutexLock queue(&shared_mu_);
  shared_write_wait_ = wait;
  steady_load_window_ = after_group_commit_within;
}

size_t SqliteStore::SharedWritesQueuedForTest() {
  absl::MutexLock queue(&shared_mu_);
  return shared_queue_.size();
}

absl::StatusOr<std::vector<SqliteStore::SharedWrite*>> SqliteStore::TakeSharedWritesInto(sqlite3* db) {
  std::vector<SharedWrite*> taken;
  {
    absl::MutexLock queue(&shared_mu_);
    taken.swap(shared_queue_);
  }
  for (SharedWrite* w : taken) {
    w->result = w->apply(db);
    if (!w->result.ok()) {
      // None of them may commit half-done, and the caller's own work must not fail with one of
      // them: roll back, let each commit (or fail) on its own, and begin again.
      Run(db, "ROLLBACK").IgnoreError();
      CommitEachAlone(db, taken);
      FRONTDOOR_RETURN_IF_ERROR(Run(db, "BEGIN IMMEDIATE"));
      return std::vector<SharedWrite*>();
    }
  }
  return taken;
}

void SqliteStore::CommitEachAlone(sqlite3* db, const std::vector<SharedWrite*>& writes) {
  for (SharedWrite* w : writes) {
    absl::Status s = Run(db, "BEGIN IMMEDIATE");
    if (s.ok()) {
      s = w->apply(db);
      if (s.ok()) s = Run(db, "COMMIT");
      if (!s.ok()) Run(db, "ROLLBACK").IgnoreError();
    }
    w->result = s;
    w->carried = false;
  }
  absl::MutexLock queue(&shared_mu_);
  shared_counts_.own_transactions += static_cast<int64_t>(writes.size());
  for (SharedWrite* w : writes) w->done = true;
}

absl::Status SqliteStore::CommitCarrying(sqlite3* db, const std::vector<SharedWrite*>& carried) {
  const absl::Status committed = Run(db, "COMMIT");
  if (!committed.ok()) Run(db, "ROLLBACK").IgnoreError();
  absl::MutexLock queue(&shared_mu_);
  for (SharedWrite* w : carried) {
    if (!committed.ok()) w->result = committed;
    w->done = true;
  }
  return committed;
}

}  // namespace frontdoor::gateway
