#include "gateway/gateway_server.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "frontdoor/v1/feedback_service.grpc.pb.h"
#include "audit/checkpoint_signer.h"
#include "gateway/audit_checkpointer.h"
#include "gateway/audit_service.h"
#include "gateway/admin_service.h"
#include "gateway/authorization.h"
#include "gateway/caller_limits.h"
#include "gateway/delivery_dispatcher.h"
#include "gateway/feedback_service.h"
#include "gateway/feedback_stream.h"
#include "gateway/gateway_config.h"
#include "gateway/gateway_tls.h"
#include "gateway/referral_service.h"
#include "gateway/sqlite_referral_store.h"
#include "gateway/store_selection.h"
#include "gateway/store_work_queue.h"
#include "gateway/submission_committer.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

namespace frontdoor::gateway {

namespace {

// GatewayConfig.audit.signing_key_path, relative to the data directory; the default file there.
std::string AuditSigningKeyPath(const frontdoor::v1::GatewayConfig& config, const std::string& data_dir) {
  const std::string& configured = config.audit().signing_key_path();
  if (configured.empty()) return data_dir + "/audit-signing-key.pem";
  if (configured[0] == '/') return configured;
  return data_dir + "/" + configured;
}

}  // namespace

struct GatewayServer::Parts {
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
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;
};

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(const GatewayOptions& options,
                                                                     const Clock* clock) {
  auto parts = std::make_unique<Parts>();
  FRONTDOOR_ASSIGN_OR_RETURN(LoadedConfig loaded, LoadGatewayConfig(options.config_path));
  parts->config = std::make_unique<LoadedConfig>(std::move(loaded));
  FRONTDOOR_ASSIGN_OR_RETURN(const GatewayTls tls, ResolveGatewayTls(options, parts->config->config));
  if (tls.connectors.empty()) {
    std::fprintf(stderr, "warning: connectors are reached WITHOUT TLS (no connector CA and client certificate)\n");
  }
  FRONTDOOR_ASSIGN_OR_RETURN(auto addresses, ConnectorAddresses(*parts->config, options.connector_overrides));

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot create data directory ", options.data_dir, ": ", ec.message()));
  }
  FRONTDOOR_ASSIGN_OR_RETURN(ConfiguredStore opened, OpenConfiguredStore(parts->config->config.store(), options.data_dir));
  std::fprintf(stderr, "store: %s\n", opened.description.c_str());
  parts->store = std::move(opened.store);
  parts->audit_store = opened.audit;
  // Another replica's feedback wakes no one here: watchers poll the shared database too.
  const absl::Duration feedback_poll = opened.shared ? absl::Seconds(1) : absl::InfiniteDuration();
  if (opened.shared && parts->config->config.audit().signing_key_path().empty()) {
    std::fprintf(stderr, "warning: replicas sharing a database must share one audit signing key "
                         "(audit.signing_key_path); this one signs with its own in the data directory\n");
  }

  DeliveryDispatcher::StubMap stubs;
  for (const auto& [endpoint_id, address] : addresses) {
    grpc::ChannelArguments args;
    // Come back quickly when a connector returns after an outage.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 500);
    stubs[endpoint_id] = frontdoor::v1::ConnectorService::NewStub(
        grpc::CreateCustomChannel(address, ConnectorChannelCredentials(tls), args));
  }
  for (const auto& org : parts->config->network.organisations()) {
    if (addresses.find(org.endpoint_id) == addresses.end()) {
      std::fprintf(stderr, "warning: no address for connector endpoint %s; its deliveries wait until one is set\n",
                   org.endpoint_id.c_str());
    }
  }
  parts->dispatcher = std::make_unique<DeliveryDispatcher>(parts->store.get(), clock,
                                                           DeliveryPolicyFrom(parts->config->config), std::move(stubs));
  DeliveryDispatcher* dispatcher = parts->dispatcher.get();
  FRONTDOOR_ASSIGN_OR_RETURN(std::unique_ptr<audit::CheckpointSigner> signer,
                             audit::CheckpointSigner::LoadOrCreate(AuditSigningKeyPath(parts->config->config, options.data_dir)));
  parts->checkpointer = std::make_unique<AuditCheckpointer>(parts->audit_store, std::move(signer), clock,
                                                            AuditPolicyFrom(parts->config->config));
  AuditCheckpointer* checkpointer = parts->checkpointer.get();
  parts->committer = std::make_unique<SubmissionCommitter>(parts->store.get(), [dispatcher, checkpointer] {
    dispatcher->Wake();
    checkpointer->Wake();
  });

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
  deps.feedback_hub = parts->feedback_hub.get();
  parts->referral_service = std::make_unique<ReferralServiceImpl>(deps);
  parts->audit_service = std::make_unique<AuditServiceImpl>(AuditServiceDeps{
      parts->authorizer.get(), parts->audit_store, parts->checkpointer.get(), clock, deps.identity_source,
      parts->admission.get()});

  parts->work = std::make_unique<StoreWorkQueue>();
  AdminServiceDeps admin_deps;
  admin_deps.authorizer = parts->authorizer.get();
  admin_deps.store = parts->store.get();
  admin_deps.work = parts->work.get();
  admin_deps.clock = clock;
  admin_deps.identity_source = deps.identity_source;
  admin_deps.admission = parts->admission.get();
  admin_deps.on_replayed = [dispatcher] { dispatcher->Wake(); };
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
  // Room for a 1 MiB message plus its envelope; larger requests get RESOURCE_EXHAUSTED from gRPC.
  builder.SetMaxReceiveMessageSize(static_cast<int>(deps.limits.max_message_bytes) + 64 * 1024);
  ApplyTransportLimits(parts->limiter->limits(), &builder);
  builder.experimental().SetInterceptorCreators(parts->admission->InterceptorCreators());
  builder.RegisterService(parts->referral_service.get());
  builder.RegisterService(parts->feedback_impl.get());  // FeedbackService (issue 5)
  builder.RegisterService(parts->audit_service.get());
  builder.RegisterService(parts->admin_service.get());
  parts->server = builder.BuildAndStart();
  if (parts->server == nullptr || parts->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  parts->server->GetHealthCheckService()->SetServingStatus(true);
  parts->dispatcher->Start();
  parts->checkpointer->Start();
  return std::unique_ptr<GatewayServer>(new GatewayServer(std::move(parts)));
}

GatewayServer::GatewayServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

GatewayServer::~GatewayServer() { Shutdown(); }

int GatewayServer::port() const { return parts_->port; }

void GatewayServer::Shutdown() {
  {
    absl::MutexLock lock(&parts_->mu);
    if (parts_->shut_down) return;
    parts_->shut_down = true;
  }
  parts_->server->GetHealthCheckService()->SetServingStatus(false);
  parts_->feedback_hub->Shutdown();  // open WatchFeedback streams end now; clients resume by cursor
  // In-flight calls get a few seconds; their commits complete before the committer stops.
  parts_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  parts_->committer->Shutdown();
  parts_->work->Shutdown();
  parts_->dispatcher->Shutdown();
  parts_->checkpointer->Shutdown();  // signs what the last commits appended
}

void GatewayServer::Wait() { parts_->server->Wait(); }

}  // namespace frontdoor::gateway
