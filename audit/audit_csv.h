// Audit records as CSV, one format wherever an IG officer exports them (`frontdoor audit query
// --format csv`, the web console's export): RFC 4180 quoting, lists joined with ';', and a field
// that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return)
// prefixed with ' so that it stays text (OWASP "CSV injection").
//
//   std::cout << AuditCsvHeader();
//   for (const auto& r : records) std::cout << AuditCsvRow(r);
//
// Pure; thread-safe.
#ifndef FRONTDOOR_AUDIT_AUDIT_CSV_H_
#define FRONTDOOR_AUDIT_AUDIT_CSV_H_

#include <string>

#include "frontdoor/v1/audit_service.pb.h"

namespace frontdoor::audit {

// The header line, ending in "\n".
std::string AuditCsvHeader();
// One record's line, ending in "\n".
std::string AuditCsvRow(const frontdoor::v1::AuditRecord& record);
// One field, quoted when it must be and defused when a spreadsheet would run it.
std::string CsvField(const std::string& field);

}  // namespace frontdoor::audit

#endif  // FRONTDOOR_AUDIT_AUDIT_CSV_H_
