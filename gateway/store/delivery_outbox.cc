#include "gateway/store/delivery_outbox.h"

namespace frontdoor::gateway {

const char* OutboxKindName(OutboxKind kind) {
  switch (kind) {
    case OutboxKind::kCease:
      return "cease";
    case OutboxKind::kFeedback:
      return "feedback";
    default:
      return "deliver";
  }
}

std::optional<OutboxKind> OutboxKindNamed(std::string_view name) {
  if (name == "deliver") return OutboxKind::kDeliver;
  if (name == "cease") return OutboxKind::kCease;
  if (name == "feedback") return OutboxKind::kFeedback;
  return std::nullopt;
}

}  // namespace frontdoor::gateway
