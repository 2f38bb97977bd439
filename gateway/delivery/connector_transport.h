// ConnectorTransport: a connector organisation's ConnectorService over gRPC, as an
// EndpointTransport. A row's stored request bytes go out as they are with a generic stub
// (DeliverReferral or CeaseProcessing by the row's kind): one parse and one serialisation fewer per
// delivery. The gRPC status decides: OK is delivered; UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, INTERNAL and UNKNOWN say the connector is down, overloaded or broken (they
// count for the breaker); any other code is about the one request. Nothing is refused for good:
// a connector's answer may change once it is fixed.
//
//   auto transport = std::make_unique<ConnectorTransport>(grpc::CreateChannel(address, credentials));
//   std::map<std::string, std::unique_ptr<EndpointTransport>> all = ConnectorTransports(channels);
//
// Thread-safety: as EndpointTransport.
#ifndef FRONTDOOR_GATEWAY_DELIVERY_CONNECTOR_TRANSPORT_H_
#define FRONTDOOR_GATEWAY_DELIVERY_CONNECTOR_TRANSPORT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/delivery/endpoint_transport.h"
#include "grpcpp/channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/status_code_enum.h"

namespace frontdoor::gateway {

// True for the gRPC codes that say the connector is down, overloaded or broken (UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNKNOWN).
bool IsEndpointFailure(grpc::StatusCode code);

class ConnectorTransport final : public EndpointTransport {
 public:
  explicit ConnectorTransport(std::shared_ptr<grpc::ChannelInterface> channel);

  std::vector<SendOutcome> SendAll(absl::Span<const OutboxItem* const> rows, absl::Duration deadline) override;
  // Resets the channel's reconnect backoff and waits for it to leave TRANSIENT_FAILURE or IDLE. A
  // channel that failed reads TRANSIENT_FAILURE until it is READY again and fails calls at once
  // meanwhile; so a connector that is back is found, and one still down fails the probe with its
  // own error (connection refused, say) rather than a deadline.
  void ConnectNow(absl::Duration limit) override;

 private:
  std::shared_ptr<grpc::ChannelInterface> channel_;
  grpc::GenericStub stub_;
};

using ChannelMap = std::map<std::string, std::shared_ptr<grpc::ChannelInterface>>;
using TransportMap = std::map<std::string, std::unique_ptr<EndpointTransport>>;

// A ConnectorTransport per endpoint_id of `channels`.
TransportMap ConnectorTransports(const ChannelMap& channels);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_DELIVERY_CONNECTOR_TRANSPORT_H_
