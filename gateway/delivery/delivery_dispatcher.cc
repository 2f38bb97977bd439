#include "gateway/delivery/delivery_dispatcher.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/threads.h"
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
                                       TransportMap transports)
    : store_(store), clock_(clock), policy_(policy) {
  for (auto& [endpoint_id, transport] : transports) {
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->endpoint_id = endpoint_id;
    endpoint->transport = std::move(transport);
    endpoint->breaker = std::make_unique<CircuitBreaker>(policy_.breaker);
    endpoints_.push_back(std::move(endpoint));
  }
}

DeliveryDispatcher::~DeliveryDispatcher() { Shutdown(); }

void DeliveryDispatcher::SetStoreWritableObserver(std::function<void(bool)> observer) {
  store_writable_observer_ = std::move(observer);
}

void DeliveryDispatcher::SetMetrics(observability::GatewayMetrics* metrics) { metrics_ = metrics; }

namespace {

// A row's kind in words, for log lines.
const char* WhatIsSent(OutboxKind kind) {
  switch (kind) {
    case OutboxKind::kCease:
      return "cease-processing";
    case OutboxKind::kFeedback:
      return "feedback push";
    default:
      return "delivery";
  }
}
using observability::Log;
using observability::LogLevel;

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
  // and drops to one at any failure, so a failing endpoint sees failures one at a time and the
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
    // What the endpoint acknowledged is recorded before anything more is sent.
    if (absl::Status marked = MarkUnmarked(*endpoint); !marked.ok()) {
      if (!SleepUntil(endpoint, clock_->Now() + StoreWriteFailed(*endpoint, marked, jitter(rng)), std::nullopt)) {
        return;
      }
      continue;
    }
    const absl::Time now = clock_->Now();
    if (probe_now) {
      // An operator replayed: the endpoint is back, they say. The transport tries it now rather
      // than at the end of its own reconnect backoff, or the replayed rows would fail at once.
      breaker.EndPause(now);
      endpoint->transport->ConnectNow(std::min(policy_.attempt_deadline, absl::Seconds(1)));
    }
    if (breaker.state(now) == CircuitBreaker::State::kOpen) {
      DeadLetterExpired(*endpoint, now);
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
    absl::Status store_error;
    std::vector<const OutboxItem*> acknowledged;
    // Every answered call is recorded, even after the breaker opened on an earlier one.
    for (const auto& [row, outcome] : SendAllowed(*endpoint, *due)) {
      if (outcome.delivered) {
        acknowledged.push_back(row);
        continue;
      }
      failed = true;
      if (absl::Status s = RecordFailure(*endpoint, *row, outcome, jitter(rng)); !s.ok()) store_error = s;
    }
    if (absl::Status s = MarkAcknowledged(*endpoint, acknowledged); !s.ok()) store_error = s;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (!store_error.ok()) {
      // The store cannot write: pause this endpoint (no calls) rather than resend at once what it
      // could not record. Rows whose failure went unrecorded are due again after the pause.
      if (!SleepUntil(endpoint, clock_->Now() + StoreWriteFailed(*endpoint, store_error, jitter(rng)), std::nullopt)) {
        return;
      }
      continue;
    }
    if (endpoint->store_failures > 0 && (!acknowledged.empty() || failed)) StoreWritable(*endpoint);
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

void DeliveryDispatcher::DeadLetterExpired(const Endpoint& endpoint, absl::Time now) {
  // The endpoint is unreachable: rows that waited too long become dead letters (an operator
  // replays them once it is back), and nothing is called until the breaker lets a probe through.
  absl::StatusOr<int> expired = store_->DeadLetterExpired(endpoint.endpoint_id, policy_.dead_letter, now);
  if (!expired.ok() || *expired == 0) return;
  Log(LogLevel::kError, "delivery_dead_letter", "endpoint unreachable: rows dead-lettered",
      {{"endpoint_id", endpoint.endpoint_id},
       {"rows", int64_t{*expired}},
       {"max_age_ms", static_cast<int64_t>(absl::ToInt64Milliseconds(policy_.dead_letter.max_age))}});
  if (metrics_ != nullptr) metrics_->CountExpiredDeadLetters(endpoint.endpoint_id, *expired);
  absl::MutexLock lock(&mu_);
  dead_lettered_ += *expired;
}

std::vector<std::pair<const OutboxItem*, SendOutcome>> DeliveryDispatcher::SendAllowed(
    Endpoint& endpoint, const std::vector<OutboxItem>& due) {
  CircuitBreaker& breaker = *endpoint.breaker;
  if (!due.empty() && breaker.state(clock_->Now()) == CircuitBreaker::State::kHalfOpen) {
    // The probe must try the endpoint now: with a transport's own reconnect backoff an endpoint
    // back sooner would be missed and the breaker would double its pause. The breaker alone paces
    // the tries.
    endpoint.transport->ConnectNow(std::min(policy_.attempt_deadline, absl::Seconds(1)));
  }
  // Closed breaker: every row (rows of one referral are never in the same batch, so order per
  // referral holds). Half-open: AllowCall lets the one probe through. Open: none.
  std::vector<const OutboxItem*> rows;
  for (const OutboxItem& item : due) {
    if (!breaker.AllowCall(clock_->Now())) break;
    rows.push_back(&item);
  }
  std::vector<SendOutcome> outcomes = endpoint.transport->SendAll(rows, policy_.attempt_deadline);
  std::vector<std::pair<const OutboxItem*, SendOutcome>> sent;
  sent.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    SendOutcome& outcome = outcomes[i];
    if (outcome.delivered) {
      breaker.RecordSuccess();
    } else if (outcome.endpoint_failure) {
      breaker.RecordFailure(clock_->Now());
    }
    sent.emplace_back(rows[i], std::move(outcome));
  }
  if (!sent.empty()) Publish(endpoint, sent);
  return sent;
}

void DeliveryDispatcher::Publish(Endpoint& endpoint,
                                 const std::vector<std::pair<const OutboxItem*, SendOutcome>>& sent) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  EndpointActivity& a = endpoint.activity;
  a.breaker = endpoint.breaker->state(now);
  a.breaker_retry_at = endpoint.breaker->retry_at();
  for (const auto& [row, outcome] : sent) {
    if (outcome.delivered) {
      a.last_success = now;
    } else {
      a.last_failure = now;
      a.last_error = outcome.error;
    }
  }
}

