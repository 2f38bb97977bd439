#include "gateway/server/gateway_server.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "audit/checkpoint_signer.h"
#include "common/status_macros.h"
#include "common/time_text.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "gateway/audit_log/audit_checkpointer.h"
#include "gateway/audit_log/audit_reader.h"
#include "gateway/bars/fhir_api.h"
#include "gateway/console/console_pages.h"
#include "gateway/console/web_console.h"
#include "gateway/delivery/delivery_admin.h"
#include "gateway/delivery/delivery_dispatcher.h"
#include "gateway/intake/submission_committer.h"
#include "gateway/intake/submission_intake.h"
#include "gateway/mllp/mllp_door.h"
#include "gateway/net/http_client.h"
#include "gateway/net/http_server.h"
#include "gateway/net/io_loop.h"
#include "gateway/net/listen_address.h"
#include "gateway/net/tls_contexts.h"
#include "gateway/reports/outcome_reporter.h"
#include "gateway/security/authorization.h"
#include "gateway/security/caller_identity.h"
#include "gateway/security/caller_limits.h"
#include "gateway/server/data_dir_lock.h"
#include "gateway/server/feedback_pushes.h"
#include "gateway/server/gateway_config.h"
#include "gateway/server/gateway_tls.h"
#include "gateway/server/store_selection.h"
#include "gateway/services/admin_service.h"
#include "gateway/services/audit_service.h"
#include "gateway/services/feedback_service.h"
#include "gateway/services/feedback_stream.h"
#include "gateway/services/referral_service.h"
#include "gateway/services/reflection_v1.h"
#include "gateway/services/reporting_service.h"
#include "gateway/store/store_work_queue.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "observability/call_observer.h"
#include "observability/gateway_metrics.h"
#include "observability/structured_log.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"

namespace frontdoor::gateway {

namespace {

// GatewayConfig.audit.signing_key_path, relative to the data directory; the default file there.
std::string AuditSigningKeyPath(const frontdoor::v1::GatewayConfig& config, const std::string& data_dir) {
  const std::string& configured = config.audit().signing_key_path();
  if (configured.empty()) return data_dir + "/audit-signing-key.pem";
  if (configured[0] == '/') return configured;
  return data_dir + "/" + configured;
}

using observability::Log;
using observability::LogLevel;

// The services the health endpoints report on by name, besides "" (the whole server).
const char* const kHealthServiceNames[] = {"frontdoor.v1.ReferralService", "frontdoor.v1.FeedbackService",
                                           "frontdoor.v1.AuditService", "frontdoor.v1.AdminService"};

void SetHealth(grpc::Server* server, bool serving) {
  if (server == nullptr || server->GetHealthCheckService() == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(serving);
  for (const char* name : kHealthServiceNames) health->SetServingStatus(name, serving);
}

}  // namespace

struct GatewayServer::Parts {
  // The stages of Start, in order; each leaves what the next needs.
  absl::Status Configure(const GatewayOptions& options, const Clock* clock);
  absl::Status OpenStore(const GatewayOptions& options);
  absl::Status StartWork(const GatewayOptions& options, const Clock* clock);
  absl::Status BuildIntake(const Clock* clock);
  void BuildServices(const Clock* clock);
  absl::Status Listen(const GatewayOptions& options);
  // The doors beyond gRPC, each on its own port when configured: the BaRS door (FHIR over HTTPS).
  absl::Status OpenDoors(const GatewayOptions& options, const Clock* clock);
  absl::Status OpenMllpDoor(const Clock* clock);
  absl::Status OpenFhirDoor(const Clock* clock);
  absl::Status OpenConsole(const Clock* clock);
  void Serve();

