// frontdoor-referrer-sim: a referring organisation's own BaRS endpoint, for demos, tests and load.
// It hosts POST /FHIR/R4/$process-message (HTTPS with client certificates, or plain HTTP), where
// the gateway pushes feedback on the organisation's referrals, and records each message it takes
// as one JSON line: its X-Request-Id, the Bundle's id, the referral's message id it answers
// (MessageHeader.response.identifier), the Task's status and its referral id, and whether it had
// that message already (a resend: answered 409 REC_CONFLICT, as a BaRS receiver does).
//
//   frontdoor-referrer-sim --listen 127.0.0.1:9443 --record var/demo/feedback.jsonl \
//       --tls-cert referrer.crt --tls-key referrer.key --client-ca ca.crt
//
// --fail-first N answers the first N messages 503 (an endpoint that is down for a while, without
// closing the port). Ctrl-C or SIGTERM stop it.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gateway/net/http_server.h"
#include "gateway/net/io_loop.h"
#include "gateway/net/tls_contexts.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace {

namespace pb = ::google::protobuf;
using frontdoor::gateway::HttpAnswer;
using frontdoor::gateway::HttpExchange;
using frontdoor::gateway::HttpResponder;

constexpr char kUsage[] = R"(usage: frontdoor-referrer-sim --listen HOST:PORT --record FILE [options]

  --listen HOST:PORT          where to serve /FHIR/R4/$process-message (port 0 picks one)
  --record FILE               append one JSON line per message taken
  --tls-cert FILE --tls-key FILE --client-ca FILE
                              HTTPS, requiring a client certificate from the CA (the gateway's)
  --ready-file FILE           write HOST:PORT here once serving
  --fail-first N              answer the first N messages 503 (down for a while)
)";

const pb::Value& Field(const pb::Value& v, const std::string& key) {
  static const pb::Value kNull;
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? kNull : it->second;
}

std::string JsonLine(const pb::Struct& fields) {
  std::string line;
  pb::util::JsonPrintOptions options;
  (void)pb::util::MessageToJsonString(fields, &line, options);
  return line;
}

HttpAnswer Outcome(int status, const std::string& code, const std::string& issue, const std::string& words) {
  pb::Value outcome;
  (void)pb::util::JsonStringToMessage(
      absl::StrCat(R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":")", issue,
                   R"(","details":{"coding":[{"system":"https://fhir.nhs.uk/Codesystem/http-error-codes","code":")",
                   code, R"("}]}}]})"),
      &outcome);
  (*(*outcome.mutable_struct_value()->mutable_fields())["issue"]
        .mutable_list_value()
        ->mutable_values(0)
        ->mutable_struct_value()
        ->mutable_fields())["diagnostics"]
      .set_string_value(words);
  std::string body;
  (void)pb::util::MessageToJsonString(outcome, &body);
  return HttpAnswer{status, {{"content-type", "application/fhir+json"}}, body};
}

class Referrer {
 public:
  Referrer(std::string record, int fail_first) : record_(std::move(record)), fail_first_(fail_first) {}

