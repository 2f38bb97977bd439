#include "observability/structured_log.h"

#include <random>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace frontdoor::observability {
namespace {

const absl::Time kWhen = absl::FromUnixMillis(1795326322345);  // 2026-11-22T05:45:22.345Z

TEST(StructuredLogTest, JsonLineHasTimeLevelMsgEventThenFields) {
  const std::string line = FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kInfo, "delivery", "delivery acknowledged",
                                         {{"referral_id", "r-1"}, {"attempt", int64_t{2}}, {"ok", true}});
  EXPECT_EQ(line,
            R"({"time":"2026-11-22T05:45:22.345Z","level":"info","msg":"delivery acknowledged","event":"delivery",)"
            R"("referral_id":"r-1","attempt":2,"ok":true})");
}

// The JSON line as rapidjson's writer makes it, configured as FormatLogLine's own writer: the
// reference its direct path for plain lines must match byte for byte.
std::string WriterLine(const std::string& when, const char* level, const std::string& event, const std::string& msg,
                       const std::vector<LogField>& fields) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::ASCII<>, rapidjson::CrtAllocator,
                    rapidjson::kWriteValidateEncodingFlag>
      writer(buffer);
  writer.StartObject();
  writer.Key("time");
  writer.String(when.data(), static_cast<rapidjson::SizeType>(when.size()));
  writer.Key("level");
  writer.String(level);
  writer.Key("msg");
  writer.String(msg.data(), static_cast<rapidjson::SizeType>(msg.size()));
  writer.Key("event");
  writer.String(event.data(), static_cast<rapidjson::SizeType>(event.size()));
  for (const LogField& f : fields) {
    writer.Key(f.key.data(), static_cast<rapidjson::SizeType>(f.key.size()));
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      writer.String(s->data(), static_cast<rapidjson::SizeType>(s->size()));
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      writer.Int64(*i);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      writer.Double(*d);
    } else {
      writer.Bool(std::get<bool>(f.value));
    }
  }
  writer.EndObject();
  return buffer.GetString();
}

TEST(StructuredLogTest, EveryJsonLineIsTheBytesRapidJsonsWriterMakes) {
  // Plain lines take a direct path; anything to escape takes the writer. Random lines of both
  // kinds (valid UTF-8: invalid text is replaced, tested below) must come out as the writer makes them.
  std::mt19937_64 rng(20261122);
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "0",
                                           " ",
                                           "-",
                                           ":",
                                           "/",
                                           ".",
                                           "_",
                                           "referral",
                                           "\"",
                                           "\\",
                                           "\n",
                                           "\t",
                                           std::string(1, '\x01'),
                                           "\x7f",
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x98\x80",
                                           "{",
                                           "}",
                                           ",",
                                           "="};
  auto text = [&](bool plain_only) {
    std::string out;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) out += pieces[rng() % (plain_only ? 9 : pieces.size())];
    return out;
  };
  const std::vector<double> doubles = {0.0, -0.0, 1.5, 0.1, 1e-7, 123456789.125, -2.5e300, 0.7234, 1.0 / 3};
  int plain_lines = 0;
  for (int round = 0; round < 4000; ++round) {
    const bool plain_only = rng() % 2 == 0;
    const std::string msg = text(plain_only), event = text(true);
    std::vector<LogField> fields;
    const int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      const std::string key = "k" + std::to_string(i) + text(true);
      switch (rng() % 4) {
        case 0:
          fields.emplace_back(key, text(plain_only));
          break;
        case 1:
          fields.emplace_back(key, static_cast<int64_t>(rng()));
          break;
        case 2:
          fields.emplace_back(key, doubles[rng() % doubles.size()] * static_cast<double>(rng() % 1000));
          break;
        default:
          fields.emplace_back(key, rng() % 2 == 0);
      }
    }
    if (plain_only) ++plain_lines;
    const LogLevel level = static_cast<LogLevel>(rng() % 4);
    const std::string line = FormatLogLine(LogFormat::kJson, kWhen, level, event, msg, fields);
    const char* level_name = level == LogLevel::kDebug     ? "debug"
                             : level == LogLevel::kInfo    ? "info"
                             : level == LogLevel::kWarning ? "warning"
                                                           : "error";
    ASSERT_EQ(line, WriterLine("2026-11-22T05:45:22.345Z", level_name, event, msg, fields)) << "round " << round;
  }
  EXPECT_GT(plain_lines, 1000);
}

TEST(StructuredLogTest, HostileValuesCannotBreakTheLineOrForgeAField) {
  const std::string hostile = "x\"}\n{\"level\":\"error\",\"msg\":\"forged\\";
  const std::string line =
      FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kWarning, "grpc_call", "m", {{"request_id", hostile}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  ASSERT_FALSE(doc.HasParseError()) << line;
  EXPECT_EQ(std::string(doc["request_id"].GetString()), hostile);
  EXPECT_EQ(std::string(doc["level"].GetString()), "warning");
  EXPECT_EQ(std::string(doc["msg"].GetString()), "m");
}

TEST(StructuredLogTest, InvalidUtf8IsReplacedAndTheLineStillParses) {
  const std::string line = FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kError, "e", "bad \xff\xfe bytes",
                                         {{"k", std::string("\xc3\x28 v")}});
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  ASSERT_FALSE(doc.HasParseError()) << line;
  EXPECT_EQ(std::string(doc["msg"].GetString()), "bad ?? bytes");
  EXPECT_EQ(std::string(doc["k"].GetString()), "?( v");
}

TEST(StructuredLogTest, TextFormatIsOneReadableLineWithEscapedValues) {
  const std::string line = FormatLogLine(LogFormat::kText, kWhen, LogLevel::kInfo, "grpc_call", "call finished",
                                         {{"code", "OK"}, {"request_id", "a b\n\"c\""}, {"duration_ms", 1.5}});
  EXPECT_EQ(
      line,
      R"(2026-11-22T05:45:22.345Z info grpc_call: call finished code=OK request_id="a b\x0a\"c\"" duration_ms=1.5)");
}

TEST(StructuredLogTest, LogFormatNames) {
  EXPECT_EQ(*ParseLogFormat(""), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(ParseLogFormat("yaml").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StructuredLogTest, LogWritesWholeLinesToTheWriter) {
  std::vector<std::string> lines;
  SetLogWriterForTesting([&lines](const std::string& line) { lines.push_back(line); });
  Log(LogLevel::kInfo, "e", "one", {{"n", 1}});
  SetLogWriterForTesting(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(R"("msg":"one","event":"e","n":1})"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace frontdoor::observability
