// GatewayMetrics: the gateway's Prometheus metrics (docs/METRICS.md lists them), on a registry
// passed in, so that tests read exactly what a scrape would. Label values are bounded by
// construction: dispositions, IG and validation rule codes, borough names from the network data,
// message formats, team and endpoint ids, gRPC method names and status codes, HTTP route templates
// and status codes. Never patient data,
// never message or referral ids.
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   GatewayMetrics metrics(registry, [&store] { return depths_from(store); });
//   metrics.CountReferral({"ACCEPTED", "", "oldham", "fhir"});
//   prometheus::Exposer exposer("127.0.0.1:9464");
//   exposer.RegisterCollectable(registry);
//   exposer.RegisterCollectable(metrics.outbox_collectable());
//
// Thread-safety: every method may be called from any thread (prometheus-cpp metrics are atomic).
#ifndef FRONTDOOR_OBSERVABILITY_GATEWAY_METRICS_H_
#define FRONTDOOR_OBSERVABILITY_GATEWAY_METRICS_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace frontdoor::observability {

// One endpoint's outbox, as ReferralStore::OutboxDepths reports it.
struct OutboxDepthSample {
  std::string endpoint_id;
  int64_t pending = 0;
  int64_t dead = 0;
};
// Read at scrape time; an error leaves the gauges out of that scrape (and counts the failure).
using OutboxDepthSource = std::function<absl::StatusOr<std::vector<OutboxDepthSample>>()>;

struct ReferralLabels {
  std::string disposition;  // ACCEPTED | REJECTED | REFUSED | DUPLICATE
  std::string rule;         // the first error issue's code (IG-1, OUT_OF_AREA, MISSING_ELEMENT); "" none
  std::string borough;      // oldham | tameside | ""  (unknown)
  std::string format;       // typed | fhir | hl7v2
};

class GatewayMetrics {
 public:
  // `outbox` may be empty (no outbox gauges).
  GatewayMetrics(std::shared_ptr<prometheus::Registry> registry, OutboxDepthSource outbox);
  ~GatewayMetrics();

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }
  // The outbox gauges, computed at each scrape; register it with the Exposer beside registry().
  std::shared_ptr<prometheus::Collectable> outbox_collectable() const;

  // One submitted referral's outcome. `all_rules`: every error code (each counted in
  // frontdoor_referral_rules_total).
  void CountReferral(const ReferralLabels& labels, const std::vector<std::string>& all_rules);
  // An accepted referral's route.
  void CountRouting(const std::string& team_id, const std::string& borough, bool front_door);
  // Every route the network has, at zero (routed per team and borough, front-door fallbacks per
  // borough), so that dashboards and the alerts of docs/METRICS.md have data from the first scrape.
  void DeclareRoutes(const std::vector<std::pair<std::string, std::string>>& team_boroughs);
  // One delivery attempt. outcome: delivered | failed | dead_letter. `commit_to_ack_seconds` is
  // observed for acknowledged deliveries when known (< 0: unknown).
  void CountDeliveryAttempt(const std::string& endpoint_id, const std::string& kind, const std::string& outcome,
                            double commit_to_ack_seconds);
  // Rows dead-lettered because their endpoint stayed unreachable.
  void CountExpiredDeadLetters(const std::string& endpoint_id, int64_t rows);
  // A feedback event written to a referrer's live WatchFeedback stream, `seconds` after the
  // connector's report was recorded.
  void ObserveFeedbackLag(double seconds);
  // One group commit of submitted referrals: how many it held, how long the oldest of them waited
  // for the writer (from its hand-over to the transaction's start), and the transaction itself
  // (BEGIN to the durable COMMIT). Referrers' answers wait for both.
  void ObserveGroupCommit(size_t referrals, double oldest_wait_seconds, double commit_seconds);
  // Submissions held by the group commit now (waiting for it or in it).
  void SetCommitQueue(size_t referrals);
  // One submission refused because the group commit already held its maximum.
  void CountCommitQueueFull();
  // One finished gRPC call: `method` is the full name (/frontdoor.v1.ReferralService/SubmitReferral).
  void ObserveGrpcCall(const std::string& method, const std::string& code, double seconds);
  // One answered HTTP request. `door`: fhir | console; `route`: the route's template
  // (`ServiceRequest/{id}`, never an id); `status`: the HTTP status.
  void ObserveHttpRequest(const std::string& door, const std::string& route, int status, double seconds);
  // One message answered on the MLLP door: MSA-1 of its answer (AA, AE, AR, CA, CE, CR).
  void ObserveMllpMessage(const std::string& ack_code, double seconds);
  // Something on an MLLP connection that was not a frame (its kind), or a frame not finished in time.
  void CountMllpBadFrame(const std::string& kind);
  // MLLP connections opened (+1) or closed (-1).
  void AddMllpConnections(int delta);
  // A write the store refused (a full disk, a read-only or damaged file), and whether it takes
  // writes now.
  void CountStoreWriteFailure();
  void SetStoreWritable(bool writable);

 private:
  class OutboxCollectable;
  // Method names are capped: past kMaxMethods distinct names, the rest are "other".
  std::string BoundedMethod(const std::string& method);
  // `family`'s metric for these label values (bounded, so never containing '|'), looked up in
  // the family once and then kept: Family::Add builds a map of the labels, hashes it and searches
  // the family under its lock, about 3,000 instructions, and every referral made seven such calls.
  // Pointers stay valid: nothing is ever removed from these families.
  struct Handles;
  using LabelValues = std::initializer_list<std::pair<const char*, const std::string*>>;
  prometheus::Counter& Labelled(prometheus::Family<prometheus::Counter>& family, LabelValues labels);
  prometheus::Histogram& Labelled(prometheus::Family<prometheus::Histogram>& family, LabelValues labels,
                                  const prometheus::Histogram::BucketBoundaries& buckets);

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<OutboxCollectable> outbox_;
  prometheus::Family<prometheus::Counter>& referrals_;
  prometheus::Family<prometheus::Counter>& referral_rules_;
  prometheus::Family<prometheus::Counter>& routed_;
  prometheus::Family<prometheus::Counter>& front_door_;
  prometheus::Family<prometheus::Counter>& delivery_attempts_;
  prometheus::Family<prometheus::Histogram>& delivery_latency_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Histogram& feedback_lag_;
  prometheus::Histogram& commit_batch_;
  prometheus::Histogram& commit_wait_;
  prometheus::Histogram& commit_;
  prometheus::Gauge& commit_queue_;
  prometheus::Counter& commit_queue_full_;
  prometheus::Family<prometheus::Counter>& grpc_handled_;
  prometheus::Family<prometheus::Histogram>& grpc_latency_;
  prometheus::Family<prometheus::Counter>& http_handled_;
  prometheus::Family<prometheus::Histogram>& http_latency_;
  prometheus::Family<prometheus::Counter>& mllp_messages_;
  prometheus::Family<prometheus::Histogram>& mllp_latency_;
  prometheus::Family<prometheus::Counter>& mllp_bad_frames_;
  prometheus::Gauge& mllp_connections_;
  prometheus::Counter& store_write_failures_;
  prometheus::Gauge& store_writable_;
  absl::Mutex mu_;
  std::set<std::string> methods_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Handles> handles_;
};

// The code's name as Prometheus and grpc-go spell it (OK, INVALID_ARGUMENT, ...).
std::string GrpcCodeName(int code);

}  // namespace frontdoor::observability

#endif  // FRONTDOOR_OBSERVABILITY_GATEWAY_METRICS_H_
