// Loading the gateway's configuration: the GatewayConfig text file and the network data it names.
// Without a file, the demo configuration the project ships (config/demo/, compiled in).
//
//   absl::StatusOr<LoadedConfig> config = LoadGatewayConfig("/etc/frontdoor/gateway.textproto");
//   absl::StatusOr<LoadedConfig> demo = LoadGatewayConfig("");
#ifndef FRONTDOOR_GATEWAY_SERVER_GATEWAY_CONFIG_H_
#define FRONTDOOR_GATEWAY_SERVER_GATEWAY_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "frontdoor/v1/gateway_config.pb.h"
#include "gateway/delivery/delivery_dispatcher.h"
#include "gateway/intake/payload_parsing.h"
#include "network/network_directory.h"

namespace frontdoor::gateway {

struct LoadedConfig {
  frontdoor::v1::GatewayConfig config;
  network::NetworkDirectory network;
};

// The demo gateway configuration text (config/demo/gateway.textproto) as compiled in.
const std::string& DemoGatewayConfigText();

// Parses `path` (empty: the demo configuration) and loads its network data. Returns NOT_FOUND for a
// missing file, INVALID_ARGUMENT for a text-format error (with line and column) or an inconsistent
// configuration (a connector endpoint not in organisations.csv, a duplicate endpoint).
absl::StatusOr<LoadedConfig> LoadGatewayConfig(const std::string& path);

// Where each endpoint's ConnectorService is reached: the configuration, then `overrides`
// (--connector ENDPOINT_ID=HOST:PORT). INVALID_ARGUMENT for an override naming an unknown endpoint.
absl::StatusOr<std::map<std::string, std::string>> ConnectorAddresses(
    const LoadedConfig& loaded, const std::map<std::string, std::string>& overrides);

DeliveryPolicy DeliveryPolicyFrom(const frontdoor::v1::GatewayConfig& config);
InboundLimits InboundLimitsFrom(const frontdoor::v1::GatewayConfig& config);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_SERVER_GATEWAY_CONFIG_H_
