// The audit records (IG-9) of reading the audit log: every query, verification and inclusion
// proof is itself accountable, whichever door it came through.
//
//   v1::AuditRecord q = QueryAuditRecord(request, caller, now);
//
// Thread-safe.
#ifndef FRONTDOOR_GATEWAY_AUDIT_LOG_ACCESS_RECORDS_H_
#define FRONTDOOR_GATEWAY_AUDIT_LOG_ACCESS_RECORDS_H_

#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "gateway/security/authorization.h"

namespace frontdoor::gateway {

// The record of an audit query: about the person queried (nhs_number is the NHS number filter,
// kept in clear: the record is about that person, and only IG officers read the log), with the
// other filters in `detail`.
frontdoor::v1::AuditRecord QueryAuditRecord(const frontdoor::v1::QueryAuditRequest& query, const Caller& caller,
                                            absl::Time at);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_AUDIT_LOG_ACCESS_RECORDS_H_
