#include "gateway/reports/outcome_reporter.h"

#include <memory>
#include <utility>

#include "gateway/audit_log/access_records.h"
#include "gateway/reports/report_facts.h"
#include "gateway/reports/report_row_pipeline.h"
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
  // The request checked, its periods worked out (INVALID_ARGUMENT before anything is recorded).
  absl::StatusOr<std::unique_ptr<reporting::ReportBuilder>> created = reporting::ReportBuilder::Create(request, zone_);
  if (!created.ok()) return done(created.status());
  std::shared_ptr<reporting::ReportBuilder> builder = *std::move(created);
  v1::AuditRecord access = ReportAccessRecord(request, caller, deps_.clock->Now());
  deps_.work->Post([this, builder, access = std::move(access), done = std::move(done)](absl::Status ready) mutable {
    if (!ready.ok()) return done(ready);
    if (absl::Status s = AppendAccessRecord(deps_.audit, deps_.checkpointer, std::move(access)); !s.ok()) {
      return done(s);  // no record, no answer
    }
    // Each row is counted as it is read, on a thread of its own while the next ones are read: a
    // year of a large network is a million of them.
    ReportFactsReader reader(*deps_.network, builder->request());
    ReportRowPipeline pipeline([&](const ReportRow& row) -> absl::Status {
      absl::StatusOr<const reporting::ReferralFacts*> facts = reader.FactsOf(row);
      if (!facts.ok()) return facts.status();
      return builder->Add(**facts);
    });
    const reporting::ReportCalendar& calendar = builder->calendar();
    absl::Status read = deps_.reads->ForEachReferralReceived(calendar.start(), calendar.end(),
                                                             [&pipeline](const ReportRow& row) { pipeline.Add(row); });
    absl::Status counted = pipeline.Finish();
    if (!read.ok()) return done(read);
    if (!counted.ok()) return done(counted);
    done(std::move(*builder).Finish());
  });
}

}  // namespace frontdoor::gateway
