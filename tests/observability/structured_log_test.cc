#include "observability/structured_log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rapidjson/document.h"

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
  EXPECT_EQ(line, R"(2026-11-22T05:45:22.345Z info grpc_call: call finished code=OK request_id="a b\x0a\"c\"" duration_ms=1.5)");
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
