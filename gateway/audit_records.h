// The audit records (IG-9) of what the gateway decides and does, built from the decision itself:
// pure functions, so the records a transaction writes are exactly those of what it records.
//
//   record.audit = DecisionAuditRecords(parsed.referral, result, *caller, now);   // with the referral
//   v1::AuditRecord q = QueryAuditRecord(query, caller, now);                     // an audit query
//
// A record carries when, who (identity and organisation), about whom (NHS number), the action,
// rule ids, the consent relied on, the recipient organisation (endpoint), the outcome and, in
// `detail`, why in words. Never clinical free text, never a withheld value (categories only),
// never names, addresses or dates of birth. Thread-safe.
#ifndef FRONTDOOR_GATEWAY_AUDIT_RECORDS_H_
#define FRONTDOOR_GATEWAY_AUDIT_RECORDS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/referral.pb.h"
#include "gateway/audit_store.h"
#include "gateway/authorization.h"
#include "gateway/referral_pipeline.h"

namespace frontdoor::gateway {

// The organisation an identity acts for: its own ODS code or endpoint for organisations, and
// "ig-officer" / "operator" for the configured people.
std::string ActorOrganisation(const Caller& caller);

// For a recorded (ACCEPTED or REFUSED) referral: one "decide" record (outcome permit | refuse,
// every rule that fired, the consent relied on or why none was needed, the lawful basis), then one
// "withhold" record per withheld item of an ACCEPTED referral (category, recipient, rule, reason).
// Empty for REJECTED (nothing is recorded).
std::vector<frontdoor::v1::AuditRecord> DecisionAuditRecords(const frontdoor::v1::Referral& referral,
                                                             const PipelineResult& result, const Caller& caller,
                                                             absl::Time at);

// The withdrawal's record before the store completes it from the referral (IG-7).
frontdoor::v1::AuditRecord WithdrawalAuditRecord(const Caller& caller, absl::Time at);

// The record of an audit query: about the person queried (nhs_number is the NHS number filter,
// kept in clear: the record is about that person, and only IG officers read the log), with the
// other filters in `detail`.
frontdoor::v1::AuditRecord QueryAuditRecord(const frontdoor::v1::QueryAuditRequest& query, const Caller& caller,
                                            absl::Time at);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_AUDIT_RECORDS_H_
