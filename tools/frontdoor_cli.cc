// frontdoor: the command-line client for referrers, connectors, IG officers and commissioners.
//
//   frontdoor --as P85901 submit referral.json      # typed JSON, FHIR Bundle JSON or HL7 v2 ER7
//   frontdoor --as P85901 get 0b7c...               # a referral's state
//   frontdoor --as P85901 watch --from CURSOR       # feedback on P85901's referrals as it arrives
//   frontdoor --as frontdoor-operator admin dead-letters
//   frontdoor --as frontdoor-operator admin replay --endpoint mind-oldham
//   frontdoor --as commissioner-oldham-tameside report --from 2025-04-01 --to 2025-06-30 --by team
//
// A run has three steps, each ending it on a failure before the next: the command line is read and
// checked (files read, filters validated), the certificate and identity are found
// (tools/cli_credentials.h), then the gateway is called. Answers are printed as JSON (proto3 JSON
// mapping) on stdout; errors, by their gRPC status name and with what to do, on stderr, and then
// stdout stays empty. Exit status: tools/cli_errors.h, listed in --help.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "frontdoor/v1/admin_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "tools/cli_credentials.h"
#include "tools/cli_errors.h"
#include "tools/ig_commands.h"
#include "tools/report_command.h"

namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::tools::GatewayCall;
using frontdoor::tools::kExitUsage;

constexpr char kUsage[] = R"(usage: frontdoor [options] COMMAND [args]

commands:
  submit FILE [--raw-reply [--exact-bytes]]
                              submit a referral: FHIR R4 message Bundle (JSON), HL7 v2 REF^I12 (ER7),
                              or a typed frontdoor.v1.Referral in proto JSON; --raw-reply prints only
                              the reply in the sender's own format (FHIR Bundle or HL7 ACK), an HL7
                              ACK one segment a line on a terminal and its exact bytes (segments
                              ended by \r) when piped or with --exact-bytes
  get REFERRAL_ID             a referral's decision, delivery state and history
  watch [--from CURSOR] [--count N]
                              print every feedback event on your organisation's referrals as it
                              arrives (one JSON line each, oldest first), resuming after CURSOR (the
                              `cursor` of the last event you saw); --count exits after N events
  admin dead-letters [--endpoint ENDPOINT_ID] [--referral REFERRAL_ID]
                              (operators) deliveries the gateway gave up on
  admin replay (--all | --endpoint ENDPOINT_ID | --referral REFERRAL_ID | --outbox-id N ...)
                              (operators) send dead letters again, with their idempotency keys;
                              exactly one selector (--outbox-id may repeat)

options:
  --target HOST:PORT          the gateway (default $FRONTDOOR_TARGET or 127.0.0.1:50051, where
                              scripts/demo runs it)
  --as IDENTITY               who you are (default $FRONTDOOR_CLIENT): picks IDENTITY.crt/.key
                              from the certificate directory; in plaintext mode it is sent as
                              x-frontdoor-client
  --cert-dir DIR              certificates by identity, as scripts/dev-certs makes them
                              (default $FRONTDOOR_CERT_DIR, else var/dev-certs if it exists here)
  --tls-cert FILE --tls-key FILE
                              the client certificate and key ($FRONTDOOR_TLS_CERT, $FRONTDOOR_TLS_KEY)
  --ca FILE                   CA of the gateway's certificate ($FRONTDOOR_TLS_CA; default
                              CERT_DIR/ca.crt)
  --insecure-plaintext        no TLS, for a gateway run with --insecure-plaintext (development only);
                              without it and without a certificate the CLI stops before any call
  --timeout SECONDS           deadline of the call (default 30; watch: none unless given)
  --output FILE               write the answer to FILE instead of stdout: FILE is written only when
                              there is an answer (exit 0, 4, 6, 7), so a failed run leaves none
  --help                      this help
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

// A positive whole number (--timeout, --count, --outbox-id), or nullopt.
std::optional<long long> PositiveNumber(const std::string& text) {
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || n <= 0) return std::nullopt;
  return n;
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
  std::string target = Env("FRONTDOOR_TARGET", frontdoor::tools::kDefaultTarget);
  std::string identity = Env("FRONTDOOR_CLIENT", "");
  std::string timeout;  // --timeout, checked with the command
  bool raw_reply = false;
  bool exact_bytes = false;
  std::string output;  // --output FILE
  frontdoor::tools::CliTlsOptions tls;
  // watch and admin, as given (checked with the command)
  std::optional<std::string> from_cursor, watch_count, endpoint_filter, referral_filter;
  std::vector<std::string> outbox_ids;
  bool replay_all = false;
  std::vector<std::string> command;  // the command and its arguments
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "frontdoor: %s\n  (frontdoor --help lists the commands, options and exit codes)\n",
               message.c_str());
  return kExitUsage;
}

