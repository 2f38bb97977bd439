// frontdoor-connector-sim: a connector organisation's ConnectorService, for the demo, tests and
// load. It accepts deliveries, de-duplicates them on the idempotency key as the contract requires,
// counts them, and logs each one (ids only, never patient data).
//
//   frontdoor-connector-sim --serve ageuk-oldham=127.0.0.1:50062 --serve mind-oldham=127.0.0.1:50063
//
// With --record FILE, every delivery received is appended to FILE as a JSON line
// {"endpoint_id","referral_id","team_id","idempotency_key","duplicate","nhs_number_sent"} so tests can
// count deliveries per idempotency key.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "gateway/tls_config.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace {

namespace v1 = ::frontdoor::v1;

constexpr char kUsage[] = R"(usage: frontdoor-connector-sim --serve ENDPOINT_ID=HOST:PORT [--serve ...] [options]

  --serve ENDPOINT_ID=HOST:PORT  serve ConnectorService for that organisation endpoint (repeatable;
                                 port 0 picks a free port)
  --record FILE                  append one JSON line per delivery received (ids only)
  --ready-file FILE              write ENDPOINT_ID=HOST:PORT lines here once serving
  --tls-cert FILE --tls-key FILE --client-ca FILE
                                 serve mutual TLS: this server certificate and key; callers (the
                                 gateway) must present a certificate from the client CA.
                                 Without them: plaintext, with a warning.
)";

// State shared by all endpoints of this process.
class Ledger {
 public:
  explicit Ledger(std::string record_path) : record_path_(std::move(record_path)) {}

  // Returns true when the key was seen before.
  bool Record(const std::string& endpoint_id, const std::string& kind, const std::string& key,
              const std::string& referral_id, const std::string& team_id, bool nhs_number_sent) {
    absl::MutexLock lock(&mu_);
    const bool duplicate = !seen_.insert(key).second;
    if (!duplicate) ++counts_[endpoint_id];
    std::fprintf(stderr, "connector-sim: %s %s referral=%s team=%s%s (%d new on this endpoint)\n",
                 endpoint_id.c_str(), kind.c_str(), referral_id.c_str(), team_id.c_str(),
                 duplicate ? " DUPLICATE (ignored)" : "", counts_[endpoint_id]);
    if (!record_path_.empty()) {
      std::ofstream out(record_path_, std::ios::app);
      out << "{\"endpoint_id\":\"" << endpoint_id << "\",\"kind\":\"" << kind << "\",\"referral_id\":\""
          << referral_id << "\",\"team_id\":\"" << team_id << "\",\"idempotency_key\":\"" << key
          << "\",\"duplicate\":" << (duplicate ? "true" : "false")
          << ",\"nhs_number_sent\":" << (nhs_number_sent ? "true" : "false") << "}\n";
      out.flush();
    }
    return duplicate;
  }

 private:
  const std::string record_path_;
  absl::Mutex mu_;
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

class SimulatedConnector final : public v1::ConnectorService::CallbackService {
 public:
  SimulatedConnector(std::string endpoint_id, Ledger* ledger) : endpoint_id_(std::move(endpoint_id)), ledger_(ledger) {}

  grpc::ServerUnaryReactor* DeliverReferral(grpc::CallbackServerContext* ctx, const v1::DeliverReferralRequest* req,
                                            v1::DeliverReferralResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (req->idempotency_key().empty() || req->referral().referral_id().empty()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "idempotency_key and referral_id are required"));
      return reactor;
    }
    const bool dup = ledger_->Record(endpoint_id_, "deliver", req->idempotency_key(), req->referral().referral_id(),
                                     req->referral().team_id(), !req->referral().nhs_number().empty());
    resp->set_duplicate(dup);
    resp->set_connector_reference(absl::StrCat(endpoint_id_, ":", req->referral().referral_id()));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* CeaseProcessing(grpc::CallbackServerContext* ctx, const v1::CeaseProcessingRequest* req,
                                            v1::CeaseProcessingResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    resp->set_duplicate(
        ledger_->Record(endpoint_id_, "cease", req->idempotency_key(), req->referral_id(), req->team_id(), false));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::string endpoint_id_;
  Ledger* const ledger_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> serve;
  std::string record, ready_file;
  frontdoor::gateway::TlsFiles tls;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> std::string {
      const std::string prefix = std::string(name) + "=";
      if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
      if (i + 1 >= argc) {
        std::fprintf(stderr, "frontdoor-connector-sim: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg.rfind("--serve", 0) == 0) {
      const std::string v = value("--serve");
      const size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "frontdoor-connector-sim: --serve wants ENDPOINT_ID=HOST:PORT\n");
        return 2;
      }
      serve.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (arg.rfind("--record", 0) == 0) {
      record = value("--record");
    } else if (arg.rfind("--ready-file", 0) == 0) {
      ready_file = value("--ready-file");
    } else if (arg.rfind("--tls-cert", 0) == 0) {
      tls.cert = value("--tls-cert");
    } else if (arg.rfind("--tls-key", 0) == 0) {
      tls.key = value("--tls-key");
    } else if (arg.rfind("--client-ca", 0) == 0) {
      tls.ca = value("--client-ca");
    } else {
      std::fprintf(stderr, "frontdoor-connector-sim: unknown argument '%s'\n\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (serve.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!tls.empty()) {
    if (absl::Status s = frontdoor::gateway::CheckTlsFiles(tls, frontdoor::gateway::TlsRole::kServer); !s.ok()) {
      std::fprintf(stderr, "frontdoor-connector-sim: %s\n", std::string(s.message()).c_str());
      return 2;
    }
    credentials = frontdoor::gateway::MutualTlsServerCredentials(tls, frontdoor::gateway::kDefaultTlsRefresh);
  } else {
    std::fprintf(stderr, "connector-sim: WARNING: serving WITHOUT TLS (no --tls-cert/--tls-key/--client-ca)\n");
  }
  Ledger ledger(record);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::vector<std::unique_ptr<SimulatedConnector>> services;
  std::vector<std::unique_ptr<grpc::Server>> servers;
  std::string ready;
  for (const auto& [endpoint_id, address] : serve) {
    services.push_back(std::make_unique<SimulatedConnector>(endpoint_id, &ledger));
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(address, credentials, &port);
    builder.RegisterService(services.back().get());
    servers.push_back(builder.BuildAndStart());
    if (servers.back() == nullptr || port == 0) {
      std::fprintf(stderr, "frontdoor-connector-sim: cannot listen on %s\n", address.c_str());
      return 1;
    }
    const std::string bound = address.substr(0, address.rfind(':')) + ":" + std::to_string(port);
    std::fprintf(stderr, "connector-sim: %s serving ConnectorService on %s%s\n", endpoint_id.c_str(), bound.c_str(),
                 tls.empty() ? "" : " (mutual TLS)");
    ready += endpoint_id + "=" + bound + "\n";
  }
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    std::ofstream(tmp) << ready;
    std::rename(tmp.c_str(), ready_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  for (auto& s : servers) s->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
