#include "observability/structured_log.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/time_text.h"
#include "grpc/support/log.h"
#include "rapidjson/internal/dtoa.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace frontdoor::observability {

namespace {

std::atomic<LogFormat> g_format{LogFormat::kJson};

absl::Mutex g_writer_mu(absl::kConstInit);
std::function<void(const std::string&)>* g_writer ABSL_GUARDED_BY(g_writer_mu) = nullptr;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Text values: printable ASCII as it is, anything else (control characters, quotes, non-ASCII)
// escaped, so that a value can never start a new line or look like another field.
void AppendTextValue(const std::string& value, std::string* out) {
  const bool plain = !value.empty() && value.find_first_of(" \"=\\") == std::string::npos;
  if (!plain) out->push_back('"');
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  if (!plain) out->push_back('"');
}

// True when the JSON writer below would copy `s` as it is: printable ASCII without a quote or a
// backslash (it escapes those, control characters and everything past ASCII).
bool PlainJsonText(std::string_view s) {
  for (const unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

// The usual line, every string plain and every number finite, written directly: the same bytes
// as the writer (numbers through the same conversions), which transcodes and validates each
// character, at a fraction of its cost (two lines per referral). nullopt: the line needs it.
std::optional<std::string> PlainJsonLine(const std::string& when, LogLevel level, const std::string& event,
                                         const std::string& msg, const std::vector<LogField>& fields) {
  if (!PlainJsonText(when) || !PlainJsonText(msg) || !PlainJsonText(event)) return std::nullopt;
  std::string out;
  out.reserve(80 + when.size() + msg.size() + event.size() + 40 * fields.size());
  absl::StrAppend(&out, R"({"time":")", when, R"(","level":")", LevelName(level), R"(","msg":")", msg, R"(","event":")",
                  event, "\"");
  for (const LogField& f : fields) {
    if (!PlainJsonText(f.key)) return std::nullopt;
    absl::StrAppend(&out, ",\"", f.key, "\":");
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      if (!PlainJsonText(*s)) return std::nullopt;
      absl::StrAppend(&out, "\"", *s, "\"");
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      char digits[24];
      out.append(digits, std::to_chars(digits, digits + sizeof digits, *i).ptr);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      if (!std::isfinite(*d)) return std::nullopt;
      char digits[32];
      out.append(digits, rapidjson::internal::dtoa(*d, digits));  // as Writer::Double writes it
    } else {
      out += std::get<bool>(f.value) ? "true" : "false";
    }
  }
  out.push_back('}');
  return out;
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(const std::string& name) {
  if (name.empty() || name == "json") return LogFormat::kJson;
  if (name == "text") return LogFormat::kText;
  return absl::InvalidArgumentError(
      absl::StrCat("observability.log_format must be \"json\" or \"text\", not \"", name.substr(0, 32), "\""));
}

void SetLogFormat(LogFormat format) { g_format.store(format); }
LogFormat CurrentLogFormat() { return g_format.load(); }

std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level, const std::string& event,
                          const std::string& msg, const std::vector<LogField>& fields) {
  const std::string when = FormatRfc3339Utc(time, 3);
  if (format == LogFormat::kText) {
    std::string out = absl::StrCat(when, " ", LevelName(level), " ", event, ": ");
    for (unsigned char c : msg) out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
    for (const LogField& f : fields) {
      absl::StrAppend(&out, " ", f.key, "=");
      if (const auto* s = std::get_if<std::string>(&f.value)) {
        AppendTextValue(*s, &out);
      } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
        absl::StrAppend(&out, *i);
      } else if (const auto* d = std::get_if<double>(&f.value)) {
        absl::StrAppend(&out, *d);
      } else {
        out += std::get<bool>(f.value) ? "true" : "false";
      }
    }
    return out;
  }
  if (std::optional<std::string> plain = PlainJsonLine(when, level, event, msg, fields)) return *std::move(plain);
  // RapidJSON's writer escapes quotes, backslashes and control characters; invalid UTF-8 is
  // rejected by ValidateEncoding (the value is then replaced rather than emitted half-written).
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::ASCII<>, rapidjson::CrtAllocator,
                    rapidjson::kWriteValidateEncodingFlag>
      writer(buffer);
  auto string_value = [&writer](const std::string& s) {
    if (!writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()))) {
      // Not valid UTF-8: the writer has stopped mid-value, so the line is rebuilt without it below.
      return false;
    }
    return true;
  };
  bool ok = true;
  writer.StartObject();
  writer.Key("time");
  string_value(when);
  writer.Key("level");
  string_value(LevelName(level));
  writer.Key("msg");
  ok = ok && string_value(msg);
  writer.Key("event");
  ok = ok && string_value(event);
  for (const LogField& f : fields) {
    if (!ok) break;
    ok = ok && writer.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      ok = ok && string_value(*s);
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      writer.Int64(*i);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      writer.Double(*d);
    } else {
      writer.Bool(std::get<bool>(f.value));
    }
  }
  if (ok) {
    writer.EndObject();
    return buffer.GetString();
  }
  // Some text was not UTF-8: write the line again with every string made ASCII-safe.
  auto ascii = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s) out.push_back(c < 0x80 ? static_cast<char>(c) : '?');
    return out;
  };
  std::vector<LogField> safe;
  for (const LogField& f : fields) {
    LogField copy = f;
    copy.key = ascii(f.key);
    if (auto* s = std::get_if<std::string>(&copy.value)) *s = ascii(*s);
    safe.push_back(std::move(copy));
  }
  return FormatLogLine(format, time, level, ascii(event), ascii(msg), safe);
}

void Log(LogLevel level, const std::string& event, const std::string& msg, const std::vector<LogField>& fields) {
  std::string line = FormatLogLine(CurrentLogFormat(), absl::Now(), level, event, msg, fields);
  {
    absl::MutexLock lock(&g_writer_mu);
    if (g_writer != nullptr) {
      (*g_writer)(line);
      return;
    }
  }
  line.push_back('\n');
  // One write(2) per line: lines from many threads never interleave.
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

void Log(LogLevel level, const std::string& event, const std::string& msg, std::initializer_list<LogField> fields) {
  Log(level, event, msg, std::vector<LogField>(fields));
}

void RouteGrpcLogsToStructuredLog() {
  gpr_set_log_function(+[](gpr_log_func_args* args) {
    LogLevel level = LogLevel::kInfo;
    if (args->severity == GPR_LOG_SEVERITY_ERROR) level = LogLevel::kError;
    if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = LogLevel::kDebug;
    const char* file = args->file != nullptr ? args->file : "";
    Log(level, "grpc_library", args->message != nullptr ? args->message : "",
        {{"source", absl::StrCat(file, ":", args->line)}});
  });
}

void SetLogWriterForTesting(std::function<void(const std::string&)> writer) {
  absl::MutexLock lock(&g_writer_mu);
  delete g_writer;
  g_writer = writer ? new std::function<void(const std::string&)>(std::move(writer)) : nullptr;
}

}  // namespace frontdoor::observability
