#include "tools/cli_errors.h"

#include <cstdio>

namespace frontdoor::tools {

bool IsAnswer(int exit_code) {
  return exit_code == kExitOk || exit_code == kExitNotVerified || exit_code == kExitRejected ||
         exit_code == kExitRefused;
}

std::string StatusName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const int n = static_cast<int>(code);
  return n >= 0 && n <= 16 ? kNames[n] : "UNKNOWN";
}

int ReportGrpcError(const grpc::Status& status, const std::string& target) {
  std::fprintf(stderr, "frontdoor: %s: %s\n", StatusName(status.error_code()).c_str(), status.error_message().c_str());
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      std::fprintf(stderr, "  is the gateway running? scripts/demo starts one on %s", kDefaultTarget);
      if (target != kDefaultTarget) std::fprintf(stderr, "; this call went to %s", target.c_str());
      std::fprintf(stderr,
                   " (--target HOST:PORT or FRONTDOOR_TARGET for another)\n"
                   "  if it runs there: both sides use TLS, or both --insecure-plaintext "
                   "(scripts/demo --insecure-plaintext)\n");
      return kExitUnreachable;
    case grpc::StatusCode::UNAUTHENTICATED:
      std::fprintf(stderr,
                   "  say who you are: --as IDENTITY (or FRONTDOOR_CLIENT) with that identity's certificate in "
                   "--cert-dir DIR (scripts/dev-certs makes the demo's), or --tls-cert FILE --tls-key FILE\n");
      return kExitNotAllowed;
    case grpc::StatusCode::PERMISSION_DENIED:
      std::fprintf(stderr,
                   "  this identity may not do that: the gateway's configuration says who may (referrers, "
                   "connectors, ig_officers, commissioners, operators); --as another identity if you hold one\n");
      return kExitNotAllowed;
    default:
      return kExitGrpcError;
  }
}

int ExitCodeOf(frontdoor::v1::Disposition disposition) {
  switch (disposition) {
    case frontdoor::v1::REJECTED:
      return kExitRejected;
    case frontdoor::v1::REFUSED:
      return kExitRefused;
    default:
      return kExitOk;
  }
}

}  // namespace frontdoor::tools
