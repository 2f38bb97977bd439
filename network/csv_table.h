// CsvTable: the small CSV dialect of the network files (shared/network/README.md), parsed strictly
// because the files are configuration: a mistake should stop the gateway with a message that names
// the file and line, not route referrals to the wrong team.
//
// The dialect: UTF-8 text, one header row, comma-separated fields with no quoting (no field
// contains a comma or a quote). A line whose first character is '#' is a comment wherever it
// stands; blank lines are ignored. "\r\n" line endings, a UTF-8 byte-order mark and a missing or
// present final newline are all accepted.
//
//   absl::StatusOr<CsvTable> t =
//       ParseCsvTable("clusters.csv", text, {"cluster_id", "borough", "name"});
//   if (!t.ok()) return t.status();  // "clusters.csv:7: expected 3 columns ..., found 4"
//   for (const CsvRow& row : t->rows) Use(row.fields[0], row.line);
//
// Thread-safety: pure functions of their arguments.
#ifndef FRONTDOOR_NETWORK_CSV_TABLE_H_
#define FRONTDOOR_NETWORK_CSV_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace frontdoor::network {

struct CsvRow {
  int line = 0;                     // 1-based line number in the file, for error messages
  std::vector<std::string> fields;  // exactly as many as the header has columns
};

struct CsvTable {
  std::string file_name;
  std::vector<CsvRow> rows;  // data rows in file order (no header, no comments)
};

// Parses `text`, whose first non-comment line must equal `expected_header` joined by commas.
// Returns INVALID_ARGUMENT "<file_name>:<line>: ..." for a missing or different header, a row with
// the wrong number of columns, an empty field, or a field with leading or trailing whitespace.
absl::StatusOr<CsvTable> ParseCsvTable(std::string_view file_name, std::string_view text,
                                       const std::vector<std::string_view>& expected_header);

// INVALID_ARGUMENT "<file_name>:<line>: <message>": the one shape of every network file error.
absl::Status CsvError(std::string_view file_name, int line, std::string_view message);

}  // namespace frontdoor::network

#endif  // FRONTDOOR_NETWORK_CSV_TABLE_H_
