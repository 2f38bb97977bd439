#include "common/uuid.h"

#include "gtest/gtest.h"

namespace frontdoor {
namespace {

TEST(UuidTest, FormatsSixteenBytesAsTheCanonicalText) {
  const unsigned char bytes[16] = {0x01, 0x9a, 0x2b, 0x3c, 0x4d, 0x5e, 0x7f, 0x60,
                                   0x81, 0x92, 0xa3, 0xb4, 0xc5, 0xd6, 0xe7, 0xf8};
  EXPECT_EQ(FormatUuid(bytes), "019a2b3c-4d5e-7f60-8192-a3b4c5d6e7f8");
  const unsigned char zero[16] = {};
  EXPECT_EQ(FormatUuid(zero), "00000000-0000-0000-0000-000000000000");
}

}  // namespace
}  // namespace frontdoor
