// The IG officers' pages of the console, each a thin layer over the AuditReader the gRPC
// AuditService uses too (so the same checks, the same queries and the same access records):
//
//   GET  /audit                  the search form
//   POST /audit/search           a page of matching records (filters in the body, never the URL)
//   POST /audit/export           the same search as CSV, the columns of `audit query --format csv`
//   GET  /audit/records/{index}  one record with its inclusion proof and signed checkpoint
//   POST /audit/verify           the whole log verified, as `frontdoor audit verify` does
//
// Thread-safety: const methods; the reader must outlive the pages.
#ifndef FRONTDOOR_GATEWAY_CONSOLE_AUDIT_PAGES_H_
#define FRONTDOOR_GATEWAY_CONSOLE_AUDIT_PAGES_H_

#include <string>

#include "absl/status/statusor.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "gateway/audit_log/audit_reader.h"
#include "gateway/console/console_visit.h"

namespace frontdoor::gateway {

// The records a search page shows at once, and the most an export takes.
inline constexpr int kAuditPageRecords = 50;
inline constexpr int kAuditExportRecords = 100000;

// The search the form's fields ask for: INVALID_ARGUMENT, in words for the person who filled it
// in, for an NHS number without a valid check digit, a day that is not YYYY-MM-DD, a word not in
// the lists, or `to` before `from`. Days are whole: `to` includes its day. Pure.
absl::StatusOr<frontdoor::v1::QueryAuditRequest> AuditSearchFromForm(const FormFields& form);

class AuditPages {
 public:
  explicit AuditPages(const AuditReader* reader) : reader_(reader) {}

  void SearchForm(const ConsoleVisit& visit) const;
  void Search(const ConsoleVisit& visit) const;
  void Export(const ConsoleVisit& visit) const;
  void Record(const ConsoleVisit& visit, const std::string& index_text) const;
  void Verify(const ConsoleVisit& visit) const;

 private:
  // The search page with `form`'s values kept in its fields.
  kainjow::mustache::data SearchView(const ConsoleVisit& visit) const;
  // The answer to a refused or failed operation: a page that says why.
  void Failed(const ConsoleVisit& visit, const absl::Status& status) const;

  const AuditReader* const reader_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_AUDIT_PAGES_H_
