// Why a listening address could not be had, in words an operator can act on. gRPC reports only
// that its server did not start; this binds a plain socket to the same address (no SO_REUSEPORT,
// as the gateway's own listeners) to learn the cause.
//
//   if (server == nullptr) return absl::UnavailableError(ListenFailure("the gRPC port", "127.0.0.1:50051"));
//   // "cannot listen on 127.0.0.1:50051 (the gRPC port): the address is already in use: is another
//   //  frontdoor-gateway running there? ..."
//
// Thread-safe.
#ifndef FRONTDOOR_GATEWAY_NET_LISTEN_ADDRESS_H_
#define FRONTDOOR_GATEWAY_NET_LISTEN_ADDRESS_H_

#include <string>

namespace frontdoor::gateway {

// "cannot listen on ADDRESS (WHAT): <cause>", the cause found by binding a socket to ADDRESS
// ("HOST:PORT", "[v6]:PORT").
std::string ListenFailure(const std::string& what, const std::string& address);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_LISTEN_ADDRESS_H_
