// frontdoor-connector-sim: a connector organisation's ConnectorService, for the demo, tests and
// load. It accepts deliveries, de-duplicates them on the idempotency key as the contract requires,
// counts them, and logs each one (ids only, never patient data).
//
//   frontdoor-connector-sim --serve ageuk-oldham=127.0.0.1:50062 --serve mind-oldham=127.0.0.1:50063
//
// With --record FILE, every delivery received is appended to FILE as a JSON line
// {"endpoint_id","referral_id","team_id","idempotency_key","duplicate","nhs_number_sent",
// "received_unix_ms"} so tests can count deliveries per idempotency key and measure latency.
//
// With --report-to HOST:PORT it also works each new referral like a link worker would, reporting
// progress to the gateway's FeedbackService as the endpoint that received it (over mutual TLS with
// that endpoint's certificate from --report-cert-dir, else x-frontdoor-client in plaintext), one step every
// --progress-interval-ms: received, contacted, first conversation held, connected (to named activities), closed with
// SWEMWBS and ONS4 scores; about one person in five declines instead, always the same people (PersonDeclines), so a
// walk-through tells the same story every run. Each report has an idempotency key and is retried until answered.
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "gateway/security/tls_config.h"
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
  --report-to HOST:PORT          report progress on each new referral to this gateway
  --report-cert-dir DIR          report over mutual TLS as each endpoint: DIR/ENDPOINT.crt/.key and
                                 DIR/ca.crt (as scripts/dev-certs makes them); else plaintext
  --progress-interval-ms N       time between a referral's progress steps (default 2000)
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
    std::fprintf(stderr, "connector-sim: %s %s referral=%s team=%s%s (%d new on this endpoint)\n", endpoint_id.c_str(),
                 kind.c_str(), referral_id.c_str(), team_id.c_str(), duplicate ? " DUPLICATE (ignored)" : "",
                 counts_[endpoint_id]);
    if (!record_path_.empty()) {
      std::ofstream out(record_path_, std::ios::app);
      out << "{\"endpoint_id\":\"" << endpoint_id << "\",\"kind\":\"" << kind << "\",\"referral_id\":\"" << referral_id
          << "\",\"team_id\":\"" << team_id << "\",\"idempotency_key\":\"" << key
          << "\",\"duplicate\":" << (duplicate ? "true" : "false")
          << ",\"nhs_number_sent\":" << (nhs_number_sent ? "true" : "false")
          << ",\"received_unix_ms\":" << absl::ToUnixMillis(absl::Now()) << "}\n";
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

// Works referrals like a link worker: one progress step per referral every `interval`, reported
// to the gateway's FeedbackService as the endpoint that received the referral.
class ProgressReporter {
 public:
  // With `cert_dir`, each endpoint reports over mutual TLS as itself (cert_dir/ENDPOINT.crt and .key,
  // CA cert_dir/ca.crt, as scripts/dev-certs makes them); without, in plaintext with
  // x-frontdoor-client (a gateway run with --insecure-plaintext).
  ProgressReporter(const std::string& gateway, absl::Duration interval, std::string cert_dir)
      : gateway_(gateway), cert_dir_(std::move(cert_dir)), interval_(interval) {
    worker_ = std::thread([this] { Run(); });
  }
  ~ProgressReporter() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    worker_.join();
  }

  void Start(const std::string& endpoint_id, const std::string& referral_id, bool declines) {
    absl::MutexLock lock(&mu_);
    queue_.insert({absl::Now() + interval_, Work{endpoint_id, referral_id, declines, 0, 0}});
  }
  void Stop(const std::string& referral_id) {
    absl::MutexLock lock(&mu_);
    ceased_.insert(referral_id);
  }

 private:
  struct Work {
    std::string endpoint_id;
    std::string referral_id;
    bool declines = false;
    int step = 0;
    int tries = 0;
  };

  // The path a referral takes: most are connected and closed with scores; some people decline.
  static std::vector<v1::ProgressStatus> Path(bool declines) {
    if (declines) {
      return {v1::PROGRESS_RECEIVED, v1::PROGRESS_CONTACTED, v1::PROGRESS_DECLINED, v1::PROGRESS_CLOSED};
    }
    return {v1::PROGRESS_RECEIVED, v1::PROGRESS_CONTACTED, v1::PROGRESS_FIRST_CONVERSATION_HELD, v1::PROGRESS_CONNECTED,
            v1::PROGRESS_CLOSED};
  }

  static v1::ReportProgressRequest Report(const Work& w, v1::ProgressStatus status) {
    v1::ReportProgressRequest r;
    r.set_referral_id(w.referral_id);
    r.set_idempotency_key(absl::StrCat(w.referral_id, ":", w.step));
    r.set_status(status);
    r.set_occurred_at(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()));
    switch (status) {
      case v1::PROGRESS_FIRST_CONVERSATION_HELD:
        r.set_what_matters("Getting out of the house and meeting people again");
        break;
      case v1::PROGRESS_CONNECTED:
        r.add_connected_to("Walking club");
        r.add_connected_to("Coffee morning at the library");
        break;
      case v1::PROGRESS_DECLINED:
        r.set_reason("Does not want support at the moment");
        break;
      case v1::PROGRESS_CLOSED: {
        r.set_reason("Support completed");
        v1::OutcomeMeasure* swemwbs = r.add_outcome_measures();
        swemwbs->set_instrument("SWEMWBS");
        swemwbs->set_start_score(19.25);
        swemwbs->set_end_score(24.11);
        v1::OutcomeMeasure* happy = r.add_outcome_measures();
        happy->set_instrument("ONS4-HAPPINESS");
        happy->set_start_score(4);
        happy->set_end_score(7);
        break;
      }
      default:
        break;
    }
    return r;
  }

  void Run() {
    for (;;) {
      Work w;
      {
        absl::MutexLock lock(&mu_);
        auto due = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stopping_ || (!queue_.empty() && queue_.begin()->first <= absl::Now());
        };
        const absl::Duration wait = queue_.empty() ? absl::Seconds(1) : queue_.begin()->first - absl::Now();
        mu_.AwaitWithTimeout(absl::Condition(&due), std::max(wait, absl::Milliseconds(1)));
        if (stopping_) return;
        if (queue_.empty() || queue_.begin()->first > absl::Now()) continue;
        w = queue_.begin()->second;
        queue_.erase(queue_.begin());
        if (ceased_.count(w.referral_id) > 0) continue;
      }
      const std::vector<v1::ProgressStatus> path = Path(w.declines);
      const v1::ProgressStatus status = path[w.step];
      grpc::ClientContext ctx;
      if (cert_dir_.empty()) ctx.AddMetadata("x-frontdoor-client", w.endpoint_id);
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
      v1::ReportProgressResponse resp;
      const grpc::Status st = StubFor(w.endpoint_id)->ReportProgress(&ctx, Report(w, status), &resp);
      Work next = w;
      if (st.ok()) {
        std::fprintf(stderr, "connector-sim: %s reported %s on referral=%s (event %s%s)\n", w.endpoint_id.c_str(),
                     v1::ProgressStatus_Name(status).c_str(), w.referral_id.c_str(), resp.event_id().c_str(),
                     resp.duplicate() ? ", duplicate" : "");
        if (++next.step >= static_cast<int>(path.size())) continue;
        next.tries = 0;
      } else {
        const auto code = st.error_code();
        // Not delivered yet (FAILED_PRECONDITION) or the gateway is away: try again later.
        const bool retry = code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
                           code == grpc::StatusCode::FAILED_PRECONDITION;
        std::fprintf(stderr, "connector-sim: %s could not report %s on referral=%s: %d %s%s\n", w.endpoint_id.c_str(),
                     v1::ProgressStatus_Name(status).c_str(), w.referral_id.c_str(), static_cast<int>(code),
                     st.error_message().c_str(), retry ? " (will retry)" : "");
        if (!retry || ++next.tries > 30) continue;
      }
      absl::MutexLock lock(&mu_);
      queue_.insert({absl::Now() + interval_, next});
    }
  }

  // Only the worker thread calls this.
  v1::FeedbackService::Stub* StubFor(const std::string& endpoint_id) {
    std::unique_ptr<v1::FeedbackService::Stub>& stub = stubs_[cert_dir_.empty() ? std::string() : endpoint_id];
    if (stub == nullptr) {
      std::shared_ptr<grpc::ChannelCredentials> credentials =
          cert_dir_.empty() ? grpc::InsecureChannelCredentials()
                            : frontdoor::gateway::MutualTlsChannelCredentials(
                                  {cert_dir_ + "/" + endpoint_id + ".crt", cert_dir_ + "/" + endpoint_id + ".key",
                                   cert_dir_ + "/ca.crt", /*crl_dir=*/""},
                                  frontdoor::gateway::kDefaultTlsRefresh);
      stub = v1::FeedbackService::NewStub(grpc::CreateChannel(gateway_, credentials));
    }
    return stub.get();
  }

  const std::string gateway_;
  const std::string cert_dir_;
  std::map<std::string, std::unique_ptr<v1::FeedbackService::Stub>> stubs_;  // by endpoint ("" in plaintext)
  const absl::Duration interval_;
  absl::Mutex mu_;
  std::multimap<absl::Time, Work> queue_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> ceased_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

