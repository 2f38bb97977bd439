#include "gateway/reports/outcome_reporter.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/reports/report_facts.h"
#include "gateway/store/audit_records.h"
#include "observability/structured_log.h"
#include "reporting/report_builder.h"
#include "reporting/report_calendar.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

// The network's days and weeks are London's; without the time zone data (no tzdata), UTC, said once.
absl::TimeZone ReportingZone() {
  absl::TimeZone london;
  if (absl::LoadTimeZone("Europe/London", &london)) return london;
  observability::Log(observability::LogLevel::kWarning, "startup",
                     "no time zone data for Europe/London (install tzdata): reports count days in UTC");
  return absl::UTCTimeZone();
}

// The access record of a report request (IG-9): who asked for which figures. No person.
v1::AuditRecord ReportAccessRecord(const Caller& caller, const v1::ReportRequest& r, absl::Time at) {
  v1::AuditRecord record;
  record.set_time(AuditTimeText(at));
  record.set_actor(caller.identity);
  record.set_actor_organisation(ActorOrganisation(caller));
  record.set_action("report");
  record.set_outcome("query");
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

}  // namespace

OutcomeReporter::OutcomeReporter(OutcomeReporterDeps deps) : deps_(std::move(deps)), zone_(ReportingZone()) {}

void OutcomeReporter::Report(const Caller& caller, const v1::ReportRequest& request,
                             std::function<void(absl::StatusOr<v1::Report>)> done) const {
  if (absl::Status s = deps_.authorizer->MayReadReports(caller); !s.ok()) return done(s);
  if (absl::Status s = reporting::CheckReportRequest(request); !s.ok()) return done(s);
  absl::StatusOr<reporting::ReportCalendar> calendar =
      reporting::ReportCalendar::Create(request.from_date(), request.to_date(), request.period(), zone_);
  if (!calendar.ok()) return done(calendar.status());
  v1::AuditRecord access = ReportAccessRecord(caller, request, deps_.clock->Now());
  deps_.work->Post([this, request, from = calendar->start(), to = calendar->end(), access = std::move(access),
                    done = std::move(done)](absl::Status ready) mutable {
    if (!ready.ok()) return done(ready);
    std::vector<v1::AuditRecord> records;
    records.push_back(std::move(access));
    if (absl::StatusOr<std::vector<v1::AuditRecord>> appended = deps_.audit->AppendAudit(std::move(records));
        !appended.ok()) {
      return done(appended.status());  // no record, no answer
    }
    if (deps_.checkpointer != nullptr) deps_.checkpointer->Wake();
    absl::StatusOr<std::vector<ReportRow>> rows = deps_.reads->ReferralsReceived(from, to);
    if (!rows.ok()) return done(rows.status());
    std::vector<reporting::ReferralFacts> facts;
    facts.reserve(rows->size());
    for (const ReportRow& row : *rows) facts.push_back(ReportFactsOf(row, *deps_.network));
    rows->clear();  // the rows hold more than the facts; keep them no longer than needed
    done(reporting::BuildReport(request, facts, zone_));
  });
}

}  // namespace frontdoor::gateway
