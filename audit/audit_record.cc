#include "audit/audit_record.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace frontdoor::audit {
namespace {

constexpr std::string_view kHeader = "frontdoor-audit-record-v1\n";

// Decimal digits of n.
size_t Digits(uint64_t n) {
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

// Writes n in decimal at `out`, which has room for Digits(n) characters; returns the end.
char* WriteDecimal(char* out, uint64_t n) {
  char* end = out + Digits(n);
  char* p = end;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  return end;
}

char* Copy(char* out, std::string_view s) {
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

}  // namespace

// "name:length:value\n" for each field, in this fixed order, after the header. Sized first and
// written once: it is hashed for every audit record the gateway writes (five per referral), and
// building it with StrAppend was about 30k instructions per referral.
std::string CanonicalRecordBytes(const frontdoor::v1::AuditRecord& r) {
  char index[20];
  const std::string_view index_text(index, static_cast<size_t>(WriteDecimal(index, r.index()) - index));
  absl::InlinedVector<std::pair<std::string_view, std::string_view>, 16> fields;
  fields.emplace_back("index", index_text);
  fields.emplace_back("time", r.time());
  fields.emplace_back("actor", r.actor());
  fields.emplace_back("actor_organisation", r.actor_organisation());
  fields.emplace_back("nhs_number", r.nhs_number());
  fields.emplace_back("referral_id", r.referral_id());
  fields.emplace_back("action", r.action());
  for (const std::string& rule : r.rule_ids()) fields.emplace_back("rule_id", rule);
  fields.emplace_back("consent_reference", r.consent_reference());
  fields.emplace_back("recipient_endpoint", r.recipient_endpoint());
  fields.emplace_back("outcome", r.outcome());
  for (const std::string& c : r.withheld_categories()) fields.emplace_back("withheld_category", c);
  fields.emplace_back("referrer_ods", r.referrer_ods());
  fields.emplace_back("lawful_basis", r.lawful_basis());
  fields.emplace_back("detail", r.detail());

  size_t size = kHeader.size();
  for (const auto& [name, value] : fields) size += name.size() + Digits(value.size()) + value.size() + 3;
  std::string out(size, '\0');
  char* p = Copy(out.data(), kHeader);
  for (const auto& [name, value] : fields) {
    p = Copy(p, name);
    *p++ = ':';
    p = WriteDecimal(p, value.size());
    *p++ = ':';
    p = Copy(p, value);
    *p++ = '\n';
  }
  return out;
}

Hash RecordLeafHash(const frontdoor::v1::AuditRecord& record) { return LeafHash(CanonicalRecordBytes(record)); }

}  // namespace frontdoor::audit
