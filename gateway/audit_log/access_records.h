// The audit records (IG-9) of reading: every query, verification and inclusion proof of the audit
// log is itself accountable, and so is a refused attempt to read another organisation's referral
// (IG-8), whichever door it came through.
//
//   v1::AuditRecord q = QueryAuditRecord(request, caller, now);
//
// Thread-safe.
#ifndef FRONTDOOR_GATEWAY_AUDIT_LOG_ACCESS_RECORDS_H_
#define FRONTDOOR_GATEWAY_AUDIT_LOG_ACCESS_RECORDS_H_

#include <string>

#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "gateway/audit_log/audit_checkpointer.h"
#include "gateway/security/authorization.h"
#include "gateway/store/audit_store.h"

namespace frontdoor::gateway {

// The record of an audit query: about the person queried (nhs_number is the NHS number filter,
// kept in clear: the record is about that person, and only IG officers read the log), with the
// other filters in `detail`.
frontdoor::v1::AuditRecord QueryAuditRecord(const frontdoor::v1::QueryAuditRequest& query, const Caller& caller,
                                            absl::Time at);

// The record of an outcome report request: who asked for which figures (range, period, breakdown,
// filters). About no one.
frontdoor::v1::AuditRecord ReportAccessRecord(const frontdoor::v1::ReportRequest& request, const Caller& caller,
                                              absl::Time at);

// Appends one access record and wakes the checkpointer (it signs what accumulates); on a store
// work thread. The store's error when it cannot be written: no record, no answer.
absl::Status AppendAccessRecord(AuditStore* store, AuditCheckpointer* checkpointer, frontdoor::v1::AuditRecord record);

// The record of a refused read of a referral by someone who may not read it (IG-8): who tried,
// which referral, whose it is. Nothing about the person is in it.
frontdoor::v1::AuditRecord RefusedReadRecord(const Caller& caller, const std::string& referral_id,
                                             const std::string& owner_ods, absl::Time at);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_AUDIT_LOG_ACCESS_RECORDS_H_
