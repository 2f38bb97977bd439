#include "adapters/hl7v2_message.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapters/adapter_test_support.h"

namespace frontdoor::adapters {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadSample;

constexpr char kSmall[] =
    "MSH|^~\\&|APP|FAC|RAPP|RFAC|20250101||REF^I12^REF_I12|CTRL1|P|2.5.1\r"
    "PID|1||111^^^X^MR~222^^^NHS^NH||DOE^JO^A^^MR||19700101\r"
    "NTE|1|P|a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f|1R\r";

Hl7Message ParseOk(std::string_view er7, const Hl7Limits& limits = Hl7Limits{}) {
  absl::StatusOr<Hl7Message> message = Hl7Message::Parse(er7, limits);
  EXPECT_TRUE(message.ok()) << message.status();
  return *std::move(message);
}

TEST(Hl7MessageTest, ReadsPositionsAsHl7CountsThem) {
  Hl7Message m = ParseOk(kSmall);
  ASSERT_EQ(m.segment_count(), 3u);
  EXPECT_EQ(m.segment_id(0), "MSH");
  EXPECT_EQ(m.Field("MSH", 1), "|");
  EXPECT_EQ(m.Field("MSH", 2), "^~\\&");
  EXPECT_EQ(m.Field("MSH", 3), "APP");
  EXPECT_EQ(m.Field("MSH", 9, 1, 1), "REF");
  EXPECT_EQ(m.Field("MSH", 9, 1, 2), "I12");
  EXPECT_EQ(m.Field("MSH", 10), "CTRL1");
  EXPECT_EQ(m.Field("MSH", 12), "2.5.1");
  EXPECT_EQ(m.Field("PID", 3, 2, 1), "222");
  EXPECT_EQ(m.Field("PID", 3, 2, 5), "NH");
  EXPECT_EQ(m.Field("PID", 5, 1, 2), "JO");
  EXPECT_EQ(m.Field("PID", 7), "19700101");
  EXPECT_EQ(m.RepetitionCount(1, 3), 2u);
  EXPECT_EQ(m.ComponentCount(1, 3, 2), 5u);
  EXPECT_EQ(m.field_count(1), 7u);
}

TEST(Hl7MessageTest, AbsentPositionsAreEmpty) {
  Hl7Message m = ParseOk(kSmall);
  EXPECT_EQ(m.Field("PID", 99), "");
  EXPECT_EQ(m.Field("PID", 3, 3, 1), "");
  EXPECT_EQ(m.Field("PID", 3, 1, 9), "");
  EXPECT_EQ(m.Field("PID", 7, 1, 1, 2), "");
  EXPECT_EQ(m.Field("ZZZ", 1), "");
  EXPECT_EQ(m.Value(42, 1), "");
  EXPECT_EQ(m.Value(1, 0), "");
  EXPECT_EQ(m.RepetitionCount(1, 2), 0u);
}

TEST(Hl7MessageTest, DecodesTheStandardEscapes) {
  Hl7Message m = ParseOk(kSmall);
  EXPECT_EQ(m.Field("NTE", 3), "a|b^c&d~e\\f");
  EXPECT_EQ(m.Field("NTE", 4), "1R");
}

TEST(Hl7MessageTest, SubComponents) {
  Hl7Message m = ParseOk("MSH|^~\\&|A\rPID|1||x&y&z^b\r");
  EXPECT_EQ(m.Field("PID", 3, 1, 1, 1), "x");
  EXPECT_EQ(m.Field("PID", 3, 1, 1, 3), "z");
  EXPECT_EQ(m.Field("PID", 3, 1, 2, 1), "b");
}

TEST(Hl7MessageTest, HexFormattingAndUnknownEscapes) {
  Hl7Delimiters d;
  EXPECT_EQ(Hl7Unescape("a\\X0D0A\\b", d), "a\r\nb");
  EXPECT_EQ(Hl7Unescape("caf\\XC3A9\\", d), "caf\xC3\xA9");
  EXPECT_EQ(Hl7Unescape("line\\.br\\next", d), "line\nnext");
  EXPECT_EQ(Hl7Unescape("\\H\\bold\\N\\", d), "bold");
  EXPECT_EQ(Hl7Unescape("x\\X00\\y", d), "xy");     // NUL is dropped
  EXPECT_EQ(Hl7Unescape("x\\XFF\\y", d), "xy");     // not UTF-8: dropped
  EXPECT_EQ(Hl7Unescape("x\\XZZ\\y", d), "xy");     // not hex: dropped
  EXPECT_EQ(Hl7Unescape("x\\Q\\y", d), "x\\Q\\y");  // unknown: kept as written
  EXPECT_EQ(Hl7Unescape("x\\unterminated", d), "x\\unterminated");
  EXPECT_EQ(Hl7Unescape("\\Cxxyy\\k\\Mxxyyzz\\", d), "k");
}

TEST(Hl7MessageTest, EscapesRoundTrip) {
  const std::string texts[] = {
      "plain", "a|b^c~d\\e&f",      "two\r\nlines\nhere", "\\F\\ literally", "caf\xC3\xA9 \xF0\x9F\x98\x80",
      "",      "|||^^^~~~&&&\\\\\\"};
  Hl7Delimiters standard;
  Hl7Delimiters custom{'#', '!', '*', '$', '%'};
  for (const std::string& text : texts) {
    for (const Hl7Delimiters& d : {standard, custom}) {
      std::string escaped = Hl7Escape(text, d);
      EXPECT_EQ(escaped.find(d.field), std::string::npos);
      EXPECT_EQ(escaped.find('\r'), std::string::npos);
      EXPECT_EQ(Hl7Unescape(escaped, d), text);
    }
  }
  // Through a whole message too.
  std::string value = "Ward 3|West ^ & ~ \\ done";
  Hl7Message m = ParseOk("MSH|^~\\&|A\rNTE|1||" + Hl7Escape(value, standard) + "\r");
  EXPECT_EQ(m.Field("NTE", 3), value);
}

TEST(Hl7MessageTest, DelimitersComeFromTheMessage) {
  Hl7Message m = ParseOk("MSH#!*$%#APP#FAC###20250101##REF!I12#C1\rPID#1##111!!!NHS!NH*222##a$F$b\r");
  EXPECT_EQ(m.delimiters().field, '#');
  EXPECT_EQ(m.delimiters().component, '!');
  EXPECT_EQ(m.Field("MSH", 1), "#");
  EXPECT_EQ(m.Field("MSH", 2), "!*$%");
  EXPECT_EQ(m.Field("MSH", 3), "APP");
  EXPECT_EQ(m.Field("MSH", 9, 1, 2), "I12");
  EXPECT_EQ(m.Field("MSH", 10), "C1");
  EXPECT_EQ(m.Field("PID", 3, 1, 5), "NH");
  EXPECT_EQ(m.Field("PID", 3, 2, 1), "222");
  EXPECT_EQ(m.Field("PID", 5), "a#b");
}

TEST(Hl7MessageTest, HashAsComponentSeparator) {
  Hl7Message m = ParseOk("MSH|#~\\&|APP|FAC|||||REF#I12|C9\r");
  EXPECT_EQ(m.Field("MSH", 9, 1, 1), "REF");
  EXPECT_EQ(m.Field("MSH", 9, 1, 2), "I12");
}

TEST(Hl7MessageTest, TruncationCharacterIsAccepted) {
  Hl7Message m = ParseOk("MSH|^~\\&#|APP|FAC\r");
  EXPECT_EQ(m.Field("MSH", 2), "^~\\&#");
  EXPECT_EQ(m.Field("MSH", 3), "APP");
  EXPECT_EQ(m.Field("MSH", 4), "FAC");
}

TEST(Hl7MessageTest, SegmentsEndAtCrLfOrCrLf) {
  std::string cr = ReadSample("17-hl7-tameside-hospital.hl7");
  std::string lf = cr;
  for (char& c : lf) c = c == '\r' ? '\n' : c;
  std::string crlf;
  for (char c : cr) crlf += c == '\r' ? std::string("\r\n") : std::string(1, c);
  for (const std::string& text : {cr, lf, crlf, "\x0b" + cr + "\x1c\r"}) {
    Hl7Message m = ParseOk(text);
    EXPECT_EQ(m.segment_count(), 11u);
    EXPECT_EQ(m.Field("NTE", 3), "Admitted after a fall, now medically fit. Lives alone, lost confidence.");
    EXPECT_EQ(m.Field("PID", 7), "19400322");
  }
}

void ExpectError(std::string_view er7, absl::StatusCode code, std::string_view words,
                 const Hl7Limits& limits = Hl7Limits{}) {
  absl::StatusOr<Hl7Message> message = Hl7Message::Parse(er7, limits);
  ASSERT_FALSE(message.ok());
  EXPECT_EQ(message.status().code(), code) << message.status();
  EXPECT_THAT(std::string(message.status().message()), HasSubstr(std::string(words)));
}

TEST(Hl7MessageTest, NoMshFirstIsNotEr7) {
  ExpectError("PID|1||x\rMSH|^~\\&|A\r", absl::StatusCode::kInvalidArgument, "MSH");
  ExpectError("", absl::StatusCode::kInvalidArgument, "empty");
  ExpectError("\r\n\r\n", absl::StatusCode::kInvalidArgument, "empty");
  ExpectError("{\"resourceType\": \"Bundle\"}", absl::StatusCode::kInvalidArgument, "MSH");
  ExpectError("MSH", absl::StatusCode::kInvalidArgument, "MSH");
}

TEST(Hl7MessageTest, BadMsh1OrMsh2IsRefused) {
  ExpectError("MSHA^~\\&|APP", absl::StatusCode::kInvalidArgument, "MSH-1");
  ExpectError("MSH|^~\\|APP", absl::StatusCode::kInvalidArgument, "MSH-2");
  ExpectError("MSH|^~~&|APP", absl::StatusCode::kInvalidArgument, "different");
  ExpectError("MSH|^~|&|APP", absl::StatusCode::kInvalidArgument, "MSH-2");
  ExpectError("MSH|^~\\A|APP", absl::StatusCode::kInvalidArgument, "MSH-2");
  ExpectError("MSH|^~\\&xyz|APP", absl::StatusCode::kInvalidArgument, "MSH-2");
  ExpectError("MSH| ~\\&|APP", absl::StatusCode::kInvalidArgument, "MSH-2");
}

TEST(Hl7MessageTest, BadSegmentIdsAndSecondMshAreRefused) {
  ExpectError("MSH|^~\\&|A\rpid|1\r", absl::StatusCode::kInvalidArgument, "segment 2");
  ExpectError("MSH|^~\\&|A\rPIDX|1\r", absl::StatusCode::kInvalidArgument, "segment 2");
  ExpectError("MSH|^~\\&|A\rMSH|^~\\&|B\r", absl::StatusCode::kInvalidArgument, "second MSH");
}

TEST(Hl7MessageTest, NulAndNonUtf8AreRefused) {
  ExpectError(std::string("MSH|^~\\&|A\0B\r", 13), absl::StatusCode::kInvalidArgument, "NUL");
  ExpectError("MSH|^~\\&|A\xC3\x28\r", absl::StatusCode::kInvalidArgument, "UTF-8");
}

TEST(Hl7MessageTest, TooManySegments) {
  std::string text = "MSH|^~\\&|A\r";
  for (int i = 0; i < 100000; ++i) text += "NTE|1\r";
  Hl7Limits limits;
  limits.max_bytes = 10 << 20;
  ExpectError(text, absl::StatusCode::kResourceExhausted, "more than 1000 segments", limits);
}

TEST(Hl7MessageTest, TooManyRepetitions) {
  std::string field;
  for (int i = 0; i < 1000; ++i) field += "x~";
  ExpectError("MSH|^~\\&|A\rPID|1||" + field + "\r", absl::StatusCode::kResourceExhausted, "more than 100 repetitions");
  // 100 is fine.
  field.clear();
  for (int i = 0; i < 99; ++i) field += "x~";
  EXPECT_TRUE(Hl7Message::Parse("MSH|^~\\&|A\rPID|1||" + field + "x\r", Hl7Limits{}).ok());
}

TEST(Hl7MessageTest, TooManyComponentsOrSubComponents) {
  ExpectError("MSH|^~\\&|A\rPID|1||" + std::string(200, '^') + "\r", absl::StatusCode::kResourceExhausted,
              "components");
  ExpectError("MSH|^~\\&|A\rPID|1||" + std::string(200, '&') + "\r", absl::StatusCode::kResourceExhausted,
              "components");
}

TEST(Hl7MessageTest, AFieldOverTheByteLimit) {
  Hl7Limits limits;
  limits.max_bytes = 4 << 20;
  ExpectError("MSH|^~\\&|A\rNTE|1||" + std::string(1 << 20, 'a') + "\r", absl::StatusCode::kResourceExhausted, "NTE-3",
              limits);
}

TEST(Hl7MessageTest, AMessageOverTheByteLimit) {
  ExpectError("MSH|^~\\&|A\rNTE|1||" + std::string((1 << 20) + 1, 'a') + "\r", absl::StatusCode::kResourceExhausted,
              "bytes");
}

TEST(Hl7MessageTest, TooManyFields) {
  ExpectError("MSH|^~\\&|A\rZZZ" + std::string(5000, '|') + "\r", absl::StatusCode::kResourceExhausted, "fields");
}

TEST(Hl7MessageTest, FindsSegmentsInOrder) {
  Hl7Message m = ParseOk(ReadSample("17-hl7-tameside-hospital.hl7"));
  EXPECT_THAT(m.FindSegments("DG1"), ElementsAre(6u, 7u));
  EXPECT_THAT(m.FindSegments("PRD"), ElementsAre(2u, 3u, 4u));
  EXPECT_EQ(m.FindFirst("PD1"), std::nullopt);
}

}  // namespace
}  // namespace frontdoor::adapters
