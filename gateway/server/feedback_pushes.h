// Where referring organisations take their feedback pushed rather than reading or watching it: a
// BaRS endpoint (fhir_api.feedback_endpoints) or an interface engine over MLLP
// (mllp.feedback_destinations), one per organisation. Each becomes a transport of the delivery
// outbox under its own endpoint id ("bars:ODS", "mllp:ODS"), over mutual TLS with the gateway's
// client certificate (plain only with --insecure-plaintext).
//
//   FeedbackPushes pushes = *FeedbackPushesFrom(config, tls, authorizer, config_path, store);
//   transports.merge(pushes.transports);     // for the DeliveryDispatcher
//   pushes.endpoint_of["P85901"];           // "bars:P85901": where its events are queued
//
// INVALID_ARGUMENT names the entry at fault: an organisation that is not a referrer of the network,
// one given twice, a URL or address that cannot be used, TLS files missing.
#ifndef FRONTDOOR_GATEWAY_SERVER_FEEDBACK_PUSHES_H_
#define FRONTDOOR_GATEWAY_SERVER_FEEDBACK_PUSHES_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/delivery/connector_transport.h"
#include "gateway/security/authorization.h"
#include "gateway/server/gateway_tls.h"
#include "gateway/store/feedback_log.h"

namespace frontdoor::gateway {

struct FeedbackPushes {
  TransportMap transports;                         // by outbox endpoint id
  std::map<std::string, std::string> endpoint_of;  // referrer ODS -> outbox endpoint id
};

absl::StatusOr<FeedbackPushes> FeedbackPushesFrom(const frontdoor::v1::GatewayConfig& config, const GatewayTls& tls,
                                                  const Authorizer& authorizer, const std::string& config_path,
                                                  FeedbackLog* feedback);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVER_FEEDBACK_PUSHES_H_
