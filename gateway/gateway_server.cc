#include "gateway/gateway_server.h"

#include <cstdio>
#include <filesystem>
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
#include "gateway/admin_service.h"
#include "gateway/audit_checkpointer.h"
#include "gateway/audit_service.h"
#include "gateway/authorization.h"
#include "gateway/caller_identity.h"
#include "gateway/caller_limits.h"
#include "gateway/data_dir_lock.h"
#include "gateway/delivery_dispatcher.h"
#include "gateway/feedback_service.h"
#include "gateway/feedback_stream.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_tls.h"
#include "gateway/listen_address.h"
#include "gateway/referral_service.h"
#include "gateway/sqlite_referral_store.h"
#include "gateway/store_selection.h"
#include "gateway/store_work_queue.h"
#include "gateway/submission_committer.h"
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
  // Held from start until the end of Shutdown; declared first so that it outlives the store.
  std::optional<DataDirLock> data_dir_lock;
  std::unique_ptr<LoadedConfig> config;
  std::unique_ptr<Authorizer> authorizer;
  // Per-identity limits; declared before `server`, which must go first.
  std::unique_ptr<CallerLimiter> limiter;
  std::unique_ptr<CallAdmission> admission;
  std::unique_ptr<ReferralStore> store;  // SQLite or PostgreSQL, by the config's `store` block
  AuditStore* audit_store = nullptr;     // the same object's audit log
  std::unique_ptr<DeliveryDispatcher> dispatcher;
  std::unique_ptr<SubmissionCommitter> committer;
  std::unique_ptr<AuditCheckpointer> checkpointer;  // IG-9: signed checkpoints, retention
  std::unique_ptr<ReferralServiceImpl> referral_service;
  // Declared so that reflection lists them; their methods answer UNIMPLEMENTED until built.
  std::unique_ptr<AuditServiceImpl> audit_service;
  // Issue 5: store work off the reactor threads, and the operators' AdminService.
  std::unique_ptr<StoreWorkQueue> work;
  std::unique_ptr<AdminServiceImpl> admin_service;
  std::unique_ptr<FeedbackStreamHub> feedback_hub;
  std::unique_ptr<FeedbackServiceImpl> feedback_impl;
  // Issue 7: metrics, the call observer (ids, call logs), the health port, the /metrics endpoint.
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<observability::GatewayMetrics> metrics;
  std::unique_ptr<observability::CallObserver> calls;
  std::chrono::seconds shutdown_grace{20};
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::unique_ptr<grpc::Server> health_server;
  int health_port = 0;
  // Declared last: destroyed first, so no scrape reads the store while it closes.
  std::unique_ptr<prometheus::Exposer> exposer;
  int metrics_port = 0;
  std::string metrics_listen;  // as configured
  std::string health_listen;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
};

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(const GatewayOptions& options, const Clock* clock) {
  auto parts = std::make_unique<Parts>();
  FRONTDOOR_ASSIGN_OR_RETURN(LoadedConfig loaded, LoadGatewayConfig(options.config_path));
  parts->config = std::make_unique<LoadedConfig>(std::move(loaded));
  const frontdoor::v1::ObservabilityConfig& observe = parts->config->config.observability();
  FRONTDOOR_ASSIGN_OR_RETURN(const observability::LogFormat log_format,
                             observability::ParseLogFormat(observe.log_format()));
  observability::SetLogFormat(log_format);
  if (options.insecure_plaintext) {
    Log(LogLevel::kWarning, "startup",
        "--insecure-plaintext: no TLS, callers are who they say they are. Never use this with real patient data.");
  }
  if (observe.shutdown_grace_seconds() > 0) {
    parts->shutdown_grace = std::chrono::seconds(std::min<uint32_t>(observe.shutdown_grace_seconds(), 3600));
  }
  const std::string metrics_listen = options.metrics_listen.empty() ? observe.metrics_listen() : options.metrics_listen;
  const std::string health_listen = options.health_listen.empty() ? observe.health_listen() : options.health_listen;
  parts->metrics_listen = metrics_listen;
  parts->health_listen = health_listen;
  FRONTDOOR_ASSIGN_OR_RETURN(const GatewayTls tls, ResolveGatewayTls(options, parts->config->config));
  if (tls.connectors.empty()) {
    Log(LogLevel::kWarning, "startup", "connectors are reached WITHOUT TLS (no connector CA and client certificate)");
  }
  if (tls.client_crls.has_value()) {
    // Read once: a new CRL is taken up at restart. Past the earliest nextUpdate every client is
    // refused (X.509 fails closed), so say early when that is near.
    const CrlSummary& crls = *tls.client_crls;
    const std::string next_update = FormatRfc3339Utc(crls.next_update, 0);
    const bool due_soon = crls.next_update - absl::Now() < absl::Hours(24 * 7);
    Log(due_soon ? LogLevel::kWarning : LogLevel::kInfo, "startup",
        due_soon ? "client certificate revocation lists are due for renewal within a week: publish the CA's next "
                   "CRL and restart before next_update, or every client will be refused"
                 : "client certificate revocation lists loaded; restart to take up a new one",
        {{"crl_dir", tls.inbound.crl_dir},
         {"crls", int64_t{crls.crls}},
         {"revoked", int64_t{crls.revoked}},
         {"next_update", next_update}});
  }
  FRONTDOOR_ASSIGN_OR_RETURN(auto addresses, ConnectorAddresses(*parts->config, options.connector_overrides));

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create data directory ", options.data_dir, ": ", ec.message()));
  }
  FRONTDOOR_ASSIGN_OR_RETURN(DataDirLock data_dir_lock, DataDirLock::Acquire(options.data_dir));
  parts->data_dir_lock.emplace(std::move(data_dir_lock));
  FRONTDOOR_ASSIGN_OR_RETURN(ConfiguredStore opened,
                             OpenConfiguredStore(parts->config->config.store(), options.data_dir));
  Log(LogLevel::kInfo, "startup", "store opened", {{"store", opened.description}});
  parts->store = std::move(opened.store);
  parts->audit_store = opened.audit;
  // Another replica's feedback wakes no one here: watchers poll the shared database too.
  const absl::Duration feedback_poll = opened.shared ? absl::Seconds(1) : absl::InfiniteDuration();
  if (opened.shared && parts->config->config.audit().signing_key_path().empty()) {
    Log(LogLevel::kWarning, "startup",
        "replicas sharing a database must share one audit signing key (audit.signing_key_path); "
        "this one signs with its own in the data directory");
  }

  DeliveryDispatcher::ChannelMap channels;
  for (const auto& [endpoint_id, address] : addresses) {
    grpc::ChannelArguments args;
    // Come back quickly when a connector returns after an outage.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
    channels[endpoint_id] = grpc::CreateCustomChannel(address, ConnectorChannelCredentials(tls), args);
  }
  for (const auto& org : parts->config->network.organisations()) {
    if (addresses.find(org.endpoint_id) == addresses.end()) {
      Log(LogLevel::kWarning, "startup", "no address for a connector endpoint; its deliveries wait until one is set",
          {{"endpoint_id", org.endpoint_id}});
    }
  }
  parts->dispatcher = std::make_unique<DeliveryDispatcher>(
      parts->store.get(), clock, DeliveryPolicyFrom(parts->config->config), std::move(channels));
  DeliveryDispatcher* dispatcher = parts->dispatcher.get();

  parts->registry =
      options.metrics_registry != nullptr ? options.metrics_registry : std::make_shared<prometheus::Registry>();
  ReferralStore* store = parts->store.get();
  // Every configured endpoint is reported, at 0 when its outbox is empty, so alerts see it.
  std::vector<std::string> endpoint_ids;
  for (const auto& org : parts->config->network.organisations()) endpoint_ids.push_back(org.endpoint_id);
  parts->metrics = std::make_unique<observability::GatewayMetrics>(
      parts->registry, [store, endpoint_ids]() -> absl::StatusOr<std::vector<observability::OutboxDepthSample>> {
        FRONTDOOR_ASSIGN_OR_RETURN(std::vector<OutboxDepth> depths, store->OutboxDepths());
        std::map<std::string, observability::OutboxDepthSample> by_endpoint;
        for (const std::string& id : endpoint_ids) by_endpoint[id] = {id, 0, 0};
        for (const OutboxDepth& d : depths) by_endpoint[d.endpoint_id] = {d.endpoint_id, d.pending, d.dead};
        std::vector<observability::OutboxDepthSample> out;
        for (auto& [id, sample] : by_endpoint) out.push_back(std::move(sample));
        return out;
      });
  const IdentitySource identity_source =
      tls.insecure_plaintext ? IdentitySource::kPlaintextMetadata : IdentitySource::kTlsCertificate;
  parts->calls = std::make_unique<observability::CallObserver>(
      parts->metrics.get(), [identity_source](const grpc::ServerContextBase& context) {
        absl::StatusOr<std::string> who = AuthenticatedCaller(context, identity_source);
        return who.ok() ? *who : std::string();
      });
  parts->dispatcher->SetMetrics(parts->metrics.get());

  FRONTDOOR_ASSIGN_OR_RETURN(
      std::unique_ptr<audit::CheckpointSigner> signer,
      audit::CheckpointSigner::LoadOrCreate(AuditSigningKeyPath(parts->config->config, options.data_dir)));
  parts->checkpointer = std::make_unique<AuditCheckpointer>(parts->audit_store, std::move(signer), clock,
                                                            AuditPolicyFrom(parts->config->config));
  AuditCheckpointer* checkpointer = parts->checkpointer.get();
  // Gateway-wide: bounds what a stalled disk or machine can make the gateway hold in memory.
  const uint32_t max_queued = parts->config->config.limits().max_queued_submissions();
  parts->committer = std::make_unique<SubmissionCommitter>(
      parts->store.get(),
      [dispatcher, checkpointer](const SubmissionCommitter::CommittedBatch& committed) {
        for (const std::string& endpoint : committed.endpoints) dispatcher->Wake(endpoint);
        checkpointer->NoteAppended(committed.audit_records);
      },
      max_queued > 0 ? max_queued : SubmissionCommitter::kDefaultMaxQueued);
  parts->committer->SetMetrics(parts->metrics.get());

  const auto& cfg = parts->config->config;
  parts->authorizer = std::make_unique<Authorizer>(
      &parts->config->network, std::vector<std::string>(cfg.ig_officers().begin(), cfg.ig_officers().end()),
      std::vector<std::string>(cfg.operators().begin(), cfg.operators().end()));

  parts->limiter = std::make_unique<CallerLimiter>(CallerLimitsFrom(cfg), clock);
  const Authorizer* authorizer = parts->authorizer.get();
  parts->admission = std::make_unique<CallAdmission>(
      parts->limiter.get(),
      tls.insecure_plaintext ? IdentitySource::kPlaintextMetadata : IdentitySource::kTlsCertificate,
      [authorizer](std::string_view identity) { return authorizer->Identify(identity).ok(); });

  ReferralServiceDeps deps;
  deps.admission = parts->admission.get();
  deps.network = &parts->config->network;
  deps.authorizer = parts->authorizer.get();
  deps.limits = InboundLimitsFrom(parts->config->config);
  deps.store = parts->store.get();
  deps.committer = parts->committer.get();
  deps.clock = clock;
  deps.identity_source = tls.insecure_plaintext ? IdentitySource::kPlaintextMetadata : IdentitySource::kTlsCertificate;
  deps.wake_delivery = [dispatcher] { dispatcher->Wake(); };
  parts->feedback_hub = std::make_unique<FeedbackStreamHub>(parts->store.get(), 64, feedback_poll);
  observability::GatewayMetrics* metrics = parts->metrics.get();
  parts->feedback_hub->SetLagObserver(
      [metrics](absl::Duration lag) { metrics->ObserveFeedbackLag(absl::ToDoubleSeconds(lag)); });
  deps.feedback_hub = parts->feedback_hub.get();
  deps.metrics = parts->metrics.get();
  deps.calls = parts->calls.get();
  parts->referral_service = std::make_unique<ReferralServiceImpl>(deps);
  parts->audit_service = std::make_unique<AuditServiceImpl>(
      AuditServiceDeps{parts->authorizer.get(), parts->audit_store, parts->checkpointer.get(), clock,
                       deps.identity_source, parts->admission.get()});

  parts->work = std::make_unique<StoreWorkQueue>();
  AdminServiceDeps admin_deps;
  admin_deps.authorizer = parts->authorizer.get();
  admin_deps.store = parts->store.get();
  admin_deps.work = parts->work.get();
  admin_deps.clock = clock;
  admin_deps.identity_source = deps.identity_source;
  admin_deps.admission = parts->admission.get();
  admin_deps.on_replayed = [dispatcher] { dispatcher->Replayed(); };
  parts->admin_service = std::make_unique<AdminServiceImpl>(std::move(admin_deps));
  FeedbackServiceDeps feedback_deps;
  feedback_deps.authorizer = parts->authorizer.get();
  feedback_deps.store = parts->store.get();
  feedback_deps.work = parts->work.get();
  feedback_deps.clock = clock;
  feedback_deps.identity_source = deps.identity_source;
  feedback_deps.admission = parts->admission.get();
  FeedbackStreamHub* hub = parts->feedback_hub.get();
  feedback_deps.on_recorded = [hub] { hub->Notify(); };
  parts->feedback_impl = std::make_unique<FeedbackServiceImpl>(std::move(feedback_deps));

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, GatewayServerCredentials(tls), &parts->port);
  // A gateway owns its ports. gRPC turns SO_REUSEPORT on by default, which lets a second gateway
  // (a second demo, a restart while the old one drains) listen beside the first, each with its own
  // store, and the kernel then shares the callers out between them.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Room for a 1 MiB message plus its envelope; larger requests get RESOURCE_EXHAUSTED from gRPC.
  builder.SetMaxReceiveMessageSize(static_cast<int>(deps.limits.max_message_bytes) + 64 * 1024);
  ApplyTransportLimits(parts->limiter->limits(), &builder);
  // The call observer first: it sees (and logs, and echoes ids to) calls the admission refuses too.
  auto interceptors = parts->admission->InterceptorCreators();
  interceptors.insert(interceptors.begin(), parts->calls->NewInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.RegisterService(parts->referral_service.get());
  builder.RegisterService(parts->feedback_impl.get());  // FeedbackService (issue 5)
  builder.RegisterService(parts->audit_service.get());
  builder.RegisterService(parts->admin_service.get());
  parts->server = builder.BuildAndStart();
  if (parts->server == nullptr || parts->port == 0) {
    return absl::UnavailableError(ListenFailure("the gRPC port", options.listen));
  }

  if (!health_listen.empty()) {
    // Only grpc.health.v1.Health (the default service), in plaintext, for Kubernetes probes.
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(health_listen, grpc::InsecureServerCredentials(), &parts->health_port);
    health_builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    parts->health_server = health_builder.BuildAndStart();
    if (parts->health_server == nullptr || parts->health_port == 0) {
      return absl::UnavailableError(ListenFailure("the health port", health_listen));
    }
  }
  if (!metrics_listen.empty()) {
    try {
      parts->exposer = std::make_unique<prometheus::Exposer>(metrics_listen, /*num_threads=*/1);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat(ListenFailure("the metrics endpoint", metrics_listen), " (", e.what(), ")"));
    }
    parts->exposer->RegisterCollectable(parts->registry);
    parts->exposer->RegisterCollectable(parts->metrics->outbox_collectable());
    const std::vector<int> ports = parts->exposer->GetListeningPorts();
    parts->metrics_port = ports.empty() ? 0 : ports.front();
  }

  SetHealth(parts->server.get(), true);
  SetHealth(parts->health_server.get(), true);
  parts->dispatcher->Start();
  parts->checkpointer->Start();
  return std::unique_ptr<GatewayServer>(new GatewayServer(std::move(parts)));
}

GatewayServer::GatewayServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

GatewayServer::~GatewayServer() { Shutdown(); }

int GatewayServer::port() const { return parts_->port; }
int GatewayServer::metrics_port() const { return parts_->metrics_port; }
int GatewayServer::health_port() const { return parts_->health_port; }

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
  parts_->server->Shutdown(std::chrono::system_clock::now() + parts_->shutdown_grace);
  parts_->committer->Shutdown();
  parts_->work->Shutdown();
  parts_->dispatcher->Shutdown();    // the attempt in hand finishes (within its deadline) and is recorded
  parts_->checkpointer->Shutdown();  // signs what the last commits appended
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
