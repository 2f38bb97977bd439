// Audit records and rules in plain language, for people rather than programs: "referral refused:
// no consent in force (IG-1)", not `decide refuse IG-1`. The words follow docs/network/IG-RULES.md.
//
//   std::string what = DescribeRecord(record);
//
// Pure; thread-safe.
#ifndef FRONTDOOR_GATEWAY_CONSOLE_RECORD_WORDS_H_
#define FRONTDOOR_GATEWAY_CONSOLE_RECORD_WORDS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "frontdoor/v1/audit_service.pb.h"

namespace frontdoor::gateway {

// Every rule id audit records cite, with what it means: {"IG-1", "no consent in force"}...
const std::vector<std::pair<std::string, std::string>>& RuleMeanings();

// What the rule means when it stops or shapes a referral ("no consent in force"); the id itself
// when it is not one of RuleMeanings.
std::string RuleMeaning(std::string_view rule_id);

// One sentence saying what the record records, with the rule ids that decided it.
std::string DescribeRecord(const frontdoor::v1::AuditRecord& record);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_RECORD_WORDS_H_
