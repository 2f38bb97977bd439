#include "tools/ig_commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "adapters/referral_validation.h"
#include "audit/audit_csv.h"
#include "audit/audit_vocabulary.h"
#include "audit/log_verification.h"
#include "common/calendar_date.h"
#include "common/time_text.h"
#include "frontdoor/v1/audit_service.grpc.pb.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tools/cli_errors.h"

namespace frontdoor::cli {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::tools::GatewayCall;

using audit::kAuditActions;
using audit::kAuditOutcomes;

std::string Json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "{}\n";
  return out;
}

absl::Status Usage(absl::string_view what) { return absl::InvalidArgumentError(what); }

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

// "--name value" pairs after the positional arguments, each name one of `known`.
absl::Status Options(const std::vector<std::string>& args, size_t from, std::initializer_list<const char*> known,
                     std::map<std::string, std::string>* out, std::vector<std::string>* positional) {
  for (size_t i = from; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) != 0) {
      positional->push_back(args[i]);
      continue;
    }
    const std::string name = args[i].substr(2);
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return name == k; })) {
      std::vector<std::string> names;
      for (const char* k : known) names.push_back(absl::StrCat("--", k));
      return Usage(absl::StrCat("unknown option ", args[i], " for ", args[0],
                                names.empty() ? "" : absl::StrCat(" (it takes ", absl::StrJoin(names, ", "), ")")));
    }
    if (i + 1 >= args.size()) return Usage(absl::StrCat(args[i], " needs a value"));
    (*out)[name] = args[++i];
  }
  return absl::OkStatus();
}

// --from / --to: an RFC 3339 time, or a day (YYYY-MM-DD, a real day) meaning its midnight UTC.
// Returns the RFC 3339 text the gateway takes.
absl::StatusOr<std::string> TimeFilter(const std::string& flag, const std::string& text) {
  const auto bad = [&] {
    return Usage(absl::StrCat("--", flag, " ", text,
                              ": not a day (YYYY-MM-DD, a real day) nor an RFC 3339 time (2025-06-10T09:00:00Z)"));
  };
  if (text.size() < 10 || !CalendarDate::Parse(std::string_view(text).substr(0, 10)).has_value()) return bad();
  if (text.size() == 10) return text + "T00:00:00Z";
  absl::Time t;
  if (!ParseRfc3339(text, &t)) return bad();
  return text;
}

absl::StatusOr<IgCommand> ParseCancel(const std::vector<std::string>& args) {
  std::map<std::string, std::string> o;
  std::vector<std::string> positional;
  if (absl::Status s = Options(args, 1, {"reason"}, &o, &positional); !s.ok()) return s;
  if (positional.size() != 1 || !o.count("reason")) {
    return Usage("cancel needs REFERRAL_ID --reason consent-withdrawn|entered-in-error|no-longer-needed");
  }
  static const std::map<std::string, v1::CancelReason> kReasons = {{"consent-withdrawn", v1::CONSENT_WITHDRAWN},
                                                                   {"entered-in-error", v1::ENTERED_IN_ERROR},
                                                                   {"no-longer-needed", v1::NO_LONGER_NEEDED}};
  auto reason = kReasons.find(o["reason"]);
  if (reason == kReasons.end()) {
    return Usage(
        absl::StrCat("--reason ", o["reason"], ": not one of consent-withdrawn, entered-in-error, no-longer-needed"));
  }
  IgCommand command;
  command.kind = IgCommand::Kind::kCancel;
  command.cancel.set_referral_id(positional[0]);
  command.cancel.set_reason(reason->second);
  return command;
}

