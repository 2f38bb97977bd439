#include "gateway/services/reporting_service.h"

#include <utility>

#include "gateway/services/grpc_status.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

grpc::ServerUnaryReactor* ReportingServiceImpl::GetReport(grpc::CallbackServerContext* context,
                                                          const v1::ReportRequest* request, v1::Report* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = IdentifyAndAdmit(*context, deps_.identity_source, *deps_.authorizer, deps_.admission);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  deps_.reporter->Report(*caller, *request, [reactor, response](absl::StatusOr<v1::Report> report) {
    if (report.ok()) *response = *std::move(report);
    reactor->Finish(ToGrpcStatus(report.status()));
  });
  return reactor;
}

}  // namespace frontdoor::gateway
