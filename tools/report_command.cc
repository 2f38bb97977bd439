#include "tools/report_command.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "audit/audit_csv.h"
#include "common/calendar_date.h"
#include "frontdoor/v1/reporting_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "reporting/report_calendar.h"
#include "reporting/report_text.h"
#include "tools/cli_errors.h"

namespace frontdoor::cli {
namespace {

namespace v1 = ::frontdoor::v1;

// ReportRequest's rule: at most this many values per filter.
constexpr size_t kMaxFilterValues = 100;

// The source kinds (reporting/referral_facts.h): who sent a referral, as ReportRequest.sources
// takes them. The referrers.csv kinds are the ones network/network_directory.cc accepts.
constexpr const char* kSources[] = {"gp-practice",   "self-referral", "hospital", "social-care",
                                    "mental-health", "early-help",    "community"};

absl::Status Usage(absl::string_view what) { return absl::InvalidArgumentError(what); }

// Ids in network/*.csv are lower-case words joined by single hyphens; a borough is one word.
bool IsId(absl::string_view s, bool one_word) {
  if (s.empty() || s.size() > 200 || s.front() == '-' || s.back() == '-') return false;
  char previous = 0;
  for (char c : s) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!word && (c != '-' || one_word || previous == '-')) return false;
    previous = c;
  }
  return true;
}

absl::StatusOr<CalendarDate> Day(const std::string& flag, const std::string& text) {
  std::optional<CalendarDate> day = CalendarDate::Parse(text);
  if (!day.has_value()) return Usage(absl::StrCat(flag, " ", text, ": not a day (YYYY-MM-DD, a real day)"));
  return *day;
}

// --name value pairs; filters may repeat, every other option is given once.
struct ReportOptions {
  std::map<std::string, std::string> single;
  std::map<std::string, std::vector<std::string>> filters;
};

absl::StatusOr<ReportOptions> ReadOptions(const std::vector<std::string>& args) {
  static const std::set<std::string> kSingle = {"--from", "--to", "--period", "--by", "--format"};
  static const std::set<std::string> kRepeated = {"--borough", "--cluster", "--category", "--team", "--source"};
  ReportOptions options;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name.rfind("--", 0) != 0) return Usage(absl::StrCat("report takes only --name value options, not ", name));
    if (kSingle.count(name) == 0 && kRepeated.count(name) == 0) {
      return Usage(absl::StrCat("unknown option ", name,
                                " for report (it takes --from, --to, --period, --by, --borough, --cluster, "
                                "--category, --team, --source, --format)"));
    }
    if (i + 1 >= args.size()) return Usage(absl::StrCat(name, " needs a value"));
    const std::string& value = args[++i];
    if (kRepeated.count(name) > 0) {
      options.filters[name].push_back(value);
    } else if (!options.single.emplace(name, value).second) {
      return Usage(absl::StrCat(name, " is given twice"));
    }
  }
  return options;
}

// One word of `words` (a flag's list), as the enum value beside it.
template <typename T>
absl::StatusOr<T> Word(const std::string& flag, const std::string& text,
                       std::initializer_list<std::pair<const char*, T>> words) {
  std::vector<std::string> names;
  for (const auto& [name, value] : words) {
    if (text == name) return value;
    names.push_back(name);
  }
  return Usage(absl::StrCat(flag, " ", text, ": not one of ", absl::StrJoin(names, ", ")));
}

absl::Status AddFilter(const ReportOptions& options, const std::string& flag,
                       google::protobuf::RepeatedPtrField<std::string>* out) {
  auto given = options.filters.find(flag);
  if (given == options.filters.end()) return absl::OkStatus();
  if (given->second.size() > kMaxFilterValues) {
    return Usage(absl::StrCat(flag, " is given ", given->second.size(), " times: at most ", kMaxFilterValues));
  }
  for (const std::string& value : given->second) {
    if (flag == "--source") {
      if (std::none_of(std::begin(kSources), std::end(kSources), [&](const char* s) { return value == s; })) {
        return Usage(absl::StrCat("--source ", value, ": not one of ", absl::StrJoin(kSources, ", ")));
      }
    } else if (flag == "--borough" && !IsId(value, /*one_word=*/true)) {
      return Usage(absl::StrCat("--borough ", value, ": a borough is one lower-case word (oldham)"));
    } else if (!IsId(value, /*one_word=*/false)) {
      return Usage(absl::StrCat(flag, " ", value, ": not an id of network/*.csv (lower-case words joined by hyphens)"));
    }
    *out->Add() = value;
  }
  return absl::OkStatus();
}

