// The `frontdoor` CLI's withdrawal and IG-officer commands (cancel, audit ...), kept apart from the
// referrer commands in frontdoor_cli.cc. A command is read and checked first, so a wrong command
// line is told before any certificate is looked for or anything is sent; then it runs.
//
//   std::optional<absl::StatusOr<IgCommand>> command = ParseIgCommand(args);
//   if (!command.has_value()) ...;                  // not one of these commands
//   if (!command->ok()) ...;                        // usage error: (*command).status().message()
//   int rc = RunIgCommand(**command, call);         // call: tools/cli_credentials.h
#ifndef FRONTDOOR_TOOLS_IG_COMMANDS_H_
#define FRONTDOOR_TOOLS_IG_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/referral_service.pb.h"
#include "tools/cli_credentials.h"

namespace frontdoor::cli {

inline constexpr char kIgUsage[] = R"(
withdrawal (the referring organisation):
  cancel REFERRAL_ID --reason consent-withdrawn|entered-in-error|no-longer-needed

IG officers (--as an identity listed in ig_officers):
  audit query [--nhs-number N] [--recipient ENDPOINT] [--referrer ODS] [--rule IG-5]
              [--outcome permit|refuse|withhold|deliver|withdraw|cease|feedback|query
                         |delivered|refused|pruned]
              [--action decide|withhold|deliver|cease|withdraw|feedback|feedback-push
                        |read|query|report|prune]
              [--from TIME] [--to TIME] [--format csv|json]
                              audit records, oldest first (the query itself is audited);
                              --nhs-number is 10 digits with a valid check digit; TIME is RFC 3339
                              (2025-06-10T09:00:00Z) or a day (2025-06-10, from its midnight UTC);
                              records in [from, to)
  audit verify [--checkpoint FILE [--public-key PUB.pem]]
                              recompute the whole log against the signed checkpoints
                              (exit 0 verified, 4 not verified: the first bad record is named);
                              keep the answer (its latest_checkpoint) outside the gateway, and
                              later give it as --checkpoint: the log must extend it, proved here
                              with the public key (RFC 9162 consistency proof)
  audit prove INDEX           an inclusion proof of record INDEX (JSON; save it to a file)
  audit public-key            the checkpoint public key (PEM; save it to a file)
  audit check-proof PROOF.json --public-key PUB.pem
                              check a proof offline, without the gateway or a certificate
                              (exit 0 valid, 4 not)
)";

// A command of this file, read and checked: what it will send, before anything is sent.
struct IgCommand {
  enum class Kind { kCancel, kAuditQuery, kAuditVerify, kAuditProve, kAuditPublicKey, kAuditCheckProof };
  Kind kind = Kind::kCancel;
  frontdoor::v1::CancelReferralRequest cancel;
  frontdoor::v1::QueryAuditRequest query;
  bool csv = false;  // audit query --format csv
  frontdoor::v1::VerifyAuditRequest verify;
  frontdoor::v1::ProveInclusionRequest prove;
  frontdoor::v1::AuditInclusionProof proof;  // audit check-proof
  std::string public_key_pem;                // audit verify, check-proof: --public-key

  // audit check-proof is checked offline; every other command calls the gateway.
  bool NeedsGateway() const { return kind != Kind::kAuditCheckProof; }
};

// Reads `args` (the command and its arguments). Returns nullopt when they are not one of the
// commands above; else the command, or INVALID_ARGUMENT saying in command-line terms what is wrong
// (an unknown option or --outcome, a malformed --nhs-number or time, an unreadable file...).
std::optional<absl::StatusOr<IgCommand>> ParseIgCommand(const std::vector<std::string>& args);

// Runs a command ParseIgCommand gave: the answer on std::cout (nothing there when it fails), errors
// by their gRPC status name and what to do on stderr. `call.channel` may be null for a command that
// does not NeedsGateway(). Returns the exit status (tools/cli_errors.h: 0, 4 not verified, or the
// error's).
int RunIgCommand(const IgCommand& command, const frontdoor::tools::GatewayCall& call);

}  // namespace frontdoor::cli

#endif  // FRONTDOOR_TOOLS_IG_COMMANDS_H_
