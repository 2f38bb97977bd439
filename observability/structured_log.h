// Structured logs: one line per event on stderr, as a JSON object (the default, for log shippers)
// or as human-readable text (GatewayConfig.observability.log_format "text"). Every line has `time`
// (RFC 3339, UTC), `level`, `msg`, `event`, then the fields the caller gives.
//
//   Log(LogLevel::kInfo, "delivery", "delivery acknowledged",
//       {{"referral_id", id}, {"endpoint_id", endpoint}, {"attempt", int64_t{1}}});
//   // {"time":"2026-11-22T05:40:01.123Z","level":"info","msg":"delivery acknowledged",
//   //  "event":"delivery","referral_id":"...","endpoint_id":"...","attempt":1}
//
// Never pass patient data (NHS numbers, names, addresses, dates of birth, payload text) as a field
// or in `msg`: ids, codes, counts and sectors only. Field values are escaped, so hostile text from a
// caller (a request id, say) cannot forge a line or a field.
//
// Thread-safety: Log may be called from any thread; each line is written whole with one write.
// SetLogFormat and SetLogWriterForTesting are meant for start-up and tests.
#ifndef FRONTDOOR_OBSERVABILITY_STRUCTURED_LOG_H_
#define FRONTDOOR_OBSERVABILITY_STRUCTURED_LOG_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace frontdoor::observability {

enum class LogFormat { kJson, kText };
enum class LogLevel { kDebug, kInfo, kWarning, kError };

struct LogField {
  LogField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  LogField(std::string k, const char* v) : key(std::move(k)), value(std::string(v)) {}
  LogField(std::string k, int64_t v) : key(std::move(k)), value(v) {}
  LogField(std::string k, int v) : key(std::move(k)), value(static_cast<int64_t>(v)) {}
  LogField(std::string k, double v) : key(std::move(k)), value(v) {}
  LogField(std::string k, bool v) : key(std::move(k)), value(v) {}
  std::string key;
  std::variant<std::string, int64_t, double, bool> value;
};

// "json" (or empty) and "text"; INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(const std::string& name);

// The process-wide format (JSON until set).
void SetLogFormat(LogFormat format);
LogFormat CurrentLogFormat();

// One line, without the trailing newline. Pure: for tests and for Log.
std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level, const std::string& event,
                          const std::string& msg, const std::vector<LogField>& fields);

// Writes one line to stderr (or the test writer).
void Log(LogLevel level, const std::string& event, const std::string& msg, std::initializer_list<LogField> fields = {});
void Log(LogLevel level, const std::string& event, const std::string& msg, const std::vector<LogField>& fields);

// gRPC's own log lines (gpr_log: connection errors and the like) become structured lines too
// (event "grpc_library"), so that everything on stderr is one format. Call once, early in main.
void RouteGrpcLogsToStructuredLog();

// Lines go to `writer` (without newline) instead of stderr; an empty function restores stderr.
void SetLogWriterForTesting(std::function<void(const std::string&)> writer);

}  // namespace frontdoor::observability

#endif  // FRONTDOOR_OBSERVABILITY_STRUCTURED_LOG_H_
