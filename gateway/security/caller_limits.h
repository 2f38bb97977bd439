// Per-identity abuse limits: a token bucket of calls per caller and a cap on the calls one caller
// has open at once (streams included). Each identity has its own budget, so one misbehaving or
// compromised system slows only itself. A call over a limit is refused with RESOURCE_EXHAUSTED, a
// message saying when to retry, and trailing metadata `retry-after-ms` (kRetryAfterMetadataKey).
//
// CallerLimiter is the decision (pure bookkeeping over an injected Clock, unit-testable).
// CallAdmission applies it to gRPC calls in one place: a server interceptor, installed once on the
// ServerBuilder, decides for every call as it arrives (and holds the concurrency slot until the
// call is over); each service handler asks for the verdict right after identifying the caller:
//
//   CallerLimiter limiter(CallerLimitsFrom(config), &clock);
//   CallAdmission admission(&limiter, IdentitySource::kTlsCertificate,
//                           [&](std::string_view id) { return authorizer.Identify(id).ok(); });
//   builder.experimental().SetInterceptorCreators(admission.InterceptorCreators());
//   ...
//   // in a handler, once the caller is known:
//   FRONTDOOR_RETURN_IF_ERROR(admission.Check(*context));   // RESOURCE_EXHAUSTED over a limit
//
// Only identities the network knows are counted (others are refused by the Authorizer anyway), so a
// stream of invented plaintext identities cannot grow the tables without bound.
// Thread-safety: both classes are thread-safe. CallAdmission must outlive the server it is
// installed on; the limiter and the clock must outlive the CallAdmission.
#ifndef FRONTDOOR_GATEWAY_SECURITY_CALLER_LIMITS_H_
#define FRONTDOOR_GATEWAY_SECURITY_CALLER_LIMITS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_interceptor.h"

namespace frontdoor::gateway {

inline constexpr char kRetryAfterMetadataKey[] = "retry-after-ms";

struct CallerLimits {
  double requests_per_second = 20;  // token refill rate per identity
  int burst = 40;                   // bucket size
  int max_concurrent_calls = 16;    // open calls per identity
};

// The configuration's caller_limits with defaults for unset fields.
CallerLimits CallerLimitsFrom(const frontdoor::v1::GatewayConfig& config);

class CallerLimiter {
 public:
  CallerLimiter(CallerLimits limits, const Clock* clock);

  const CallerLimits& limits() const { return limits_; }

  // Takes one token from `identity`'s bucket. OK, or RESOURCE_EXHAUSTED with `*retry_after` set to
  // when the next token will be there.
  absl::Status TryTakeToken(const std::string& identity, absl::Duration* retry_after);
  // Opens a call for `identity`: OK, or RESOURCE_EXHAUSTED (with `*retry_after` a suggested pause)
  // when it already has max_concurrent_calls open. Every OK must be paired with EndCall.
  absl::Status TryBeginCall(const std::string& identity, absl::Duration* retry_after);
  void EndCall(const std::string& identity);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time refilled;
    int open_calls = 0;
  };
  Bucket& BucketFor(const std::string& identity) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CallerLimits limits_;
  const Clock* const clock_;
  absl::Mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_ ABSL_GUARDED_BY(mu_);
};

class CallAdmission;

// How every service method starts: who is calling (the certificate CN, or x-frontdoor-client in
// plaintext mode), as `authorizer` knows them, admitted by the per-identity limits. Returns
// UNAUTHENTICATED, PERMISSION_DENIED or RESOURCE_EXHAUSTED otherwise. `admission` may be null (no
// limits). What the caller may then do is the Authorizer's May* question.
absl::StatusOr<Caller> IdentifyAndAdmit(const grpc::ServerContextBase& context, IdentitySource source,
                                        const Authorizer& authorizer, const CallAdmission* admission);

class CallAdmission {
 public:
  CallAdmission(CallerLimiter* limiter, IdentitySource source, std::function<bool(std::string_view)> is_known);
  ~CallAdmission();

  // For ServerBuilder::experimental().SetInterceptorCreators (a fresh vector on each call).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> InterceptorCreators();

  // The verdict on this call: OK, or RESOURCE_EXHAUSTED with the retry advice in words (the
  // trailing metadata is added by the interceptor). OK for a call the interceptor did not see.
  absl::Status Check(const grpc::ServerContextBase& context) const;

 private:
  class Interceptor;
  class Factory;
  friend class Interceptor;

  // Decides for a call as it arrives; records the verdict for Check. Returns whether a
  // concurrency slot was taken for `identity` (to be given back by Forget).
  bool Decide(const grpc::ServerContextBase* context, std::string* identity, absl::Duration* retry_after);
  void Forget(const grpc::ServerContextBase* context, const std::string& identity, bool began);

  CallerLimiter* const limiter_;
  const IdentitySource source_;
  const std::function<bool(std::string_view)> is_known_;
  mutable absl::Mutex mu_;
  std::map<const grpc::ServerContextBase*, absl::Status> verdicts_ ABSL_GUARDED_BY(mu_);
};

// Connection-level limits on a ServerBuilder: at most max_concurrent_calls streams per connection,
// 10 s for the TLS handshake (a client that stalls it is dropped), idle connections closed after
// 5 minutes, client keepalive pings no more often than every 10 s.
void ApplyTransportLimits(const CallerLimits& limits, grpc::ServerBuilder* builder);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SECURITY_CALLER_LIMITS_H_