std::vector<EndpointActivity> DeliveryDispatcher::Activity() const {
  std::vector<EndpointActivity> out;
  absl::MutexLock lock(&mu_);
  for (const auto& endpoint : endpoints_) {
    out.push_back(endpoint->activity);
    out.back().endpoint_id = endpoint->endpoint_id;
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.endpoint_id < b.endpoint_id; });
  return out;
}

absl::Status DeliveryDispatcher::RecordFailure(Endpoint& endpoint, const OutboxItem& row, const SendOutcome& outcome,
                                               double jitter) {
  const char* what = WhatIsSent(row.kind);
  const char* kind = OutboxKindName(row.kind);
  const absl::Time failed_at = clock_->Now();
  const absl::Duration delay = BackoffAfterFailures(row.attempts + 1, policy_, jitter);
  // The age limit is for rows whose endpoint stays unreachable (applied while the breaker is open)
  // or that the endpoint keeps refusing; one transport failure of an old row (after a long gateway
  // outage, say) does not kill it. A row refused for good is a dead letter at once.
  DeadLetterLimits limits = policy_.dead_letter;
  if (outcome.endpoint_failure) limits.max_age = absl::ZeroDuration();
  if (outcome.permanent) limits = DeadLetterLimits{/*max_attempts=*/1, absl::ZeroDuration()};
  absl::StatusOr<bool> dead =
      store_->RecordFailedAttemptOrDeadLetter(row.outbox_id, failed_at + delay, outcome.error, limits, failed_at);
  if (!dead.ok()) return dead.status();  // the worker pauses and logs (StoreWriteFailed)
  if (*dead) {
    Log(LogLevel::kError, "delivery", absl::StrCat(what, " failed: dead letter"),
        {{"kind", kind},
         {"outcome", "dead_letter"},
         {"referral_id", row.referral_id},
         {"endpoint_id", endpoint.endpoint_id},
         {"attempt", static_cast<int64_t>(row.attempts + 1)},
         {"code", outcome.code}});
    if (metrics_ != nullptr) metrics_->CountDeliveryAttempt(endpoint.endpoint_id, kind, "dead_letter", -1);
    absl::MutexLock lock(&mu_);
    ++dead_lettered_;
  } else {
    Log(LogLevel::kWarning, "delivery", absl::StrCat(what, " failed; will retry"),
        {{"kind", kind},
         {"outcome", "failed"},
         {"referral_id", row.referral_id},
         {"endpoint_id", endpoint.endpoint_id},
         {"attempt", static_cast<int64_t>(row.attempts + 1)},
         {"code", outcome.code},
         {"retry_in_ms", static_cast<int64_t>(absl::ToInt64Milliseconds(delay))},
         {"breaker", CircuitBreakerStateName(endpoint.breaker->state(failed_at))}});
    if (metrics_ != nullptr) metrics_->CountDeliveryAttempt(endpoint.endpoint_id, kind, "failed", -1);
  }
  return absl::OkStatus();
}

