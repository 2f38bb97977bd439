// frontdoor: the command-line client for referrers, connectors and IG officers.
//
//   frontdoor --as P85901 submit referral.json      # typed JSON, FHIR Bundle JSON or HL7 v2 ER7
//   frontdoor --as P85901 get 0b7c...               # a referral's state
//   frontdoor --as P85901 watch --from CURSOR       # feedback on P85901's referrals as it arrives
//   frontdoor --as frontdoor-operator admin dead-letters
//   frontdoor --as frontdoor-operator admin replay --endpoint mind-oldham
//
// Answers are printed as JSON (proto3 JSON mapping) on stdout; errors, by their gRPC status name and
// with what to do, on stderr. Exit status: tools/cli_errors.h (0 ok or ACCEPTED, 6 REJECTED,
// 7 REFUSED, 3 unreachable, 5 not allowed...), listed in --help.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "frontdoor/v1/admin_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/security/caller_identity.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "tools/cli_credentials.h"
#include "tools/cli_errors.h"
#include "tools/ig_commands.h"

namespace {

namespace v1 = ::frontdoor::v1;

constexpr char kUsage[] = R"(usage: frontdoor [options] COMMAND [args]

commands:
  submit FILE [--raw-reply]   submit a referral: FHIR R4 message Bundle (JSON), HL7 v2 REF^I12 (ER7),
                              or a typed frontdoor.v1.Referral in proto JSON; --raw-reply prints only
                              the reply in the sender's own format (FHIR Bundle or HL7 ACK)
  get REFERRAL_ID             a referral's decision, delivery state and history
  watch [--from CURSOR] [--count N]
                              print every feedback event on your organisation's referrals as it
                              arrives (one JSON line each, oldest first), resuming after CURSOR (the
                              `cursor` of the last event you saw); --count exits after N events
  admin dead-letters [--endpoint ENDPOINT_ID] [--referral REFERRAL_ID]
                              (operators) deliveries the gateway gave up on
  admin replay (--all | --endpoint ENDPOINT_ID | --referral REFERRAL_ID | --outbox-id N ...)
                              (operators) send dead letters again, with their idempotency keys

options:
  --target HOST:PORT          the gateway (default $FRONTDOOR_TARGET or 127.0.0.1:50051)
  --as IDENTITY               who you are (default $FRONTDOOR_CLIENT): picks IDENTITY.crt/.key
                              from the certificate directory; in plaintext mode it is sent as
                              x-frontdoor-client
  --cert-dir DIR              certificates by identity, as scripts/dev-certs makes them
                              (default $FRONTDOOR_CERT_DIR, else var/dev-certs if it exists)
  --tls-cert FILE --tls-key FILE
                              the client certificate and key ($FRONTDOOR_TLS_CERT, $FRONTDOOR_TLS_KEY)
  --ca FILE                   CA of the gateway's certificate ($FRONTDOOR_TLS_CA; default
                              CERT_DIR/ca.crt)
  --insecure-plaintext        no TLS, for a gateway run with --insecure-plaintext (development only)
  --timeout SECONDS           deadline of the call (default 30; watch: none unless given)
)";

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "{}";
  return out;
}

// Picks the payload from the file's content: HL7 v2 starts with MSH; a JSON object with a
// resourceType is FHIR; any other JSON is a typed Referral (or a whole SubmitReferralRequest).
bool BuildRequest(const std::string& text, v1::SubmitReferralRequest* request, std::string* error) {
  size_t start = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) start = 3;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  if (text.compare(start, 3, "MSH") == 0) {
    request->set_hl7v2(text.substr(start));
    return true;
  }
  if (start < text.size() && text[start] == '{') {
    if (text.find("\"resourceType\"") != std::string::npos) {
      request->set_fhir_json(text);
      return true;
    }
    google::protobuf::util::JsonParseOptions options;
    v1::Referral referral;
    if (google::protobuf::util::JsonStringToMessage(text, &referral, options).ok()) {
      *request->mutable_referral() = std::move(referral);
      return true;
    }
    auto status = google::protobuf::util::JsonStringToMessage(text, request, options);
    if (status.ok()) return true;
    *error = "not a typed referral in proto JSON: " + std::string(status.message());
    return false;
  }
  *error = "neither HL7 v2 (MSH...) nor JSON";
  return false;
}

