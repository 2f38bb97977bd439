#include "tests/gateway/store/outbox_test_steps.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "frontdoor/v1/connector_service.pb.h"

namespace frontdoor::gateway::testing {

absl::Status MarkOneDelivered(DeliveryOutbox* outbox, int64_t outbox_id, absl::Time at) {
  OutboxItem row;
  row.outbox_id = outbox_id;
  const OutboxItem* rows[] = {&row};
  return outbox->MarkDeliveredMany(rows, at);
}

absl::Status RecordFailedAttempt(DeliveryOutbox* outbox, int64_t outbox_id, absl::Time next_attempt_at,
                                 std::string_view error) {
  return outbox->RecordFailedAttemptOrDeadLetter(outbox_id, next_attempt_at, error, DeadLetterLimits{}, next_attempt_at)
      .status();
}

namespace {

// The INSERT of a pending cease row; `sqlite` picks the database's literal for bytes.
std::string CeaseRowSql(bool sqlite, const std::string& referral_id, const std::string& endpoint_id, absl::Time at) {
  frontdoor::v1::CeaseProcessingRequest cease;
  cease.set_idempotency_key("cease:" + referral_id);
  cease.set_referral_id(referral_id);
  std::string hex;
  for (unsigned char c : cease.SerializeAsString()) absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
  const std::string payload = sqlite ? absl::StrCat("X'", hex, "'") : absl::StrCat("'\\x", hex, "'::bytea");
  const int64_t us = absl::ToUnixMicros(at);
  return absl::StrCat(
      "INSERT INTO outbox (referral_id, endpoint_id, kind, idempotency_key, payload, state, next_attempt_us,"
      " created_us) VALUES ('",
      referral_id, "', '", endpoint_id, "', 'cease', 'cease:", referral_id, "', ", payload, ", 'pending', ", us, ", ",
      us, ")");
}

}  // namespace

absl::Status QueueCeaseBehind(const frontdoor::testing::TestDatabase& db, const std::string& referral_id,
                              const std::string& endpoint_id, absl::Time at) {
  return db.ExecSql(
      CeaseRowSql(db.backend() == frontdoor::testing::StoreBackend::kSqlite, referral_id, endpoint_id, at));
}

absl::Status QueueCeaseBehind(const std::string& sqlite_path, const std::string& referral_id,
                              const std::string& endpoint_id, absl::Time at) {
  sqlite3* db = nullptr;
  if (sqlite3_open(sqlite_path.c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return absl::UnavailableError("cannot open the SQLite file");
  }
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, CeaseRowSql(true, referral_id, endpoint_id, at).c_str(), nullptr, nullptr, &error);
  absl::Status s = rc == SQLITE_OK ? absl::OkStatus() : absl::InternalError(error != nullptr ? error : "sqlite3_exec");
  sqlite3_free(error);
  sqlite3_close(db);
  return s;
}

}  // namespace frontdoor::gateway::testing