// Reads argv into `out`; returns an exit status when the run ends here (help, a usage error).
std::optional<int> ParseArgs(int argc, char** argv, CliArgs* out) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    std::vector<std::string>& args = out->command;
    // Commands that read their own options (tools/ig_commands.cc, tools/report_command.cc).
    const bool ig_command = !args.empty() && (args[0] == "cancel" || args[0] == "audit" || args[0] == "report");
    static const char* const kGlobalValued[] = {"--target",   "--as",      "--timeout", "--cert-dir",
                                                "--tls-cert", "--tls-key", "--ca",      "--output"};
    static const char* const kOwnValued[] = {"--from", "--count", "--endpoint", "--referral", "--outbox-id"};
    const auto among = [&a](const auto& names) {
      return std::find(std::begin(names), std::end(names), a) != std::end(names);
    };
    if (i + 1 >= argc && (among(kGlobalValued) || (!ig_command && among(kOwnValued)))) {
      return UsageError(a + " needs a value");
    }
    auto next = [&]() -> std::string { return argv[++i]; };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::fputs(frontdoor::cli::kIgUsage, stdout);
      std::fputs(frontdoor::cli::kReportUsage, stdout);
      std::fputs(frontdoor::tools::kExitCodesHelp, stdout);
      return 0;
    } else if (a == "--target") {
      out->target = next();
    } else if (a == "--as") {
      out->identity = next();
    } else if (a == "--timeout") {
      out->timeout = next();
    } else if (a == "--cert-dir") {
      out->tls.cert_dir = next();
    } else if (a == "--tls-cert") {
      out->tls.cert = next();
    } else if (a == "--tls-key") {
      out->tls.key = next();
    } else if (a == "--ca") {
      out->tls.ca = next();
    } else if (a == "--output") {
      out->output = next();
    } else if (a == "--insecure-plaintext") {
      out->tls.insecure_plaintext = true;
    } else if (a == "--raw-reply") {
      out->raw_reply = true;
    } else if (a == "--exact-bytes") {
      out->exact_bytes = true;
    } else if (a.rfind("--", 0) == 0 && ig_command) {
      args.push_back(a);  // the command's own options
    } else if (a == "--from") {
      out->from_cursor = next();
    } else if (a == "--count") {
      out->watch_count = next();
    } else if (a == "--endpoint") {
      out->endpoint_filter = next();
    } else if (a == "--referral") {
      out->referral_filter = next();
    } else if (a == "--outbox-id") {
      out->outbox_ids.push_back(next());
    } else if (a == "--all") {
      out->replay_all = true;
    } else if (a.rfind("--", 0) == 0) {
      return UsageError("unknown option " + a);
    } else {
      args.push_back(a);
    }
  }
  if (out->command.empty()) {
    std::fputs(kUsage, stderr);
    std::fputs(frontdoor::tools::kExitCodesHelp, stderr);
    return kExitUsage;
  }
  return std::nullopt;
}

// A referrer's or operator's command, read and checked: what it will send, before anything is.
struct ReferrerCommand {
  enum class Kind { kSubmit, kGet, kWatch, kDeadLetters, kReplay };
  Kind kind = Kind::kGet;
  v1::SubmitReferralRequest submit;
  v1::GetReferralRequest get;
  v1::WatchFeedbackRequest watch;
  long long watch_count = 0;  // 0: until interrupted
  v1::ListDeadLettersRequest dead_letters;
  v1::ReplayDeadLettersRequest replay;
};

// Options that belong to another command are a mistake worth naming, not something to ignore.
absl::Status CheckOptionsFit(const CliArgs& cli) {
  const std::string& name = cli.command[0];
  const bool admin = name == "admin" && cli.command.size() == 2;
  if ((cli.from_cursor || cli.watch_count) && name != "watch") {
    return absl::InvalidArgumentError(
        "--from CURSOR and --count N go with watch (audit query takes --from after query)");
  }
  if ((cli.endpoint_filter || cli.referral_filter || !cli.outbox_ids.empty() || cli.replay_all) && !admin) {
    return absl::InvalidArgumentError(
        "--endpoint, --referral, --outbox-id and --all go with admin dead-letters and admin replay");
  }
  if ((cli.raw_reply || cli.exact_bytes) && name != "submit") {
    return absl::InvalidArgumentError("--raw-reply and --exact-bytes go with submit");
  }
  return absl::OkStatus();
}

