// frontdoor-gateway: the referral gateway server. See README.md and `frontdoor-gateway --help`.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/threads.h"
#include "gateway/server/gateway_server.h"
#include "observability/structured_log.h"

namespace {

using frontdoor::observability::Log;
using frontdoor::observability::LogLevel;

constexpr char kUsage[] = R"(usage: frontdoor-gateway [options]

  --config FILE                  gateway configuration (protobuf text); default: the demo network
  --listen HOST:PORT             where to serve (default 127.0.0.1:50051; port 0 picks one)
  --data-dir DIR                 where the SQLite store lives (default var/frontdoor)
  --tls-cert FILE --tls-key FILE --client-ca FILE
                                 mutual TLS (server certificate, key, CA of client certificates)
  --client-crl-dir DIR           refuse client certificates revoked by the CRLs in DIR
                                 (PEM, named by hash: openssl rehash DIR; read at start)
  --connector-ca FILE --connector-client-cert FILE --connector-client-key FILE
                                 mutual TLS to the connectors (their servers' CA; the gateway's
                                 client certificate and key)
  --insecure-plaintext           serve without TLS, identity from x-frontdoor-client metadata
                                 (LOCAL DEVELOPMENT ONLY)
  --connector ENDPOINT_ID=HOST:PORT
                                 where an organisation's ConnectorService is (repeatable)
  --ready-file FILE              write HOST:PORT here once serving (for scripts and tests)
  --metrics-listen HOST:PORT     serve Prometheus metrics at http://HOST:PORT/metrics
                                 (overrides observability.metrics_listen; docs/METRICS.md)
  --health-listen HOST:PORT      serve only grpc.health.v1.Health, in plaintext, for probes
                                 (overrides observability.health_listen)
  --fhir-listen HOST:PORT        serve the FHIR R4 API (BaRS: POST /FHIR/R4/$process-message) over
                                 HTTPS with the same certificates and client CA (plain HTTP with
                                 --insecure-plaintext, identity from X-Frontdoor-Client)
  --mllp-listen HOST:PORT        serve HL7 v2 over MLLP (hospital interface engines) over TLS
                                 with client certificates (plain TCP with --insecure-plaintext,
                                 identity from MSH-4)
  --console-listen HOST:PORT     serve the web console for IG officers and operators over HTTPS
                                 (browser client certificates; plain HTTP with a development
                                 sign-in page with --insecure-plaintext)

Logs are JSON lines on stderr (observability.log_format "text" for a human-readable form).
SIGTERM or SIGINT stop it gracefully within observability.shutdown_grace_seconds (default 20).
)";

bool TakeValue(int argc, char** argv, int* i, const char* name, std::string* out) {
  const size_t n = std::strlen(name);
  const char* arg = argv[*i];
  if (std::strncmp(arg, name, n) != 0) return false;
  if (arg[n] == '=') {
    *out = arg + n + 1;
    return true;
  }
  if (arg[n] == '\0') {
    if (*i + 1 >= argc) {
      std::fprintf(stderr, "frontdoor-gateway: %s needs a value\n", name);
      std::exit(2);
    }
    *out = argv[++*i];
    return true;
  }
  return false;
}

