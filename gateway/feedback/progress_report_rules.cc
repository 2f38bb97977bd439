#include "gateway/feedback/progress_report_rules.h"

#include <cmath>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "google/protobuf/util/message_differencer.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr absl::Duration kClockSkew = absl::Minutes(5);

absl::Status Invalid(const std::string& field, const std::string& rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

struct Instrument {
  const char* name;
  double min;
  double max;
  bool whole_numbers;
};

constexpr Instrument kInstruments[] = {
    {"ONS4", 0, 10, false},          {"ONS4-SATISFACTION", 0, 10, true}, {"ONS4-WORTHWHILE", 0, 10, true},
    {"ONS4-HAPPINESS", 0, 10, true}, {"ONS4-ANXIETY", 0, 10, true},      {"SWEMWBS", 7, 35, false},
    {"WEMWBS", 14, 70, true},
};

const Instrument* FindInstrument(const std::string& name) {
  for (const Instrument& i : kInstruments) {
    if (name == i.name) return &i;
  }
  return nullptr;
}

absl::Status CheckScore(const Instrument& instrument, double score, const std::string& field) {
  if (!std::isfinite(score) || score < instrument.min || score > instrument.max ||
      (instrument.whole_numbers && score != std::floor(score))) {
    return Invalid(field,
                   absl::StrCat(instrument.name, " scores are ", instrument.whole_numbers ? "whole numbers " : "",
                                instrument.min, "..", instrument.max));
  }
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& text, size_t max, const std::string& field, bool required) {
  if (required && text.empty()) return Invalid(field, "is required");
  if (text.size() > max) return Invalid(field, absl::StrCat("is longer than ", max, " characters"));
  if (FirstInvalidUtf8Offset(text).has_value()) return Invalid(field, "is not UTF-8");
  return absl::OkStatus();
}

// The step of the PRSB sequence a status stands for; DECLINED and CLOSED are handled apart.
int Step(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_RECEIVED:
      return 1;
    case v1::PROGRESS_CONTACTED:
    case v1::PROGRESS_UNABLE_TO_CONTACT:
      return 2;
    case v1::PROGRESS_FIRST_CONVERSATION_HELD:
      return 3;
    case v1::PROGRESS_CONNECTED:
      return 4;
    default:
      return 0;
  }
}

// The same report apart from its idempotency key.
bool SameReport(const v1::ReportProgressRequest& a, const v1::ReportProgressRequest& b) {
  v1::ReportProgressRequest x = a, y = b;
  x.clear_idempotency_key();
  y.clear_idempotency_key();
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

}  // namespace

absl::StatusOr<absl::Time> ParseOccurredAt(const std::string& text) {
  absl::Time t;
  std::string error;
  // RFC 3339 requires a date, a time and an offset ("2025-02-10T09:30:00Z", "...+01:00").
  if (text.size() < 20 || text.size() > 40 || text[10] != 'T' ||
      !absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return Invalid("occurred_at", "is not an RFC 3339 date-time with an offset (2025-02-10T09:30:00Z)");
  }
  return t;
}

