// Everything a ParsedReferral holds as one text, so two readings of a message can be compared
// whole (the FHIR reader tests and the differential fuzzer).
//
//   EXPECT_EQ(ParsedReferralSummary(fast), ParsedReferralSummary(reference));
#ifndef FRONTDOOR_TESTS_ADAPTERS_PARSED_REFERRAL_SUMMARY_H_
#define FRONTDOOR_TESTS_ADAPTERS_PARSED_REFERRAL_SUMMARY_H_

#include <string>
#include <vector>

#include "adapters/parsed_referral.h"

namespace frontdoor::adapters::testing {

inline std::string ParsedReferralSummary(const ParsedReferral& parsed) {
  std::string text = "format " + std::string(MessageFormatName(parsed.format)) + "\n";
  text += "referral {\n" + parsed.referral.DebugString() + "}\n";
  for (const frontdoor::v1::Issue& issue : parsed.issues) text += "issue {\n" + issue.DebugString() + "}\n";
  const ReferralSourcePaths& paths = parsed.paths;
  for (const std::string* path : {&paths.message_id, &paths.sender_ods, &paths.referral_date, &paths.nhs_number,
                                  &paths.birth_date, &paths.postcode, &paths.registered_practice_ods}) {
    text += "path " + *path + "\n";
  }
  for (const std::vector<std::string>* list :
       {&paths.reasons, &paths.consent_dates, &paths.consent_starts, &paths.consent_ends}) {
    text += "paths";
    for (const std::string& path : *list) text += " " + path;
    text += "\n";
  }
  text += "reply " + parsed.reply.bundle_id + " " + parsed.reply.source_endpoint + "\n";
  return text;
}

}  // namespace frontdoor::adapters::testing

#endif  // FRONTDOOR_TESTS_ADAPTERS_PARSED_REFERRAL_SUMMARY_H_
