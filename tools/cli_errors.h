// How the CLI ends: the exit codes a script can test, and a gRPC error told by its status name with
// what to do about it.
//
//   if (!status.ok()) return frontdoor::tools::ReportGrpcError(status, "127.0.0.1:50051");
//   return frontdoor::tools::ExitCodeOf(response.disposition());
#ifndef FRONTDOOR_TOOLS_CLI_ERRORS_H_
#define FRONTDOOR_TOOLS_CLI_ERRORS_H_

#include <string>

#include "frontdoor/v1/referral_service.pb.h"
#include "grpcpp/support/status.h"

namespace frontdoor::tools {

// The gateway the CLI calls unless told otherwise: where scripts/demo runs it.
inline constexpr char kDefaultTarget[] = "127.0.0.1:50051";

// The exit codes, as `frontdoor --help` lists them. A script tells apart what to fix: its command
// line (2), the network (3), its rights (5), or the referral (6, 7).
enum ExitCode : int {
  kExitOk = 0,           // done; a submission ACCEPTED
  kExitGrpcError = 1,    // the gateway answered an error not listed below (INVALID_ARGUMENT, NOT_FOUND...)
  kExitUsage = 2,        // the command line is wrong, or no certificate or identity: nothing was sent
  kExitUnreachable = 3,  // UNAVAILABLE or DEADLINE_EXCEEDED: the gateway not reached, or not in time
  kExitNotVerified = 4,  // audit verify or check-proof: the log or proof does not verify
  kExitNotAllowed = 5,   // PERMISSION_DENIED or UNAUTHENTICATED: not this identity's to do
  kExitRejected = 6,     // submit: REJECTED (not a valid referral; nothing recorded)
  kExitRefused = 7,      // submit: REFUSED (an IG rule refused it; recorded, nothing sent)
};

inline constexpr char kExitCodesHelp[] = R"(
exit status:
  0  done; submit: ACCEPTED
  1  the gateway answered another error (INVALID_ARGUMENT, NOT_FOUND, ...)
  2  usage: the command line is wrong, or no certificate or identity; nothing was sent
  3  transport: UNAVAILABLE or DEADLINE_EXCEEDED (is the gateway running?)
  4  audit verify / check-proof: does not verify
  5  rights: PERMISSION_DENIED or UNAUTHENTICATED (not this identity's to do)
  6  submit: REJECTED (not a valid referral; nothing recorded)
  7  submit: REFUSED (an IG rule refused it; recorded, nothing sent)
Errors go to stderr, named by their gRPC status, with what to do; stdout has only answers.
)";

// True when `exit_code` means an answer was given (0, 4, 6, 7): the answer is on stdout (or in
// --output FILE). Otherwise stdout stays empty.
bool IsAnswer(int exit_code);

// The status's name (PERMISSION_DENIED, not 7).
std::string StatusName(grpc::StatusCode code);

// Prints "frontdoor: NAME: message" and what to do, on stderr; returns the exit code for it.
// `target` is the gateway the call went to.
int ReportGrpcError(const grpc::Status& status, const std::string& target);

// The exit code of a submission's answer.
int ExitCodeOf(frontdoor::v1::Disposition disposition);

}  // namespace frontdoor::tools

#endif  // FRONTDOOR_TOOLS_CLI_ERRORS_H_
