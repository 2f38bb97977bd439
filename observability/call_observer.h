// CallObserver: a gRPC server interceptor that gives every call its request and correlation ids
// (observability/request_ids.h), echoes them in the response's initial metadata, and when the call
// ends writes one structured log line (method, caller identity, status code, duration, the ids,
// the referral id when the handler named one) and records the call in GatewayMetrics.
//
//   CallObserver observer(&metrics, [](const grpc::ServerContextBase& ctx) { return who_is_calling(ctx); });
//   builder.experimental().SetInterceptorCreators(observer.InterceptorCreators());
//   ... in a handler:  observer.NoteReferralId(*context, referral_id);
//
// The status message is never logged (it can quote what a caller sent); the code is.
//
// Thread-safety: everything may be called from any thread. `metrics` (may be null) and the
// observer must outlive the servers that use it.
#ifndef FRONTDOOR_OBSERVABILITY_CALL_OBSERVER_H_
#define FRONTDOOR_OBSERVABILITY_CALL_OBSERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"
#include "observability/gateway_metrics.h"
#include "observability/request_ids.h"

namespace frontdoor::observability {

class CallObserver {
 public:
  // `identify` names the caller for the log ("" when unknown); it is called as the call ends.
  using IdentifyCaller = std::function<std::string(const grpc::ServerContextBase&)>;

  CallObserver(GatewayMetrics* metrics, IdentifyCaller identify);
  ~CallObserver();

  // One factory for ServerBuilder::experimental().SetInterceptorCreators (put it first, so that
  // calls refused by later interceptors are observed too).
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  // Names the referral the call is about, for its log line. No-op for an unknown call.
  void NoteReferralId(const grpc::ServerContextBase& context, const std::string& referral_id);
  // The ids this observer gave `context`'s call (empty for a call it did not see).
  CallIds IdsOf(const grpc::ServerContextBase& context);

 private:
  class Interceptor;
  class Factory;
  struct CallState {
    CallIds ids;
    std::string referral_id;
  };
  void Begin(const grpc::ServerContextBase* context, CallIds ids);
  void End(const grpc::ServerContextBase* context);

  GatewayMetrics* const metrics_;
  const IdentifyCaller identify_;
  mutable absl::Mutex mu_;
  std::map<const grpc::ServerContextBase*, CallState> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace frontdoor::observability

#endif  // FRONTDOOR_OBSERVABILITY_CALL_OBSERVER_H_
