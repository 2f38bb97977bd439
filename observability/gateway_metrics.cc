#include "observability/gateway_metrics.h"

#include <atomic>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace frontdoor::observability {

namespace {

constexpr size_t kMaxMethods = 64;

// A label value from text the gateway itself chose; anything unexpected (empty, long, odd
// characters) becomes a fixed word, so a label can never carry free text.
std::string Bounded(const std::string& value, const char* if_empty) {
  if (value.empty()) return if_empty;
  if (value.size() > 64) return "other";
  for (unsigned char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == '/';
    if (!ok) return "other";
  }
  return value;
}

const prometheus::Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& DeliveryBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& CommitBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& BatchBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  return *b;
}

}  // namespace

std::string GrpcCodeName(int code) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  if (code < 0 || code > 16) return "UNKNOWN";
  return kNames[code];
}

// Outbox depth and dead letters per endpoint, read from the store at each scrape, so the gauges
// are never stale and there is no polling thread.
class GatewayMetrics::OutboxCollectable final : public prometheus::Collectable {
 public:
  explicit OutboxCollectable(OutboxDepthSource source) : source_(std::move(source)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    prometheus::MetricFamily errors{"frontdoor_outbox_scrape_errors_total",
                                    "Scrapes at which the outbox depth could not be read from the store",
                                    prometheus::MetricType::Counter,
                                    {}};
    if (!source_) return out;
    absl::StatusOr<std::vector<OutboxDepthSample>> depths = source_();
    if (!depths.ok()) ++failures_;
    prometheus::ClientMetric failures;
    failures.counter.value = static_cast<double>(failures_.load());
    errors.metric.push_back(failures);
    out.push_back(std::move(errors));
    if (!depths.ok()) return out;
    prometheus::MetricFamily pending{"frontdoor_outbox_pending",
                                     "Outbox rows (deliveries and cease-processing) still to send, per endpoint",
                                     prometheus::MetricType::Gauge,
                                     {}};
    prometheus::MetricFamily dead{"frontdoor_outbox_dead_letters",
                                  "Dead letters waiting for an operator's replay, per endpoint",
                                  prometheus::MetricType::Gauge,
                                  {}};
    for (const OutboxDepthSample& d : *depths) {
      prometheus::ClientMetric p;
      p.label.push_back({"endpoint", Bounded(d.endpoint_id, "unknown")});
      p.gauge.value = static_cast<double>(d.pending);
      pending.metric.push_back(p);
      prometheus::ClientMetric q;
      q.label.push_back({"endpoint", Bounded(d.endpoint_id, "unknown")});
      q.gauge.value = static_cast<double>(d.dead);
      dead.metric.push_back(q);
    }
    out.push_back(std::move(pending));
    out.push_back(std::move(dead));
    return out;
  }

 private:
  const OutboxDepthSource source_;
  mutable std::atomic<int64_t> failures_{0};
};

