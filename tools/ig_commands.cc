#include "tools/ig_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/str_join.h"
#include "audit/log_verification.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/security/caller_identity.h"
#include "google/protobuf/util/json_util.h"
#include "tools/cli_errors.h"

namespace frontdoor::cli {
namespace {

namespace v1 = ::frontdoor::v1;

std::string Json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "{}\n";
  return out;
}

// The gateway the commands call, for what an error says to do.
std::string& Target() {
  static std::string target;
  return target;
}

int Fail(const grpc::Status& status) { return frontdoor::tools::ReportGrpcError(status, Target()); }

int Usage(const char* what) {
  std::fprintf(stderr, "frontdoor: %s\n%s", what, kIgUsage);
  return 2;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

// "--name value" pairs after the positional arguments.
bool Options(const std::vector<std::string>& args, size_t from, std::map<std::string, std::string>* out,
             std::vector<std::string>* positional) {
  for (size_t i = from; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      if (i + 1 >= args.size()) return false;
      (*out)[args[i].substr(2)] = args[i + 1];
      ++i;
    } else {
      positional->push_back(args[i]);
    }
  }
  return true;
}

std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& identity, int timeout_seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(timeout_seconds > 0 ? timeout_seconds : 30));
  if (!identity.empty()) ctx->AddMetadata(frontdoor::gateway::kClientMetadataKey, identity);
  return ctx;
}

int Cancel(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel,
           const std::string& identity, int timeout) {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  if (!Options(args, 1, &options, &positional) || positional.size() != 1)
    return Usage("cancel needs REFERRAL_ID --reason R");
  static const std::map<std::string, v1::CancelReason> kReasons = {{"consent-withdrawn", v1::CONSENT_WITHDRAWN},
                                                                   {"entered-in-error", v1::ENTERED_IN_ERROR},
                                                                   {"no-longer-needed", v1::NO_LONGER_NEEDED}};
  auto reason = kReasons.find(options["reason"]);
  if (reason == kReasons.end())
    return Usage("--reason must be consent-withdrawn, entered-in-error or no-longer-needed");
  v1::CancelReferralRequest request;
  request.set_referral_id(positional[0]);
  request.set_reason(reason->second);
  v1::CancelReferralResponse response;
  grpc::Status status =
      v1::ReferralService::NewStub(channel)->CancelReferral(Context(identity, timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::cout << Json(response);
  return 0;
}

int Query(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel,
          const std::string& identity, int timeout) {
  std::map<std::string, std::string> o;
  std::vector<std::string> positional;
  if (!Options(args, 2, &o, &positional) || !positional.empty()) return Usage("audit query takes --name value filters");
  for (const auto& [name, _] : o) {
    static const char* kKnown[] = {"nhs-number", "recipient", "referrer", "rule", "outcome", "from", "to", "format"};
    if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown))
      return Usage("unknown audit query option");
  }
  const std::string format = o.count("format") ? o["format"] : "json";
  if (format != "json" && format != "csv") return Usage("--format is csv or json");
  v1::QueryAuditRequest request;
  request.set_nhs_number(o["nhs-number"]);
  request.set_recipient_endpoint(o["recipient"]);
  request.set_referrer_ods(o["referrer"]);
  request.set_rule_id(o["rule"]);
  request.set_outcome(o["outcome"]);
  request.set_from_time(o["from"]);
  request.set_to_time(o["to"]);
  auto ctx = Context(identity, timeout);
  auto reader = v1::AuditService::NewStub(channel)->QueryAudit(ctx.get(), request);
  if (format == "csv") {
    std::cout << "index,time,actor,actor_organisation,nhs_number,referral_id,action,outcome,rule_ids,"
                 "consent_reference,recipient_endpoint,referrer_ods,withheld_categories,lawful_basis,detail\n";
  } else {
    std::cout << "[";
  }
  v1::AuditRecord r;
  bool first = true;
  while (reader->Read(&r)) {
    if (format == "csv") {
      std::vector<std::string> row = {std::to_string(r.index()),
                                      r.time(),
                                      r.actor(),
                                      r.actor_organisation(),
                                      r.nhs_number(),
                                      r.referral_id(),
                                      r.action(),
                                      r.outcome(),
                                      absl::StrJoin(r.rule_ids(), ";"),
                                      r.consent_reference(),
                                      r.recipient_endpoint(),
                                      r.referrer_ods(),
                                      absl::StrJoin(r.withheld_categories(), ";"),
                                      r.lawful_basis(),
                                      r.detail()};
      for (std::string& f : row) f = Csv(f);
      std::cout << absl::StrJoin(row, ",") << "\n";
    } else {
      std::cout << (first ? "\n" : ",\n") << Json(r);
      first = false;
    }
  }
  if (format == "json") std::cout << "]\n";
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(status);
  return 0;
}

int CheckProof(const std::vector<std::string>& args) {
  std::map<std::string, std::string> o;
  std::vector<std::string> positional;
  if (!Options(args, 2, &o, &positional) || positional.size() != 1 || !o.count("public-key")) {
    return Usage("audit check-proof PROOF.json --public-key PUB.pem");
  }
  std::string proof_json, pem;
  if (!ReadFile(positional[0], &proof_json) || !ReadFile(o["public-key"], &pem))
    return Usage("cannot read the proof or the key");
  v1::AuditInclusionProof proof;
  if (!google::protobuf::util::JsonStringToMessage(proof_json, &proof).ok())
    return Usage("the proof is not an AuditInclusionProof in JSON");
  absl::Status s = frontdoor::audit::CheckInclusionProof(proof, pem);
  if (!s.ok()) {
    std::fprintf(stderr, "frontdoor: proof NOT valid: %s\n", std::string(s.message()).c_str());
    return 4;
  }
  std::printf("OK: record %llu is in the audit log of %llu records signed at %s\n",
              static_cast<unsigned long long>(proof.leaf_index()), static_cast<unsigned long long>(proof.tree_size()),
              proof.checkpoint().time().c_str());
  return 0;
}

