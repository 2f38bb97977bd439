// The `frontdoor` CLI's withdrawal and IG-officer commands (cancel, audit ...), kept apart from the
// referrer commands in frontdoor_cli.cc.
//
//   int rc = frontdoor::cli::RunIgCommand(args, channel, identity, timeout_seconds, target);
//   if (rc >= 0) return rc;   // handled
#ifndef FRONTDOOR_TOOLS_IG_COMMANDS_H_
#define FRONTDOOR_TOOLS_IG_COMMANDS_H_

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace frontdoor::cli {

inline constexpr char kIgUsage[] = R"(
withdrawal (the referring organisation):
  cancel REFERRAL_ID --reason consent-withdrawn|entered-in-error|no-longer-needed

IG officers (--as an identity listed in ig_officers):
  audit query [--nhs-number N] [--recipient ENDPOINT] [--referrer ODS] [--rule IG-5]
              [--outcome permit|refuse|withhold|deliver|withdraw|cease|query]
              [--from RFC3339] [--to RFC3339] [--format csv|json]
                              audit records, oldest first (the query itself is audited)
  audit verify [--checkpoint FILE [--public-key PUB.pem]]
                              recompute the whole log against the signed checkpoints
                              (exit 0 verified, 4 not verified: the first bad record is named);
                              keep the answer (its latest_checkpoint) outside the gateway, and
                              later give it as --checkpoint: the log must extend it, proved here
                              with the public key (RFC 9162 consistency proof)
  audit prove INDEX           an inclusion proof of record INDEX (JSON; save it to a file)
  audit public-key            the checkpoint public key (PEM; save it to a file)
  audit check-proof PROOF.json --public-key PUB.pem
                              check a proof offline, without the gateway (exit 0 valid, 4 not)
)";

// Runs `args` (the command and its arguments) when it is one of the commands above: returns the
// exit status (0 ok, 1 gRPC error, 2 usage error, 4 verification failed), or -1 when `args` is
// not one of them.
int RunIgCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel,
                 const std::string& identity, int timeout_seconds, const std::string& target);

}  // namespace frontdoor::cli

#endif  // FRONTDOOR_TOOLS_IG_COMMANDS_H_
