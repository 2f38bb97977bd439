// ReportingServiceImpl: frontdoor.v1.ReportingService for commissioners and IG officers, on the
// gRPC callback API: a thin adapter over the OutcomeReporter (gateway/reports/outcome_reporter.h),
// which authorizes, audits and builds each report on the store work queue.
//
//   ReportingServiceImpl service({&authorizer, &reporter, IdentitySource::kTlsCertificate, &admission});
//   builder.RegisterService(&service);
//
// Thread-safety: called concurrently by gRPC; deps must outlive the server's calls.
#ifndef FRONTDOOR_GATEWAY_SERVICES_REPORTING_SERVICE_H_
#define FRONTDOOR_GATEWAY_SERVICES_REPORTING_SERVICE_H_

#include "frontdoor/v1/reporting_service.grpc.pb.h"
#include "gateway/reports/outcome_reporter.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"

namespace frontdoor::gateway {

struct ReportingServiceDeps {
  const Authorizer* authorizer = nullptr;
  const OutcomeReporter* reporter = nullptr;
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const CallAdmission* admission = nullptr;  // per-identity limits; null: none
};

class ReportingServiceImpl final : public frontdoor::v1::ReportingService::CallbackService {
 public:
  explicit ReportingServiceImpl(ReportingServiceDeps deps) : deps_(std::move(deps)) {}

  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* context, const frontdoor::v1::ReportRequest* request,
                                      frontdoor::v1::Report* response) override;

 private:
  const ReportingServiceDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVICES_REPORTING_SERVICE_H_
