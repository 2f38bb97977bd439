#include "gateway/server/feedback_pushes.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gateway/bars/feedback_push_transport.h"
#include "gateway/mllp/mllp_feedback_transport.h"
#include "gateway/net/http_client.h"
#include "gateway/net/tls_contexts.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

using observability::Log;
using observability::LogLevel;

namespace {

// Refused unless `ods` is a referring organisation of the network with no push configured yet.
absl::Status CheckReferrer(const Authorizer& authorizer, const std::string& ods, const FeedbackPushes& so_far,
                           const char* block) {
  absl::StatusOr<Caller> referrer = authorizer.Identify(ods);
  if (!referrer.ok() || !authorizer.MaySubmit(*referrer).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(block, ": '", ods, "' is not a referring organisation of the network"));
  }
  if (so_far.endpoint_of.count(ods) > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("feedback for ", ods, " is configured twice (one destination per referring organisation)"));
  }
  return absl::OkStatus();
}

// The gateway's client TLS for a push to `ods`: nullptr in plaintext (development) mode.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> PushTls(const GatewayTls& tls, const std::string& ca_file,
                                                                   const std::string& config_path,
                                                                   const std::string& ods, const char* block) {
  const TlsFiles files = FeedbackPushTlsFiles(tls, ca_file, config_path);
  if (files.ca.empty() || files.cert.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(block, ": feedback to ", ods,
                     " needs the gateway's client certificate (tls.connector_client_cert_file) and a CA"));
  }
  return ClientTlsContext(files);
}

absl::Status AddBarsPushes(const frontdoor::v1::GatewayConfig& config, const GatewayTls& tls,
                           const Authorizer& authorizer, const std::string& config_path, FeedbackLog* feedback,
                           FeedbackPushes* out) {
  constexpr char kBlock[] = "fhir_api.feedback_endpoints";
  for (const frontdoor::v1::FeedbackEndpointConfig& push : config.fhir_api().feedback_endpoints()) {
    const std::string& ods = push.ods();
    FRONTDOOR_RETURN_IF_ERROR(CheckReferrer(authorizer, ods, *out, kBlock));
    FRONTDOOR_ASSIGN_OR_RETURN(HttpOrigin origin, ParseHttpUrl(push.base_url()));
    std::shared_ptr<boost::asio::ssl::context> client_tls;
    if (origin.tls) {
      FRONTDOOR_ASSIGN_OR_RETURN(client_tls, PushTls(tls, push.ca_file(), config_path, ods, kBlock));
    } else if (!tls.insecure_plaintext) {
      return absl::InvalidArgumentError(
          absl::StrCat(kBlock, ": feedback to ", ods, " must go over https (http only with --insecure-plaintext)"));
    }
    FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<FeedbackPushTransport> transport,
                               FeedbackPushTransport::Create({ods, push.base_url()}, client_tls, feedback));
    const std::string endpoint = FeedbackPushEndpoint(ods);
    out->transports[endpoint] = std::move(transport);
    out->endpoint_of[ods] = endpoint;
    Log(LogLevel::kInfo, "startup", "feedback is pushed to a referrer's own endpoint",
        {{"referrer", ods}, {"endpoint_id", endpoint}});
  }
  return absl::OkStatus();
}

absl::Status AddMllpPushes(const frontdoor::v1::GatewayConfig& config, const GatewayTls& tls,
                           const Authorizer& authorizer, const std::string& config_path, FeedbackLog* feedback,
                           FeedbackPushes* out) {
  constexpr char kBlock[] = "mllp.feedback_destinations";
  for (const frontdoor::v1::MllpDestinationConfig& push : config.mllp().feedback_destinations()) {
    const std::string& ods = push.ods();
    FRONTDOOR_RETURN_IF_ERROR(CheckReferrer(authorizer, ods, *out, kBlock));
    std::shared_ptr<boost::asio::ssl::context> client_tls;
    if (!tls.insecure_plaintext) {
      FRONTDOOR_ASSIGN_OR_RETURN(client_tls, PushTls(tls, push.ca_file(), config_path, ods, kBlock));
    }
    FRONTDOOR_ASSIGN_OR_RETURN(
        std::unique_ptr<MllpFeedbackTransport> transport,
        MllpFeedbackTransport::Create({ods, push.address(), push.server_name()}, client_tls, feedback));
    const std::string endpoint = MllpFeedbackEndpoint(ods);
    out->transports[endpoint] = std::move(transport);
    out->endpoint_of[ods] = endpoint;
    Log(LogLevel::kInfo, "startup", "feedback is sent to a referrer's interface engine over MLLP",
        {{"referrer", ods}, {"endpoint_id", endpoint}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FeedbackPushes> FeedbackPushesFrom(const frontdoor::v1::GatewayConfig& config, const GatewayTls& tls,
                                                  const Authorizer& authorizer, const std::string& config_path,
                                                  FeedbackLog* feedback) {
  FeedbackPushes out;
  FRONTDOOR_RETURN_IF_ERROR(AddBarsPushes(config, tls, authorizer, config_path, feedback, &out));
  FRONTDOOR_RETURN_IF_ERROR(AddMllpPushes(config, tls, authorizer, config_path, feedback, &out));
  return out;
}

}  // namespace frontdoor::gateway
