// DeliveryAdmin: what an operator may do about deliveries, whichever door they come through (the
// gRPC AdminService, the web console): see each endpoint's outbox and worker, list dead letters,
// replay them. Every operation first asks the Authorizer whether the caller may operate.
//
//   DeliveryAdmin admin({&authorizer, store, store, &dispatcher, &work, &clock});
//   admin.Replay(caller, DeadLetterFilter{.endpoint_id = "ageuk-oldham"}, [](absl::StatusOr<int> n) {...});
//
// Store work runs on the StoreWorkQueue; each `done` is called exactly once, on a store work
// thread, or at once on the calling thread when the caller is refused.
// Thread-safety: all methods may be called concurrently; deps must outlive the admin.
#ifndef FRONTDOOR_GATEWAY_DELIVERY_DELIVERY_ADMIN_H_
#define FRONTDOOR_GATEWAY_DELIVERY_DELIVERY_ADMIN_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "gateway/delivery/delivery_dispatcher.h"
#include "gateway/security/authorization.h"
#include "gateway/store/dead_letters.h"
#include "gateway/store/delivery_outbox.h"
#include "gateway/store/store_work_queue.h"

namespace frontdoor::gateway {

struct DeliveryAdminDeps {
  const Authorizer* authorizer = nullptr;
  DeadLetters* dead_letters = nullptr;
  DeliveryOutbox* outbox = nullptr;
  const DeliveryDispatcher* dispatcher = nullptr;  // null: no worker activity to show
  StoreWorkQueue* work = nullptr;
  const Clock* clock = nullptr;
  // Runs after a replay made rows pending again (the dispatcher's Replayed).
  std::function<void()> on_replayed;
};

// One endpoint as an operator sees it: its outbox (from the store, so every replica's rows) and
// its worker (this gateway's).
struct EndpointOverview {
  std::string endpoint_id;
  int64_t pending = 0;
  int64_t dead = 0;
  std::optional<absl::Time> oldest_pending;
  EndpointActivity activity;
};

inline constexpr int kMaxDeadLettersListed = 1000;

class DeliveryAdmin {
 public:
  template <typename T>
  using Done = std::function<void(absl::StatusOr<T>)>;

  explicit DeliveryAdmin(DeliveryAdminDeps deps);

  // May `caller` operate? PERMISSION_DENIED otherwise.
  absl::Status MayOperate(const Caller& caller) const;
  // Every endpoint the dispatcher serves or the outbox holds rows for, in endpoint_id order.
  void Endpoints(const Caller& caller, Done<std::vector<EndpointOverview>> done) const;
  // Dead letters matching `filter`, oldest first, at most `limit` (capped at kMaxDeadLettersListed).
  void ListDeadLetters(const Caller& caller, DeadLetterFilter filter, int limit,
                       Done<std::vector<DeadLetterRow>> done) const;
  // Makes the dead letters `filter` selects pending again; answers how many. INVALID_ARGUMENT for
  // a filter that selects nothing in particular unless `all` says so.
  void Replay(const Caller& caller, DeadLetterFilter filter, bool all, Done<int> done) const;

 private:
  const DeliveryAdminDeps deps_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_DELIVERY_DELIVERY_ADMIN_H_
