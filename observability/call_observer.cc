#include "observability/call_observer.h"

#include <chrono>
#include <optional>
#include <utility>

#include "observability/structured_log.h"

namespace frontdoor::observability {

namespace {

std::optional<std::string_view> OneValue(const std::multimap<grpc::string_ref, grpc::string_ref>* md, const char* key) {
  if (md == nullptr) return std::nullopt;
  auto [b, e] = md->equal_range(key);
  if (b == e) return std::nullopt;
  if (std::next(b) != e) return std::string_view();  // sent twice: unusable, replaced
  return std::string_view(b->second.data(), b->second.size());
}

bool IsServerFault(grpc::StatusCode code) {
  return code == grpc::StatusCode::INTERNAL || code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::DATA_LOSS || code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

// One per call, created by gRPC before the handler runs and destroyed with the call.
class CallObserver::Interceptor final : public grpc::experimental::Interceptor {
 public:
  Interceptor(CallObserver* observer, grpc::experimental::ServerRpcInfo* info)
      : observer_(observer),
        context_(info->server_context()),
        method_(info->method() != nullptr ? info->method() : ""),
        began_(std::chrono::steady_clock::now()) {}
  ~Interceptor() override {
    if (begun_) observer_->End(context_);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      ids_ = ResolveCallIds(OneValue(md, kRequestIdKey), OneValue(md, kCorrelationIdKey));
      observer_->Begin(context_, ids_);
      begun_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      EnsureIds();
      if (auto* md = methods->GetSendInitialMetadata(); md != nullptr) {
        md->emplace(kRequestIdKey, ids_.request_id);
        md->emplace(kCorrelationIdKey, ids_.correlation_id);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      EnsureIds();
      Finished(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void EnsureIds() {
    if (ids_.request_id.empty()) ids_ = ResolveCallIds(std::nullopt, std::nullopt);
  }

  void Finished(const grpc::Status& status) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
    const std::string code = GrpcCodeName(static_cast<int>(status.error_code()));
    if (observer_->metrics_ != nullptr) observer_->metrics_->ObserveGrpcCall(method_, code, seconds);
    std::string referral_id;
    {
      absl::MutexLock lock(&observer_->mu_);
      auto it = observer_->calls_.find(context_);
      if (it != observer_->calls_.end()) referral_id = it->second.referral_id;
    }
    std::vector<LogField> fields = {
        {"door", "grpc"},
        {"method", method_},
        {"identity", observer_->identify_ ? observer_->identify_(*context_) : std::string()},
        {"code", code},
        {"duration_ms", seconds * 1000.0},
        {"request_id", ids_.request_id},
        {"correlation_id", ids_.correlation_id},
    };
    if (!referral_id.empty()) fields.emplace_back("referral_id", referral_id);
    Log(IsServerFault(status.error_code()) ? LogLevel::kWarning : LogLevel::kInfo, "grpc_call",
        status.ok() ? "call finished" : "call failed", fields);
  }

  CallObserver* const observer_;
  const grpc::ServerContextBase* const context_;
  const std::string method_;
  const std::chrono::steady_clock::time_point began_;
  CallIds ids_;
  bool begun_ = false;
};

class CallObserver::Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(CallObserver* observer) : observer_(observer) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new Interceptor(observer_, info);  // gRPC owns it
  }

 private:
  CallObserver* const observer_;
};

CallObserver::CallObserver(GatewayMetrics* metrics, IdentifyCaller identify)
    : metrics_(metrics), identify_(std::move(identify)) {}

CallObserver::~CallObserver() = default;

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallObserver::NewInterceptorFactory() {
  return std::make_unique<Factory>(this);
}

void CallObserver::Begin(const grpc::ServerContextBase* context, CallIds ids) {
  absl::MutexLock lock(&mu_);
  calls_[context] = CallState{std::move(ids), ""};
}

void CallObserver::End(const grpc::ServerContextBase* context) {
  absl::MutexLock lock(&mu_);
  calls_.erase(context);
}

void CallObserver::NoteReferralId(const grpc::ServerContextBase& context, const std::string& referral_id) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(&context);
  if (it != calls_.end()) it->second.referral_id = referral_id;
}

CallIds CallObserver::IdsOf(const grpc::ServerContextBase& context) {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(&context);
  return it == calls_.end() ? CallIds() : it->second.ids;
}

}  // namespace frontdoor::observability