// One registration per metric family: a long list kept whole, so that every name, help text and
// bucket set is read in one place.
GatewayMetrics::GatewayMetrics(std::shared_ptr<prometheus::Registry> registry, OutboxDepthSource outbox)
    : registry_(std::move(registry)),
      outbox_(std::make_shared<OutboxCollectable>(std::move(outbox))),
      referrals_(prometheus::BuildCounter()
                     .Name("frontdoor_referrals_total")
                     .Help("Submitted referrals by disposition, first rule that stopped them, borough and format")
                     .Register(*registry_)),
      referral_rules_(prometheus::BuildCounter()
                          .Name("frontdoor_referral_rules_total")
                          .Help("Every rule or validation code that stopped a referral (several per referral)")
                          .Register(*registry_)),
      routed_(prometheus::BuildCounter()
                  .Name("frontdoor_routed_total")
                  .Help("Accepted referrals by connector team and borough")
                  .Register(*registry_)),
      front_door_(prometheus::BuildCounter()
                      .Name("frontdoor_front_door_fallbacks_total")
                      .Help("Accepted referrals that fell back to the borough's front-door team")
                      .Register(*registry_)),
      delivery_attempts_(prometheus::BuildCounter()
                             .Name("frontdoor_delivery_attempts_total")
                             .Help("Delivery attempts per endpoint, kind (deliver, cease) and outcome")
                             .Register(*registry_)),
      delivery_latency_(prometheus::BuildHistogram()
                            .Name("frontdoor_delivery_latency_seconds")
                            .Help("From the referral's commit to the connector's acknowledgement")
                            .Register(*registry_)),
      dead_letters_(prometheus::BuildCounter()
                        .Name("frontdoor_dead_letters_total")
                        .Help("Outbox rows that became dead letters, per endpoint")
                        .Register(*registry_)),
      feedback_lag_(prometheus::BuildHistogram()
                        .Name("frontdoor_feedback_lag_seconds")
                        .Help("From a progress report's commit to its write on a referrer's live WatchFeedback stream")
                        .Register(*registry_)
                        .Add({}, DeliveryBuckets())),
      commit_batch_(prometheus::BuildHistogram()
                        .Name("frontdoor_commit_batch_referrals")
                        .Help("Referrals recorded by one group commit")
                        .Register(*registry_)
                        .Add({}, BatchBuckets())),
      commit_wait_(prometheus::BuildHistogram()
                       .Name("frontdoor_commit_wait_seconds")
                       .Help("How long a group commit's oldest referral waited for the writer")
                       .Register(*registry_)
                       .Add({}, CommitBuckets())),
      commit_(prometheus::BuildHistogram()
                  .Name("frontdoor_commit_seconds")
                  .Help("One group commit's transaction, from BEGIN to the durable COMMIT")
                  .Register(*registry_)
                  .Add({}, CommitBuckets())),
      commit_queue_(
          prometheus::BuildGauge()
              .Name("frontdoor_commit_queue_referrals")
              .Help("Submissions waiting for, or in, the group commit now (at most limits.max_queued_submissions)")
              .Register(*registry_)
              .Add({})),
      commit_queue_full_(prometheus::BuildCounter()
                             .Name("frontdoor_commit_queue_full_total")
                             .Help("Submissions answered RESOURCE_EXHAUSTED because the group commit already held "
                                   "limits.max_queued_submissions")
                             .Register(*registry_)
                             .Add({})),
      grpc_handled_(prometheus::BuildCounter()
                        .Name("frontdoor_grpc_server_handled_total")
                        .Help("gRPC calls finished, per method and status code")
                        .Register(*registry_)),
      grpc_latency_(prometheus::BuildHistogram()
                        .Name("frontdoor_grpc_server_handling_seconds")
                        .Help("gRPC call duration from the request's arrival to its status, per method and code")
                        .Register(*registry_)),
      http_handled_(prometheus::BuildCounter()
                        .Name("frontdoor_http_requests_total")
                        .Help("HTTP requests answered by the gateway's HTTP doors, per door, route and status")
                        .Register(*registry_)),
      http_latency_(
          prometheus::BuildHistogram()
              .Name("frontdoor_http_request_seconds")
              .Help("HTTP request duration from the whole request's arrival to its answer, per door and route")
              .Register(*registry_)),
      mllp_messages_(prometheus::BuildCounter()
                         .Name("frontdoor_mllp_messages_total")
                         .Help("HL7 v2 messages answered on the MLLP door, per acknowledgment code (MSA-1)")
                         .Register(*registry_)),
      mllp_latency_(prometheus::BuildHistogram()
                        .Name("frontdoor_mllp_message_seconds")
                        .Help("From a frame's arrival to its answer being ready (a referral includes its commit)")
                        .Register(*registry_)),
      mllp_bad_frames_(prometheus::BuildCounter()
                           .Name("frontdoor_mllp_bad_frames_total")
                           .Help("MLLP connections ended for bad framing or a frame not finished in time, per kind")
                           .Register(*registry_)),
      mllp_connections_(prometheus::BuildGauge()
                            .Name("frontdoor_mllp_open_connections")
                            .Help("MLLP connections open now")
                            .Register(*registry_)
                            .Add({})),
      store_write_failures_(
          prometheus::BuildCounter()
              .Name("frontdoor_store_write_failures_total")
              .Help("Writes of the delivery workers the store refused (full disk, read-only or damaged file)")
              .Register(*registry_)
              .Add({})),
      store_writable_(prometheus::BuildGauge()
                          .Name("frontdoor_store_writable")
                          .Help("1 while the store takes the delivery workers' writes, 0 while it refuses them")
                          .Register(*registry_)
                          .Add({})),
      handles_(std::make_unique<Handles>()) {
  store_writable_.Set(1);  // until a write is refused
}

