// The audit records (IG-9) of a decision, built from the decision itself and recorded in the same
// transaction as the referral: pure, so the records a commit writes are exactly those of what it
// records.
//
//   record.audit = DecisionAuditRecords(parsed.referral, result, caller, now);
//
// A record carries when, who (identity and organisation), about whom (NHS number), the action,
// rule ids, the consent relied on, the recipient organisation (endpoint), the outcome and, in
// `detail`, why in words. Never clinical free text, never a withheld value (categories only),
// never names, addresses or dates of birth. Thread-safe.
#ifndef FRONTDOOR_GATEWAY_INTAKE_DECISION_AUDIT_RECORDS_H_
#define FRONTDOOR_GATEWAY_INTAKE_DECISION_AUDIT_RECORDS_H_

#include <vector>

#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/referral.pb.h"
#include "gateway/decision/referral_pipeline.h"
#include "gateway/security/authorization.h"

namespace frontdoor::gateway {

// For a recorded (ACCEPTED or REFUSED) referral: one "decide" record (outcome permit | refuse,
// every rule that fired, the consent relied on or why none was needed, the lawful basis), then one
// "withhold" record per withheld item of an ACCEPTED referral (category, recipient, rule, reason).
// Empty for REJECTED (nothing is recorded).
std::vector<frontdoor::v1::AuditRecord> DecisionAuditRecords(const frontdoor::v1::Referral& referral,
                                                             const PipelineResult& result, const Caller& caller,
                                                             absl::Time at);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_INTAKE_DECISION_AUDIT_RECORDS_H_
