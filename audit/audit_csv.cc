#include "audit/audit_csv.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace frontdoor::audit {

std::string AuditCsvHeader() {
  return "index,time,actor,actor_organisation,nhs_number,referral_id,action,outcome,rule_ids,"
         "consent_reference,recipient_endpoint,referrer_ods,withheld_categories,lawful_basis,detail\n";
}

std::string CsvField(const std::string& field) {
  std::string text = field;
  if (!text.empty() &&
      (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' || text[0] == '\t' || text[0] == '\r')) {
    text.insert(text.begin(), '\'');
  }
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string AuditCsvRow(const frontdoor::v1::AuditRecord& r) {
  std::vector<std::string> row = {std::to_string(r.index()),
                                  r.time(),
                                  r.actor(),
                                  r.actor_organisation(),
                                  r.nhs_number(),
                                  r.referral_id(),
                                  r.action(),
                                  r.outcome(),
                                  absl::StrJoin(r.rule_ids(), ";"),
                                  r.consent_reference(),
                                  r.recipient_endpoint(),
                                  r.referrer_ods(),
                                  absl::StrJoin(r.withheld_categories(), ";"),
                                  r.lawful_basis(),
                                  r.detail()};
  for (std::string& f : row) f = CsvField(f);
  return absl::StrCat(absl::StrJoin(row, ","), "\n");
}

}  // namespace frontdoor::audit
