#include "gateway/mllp/mllp_feedback_transport.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/feedback_messages.h"
#include "adapters/hl7v2_message.h"
#include "gateway/feedback/feedback_view.h"
#include "gateway/net/listen_address.h"

namespace frontdoor::gateway {

std::string MllpFeedbackEndpoint(const std::string& referrer_ods) { return "mllp:" + referrer_ods; }

absl::StatusOr<std::unique_ptr<MllpFeedbackTransport>> MllpFeedbackTransport::Create(
    MllpFeedbackTarget target, std::shared_ptr<boost::asio::ssl::context> tls, FeedbackLog* feedback) {
  const size_t colon = target.address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.address.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the MLLP destination of ", target.referrer_ods,
                                                   " must be HOST:PORT, not '", target.address, "'"));
  }
  std::string host = target.address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = target.address.substr(colon + 1);
  const std::string name = target.server_name.empty() ? host : target.server_name;
  auto client = std::make_unique<MllpClient>(host, port, std::move(tls), name);
  return std::unique_ptr<MllpFeedbackTransport>(new MllpFeedbackTransport(std::move(client), feedback));
}

std::vector<SendOutcome> MllpFeedbackTransport::SendAll(absl::Span<const OutboxItem* const> rows,
                                                        absl::Duration deadline) {
  // One after another on the one connection: an engine files messages in the order they come.
  std::vector<SendOutcome> outcomes;
  outcomes.reserve(rows.size());
  const absl::Time until = absl::Now() + deadline;
  for (const OutboxItem* row : rows) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) {
      outcomes.push_back({false, "DEADLINE_EXCEEDED", "not sent: the batch's deadline passed", true, false});
      continue;
    }
    outcomes.push_back(Send(*row, left));
  }
  return outcomes;
}

SendOutcome MllpFeedbackTransport::Send(const OutboxItem& row, absl::Duration deadline) {
  int64_t seq = 0;
  if (!absl::SimpleAtoi(row.request, &seq)) {
    return {false, "INTERNAL", "the outbox row does not name a feedback event", false, true};
  }
  absl::StatusOr<std::optional<StoredFeedback>> event = feedback_->FeedbackBySeq(seq);
  if (!event.ok()) return {false, "UNAVAILABLE", std::string(event.status().message()), false, false};
  if (!event->has_value()) return {false, "INTERNAL", "the feedback event is not in the store", false, true};
  const std::string message = adapters::RenderFeedbackHl7v2(FeedbackMessageContextFor(**event), (*event)->report);
  absl::StatusOr<std::string> ack = client_->Send(message, deadline);
  if (!ack.ok()) {
    const bool timed_out = ack.status().code() == absl::StatusCode::kDeadlineExceeded;
    return {false, timed_out ? "DEADLINE_EXCEEDED" : "UNAVAILABLE", std::string(ack.status().message()), true, false};
  }
  absl::StatusOr<adapters::Hl7Message> parsed = adapters::Hl7Message::Parse(*ack, adapters::Hl7Limits{});
  const std::optional<size_t> msa = parsed.ok() ? parsed->FindFirst("MSA") : std::nullopt;
  if (!msa.has_value()) {
    return {false, "NO_MSA", "the engine's answer is not an HL7 acknowledgment", true, false};
  }
  const std::string code = parsed->Value(*msa, 1);
  if (code == "AA" || code == "CA") return {true, code, "", false, false};
  // The engine's own words for the refusal (MSA-3, else the first ERR-8), bounded: no patient data
  // is expected there, but it is the engine's text.
  std::string why = parsed->Value(*msa, 3);
  if (const std::optional<size_t> err = parsed->FindFirst("ERR"); why.empty() && err.has_value()) {
    why = parsed->Value(*err, 8);
  }
  if (why.size() > 200) why.resize(200);
  const std::string error = absl::StrCat("the engine answered ", code, why.empty() ? "" : ": ", why);
  if (code == "AR" || code == "CR") return {false, code, error, false, /*permanent=*/true};
  return {false, code, error, code != "AE" && code != "CE", false};
}

}  // namespace frontdoor::gateway
