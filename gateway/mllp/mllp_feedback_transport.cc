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
  return SendOneByOne(rows, deadline, [this](const OutboxItem& row, absl::Duration left) { return Send(row, left); });
}

SendOutcome MllpFeedbackTransport::Send(const OutboxItem& row, absl::Duration deadline) {
  absl::StatusOr<StoredFeedback> event = FeedbackEventOfRow(*feedback_, row);
  if (!event.ok()) {
    // A row that names no stored event can never be sent; a store error may pass.
    const bool never = event.status().code() == absl::StatusCode::kInvalidArgument ||
                       event.status().code() == absl::StatusCode::kNotFound;
    return {false, never ? "INTERNAL" : "UNAVAILABLE", std::string(event.status().message()), false, never};
  }
  const std::string message = adapters::RenderFeedbackHl7v2(FeedbackMessageContextFor(*event), event->report);
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