// Returns the command, or INVALID_ARGUMENT saying in command-line terms what is wrong with it.
absl::StatusOr<ReferrerCommand> ParseReferrerCommand(const CliArgs& cli) {
  const std::vector<std::string>& args = cli.command;
  const std::string& name = args[0];
  ReferrerCommand command;
  const bool admin = name == "admin" && args.size() == 2 && (args[1] == "dead-letters" || args[1] == "replay");
  if (name == "submit") {
    if (args.size() != 2) {
      return absl::InvalidArgumentError("submit needs one FILE (FHIR Bundle, HL7 v2 or typed JSON)");
    }
    std::ifstream in(args[1], std::ios::binary);
    if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", args[1]));
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    if (!BuildRequest(text.str(), &command.submit, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(args[1], ": ", error));
    }
    command.kind = ReferrerCommand::Kind::kSubmit;
    return command;
  }
  if (name == "get") {
    if (args.size() != 2 || args[1].empty()) return absl::InvalidArgumentError("get needs one REFERRAL_ID");
    command.kind = ReferrerCommand::Kind::kGet;
    command.get.set_referral_id(args[1]);
    return command;
  }
  if (name == "watch") {
    if (args.size() != 1) return absl::InvalidArgumentError("watch takes only --from CURSOR and --count N");
    command.kind = ReferrerCommand::Kind::kWatch;
    command.watch.set_cursor(cli.from_cursor.value_or(""));
    if (cli.watch_count) {
      std::optional<long long> n = PositiveNumber(*cli.watch_count);
      if (!n) return absl::InvalidArgumentError(absl::StrCat("--count ", *cli.watch_count, ": a number above 0"));
      command.watch_count = *n;
    }
    return command;
  }
  if (name == "admin" && !admin) {
    return absl::InvalidArgumentError("admin needs dead-letters or replay");
  }
  if (admin && args[1] == "dead-letters") {
    if (!cli.outbox_ids.empty() || cli.replay_all) {
      return absl::InvalidArgumentError("admin dead-letters filters by --endpoint and --referral only");
    }
    command.kind = ReferrerCommand::Kind::kDeadLetters;
    command.dead_letters.set_endpoint_id(cli.endpoint_filter.value_or(""));
    command.dead_letters.set_referral_id(cli.referral_filter.value_or(""));
    return command;
  }
  if (admin) {
    const int selectors =
        cli.replay_all + cli.endpoint_filter.has_value() + cli.referral_filter.has_value() + !cli.outbox_ids.empty();
    if (selectors != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "admin replay needs exactly one of --all, --endpoint ENDPOINT_ID, --referral REFERRAL_ID or --outbox-id N "
          "(repeatable); ",
          selectors == 0 ? "none was given" : "several were given"));
    }
    command.kind = ReferrerCommand::Kind::kReplay;
    for (const std::string& id : cli.outbox_ids) {
      std::optional<long long> n = PositiveNumber(id);
      if (!n) {
        return absl::InvalidArgumentError(absl::StrCat("--outbox-id ", id, ": a dead letter's outbox_id (a number)"));
      }
      command.replay.add_outbox_ids(*n);
    }
    if (cli.endpoint_filter && cli.endpoint_filter->empty()) return absl::InvalidArgumentError("--endpoint is empty");
    if (cli.referral_filter && cli.referral_filter->empty()) return absl::InvalidArgumentError("--referral is empty");
    command.replay.set_endpoint_id(cli.endpoint_filter.value_or(""));
    command.replay.set_referral_id(cli.referral_filter.value_or(""));
    command.replay.set_all(cli.replay_all);
    return command;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown command ", name));
}

// The reply in the sender's format: exact bytes, or (on a terminal) an HL7 ACK a segment a line.
void PrintRawReply(const std::string& reply, bool readable) {
  if (!readable) {
    std::cout << reply;
    return;
  }
  std::string text;
  for (size_t i = 0; i < reply.size(); ++i) {
    if (reply[i] != '\r') {
      text += reply[i];
    } else if (i + 1 >= reply.size() || reply[i + 1] != '\n') {
      text += '\n';  // an HL7 v2 segment ends with \r; a \r\n line ending stays one line end
    }
  }
  if (text.empty() || text.back() != '\n') text += '\n';
  std::cout << text;
}