// The command line, read.
struct CliArgs {
  std::string target = Env("FRONTDOOR_TARGET", "127.0.0.1:50051");
  std::string identity = Env("FRONTDOOR_CLIENT", "");
  int timeout_seconds = 30;
  bool timeout_given = false;  // watch has no deadline unless one is asked for
  bool raw_reply = false;
  frontdoor::tools::CliTlsOptions tls;
  // watch and admin
  std::string from_cursor, endpoint_filter, referral_filter;
  std::vector<int64_t> outbox_ids;
  bool replay_all = false;
  long watch_count = 0;
  std::vector<std::string> command;  // the command and its arguments
};

// Reads argv into `out`; returns an exit status when the run ends here (help, a usage error).
std::optional<int> ParseArgs(int argc, char** argv, CliArgs* out) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "frontdoor: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    std::vector<std::string>& args = out->command;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::fputs(frontdoor::cli::kIgUsage, stdout);
      std::fputs(frontdoor::tools::kExitCodesHelp, stdout);
      return 0;
    } else if (a == "--target") {
      out->target = next();
    } else if (a == "--as") {
      out->identity = next();
    } else if (a == "--timeout") {
      out->timeout_seconds = std::atoi(next().c_str());
      out->timeout_given = true;
    } else if (a == "--cert-dir") {
      out->tls.cert_dir = next();
    } else if (a == "--tls-cert") {
      out->tls.cert = next();
    } else if (a == "--tls-key") {
      out->tls.key = next();
    } else if (a == "--ca") {
      out->tls.ca = next();
    } else if (a == "--insecure-plaintext") {
      out->tls.insecure_plaintext = true;
    } else if (a == "--raw-reply") {
      out->raw_reply = true;
    } else if (a.rfind("--", 0) == 0 && !args.empty() && (args[0] == "cancel" || args[0] == "audit")) {
      args.push_back(a);  // the command's own options (tools/ig_commands.cc)
    } else if (a == "--from") {
      out->from_cursor = next();
    } else if (a == "--count") {
      out->watch_count = std::atol(next().c_str());
    } else if (a == "--endpoint") {
      out->endpoint_filter = next();
    } else if (a == "--referral") {
      out->referral_filter = next();
    } else if (a == "--outbox-id") {
      out->outbox_ids.push_back(std::atoll(next().c_str()));
    } else if (a == "--all") {
      out->replay_all = true;
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "frontdoor: unknown option %s\n\n%s", a.c_str(), kUsage);
      return 2;
    } else {
      args.push_back(a);
    }
  }
  if (out->command.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  return std::nullopt;
}

int Submit(const CliArgs& cli, v1::ReferralService::Stub& stub, grpc::ClientContext& ctx) {
  const std::string& file = cli.command[1];
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "frontdoor: cannot read %s\n", file.c_str());
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  v1::SubmitReferralRequest request;
  std::string error;
  if (!BuildRequest(text.str(), &request, &error)) {
    std::fprintf(stderr, "frontdoor: %s: %s\n", file.c_str(), error.c_str());
    return 2;
  }
  v1::SubmitReferralResponse response;
  grpc::Status status = stub.SubmitReferral(&ctx, request, &response);
  if (!status.ok()) return frontdoor::tools::ReportGrpcError(status, cli.target);
  const int exit_code = frontdoor::tools::ExitCodeOf(response.disposition());
  if (!cli.raw_reply) {
    std::cout << ToJson(response);
    return exit_code;
  }
  const std::string& reply = !response.fhir_json().empty() ? response.fhir_json() : response.hl7v2_ack();
  if (reply.empty()) {
    std::fprintf(stderr, "frontdoor: a typed referral has no sender-format reply; showing the answer\n");
    std::cout << ToJson(response);
  } else {
    std::cout << reply << (reply.back() == '\n' ? "" : "\n");
  }
  return exit_code;
}

int Get(const CliArgs& cli, v1::ReferralService::Stub& stub, grpc::ClientContext& ctx) {
  v1::GetReferralRequest request;
  request.set_referral_id(cli.command[1]);
  v1::GetReferralResponse response;
  grpc::Status status = stub.GetReferral(&ctx, request, &response);
  if (!status.ok()) return frontdoor::tools::ReportGrpcError(status, cli.target);
  std::cout << ToJson(response);
  return 0;
}