// Reads the command line into `options`; an exit status when the run ends here (help, a usage error).
std::optional<int> ParseArgs(int argc, char** argv, frontdoor::gateway::GatewayOptions* options,
                             std::string* ready_file) {
  for (int i = 1; i < argc; ++i) {
    std::string value;
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (std::strcmp(argv[i], "--insecure-plaintext") == 0) {
      options->insecure_plaintext = true;
    } else if (TakeValue(argc, argv, &i, "--config", &options->config_path) ||
               TakeValue(argc, argv, &i, "--listen", &options->listen) ||
               TakeValue(argc, argv, &i, "--data-dir", &options->data_dir) ||
               TakeValue(argc, argv, &i, "--tls-cert", &options->tls_cert) ||
               TakeValue(argc, argv, &i, "--tls-key", &options->tls_key) ||
               TakeValue(argc, argv, &i, "--client-ca", &options->client_ca) ||
               TakeValue(argc, argv, &i, "--client-crl-dir", &options->client_crl_dir) ||
               TakeValue(argc, argv, &i, "--connector-ca", &options->connector_ca) ||
               TakeValue(argc, argv, &i, "--connector-client-cert", &options->connector_client_cert) ||
               TakeValue(argc, argv, &i, "--connector-client-key", &options->connector_client_key) ||
               TakeValue(argc, argv, &i, "--ready-file", ready_file) ||
               TakeValue(argc, argv, &i, "--metrics-listen", &options->metrics_listen) ||
               TakeValue(argc, argv, &i, "--health-listen", &options->health_listen) ||
               TakeValue(argc, argv, &i, "--fhir-listen", &options->fhir_listen) ||
               TakeValue(argc, argv, &i, "--mllp-listen", &options->mllp_listen) ||
               TakeValue(argc, argv, &i, "--console-listen", &options->console_listen)) {
    } else if (TakeValue(argc, argv, &i, "--connector", &value)) {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        std::fprintf(stderr, "frontdoor-gateway: --connector wants ENDPOINT_ID=HOST:PORT, got '%s'\n", value.c_str());
        return 2;
      }
      options->connector_overrides[value.substr(0, eq)] = value.substr(eq + 1);
    } else {
      std::fprintf(stderr, "frontdoor-gateway: unknown argument '%s'\n\n%s", argv[i], kUsage);
      return 2;
    }
  }
  return std::nullopt;
}

// One log line with every address the gateway serves; the gRPC one in `ready_file` too.
void AnnounceListening(const frontdoor::gateway::GatewayServer& server,
                       const frontdoor::gateway::GatewayOptions& options, const std::string& ready_file) {
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  const std::string bound = host + ":" + std::to_string(server.port());
  std::vector<frontdoor::observability::LogField> fields = {{"address", bound}, {"data_dir", options.data_dir}};
  if (!server.metrics_address().empty()) fields.emplace_back("metrics_address", server.metrics_address());
  if (!server.health_address().empty()) fields.emplace_back("health_address", server.health_address());
  if (!server.fhir_address().empty()) fields.emplace_back("fhir_address", server.fhir_address());
  if (!server.mllp_address().empty()) fields.emplace_back("mllp_address", server.mllp_address());
  if (!server.console_address().empty()) fields.emplace_back("console_address", server.console_address());
  Log(LogLevel::kInfo, "listening", "frontdoor-gateway listening", fields);
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::ofstream(tmp) << bound << "\n";
    std::rename(tmp.c_str(), ready_file.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  // A crash prints where it happened (a symbolized stack on stderr) before the process dies, for
  // whoever reads the log afterwards.
  absl::InitializeSymbolizer(argv[0]);
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions());
  // Debian's Abseil is built with Mutex deadlock detection on, which keeps a lock graph on every
  // acquisition (a few per cent of the gateway's CPU under load). Tests keep it; production needs
  // the cycles.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  frontdoor::gateway::GatewayOptions options;
  std::string ready_file;
  if (std::optional<int> done = ParseArgs(argc, argv, &options, &ready_file); done.has_value()) return *done;

  frontdoor::observability::RouteGrpcLogsToStructuredLog();
  // Signals are taken by one thread with sigwait, so shutdown runs as ordinary code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // SIGHUP must not kill the gateway (its default action): certificates reload on file change.
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // (GatewayServer::Start warns about --insecure-plaintext, once the log format is known.)
  frontdoor::SystemClock clock;
  auto server = frontdoor::gateway::GatewayServer::Start(options, &clock);
  if (!server.ok()) {
    Log(LogLevel::kError, "startup", absl::StrCat("frontdoor-gateway cannot start: ", server.status().message()),
        {{"code", absl::StatusCodeToString(server.status().code())}});
    return 1;
  }
  AnnounceListening(**server, options, ready_file);

  std::thread signal_thread([&] {
    frontdoor::NameThisThread("fd-signals");
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
      Log(LogLevel::kInfo, "signal",
          "SIGHUP: certificates, keys and CAs are re-read by themselves within the reload interval of a change on "
          "disk (tls.reload_interval_seconds, default 10)");
    }
    Log(LogLevel::kInfo, "signal", sig == SIGTERM ? "SIGTERM: shutting down" : "signal: shutting down",
        {{"signal", sig}});
    (*server)->Shutdown();
  });
  (*server)->Wait();
  signal_thread.join();
  Log(LogLevel::kInfo, "exit", "frontdoor-gateway stopped");
  return 0;
}
