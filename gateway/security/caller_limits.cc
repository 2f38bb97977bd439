#include "gateway/security/caller_limits.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace frontdoor::gateway {

CallerLimits CallerLimitsFrom(const frontdoor::v1::GatewayConfig& config) {
  CallerLimits limits;
  const auto& c = config.caller_limits();
  if (c.requests_per_second() > 0) limits.requests_per_second = c.requests_per_second();
  if (c.burst() > 0) limits.burst = static_cast<int>(c.burst());
  if (c.max_concurrent_calls() > 0) limits.max_concurrent_calls = static_cast<int>(c.max_concurrent_calls());
  return limits;
}

CallerLimiter::CallerLimiter(CallerLimits limits, const Clock* clock) : limits_(limits), clock_(clock) {}

CallerLimiter::Bucket& CallerLimiter::BucketFor(const std::string& identity) {
  auto [it, inserted] = buckets_.try_emplace(identity);
  const absl::Time now = clock_->Now();
  if (inserted) {
    it->second.tokens = limits_.burst;
  } else if (now > it->second.refilled) {
    const double earned = absl::ToDoubleSeconds(now - it->second.refilled) * limits_.requests_per_second;
    it->second.tokens = std::min<double>(limits_.burst, it->second.tokens + earned);
  }
  it->second.refilled = std::max(it->second.refilled, now);
  return it->second;
}

absl::Status CallerLimiter::TryTakeToken(const std::string& identity, absl::Duration* retry_after) {
  absl::MutexLock lock(&mu_);
  Bucket& bucket = BucketFor(identity);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::OkStatus();
  }
  const double wait_ms = std::ceil((1 - bucket.tokens) / limits_.requests_per_second * 1000);
  *retry_after = absl::Milliseconds(std::max(1.0, wait_ms));
  return absl::ResourceExhaustedError(absl::StrCat("rate limit: more than ", limits_.requests_per_second,
                                                   " calls per second (burst ", limits_.burst, ") from '", identity,
                                                   "'; retry after ", absl::ToInt64Milliseconds(*retry_after), " ms"));
}

absl::Status CallerLimiter::TryBeginCall(const std::string& identity, absl::Duration* retry_after) {
  absl::MutexLock lock(&mu_);
  Bucket& bucket = BucketFor(identity);
  if (bucket.open_calls < limits_.max_concurrent_calls) {
    ++bucket.open_calls;
    return absl::OkStatus();
  }
  *retry_after = absl::Seconds(1);
  return absl::ResourceExhaustedError(absl::StrCat("concurrency limit: '", identity, "' already has ",
                                                   limits_.max_concurrent_calls,
                                                   " calls open; finish one, or retry after 1000 ms"));
}

void CallerLimiter::EndCall(const std::string& identity) {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(identity);
  if (it != buckets_.end() && it->second.open_calls > 0) --it->second.open_calls;
}

// One per call, created by gRPC before the handler runs and destroyed with the call.
class CallAdmission::Interceptor final : public grpc::experimental::Interceptor {
 public:
  Interceptor(CallAdmission* admission, grpc::experimental::ServerRpcInfo* info)
      : admission_(admission), context_(info->server_context()) {}
  ~Interceptor() override {
    if (decided_) admission_->Forget(context_, identity_, began_);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      if (admission_->source_ == IdentitySource::kPlaintextMetadata) {
        // The context's metadata may not be filled in yet at this point; read the hook's copy.
        auto* md = methods->GetRecvInitialMetadata();
        if (md != nullptr) {
          auto [b, e] = md->equal_range(kClientMetadataKey);
          if (b != e && std::next(b) == e) identity_.assign(b->second.data(), b->second.size());
        }
      } else if (auto id = AuthenticatedCaller(*context_, IdentitySource::kTlsCertificate); id.ok()) {
        identity_ = *id;
      }
      decided_ = true;
      began_ = admission_->Decide(context_, &identity_, &retry_after_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        retry_after_ > absl::ZeroDuration()) {
      auto* trailing = methods->GetSendTrailingMetadata();
      if (trailing != nullptr) {
        trailing->emplace(kRetryAfterMetadataKey, std::to_string(absl::ToInt64Milliseconds(retry_after_)));
      }
    }
    methods->Proceed();
  }

 private:
  CallAdmission* const admission_;
  const grpc::ServerContextBase* const context_;
  std::string identity_;
  bool decided_ = false;
  bool began_ = false;
  absl::Duration retry_after_ = absl::ZeroDuration();
};

class CallAdmission::Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(CallAdmission* admission) : admission_(admission) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new Interceptor(admission_, info);  // gRPC owns it
  }

 private:
  CallAdmission* const admission_;
};

CallAdmission::CallAdmission(CallerLimiter* limiter, IdentitySource source,
                             std::function<bool(std::string_view)> is_known)
    : limiter_(limiter), source_(source), is_known_(std::move(is_known)) {}

CallAdmission::~CallAdmission() = default;

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
CallAdmission::InterceptorCreators() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<Factory>(this));
  return out;
}

bool CallAdmission::Decide(const grpc::ServerContextBase* context, std::string* identity, absl::Duration* retry_after) {
  if (identity->empty() || !IsWellFormedIdentity(*identity) || !is_known_(*identity)) {
    identity->clear();  // not counted: the Authorizer refuses it
    return false;
  }
  absl::Status verdict = limiter_->TryBeginCall(*identity, retry_after);
  if (verdict.ok()) {
    verdict = limiter_->TryTakeToken(*identity, retry_after);
    if (verdict.ok()) return true;
    limiter_->EndCall(*identity);  // refused calls hold no slot
  }
  absl::MutexLock lock(&mu_);
  verdicts_[context] = std::move(verdict);
  return false;
}

void CallAdmission::Forget(const grpc::ServerContextBase* context, const std::string& identity, bool began) {
  if (began) limiter_->EndCall(identity);
  absl::MutexLock lock(&mu_);
  verdicts_.erase(context);
}

absl::Status CallAdmission::Check(const grpc::ServerContextBase& context) const {
  absl::MutexLock lock(&mu_);
  auto it = verdicts_.find(&context);
  return it == verdicts_.end() ? absl::OkStatus() : it->second;
}

void ApplyTransportLimits(const CallerLimits& limits, grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_calls);
  builder->AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 10000);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 5 * 60 * 1000);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
}

absl::StatusOr<Caller> IdentifyAndAdmit(const grpc::ServerContextBase& context, IdentitySource source,
                                        const Authorizer& authorizer, const CallAdmission* admission) {
  absl::StatusOr<std::string> identity = AuthenticatedCaller(context, source);
  if (!identity.ok()) return identity.status();
  absl::StatusOr<Caller> caller = authorizer.Identify(*identity);
  if (!caller.ok()) return caller.status();
  if (admission != nullptr) {
    if (absl::Status admitted = admission->Check(context); !admitted.ok()) return admitted;
  }
  return caller;
}

}  // namespace frontdoor::gateway