int Submit(const ReferrerCommand& command, const CliArgs& cli, const GatewayCall& call) {
  v1::SubmitReferralResponse response;
  grpc::Status status =
      v1::ReferralService::NewStub(call.channel)->SubmitReferral(call.NewContext().get(), command.submit, &response);
  if (!status.ok()) return frontdoor::tools::ReportGrpcError(status, call.target);
  const int exit_code = frontdoor::tools::ExitCodeOf(response.disposition());
  if (!cli.raw_reply && !cli.exact_bytes) {
    std::cout << ToJson(response);
    return exit_code;
  }
  const std::string& reply = !response.fhir_json().empty() ? response.fhir_json() : response.hl7v2_ack();
  if (reply.empty()) {
    std::fprintf(stderr, "frontdoor: a typed referral has no sender-format reply; showing the answer\n");
    std::cout << ToJson(response);
    return exit_code;
  }
  const bool terminal = cli.output.empty() && isatty(STDOUT_FILENO) == 1;
  PrintRawReply(reply, terminal && !cli.exact_bytes);
  return exit_code;
}

// Every feedback event as it arrives, one JSON line each. A stream has no deadline: it runs until
// interrupted (or --count events).
int Watch(const ReferrerCommand& command, const GatewayCall& call) {
  auto ctx = call.NewContext();
  auto reader = v1::ReferralService::NewStub(call.channel)->WatchFeedback(ctx.get(), command.watch);
  v1::FeedbackEvent event;
  google::protobuf::util::JsonPrintOptions compact;
  compact.preserve_proto_field_names = true;
  long long seen = 0;
  while (reader->Read(&event)) {
    std::string line;
    if (!google::protobuf::util::MessageToJsonString(event, &line, compact).ok()) line = "{}";
    std::cout << line << std::endl;
    if (command.watch_count > 0 && ++seen >= command.watch_count) {
      ctx->TryCancel();
      reader->Finish().IgnoreError();
      return 0;
    }
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : frontdoor::tools::ReportGrpcError(status, call.target);
}

int RunReferrerCommand(const ReferrerCommand& command, const CliArgs& cli, const GatewayCall& call) {
  auto referrals = v1::ReferralService::NewStub(call.channel);
  auto admin = v1::AdminService::NewStub(call.channel);
  grpc::Status status;
  switch (command.kind) {
    case ReferrerCommand::Kind::kSubmit:
      return Submit(command, cli, call);
    case ReferrerCommand::Kind::kWatch:
      return Watch(command, call);
    case ReferrerCommand::Kind::kGet: {
      v1::GetReferralResponse response;
      status = referrals->GetReferral(call.NewContext().get(), command.get, &response);
      if (status.ok()) std::cout << ToJson(response);
      break;
    }
    case ReferrerCommand::Kind::kDeadLetters: {
      v1::ListDeadLettersResponse response;
      status = admin->ListDeadLetters(call.NewContext().get(), command.dead_letters, &response);
      if (status.ok()) std::cout << ToJson(response);
      break;
    }
    case ReferrerCommand::Kind::kReplay: {
      v1::ReplayDeadLettersResponse response;
      status = admin->ReplayDeadLetters(call.NewContext().get(), command.replay, &response);
      if (status.ok()) std::cout << ToJson(response);
      break;
    }
  }
  return status.ok() ? 0 : frontdoor::tools::ReportGrpcError(status, call.target);
}

// --output FILE: the answer is written to FILE.partial and renamed to FILE once the run has an
// answer; otherwise removed, so a failed run leaves no FILE (a shell's `> FILE` would leave one).
class AnswerFile {
 public:
  // Sends std::cout to the partial file; false (and a message on stderr) when it cannot be made.
  bool Open(const std::string& path) {
    path_ = path;
    partial_ = path + ".partial";
    file_.open(partial_, std::ios::binary | std::ios::trunc);
    if (!file_) {
      std::fprintf(stderr, "frontdoor: --output %s: cannot write %s\n", path.c_str(), partial_.c_str());
      return false;
    }
    saved_ = std::cout.rdbuf(file_.rdbuf());
    return true;
  }

  // Keeps the answer when `exit_code` says there is one; returns the exit code, or 1 when it
  // cannot be kept.
  int Close(int exit_code) {
    std::cout.flush();
    std::cout.rdbuf(saved_);
    file_.close();
    if (!frontdoor::tools::IsAnswer(exit_code)) {
      std::remove(partial_.c_str());
      return exit_code;
    }
    if (!file_ || std::rename(partial_.c_str(), path_.c_str()) != 0) {
      std::fprintf(stderr, "frontdoor: --output %s: cannot write it\n", path_.c_str());
      std::remove(partial_.c_str());
      return frontdoor::tools::kExitGrpcError;
    }
    return exit_code;
  }

 private:
  std::string path_, partial_;
  std::ofstream file_;
  std::streambuf* saved_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  CliArgs cli;
  if (std::optional<int> done = ParseArgs(argc, argv, &cli); done.has_value()) return *done;

  // 1. The command line, checked: nothing is looked for or sent yet.
  std::optional<absl::StatusOr<frontdoor::cli::IgCommand>> ig = frontdoor::cli::ParseIgCommand(cli.command);
  std::optional<absl::StatusOr<frontdoor::cli::ReportCommand>> report = frontdoor::cli::ParseReportCommand(cli.command);
  std::optional<ReferrerCommand> referrer;
  if (absl::Status fit = CheckOptionsFit(cli); !fit.ok()) return UsageError(std::string(fit.message()));
  if (ig.has_value()) {
    if (!ig->ok()) return UsageError(std::string(ig->status().message()));
  } else if (report.has_value()) {
    if (!report->ok()) return UsageError(std::string(report->status().message()));
  } else {
    absl::StatusOr<ReferrerCommand> parsed = ParseReferrerCommand(cli);
    if (!parsed.ok()) return UsageError(std::string(parsed.status().message()));
    referrer = *std::move(parsed);
  }
  const bool watch = referrer.has_value() && referrer->kind == ReferrerCommand::Kind::kWatch;
  GatewayCall call;
  call.target = cli.target;
  call.timeout_seconds = watch ? 0 : 30;
  if (!cli.timeout.empty()) {
    std::optional<long long> seconds = PositiveNumber(cli.timeout);
    if (!seconds) return UsageError("--timeout " + cli.timeout + ": a number of seconds above 0");
    call.timeout_seconds = static_cast<int>(std::min<long long>(*seconds, 1 << 30));
  }
  if (watch && !cli.output.empty()) {
    return UsageError("watch prints events as they arrive: redirect its stdout rather than --output");
  }

  // 2. Who is calling, and how: a certificate, or plaintext only when asked for.
  if (!ig.has_value() || (*ig)->NeedsGateway()) {
    cli.tls.identity = cli.identity;
    frontdoor::tools::ApplyEnvironment(&cli.tls);
    absl::StatusOr<frontdoor::tools::CliConnection> connection = frontdoor::tools::ResolveCliConnection(cli.tls);
    if (!connection.ok()) {
      std::fprintf(stderr, "frontdoor: %s\n", std::string(connection.status().message()).c_str());
      return kExitUsage;
    }
    if (connection->send_identity_metadata && cli.identity.empty()) {
      std::fprintf(stderr,
                   "frontdoor: say who you are: --as IDENTITY (or FRONTDOOR_CLIENT); with --insecure-plaintext it "
                   "is sent as x-frontdoor-client (in the demo: P85901 a practice, ig-officer-oldham, "
                   "frontdoor-operator)\n");
      return kExitUsage;
    }
    call.channel = grpc::CreateChannel(cli.target, connection->credentials);
    if (connection->send_identity_metadata) call.identity_metadata = cli.identity;
  }

  // 3. The call.
  AnswerFile answer_file;
  if (!cli.output.empty() && !answer_file.Open(cli.output)) return kExitUsage;
  int exit_code;
  if (ig.has_value()) {
    exit_code = frontdoor::cli::RunIgCommand(**ig, call);
  } else if (report.has_value()) {
    const bool terminal = cli.output.empty() && isatty(STDOUT_FILENO) == 1;
    exit_code = frontdoor::cli::RunReportCommand(**report, call, terminal);
  } else {
    exit_code = RunReferrerCommand(*referrer, cli, call);
  }
  return cli.output.empty() ? exit_code : answer_file.Close(exit_code);
}
