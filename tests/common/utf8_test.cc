#include "common/utf8.h"

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

}  // namespace
}  // namespace frontdoor