absl::Status DeliveryDispatcher::MarkAcknowledged(Endpoint& endpoint, const std::vector<const OutboxItem*>& rows) {
  if (rows.empty()) return absl::OkStatus();
  const absl::Time acked_at = clock_->Now();
  if (absl::Status marked = store_->MarkDeliveredMany(rows, acked_at); !marked.ok()) {
    // Delivered but not recorded: kept to be marked again, never sent again meanwhile (the
    // endpoint has them; a resend would be de-duplicated, but a store that cannot write would make
    // it a storm). Lost only if the gateway stops first: then they go again after the restart,
    // with the same idempotency keys.
    for (const OutboxItem* row : rows) {
      if (std::none_of(endpoint.unmarked.begin(), endpoint.unmarked.end(),
                       [&](const OutboxItem& kept) { return kept.outbox_id == row->outbox_id; })) {
        endpoint.unmarked.push_back(*row);
      }
    }
    return marked;
  }
  for (const OutboxItem* item : rows) {
    Log(LogLevel::kInfo, "delivery", absl::StrCat(WhatIsSent(item->kind), " acknowledged"),
        {{"kind", OutboxKindName(item->kind)},
         {"outcome", "delivered"},
         {"referral_id", item->referral_id},
         {"endpoint_id", endpoint.endpoint_id},
         {"attempt", static_cast<int64_t>(item->attempts + 1)}});
    if (metrics_ != nullptr) {
      const double latency =
          item->created_at.has_value() ? std::max(0.0, absl::ToDoubleSeconds(acked_at - *item->created_at)) : -1.0;
      metrics_->CountDeliveryAttempt(endpoint.endpoint_id, OutboxKindName(item->kind), "delivered", latency);
    }
  }
  absl::MutexLock lock(&mu_);
  delivered_ += static_cast<int64_t>(rows.size());
  return absl::OkStatus();
}

absl::Status DeliveryDispatcher::MarkUnmarked(Endpoint& endpoint) {
  if (endpoint.unmarked.empty()) return absl::OkStatus();
  std::vector<OutboxItem> kept = std::move(endpoint.unmarked);
  endpoint.unmarked.clear();
  std::vector<const OutboxItem*> rows;
  for (const OutboxItem& row : kept) rows.push_back(&row);
  absl::Status marked = MarkAcknowledged(endpoint, rows);  // keeps them again when it fails
  return marked;
}

absl::Duration DeliveryDispatcher::StoreWriteFailed(Endpoint& endpoint, const absl::Status& error, double jitter) {
  ++endpoint.store_failures;
  const absl::Duration pause = BackoffAfterFailures(endpoint.store_failures, policy_, jitter);
  if (metrics_ != nullptr) metrics_->CountStoreWriteFailure();
  bool became_unwritable = false;
  int64_t unlogged = 0;
  bool log = false;
  {
    absl::MutexLock lock(&mu_);
    became_unwritable = std::exchange(store_writable_, false);
    const absl::Time now = clock_->Now();
    if (now - store_failure_logged_ >= absl::Minutes(1)) {
      log = true;
      unlogged = std::exchange(store_failures_unlogged_, 0);
      store_failure_logged_ = now;
    } else {
      ++store_failures_unlogged_;
    }
  }
  if (became_unwritable) {
    if (metrics_ != nullptr) metrics_->SetStoreWritable(false);
    if (store_writable_observer_) store_writable_observer_(false);
  }
  if (log) {
    Log(LogLevel::kError, "delivery",
        "the store cannot record deliveries: pausing calls until it can (acknowledged rows are kept to be "
        "recorded, not sent again)",
        {{"endpoint_id", endpoint.endpoint_id},
         {"error", std::string(error.message())},
         {"failures_since_last_line", unlogged},
         {"pause_ms", static_cast<int64_t>(absl::ToInt64Milliseconds(pause))}});
  }
  return pause;
}

void DeliveryDispatcher::StoreWritable(Endpoint& endpoint) {
  endpoint.store_failures = 0;
  bool recovered = false;
  {
    absl::MutexLock lock(&mu_);
    recovered = !std::exchange(store_writable_, true);
    store_failure_logged_ = absl::InfinitePast();
    store_failures_unlogged_ = 0;
  }
  if (!recovered) return;
  Log(LogLevel::kInfo, "delivery", "the store records deliveries again", {{"endpoint_id", endpoint.endpoint_id}});
  if (metrics_ != nullptr) metrics_->SetStoreWritable(true);
  if (store_writable_observer_) store_writable_observer_(true);
}

int64_t DeliveryDispatcher::dead_lettered_count() const {
  absl::MutexLock lock(&mu_);
  return dead_lettered_;
}

}  // namespace frontdoor::gateway