  // Held from start until the end of Shutdown; declared first so that it outlives the store.
  std::optional<DataDirLock> data_dir_lock;
  std::unique_ptr<LoadedConfig> config;
  GatewayTls tls;
  IdentitySource identity_source = IdentitySource::kTlsCertificate;
  std::map<std::string, std::string> connector_addresses;
  std::map<std::string, std::string> feedback_push_endpoints;  // referrer ODS -> outbox endpoint
  std::unique_ptr<Authorizer> authorizer;
  // Per-identity limits; declared before `server`, which must go first.
  std::unique_ptr<CallerLimiter> limiter;
  std::unique_ptr<CallAdmission> admission;
  std::unique_ptr<Store> store;  // SQLite or PostgreSQL, by the config's `store` block
  bool shared_store = false;     // other gateway processes write to it too
  // Store work off the transport threads; declared after the store it uses.
  std::unique_ptr<StoreWorkQueue> work;
  std::unique_ptr<DeliveryDispatcher> dispatcher;
  std::unique_ptr<SubmissionCommitter> committer;
  std::unique_ptr<SubmissionIntake> intake;
  std::unique_ptr<AuditCheckpointer> checkpointer;  // IG-9: signed checkpoints, retention
  std::unique_ptr<FeedbackStreamHub> feedback_hub;
  // What IG officers and operators may do, whichever door (gRPC, the console) they use.
  std::unique_ptr<AuditReader> audit_reader;
  std::unique_ptr<DeliveryAdmin> delivery_admin;
  std::unique_ptr<OutcomeReporter> outcome_reporter;
  std::unique_ptr<ReferralServiceImpl> referral_service;
  std::unique_ptr<AuditServiceImpl> audit_service;
  std::unique_ptr<AdminServiceImpl> admin_service;
  std::unique_ptr<ReportingServiceImpl> reporting_service;
  std::unique_ptr<FeedbackServiceImpl> feedback_service;
  std::unique_ptr<ReflectionV1Service> reflection_v1;  // beside gRPC's own v1alpha
  // Metrics, the call observer (ids, call logs), the health port, the /metrics endpoint.
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<observability::GatewayMetrics> metrics;
  std::unique_ptr<observability::CallObserver> calls;
  std::chrono::seconds shutdown_grace{20};
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::unique_ptr<grpc::Server> health_server;
  int health_port = 0;
  // The doors beyond gRPC: their handlers, then the event loop and the servers that call them
  // (destroyed first, so no request reaches a handler that is gone).
  std::unique_ptr<FhirApi> fhir_api;
  std::unique_ptr<IoLoop> io_loop;
  std::unique_ptr<HttpServer> fhir_server;
  std::string fhir_listen;
  std::unique_ptr<MllpServer> mllp_server;
  std::string mllp_listen;
  std::unique_ptr<WebConsole> web_console;  // used by console_server only
  std::unique_ptr<HttpServer> console_server;
  std::string console_listen;
  // Declared last: destroyed first, so no scrape reads the store while it closes.
  std::unique_ptr<prometheus::Exposer> exposer;
  int metrics_port = 0;
  std::string metrics_listen;  // as configured
  std::string health_listen;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
  bool store_damaged ABSL_GUARDED_BY(mu) = false;  // sticky: damage does not mend while running
};

// The configuration, the log format, who may call and how they are known (TLS or, in development,
// a header), and where the connectors are.
absl::Status GatewayServer::Parts::Configure(const GatewayOptions& options, const Clock* clock) {
  FRONTDOOR_ASSIGN_OR_RETURN(LoadedConfig loaded, LoadGatewayConfig(options.config_path));
  config = std::make_unique<LoadedConfig>(std::move(loaded));
  const frontdoor::v1::GatewayConfig& cfg = config->config;
  const frontdoor::v1::ObservabilityConfig& observe = cfg.observability();
  FRONTDOOR_ASSIGN_OR_RETURN(const observability::LogFormat log_format,
                             observability::ParseLogFormat(observe.log_format()));
  observability::SetLogFormat(log_format);
  if (options.insecure_plaintext) {
    Log(LogLevel::kWarning, "startup",
        "--insecure-plaintext: no TLS, callers are who they say they are. Never use this with real patient data.");
  }
  if (observe.shutdown_grace_seconds() > 0) {
    shutdown_grace = std::chrono::seconds(std::min<uint32_t>(observe.shutdown_grace_seconds(), 3600));
  }
  metrics_listen = options.metrics_listen.empty() ? observe.metrics_listen() : options.metrics_listen;
  health_listen = options.health_listen.empty() ? observe.health_listen() : options.health_listen;
  FRONTDOOR_ASSIGN_OR_RETURN(tls, ResolveGatewayTls(options, cfg, clock->Now()));
  identity_source = tls.insecure_plaintext ? IdentitySource::kPlaintextMetadata : IdentitySource::kTlsCertificate;
  if (tls.connectors.empty()) {
    Log(LogLevel::kWarning, "startup", "connectors are reached WITHOUT TLS (no connector CA and client certificate)");
  }
  if (tls.client_crls.has_value()) {
    // Read once: a new CRL is taken up at restart. Past the earliest nextUpdate every client is
    // refused (X.509 fails closed), so say early when that is near.
    const CrlSummary& crls = *tls.client_crls;
    const bool due_soon = crls.next_update - clock->Now() < absl::Hours(24 * 7);
    Log(due_soon ? LogLevel::kWarning : LogLevel::kInfo, "startup",
        due_soon ? "client certificate revocation lists are due for renewal within a week: publish the CA's next "
                   "CRL and restart before next_update, or every client will be refused"
                 : "client certificate revocation lists loaded; restart to take up a new one",
        {{"crl_dir", tls.inbound.crl_dir},
         {"crls", int64_t{crls.crls}},
         {"revoked", int64_t{crls.revoked}},
         {"next_update", FormatRfc3339Utc(crls.next_update, 0)}});
  }
  FRONTDOOR_ASSIGN_OR_RETURN(connector_addresses, ConnectorAddresses(*config, options.connector_overrides));
  for (const auto& org : config->network.organisations()) {
    if (connector_addresses.find(org.endpoint_id) == connector_addresses.end()) {
      Log(LogLevel::kWarning, "startup", "no address for a connector endpoint; its deliveries wait until one is set",
          {{"endpoint_id", org.endpoint_id}});
    }
  }
  authorizer = std::make_unique<Authorizer>(
      &config->network, std::vector<std::string>(cfg.ig_officers().begin(), cfg.ig_officers().end()),
      std::vector<std::string>(cfg.operators().begin(), cfg.operators().end()),
      std::vector<std::string>(cfg.commissioners().begin(), cfg.commissioners().end()));
  limiter = std::make_unique<CallerLimiter>(CallerLimitsFrom(cfg), clock);
  const Authorizer* known = authorizer.get();
  admission = std::make_unique<CallAdmission>(
      limiter.get(), identity_source, [known](std::string_view identity) { return known->Identify(identity).ok(); });
  return absl::OkStatus();
}

// The data directory, owned by this gateway alone, and the store the configuration names.
absl::Status GatewayServer::Parts::OpenStore(const GatewayOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create data directory ", options.data_dir, ": ", ec.message()));
  }
  FRONTDOOR_ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::Acquire(options.data_dir));
  data_dir_lock.emplace(std::move(lock));
  FRONTDOOR_ASSIGN_OR_RETURN(ConfiguredStore opened, OpenConfiguredStore(config->config.store(), options.data_dir));
  Log(LogLevel::kInfo, "startup", "store opened", {{"store", opened.description}});
  store = std::move(opened.store);
  shared_store = opened.shared;
  if (shared_store && config->config.audit().signing_key_path().empty()) {
    Log(LogLevel::kWarning, "startup",
        "replicas sharing a database must share one audit signing key (audit.signing_key_path); "
        "this one signs with its own in the data directory");
  }
  work = std::make_unique<StoreWorkQueue>();
  return absl::OkStatus();
}

