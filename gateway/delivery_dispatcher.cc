#include "gateway/delivery_dispatcher.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"

namespace frontdoor::gateway {

absl::Duration BackoffAfterFailures(uint32_t failures, const DeliveryPolicy& policy, double jitter) {
  if (failures == 0) return absl::ZeroDuration();
  absl::Duration delay = policy.initial_backoff;
  for (uint32_t i = 1; i < failures && delay < policy.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, policy.max_backoff);
  jitter = std::clamp(jitter, 0.5, 1.0);
  return delay * jitter;
}

DeliveryDispatcher::DeliveryDispatcher(ReferralStore* store, const Clock* clock, DeliveryPolicy policy,
                                       StubMap stubs)
    : store_(store), clock_(clock), policy_(policy) {
  for (auto& [endpoint_id, stub] : stubs) {
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->endpoint_id = endpoint_id;
    endpoint->stub = std::move(stub);
    endpoints_.push_back(std::move(endpoint));
  }
}

DeliveryDispatcher::~DeliveryDispatcher() { Shutdown(); }

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
  ++generation_;
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

bool DeliveryDispatcher::SleepUntil(absl::Time deadline, std::optional<uint64_t> seen_generation) {
  absl::MutexLock lock(&mu_);
  auto woken = [this, seen_generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (seen_generation.has_value() && generation_ != *seen_generation);
  };
  // The deadline is on the injected clock; waiting is on the real one, bounded by idle_poll.
  const absl::Duration wait = std::clamp(deadline - clock_->Now(), absl::ZeroDuration(), policy_.idle_poll);
  mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
  return !stopping_;
}

void DeliveryDispatcher::RunEndpoint(Endpoint* endpoint) {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  uint32_t consecutive_failures = 0;

  for (;;) {
    uint64_t generation;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      generation = generation_;
    }
    const absl::Time now = clock_->Now();
    absl::StatusOr<std::vector<OutboxItem>> due =
        store_->DueDeliveries(endpoint->endpoint_id, now, policy_.batch_size);
    if (!due.ok()) {
      std::fprintf(stderr, "delivery: endpoint=%s cannot read outbox: %s\n", endpoint->endpoint_id.c_str(),
                   std::string(due.status().message()).c_str());
      if (!SleepUntil(now + policy_.initial_backoff, generation)) return;
      continue;
    }

    bool failed = false;
    for (const OutboxItem& item : *due) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
      }
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + policy_.attempt_deadline));
      grpc::Status status;
      if (item.kind == OutboxKind::kDeliver) {
        frontdoor::v1::DeliverReferralResponse reply;
        status = endpoint->stub->DeliverReferral(&ctx, item.deliver, &reply);
      } else {
        frontdoor::v1::CeaseProcessingResponse reply;
        status = endpoint->stub->CeaseProcessing(&ctx, item.cease, &reply);
      }
      const char* what = item.kind == OutboxKind::kDeliver ? "delivery" : "cease-processing";
      if (status.ok()) {
        consecutive_failures = 0;
        if (absl::Status s = store_->MarkDelivered(item.outbox_id, clock_->Now()); !s.ok()) {
          // Delivered but not marked: it will be sent again with the same idempotency key, which the
          // connector de-duplicates. Nothing is lost.
          std::fprintf(stderr, "delivery: referral=%s delivered but not marked: %s\n", item.referral_id.c_str(),
                       std::string(s.message()).c_str());
        } else {
          std::fprintf(stderr, "delivery: %s of referral=%s acknowledged by endpoint=%s (attempt %u)\n", what,
                       item.referral_id.c_str(), endpoint->endpoint_id.c_str(), item.attempts + 1);
        }
        absl::MutexLock lock(&mu_);
        ++delivered_;
        continue;
      }
      ++consecutive_failures;
      const absl::Duration delay = BackoffAfterFailures(item.attempts + 1, policy_, jitter(rng));
      const std::string error = absl::StrCat(static_cast<int>(status.error_code()), " ", status.error_message());
      if (absl::Status s = store_->RecordFailedAttempt(item.outbox_id, clock_->Now() + delay, error); !s.ok()) {
        std::fprintf(stderr, "delivery: cannot record failed attempt: %s\n", std::string(s.message()).c_str());
      }
      std::fprintf(stderr, "delivery: %s of referral=%s to endpoint=%s failed (attempt %u, code %d); retry in %lldms\n",
                   what, item.referral_id.c_str(), endpoint->endpoint_id.c_str(), item.attempts + 1,
                   static_cast<int>(status.error_code()),
                   static_cast<long long>(absl::ToInt64Milliseconds(delay)));
      failed = true;
      break;  // The endpoint is likely down: back off the whole endpoint, keep the order.
    }

    if (failed) {
      const absl::Duration pause = BackoffAfterFailures(consecutive_failures, policy_, jitter(rng));
      // Only Shutdown ends this pause early: a Wake must not turn a dead endpoint into a busy loop.
      if (!SleepUntil(clock_->Now() + pause, std::nullopt)) return;
      continue;
    }
    if (static_cast<int>(due->size()) == policy_.batch_size) continue;  // more may be due right now

    absl::Time next = clock_->Now() + policy_.idle_poll;
    if (absl::StatusOr<std::optional<absl::Time>> n = store_->NextDeliveryDue(endpoint->endpoint_id);
        n.ok() && n->has_value()) {
      next = std::min(next, **n);
    }
    if (!SleepUntil(next, generation)) return;
  }
}

}  // namespace frontdoor::gateway