// A checkpoint kept earlier: the SignedCheckpoint itself, or a whole saved `audit verify` answer
// (its latest_checkpoint).
bool ReadKeptCheckpoint(const std::string& path, v1::SignedCheckpoint* out) {
  std::string json;
  if (!ReadFile(path, &json)) return false;
  if (google::protobuf::util::JsonStringToMessage(json, out).ok() && out->tree_size() > 0) return true;
  v1::VerifyAuditResponse saved;
  if (!google::protobuf::util::JsonStringToMessage(json, &saved).ok() || !saved.has_latest_checkpoint()) return false;
  *out = saved.latest_checkpoint();
  return true;
}

// audit verify [--checkpoint FILE [--public-key PUB.pem]]: the gateway verifies the whole log; with
// a kept checkpoint it also proves the log extends it, and that proof is checked here, with the
// public key (given, or the gateway's, which must then also have signed the kept checkpoint).
int Verify(const std::vector<std::string>& args, v1::AuditService::Stub& stub, const std::string& identity,
           int timeout) {
  std::map<std::string, std::string> o;
  std::vector<std::string> positional;
  if (!Options(args, 2, &o, &positional) || !positional.empty() || std::any_of(o.begin(), o.end(), [](const auto& kv) {
        return kv.first != "checkpoint" && kv.first != "public-key";
      })) {
    return Usage("audit verify [--checkpoint FILE [--public-key PUB.pem]]");
  }
  v1::VerifyAuditRequest request;
  if (o.count("checkpoint") && !ReadKeptCheckpoint(o["checkpoint"], request.mutable_kept_checkpoint())) {
    return Usage("--checkpoint FILE: not a signed checkpoint (save `audit verify`'s answer, or its latest_checkpoint)");
  }
  std::string pem;
  if (o.count("public-key") && !ReadFile(o["public-key"], &pem)) return Usage("cannot read the public key");
  v1::VerifyAuditResponse response;
  grpc::Status status = stub.VerifyAudit(Context(identity, timeout).get(), request, &response);
  if (!status.ok()) return Fail(status);
  std::cout << Json(response);
  if (!response.verified()) return 4;
  if (!request.has_kept_checkpoint()) return 0;
  if (pem.empty()) {
    v1::GetPublicKeyResponse key;
    status = stub.GetPublicKey(Context(identity, timeout).get(), v1::GetPublicKeyRequest(), &key);
    if (!status.ok()) return Fail(status);
    pem = key.public_key_pem();
  }
  const std::vector<std::string> path(response.consistency_path_hex().begin(), response.consistency_path_hex().end());
  absl::Status extends =
      frontdoor::audit::CheckLogExtends(request.kept_checkpoint(), response.latest_checkpoint(), path, pem);
  if (!extends.ok()) {
    std::fprintf(stderr, "frontdoor: the log does NOT extend the checkpoint you kept: %s\n",
                 std::string(extends.message()).c_str());
    return 4;
  }
  std::fprintf(stderr, "OK: the log of %llu records extends the checkpoint you kept (%llu records, signed %s)\n",
               static_cast<unsigned long long>(response.latest_checkpoint().tree_size()),
               static_cast<unsigned long long>(request.kept_checkpoint().tree_size()),
               request.kept_checkpoint().time().c_str());
  return 0;
}

}  // namespace

int RunIgCommand(const std::vector<std::string>& args, const std::shared_ptr<grpc::Channel>& channel,
                 const std::string& identity, int timeout, const std::string& target) {
  if (args.empty()) return -1;
  Target() = target;
  if (args[0] == "cancel") return Cancel(args, channel, identity, timeout);
  if (args[0] != "audit") return -1;
  if (args.size() < 2) return Usage("audit needs a subcommand");
  const std::string& sub = args[1];
  if (sub == "query") return Query(args, channel, identity, timeout);
  if (sub == "check-proof") return CheckProof(args);
  auto stub = v1::AuditService::NewStub(channel);
  if (sub == "verify") return Verify(args, *stub, identity, timeout);
  if (sub == "prove" && args.size() == 3) {
    v1::ProveInclusionRequest request;
    char* end = nullptr;
    request.set_index(std::strtoull(args[2].c_str(), &end, 10));
    if (end == args[2].c_str() || *end != '\0') return Usage("INDEX is a record index (a number)");
    v1::AuditInclusionProof response;
    grpc::Status status = stub->ProveInclusion(Context(identity, timeout).get(), request, &response);
    if (!status.ok()) return Fail(status);
    std::cout << Json(response);
    return 0;
  }
  if (sub == "public-key" && args.size() == 2) {
    v1::GetPublicKeyResponse response;
    grpc::Status status = stub->GetPublicKey(Context(identity, timeout).get(), v1::GetPublicKeyRequest(), &response);
    if (!status.ok()) return Fail(status);
    std::cout << response.public_key_pem();
    return 0;
  }
  return Usage("unknown audit subcommand or wrong arguments");
}

}  // namespace frontdoor::cli
