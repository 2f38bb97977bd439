// The FHIR adapter's two JSON readers: simdjson (the fast path) and RapidJSON (the reference,
// whose answers senders get). Whatever the fast path returns must be exactly what the reference
// returns; everything the reference refuses, the fast path must decline. Each edge case where the
// two libraries differ has a test here; fuzz/fhir_reader_differential_fuzzer looks for more.
#include <filesystem>
#include <optional>
#include <string>

#include "adapters/fhir_referral_adapter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapters/adapter_test_support.h"
#include "tests/adapters/parsed_referral_summary.h"

namespace frontdoor::adapters {
namespace {

using testing::ParsedReferralSummary;
using testing::ReadSample;
using testing::ReplaceOnce;

std::string Sample01() { return ReadSample("01-fhir-oldham-wellbeing.json"); }

// The fast path answers as the reference or not at all, and ParseFhirReferral answers as the
// reference always. Returns whether the fast path answered.
bool ReadersAgree(const std::string& json, const FhirLimits& limits = FhirLimits{}) {
  const std::string reference = ParsedReferralSummary(ParseFhirReferralWithRapidJson(json, limits));
  const std::optional<ParsedReferral> fast = ParseFhirReferralWithSimdjson(json, limits);
  if (fast) {
    EXPECT_EQ(ParsedReferralSummary(*fast), reference);
  }
  EXPECT_EQ(ParsedReferralSummary(ParseFhirReferral(json, limits)), reference);
  return fast.has_value();
}

// The reference refuses it as MALFORMED, and the fast path declines it.
void ExpectSlowPathRefuses(const std::string& json, const FhirLimits& limits = FhirLimits{}) {
  EXPECT_FALSE(ReadersAgree(json, limits));
  ParsedReferral reference = ParseFhirReferralWithRapidJson(json, limits);
  ASSERT_FALSE(reference.issues.empty());
  EXPECT_EQ(reference.issues[0].code(), "MALFORMED");
}

TEST(FhirJsonReadersTest, EveryFhirSampleTakesTheFastPathAndReadsAsTheReference) {
  int samples = 0;
  for (const auto& file : std::filesystem::directory_iterator(testing::SamplesDir())) {
    if (file.path().extension() != ".json") continue;
    SCOPED_TRACE(file.path().filename().string());
    EXPECT_TRUE(ReadersAgree(ReadSample(file.path().filename().string())));
    ++samples;
  }
  EXPECT_GE(samples, 16);
}

TEST(FhirJsonReadersTest, DuplicateKeysTakeTheSlowPath) {
  ExpectSlowPathRefuses(R"({"resourceType": "Bundle", "resourceType": "Patient"})");
  ExpectSlowPathRefuses(ReplaceOnce(Sample01(), R"("birthDate": "1979-08-14")",
                                    R"("birthDate": "1979-08-14", "birthDate": "2010-01-01")"));
  // Keys are compared unescaped: "\u0061" is "a".
  ExpectSlowPathRefuses(R"({"a": 1, "\u0061": 2})");
  // Objects with more keys than are compared one by one.
  for (int keys : {16, 17, 40}) {
    std::string object = "{";
    for (int i = 0; i < keys; ++i) object += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ", ";
    EXPECT_TRUE(ReadersAgree(object + "\"last\": 0}"));
    ExpectSlowPathRefuses(object + "\"k3\": 0}");
  }
}

// The fast path's key index hashes a key's length, first four and last four bytes (with its
// object); keys alike in all three differ only in the middle, which is compared too.
TEST(FhirJsonReadersTest, KeysThatDifferOnlyInTheMiddleAreNotDuplicates) {
  for (const char* middle : {"1", "12345678", "123456789"}) {
    const std::string a = std::string("abcd") + middle + "wxyz";
    std::string b = a;
    b[4] = 'X';
    std::string c = a;
    c[c.size() - 5] = 'Y';
    SCOPED_TRACE(a);
    EXPECT_TRUE(ReadersAgree("{\"" + a + "\": 1, \"" + b + "\": 2, \"" + c + "\": 3}"));
    ExpectSlowPathRefuses("{\"" + a + "\": 1, \"" + b + "\": 2, \"" + a + "\": 3}");
  }
}

// Many keys alike in what the index hashes pile up on one slot; past a bound the fast path
// declines (a hostile sender cannot make it quadratic), and the answer is the reference's.
TEST(FhirJsonReadersTest, KeysThatCollideInTheIndexAreLeftToRapidJson) {
  for (int keys : {8, 200}) {
    std::string object = "{";
    for (int i = 0; i < keys; ++i) object += "\"abcd" + std::to_string(1000 + i) + "wxyz\": 0, ";
    SCOPED_TRACE(keys);
    EXPECT_EQ(ReadersAgree(object + "\"resourceType\": \"Patient\"}"), keys == 8);
    ExpectSlowPathRefuses(object + "\"abcd1003wxyz\": 1}");
  }
}

TEST(FhirJsonReadersTest, TheSameKeyInSiblingOrNestedObjectsIsFine) {
  EXPECT_TRUE(ReadersAgree(R"({"a": {"x": 1}, "b": {"x": 1}, "x": {"x": {"x": 2}}, "resourceType": "Patient"})"));
}

TEST(FhirJsonReadersTest, DepthAtTheLimitIsFastOneLevelMoreIsRefused) {
  const std::string at_limit = R"({"x":)" + std::string(63, '[') + std::string(63, ']') + "}";
  EXPECT_TRUE(ReadersAgree(at_limit));
  ExpectSlowPathRefuses(R"({"x":)" + std::string(64, '[') + std::string(64, ']') + "}");
  FhirLimits shallow;
  shallow.max_depth = 5;
  EXPECT_TRUE(ReadersAgree(R"({"a": {"b": {"c": {"d": [1]}}}})", shallow));
  ExpectSlowPathRefuses(R"({"a": {"b": {"c": {"d": [[1]]}}}})", shallow);
  ExpectSlowPathRefuses(Sample01(), shallow);
}

TEST(FhirJsonReadersTest, ACallersDepthLimitAbove256IsLeftToRapidJson) {
  FhirLimits deep;
  deep.max_depth = 300;
  EXPECT_FALSE(ReadersAgree(Sample01(), deep));
}

TEST(FhirJsonReadersTest, AnyU0000EscapeTakesTheSlowPath) {
  ExpectSlowPathRefuses(R"({"resourceType": "Bun\u0000dle"})");
  ExpectSlowPathRefuses(R"({"resourceType": "Bundle", "a\u0000b": 1})");
  // An escaped backslash before "u0000" is no NUL, but the fast path need not tell.
  EXPECT_FALSE(ReadersAgree(R"({"resourceType": "Bundle", "a": "\\u0000"})"));
}

TEST(FhirJsonReadersTest, NumbersADoubleCannotHoldAreRefused) {
  for (const char* number : {"1e999", "-1e999", "1e309", "-1e309"}) {
    SCOPED_TRACE(number);
    ExpectSlowPathRefuses(std::string(R"({"resourceType": "Bundle", "n": )") + number + "}");
  }
  ExpectSlowPathRefuses(R"({"resourceType": "Bundle", "n": )" + std::string(400, '9') + "}");
}

TEST(FhirJsonReadersTest, NumbersBothReadersHoldAgree) {
  for (const char* number : {"1.7976931348623157e308", "-1.7976931348623157e308", "1e-400", "4.9e-324", "-0", "-0.0",
                             "0e0", "9223372036854775807", "-9223372036854775808", "18446744073709551615"}) {
    SCOPED_TRACE(number);
    ReadersAgree(std::string(R"({"resourceType": "Bundle", "n": )") + number + "}");
  }
  // Integers past 64 bits: RapidJSON reads them as doubles, simdjson declines them. So are values
  // just past the largest double that RapidJSON 1.1.0 reads (as infinity).
  for (const char* number :
       {"18446744073709551616", "-9223372036854775809", "123456789012345678901234567890", "1.8e308", "-1.8e308"}) {
    SCOPED_TRACE(number);
    EXPECT_FALSE(ReadersAgree(std::string(R"({"resourceType": "Bundle", "n": )") + number + "}"));
  }
}

TEST(FhirJsonReadersTest, ATelecomRankIsReadTheSameWhateverTheNumber) {
  // ContactPoint.rank is read only when it is an integer from 0 to 2^32 - 1.
  for (const char* rank : {"0", "-0", "7", "4294967295", "4294967296", "-1", "1.0", "1e0", "2.5", "9223372036854775807",
                           "18446744073709551615", "\"2\"", "null", "true"}) {
    SCOPED_TRACE(rank);
    EXPECT_TRUE(ReadersAgree(ReplaceOnce(Sample01(), R"("rank": 2)", std::string(R"("rank": )") + rank)));
  }
}

TEST(FhirJsonReadersTest, LoneSurrogateEscapesAreLeftToRapidJson) {
  for (const char* text : {R"(\ud800)", R"(\udc00)", R"(\ud800\u0041)", R"(\udbff)", R"(x\udfffx)"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ReadersAgree(ReplaceOnce(Sample01(), "Olivia", text)));
  }
  // A pair is one character (U+1F600), read the same by both.
  EXPECT_TRUE(ReadersAgree(ReplaceOnce(Sample01(), "Olivia", R"(Oli\ud83d\ude00via)")));
  EXPECT_TRUE(ReadersAgree(ReplaceOnce(Sample01(), "Olivia", R"(\u00c9lodie \u4e2d \/ \" \\ \t)")));
}

TEST(FhirJsonReadersTest, UnescapedControlBytesAreRefused) {
  for (int byte = 0x01; byte < 0x20; ++byte) {
    if (byte == '\t' || byte == '\n' || byte == '\r') continue;
    SCOPED_TRACE(byte);
    const std::string control(1, static_cast<char>(byte));
    ExpectSlowPathRefuses(ReplaceOnce(Sample01(), "Olivia", "Oli" + control + "via"));
    ExpectSlowPathRefuses(ReplaceOnce(Sample01(), R"("gender": "female")", R"("gender": )" + control + R"("female")"));
    ExpectSlowPathRefuses(ReplaceOnce(Sample01(), R"("rank": 2)", R"("rank": 2)" + control));
  }
  ExpectSlowPathRefuses(std::string("{\"resourceType\": \"Bun\0dle\"}", 26));
  ExpectSlowPathRefuses(std::string("{\"resourceType\": \"Bundle\"}\0", 27));
  // DEL (0x7F) needs no escape.
  EXPECT_TRUE(ReadersAgree(ReplaceOnce(Sample01(), "Olivia", "Oli\x7fvia")));
}

TEST(FhirJsonReadersTest, InvalidUtf8IsRefused) {
  for (const char* bad :
       {"\xff", "\xc3\x28", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xe2\x82"}) {
    SCOPED_TRACE(bad);
    ExpectSlowPathRefuses(ReplaceOnce(Sample01(), "Olivia", std::string("Oli") + bad + "via"));
  }
  ExpectSlowPathRefuses(Sample01() + "\xe2\x82");
  EXPECT_TRUE(ReadersAgree(ReplaceOnce(Sample01(), "Olivia", "Ol\xc3\xadvia \xf0\x9f\x98\x80")));
}

TEST(FhirJsonReadersTest, AByteOrderMarkIsRefused) { ExpectSlowPathRefuses("\xef\xbb\xbf" + Sample01()); }

TEST(FhirJsonReadersTest, SizeLimitsAndEmptyMessagesAreLeftToRapidJson) {
  FhirLimits small;
  small.max_bytes = 100;
  ExpectSlowPathRefuses(Sample01(), small);
  ExpectSlowPathRefuses("");
  ExpectSlowPathRefuses(" \n\t");
}

TEST(FhirJsonReadersTest, RootsOtherThanAnObjectAreLeftToRapidJson) {
  for (const char* root : {"[]", R"("Bundle")", "1", "null", "true", "[{\"resourceType\": \"Bundle\"}]"}) {
    SCOPED_TRACE(root);
    ExpectSlowPathRefuses(root);
  }
}

TEST(FhirJsonReadersTest, NotJsonIsRefused) {
  for (const char* text : {R"({"resourceType": "Bundle",})", R"({"resourceType": "Bundle"} {})", "{'a': 1}",
                           R"({"a": NaN})", R"({"a": 01})", R"({"a": .5})", R"({"a": "\x"})", R"({"a" 1})",
                           "{\"a\": 1 // c\n}", R"({"a": [1,]})", R"({"a": tru})"}) {
    SCOPED_TRACE(text);
    ExpectSlowPathRefuses(text);
  }
  ExpectSlowPathRefuses(Sample01().substr(0, 500));
}

TEST(FhirJsonReadersTest, MessagesOver64KiBUseAParserOfTheirOwn) {
  const std::string large =
      ReplaceOnce(Sample01(), "Finding something to do with other people at weekends.", std::string(100 << 10, 'w'));
  EXPECT_TRUE(ReadersAgree(large));
  EXPECT_TRUE(ReadersAgree(Sample01()));  // The thread's own parser is still there.
  EXPECT_TRUE(ReadersAgree(large));
}

}  // namespace
}  // namespace frontdoor::adapters