absl::StatusOr<IgCommand> ParseQuery(const std::vector<std::string>& args) {
  std::map<std::string, std::string> o;
  std::vector<std::string> positional;
  absl::Status s =
      Options(args, 2, {"nhs-number", "recipient", "referrer", "rule", "outcome", "action", "from", "to", "format"}, &o,
              &positional);
  if (!s.ok()) return s;
  if (!positional.empty())
    return Usage(absl::StrCat("audit query takes only --name value filters, not ", positional[0]));
  IgCommand command;
  command.kind = IgCommand::Kind::kAuditQuery;
  const std::string format = o.count("format") ? o["format"] : "json";
  if (format != "json" && format != "csv") return Usage(absl::StrCat("--format ", format, ": csv or json"));
  command.csv = format == "csv";
  if (o.count("nhs-number")) {
    std::string nhs = o["nhs-number"];
    nhs.erase(std::remove(nhs.begin(), nhs.end(), ' '), nhs.end());  // "999 195 1024" as printed on letters
    if (!frontdoor::adapters::IsValidNhsNumber(nhs)) {
      return Usage(absl::StrCat("--nhs-number ", o["nhs-number"],
                                ": not an NHS number (10 digits, the last a valid Modulus 11 check digit)"));
    }
    command.query.set_nhs_number(nhs);
  }
  for (const auto& [flag, words] : {std::pair{"outcome", absl::MakeConstSpan(kAuditOutcomes)},
                                    std::pair{"action", absl::MakeConstSpan(kAuditActions)}}) {
    if (o.count(flag) && std::none_of(words.begin(), words.end(), [&](const char* k) { return o[flag] == k; })) {
      return Usage(absl::StrCat("--", flag, " ", o[flag], ": not one of ", absl::StrJoin(words, ", ")));
    }
  }
  for (const char* flag : {"from", "to"}) {
    if (!o.count(flag)) continue;
    absl::StatusOr<std::string> time = TimeFilter(flag, o[flag]);
    if (!time.ok()) return time.status();
    o[flag] = *time;
  }
  absl::Time from, to;
  if (o.count("from") && o.count("to") && ParseRfc3339(o["from"], &from) && ParseRfc3339(o["to"], &to) && from >= to) {
    return Usage("--from must be before --to: records are taken in [from, to)");
  }
  command.query.set_recipient_endpoint(o["recipient"]);
  command.query.set_referrer_ods(o["referrer"]);
  command.query.set_rule_id(o["rule"]);
  command.query.set_outcome(o["outcome"]);
  command.query.set_action(o["action"]);
  command.query.set_from_time(o["from"]);
  command.query.set_to_time(o["to"]);
  return command;
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

absl::StatusOr<IgCommand> ParseVerify(const std::vector<std::string>& args) {
  std::map<std::string, std::string> o;
  std::vector<std::string> positional;
  if (absl::Status s = Options(args, 2, {"checkpoint", "public-key"}, &o, &positional); !s.ok()) return s;
  if (!positional.empty()) return Usage("audit verify [--checkpoint FILE [--public-key PUB.pem]]");
  IgCommand command;
  command.kind = IgCommand::Kind::kAuditVerify;
  if (o.count("checkpoint") && !ReadKeptCheckpoint(o["checkpoint"], command.verify.mutable_kept_checkpoint())) {
    return Usage(absl::StrCat("--checkpoint ", o["checkpoint"],
                              ": not a signed checkpoint (save `audit verify`'s answer, or its latest_checkpoint)"));
  }
  if (o.count("public-key") && !ReadFile(o["public-key"], &command.public_key_pem)) {
    return Usage(absl::StrCat("--public-key ", o["public-key"], ": cannot read it"));
  }
  return command;
}

absl::StatusOr<IgCommand> ParseCheckProof(const std::vector<std::string>& args) {
  std::map<std::string, std::string> o;
  std::vector<std::string> positional;
  if (absl::Status s = Options(args, 2, {"public-key"}, &o, &positional); !s.ok()) return s;
  if (positional.size() != 1 || !o.count("public-key"))
    return Usage("audit check-proof PROOF.json --public-key PUB.pem");
  IgCommand command;
  command.kind = IgCommand::Kind::kAuditCheckProof;
  std::string proof_json;
  if (!ReadFile(positional[0], &proof_json)) return Usage(absl::StrCat("cannot read the proof ", positional[0]));
  if (!ReadFile(o["public-key"], &command.public_key_pem)) {
    return Usage(absl::StrCat("--public-key ", o["public-key"], ": cannot read it"));
  }
  if (!google::protobuf::util::JsonStringToMessage(proof_json, &command.proof).ok()) {
    return Usage(absl::StrCat(positional[0], ": not an AuditInclusionProof in JSON (save `audit prove`'s answer)"));
  }
  return command;
}

int Fail(const grpc::Status& status, const GatewayCall& call) {
  return frontdoor::tools::ReportGrpcError(status, call.target);
}

// The records stream in as the gateway reads them; the CSV header or the opening `[` is printed with
// the first record (or at the end of an empty answer), so a refused or failed query prints nothing.
int Query(const IgCommand& command, const GatewayCall& call) {
  auto ctx = call.NewContext();
  auto reader = v1::AuditService::NewStub(call.channel)->QueryAudit(ctx.get(), command.query);
  bool opened = false;
  const auto open = [&] {
    if (opened) return;
    opened = true;
    if (command.csv) {
      std::cout << audit::AuditCsvHeader();
    } else {
      std::cout << "[";
    }
  };
  v1::AuditRecord r;
  bool first = true;
  while (reader->Read(&r)) {
    open();
    if (command.csv) {
      std::cout << audit::AuditCsvRow(r);
    } else {
      std::cout << (first ? "\n" : ",\n") << Json(r);
      first = false;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    if (opened) std::fprintf(stderr, "frontdoor: the records printed above are incomplete\n");
    return Fail(status, call);
  }
  open();
  if (!command.csv) std::cout << "]\n";
  return 0;
}

int CheckProof(const IgCommand& command) {
  absl::Status s = frontdoor::audit::CheckInclusionProof(command.proof, command.public_key_pem);
  if (!s.ok()) {
    std::fprintf(stderr, "frontdoor: proof NOT valid: %s\n", std::string(s.message()).c_str());
    return frontdoor::tools::kExitNotVerified;
  }
  std::cout << "OK: record " << command.proof.leaf_index() << " is in the audit log of " << command.proof.tree_size()
            << " records signed at " << command.proof.checkpoint().time() << "\n";
  return 0;
}

// audit verify [--checkpoint FILE [--public-key PUB.pem]]: the gateway verifies the whole log; with
// a kept checkpoint it also proves the log extends it, and that proof is checked here, with the
// public key (given, or the gateway's, which must then also have signed the kept checkpoint).
int Verify(const IgCommand& command, const GatewayCall& call) {
  auto stub = v1::AuditService::NewStub(call.channel);
  const v1::VerifyAuditRequest& request = command.verify;
  v1::VerifyAuditResponse response;
  grpc::Status status = stub->VerifyAudit(call.NewContext().get(), request, &response);
  if (!status.ok()) return Fail(status, call);
  std::string pem = command.public_key_pem;
  if (request.has_kept_checkpoint() && response.verified() && pem.empty()) {
    v1::GetPublicKeyResponse key;
    status = stub->GetPublicKey(call.NewContext().get(), v1::GetPublicKeyRequest(), &key);
    if (!status.ok()) return Fail(status, call);
    pem = key.public_key_pem();
  }
  std::cout << Json(response);
  if (!response.verified()) return frontdoor::tools::kExitNotVerified;
  if (!request.has_kept_checkpoint()) return 0;
  const std::vector<std::string> path(response.consistency_path_hex().begin(), response.consistency_path_hex().end());
  absl::Status extends =
      frontdoor::audit::CheckLogExtends(request.kept_checkpoint(), response.latest_checkpoint(), path, pem);
  if (!extends.ok()) {
    std::fprintf(stderr, "frontdoor: the log does NOT extend the checkpoint you kept: %s\n",
                 std::string(extends.message()).c_str());
    return frontdoor::tools::kExitNotVerified;
  }
  std::fprintf(stderr, "OK: the log of %llu records extends the checkpoint you kept (%llu records, signed %s)\n",
               static_cast<unsigned long long>(response.latest_checkpoint().tree_size()),
               static_cast<unsigned long long>(request.kept_checkpoint().tree_size()),
               request.kept_checkpoint().time().c_str());
  return 0;
}

}  // namespace

std::optional<absl::StatusOr<IgCommand>> ParseIgCommand(const std::vector<std::string>& args) {
  if (args.empty()) return std::nullopt;
  if (args[0] == "cancel") return ParseCancel(args);
  if (args[0] != "audit") return std::nullopt;
  if (args.size() < 2) return Usage("audit needs a subcommand: query, verify, prove, public-key or check-proof");
  const std::string& sub = args[1];
  if (sub == "query") return ParseQuery(args);
  if (sub == "verify") return ParseVerify(args);
  if (sub == "check-proof") return ParseCheckProof(args);
  IgCommand command;
  if (sub == "prove") {
    char* end = nullptr;
    const unsigned long long index = args.size() == 3 ? std::strtoull(args[2].c_str(), &end, 10) : 0;
    if (args.size() != 3 || end == args[2].c_str() || *end != '\0' || args[2][0] == '-') {
      return Usage("audit prove INDEX: INDEX is a record's index (a number, as audit query shows it)");
    }
    command.kind = IgCommand::Kind::kAuditProve;
    command.prove.set_index(index);
    return command;
  }
  if (sub == "public-key") {
    if (args.size() != 2) return Usage("audit public-key takes no arguments");
    command.kind = IgCommand::Kind::kAuditPublicKey;
    return command;
  }
  return Usage(absl::StrCat("unknown audit subcommand ", sub, ": query, verify, prove, public-key or check-proof"));
}

int RunIgCommand(const IgCommand& command, const GatewayCall& call) {
  switch (command.kind) {
    case IgCommand::Kind::kAuditCheckProof:
      return CheckProof(command);
    case IgCommand::Kind::kAuditQuery:
      return Query(command, call);
    case IgCommand::Kind::kAuditVerify:
      return Verify(command, call);
    case IgCommand::Kind::kCancel: {
      v1::CancelReferralResponse response;
      grpc::Status status = v1::ReferralService::NewStub(call.channel)
                                ->CancelReferral(call.NewContext().get(), command.cancel, &response);
      if (!status.ok()) return Fail(status, call);
      std::cout << Json(response);
      return 0;
    }
    case IgCommand::Kind::kAuditProve: {
      v1::AuditInclusionProof response;
      grpc::Status status =
          v1::AuditService::NewStub(call.channel)->ProveInclusion(call.NewContext().get(), command.prove, &response);
      if (!status.ok()) return Fail(status, call);
      std::cout << Json(response);
      return 0;
    }
    case IgCommand::Kind::kAuditPublicKey: {
      v1::GetPublicKeyResponse response;
      grpc::Status status = v1::AuditService::NewStub(call.channel)
                                ->GetPublicKey(call.NewContext().get(), v1::GetPublicKeyRequest(), &response);
      if (!status.ok()) return Fail(status, call);
      std::cout << response.public_key_pem();
      return 0;
    }
  }
  return frontdoor::tools::kExitUsage;
}

}  // namespace frontdoor::cli