// Whether the person declines support: about one in five, chosen by who the referral is about, when and
// from whom (FNV-1a, stable everywhere), never by its id, which is new on every run: the README's
// walk-through (examples/typed-referral.json) is connected every time.
bool PersonDeclines(const v1::ConnectorReferral& r) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](const std::string& text) {
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator: ("ab", "c") is not ("a", "bc")
  };
  mix(r.sender_ods());
  mix(r.referral_date());
  mix(r.name().family());
  for (const std::string& given : r.name().given()) mix(given);
  return h % 5 == 0;
}

class SimulatedConnector final : public v1::ConnectorService::CallbackService {
 public:
  SimulatedConnector(std::string endpoint_id, Ledger* ledger, ProgressReporter* reporter = nullptr)
      : endpoint_id_(std::move(endpoint_id)), ledger_(ledger), reporter_(reporter) {}

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
    if (!dup && reporter_ != nullptr) {
      reporter_->Start(endpoint_id_, req->referral().referral_id(), PersonDeclines(req->referral()));
    }
    resp->set_connector_reference(absl::StrCat(endpoint_id_, ":", req->referral().referral_id()));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* CeaseProcessing(grpc::CallbackServerContext* ctx, const v1::CeaseProcessingRequest* req,
                                            v1::CeaseProcessingResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    resp->set_duplicate(
        ledger_->Record(endpoint_id_, "cease", req->idempotency_key(), req->referral_id(), req->team_id(), false));
    if (reporter_ != nullptr) reporter_->Stop(req->referral_id());
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::string endpoint_id_;
  Ledger* const ledger_;
  ProgressReporter* const reporter_;
};

// The command line, read.
struct SimArgs {
  std::vector<std::pair<std::string, std::string>> serve;
  std::string record, ready_file;
  frontdoor::gateway::TlsFiles tls;
  std::string report_to;
  std::string report_cert_dir;
  long progress_interval_ms = 2000;
};

// Reads argv into `out`; an exit status when the run ends here (help, a usage error).
std::optional<int> ParseArgs(int argc, char** argv, SimArgs* out) {
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
      out->serve.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    } else if (arg.rfind("--record", 0) == 0) {
      out->record = value("--record");
    } else if (arg.rfind("--ready-file", 0) == 0) {
      out->ready_file = value("--ready-file");
    } else if (arg.rfind("--tls-cert", 0) == 0) {
      out->tls.cert = value("--tls-cert");
    } else if (arg.rfind("--tls-key", 0) == 0) {
      out->tls.key = value("--tls-key");
    } else if (arg.rfind("--client-ca", 0) == 0) {
      out->tls.ca = value("--client-ca");
    } else if (arg.rfind("--report-to", 0) == 0) {
      out->report_to = value("--report-to");
    } else if (arg.rfind("--report-cert-dir", 0) == 0) {
      out->report_cert_dir = value("--report-cert-dir");
    } else if (arg.rfind("--progress-interval-ms", 0) == 0) {
      out->progress_interval_ms = std::atol(value("--progress-interval-ms").c_str());
      if (out->progress_interval_ms <= 0) {
        std::fprintf(stderr, "frontdoor-connector-sim: --progress-interval-ms wants a positive number\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "frontdoor-connector-sim: unknown argument '%s'\n\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (out->serve.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  SimArgs args;
  if (std::optional<int> done = ParseArgs(argc, argv, &args); done.has_value()) return *done;
  const auto& [serve, record, ready_file, tls, report_to, report_cert_dir, progress_interval_ms] = args;
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
  std::unique_ptr<ProgressReporter> reporter;
  if (!report_to.empty()) {
    reporter = std::make_unique<ProgressReporter>(report_to, absl::Milliseconds(progress_interval_ms), report_cert_dir);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::vector<std::unique_ptr<SimulatedConnector>> services;
  std::vector<std::unique_ptr<grpc::Server>> servers;
  std::string ready;
  for (const auto& [endpoint_id, address] : serve) {
    services.push_back(std::make_unique<SimulatedConnector>(endpoint_id, &ledger, reporter.get()));
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
