#include "gateway/audit_log/access_records.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/audit_records.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

// What every access record says first: when, who (and for whom), what they did, and how it ended.
v1::AuditRecord AccessRecord(const Caller& caller, absl::Time at, const char* action, const char* outcome) {
  v1::AuditRecord r;
  r.set_time(AuditTimeText(at));
  r.set_actor(caller.identity);
  r.set_actor_organisation(ActorOrganisation(caller));
  r.set_action(action);
  r.set_outcome(outcome);
  return r;
}

}  // namespace

v1::AuditRecord QueryAuditRecord(const v1::QueryAuditRequest& q, const Caller& caller, absl::Time at) {
  v1::AuditRecord r = AccessRecord(caller, at, "query", "query");
  r.add_rule_ids("IG-8");
  r.add_rule_ids("IG-9");
  r.set_nhs_number(q.nhs_number());
  std::vector<std::string> filters;
  if (!q.nhs_number().empty()) filters.push_back("nhs_number=(this record's nhs_number)");
  if (!q.recipient_endpoint().empty()) filters.push_back("recipient=" + q.recipient_endpoint());
  if (!q.referrer_ods().empty()) filters.push_back("referrer=" + q.referrer_ods());
  if (!q.rule_id().empty()) filters.push_back("rule=" + q.rule_id());
  if (!q.outcome().empty()) filters.push_back("outcome=" + q.outcome());
  if (!q.action().empty()) filters.push_back("action=" + q.action());
  if (!q.from_time().empty()) filters.push_back("from=" + q.from_time());
  if (!q.to_time().empty()) filters.push_back("to=" + q.to_time());
  r.set_detail(filters.empty() ? "audit query without filters"
                               : absl::StrCat("audit query: ", absl::StrJoin(filters, "; ")));
  return r;
}

v1::AuditRecord ReportAccessRecord(const v1::ReportRequest& r, const Caller& caller, absl::Time at) {
  v1::AuditRecord record = AccessRecord(caller, at, "report", "query");
  record.add_rule_ids("IG-9");
  std::vector<std::string> filters;
  for (const auto& [name, values] :
       {std::pair{"boroughs", &r.boroughs()}, std::pair{"clusters", &r.clusters()},
        std::pair{"categories", &r.categories()}, std::pair{"teams", &r.teams()}, std::pair{"sources", &r.sources()}}) {
    if (!values->empty()) filters.push_back(absl::StrCat(name, "=", absl::StrJoin(*values, ",")));
  }
  record.set_detail(absl::StrCat("outcome report ", r.from_date(), "..", r.to_date(), " by ",
                                 v1::ReportRequest::Period_Name(r.period()), " and ",
                                 v1::ReportRequest::Breakdown_Name(r.breakdown()),
                                 filters.empty() ? "" : absl::StrCat("; ", absl::StrJoin(filters, "; "))));
  return record;
}

absl::Status AppendAccessRecord(AuditStore* store, AuditCheckpointer* checkpointer, v1::AuditRecord record) {
  std::vector<v1::AuditRecord> records;
  records.push_back(std::move(record));
  absl::StatusOr<std::vector<v1::AuditRecord>> appended = store->AppendAudit(std::move(records));
  if (!appended.ok()) return appended.status();
  if (checkpointer != nullptr) checkpointer->Wake();
  return absl::OkStatus();
}

v1::AuditRecord RefusedReadRecord(const Caller& caller, const std::string& referral_id, const std::string& owner_ods,
                                  absl::Time at) {
  v1::AuditRecord r = AccessRecord(caller, at, "read", "refused");
  r.add_rule_ids("IG-8");
  r.set_referral_id(referral_id);
  r.set_referrer_ods(owner_ods);
  r.set_detail("a read of a referral another organisation sent: refused");
  return r;
}

}  // namespace frontdoor::gateway