// What runs behind the doors: metrics, delivery to the connectors, the audit log's checkpoints.
absl::Status GatewayServer::Parts::StartWork(const GatewayOptions& options, const Clock* clock) {
  registry = options.metrics_registry != nullptr ? options.metrics_registry : std::make_shared<prometheus::Registry>();
  DeliveryOutbox* outbox = store.get();
  // Every configured endpoint is reported, at 0 when its outbox is empty, so alerts see it.
  std::vector<std::string> endpoint_ids;
  for (const auto& org : config->network.organisations()) endpoint_ids.push_back(org.endpoint_id);
  metrics = std::make_unique<observability::GatewayMetrics>(
      registry, [outbox, endpoint_ids]() -> absl::StatusOr<std::vector<observability::OutboxDepthSample>> {
        FRONTDOOR_ASSIGN_OR_RETURN(std::vector<OutboxDepth> depths, outbox->OutboxDepths());
        std::map<std::string, observability::OutboxDepthSample> by_endpoint;
        for (const std::string& id : endpoint_ids) by_endpoint[id] = {id, 0, 0};
        for (const OutboxDepth& d : depths) by_endpoint[d.endpoint_id] = {d.endpoint_id, d.pending, d.dead};
        std::vector<observability::OutboxDepthSample> out;
        for (auto& [id, sample] : by_endpoint) out.push_back(std::move(sample));
        return out;
      });
  std::vector<std::pair<std::string, std::string>> routes;  // (team, borough) of every team
  for (const network::ConnectorTeam& team : config->network.teams()) {
    const network::Cluster* cluster = team.IsFrontDoor() ? nullptr : config->network.FindCluster(team.cluster_id);
    routes.emplace_back(team.team_id,
                        team.IsFrontDoor() ? team.FrontDoorBorough() : (cluster != nullptr ? cluster->borough : ""));
  }
  metrics->DeclareRoutes(routes);
  const IdentitySource source = identity_source;
  calls =
      std::make_unique<observability::CallObserver>(metrics.get(), [source](const grpc::ServerContextBase& context) {
        absl::StatusOr<std::string> who = AuthenticatedCaller(context, source);
        return who.ok() ? *who : std::string();
      });

  ChannelMap channels;
  for (const auto& [endpoint_id, address] : connector_addresses) {
    grpc::ChannelArguments args;
    // Come back quickly when a connector returns after an outage.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
    channels[endpoint_id] = grpc::CreateCustomChannel(address, ConnectorChannelCredentials(tls), args);
  }
  TransportMap transports = ConnectorTransports(channels);
  FRONTDOOR_ASSIGN_OR_RETURN(FeedbackPushes pushes,
                             FeedbackPushesFrom(config->config, tls, *authorizer, options.config_path, store.get()));
  for (auto& [endpoint, transport] : pushes.transports) transports[endpoint] = std::move(transport);
  feedback_push_endpoints = std::move(pushes.endpoint_of);
  dispatcher = std::make_unique<DeliveryDispatcher>(store.get(), clock, DeliveryPolicyFrom(config->config),
                                                    std::move(transports));
  dispatcher->SetMetrics(metrics.get());
  // A store that cannot write can take no referral either: probes say so until it can again.
  dispatcher->SetStoreWritableObserver([this](bool writable) {
    absl::MutexLock lock(&mu);
    if (shut_down || (writable && store_damaged)) return;
    SetHealth(server.get(), writable);
    SetHealth(health_server.get(), writable);
    Log(writable ? LogLevel::kInfo : LogLevel::kError, "health",
        writable ? "the store takes writes again: SERVING" : "the store refuses writes: NOT_SERVING");
  });

  FRONTDOOR_ASSIGN_OR_RETURN(
      std::unique_ptr<audit::CheckpointSigner> signer,
      audit::CheckpointSigner::LoadOrCreate(AuditSigningKeyPath(config->config, options.data_dir)));
  // The latest checkpoint is kept outside the store too, beside the signing key: a log that lost
  // or rewrote signed records does not start (and is never signed again) until someone decides.
  checkpointer = std::make_unique<AuditCheckpointer>(
      store.get(), std::move(signer), clock, AuditPolicyFrom(config->config),
      std::make_unique<CheckpointAnchor>(options.data_dir + "/audit-checkpoint.json"));
  if (absl::Status anchored = checkpointer->CheckAnchored(); !anchored.ok()) {
    return absl::Status(anchored.code(),
                        absl::StrCat("the audit log is not what this gateway signed: ", anchored.message()));
  }
  return absl::OkStatus();
}

