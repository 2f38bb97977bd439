#include "gateway/store_rows.h"

#include "absl/strings/str_cat.h"
#include "common/time_text.h"

namespace frontdoor::gateway::store_rows {

std::string AuditTimeText(absl::Time t) { return FormatRfc3339Utc(t, 6); }

absl::StatusOr<int64_t> AuditTimeMicros(const std::string& text) {
  absl::Time t;
  if (!ParseRfc3339(text, &t)) {
    return absl::InvalidArgumentError("an audit record's time is not RFC 3339");
  }
  return ToMicros(t);
}

absl::StatusOr<frontdoor::v1::AuditRecord> ParseRecord(const std::string& blob, int64_t index,
                                                       const std::string& leaf_hash) {
  frontdoor::v1::AuditRecord r;
  if (!r.ParseFromString(blob)) return absl::DataLossError(absl::StrCat("audit record ", index, " does not parse"));
  r.set_leaf_hash_hex(leaf_hash);
  return r;
}

const char* CancelReasonText(frontdoor::v1::CancelReason reason) {
  switch (reason) {
    case frontdoor::v1::CONSENT_WITHDRAWN:
      return "consent withdrawn";
    case frontdoor::v1::ENTERED_IN_ERROR:
      return "entered in error";
    case frontdoor::v1::NO_LONGER_NEEDED:
      return "no longer needed";
    default:
      return "unspecified";
  }
}

absl::Status SetOutboxRequest(const std::string& kind, std::string payload, OutboxItem* item) {
  if (kind == "deliver") {
    item->kind = OutboxKind::kDeliver;
  } else if (kind == "cease") {
    item->kind = OutboxKind::kCease;
  } else {
    return absl::InternalError(absl::StrCat("outbox row ", item->outbox_id, " has an unknown kind '", kind, "'"));
  }
  item->request = std::move(payload);
  return absl::OkStatus();
}

}  // namespace frontdoor::gateway::store_rows
