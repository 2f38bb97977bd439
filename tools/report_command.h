// `frontdoor report`: outcome figures for commissioners and IG officers (ReportingService,
// proto/frontdoor/v1/reporting_service.proto), as a table to read, CSV for a spreadsheet, or the
// Report itself as JSON. The command line is read and checked first, so a wrong one is told (exit 2,
// naming the flag) before any certificate is looked for or anything is sent; then it runs.
//
//   std::optional<absl::StatusOr<ReportCommand>> command = ParseReportCommand(args);
//   if (!command.has_value()) ...;             // not `report`
//   if (!command->ok()) ...;                   // usage error: (*command).status().message()
//   int rc = RunReportCommand(**command, call, /*terminal=*/isatty(1));
//
// The answer is printed by reporting/report_text.h (shared with the web console's CSV download).
#ifndef FRONTDOOR_TOOLS_REPORT_COMMAND_H_
#define FRONTDOOR_TOOLS_REPORT_COMMAND_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontdoor/v1/reporting_service.pb.h"
#include "tools/cli_credentials.h"

namespace frontdoor::cli {

inline constexpr char kReportUsage[] = R"(
commissioners and IG officers (--as an identity listed in commissioners or ig_officers):
  report --from DAY --to DAY [--period week|month]
         [--by none|borough|cluster|category|team|source]
         [--borough B]... [--cluster C]... [--category K]... [--team T]... [--source S]...
         [--format table|csv|json] [--output FILE]
                              referrals, the casework funnel, days to contact, conversation and
                              closure (median, 90th percentile) and wellbeing change, per period
                              (default week, Monday to Sunday) and group (default none: totals);
                              aggregates only, counts 1 to 7 and what would reveal them shown as *;
                              DAY is YYYY-MM-DD (both days included, at most 3660 days); the
                              filters repeat, keeping referrals with any value given: B a borough
                              (oldham), C, K, T ids of network/*.csv, S gp-practice, self-referral,
                              hospital, social-care, mental-health, early-help or community;
                              --format: table (default on a terminal), csv (a row per period and
                              group), json (the Report; the default otherwise);
                              exit 0 report given, 2 usage, 3 gateway not reached, 5 not a
                              commissioner or IG officer, 1 other errors (the gateway's message)
)";

// `report`, read and checked: the request it will send and how to print the answer.
struct ReportCommand {
  enum class Format { kTable, kCsv, kJson };
  frontdoor::v1::ReportRequest request;
  std::optional<Format> format;  // --format; nullopt: a table on a terminal, JSON otherwise

  Format FormatFor(bool terminal) const { return format.value_or(terminal ? Format::kTable : Format::kJson); }
};

// Reads `args` (the command and its arguments). Returns nullopt when they are not `report`; else
// the command, or INVALID_ARGUMENT naming the flag and what it takes (a missing --from or --to, a
// day that is not a real YYYY-MM-DD, --from after --to, a range over 3660 days, a word not in its
// list, an id that is not a lower-case id, an unknown option, a flag given twice).
std::optional<absl::StatusOr<ReportCommand>> ParseReportCommand(const std::vector<std::string>& args);

// Calls ReportingService.GetReport and prints the answer on std::cout in the command's format
// (`terminal`: stdout is a terminal); nothing there when it fails, and the error on stderr by its
// gRPC status name. Returns the exit status (tools/cli_errors.h).
int RunReportCommand(const ReportCommand& command, const frontdoor::tools::GatewayCall& call, bool terminal);

}  // namespace frontdoor::cli

#endif  // FRONTDOOR_TOOLS_REPORT_COMMAND_H_
