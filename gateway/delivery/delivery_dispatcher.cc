#include "gateway/delivery/delivery_dispatcher.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/threads.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

absl::Duration BackoffAfterFailures(uint32_t failures, const DeliveryPolicy& policy, double jitter) {
  if (failures == 0) return absl::ZeroDuration();
  absl::Duration delay = policy.initial_backoff;
  for (uint32_t i = 1; i < failures && delay < policy.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, policy.max_backoff);
  jitter = std::clamp(jitter, 0.5, 1.0);
  return delay * jitter;
}

DeliveryDispatcher::DeliveryDispatcher(DeliveryOutbox* store, const Clock* clock, DeliveryPolicy policy,
                                       ChannelMap channels)
    : store_(store), clock_(clock), policy_(policy) {
  for (auto& [endpoint_id, channel] : channels) {
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->endpoint_id = endpoint_id;
    endpoint->channel = std::move(channel);
    endpoint->stub = std::make_unique<grpc::GenericStub>(endpoint->channel);
    endpoint->breaker = std::make_unique<CircuitBreaker>(policy_.breaker);
    endpoints_.push_back(std::move(endpoint));
  }
}

DeliveryDispatcher::~DeliveryDispatcher() { Shutdown(); }

void DeliveryDispatcher::SetMetrics(observability::GatewayMetrics* metrics) { metrics_ = metrics; }

namespace {
using observability::Log;
using observability::LogLevel;

// ConnectorService's methods by their full names (the generic stub calls them by name; gRPC keeps
// the pointer for the call's life).
const std::string& MethodFor(OutboxKind kind) {
  static const std::string* const deliver =
      new std::string(absl::StrCat("/", frontdoor::v1::ConnectorService::service_full_name(), "/DeliverReferral"));
  static const std::string* const cease =
      new std::string(absl::StrCat("/", frontdoor::v1::ConnectorService::service_full_name(), "/CeaseProcessing"));
  return kind == OutboxKind::kDeliver ? *deliver : *cease;
}
// Has the channel try to connect now instead of at the end of gRPC's reconnect backoff, and waits
// at most `limit` for it to leave TRANSIENT_FAILURE or IDLE. A channel that failed reads
// TRANSIENT_FAILURE until it is READY again, reconnecting or not, and fails calls at once
// meanwhile; so a connector that is back is found, and one still down fails the call that follows
// with its own error (connection refused, say) rather than a deadline.
void ConnectNow(grpc::ChannelInterface& channel, absl::Duration limit) {
  if (auto* real = dynamic_cast<grpc::Channel*>(&channel)) grpc::experimental::ChannelResetConnectionBackoff(real);
  const grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_IDLE) {
    channel.WaitForStateChange(state, absl::ToChronoTime(absl::Now() + limit));
  }
}
}  // namespace

void DeliveryDispatcher::Start() {
  absl::MutexLock lock(&mu_);
  if (started_) return;
  started_ = true;
  for (auto& endpoint : endpoints_) {
    Endpoint* e = endpoint.get();
    e->worker = std::thread([this, e] { RunEndpoint(e); });
  }
}

void DeliveryDispatcher::Wake() {
  absl::MutexLock lock(&mu_);
  for (auto& endpoint : endpoints_) ++endpoint->generation;
}

void DeliveryDispatcher::Wake(const std::string& endpoint_id) {
  absl::MutexLock lock(&mu_);
  bool found = false;
  for (auto& endpoint : endpoints_) {
    if (endpoint->endpoint_id == endpoint_id) {
      ++endpoint->generation;
      found = true;
    }
  }
  if (!found) {
    for (auto& endpoint : endpoints_) ++endpoint->generation;
  }
}

void DeliveryDispatcher::Replayed() {
  absl::MutexLock lock(&mu_);
  for (auto& endpoint : endpoints_) {
    ++endpoint->generation;
    endpoint->probe_now = true;
  }
}

uint64_t DeliveryDispatcher::GenerationOf(const Endpoint* endpoint) const {
  absl::MutexLock lock(&mu_);
  return endpoint->generation;
}

