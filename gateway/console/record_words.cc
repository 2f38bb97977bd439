#include "gateway/console/record_words.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace frontdoor::gateway {

const std::vector<std::pair<std::string, std::string>>& RuleMeanings() {
  static const auto* const kMeanings = new std::vector<std::pair<std::string, std::string>>{
      {"IG-1", "no consent in force"},
      {"IG-2", "the person objected to sharing"},
      {"IG-3", "under 18 on the referral date"},
      {"IG-4", "only what the connector needs is shared"},
      {"IG-5", "sensitive information withheld"},
      {"IG-6", "restricted demographics: contact through the referrer"},
      {"IG-7", "the person withdrew"},
      {"IG-8", "need to know"},
      {"IG-9", "every access is recorded"},
      {"OUT_OF_AREA", "outside Oldham and Tameside"},
  };
  return *kMeanings;
}

std::string RuleMeaning(std::string_view rule_id) {
  for (const auto& [id, meaning] : RuleMeanings()) {
    if (id == rule_id) return meaning;
  }
  return std::string(rule_id);
}

namespace {

// "no consent in force (IG-1); the person objected to sharing (IG-2)". IG-9 (every decision is
// recorded) is on every record and is no reason.
std::string Reasons(const frontdoor::v1::AuditRecord& r) {
  std::vector<std::string> reasons;
  for (const std::string& id : r.rule_ids()) {
    if (id != "IG-9") reasons.push_back(absl::StrCat(RuleMeaning(id), " (", id, ")"));
  }
  return absl::StrJoin(reasons, "; ");
}

std::string Rules(const frontdoor::v1::AuditRecord& r) {
  return r.rule_ids().empty() ? std::string() : absl::StrCat(" (", absl::StrJoin(r.rule_ids(), ", "), ")");
}

std::string To(const frontdoor::v1::AuditRecord& r) {
  return r.recipient_endpoint().empty() ? std::string() : absl::StrCat(" to ", r.recipient_endpoint());
}

}  // namespace

std::string DescribeRecord(const frontdoor::v1::AuditRecord& r) {
  if (r.pruned()) return "record pruned under the retention policy (only its hash remains)";
  const std::string& action = r.action();
  const std::string& outcome = r.outcome();
  if (action == "decide" && outcome == "refuse") return absl::StrCat("referral refused: ", Reasons(r));
  if (action == "decide") return absl::StrCat("referral accepted", To(r), Rules(r));
  if (action == "withhold") {
    return absl::StrCat("information withheld", To(r), ": ", absl::StrJoin(r.withheld_categories(), ", "), Rules(r));
  }
  if (action == "deliver") return absl::StrCat("referral delivered", To(r), Rules(r));
  if (action == "cease") return absl::StrCat("connector told to stop and delete", To(r), Rules(r));
  if (action == "withdraw") return absl::StrCat("referral withdrawn", Rules(r));
  if (action == "feedback") return absl::StrCat("progress reported by the connector", Rules(r));
  if (action == "feedback-push") return absl::StrCat("feedback sent to the referrer", Rules(r));
  if (action == "read" && outcome == "refused") {
    return absl::StrCat("read of another organisation's referral refused", Rules(r));
  }
  if (action == "query") return absl::StrCat("audit log read: ", r.detail());
  if (action == "report") return r.detail();
  if (action == "prune") return absl::StrCat("records pruned under the retention policy", Rules(r));
  return absl::StrCat(action, ", ", outcome, Rules(r));
}

}  // namespace frontdoor::gateway