// The intake every door submits through, and its group commit.
absl::Status GatewayServer::Parts::BuildIntake(const Clock* clock) {
  DeliveryDispatcher* delivery = dispatcher.get();
  AuditCheckpointer* signer = checkpointer.get();
  // Gateway-wide: bounds what a stalled disk or machine can make the gateway hold in memory.
  const uint32_t max_queued = config->config.limits().max_queued_submissions();
  committer = std::make_unique<SubmissionCommitter>(
      store.get(), clock,
      [delivery, signer](const SubmissionCommitter::CommittedBatch& committed) {
        for (const std::string& endpoint : committed.endpoints) delivery->Wake(endpoint);
        signer->NoteAppended(committed.audit_records);
      },
      max_queued > 0 ? max_queued : SubmissionCommitter::kDefaultMaxQueued);
  committer->SetMetrics(metrics.get());
  // A damaged store (the file's pages, or the database's data, corrupted) does not mend: probes
  // say NOT_SERVING from the first commit that finds it until the gateway is restarted, when the
  // start-up check names it.
  committer->SetFailureObserver([this](const absl::Status& failed) {
    if (failed.code() != absl::StatusCode::kDataLoss) return;
    absl::MutexLock lock(&mu);
    if (shut_down || store_damaged) return;
    store_damaged = true;
    SetHealth(server.get(), false);
    SetHealth(health_server.get(), false);
    if (metrics != nullptr) metrics->SetStoreWritable(false);
    Log(LogLevel::kError, "health", "the store is damaged: NOT_SERVING until it is restored from a backup",
        {{"error", std::string(failed.message())}});
  });
  SubmissionIntakeDeps deps;
  deps.network = &config->network;
  deps.authorizer = authorizer.get();
  deps.limits = InboundLimitsFrom(config->config);
  deps.committer = committer.get();
  deps.clock = clock;
  deps.metrics = metrics.get();
  deps.work = work.get();
  deps.reports = store.get();
  deps.withdrawal = WithdrawalDeps{store.get(), store.get(), authorizer.get(), clock, [delivery] { delivery->Wake(); }};
  intake = std::make_unique<SubmissionIntake>(std::move(deps));
  return absl::OkStatus();
}

