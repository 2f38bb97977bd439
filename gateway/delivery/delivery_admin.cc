#include "gateway/delivery/delivery_admin.h"

#include <algorithm>
#include <map>
#include <utility>

#include "observability/structured_log.h"

namespace frontdoor::gateway {

DeliveryAdmin::DeliveryAdmin(DeliveryAdminDeps deps) : deps_(std::move(deps)) {}

absl::Status DeliveryAdmin::MayOperate(const Caller& caller) const { return deps_.authorizer->MayOperate(caller); }

void DeliveryAdmin::Endpoints(const Caller& caller, Done<std::vector<EndpointOverview>> done) const {
  if (absl::Status s = MayOperate(caller); !s.ok()) return done(s);
  deps_.work->Post([this, done = std::move(done)](absl::Status ready) {
    if (!ready.ok()) return done(ready);
    absl::StatusOr<std::vector<OutboxDepth>> depths = deps_.outbox->OutboxDepths();
    if (!depths.ok()) return done(depths.status());
    std::map<std::string, EndpointOverview> by_id;
    if (deps_.dispatcher != nullptr) {
      for (EndpointActivity& a : deps_.dispatcher->Activity()) {
        EndpointOverview& o = by_id[a.endpoint_id];
        o.endpoint_id = a.endpoint_id;
        o.activity = std::move(a);
      }
    }
    for (const OutboxDepth& d : *depths) {
      EndpointOverview& o = by_id[d.endpoint_id];
      o.endpoint_id = d.endpoint_id;
      o.activity.endpoint_id = d.endpoint_id;
      o.pending = d.pending;
      o.dead = d.dead;
      o.oldest_pending = d.oldest_pending;
    }
    std::vector<EndpointOverview> out;
    out.reserve(by_id.size());
    for (auto& [id, overview] : by_id) out.push_back(std::move(overview));
    done(std::move(out));
  });
}

void DeliveryAdmin::ListDeadLetters(const Caller& caller, DeadLetterFilter filter, int limit,
                                    Done<std::vector<DeadLetterRow>> done) const {
  if (absl::Status s = MayOperate(caller); !s.ok()) return done(s);
  if (filter.referral_id.size() > 64 || filter.endpoint_id.size() > 64) {
    return done(absl::InvalidArgumentError("referral_id and endpoint_id are at most 64 characters"));
  }
  limit = limit <= 0 ? kMaxDeadLettersListed : std::min(limit, kMaxDeadLettersListed);
  deps_.work->Post([this, filter = std::move(filter), limit, done = std::move(done)](absl::Status ready) {
    if (!ready.ok()) return done(ready);
    done(deps_.dead_letters->ListDeadLetters(filter, limit));
  });
}

void DeliveryAdmin::Replay(const Caller& caller, DeadLetterFilter filter, bool all, Done<int> done) const {
  if (absl::Status s = MayOperate(caller); !s.ok()) return done(s);
  const bool selects = !filter.outbox_ids.empty() || !filter.referral_id.empty() || !filter.endpoint_id.empty();
  if (selects == all) {
    return done(absl::InvalidArgumentError("give exactly one of outbox ids, a referral id, an endpoint id or all"));
  }
  deps_.work->Post(
      [this, identity = caller.identity, filter = std::move(filter), done = std::move(done)](absl::Status ready) {
        if (!ready.ok()) return done(ready);
        absl::StatusOr<int> replayed = deps_.dead_letters->ReplayDeadLetters(filter, deps_.clock->Now());
        if (replayed.ok()) {
          observability::Log(observability::LogLevel::kInfo, "admin_replay", "dead letters replayed",
                             {{"rows", *replayed}, {"operator", identity}});
          if (*replayed > 0 && deps_.on_replayed) deps_.on_replayed();
        }
        done(replayed);
      });
}

}  // namespace frontdoor::gateway
