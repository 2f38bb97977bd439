// The operators' pages of the console, a thin layer over the DeliveryAdmin the gRPC AdminService
// uses too:
//
//   GET  /deliveries          each endpoint's outbox and worker, and the dead letters
//   POST /deliveries/confirm  what a replay would send again, with a button to do it
//   POST /deliveries/replay   replays it (CSRF-checked by the WebConsole), then back to the list
//
// Thread-safety: const methods; the admin must outlive the pages.
#ifndef FRONTDOOR_GATEWAY_CONSOLE_DELIVERY_PAGES_H_
#define FRONTDOOR_GATEWAY_CONSOLE_DELIVERY_PAGES_H_

#include "common/clock.h"
#include "gateway/console/console_visit.h"
#include "gateway/delivery/delivery_admin.h"

namespace frontdoor::gateway {

class DeliveryPages {
 public:
  DeliveryPages(const DeliveryAdmin* admin, const Clock* clock) : admin_(admin), clock_(clock) {}

  void List(const ConsoleVisit& visit) const;
  void Confirm(const ConsoleVisit& visit) const;
  void Replay(const ConsoleVisit& visit) const;

 private:
  // The dead letters a form selects: one outbox row (outbox_id) or one endpoint's (endpoint_id).
  absl::StatusOr<DeadLetterFilter> Selection(const FormFields& form) const;
  void Failed(const ConsoleVisit& visit, const absl::Status& status) const;

  const DeliveryAdmin* const admin_;
  const Clock* const clock_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_CONSOLE_DELIVERY_PAGES_H_