// Every feedback event as it arrives, one JSON line each. A stream has no deadline: it runs until
// interrupted (or --count events).
int Watch(const CliArgs& cli, v1::ReferralService::Stub& stub, bool send_identity) {
  grpc::ClientContext ctx;
  if (!cli.identity.empty() && send_identity) ctx.AddMetadata(frontdoor::gateway::kClientMetadataKey, cli.identity);
  if (cli.timeout_given && cli.timeout_seconds > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(cli.timeout_seconds));
  }
  v1::WatchFeedbackRequest request;
  request.set_cursor(cli.from_cursor);
  auto reader = stub.WatchFeedback(&ctx, request);
  v1::FeedbackEvent event;
  google::protobuf::util::JsonPrintOptions compact;
  compact.preserve_proto_field_names = true;
  long seen = 0;
  while (reader->Read(&event)) {
    std::string line;
    if (!google::protobuf::util::MessageToJsonString(event, &line, compact).ok()) line = "{}";
    std::cout << line << std::endl;
    if (cli.watch_count > 0 && ++seen >= cli.watch_count) {
      ctx.TryCancel();
      reader->Finish().IgnoreError();
      return 0;
    }
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : frontdoor::tools::ReportGrpcError(status, cli.target);
}

// admin dead-letters | admin replay: the operators' commands.
int Admin(const CliArgs& cli, const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& ctx) {
  auto admin = v1::AdminService::NewStub(channel);
  grpc::Status status;
  if (cli.command[1] == "dead-letters") {
    v1::ListDeadLettersRequest request;
    request.set_endpoint_id(cli.endpoint_filter);
    request.set_referral_id(cli.referral_filter);
    v1::ListDeadLettersResponse response;
    status = admin->ListDeadLetters(&ctx, request, &response);
    if (status.ok()) std::cout << ToJson(response);
  } else {
    v1::ReplayDeadLettersRequest request;
    for (int64_t id : cli.outbox_ids) request.add_outbox_ids(id);
    request.set_endpoint_id(cli.endpoint_filter);
    request.set_referral_id(cli.referral_filter);
    request.set_all(cli.replay_all);
    v1::ReplayDeadLettersResponse response;
    status = admin->ReplayDeadLetters(&ctx, request, &response);
    if (status.ok()) std::cout << ToJson(response);
  }
  return status.ok() ? 0 : frontdoor::tools::ReportGrpcError(status, cli.target);
}

}  // namespace

int main(int argc, char** argv) {
  CliArgs cli;
  if (std::optional<int> done = ParseArgs(argc, argv, &cli); done.has_value()) return *done;
  // Offline: a proof is checked with the public key alone, no gateway and no certificate.
  if (cli.command.size() >= 2 && cli.command[0] == "audit" && cli.command[1] == "check-proof") {
    return frontdoor::cli::RunIgCommand(cli.command, nullptr, cli.identity, cli.timeout_seconds, cli.target);
  }
  cli.tls.identity = cli.identity;
  frontdoor::tools::ApplyEnvironment(&cli.tls);
  absl::StatusOr<frontdoor::tools::CliConnection> connection = frontdoor::tools::ResolveCliConnection(cli.tls);
  if (!connection.ok()) {
    std::fprintf(stderr, "frontdoor: %s\n", std::string(connection.status().message()).c_str());
    return frontdoor::tools::kExitUsage;
  }
  if (connection->send_identity_metadata && !cli.tls.insecure_plaintext) {
    std::fprintf(stderr, "frontdoor: warning: %s\n", connection->description.c_str());
  }
  auto channel = grpc::CreateChannel(cli.target, connection->credentials);
  auto stub = v1::ReferralService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(cli.timeout_seconds > 0 ? cli.timeout_seconds : 30));
  if (!cli.identity.empty() && connection->send_identity_metadata) {
    ctx.AddMetadata(frontdoor::gateway::kClientMetadataKey, cli.identity);
  }

  const std::vector<std::string>& args = cli.command;
  const std::string& command = args[0];
  if (command == "submit" && args.size() == 2) return Submit(cli, *stub, ctx);
  if (command == "get" && args.size() == 2) return Get(cli, *stub, ctx);
  if (int rc = frontdoor::cli::RunIgCommand(args, channel, cli.identity, cli.timeout_seconds, cli.target); rc >= 0) {
    return rc;
  }
  if (command == "watch" && args.size() == 1) return Watch(cli, *stub, connection->send_identity_metadata);
  if (command == "admin" && args.size() == 2 && (args[1] == "dead-letters" || args[1] == "replay")) {
    return Admin(cli, channel, ctx);
  }
  std::fprintf(stderr, "frontdoor: unknown command or wrong arguments\n\n%s", kUsage);
  return 2;
}
