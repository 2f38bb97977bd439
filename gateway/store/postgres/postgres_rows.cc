#include "gateway/store/postgres/postgres_rows.h"

#include "audit/audit_record.h"
#include "audit/merkle_tree.h"
#include "audit/search_columns.h"
#include "common/status_macros.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway::pg {

absl::Status LockAuditHead(Connection& c) {
  return c.Exec("SELECT next_index FROM audit_head FOR UPDATE", Params(), "lock audit head").status();
}

absl::Status AppendAuditLocked(Connection& c, std::vector<frontdoor::v1::AuditRecord>* records) {
  if (records->empty()) return absl::OkStatus();
  const int64_t n = static_cast<int64_t>(records->size());
  FRONTDOOR_ASSIGN_OR_RETURN(Result head,
                             c.Exec("UPDATE audit_head SET next_index = next_index + $1 RETURNING next_index - $1",
                                    Params().Int(n), "next audit index"));
  if (head.rows() != 1) return absl::InternalError("the audit head row is missing");
  int64_t index = head.Int(0, 0);
  for (frontdoor::v1::AuditRecord& r : *records) {
    FRONTDOOR_ASSIGN_OR_RETURN(store_rows::SealedAuditRecord sealed, store_rows::SealAuditRecord(index, &r));
    const audit::AuditSearchColumns& columns = sealed.columns;
    Params p;
    p.Int(index)
        .Text(sealed.leaf_hash)
        .Int(columns.time_us)
        .Bytes(std::move(sealed.body))
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
    r.set_leaf_hash_hex(sealed.leaf_hash);
    ++index;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ReferralAuditContext>> ReadAuditContext(Connection& c, const std::string& referral_id) {
  FRONTDOOR_ASSIGN_OR_RETURN(Result r, c.Exec("SELECT nhs_number, consent_reference, referrer_ods, rule_ids"
                                              " FROM audit_context WHERE referral_id = $1",
                                              Params().Text(referral_id), "read audit context"));
  if (r.rows() == 0) return std::nullopt;
  return ReferralAuditContext{r.Text(0, 0), r.Text(0, 1), r.Text(0, 2), r.Text(0, 3)};
}

}  // namespace frontdoor::gateway::pg
