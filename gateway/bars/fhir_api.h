// FhirApi: the BaRS door. frontdoor's FHIR R4 API at base path /FHIR/R4, served over HTTPS by an
// HttpServer (gateway/net/http_server.h): a thin adapter over what every door shares. A message
// POSTed to $process-message goes to the SubmissionIntake exactly as a gRPC SubmitReferral's
// fhir_json does (one referral whichever door; a ServiceRequest re-sent as revoked withdraws it);
// the reads run on the StoreWorkQueue through the same ReferralStatusFor as GetReferral (IG-8).
//
//   POST $process-message          200 response Bundle | 400 | 409 duplicate | 422 refused (bars_outcomes.h)
//   GET  metadata                  the CapabilityStatement
//   GET  MessageDefinition         what a servicerequest-request must hold
//   GET  ServiceRequest/{id}       the referral's state (only its referring organisation)
//   GET  Task?focus=ServiceRequest/{id}   its feedback, as the Tasks WatchFeedback carries
//
// Every request needs X-Request-Id (a UUID; mirrored back with X-Correlation-Id) and a caller: the
// client certificate's CN, or X-Frontdoor-Client with --insecure-plaintext. The same per-identity
// limits as gRPC apply, from the same CallerLimiter (one budget per caller across both doors).
// Every error body is an OperationOutcome with its BaRS REC_ code; every answer is no-store.
// Each request is logged once (door, route, status, caller, ids, duration, referral id) and
// counted in frontdoor_http_requests_total.
//
//   FhirApi api(deps);
//   HttpServer::Start(loop.context(), options, api.Handler(), FhirApi::Refusal);
//
// Thread-safety: Handle may be called from any thread, concurrently; `deps` pointers must outlive
// the api and the server that calls it.
#ifndef FRONTDOOR_GATEWAY_BARS_FHIR_API_H_
#define FRONTDOOR_GATEWAY_BARS_FHIR_API_H_

#include <cstddef>
#include <string>

#include "common/clock.h"
#include "gateway/feedback/referral_status.h"
#include "gateway/intake/submission_intake.h"
#include "gateway/net/http_exchange.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "gateway/store/store_work_queue.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

inline constexpr char kFhirBasePath[] = "/FHIR/R4";

struct FhirApiDeps {
  const SubmissionIntake* intake = nullptr;
  ReferralReadDeps reads;
  StoreWorkQueue* work = nullptr;
  const Authorizer* authorizer = nullptr;
  CallerLimiter* limiter = nullptr;  // the gRPC port's, so a caller has one budget; null: no limits
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  const Clock* clock = nullptr;
  observability::GatewayMetrics* metrics = nullptr;  // null: not counted
  size_t max_message_bytes = 1 << 20;
};

class FhirApi {
 public:
  explicit FhirApi(FhirApiDeps deps);

  void Handle(HttpExchange request, HttpResponder respond) const;
  HttpHandler Handler() const {
    return [this](HttpExchange request, HttpResponder respond) { Handle(std::move(request), std::move(respond)); };
  }
  // What the HTTP layer answers when it refuses a request itself (malformed, too slow, too large):
  // an OperationOutcome with the BaRS code for the status.
  static HttpAnswer Refusal(int status, const std::string& why);

 private:
  class Exchange;
  void Dispatch(std::shared_ptr<Exchange> exchange) const;
  void ProcessMessage(std::shared_ptr<Exchange> exchange) const;
  void ReadReferral(std::shared_ptr<Exchange> exchange, std::string referral_id, bool tasks) const;

  const FhirApiDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_BARS_FHIR_API_H_
