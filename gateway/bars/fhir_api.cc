#include "gateway/bars/fhir_api.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "adapters/bars_outcomes.h"
#include "adapters/bars_resources.h"
#include "boost/url/parse.hpp"
#include "common/time_text.h"
#include "gateway/bars/bars_request.h"
#include "observability/structured_log.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;
using adapters::BarsError;
using observability::Log;
using observability::LogField;
using observability::LogLevel;

namespace {

constexpr char kDoor[] = "fhir";
constexpr char kFhirJson[] = "application/fhir+json; charset=utf-8";

// What a request asks for, once its target is read.
struct RequestRoute {
  std::string name;         // the route's template, for logs and metrics: never an id
  std::string method;       // the one method it serves ("" for an unknown path)
  std::string referral_id;  // ServiceRequest/{id}; Task's focus
  bool focus_given = false;
};

// The route of `target` (origin form: path and query). Ids are read from decoded segments.
RequestRoute RouteOf(const std::string& target) {
  RequestRoute route{"other", ""};
  boost::system::result<boost::urls::url_view> url = boost::urls::parse_origin_form(target);
  if (!url) return route;
  std::vector<std::string> segments;
  for (const std::string segment : url->segments()) segments.push_back(segment);
  if (segments.size() < 3 || segments[0] != "FHIR" || segments[1] != "R4") return route;
  const std::string& what = segments[2];
  if (segments.size() == 3 && what == "$process-message") return {"$process-message", "POST"};
  if (segments.size() == 3 && what == "metadata") return {"metadata", "GET"};
  if (segments.size() == 3 && what == "MessageDefinition") return {"MessageDefinition", "GET"};
  if (segments.size() == 4 && what == "ServiceRequest") return {"ServiceRequest/{id}", "GET", segments[3]};
  if (segments.size() == 3 && what == "Task") {
    RequestRoute task{"Task", "GET"};
    auto focus = url->params().find("focus");
    if (focus != url->params().end() && (*focus).has_value) {
      task.focus_given = true;
      const std::string value = (*focus).value;
      // focus=ServiceRequest/{id}: a relative reference, as FHIR search takes it.
      constexpr std::string_view kPrefix = "ServiceRequest/";
      if (value.starts_with(kPrefix)) task.referral_id = value.substr(kPrefix.size());
    }
    return task;
  }
  return route;
}

// An intake refusal as BaRS codes it. The intake's words are written for callers (no patient data).
BarsError FromIntakeStatus(const absl::Status& status) {
  std::string words(status.message());
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return {401, "REC_UNAUTHORIZED", "login", words};
    case absl::StatusCode::kPermissionDenied:
      return {403, "REC_FORBIDDEN", "forbidden", words};
    case absl::StatusCode::kInvalidArgument:
      return {400, "REC_BAD_REQUEST", "invalid", words};
    case absl::StatusCode::kNotFound:
      return {404, "REC_NOT_FOUND", "not-found", words};
    case absl::StatusCode::kFailedPrecondition:
      return {422, "REC_UNPROCESSABLE_ENTITY", "business-rule", words};
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
      return {503, "REC_UNAVAILABLE", "transient",
              absl::StrCat(words, words.empty() ? "" : ". ", "Nothing was recorded: send the same message again.")};
    case absl::StatusCode::kUnimplemented:
      return {501, "REC_NOT_IMPLEMENTED", "not-supported", words};
    default:
      return {500, "REC_SERVER_ERROR", "exception", "The gateway could not answer this request."};
  }
}

// The media type of a Content-Type value, lower case, without parameters.
std::string MediaType(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

int64_t RetryAfterSeconds(absl::Duration pause) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(pause))));
}

}  // namespace

// One request on its way to its answer: answers exactly once, with the ids mirrored, logs it,
// counts it, and gives back the caller's concurrency slot.
class FhirApi::Exchange {
 public:
  Exchange(const FhirApiDeps& deps, HttpExchange request, HttpResponder respond)
      : request(std::move(request)), deps_(deps), respond_(std::move(respond)) {}
  ~Exchange() {
    if (!answered_) Fail({500, "REC_SERVER_ERROR", "exception", "The gateway could not answer this request."});
    if (slot_taken_) deps_.limiter->EndCall(identity);
  }

  void Answer(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (answered_) return;
    answered_ = true;
    HttpAnswer answer{status, std::move(headers), std::move(body)};
    answer.headers.emplace_back("content-type", kFhirJson);
    answer.headers.emplace_back("cache-control", "no-store");
    if (!ids.request_id.empty()) {
      answer.headers.emplace_back("x-request-id", ids.request_id);
      answer.headers.emplace_back("x-correlation-id", ids.correlation_id);
    }
    // The answer is handed to its connection before the log line is written: after a commit, the
    // writer thread answers its batch one by one, and each line's write(2) would hold up the next.
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
    respond_(std::move(answer));
    Record(status, seconds);
  }

