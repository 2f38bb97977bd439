// The search columns of an audit record: copies of some of its fields that a store keeps beside
// the signed record, so that readers can find records by them (who it is about, which referral,
// to whom, from whom, with what outcome, under which rules, when). They are derived from the
// record and nothing else, and they are not covered by its leaf hash, so an insider with the
// database could edit them to hide a record from a search. Verification therefore checks every
// column against the record it was derived from (VerifyAuditLog), and the stores' searches filter
// on the verified records themselves, never on these columns.
//
//   absl::StatusOr<AuditSearchColumns> columns = SearchColumnsOf(record);  // what to write beside it
//   std::optional<std::string> bad = FirstDisagreeingColumn(stored, *columns);  // "nhs_number"
//
// A pruned record (body removed under retention) keeps only its time: its other columns are empty.
// Pure; thread-safe.
#ifndef FRONTDOOR_AUDIT_SEARCH_COLUMNS_H_
#define FRONTDOOR_AUDIT_SEARCH_COLUMNS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "frontdoor/v1/audit_service.pb.h"

namespace frontdoor::audit {

struct AuditSearchColumns {
  int64_t time_us = 0;  // the record's time, microseconds since the Unix epoch
  std::string referral_id;
  std::string nhs_number;
  std::string recipient_endpoint;
  std::string referrer_ods;
  std::string outcome;
  std::string rule_ids;  // ",IG-1,IG-5,": each rule between commas, for matching one; "" for none
};

// The columns of `record`. INVALID_ARGUMENT when its time is not RFC 3339.
absl::StatusOr<AuditSearchColumns> SearchColumnsOf(const frontdoor::v1::AuditRecord& record);

// The name of the first column of `stored` that differs from `derived` (in the order above);
// nullopt when they agree.
std::optional<std::string> FirstDisagreeingColumn(const AuditSearchColumns& stored, const AuditSearchColumns& derived);

}  // namespace frontdoor::audit

#endif  // FRONTDOOR_AUDIT_SEARCH_COLUMNS_H_
