#include "gateway/reports/outcome_reporter.h"

#include <utility>
#include <vector>

#include "gateway/audit_log/access_records.h"
#include "gateway/reports/report_facts.h"
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

}  // namespace

OutcomeReporter::OutcomeReporter(OutcomeReporterDeps deps) : deps_(std::move(deps)), zone_(ReportingZone()) {}

void OutcomeReporter::Report(const Caller& caller, const v1::ReportRequest& request,
                             std::function<void(absl::StatusOr<v1::Report>)> done) const {
  if (absl::Status s = deps_.authorizer->MayReadReports(caller); !s.ok()) return done(s);
  if (absl::Status s = reporting::CheckReportRequest(request); !s.ok()) return done(s);
  absl::StatusOr<reporting::ReportCalendar> calendar =
      reporting::ReportCalendar::Create(request.from_date(), request.to_date(), request.period(), zone_);
  if (!calendar.ok()) return done(calendar.status());
  v1::AuditRecord access = ReportAccessRecord(request, caller, deps_.clock->Now());
  deps_.work->Post([this, request, from = calendar->start(), to = calendar->end(), access = std::move(access),
                    done = std::move(done)](absl::Status ready) mutable {
    if (!ready.ok()) return done(ready);
    if (absl::Status s = AppendAccessRecord(deps_.audit, deps_.checkpointer, std::move(access)); !s.ok()) {
      return done(s);  // no record, no answer
    }
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
