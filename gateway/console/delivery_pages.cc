#include "gateway/console/delivery_pages.h"

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/time_text.h"
#include "gateway/security/caller_identity.h"

namespace frontdoor::gateway {

using kainjow::mustache::data;

namespace {

// "3 min ago (2026-12-05T10:00:00Z)"; "never" for no time.
std::string Ago(const std::optional<absl::Time>& t, absl::Time now, const char* none) {
  if (!t.has_value()) return none;
  const absl::Duration age = now - *t;
  std::string ago = age < absl::Minutes(1)  ? absl::StrCat(absl::ToInt64Seconds(age), " s ago")
                    : age < absl::Hours(2)  ? absl::StrCat(absl::ToInt64Minutes(age), " min ago")
                    : age < absl::Hours(48) ? absl::StrCat(absl::ToInt64Hours(age), " h ago")
                                            : absl::StrCat(absl::ToInt64Hours(age) / 24, " days ago");
  return absl::StrCat(ago, " (", FormatRfc3339Utc(*t, 0), ")");
}

std::string BreakerWords(const EndpointActivity& a, absl::Time now) {
  switch (a.breaker) {
    case CircuitBreaker::State::kClosed:
      return "closed (sending)";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open (trying one)";
    case CircuitBreaker::State::kOpen:
      return a.breaker_retry_at > now ? absl::StrCat("open (paused; tries again in ",
                                                     absl::ToInt64Seconds(a.breaker_retry_at - now) + 1, " s)")
                                      : "open (trying again now)";
  }
  return "unknown";
}

}  // namespace

void DeliveryPages::Failed(const ConsoleVisit& visit, const absl::Status& status) const {
  if (status.code() == absl::StatusCode::kPermissionDenied) {
    return visit.Problem(403, "Not allowed", std::string(status.message()), "/", "Back to the start");
  }
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return visit.Problem(400, "Cannot do that", std::string(status.message()), "/deliveries", "Back to deliveries");
  }
  visit.Problem(503, "The outbox cannot be read just now",
                absl::StrCat(status.message(), " Try again in a minute; the gateway's health and logs say more."),
                "/deliveries", "Back to deliveries");
}

void DeliveryPages::List(const ConsoleVisit& visit) const {
  admin_->Endpoints(visit.caller, [this, visit](absl::StatusOr<std::vector<EndpointOverview>> endpoints) {
    if (!endpoints.ok()) return Failed(visit, endpoints.status());
    admin_->ListDeadLetters(
        visit.caller, DeadLetterFilter{}, kMaxDeadLettersListed,
        [this, visit, endpoints = *std::move(endpoints)](absl::StatusOr<std::vector<DeadLetterRow>> dead) {
          if (!dead.ok()) return Failed(visit, dead.status());
          const absl::Time now = clock_->Now();
          data view = visit.View("Deliveries");
          view.set("on_deliveries", true);
          int64_t replayed = 0;
          if (visit.query.rfind("replayed=", 0) == 0 && absl::SimpleAtoi(visit.query.substr(9), &replayed)) {
            view.set("notice", absl::StrCat(replayed, replayed == 1 ? " delivery is" : " deliveries are",
                                            " pending again and on their way."));
          }
          data rows{data::type::list};
          for (const EndpointOverview& e : endpoints) {
            data row;
            row.set("endpoint_id", e.endpoint_id);
            row.set("pending", std::to_string(e.pending));
            row.set("oldest_pending", Ago(e.oldest_pending, now, "nothing waiting"));
            row.set("breaker", BreakerWords(e.activity, now));
            row.set("last_success", Ago(e.activity.last_success, now, "none since the gateway started"));
            row.set("last_failure", Ago(e.activity.last_failure, now, "none since the gateway started"));
            if (!e.activity.last_error.empty()) row.set("last_error", e.activity.last_error);
            row.set("dead", std::to_string(e.dead));
            row.set("has_dead", e.dead > 0);
            row.set("csrf", visit.csrf);
            rows.push_back(row);
          }
          view.set("has_endpoints", !endpoints.empty());
          view.set("endpoints", rows);
          data letters{data::type::list};
          for (const DeadLetterRow& d : *dead) {
            data row;
            row.set("outbox_id", std::to_string(d.outbox_id));
            row.set("kind", OutboxKindName(d.kind));
            row.set("referral_id", d.referral_id);
            row.set("endpoint_id", d.endpoint_id);
            row.set("attempts", std::to_string(d.attempts));
            row.set("last_error", d.last_error);
            row.set("created_at", FormatRfc3339Utc(d.created_at, 0));
            row.set("dead_at", FormatRfc3339Utc(d.dead_at, 0));
            letters.push_back(row);
          }
          view.set("has_dead_letters", !dead->empty());
          view.set("truncated", static_cast<int>(dead->size()) >= kMaxDeadLettersListed);
          view.set("count", std::to_string(dead->size()));
          view.set("dead_letters", letters);
          visit.Page(200, "deliveries", std::move(view));
        });
  });
}

absl::StatusOr<DeadLetterFilter> DeliveryPages::Selection(const FormFields& form) const {
  DeadLetterFilter filter;
  const std::string& outbox_id = form.Get("outbox_id");
  const std::string& endpoint_id = form.Get("endpoint_id");
  int64_t id = 0;
  if (!outbox_id.empty() && endpoint_id.empty() && absl::SimpleAtoi(outbox_id, &id) && id > 0) {
    filter.outbox_ids.push_back(id);
    return filter;
  }
  if (outbox_id.empty() && IsWellFormedIdentity(endpoint_id)) {
    filter.endpoint_id = endpoint_id;
    return filter;
  }
  return absl::InvalidArgumentError("Choose one dead letter, or one endpoint's, from the deliveries page.");
}

void DeliveryPages::Confirm(const ConsoleVisit& visit) const {
  absl::StatusOr<DeadLetterFilter> filter = Selection(visit.form);
  if (!filter.ok()) return Failed(visit, filter.status());
  if (absl::Status s = admin_->MayOperate(visit.caller); !s.ok()) return Failed(visit, s);
  data view = visit.View("Replay dead letters?");
  view.set("on_deliveries", true);
  if (!filter->endpoint_id.empty()) {
    view.set("endpoint_id", filter->endpoint_id);
    view.set("what", absl::StrCat("Every dead letter for ", filter->endpoint_id, " will be sent again."));
    view.set("them", "them");
  } else {
    view.set("outbox_id", std::to_string(filter->outbox_ids.front()));
    view.set("what", absl::StrCat("Dead letter ", filter->outbox_ids.front(), " will be sent again."));
    view.set("them", "it");
  }
  visit.Page(200, "replay_confirm", std::move(view));
}

void DeliveryPages::Replay(const ConsoleVisit& visit) const {
  absl::StatusOr<DeadLetterFilter> filter = Selection(visit.form);
  if (!filter.ok()) return Failed(visit, filter.status());
  admin_->Replay(visit.caller, *std::move(filter), /*all=*/false, [this, visit](absl::StatusOr<int> replayed) {
    if (!replayed.ok()) return Failed(visit, replayed.status());
    // Post/redirect/get: reloading the list does not replay again.
    visit.respond(HttpAnswer{303, {{"location", absl::StrCat("/deliveries?replayed=", *replayed)}}, ""});
  });
}

}  // namespace frontdoor::gateway
