// OutcomeReporter: outcome reports for commissioners and IG officers, whichever door they come
// through (the gRPC ReportingService; the console page later): the caller may read reports
// (Authorizer::MayReadReports), the request is well formed, its access record is written (IG-9:
// who asked for which report), then the store's referrals of the range become facts without
// identifiers and reporting/ counts them under disclosure control.
//
//   OutcomeReporter reporter({&authorizer, store, &network, &checkpointer, &clock, &work});
//   reporter.Report(caller, request, [](absl::StatusOr<v1::Report> report) {...});
//
// Periods and days are the network's (Europe/London). `done` is called once, on a store work
// thread, or at once when the request is refused. Thread-safe; deps must outlive the reporter.
#ifndef FRONTDOOR_GATEWAY_REPORTS_OUTCOME_REPORTER_H_
#define FRONTDOOR_GATEWAY_REPORTS_OUTCOME_REPORTER_H_

#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "gateway/audit_log/audit_checkpointer.h"
#include "gateway/security/authorization.h"
#include "gateway/store/audit_store.h"
#include "gateway/store/report_reads.h"
#include "gateway/store/store_work_queue.h"
#include "network/network_directory.h"

namespace frontdoor::gateway {

struct OutcomeReporterDeps {
  const Authorizer* authorizer = nullptr;
  ReportReads* reads = nullptr;
  AuditStore* audit = nullptr;
  AuditCheckpointer* checkpointer = nullptr;  // woken after the access record; null: not woken
  const network::NetworkDirectory* network = nullptr;
  const Clock* clock = nullptr;
  StoreWorkQueue* work = nullptr;
};

class OutcomeReporter {
 public:
  explicit OutcomeReporter(OutcomeReporterDeps deps);

  void Report(const Caller& caller, const frontdoor::v1::ReportRequest& request,
              std::function<void(absl::StatusOr<frontdoor::v1::Report>)> done) const;

 private:
  const OutcomeReporterDeps deps_;
  absl::TimeZone zone_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_REPORTS_OUTCOME_REPORTER_H_