absl::Status CheckProgressReport(const v1::ReportProgressRequest& report, absl::Time now) {
  if (report.referral_id().empty() || report.referral_id().size() > 64) {
    return Invalid("referral_id", "must be 1..64 characters");
  }
  const std::string& key = report.idempotency_key();
  if (key.empty() || key.size() > 128) return Invalid("idempotency_key", "must be 1..128 characters");
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return Invalid("idempotency_key", "must be printable ASCII without spaces");
  }
  if (report.status() == v1::PROGRESS_STATUS_UNSPECIFIED || !v1::ProgressStatus_IsValid(report.status())) {
    return Invalid("status", "must be one of the ProgressStatus values");
  }
  absl::StatusOr<absl::Time> occurred = ParseOccurredAt(report.occurred_at());
  if (!occurred.ok()) return occurred.status();
  if (*occurred > now + kClockSkew) return Invalid("occurred_at", "is in the future");

  if (report.connected_to_size() > 50) return Invalid("connected_to", "names more than 50 activities");
  for (int i = 0; i < report.connected_to_size(); ++i) {
    if (absl::Status s = CheckText(report.connected_to(i), 200, absl::StrCat("connected_to[", i, "]"), true); !s.ok()) {
      return s;
    }
  }
  if (report.status() == v1::PROGRESS_CONNECTED && report.connected_to_size() == 0) {
    return Invalid("connected_to", "CONNECTED names the activities or services the person was connected to");
  }
  const bool needs_reason = report.status() == v1::PROGRESS_DECLINED || report.status() == v1::PROGRESS_CLOSED;
  if (absl::Status s = CheckText(report.reason(), 1000, "reason", needs_reason); !s.ok()) {
    return needs_reason && report.reason().empty() ? Invalid("reason", "DECLINED and CLOSED give a reason") : s;
  }
  if (absl::Status s = CheckText(report.what_matters(), 2000, "what_matters", false); !s.ok()) return s;

  if (report.outcome_measures_size() > 10) return Invalid("outcome_measures", "has more than 10 measures");
  std::set<std::string> seen;
  for (int i = 0; i < report.outcome_measures_size(); ++i) {
    const v1::OutcomeMeasure& m = report.outcome_measures(i);
    const std::string field = absl::StrCat("outcome_measures[", i, "]");
    const Instrument* instrument = FindInstrument(m.instrument());
    if (instrument == nullptr) {
      return Invalid(field + ".instrument",
                     "is not a known instrument (ONS4, ONS4-SATISFACTION, ONS4-WORTHWHILE, ONS4-HAPPINESS, "
                     "ONS4-ANXIETY, SWEMWBS, WEMWBS)");
    }
    if (!seen.insert(m.instrument()).second) return Invalid(field + ".instrument", "is given twice");
    if (absl::Status s = CheckScore(*instrument, m.start_score(), field + ".start_score"); !s.ok()) return s;
    if (absl::Status s = CheckScore(*instrument, m.end_score(), field + ".end_score"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> CheckProgressTransition(const v1::ReportProgressRequest& report,
                                                               const StoredReferral& referral,
                                                               const std::vector<StoredFeedback>& history) {
  if (referral.decision.disposition() != v1::ACCEPTED) {
    return absl::FailedPreconditionError("that referral was not accepted; there is nothing to report on");
  }
  if (referral.delivery_state != v1::DELIVERED) {
    return absl::FailedPreconditionError(
        "that referral has not been delivered to your organisation (yet); report once you have it");
  }
  absl::StatusOr<absl::Time> occurred = ParseOccurredAt(report.occurred_at());
  if (!occurred.ok()) return occurred.status();
  if (*occurred + kClockSkew < referral.received_at) {
    return absl::FailedPreconditionError("occurred_at is before the gateway received the referral");
  }

  bool closed = false, declined = false;
  int step = 0;
  for (const StoredFeedback& earlier : history) {
    const v1::ProgressStatus s = earlier.report.status();
    if (s == v1::PROGRESS_CLOSED) {
      closed = true;
      if (SameReport(earlier.report, report)) return std::optional<int64_t>(earlier.seq);
    }
    if (s == v1::PROGRESS_DECLINED) declined = true;
    step = std::max(step, Step(s));
  }
  const v1::ProgressStatus status = report.status();
  if (closed) return absl::FailedPreconditionError("the referral is closed; nothing can be reported after CLOSED");
  if (status == v1::PROGRESS_CLOSED) return std::optional<int64_t>();
  if (declined) return absl::FailedPreconditionError("the person declined; only CLOSED may follow DECLINED");
  if (status == v1::PROGRESS_DECLINED) return std::optional<int64_t>();
  if (status == v1::PROGRESS_UNABLE_TO_CONTACT && step >= 3) {
    return absl::FailedPreconditionError("UNABLE_TO_CONTACT after a conversation was held");
  }
  if (Step(status) < step) {
    return absl::FailedPreconditionError(
        absl::StrCat(v1::ProgressStatus_Name(status), " would go back to an earlier step"));
  }
  return std::optional<int64_t>();
}

}  // namespace frontdoor::gateway