void DeliveryDispatcher::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& endpoint : endpoints_) {
    if (endpoint->worker.joinable()) endpoint->worker.join();
  }
}

int64_t DeliveryDispatcher::delivered_count() const {
  absl::MutexLock lock(&mu_);
  return delivered_;
}

bool DeliveryDispatcher::SleepUntil(const Endpoint* endpoint, absl::Time deadline,
                                    std::optional<uint64_t> seen_generation) {
  absl::MutexLock lock(&mu_);
  auto woken = [this, endpoint, seen_generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || endpoint->probe_now ||
           (seen_generation.has_value() && endpoint->generation != *seen_generation);
  };
  // The deadline is on the injected clock; waiting is on the real one, bounded by idle_poll.
  const absl::Duration wait = std::clamp(deadline - clock_->Now(), absl::ZeroDuration(), policy_.idle_poll);
  mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
  return !stopping_;
}

void DeliveryDispatcher::RunEndpoint(Endpoint* endpoint) {
  NameThisThread("fd-deliver");
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  CircuitBreaker& breaker = *endpoint->breaker;
  // How many calls go out at once: doubles after each batch that all succeeded, up to batch_size,
  // and drops to one at any failure, so a failing connector sees failures one at a time and the
  // breaker opens after exactly its threshold (slow start, as TCP does).
  int window = 1;

  bool woken_from_idle = false;
  for (;;) {
    if (woken_from_idle && policy_.gather > absl::ZeroDuration()) {
      // Let the commits right behind the one that woke us land, to send and mark them together.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), policy_.gather);
    }
    woken_from_idle = false;
    uint64_t generation;
    bool probe_now;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      generation = endpoint->generation;
      probe_now = std::exchange(endpoint->probe_now, false);
    }
    const absl::Time now = clock_->Now();
    if (probe_now) breaker.EndPause(now);
    if (breaker.state(now) == CircuitBreaker::State::kOpen) {
      // The connector is unreachable: rows that waited too long become dead letters (an operator
      // replays them once it is back), and nothing is called until the breaker lets a probe through.
      absl::StatusOr<int> expired = store_->DeadLetterExpired(endpoint->endpoint_id, policy_.dead_letter, now);
      if (expired.ok() && *expired > 0) {
        Log(LogLevel::kError, "delivery_dead_letter", "endpoint unreachable: rows dead-lettered",
            {{"endpoint_id", endpoint->endpoint_id},
             {"rows", int64_t{*expired}},
             {"max_age_ms", static_cast<int64_t>(absl::ToInt64Milliseconds(policy_.dead_letter.max_age))}});
        if (metrics_ != nullptr) metrics_->CountExpiredDeadLetters(endpoint->endpoint_id, *expired);
        absl::MutexLock lock(&mu_);
        dead_lettered_ += *expired;
      }
      // Only Shutdown ends this pause early: a Wake must not turn a dead endpoint into a busy loop.
      if (!SleepUntil(endpoint, breaker.retry_at(), std::nullopt)) return;
      continue;
    }
    absl::StatusOr<std::vector<OutboxItem>> due = store_->DueDeliveries(endpoint->endpoint_id, now, window);
    if (!due.ok()) {
      Log(LogLevel::kError, "delivery", "cannot read the outbox",
          {{"endpoint_id", endpoint->endpoint_id}, {"error", std::string(due.status().message())}});
      if (!SleepUntil(endpoint, now + policy_.initial_backoff, generation)) return;
      continue;
    }

    bool failed = false;
    // Acknowledgements are marked together, one transaction per batch rather than one per call.
    std::vector<const OutboxItem*> acknowledged;
    auto mark_acknowledged = [&] {
      if (acknowledged.empty()) return;
      const absl::Time acked_at = clock_->Now();
      const absl::Status marked = store_->MarkDeliveredMany(acknowledged, acked_at);
      for (const OutboxItem* item : acknowledged) {
        const char* what = item->kind == OutboxKind::kDeliver ? "delivery" : "cease-processing";
        const char* kind = item->kind == OutboxKind::kDeliver ? "deliver" : "cease";
        if (!marked.ok()) {
          // Delivered but not marked: it will be sent again with the same idempotency key, which the
          // connector de-duplicates. Nothing is lost.
          Log(LogLevel::kError, "delivery", "delivered but not marked delivered; it will be sent again",
              {{"kind", kind},
               {"referral_id", item->referral_id},
               {"endpoint_id", endpoint->endpoint_id},
               {"error", std::string(marked.message())}});
        } else {
          Log(LogLevel::kInfo, "delivery", absl::StrCat(what, " acknowledged"),
              {{"kind", kind},
               {"outcome", "delivered"},
               {"referral_id", item->referral_id},
               {"endpoint_id", endpoint->endpoint_id},
               {"attempt", static_cast<int64_t>(item->attempts + 1)}});
        }
        if (metrics_ != nullptr) {
          const double latency =
              item->created_at.has_value() ? std::max(0.0, absl::ToDoubleSeconds(acked_at - *item->created_at)) : -1.0;
          metrics_->CountDeliveryAttempt(endpoint->endpoint_id, kind, "delivered", latency);
        }
      }
      absl::MutexLock lock(&mu_);
      delivered_ += static_cast<int64_t>(acknowledged.size());
      acknowledged.clear();
    };
    // The batch's calls go out together (rows of one referral are never in the same batch, so
    // order per referral holds) and are answered in any order; results are handled in row order.
    // Closed breaker: every row. Half-open: AllowCall lets the one probe through. Open: none.
    struct Attempt {
      const OutboxItem* item;
      grpc::ClientContext ctx;
      grpc::ByteBuffer request;  // refers to item->request, which outlives the call
      grpc::ByteBuffer reply;    // not read: the gateway acts on the status alone, as it always has
      grpc::Status status;
    };
    std::vector<std::unique_ptr<Attempt>> attempts;
    if (!due->empty() && breaker.state(clock_->Now()) == CircuitBreaker::State::kHalfOpen) {
      // The probe must try the connector now: with gRPC's own reconnect backoff (up to the
      // channel's maximum) a connector back sooner would be missed and the breaker would double
      // its pause. The breaker alone paces the tries.
      ConnectNow(*endpoint->channel, std::min(policy_.attempt_deadline, absl::Seconds(1)));
    }
    for (const OutboxItem& item : *due) {
      if (!breaker.AllowCall(clock_->Now())) break;
      auto attempt = std::make_unique<Attempt>();
      attempt->item = &item;
      attempt->ctx.set_deadline(absl::ToChronoTime(absl::Now() + policy_.attempt_deadline));
      attempts.push_back(std::move(attempt));
    }
    {
      // Shared with the callbacks, which may still be leaving the lock when the wait below ends.
      struct Outstanding {
        absl::Mutex mu;
        size_t calls ABSL_GUARDED_BY(mu) = 0;
      };
      auto outstanding = std::make_shared<Outstanding>();
      {
        absl::MutexLock lock(&outstanding->mu);
        outstanding->calls = attempts.size();
      }
      for (auto& attempt : attempts) {
        Attempt* a = attempt.get();
        auto on_done = [a, outstanding](grpc::Status status) {
          absl::MutexLock lock(&outstanding->mu);
          a->status = std::move(status);
          --outstanding->calls;
        };
        grpc::Slice bytes(a->item->request.data(), a->item->request.size(), grpc::Slice::STATIC_SLICE);
        a->request = grpc::ByteBuffer(&bytes, 1);
        endpoint->stub->UnaryCall(&a->ctx, MethodFor(a->item->kind), grpc::StubOptions(), &a->request, &a->reply,
                                  on_done);
      }
      // Every call ends by its deadline, so this wait is bounded (Shutdown waits for it too).
      absl::MutexLock lock(&outstanding->mu);
      outstanding->mu.Await(absl::Condition(
          +[](Outstanding* o) ABSL_NO_THREAD_SAFETY_ANALYSIS { return o->calls == 0; }, outstanding.get()));
    }
    for (const auto& attempt : attempts) {
      const OutboxItem& item = *attempt->item;
      const grpc::Status& status = attempt->status;
      const char* what = item.kind == OutboxKind::kDeliver ? "delivery" : "cease-processing";
      const char* kind = item.kind == OutboxKind::kDeliver ? "deliver" : "cease";
      if (status.ok()) {
        breaker.RecordSuccess();
        acknowledged.push_back(&item);
        continue;
      }
      failed = true;
      const absl::Time failed_at = clock_->Now();
      if (IsEndpointFailure(status.error_code())) breaker.RecordFailure(failed_at);
      const absl::Duration delay = BackoffAfterFailures(item.attempts + 1, policy_, jitter(rng));
      const std::string error = absl::StrCat(static_cast<int>(status.error_code()), " ", status.error_message());
      // The age limit is for rows whose endpoint stays unreachable (applied while the breaker is
      // open, above) or that the connector keeps refusing; one transport failure of an old row
      // (after a long gateway outage, say) does not kill it.
      DeadLetterLimits limits = policy_.dead_letter;
      if (IsEndpointFailure(status.error_code())) limits.max_age = absl::ZeroDuration();
      absl::StatusOr<bool> dead =
          store_->RecordFailedAttemptOrDeadLetter(item.outbox_id, failed_at + delay, error, limits, failed_at);
      const std::string code = observability::GrpcCodeName(static_cast<int>(status.error_code()));
      if (!dead.ok()) {
        Log(LogLevel::kError, "delivery", "cannot record a failed attempt",
            {{"kind", kind},
             {"referral_id", item.referral_id},
             {"endpoint_id", endpoint->endpoint_id},
             {"error", std::string(dead.status().message())}});
      } else if (*dead) {
        Log(LogLevel::kError, "delivery", absl::StrCat(what, " failed: dead letter"),
            {{"kind", kind},
             {"outcome", "dead_letter"},
             {"referral_id", item.referral_id},
             {"endpoint_id", endpoint->endpoint_id},
             {"attempt", static_cast<int64_t>(item.attempts + 1)},
             {"code", code}});
        if (metrics_ != nullptr) metrics_->CountDeliveryAttempt(endpoint->endpoint_id, kind, "dead_letter", -1);
        absl::MutexLock lock(&mu_);
        ++dead_lettered_;
      } else {
        Log(LogLevel::kWarning, "delivery", absl::StrCat(what, " failed; will retry"),
            {{"kind", kind},
             {"outcome", "failed"},
             {"referral_id", item.referral_id},
             {"endpoint_id", endpoint->endpoint_id},
             {"attempt", static_cast<int64_t>(item.attempts + 1)},
             {"code", code},
             {"retry_in_ms", static_cast<int64_t>(absl::ToInt64Milliseconds(delay))},
             {"breaker", CircuitBreakerStateName(breaker.state(failed_at))}});
        if (metrics_ != nullptr) metrics_->CountDeliveryAttempt(endpoint->endpoint_id, kind, "failed", -1);
      }
      // Every answered call is recorded, even after the breaker opened on an earlier one.
    }
    mark_acknowledged();
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }

    if (breaker.state(clock_->Now()) == CircuitBreaker::State::kOpen) continue;  // pause at the top
    const bool full = static_cast<int>(due->size()) == window;
    window = failed ? 1 : full ? std::min(window * 2, std::max(policy_.batch_size, 1)) : window;
    if (!failed && full) continue;  // more may be due now

    absl::Time next = clock_->Now() + policy_.idle_poll;
    if (absl::StatusOr<std::optional<absl::Time>> n = store_->NextDeliveryDue(endpoint->endpoint_id);
        n.ok() && n->has_value()) {
      next = std::min(next, **n);
    }
    if (!SleepUntil(endpoint, next, generation)) return;
    woken_from_idle = GenerationOf(endpoint) != generation;
  }
}

bool IsEndpointFailure(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
      return true;
    default:
      return false;
  }
}

int64_t DeliveryDispatcher::dead_lettered_count() const {
  absl::MutexLock lock(&mu_);
  return dead_lettered_;
}

}  // namespace frontdoor::gateway
