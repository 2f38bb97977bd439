// frontdoor-gateway: the referral gateway server. See README.md and `frontdoor-gateway --help`.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "gateway/clock.h"
#include "gateway/gateway_server.h"

namespace {

constexpr char kUsage[] = R"(usage: frontdoor-gateway [options]

  --config FILE                  gateway configuration (protobuf text); default: the demo network
  --listen HOST:PORT             where to serve (default 127.0.0.1:50051; port 0 picks one)
  --data-dir DIR                 where the SQLite store lives (default var/frontdoor)
  --tls-cert FILE --tls-key FILE --client-ca FILE
                                 mutual TLS (server certificate, key, CA of client certificates)
  --connector-ca FILE --connector-client-cert FILE --connector-client-key FILE
                                 mutual TLS to the connectors (their servers' CA; the gateway's
                                 client certificate and key)
  --insecure-plaintext           serve without TLS, identity from x-frontdoor-client metadata
                                 (LOCAL DEVELOPMENT ONLY)
  --connector ENDPOINT_ID=HOST:PORT
                                 where an organisation's ConnectorService is (repeatable)
  --ready-file FILE              write HOST:PORT here once serving (for scripts and tests)
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

}  // namespace

int main(int argc, char** argv) {
  frontdoor::gateway::GatewayOptions options;
  std::string ready_file;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (std::strcmp(argv[i], "--insecure-plaintext") == 0) {
      options.insecure_plaintext = true;
    } else if (TakeValue(argc, argv, &i, "--config", &options.config_path) ||
               TakeValue(argc, argv, &i, "--listen", &options.listen) ||
               TakeValue(argc, argv, &i, "--data-dir", &options.data_dir) ||
               TakeValue(argc, argv, &i, "--tls-cert", &options.tls_cert) ||
               TakeValue(argc, argv, &i, "--tls-key", &options.tls_key) ||
               TakeValue(argc, argv, &i, "--client-ca", &options.client_ca) ||
               TakeValue(argc, argv, &i, "--connector-ca", &options.connector_ca) ||
               TakeValue(argc, argv, &i, "--connector-client-cert", &options.connector_client_cert) ||
               TakeValue(argc, argv, &i, "--connector-client-key", &options.connector_client_key) ||
               TakeValue(argc, argv, &i, "--ready-file", &ready_file)) {
    } else if (TakeValue(argc, argv, &i, "--connector", &value)) {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        std::fprintf(stderr, "frontdoor-gateway: --connector wants ENDPOINT_ID=HOST:PORT, got '%s'\n", value.c_str());
        return 2;
      }
      options.connector_overrides[value.substr(0, eq)] = value.substr(eq + 1);
    } else {
      std::fprintf(stderr, "frontdoor-gateway: unknown argument '%s'\n\n%s", argv[i], kUsage);
      return 2;
    }
  }

  // Signals are taken by one thread with sigwait, so shutdown runs as ordinary code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // SIGHUP must not kill the gateway (its default action): certificates reload on file change.
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (options.insecure_plaintext) {
    std::fprintf(stderr,
                 "WARNING: --insecure-plaintext: no TLS, callers are who they say they are. "
                 "Never use this with real patient data.\n");
  }
  frontdoor::gateway::SystemClock clock;
  auto server = frontdoor::gateway::GatewayServer::Start(options, &clock);
  if (!server.ok()) {
    std::fprintf(stderr, "frontdoor-gateway: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  const std::string bound = host + ":" + std::to_string((*server)->port());
  std::fprintf(stderr, "frontdoor-gateway listening on %s (data in %s)\n", bound.c_str(), options.data_dir.c_str());
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::ofstream(tmp) << bound << "\n";
    std::rename(tmp.c_str(), ready_file.c_str());
  }

  std::thread signal_thread([&] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
      std::fprintf(stderr,
                   "frontdoor-gateway: SIGHUP: certificates, keys and CAs are re-read by themselves within the "
                   "reload interval of a change on disk (tls.reload_interval_seconds, default 10)\n");
    }
    std::fprintf(stderr, "frontdoor-gateway: signal %d, shutting down\n", sig);
    (*server)->Shutdown();
  });
  (*server)->Wait();
  signal_thread.join();
  std::fprintf(stderr, "frontdoor-gateway: stopped\n");
  return 0;
}