GatewayMetrics::~GatewayMetrics() = default;

struct GatewayMetrics::Handles {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, prometheus::Counter*> counters ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, prometheus::Histogram*> histograms ABSL_GUARDED_BY(mu);
};

namespace {
// The family's address and the label values: a key no other family or label set shares.
std::string HandleKey(const void* family, std::initializer_list<std::pair<const char*, const std::string*>> labels) {
  std::string key(reinterpret_cast<const char*>(&family), sizeof(family));
  for (const auto& [name, value] : labels) {
    key += '|';
    key += *value;
  }
  return key;
}

prometheus::Labels LabelMap(std::initializer_list<std::pair<const char*, const std::string*>> labels) {
  prometheus::Labels map;
  for (const auto& [name, value] : labels) map.emplace(name, *value);
  return map;
}
}  // namespace

prometheus::Counter& GatewayMetrics::Labelled(prometheus::Family<prometheus::Counter>& family, LabelValues labels) {
  const std::string key = HandleKey(&family, labels);
  absl::MutexLock lock(&handles_->mu);
  prometheus::Counter*& counter = handles_->counters[key];
  if (counter == nullptr) counter = &family.Add(LabelMap(labels));
  return *counter;
}

prometheus::Histogram& GatewayMetrics::Labelled(prometheus::Family<prometheus::Histogram>& family, LabelValues labels,
                                                const prometheus::Histogram::BucketBoundaries& buckets) {
  const std::string key = HandleKey(&family, labels);
  absl::MutexLock lock(&handles_->mu);
  prometheus::Histogram*& histogram = handles_->histograms[key];
  if (histogram == nullptr) histogram = &family.Add(LabelMap(labels), buckets);
  return *histogram;
}

std::shared_ptr<prometheus::Collectable> GatewayMetrics::outbox_collectable() const { return outbox_; }

void GatewayMetrics::CountReferral(const ReferralLabels& labels, const std::vector<std::string>& all_rules) {
  const std::string disposition = Bounded(labels.disposition, "unknown");
  const std::string borough = Bounded(labels.borough, "unknown");
  const std::string format = Bounded(labels.format, "unknown");
  const std::string first_rule = Bounded(labels.rule, "none");
  Labelled(referrals_,
           {{"disposition", &disposition}, {"rule", &first_rule}, {"borough", &borough}, {"format", &format}})
      .Increment();
  for (const std::string& rule : all_rules) {
    const std::string bounded_rule = Bounded(rule, "none");
    Labelled(referral_rules_,
             {{"disposition", &disposition}, {"rule", &bounded_rule}, {"borough", &borough}, {"format", &format}})
        .Increment();
  }
}

void GatewayMetrics::CountRouting(const std::string& team_id, const std::string& borough, bool front_door) {
  const std::string team = Bounded(team_id, "unknown");
  const std::string bounded_borough = Bounded(borough, "unknown");
  Labelled(routed_, {{"team", &team}, {"borough", &bounded_borough}}).Increment();
  if (front_door) Labelled(front_door_, {{"borough", &bounded_borough}}).Increment();
}

void GatewayMetrics::DeclareRoutes(const std::vector<std::pair<std::string, std::string>>& team_boroughs) {
  for (const auto& [team_id, borough] : team_boroughs) {
    const std::string team = Bounded(team_id, "unknown");
    const std::string bounded_borough = Bounded(borough, "unknown");
    Labelled(routed_, {{"team", &team}, {"borough", &bounded_borough}});
    Labelled(front_door_, {{"borough", &bounded_borough}});
  }
}

