#include "network/csv_table.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace frontdoor::network {
namespace {

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

std::string Join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ',';
    out += parts[i];
  }
  return out;
}

}  // namespace

absl::Status CsvError(std::string_view file_name, int line, std::string_view message) {
  std::string text(file_name);
  text += ':';
  text += std::to_string(line);
  text += ": ";
  text += message;
  return absl::InvalidArgumentError(text);
}

absl::StatusOr<CsvTable> ParseCsvTable(std::string_view file_name, std::string_view text,
                                       const std::vector<std::string_view>& expected_header) {
  CsvTable table;
  table.file_name = std::string(file_name);
  if (text.substr(0, kUtf8ByteOrderMark.size()) == kUtf8ByteOrderMark) {
    text.remove_prefix(kUtf8ByteOrderMark.size());
  }
  const std::string header = Join(expected_header);
  bool seen_header = false;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#' || IsBlank(line)) continue;

    if (!seen_header) {
      if (line != header) {
        return CsvError(file_name, line_number,
                        "expected the header row '" + header + "', found '" + std::string(line) + "'");
      }
      seen_header = true;
      continue;
    }

    std::vector<std::string_view> fields = SplitFields(line);
    if (fields.size() != expected_header.size()) {
      return CsvError(file_name, line_number,
                      "expected " + std::to_string(expected_header.size()) + " columns (" + header + "), found " +
                          std::to_string(fields.size()));
    }
    CsvRow row;
    row.line = line_number;
    for (size_t i = 0; i < fields.size(); ++i) {
      std::string_view field = fields[i];
      if (field.empty()) {
        return CsvError(file_name, line_number, "column " + std::string(expected_header[i]) + " is empty");
      }
      if (IsSpace(field.front()) || IsSpace(field.back())) {
        return CsvError(file_name, line_number,
                        "column " + std::string(expected_header[i]) + " has leading or trailing whitespace");
      }
      row.fields.emplace_back(field);
    }
    table.rows.push_back(std::move(row));
  }
  if (!seen_header) {
    // Point at the end of the file: that is where the reader runs out of lines looking for it.
    return CsvError(file_name, line_number == 0 ? 1 : line_number,
                    "no header row before the end of the file (expected '" + header + "')");
  }
  return table;
}

}  // namespace frontdoor::network
