// The TLS contexts of the doors beyond gRPC (Boost.Asio over OpenSSL), made from the same files as
// gRPC's: a door serves with the gateway's certificate and requires a client certificate that
// chains to the client CA (and, with a CRL directory, is not revoked), TLS 1.2 at least; the
// gateway's pushes to referrers present its client certificate and verify the referrer's server
// against the CA configured for it. The caller's identity is the verified certificate's Subject CN,
// as for gRPC.
//
//   absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> tls = ServerTlsContext(files);
//   std::string cn = PeerCommonName(stream.native_handle());   // after the handshake
//
// Thread-safety: a context is used by many streams at once (OpenSSL's SSL_CTX is thread-safe once
// set up); the functions are free functions. Certificates are read when the context is made: a
// renewed certificate is taken up at restart (gRPC's port reloads it without one).
#ifndef FRONTDOOR_GATEWAY_NET_TLS_CONTEXTS_H_
#define FRONTDOOR_GATEWAY_NET_TLS_CONTEXTS_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"
#include "gateway/security/tls_config.h"

namespace frontdoor::gateway {

// Serving with files.cert/key; client certificates required and verified against files.ca, and
// against the CRLs of files.crl_dir when given. INVALID_ARGUMENT naming the file that would not load.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> ServerTlsContext(const TlsFiles& files);

// Reaching a server whose certificate chains to files.ca, presenting files.cert/key (when given).
// The host name is checked per connection (VerifyHostName). INVALID_ARGUMENT as above.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> ClientTlsContext(const TlsFiles& files);

// The Subject CN of the peer's verified certificate; "" when there is none.
std::string PeerCommonName(SSL* ssl);

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_NET_TLS_CONTEXTS_H_