void GatewayMetrics::CountDeliveryAttempt(const std::string& endpoint_id, const std::string& kind,
                                          const std::string& outcome, double commit_to_ack_seconds) {
  const std::string endpoint = Bounded(endpoint_id, "unknown");
  const std::string bounded_kind = Bounded(kind, "unknown");
  const std::string bounded_outcome = Bounded(outcome, "unknown");
  Labelled(delivery_attempts_, {{"endpoint", &endpoint}, {"kind", &bounded_kind}, {"outcome", &bounded_outcome}})
      .Increment();
  if (outcome == "dead_letter") Labelled(dead_letters_, {{"endpoint", &endpoint}}).Increment();
  if (outcome == "delivered" && kind == "deliver" && commit_to_ack_seconds >= 0) {
    Labelled(delivery_latency_, {{"endpoint", &endpoint}}, DeliveryBuckets()).Observe(commit_to_ack_seconds);
  }
}

void GatewayMetrics::CountExpiredDeadLetters(const std::string& endpoint_id, int64_t rows) {
  if (rows <= 0) return;
  const std::string endpoint = Bounded(endpoint_id, "unknown");
  Labelled(dead_letters_, {{"endpoint", &endpoint}}).Increment(static_cast<double>(rows));
}

void GatewayMetrics::ObserveFeedbackLag(double seconds) { feedback_lag_.Observe(seconds < 0 ? 0 : seconds); }

void GatewayMetrics::ObserveGroupCommit(size_t referrals, double oldest_wait_seconds, double commit_seconds) {
  commit_batch_.Observe(static_cast<double>(referrals));
  commit_wait_.Observe(oldest_wait_seconds < 0 ? 0 : oldest_wait_seconds);
  commit_.Observe(commit_seconds < 0 ? 0 : commit_seconds);
}

void GatewayMetrics::SetCommitQueue(size_t referrals) { commit_queue_.Set(static_cast<double>(referrals)); }

void GatewayMetrics::CountCommitQueueFull() { commit_queue_full_.Increment(); }

std::string GatewayMetrics::BoundedMethod(const std::string& method) {
  const std::string bounded = Bounded(method, "unknown");
  absl::MutexLock lock(&mu_);
  if (methods_.count(bounded) > 0) return bounded;
  if (methods_.size() >= kMaxMethods) return "other";
  methods_.insert(bounded);
  return bounded;
}

void GatewayMetrics::ObserveGrpcCall(const std::string& method, const std::string& code, double seconds) {
  const std::string m = BoundedMethod(method);
  Labelled(grpc_handled_, {{"method", &m}, {"code", &code}}).Increment();
  Labelled(grpc_latency_, {{"method", &m}, {"code", &code}}, RpcBuckets()).Observe(seconds);
}

void GatewayMetrics::ObserveHttpRequest(const std::string& door, const std::string& route, int status, double seconds) {
  const std::string code = std::to_string(status);
  Labelled(http_handled_, {{"door", &door}, {"route", &route}, {"status", &code}}).Increment();
  Labelled(http_latency_, {{"door", &door}, {"route", &route}}, RpcBuckets()).Observe(seconds);
}

void GatewayMetrics::ObserveMllpMessage(const std::string& ack_code, double seconds) {
  // Bounded: MSA-1 is one of six codes; anything else (a broken answer) is "other".
  static const std::set<std::string> kCodes = {"AA", "AE", "AR", "CA", "CE", "CR"};
  const std::string code = kCodes.count(ack_code) > 0 ? ack_code : "other";
  Labelled(mllp_messages_, {{"ack", &code}}).Increment();
  Labelled(mllp_latency_, {{"ack", &code}}, RpcBuckets()).Observe(seconds);
}

void GatewayMetrics::CountMllpBadFrame(const std::string& kind) {
  Labelled(mllp_bad_frames_, {{"kind", &kind}}).Increment();
}

void GatewayMetrics::AddMllpConnections(int delta) { mllp_connections_.Increment(delta); }

void GatewayMetrics::CountStoreWriteFailure() { store_write_failures_.Increment(); }

void GatewayMetrics::SetStoreWritable(bool writable) { store_writable_.Set(writable ? 1 : 0); }

}  // namespace frontdoor::observability