// The gRPC services: thin adapters over the intake, the store and the audit log.
void GatewayServer::Parts::BuildServices(const Clock* clock) {
  DeliveryDispatcher* delivery = dispatcher.get();
  // Another replica's feedback wakes no one here: watchers poll the shared database too.
  feedback_hub = std::make_unique<FeedbackStreamHub>(store.get(), clock, 64,
                                                     shared_store ? absl::Seconds(1) : absl::InfiniteDuration());
  observability::GatewayMetrics* observed = metrics.get();
  feedback_hub->SetLagObserver(
      [observed](absl::Duration lag) { observed->ObserveFeedbackLag(absl::ToDoubleSeconds(lag)); });

  ReferralServiceDeps referral;
  referral.intake = intake.get();
  referral.reads = ReferralReadDeps{store.get(), store.get(), authorizer.get(), store.get(), clock};
  referral.withdrawal =
      WithdrawalDeps{store.get(), store.get(), authorizer.get(), clock, [delivery] { delivery->Wake(); }};
  referral.work = work.get();
  referral.authorizer = authorizer.get();
  referral.identity_source = identity_source;
  referral.admission = admission.get();
  referral.feedback_hub = feedback_hub.get();
  referral.calls = calls.get();
  referral_service = std::make_unique<ReferralServiceImpl>(std::move(referral));

  audit_reader = std::make_unique<AuditReader>(
      AuditReaderDeps{authorizer.get(), store.get(), checkpointer.get(), clock, work.get()});
  audit_service = std::make_unique<AuditServiceImpl>(
      AuditServiceDeps{authorizer.get(), audit_reader.get(), identity_source, admission.get(), work.get()});

  DeliveryAdminDeps admin;
  admin.authorizer = authorizer.get();
  admin.dead_letters = store.get();
  admin.outbox = store.get();
  admin.dispatcher = delivery;
  admin.work = work.get();
  admin.clock = clock;
  admin.on_replayed = [delivery] { delivery->Replayed(); };
  delivery_admin = std::make_unique<DeliveryAdmin>(std::move(admin));
  admin_service = std::make_unique<AdminServiceImpl>(
      AdminServiceDeps{authorizer.get(), delivery_admin.get(), identity_source, admission.get()});

  outcome_reporter = std::make_unique<OutcomeReporter>(OutcomeReporterDeps{
      authorizer.get(), store.get(), store.get(), checkpointer.get(), &config->network, clock, work.get()});
  reporting_service = std::make_unique<ReportingServiceImpl>(
      ReportingServiceDeps{authorizer.get(), outcome_reporter.get(), identity_source, admission.get()});

  FeedbackServiceDeps feedback;
  feedback.authorizer = authorizer.get();
  feedback.referrals = store.get();
  feedback.feedback = store.get();
  feedback.work = work.get();
  feedback.clock = clock;
  feedback.identity_source = identity_source;
  feedback.admission = admission.get();
  FeedbackStreamHub* hub = feedback_hub.get();
  const std::map<std::string, std::string>* pushes = &feedback_push_endpoints;
  feedback.push_endpoint_for = [pushes](const std::string& referrer_ods) {
    auto it = pushes->find(referrer_ods);
    return it == pushes->end() ? std::string() : it->second;
  };
  feedback.on_recorded = [hub, delivery](const std::string& push_endpoint) {
    hub->Notify();
    if (!push_endpoint.empty()) delivery->Wake(push_endpoint);
  };
  feedback_service = std::make_unique<FeedbackServiceImpl>(std::move(feedback));
}

