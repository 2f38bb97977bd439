#include "audit/search_columns.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/time_text.h"

namespace frontdoor::audit {

absl::StatusOr<AuditSearchColumns> SearchColumnsOf(const frontdoor::v1::AuditRecord& record) {
  absl::Time t;
  if (!ParseRfc3339(record.time(), &t)) {
    return absl::InvalidArgumentError("an audit record's time is not RFC 3339");
  }
  AuditSearchColumns c;
  c.time_us = absl::ToUnixMicros(t);
  c.referral_id = record.referral_id();
  c.nhs_number = record.nhs_number();
  c.recipient_endpoint = record.recipient_endpoint();
  c.referrer_ods = record.referrer_ods();
  c.outcome = record.outcome();
  if (!record.rule_ids().empty()) c.rule_ids = absl::StrCat(",", absl::StrJoin(record.rule_ids(), ","), ",");
  return c;
}

std::optional<std::string> FirstDisagreeingColumn(const AuditSearchColumns& stored, const AuditSearchColumns& derived) {
  if (stored.time_us != derived.time_us) return "time_us";
  if (stored.referral_id != derived.referral_id) return "referral_id";
  if (stored.nhs_number != derived.nhs_number) return "nhs_number";
  if (stored.recipient_endpoint != derived.recipient_endpoint) return "recipient_endpoint";
  if (stored.referrer_ods != derived.referrer_ods) return "referrer_ods";
  if (stored.outcome != derived.outcome) return "outcome";
  if (stored.rule_ids != derived.rule_ids) return "rule_ids";
  return std::nullopt;
}

}  // namespace frontdoor::audit