  void Fail(const BarsError& error, std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (error.http_status >= 500) {
      Log(LogLevel::kWarning, "fhir_request", "answered with a server error",
          {{"route", route.name}, {"status", error.http_status}, {"request_id", ids.request_id}});
    }
    Answer(error.http_status, adapters::RenderBarsError(error, observability::NewRequestId()), std::move(headers));
  }

  void TookSlot() { slot_taken_ = true; }

  HttpExchange request;
  RequestRoute route;
  observability::CallIds ids;
  std::string identity;
  std::string referral_id;  // for the log line, once known
  std::vector<LogField> header_fields;

 private:
  void Record(int status, double seconds) {
    if (deps_.metrics != nullptr) deps_.metrics->ObserveHttpRequest(kDoor, route.name, status, seconds);
    std::vector<LogField> fields = {{"door", kDoor},
                                    {"method", request.method},
                                    {"route", route.name},
                                    {"identity", identity},
                                    {"status", status},
                                    {"duration_ms", seconds * 1000.0},
                                    {"request_id", ids.request_id},
                                    {"correlation_id", ids.correlation_id}};
    if (!referral_id.empty()) fields.emplace_back("referral_id", referral_id);
    for (LogField& field : header_fields) fields.push_back(std::move(field));
    Log(status >= 500 ? LogLevel::kWarning : LogLevel::kInfo, "http_request",
        status < 400 ? "request answered" : "request refused", fields);
  }

  const FhirApiDeps& deps_;
  HttpResponder respond_;
  const std::chrono::steady_clock::time_point began_ = std::chrono::steady_clock::now();
  bool answered_ = false;
  bool slot_taken_ = false;
};

FhirApi::FhirApi(FhirApiDeps deps) : deps_(std::move(deps)) {}

HttpAnswer FhirApi::Refusal(int status, const std::string& why) {
  BarsError error{status, "REC_BAD_REQUEST", "invalid", why};
  if (status == 408) error = {408, "REC_TIMEOUT", "timeout", why};
  if (status == 413 || status == 431) error.issue_type = "too-long";
  HttpAnswer answer{status, {{"content-type", kFhirJson}, {"cache-control", "no-store"}}, ""};
  answer.body = adapters::RenderBarsError(error, observability::NewRequestId());
  return answer;
}

void FhirApi::Handle(HttpExchange request, HttpResponder respond) const {
  auto exchange = std::make_shared<Exchange>(deps_, std::move(request), std::move(respond));
  exchange->route = RouteOf(exchange->request.target);
  BarsError error;
  absl::StatusOr<observability::CallIds> ids = BarsCallIds(exchange->request, &error);
  if (!ids.ok()) return exchange->Fail(error);
  exchange->ids = *std::move(ids);
  absl::StatusOr<std::string> identity = BarsIdentity(exchange->request, deps_.identity_source, &error);
  if (!identity.ok()) return exchange->Fail(error);
  exchange->identity = *identity;
  if (deps_.limiter != nullptr) {
    absl::Duration retry_after;
    absl::Status admitted = deps_.limiter->TryTakeToken(*identity, &retry_after);
    if (admitted.ok()) {
      admitted = deps_.limiter->TryBeginCall(*identity, &retry_after);
      if (admitted.ok()) exchange->TookSlot();
    }
    if (!admitted.ok()) {
      return exchange->Fail({429, "REC_TOO_MANY_REQUESTS", "throttled", std::string(admitted.message())},
                            {{"retry-after", std::to_string(RetryAfterSeconds(retry_after))}});
    }
  }
  Dispatch(std::move(exchange));
}

void FhirApi::Dispatch(std::shared_ptr<Exchange> exchange) const {
  const RequestRoute& route = exchange->route;
  if (route.method.empty()) {
    return exchange->Fail({404, "REC_NOT_FOUND", "not-found",
                           absl::StrCat("No such endpoint. This FHIR API serves ", kFhirBasePath,
                                        "/$process-message, metadata, MessageDefinition, ServiceRequest/{id} and "
                                        "Task?focus=ServiceRequest/{id}.")});
  }
  if (exchange->request.method != route.method) {
    return exchange->Fail(
        {405, "REC_METHOD_NOT_ALLOWED", "not-supported", absl::StrCat(route.name, " takes ", route.method, " only.")},
        {{"allow", route.method}});
  }
  if (route.name == "$process-message") return ProcessMessage(std::move(exchange));
  const std::string today = FormatRfc3339Utc(deps_.clock->Now(), 0).substr(0, 10);
  if (route.name == "metadata")
    return exchange->Answer(200, adapters::RenderCapabilityStatement(FRONTDOOR_VERSION, today));
  if (route.name == "MessageDefinition") return exchange->Answer(200, adapters::RenderMessageDefinitionBundle(today));
  if (route.name == "Task" && !route.focus_given) {
    return exchange->Fail({400, "REC_BAD_REQUEST", "required",
                           "Task is searched by its focus: Task?focus=ServiceRequest/{referral id}."});
  }
  if (route.name == "Task" && route.referral_id.empty()) {
    return exchange->Fail(
        {400, "REC_BAD_REQUEST", "value", "The focus must be a referral: Task?focus=ServiceRequest/{referral id}."});
  }
  std::string referral_id = route.referral_id;
  const bool tasks = route.name == "Task";
  ReadReferral(std::move(exchange), std::move(referral_id), tasks);
}