// Every port this gateway serves on, each its own (no SO_REUSEPORT): gRPC, health, metrics.
absl::Status GatewayServer::Parts::Listen(const GatewayOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, GatewayServerCredentials(tls), &port);
  // A gateway owns its ports. gRPC turns SO_REUSEPORT on by default, which lets a second gateway
  // (a second demo, a restart while the old one drains) listen beside the first, each with its own
  // store, and the kernel then shares the callers out between them.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Room for a 1 MiB message plus its envelope; larger requests get RESOURCE_EXHAUSTED from gRPC.
  builder.SetMaxReceiveMessageSize(static_cast<int>(InboundLimitsFrom(config->config).max_message_bytes) + 64 * 1024);
  ApplyTransportLimits(limiter->limits(), &builder);
  // The call observer first: it sees (and logs, and echoes ids to) calls the admission refuses too.
  auto interceptors = admission->InterceptorCreators();
  interceptors.insert(interceptors.begin(), calls->NewInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(referral_service.get());
  builder.RegisterService(feedback_service.get());
  builder.RegisterService(audit_service.get());
  builder.RegisterService(admin_service.get());
  builder.RegisterService(reporting_service.get());
  // Server reflection v1, which current tools ask for first (Debian's gRPC serves v1alpha only).
  reflection_v1 = std::make_unique<ReflectionV1Service>(std::vector<std::string>{
      frontdoor::v1::ReferralService::service_full_name(), frontdoor::v1::FeedbackService::service_full_name(),
      frontdoor::v1::AuditService::service_full_name(), frontdoor::v1::AdminService::service_full_name(),
      "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"});
  builder.RegisterService(reflection_v1.get());
  server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return absl::UnavailableError(ListenFailure("the gRPC port", options.listen));

  if (!health_listen.empty()) {
    // Only grpc.health.v1.Health (the default service), in plaintext, for Kubernetes probes.
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(health_listen, grpc::InsecureServerCredentials(), &health_port);
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    health_server = health_builder.BuildAndStart();
    if (health_server == nullptr || health_port == 0) {
      return absl::UnavailableError(ListenFailure("the health port", health_listen));
    }
  }
  if (!metrics_listen.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(metrics_listen, /*num_threads=*/1);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat(ListenFailure("the metrics endpoint", metrics_listen), " (", e.what(), ")"));
    }
    exposer->RegisterCollectable(registry);
    exposer->RegisterCollectable(metrics->outbox_collectable());
    const std::vector<int> ports = exposer->GetListeningPorts();
    metrics_port = ports.empty() ? 0 : ports.front();
  }
  return absl::OkStatus();
}

absl::Status GatewayServer::Parts::OpenDoors(const GatewayOptions& options, const Clock* clock) {
  const frontdoor::v1::FhirApiConfig& fhir = config->config.fhir_api();
  fhir_listen = options.fhir_listen.empty() ? fhir.listen() : options.fhir_listen;
  const frontdoor::v1::MllpConfig& mllp = config->config.mllp();
  mllp_listen = options.mllp_listen.empty() ? mllp.listen() : options.mllp_listen;
  const frontdoor::v1::ConsoleConfig& console = config->config.console();
  console_listen = options.console_listen.empty() ? console.listen() : options.console_listen;
  if (fhir_listen.empty() && mllp_listen.empty() && console_listen.empty()) return absl::OkStatus();
  io_loop = std::make_unique<IoLoop>(2);
  if (!mllp_listen.empty()) FRONTDOOR_RETURN_IF_ERROR(OpenMllpDoor(clock));
  if (!fhir_listen.empty()) FRONTDOOR_RETURN_IF_ERROR(OpenFhirDoor(clock));
  if (!console_listen.empty()) FRONTDOOR_RETURN_IF_ERROR(OpenConsole(clock));
  io_loop->Start();
  return absl::OkStatus();
}

absl::Status GatewayServer::Parts::OpenFhirDoor(const Clock* clock) {
  const frontdoor::v1::FhirApiConfig& fhir = config->config.fhir_api();
  FhirApiDeps deps;
  deps.intake = intake.get();
  deps.reads = ReferralReadDeps{store.get(), store.get(), authorizer.get(), store.get(), clock};
  deps.work = work.get();
  deps.authorizer = authorizer.get();
  deps.limiter = limiter.get();  // one budget per caller across the gRPC and FHIR doors
  deps.identity_source = identity_source;
  deps.clock = clock;
  deps.metrics = metrics.get();
  deps.max_message_bytes = InboundLimitsFrom(config->config).max_message_bytes;
  fhir_api = std::make_unique<FhirApi>(std::move(deps));

  HttpServerOptions http;
  http.listen = fhir_listen;
  http.name = "the FHIR API";
  if (!tls.insecure_plaintext) {
    FRONTDOOR_ASSIGN_OR_RETURN(http.tls, ServerTlsContext(tls.inbound));
  }
  if (fhir.max_connections() > 0) http.max_connections = fhir.max_connections();
  if (fhir.request_deadline_seconds() > 0) http.request_deadline = absl::Seconds(fhir.request_deadline_seconds());
  if (fhir.idle_timeout_seconds() > 0) http.idle_timeout = absl::Seconds(fhir.idle_timeout_seconds());
  http.max_body_bytes = InboundLimitsFrom(config->config).max_message_bytes + 64 * 1024;
  http.common_headers = {{"x-content-type-options", "nosniff"}};
  FhirApi* api = fhir_api.get();
  observability::GatewayMetrics* observed = metrics.get();
  FRONTDOOR_ASSIGN_OR_RETURN(
      fhir_server,
      HttpServer::Start(io_loop->context(), http, api->Handler(), [observed](int status, const std::string& why) {
        observed->ObserveHttpRequest("fhir", "refused", status, 0);
        return FhirApi::Refusal(status, why);
      }));
  return absl::OkStatus();
}

