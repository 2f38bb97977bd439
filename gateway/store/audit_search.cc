#include "gateway/store/audit_search.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "audit/audit_record.h"
#include "audit/merkle_tree.h"
#include "common/time_text.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

// Rows read per chunk: large enough that a scan is a few statements per thousand records, small
// enough that a store's reader is never held long (SQLite's is shared with the delivery workers).
constexpr int kChunkRows = 512;

}  // namespace

bool AuditRecordMatches(const AuditQuery& q, const v1::AuditRecord& r) {
  if (!q.nhs_number.empty() && r.nhs_number() != q.nhs_number) return false;
  if (!q.recipient_endpoint.empty() && r.recipient_endpoint() != q.recipient_endpoint) return false;
  if (!q.referrer_ods.empty() && r.referrer_ods() != q.referrer_ods) return false;
  if (!q.outcome.empty() && r.outcome() != q.outcome) return false;
  if (!q.action.empty() && r.action() != q.action) return false;
  if (!q.rule_id.empty() && std::find(r.rule_ids().begin(), r.rule_ids().end(), q.rule_id) == r.rule_ids().end()) {
    return false;
  }
  if (q.from.has_value() || q.to.has_value()) {
    absl::Time t;
    if (!ParseRfc3339(r.time(), &t)) return false;
    if (q.from.has_value() && t < *q.from) return false;
    if (q.to.has_value() && t >= *q.to) return false;
  }
  return true;
}

absl::StatusOr<std::vector<v1::AuditRecord>> SearchAuditLog(const AuditQuery& query, int64_t after_index, int limit,
                                                            const AuditRowReader& read) {
  std::vector<v1::AuditRecord> out;
  int64_t cursor = after_index;
  while (static_cast<int>(out.size()) < limit) {
    absl::StatusOr<std::vector<StoredAuditRow>> rows = read(cursor, kChunkRows);
    if (!rows.ok()) return rows.status();
    for (StoredAuditRow& row : *rows) {
      cursor = row.index;
      v1::AuditRecord record;
      if (!record.ParseFromString(row.body)) {
        return absl::DataLossError(absl::StrCat("audit record ", row.index, " does not parse; run audit verify"));
      }
      if (static_cast<int64_t>(record.index()) != row.index ||
          audit::ToHex(audit::RecordLeafHash(record)) != row.leaf_hash_hex) {
        return absl::DataLossError(absl::StrCat(
            "audit record ", row.index, " does not match its leaf hash: the log was altered; run audit verify"));
      }
      if (!AuditRecordMatches(query, record)) continue;
      record.set_leaf_hash_hex(std::move(row.leaf_hash_hex));
      out.push_back(std::move(record));
      if (static_cast<int>(out.size()) == limit) break;
    }
    if (static_cast<int>(rows->size()) < kChunkRows) break;
  }
  return out;
}

}  // namespace frontdoor::gateway
