// What makes two messages the same message: the fingerprint of what the gateway reads
// (gateway/message_fingerprint.h), and the wire check that refuses a typed referral whose bytes
// carry a field twice (gateway/wire_fields.h).
#include <string>

#include "adapters/fhir_referral_adapter.h"
#include "adapters/hl7v2_referral_adapter.h"
#include "frontdoor/internal/submit_wire.pb.h"
#include "gateway/intake/wire_fields.h"
#include "gateway/store/message_fingerprint.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
using frontdoor::testing::RoytonReferral;

TEST(MessageFingerprintTest, TheSameReferralHasTheSameVersionedFingerprint) {
  const std::string a = MessageFingerprint(RoytonReferral("m1"));
  EXPECT_EQ(a, MessageFingerprint(RoytonReferral("m1")));
  EXPECT_EQ(a.substr(0, 3), "v1:");
  EXPECT_EQ(a.size(), 3u + 64u);
}

TEST(MessageFingerprintTest, AnyDatumTheGatewayReadsChangesIt) {
  const std::string base = MessageFingerprint(RoytonReferral("m1"));
  v1::Referral r = RoytonReferral("m1");
  r.mutable_consents(0)->set_date("2025-01-01");
  EXPECT_NE(MessageFingerprint(r), base);
  r = RoytonReferral("m1");
  r.set_what_matters("something else");
  EXPECT_NE(MessageFingerprint(r), base);
  r = RoytonReferral("m1");
  r.mutable_person()->set_nhs_number("9434765919");
  EXPECT_NE(MessageFingerprint(r), base);
}

TEST(MessageFingerprintTest, Hl7SegmentTerminatorsDoNotCount) {
  const std::string cr =
      "MSH|^~\\&|W|R9T01|F|S|20250225101500||REF^I12^REF_I12|C1|P|2.5.1\rRF1||||||R|202502251015\r"
      "PID|1||9991541594^^^NHS^NH||X^Y||19400322|F\r";
  std::string lf = cr;
  for (char& c : lf) c = c == '\r' ? '\n' : c;
  EXPECT_EQ(MessageFingerprint(adapters::ParseHl7v2Referral(cr, {}).referral),
            MessageFingerprint(adapters::ParseHl7v2Referral(lf, {}).referral));
}

TEST(MessageFingerprintTest, ResendsAreJudgedOnlyBetweenComparableFingerprints) {
  const std::string a = MessageFingerprint(RoytonReferral("m1"));
  v1::Referral other = RoytonReferral("m1");
  other.set_referrer_text("different");
  const std::string b = MessageFingerprint(other);
  EXPECT_TRUE(IsResendOf(a, a));
  EXPECT_FALSE(IsResendOf(a, b));
  EXPECT_TRUE(IsResendOf("", b)) << "recorded before fingerprints existed";
  EXPECT_TRUE(IsResendOf("v0:abc", b)) << "another recipe cannot be compared";
}

using Wire = frontdoor::internal::SubmitReferralRequestWire;

std::string Field(int number, const std::string& bytes) {
  std::string out;
  out += static_cast<char>((number << 3) | 2);
  out += static_cast<char>(bytes.size());  // the tests' messages are short
  return out + bytes;
}

TEST(WireFieldsTest, OneOfEachFieldIsFine) {
  Wire request;
  *request.mutable_referral() = RoytonReferral("m1");
  EXPECT_EQ(FirstRepeatedSingularField(request.SerializeAsString(), *Wire::descriptor()), std::nullopt);
}

TEST(WireFieldsTest, ASecondPersonInsideTheReferralIsNamed) {
  v1::Referral referral;
  referral.set_message_id("m1");
  v1::Person a, b;
  a.set_nhs_number("9991951024");
  b.set_nhs_number("9434765919");
  const std::string bytes =
      Field(1, referral.SerializeAsString() + Field(4, a.SerializeAsString()) + Field(4, b.SerializeAsString()));
  EXPECT_EQ(FirstRepeatedSingularField(bytes, *Wire::descriptor()), "referral.person");
}

TEST(WireFieldsTest, AScalarGivenTwiceDeepInsideIsNamed) {
  const std::string person = Field(1, "9991951024") + Field(1, "9434765919");  // nhs_number twice
  const std::string bytes = Field(1, Field(4, person));
  EXPECT_EQ(FirstRepeatedSingularField(bytes, *Wire::descriptor()), "referral.person.nhs_number");
}

TEST(WireFieldsTest, RepeatedFieldsMayRepeatButTheirMessagesAreLookedInto) {
  v1::Referral referral;
  referral.add_reasons()->set_code("1");
  referral.add_reasons()->set_code("2");
  EXPECT_EQ(FirstRepeatedSingularField(Field(1, referral.SerializeAsString()), *Wire::descriptor()), std::nullopt);
  const std::string coding = Field(2, "1") + Field(2, "2");  // Coding.code twice
  EXPECT_EQ(FirstRepeatedSingularField(Field(1, Field(5, coding)), *Wire::descriptor()), "referral.reasons.code");
}

TEST(WireFieldsTest, TwoPayloadsAreTheOneofSetTwice) {
  EXPECT_EQ(FirstRepeatedSingularField(Field(2, "{}") + Field(3, "MSH"), *Wire::descriptor()), "payload");
}

TEST(WireFieldsTest, BytesThatAreNotWireFormatAreLeftToTheParser) {
  EXPECT_EQ(FirstRepeatedSingularField(std::string("\x0a\x7f", 2), *Wire::descriptor()), std::nullopt);
  EXPECT_EQ(FirstRepeatedSingularField(std::string("\xff\xff\xff", 3), *Wire::descriptor()), std::nullopt);
}

}  // namespace
}  // namespace frontdoor::gateway