absl::Status GatewayServer::Parts::OpenConsole(const Clock* clock) {
  FRONTDOOR_RETURN_IF_ERROR(CheckConsolePages());
  WebConsoleDeps deps;
  deps.reader = audit_reader.get();
  deps.admin = delivery_admin.get();
  deps.reporter = outcome_reporter.get();
  deps.authorizer = authorizer.get();
  deps.clock = clock;
  deps.metrics = metrics.get();
  deps.development = tls.insecure_plaintext;
  if (deps.development) {
    for (const std::string& identity : config->config.ig_officers())
      deps.sign_in_people.emplace_back(identity, "IG officer");
    for (const std::string& identity : config->config.operators())
      deps.sign_in_people.emplace_back(identity, "operator");
    for (const std::string& identity : config->config.commissioners())
      deps.sign_in_people.emplace_back(identity, "commissioner");
  }
  web_console = std::make_unique<WebConsole>(std::move(deps));

  HttpServerOptions http;
  http.listen = console_listen;
  http.name = "the web console";
  if (!tls.insecure_plaintext) {
    FRONTDOOR_ASSIGN_OR_RETURN(http.tls, ServerTlsContext(tls.inbound));
  }
  const frontdoor::v1::ConsoleConfig& console = config->config.console();
  http.max_connections = console.max_connections() > 0 ? console.max_connections() : 64;
  http.max_body_bytes = 64 * 1024;  // forms only
  http.common_headers = WebConsole::SecurityHeaders(!tls.insecure_plaintext);
  observability::GatewayMetrics* observed = metrics.get();
  FRONTDOOR_ASSIGN_OR_RETURN(console_server, HttpServer::Start(io_loop->context(), http, web_console->Handler(),
                                                               [observed](int status, const std::string& why) {
                                                                 observed->ObserveHttpRequest("console", "refused",
                                                                                              status, 0);
                                                                 return WebConsole::Refusal(status, why);
                                                               }));
  return absl::OkStatus();
}

absl::Status GatewayServer::Parts::OpenMllpDoor(const Clock* clock) {
  const frontdoor::v1::MllpConfig& mllp = config->config.mllp();
  MllpServerOptions options;
  options.listen = mllp_listen;
  if (!tls.insecure_plaintext) {
    FRONTDOOR_ASSIGN_OR_RETURN(options.tls, ServerTlsContext(tls.inbound));
  }
  if (mllp.max_connections() > 0) options.max_connections = mllp.max_connections();
  if (mllp.frame_deadline_seconds() > 0) options.frame_deadline = absl::Seconds(mllp.frame_deadline_seconds());
  if (mllp.idle_timeout_seconds() > 0) options.idle_timeout = absl::Seconds(mllp.idle_timeout_seconds());
  if (mllp.max_in_flight() > 0) options.max_in_flight = mllp.max_in_flight();
  options.max_frame_bytes = InboundLimitsFrom(config->config).max_message_bytes + 4096;
  MllpDoorDeps deps;
  deps.intake = intake.get();
  deps.authorizer = authorizer.get();
  deps.limiter = limiter.get();  // one budget per caller across every door
  deps.identity_source = identity_source;
  deps.clock = clock;
  deps.metrics = metrics.get();
  FRONTDOOR_ASSIGN_OR_RETURN(mllp_server, MllpServer::Start(io_loop->context(), options, std::move(deps)));
  return absl::OkStatus();
}