  void Handle(HttpExchange request, HttpResponder respond) {
    if (request.Path() != "/FHIR/R4/$process-message") {
      return respond(Outcome(404, "REC_NOT_FOUND", "not-found", "only $process-message is served here"));
    }
    if (request.method != "POST") {
      return respond(Outcome(405, "REC_METHOD_NOT_ALLOWED", "not-supported", "POST only"));
    }
    const std::string& request_id = request.Header("x-request-id");
    if (request_id.empty()) return respond(Outcome(400, "REC_BAD_REQUEST", "required", "X-Request-Id is required"));
    pb::Value bundle;
    if (!pb::util::JsonStringToMessage(request.body, &bundle).ok() ||
        Field(bundle, "resourceType").string_value() != "Bundle") {
      return respond(Outcome(400, "REC_BAD_REQUEST", "invalid", "not a FHIR Bundle"));
    }
    absl::MutexLock lock(&mu_);
    if (fail_first_ > 0) {
      --fail_first_;
      return respond(Outcome(503, "REC_UNAVAILABLE", "transient", "down for a while"));
    }
    const std::string bundle_id = Field(bundle, "id").string_value();
    const bool resend = !seen_.insert(bundle_id).second;
    pb::Struct line;
    auto& f = *line.mutable_fields();
    f["request_id"].set_string_value(request_id);
    f["correlation_id"].set_string_value(request.Header("x-correlation-id"));
    f["bundle_id"].set_string_value(bundle_id);
    f["caller"].set_string_value(request.tls_identity);
    f["resend"].set_bool_value(resend);
    for (const pb::Value& entry : Field(bundle, "entry").list_value().values()) {
      const pb::Value& resource = Field(entry, "resource");
      const std::string type = Field(resource, "resourceType").string_value();
      if (type == "MessageHeader") {
        f["event"].set_string_value(Field(Field(resource, "eventCoding"), "code").string_value());
        f["response_to"].set_string_value(Field(Field(resource, "response"), "identifier").string_value());
      } else if (type == "Task") {
        f["task_status"].set_string_value(Field(resource, "status").string_value());
        for (const pb::Value& status : Field(Field(resource, "businessStatus"), "coding").list_value().values()) {
          if (Field(status, "system").string_value().find("progress-status") != std::string::npos) {
            f["progress"].set_string_value(Field(status, "code").string_value());
          }
        }
        for (const pb::Value& based_on : Field(resource, "basedOn").list_value().values()) {
          f["referral_id"].set_string_value(Field(Field(based_on, "identifier"), "value").string_value());
        }
      }
    }
    std::ofstream(record_, std::ios::app) << JsonLine(line) << "\n";
    std::printf("referrer-sim: %s %s (%s)\n", resend ? "resend of" : "took", bundle_id.c_str(),
                f["progress"].string_value().c_str());
    std::fflush(stdout);
    if (resend) return respond(Outcome(409, "REC_CONFLICT", "duplicate", "already processed"));
    respond(HttpAnswer{200, {{"content-type", "application/fhir+json"}}, request.body});
  }

 private:
  const std::string record_;
  absl::Mutex mu_;
  int fail_first_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

bool TakeValue(int argc, char** argv, int* i, const char* name, std::string* out) {
  if (std::strcmp(argv[*i], name) != 0) return false;
  if (*i + 1 >= argc) {
    std::fprintf(stderr, "frontdoor-referrer-sim: %s needs a value\n", name);
    std::exit(2);
  }
  *out = argv[++*i];
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen, record, cert, key, ca, ready_file, fail_first = "0";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!(TakeValue(argc, argv, &i, "--listen", &listen) || TakeValue(argc, argv, &i, "--record", &record) ||
          TakeValue(argc, argv, &i, "--tls-cert", &cert) || TakeValue(argc, argv, &i, "--tls-key", &key) ||
          TakeValue(argc, argv, &i, "--client-ca", &ca) || TakeValue(argc, argv, &i, "--ready-file", &ready_file) ||
          TakeValue(argc, argv, &i, "--fail-first", &fail_first))) {
      std::fprintf(stderr, "frontdoor-referrer-sim: unknown argument '%s'\n\n%s", argv[i], kUsage);
      return 2;
    }
  }
  if (listen.empty() || record.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  frontdoor::gateway::HttpServerOptions options;
  options.listen = listen;
  options.name = "the referrer's $process-message";
  if (!cert.empty()) {
    absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> tls =
        frontdoor::gateway::ServerTlsContext({cert, key, ca, ""});
    if (!tls.ok()) {
      std::fprintf(stderr, "frontdoor-referrer-sim: %s\n", std::string(tls.status().message()).c_str());
      return 1;
    }
    options.tls = *tls;
  }
  Referrer referrer(record, std::atoi(fail_first.c_str()));
  frontdoor::gateway::IoLoop loop(1);
  auto server = frontdoor::gateway::HttpServer::Start(
      loop.context(), options,
      [&referrer](HttpExchange request, HttpResponder respond) { referrer.Handle(std::move(request), respond); },
      [](int status, const std::string& why) { return Outcome(status, "REC_BAD_REQUEST", "invalid", why); });
  if (!server.ok()) {
    std::fprintf(stderr, "frontdoor-referrer-sim: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  loop.Start();
  std::printf("referrer-sim: serving %s%s/FHIR/R4/$process-message\n", cert.empty() ? "http://" : "https://",
              (*server)->address().c_str());
  std::fflush(stdout);
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << (*server)->address() << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  int signal = 0;
  sigwait(&signals, &signal);
  (*server)->Close();
  loop.Stop();
  return 0;
}
