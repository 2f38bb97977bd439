#include "gateway/feedback/feedback_view.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/feedback_messages.h"
#include "common/status_macros.h"
#include "gateway/feedback/progress_report_rules.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr char kCursorPrefix[] = "fb1.";

std::string Hl7Time(absl::Time t) { return absl::FormatTime("%Y%m%d%H%M%S+0000", t, absl::UTCTimeZone()); }

}  // namespace

std::string EncodeFeedbackCursor(int64_t seq) { return absl::StrCat(kCursorPrefix, seq); }

absl::StatusOr<int64_t> DecodeFeedbackCursor(const std::string& cursor) {
  if (cursor.empty()) return 0;
  const std::string prefix = kCursorPrefix;
  int64_t seq = 0;
  if (cursor.size() > prefix.size() + 18 || cursor.compare(0, prefix.size(), prefix) != 0 ||
      !absl::SimpleAtoi(cursor.substr(prefix.size()), &seq) || seq < 0 || cursor != EncodeFeedbackCursor(seq)) {
    return absl::InvalidArgumentError("cursor: not a cursor this gateway handed out");
  }
  return seq;
}

std::string FeedbackEventId(int64_t seq) { return absl::StrCat(seq); }

absl::StatusOr<StoredFeedback> FeedbackEventOfRow(FeedbackLog& feedback, const OutboxItem& row) {
  int64_t seq = 0;
  if (!absl::SimpleAtoi(row.request, &seq)) {
    return absl::InvalidArgumentError("the outbox row does not name a feedback event");
  }
  FRONTDOOR_ASSIGN_OR_RETURN(std::optional<StoredFeedback> event, feedback.FeedbackBySeq(seq));
  if (!event.has_value()) return absl::NotFoundError("the feedback event is not in the store");
  return *std::move(event);
}

adapters::FeedbackMessageContext FeedbackMessageContextFor(const StoredFeedback& stored) {
  adapters::FeedbackMessageContext context;
  context.event_id = FeedbackEventId(stored.seq);
  context.referral_id = stored.referral_id;
  context.referrer_ods = stored.sender_ods;
  context.referrer_reference = stored.referrer_reference;
  context.referrer_message_id = stored.message_id;
  context.nhs_number = stored.nhs_number;
  context.team_id = stored.team_id;
  absl::StatusOr<absl::Time> occurred = ParseOccurredAt(stored.report.occurred_at());
  context.occurred_at_hl7 = Hl7Time(occurred.ok() ? *occurred : stored.recorded_at);
  context.message_time_hl7 = Hl7Time(stored.recorded_at);  // the same on every rendering
  return context;
}

v1::FeedbackEvent FeedbackEventFor(const StoredFeedback& stored) {
  const v1::ReportProgressRequest& report = stored.report;
  v1::FeedbackEvent event;
  event.set_cursor(EncodeFeedbackCursor(stored.seq));
  event.set_referral_id(stored.referral_id);
  event.set_message_id(stored.message_id);
  event.set_status(report.status());
  event.set_occurred_at(report.occurred_at());
  event.set_team_id(stored.team_id);
  *event.mutable_connected_to() = report.connected_to();
  event.set_reason(report.reason());
  *event.mutable_outcome_measures() = report.outcome_measures();

  if (stored.format == "fhir" || stored.format == "hl7v2") {
    const adapters::FeedbackMessageContext context = FeedbackMessageContextFor(stored);
    if (stored.format == "fhir") {
      event.set_fhir_task_json(adapters::RenderFeedbackTask(context, report));
    } else {
      event.set_hl7v2(adapters::RenderFeedbackHl7v2(context, report));
    }
  }
  return event;
}

}  // namespace frontdoor::gateway