void FhirApi::ProcessMessage(std::shared_ptr<Exchange> exchange) const {
  const HttpExchange& request = exchange->request;
  const std::string media_type = MediaType(request.Header("content-type"));
  if (media_type != "application/fhir+json" && media_type != "application/json") {
    return exchange->Fail({415, "REC_BAD_REQUEST", "not-supported",
                           "This endpoint takes a FHIR message Bundle as JSON (Content-Type: application/fhir+json)."});
  }
  if (request.body.size() > deps_.max_message_bytes) {
    return exchange->Fail({413, "REC_BAD_REQUEST", "too-long",
                           absl::StrCat("The message is larger than ", deps_.max_message_bytes, " bytes.")});
  }
  exchange->header_fields = BarsHeaderLogFields(request);
  absl::StatusOr<Caller> caller = deps_.authorizer->Identify(exchange->identity);
  if (!caller.ok()) return exchange->Fail(FromIntakeStatus(caller.status()));
  BarsError error;
  if (!CheckBarsOrganisation(request, exchange->identity, &error).ok()) return exchange->Fail(error);

  SubmissionPayload payload;
  payload.format = adapters::MessageFormat::kFhir;
  payload.text = std::move(exchange->request.body);
  Submission submission{*std::move(caller), std::move(payload), exchange->ids, "fhir-http"};
  // The status goes with the body the intake renders, before it answers: the render runs first.
  auto status = std::make_shared<int>(200);
  deps_.intake->Submit(
      std::move(submission),
      [status](const v1::SubmitReferralResponse& response) {
        adapters::BarsAnswer answer = adapters::BarsSubmissionAnswer(response, observability::NewRequestId());
        *status = answer.http_status;
        return std::move(answer.body);
      },
      [exchange, status](IntakeAnswer answer) {
        exchange->referral_id = answer.referral_id;
        if (!answer.status.ok()) {
          BarsError error = FromIntakeStatus(answer.status);
          std::vector<std::pair<std::string, std::string>> headers;
          if (error.http_status == 503) {
            const absl::Duration pause =
                answer.retry_after > absl::ZeroDuration() ? answer.retry_after : absl::Seconds(1);
            headers.emplace_back("retry-after", std::to_string(RetryAfterSeconds(pause)));
          }
          return exchange->Fail(error, std::move(headers));
        }
        exchange->Answer(*status, std::move(answer.rendered));
      });
}

void FhirApi::ReadReferral(std::shared_ptr<Exchange> exchange, std::string referral_id, bool tasks) const {
  absl::StatusOr<Caller> caller = deps_.authorizer->Identify(exchange->identity);
  if (!caller.ok()) return exchange->Fail(FromIntakeStatus(caller.status()));
  if (referral_id.empty() || referral_id.size() > 64) {
    return exchange->Fail({400, "REC_BAD_REQUEST", "value", "A referral id is 1..64 characters."});
  }
  exchange->referral_id = referral_id;
  deps_.work->Post([this, exchange, referral_id, tasks, caller = *std::move(caller)](absl::Status ready) {
    if (!ready.ok()) return exchange->Fail(FromIntakeStatus(ready));
    absl::StatusOr<v1::GetReferralResponse> referral = ReferralStatusFor(deps_.reads, caller, referral_id);
    if (!referral.ok()) return exchange->Fail(FromIntakeStatus(referral.status()));
    if (!tasks) return exchange->Answer(200, adapters::RenderReferralServiceRequest(*referral));
    std::vector<std::string> found;
    for (const v1::FeedbackEvent& event : referral->history()) {
      if (!event.fhir_task_json().empty()) found.push_back(event.fhir_task_json());
    }
    exchange->Answer(200, adapters::RenderTaskSearchBundle(found, observability::NewRequestId()));
  });
}

}  // namespace frontdoor::gateway
