#include "audit/audit_record.h"

#include "absl/strings/str_cat.h"

namespace frontdoor::audit {
namespace {

void Field(std::string* out, const char* name, const std::string& value) {
  absl::StrAppend(out, name, ":", value.size(), ":", value, "\n");
}

}  // namespace

std::string CanonicalRecordBytes(const frontdoor::v1::AuditRecord& r) {
  std::string out = "frontdoor-audit-record-v1\n";
  Field(&out, "index", absl::StrCat(r.index()));
  Field(&out, "time", r.time());
  Field(&out, "actor", r.actor());
  Field(&out, "actor_organisation", r.actor_organisation());
  Field(&out, "nhs_number", r.nhs_number());
  Field(&out, "referral_id", r.referral_id());
  Field(&out, "action", r.action());
  for (const std::string& rule : r.rule_ids()) Field(&out, "rule_id", rule);
  Field(&out, "consent_reference", r.consent_reference());
  Field(&out, "recipient_endpoint", r.recipient_endpoint());
  Field(&out, "outcome", r.outcome());
  for (const std::string& c : r.withheld_categories()) Field(&out, "withheld_category", c);
  Field(&out, "referrer_ods", r.referrer_ods());
  Field(&out, "lawful_basis", r.lawful_basis());
  Field(&out, "detail", r.detail());
  return out;
}

Hash RecordLeafHash(const frontdoor::v1::AuditRecord& record) { return LeafHash(CanonicalRecordBytes(record)); }

}  // namespace frontdoor::audit