void GatewayServer::Parts::Serve() {
  SetHealth(server.get(), true);
  SetHealth(health_server.get(), true);
  dispatcher->Start();
  checkpointer->Start();
}

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(const GatewayOptions& options, const Clock* clock) {
  auto parts = std::make_unique<Parts>();
  FRONTDOOR_RETURN_IF_ERROR(parts->Configure(options, clock));
  FRONTDOOR_RETURN_IF_ERROR(parts->OpenStore(options));
  FRONTDOOR_RETURN_IF_ERROR(parts->StartWork(options, clock));
  FRONTDOOR_RETURN_IF_ERROR(parts->BuildIntake(clock));
  parts->BuildServices(clock);
  FRONTDOOR_RETURN_IF_ERROR(parts->Listen(options));
  FRONTDOOR_RETURN_IF_ERROR(parts->OpenDoors(options, clock));
  parts->Serve();
  return std::unique_ptr<GatewayServer>(new GatewayServer(std::move(parts)));
}

GatewayServer::GatewayServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

GatewayServer::~GatewayServer() { Shutdown(); }

int GatewayServer::port() const { return parts_->port; }
int GatewayServer::metrics_port() const { return parts_->metrics_port; }
int GatewayServer::health_port() const { return parts_->health_port; }
int GatewayServer::fhir_port() const { return parts_->fhir_server != nullptr ? parts_->fhir_server->port() : 0; }
int GatewayServer::mllp_port() const { return parts_->mllp_server != nullptr ? parts_->mllp_server->port() : 0; }
int GatewayServer::console_port() const {
  return parts_->console_server != nullptr ? parts_->console_server->port() : 0;
}

namespace {
// "HOST:PORT" with the port that was bound (the configured one may say 0).
std::string BoundAddress(const std::string& listen, int port) {
  if (port == 0) return "";
  const size_t colon = listen.rfind(':');
  return absl::StrCat(colon == std::string::npos ? listen : listen.substr(0, colon), ":", port);
}
}  // namespace

std::string GatewayServer::metrics_address() const {
  return BoundAddress(parts_->metrics_listen, parts_->metrics_port);
}
std::string GatewayServer::health_address() const { return BoundAddress(parts_->health_listen, parts_->health_port); }
std::string GatewayServer::fhir_address() const { return BoundAddress(parts_->fhir_listen, fhir_port()); }
std::string GatewayServer::mllp_address() const { return BoundAddress(parts_->mllp_listen, mllp_port()); }
std::string GatewayServer::console_address() const { return BoundAddress(parts_->console_listen, console_port()); }

void GatewayServer::Shutdown() {
  {
    absl::MutexLock lock(&parts_->mu);
    if (parts_->shut_down) return;
    parts_->shut_down = true;
  }
  const auto began = std::chrono::steady_clock::now();
  // Probes see NOT_SERVING first, so that no new traffic is routed here while we drain.
  SetHealth(parts_->health_server.get(), false);
  SetHealth(parts_->server.get(), false);
  Log(LogLevel::kInfo, "shutdown", "shutting down: not serving; draining calls in flight",
      {{"grace_seconds", static_cast<int64_t>(parts_->shutdown_grace.count())}});
  parts_->feedback_hub->Shutdown();  // open WatchFeedback streams end now; clients resume by cursor
  // No new calls; those in flight get the grace time, then are cancelled. Their commits complete
  // before the committer stops, so every answer already sent is backed by a stored referral.
  // The other doors stop taking connections too; their requests in flight are answered by the
  // commits below (their answers are dropped once the event loop stops).
  if (parts_->fhir_server != nullptr) parts_->fhir_server->Close();
  if (parts_->mllp_server != nullptr) parts_->mllp_server->Close();
  if (parts_->console_server != nullptr) parts_->console_server->Close();
  parts_->server->Shutdown(std::chrono::system_clock::now() + parts_->shutdown_grace);
  parts_->committer->Shutdown();
  parts_->work->Shutdown();          // store work already posted runs first
  parts_->dispatcher->Shutdown();    // the attempt in hand finishes (within its deadline) and is recorded
  parts_->checkpointer->Shutdown();  // signs what the last commits appended
  if (parts_->io_loop != nullptr) parts_->io_loop->Stop();
  if (parts_->health_server != nullptr) parts_->health_server->Shutdown(std::chrono::system_clock::now());
  // Nothing writes any more: another gateway may have the data directory now.
  parts_->data_dir_lock.reset();
  Log(LogLevel::kInfo, "shutdown", "stopped",
      {{"drain_ms",
        static_cast<int64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count())}});
}

void GatewayServer::Wait() { parts_->server->Wait(); }

}  // namespace frontdoor::gateway