// ---- Rendering ----

}  // namespace

std::optional<absl::StatusOr<ReportCommand>> ParseReportCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "report") return std::nullopt;
  absl::StatusOr<ReportOptions> read = ReadOptions(args);
  if (!read.ok()) return read.status();
  std::map<std::string, std::string>& o = read->single;
  ReportCommand command;
  v1::ReportRequest& request = command.request;

  for (const char* flag : {"--from", "--to"}) {
    if (o.count(flag) == 0) return Usage(absl::StrCat("report needs --from DAY and --to DAY (YYYY-MM-DD)"));
  }
  absl::StatusOr<CalendarDate> from = Day("--from", o["--from"]);
  if (!from.ok()) return from.status();
  absl::StatusOr<CalendarDate> to = Day("--to", o["--to"]);
  if (!to.ok()) return to.status();
  if (*to < *from) return Usage(absl::StrCat("--from ", o["--from"], " is after --to ", o["--to"]));
  const long long days =
      absl::CivilDay(to->year, to->month, to->day) - absl::CivilDay(from->year, from->month, from->day) + 1;
  if (days > reporting::kMaxReportDays) {
    return Usage(absl::StrCat("--from ", o["--from"], " --to ", o["--to"], ": ", days,
                              " days; a report covers at most ", reporting::kMaxReportDays));
  }
  request.set_from_date(o["--from"]);
  request.set_to_date(o["--to"]);

  absl::StatusOr<v1::ReportRequest::Period> period =
      Word("--period", o.count("--period") ? o["--period"] : "week",
           {std::pair{"week", v1::ReportRequest::WEEK}, std::pair{"month", v1::ReportRequest::MONTH}});
  if (!period.ok()) return period.status();
  request.set_period(*period);

  absl::StatusOr<v1::ReportRequest::Breakdown> breakdown =
      Word("--by", o.count("--by") ? o["--by"] : "none",
           {std::pair{"none", v1::ReportRequest::NONE}, std::pair{"borough", v1::ReportRequest::BOROUGH},
            std::pair{"cluster", v1::ReportRequest::CLUSTER}, std::pair{"category", v1::ReportRequest::CATEGORY},
            std::pair{"team", v1::ReportRequest::TEAM}, std::pair{"source", v1::ReportRequest::SOURCE}});
  if (!breakdown.ok()) return breakdown.status();
  request.set_breakdown(*breakdown);

  if (o.count("--format")) {
    absl::StatusOr<ReportCommand::Format> format =
        Word("--format", o["--format"],
             {std::pair{"table", ReportCommand::Format::kTable}, std::pair{"csv", ReportCommand::Format::kCsv},
              std::pair{"json", ReportCommand::Format::kJson}});
    if (!format.ok()) return format.status();
    command.format = *format;
  }

  for (const auto& [flag, field] :
       {std::pair{"--borough", request.mutable_boroughs()}, std::pair{"--cluster", request.mutable_clusters()},
        std::pair{"--category", request.mutable_categories()}, std::pair{"--team", request.mutable_teams()},
        std::pair{"--source", request.mutable_sources()}}) {
    if (absl::Status s = AddFilter(*read, flag, field); !s.ok()) return s;
  }
  return command;
}

int RunReportCommand(const ReportCommand& command, const frontdoor::tools::GatewayCall& call, bool terminal) {
  v1::Report report;
  grpc::Status status =
      v1::ReportingService::NewStub(call.channel)->GetReport(call.NewContext().get(), command.request, &report);
  if (!status.ok()) return frontdoor::tools::ReportGrpcError(status, call.target);
  switch (command.FormatFor(terminal)) {
    case ReportCommand::Format::kTable:
      std::cout << reporting::ReportTable(report);
      break;
    case ReportCommand::Format::kCsv:
      std::cout << reporting::ReportCsv(report);
      break;
    case ReportCommand::Format::kJson:
      std::cout << reporting::ReportJson(report);
      break;
  }
  return frontdoor::tools::kExitOk;
}

}  // namespace frontdoor::cli
