#include "common/utf8.h"

#include <iterator>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace frontdoor {
namespace {

TEST(Utf8Test, AcceptsAsciiAndMultibyteText) {
  EXPECT_FALSE(FirstInvalidUtf8Offset("plain ascii"));
  EXPECT_FALSE(FirstInvalidUtf8Offset("Siân Ó Súilleabháin, 林, 🙂"));
  EXPECT_FALSE(FirstInvalidUtf8Offset(""));
}

TEST(Utf8Test, FindsTheFirstInvalidByte) {
  EXPECT_EQ(FirstInvalidUtf8Offset("ab\xff"), 2u);
  EXPECT_EQ(FirstInvalidUtf8Offset("\xc3"), 0u) << "truncated sequence";
  EXPECT_EQ(FirstInvalidUtf8Offset("x\xc0\xaf"), 1u) << "overlong form";
  EXPECT_EQ(FirstInvalidUtf8Offset("\xed\xa0\x80"), 0u) << "surrogate";
  EXPECT_EQ(FirstInvalidUtf8Offset("\xf4\x90\x80\x80"), 0u) << "above U+10FFFF";
  EXPECT_EQ(FirstInvalidUtf8Offset("\x80"), 0u) << "lone continuation byte";
}

TEST(Utf8Test, ReplacesInvalidSequencesWithTheReplacementCharacter) {
  EXPECT_EQ(ToValidUtf8("a\xffz"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(ToValidUtf8("Siân"), "Siân");
  EXPECT_FALSE(FirstInvalidUtf8Offset(ToValidUtf8("\xc3\xc3\xf4\x90 ok")));
}

// Byte by byte, as the definition reads: each byte that does not begin a valid sequence becomes
// U+FFFD; the fast path (whole valid runs copied at once) must give exactly this.
std::string ReplaceByteByByte(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const std::optional<size_t> bad = FirstInvalidUtf8Offset(text.substr(i, 4));
    if (bad == 0u) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    // A valid sequence starts here: take its length from its first byte.
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

TEST(Utf8Test, ReplacingMatchesTheByteByByteDefinitionOnLongMixedText) {
  std::mt19937 rng(20261122);
  const std::string pieces[] = {"a",
                                "Siân ",
                                std::string(40, 'x'),
                                "\xff",
                                "\xc3",
                                "\xe2\x82\xac",
                                "\xed\xa0\x80",
                                "\xf0\x9f\x98\x80",
                                "\xf4\x90\x80\x80",
                                "\x80",
                                std::string(1, '\0')};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) text += pieces[rng() % std::size(pieces)];
    EXPECT_EQ(ToValidUtf8(text), ReplaceByteByByte(text)) << "round " << round;
    EXPECT_FALSE(FirstInvalidUtf8Offset(ToValidUtf8(text)).has_value());
  }
}

}  // namespace
}  // namespace frontdoor
