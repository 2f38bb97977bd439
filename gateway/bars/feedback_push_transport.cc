#include "gateway/bars/feedback_push_transport.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "adapters/bars_feedback_message.h"
#include "adapters/fhir_ids.h"
#include "common/time_text.h"
#include "gateway/feedback/feedback_view.h"

namespace frontdoor::gateway {

namespace {

constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";

// The BaRS error code of an OperationOutcome body, for the row's error text; "" when none.
std::string BarsCodeIn(const std::string& body) {
  const std::string system = "\"https://fhir.nhs.uk/Codesystem/http-error-codes\",\"code\":\"";
  const size_t at = body.find(system);
  if (at == std::string::npos) return "";
  const size_t from = at + system.size();
  const size_t to = body.find('"', from);
  if (to == std::string::npos || to - from > 40) return "";
  return body.substr(from, to - from);
}

}  // namespace

std::string FeedbackPushEndpoint(const std::string& referrer_ods) { return "bars:" + referrer_ods; }

absl::StatusOr<std::unique_ptr<FeedbackPushTransport>> FeedbackPushTransport::Create(
    FeedbackPushTarget target, std::shared_ptr<boost::asio::ssl::context> tls, FeedbackLog* feedback) {
  absl::StatusOr<HttpOrigin> origin = ParseHttpUrl(target.base_url);
  if (!origin.ok()) return origin.status();
  if (origin->tls && tls == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("feedback to ", target.referrer_ods, " is over https: a CA for its server is needed"));
  }
  auto client = std::make_unique<HttpClient>(*std::move(origin), std::move(tls));
  return std::unique_ptr<FeedbackPushTransport>(
      new FeedbackPushTransport(std::move(target), std::move(client), feedback));
}

FeedbackPushTransport::FeedbackPushTransport(FeedbackPushTarget target, std::unique_ptr<HttpClient> client,
                                             FeedbackLog* feedback)
    : target_(std::move(target)), client_(std::move(client)), feedback_(feedback) {}

std::vector<SendOutcome> FeedbackPushTransport::SendAll(absl::Span<const OutboxItem* const> rows,
                                                        absl::Duration deadline) {
  return SendOneByOne(rows, deadline, [this](const OutboxItem& row, absl::Duration left) { return Send(row, left); });
}

SendOutcome FeedbackPushTransport::Send(const OutboxItem& row, absl::Duration deadline) {
  absl::StatusOr<StoredFeedback> event = FeedbackEventOfRow(*feedback_, row);
  if (!event.ok()) {
    // A row that names no stored event can never be sent; a store error may pass.
    const bool never = event.status().code() == absl::StatusCode::kInvalidArgument ||
                       event.status().code() == absl::StatusCode::kNotFound;
    return {false, never ? "INTERNAL" : "UNAVAILABLE", std::string(event.status().message()), false, never};
  }
  const StoredFeedback& stored = *event;

  const adapters::FeedbackMessageContext context = FeedbackMessageContextFor(stored);
  const std::string body = adapters::RenderBarsFeedbackMessage(context, stored.report, target_.base_url,
                                                               FormatRfc3339Utc(stored.recorded_at, 0));
  const std::string target_identifier =
      absl::Base64Escape(absl::StrCat(R"({"value":")", target_.referrer_ods, R"(","system":")", kOdsSystem, R"("})"));
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/fhir+json"},
      {"accept", "application/fhir+json"},
      {"x-request-id", adapters::BarsFeedbackMessageId(context.event_id)},
      {"x-correlation-id", adapters::DerivedUuid(absl::StrCat("frontdoor-referral-", stored.referral_id), 0)},
      {"nhsd-target-identifier", target_identifier},
  };
  const std::string path = absl::StrCat(client_->origin().path, "/$process-message");
  absl::StatusOr<HttpClient::Reply> reply = client_->Post(path, headers, body, deadline);
  if (!reply.ok()) {
    const bool timed_out = reply.status().code() == absl::StatusCode::kDeadlineExceeded;
    return {false, timed_out ? "DEADLINE_EXCEEDED" : "UNAVAILABLE", std::string(reply.status().message()), true, false};
  }
  const int status = reply->status;
  const std::string code = absl::StrCat("HTTP ", status);
  if ((status >= 200 && status < 300) || status == 409) return {true, code, "", false, false};
  const std::string bars_code = BarsCodeIn(reply->body);
  const std::string error = absl::StrCat("the referrer answered ", status, bars_code.empty() ? "" : " ", bars_code);
  if (status == 408 || status == 429 || status >= 500) return {false, code, error, true, false};
  return {false, code, error, false, /*permanent=*/true};
}

}  // namespace frontdoor::gateway
