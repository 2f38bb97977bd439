// FeedbackLog: the connectors' progress reports on their referrals, each recorded once with a
// gateway-wide sequence number, and read back for the referrer (GetReferral's history,
// WatchFeedback's stream).
//
//   FeedbackRecordOutcome out = *log->RecordFeedback(feedback, referral, check);
//   std::vector<StoredFeedback> next = *log->FeedbackAfter("P85901", cursor, 64);
//
// Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_FEEDBACK_LOG_H_
#define FRONTDOOR_GATEWAY_STORE_FEEDBACK_LOG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "gateway/store/referral_records.h"

namespace frontdoor::gateway {

// A progress report to record, from the connector organisation `endpoint_id`.
struct NewFeedback {
  std::string endpoint_id;
  frontdoor::v1::ReportProgressRequest report;
  absl::Time recorded_at;
  // Where the referrer takes its feedback pushed (a BaRS endpoint, "bars:<ODS>"): an outbox row of
  // kind kFeedback to it is queued in the same transaction. Empty: the referrer reads or watches.
  std::string push_endpoint;
};

// A recorded feedback event with what a referrer-side rendering needs from its referral.
struct StoredFeedback {
  int64_t seq = 0;  // Gateway-wide, increasing in commit order: a reader never sees a gap close.
  std::string referral_id;
  std::string sender_ods;   // the referring organisation
  std::string endpoint_id;  // the reporting connector organisation
  std::string team_id;
  std::string message_id;  // the referrer's message id
  std::string format;      // typed | fhir | hl7v2, as the referral came in
  std::string referrer_reference;
  std::string nhs_number;  // for the referrer's own records (FHIR Task.for, HL7 PID-3)
  frontdoor::v1::ReportProgressRequest report;
  absl::Time recorded_at;
};

// Decides on a report inside the recording transaction, given the referral and its history so far
// (oldest first): nullopt to record it, the seq of an earlier event it repeats (recorded once), or
// an error (the report is not recorded and the error is returned).
struct FeedbackContext {
  const StoredReferral* referral = nullptr;
  const std::vector<StoredFeedback>* history = nullptr;
};
using FeedbackCheck = std::function<absl::StatusOr<std::optional<int64_t>>(const FeedbackContext&)>;

struct FeedbackRecordOutcome {
  bool duplicate = false;  // the same report was recorded before; `event` is that first record
  StoredFeedback event;
};

class FeedbackLog {
 public:
  virtual ~FeedbackLog() = default;

  // Records a progress report in one transaction: idempotent on (endpoint_id, idempotency_key) (a
  // resend of the same report returns the first record with `duplicate`; the same key with a
  // different report is ALREADY_EXISTS); otherwise `check` decides given `referral` (as the caller
  // read it: its routing and delivery never go back) and its feedback history, read in the same
  // transaction. Appends the report's audit record (FeedbackRecord). Returns after the commit is
  // durable.
  virtual absl::StatusOr<FeedbackRecordOutcome> RecordFeedback(const NewFeedback& feedback,
                                                               const StoredReferral& referral,
                                                               const FeedbackCheck& check) = 0;
  // The feedback event with this seq, or nullopt.
  virtual absl::StatusOr<std::optional<StoredFeedback>> FeedbackBySeq(int64_t seq) = 0;
  // Every feedback event of a referral, oldest first.
  virtual absl::StatusOr<std::vector<StoredFeedback>> FeedbackForReferral(std::string_view referral_id) = 0;
  // Up to `limit` feedback events on `sender_ods`'s referrals with seq > `after_seq`, in seq order.
  virtual absl::StatusOr<std::vector<StoredFeedback>> FeedbackAfter(std::string_view sender_ods, int64_t after_seq,
                                                                    int limit) = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_FEEDBACK_LOG_H_
