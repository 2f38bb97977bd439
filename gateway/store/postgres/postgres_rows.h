// What the PostgreSQL store's files share inside a transaction: the audit log's head lock and
// appends, and the audit context later records of a referral cite. Internal to
// gateway/store/postgres/.
//
//   FRONTDOOR_RETURN_IF_ERROR(LockAuditHead(c));           // first, in every appending transaction
//   FRONTDOOR_RETURN_IF_ERROR(AppendAuditLocked(c, &records));
//
// Thread-safety: on the connection the caller holds.
#ifndef FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_ROWS_H_
#define FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_ROWS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "gateway/store/delivery_outbox.h"
#include "gateway/store/postgres/postgres_connection.h"
#include "gateway/store/referral_records.h"

namespace frontdoor::gateway::pg {

// Locks the audit log's head row: the first statement of every transaction that appends to the
// audit log (or records feedback), so such transactions take their locks in one order.
absl::Status LockAuditHead(Connection& c);

// Inside a transaction holding the audit head lock: appends `records` at the next indexes
// (setting each one's index and leaf hash).
absl::Status AppendAuditLocked(Connection& c, std::vector<frontdoor::v1::AuditRecord>* records);

// The referral's audit context (who it is about, consent, referrer, rules); nullopt when it was
// recorded before the audit log existed.
absl::StatusOr<std::optional<ReferralAuditContext>> ReadAuditContext(Connection& c, const std::string& referral_id);

// Inside the transaction recording `event` (which holds the audit head lock, so no other feedback
// of the referral is folded at the same time): folds it into the referral's report facts.
absl::Status AddToReportFacts(Connection& c, const StoredReferral& referral,
                              const frontdoor::v1::ReportProgressRequest& event);

}  // namespace frontdoor::gateway::pg

#endif  // FRONTDOOR_GATEWAY_STORE_POSTGRES_POSTGRES_ROWS_H_
