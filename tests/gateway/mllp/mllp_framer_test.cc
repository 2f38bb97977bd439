// The MLLP framing as TCP delivers it: frames split and joined anywhere, and each way a stream can
// be wrong named precisely.
#include "gateway/mllp/mllp_framer.h"

#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

std::vector<std::string> Frames(const std::vector<MllpEvent>& events) {
  std::vector<std::string> out;
  for (const MllpEvent& e : events) {
    if (e.kind == MllpEvent::kFrame) out.push_back(e.message);
  }
  return out;
}

TEST(MllpFramerTest, TwoFramesInOneReadAreTwoMessagesInOrder) {
  MllpFramer framer(1024);
  EXPECT_EQ(Frames(framer.Feed(MllpFrame("MSH|one") + MllpFrame("MSH|two"))),
            std::vector<std::string>({"MSH|one", "MSH|two"}));
  EXPECT_FALSE(framer.in_frame());
}

TEST(MllpFramerTest, AFrameSplitAnywhereIsOneMessage) {
  const std::string frame = MllpFrame("MSH|^~\\&|A\rPID|1");
  for (size_t cut = 0; cut <= frame.size(); ++cut) {
    MllpFramer framer(1024);
    std::vector<std::string> got = Frames(framer.Feed(frame.substr(0, cut)));
    for (const std::string& m : Frames(framer.Feed(frame.substr(cut)))) got.push_back(m);
    EXPECT_EQ(got, std::vector<std::string>({"MSH|^~\\&|A\rPID|1"})) << "cut at " << cut;
  }
  MllpFramer byte_by_byte(1024);
  std::vector<std::string> got;
  for (char c : frame) {
    for (const std::string& m : Frames(byte_by_byte.Feed(std::string(1, c)))) got.push_back(m);
  }
  EXPECT_EQ(got.size(), 1u);
}

TEST(MllpFramerTest, ALineEndBetweenFramesIsTolerated) {
  MllpFramer framer(1024);
  EXPECT_EQ(Frames(framer.Feed(MllpFrame("a") + "\r\n" + MllpFrame("b"))), std::vector<std::string>({"a", "b"}));
}

TEST(MllpFramerTest, InFrameSaysAFrameHasBegun) {
  MllpFramer framer(1024);
  framer.Feed("\x0bMSH");
  EXPECT_TRUE(framer.in_frame());
  framer.Feed("\x1c");
  EXPECT_TRUE(framer.in_frame());
  framer.Feed("\r");
  EXPECT_FALSE(framer.in_frame());
}

struct BadStream {
  std::string name;
  std::string bytes;
  MllpEvent::Kind kind;
};

TEST(MllpFramerTest, EachBrokenStreamIsNamedAndEndsTheStream) {
  const std::vector<BadStream> cases = {
      {"bytes before the start block", "GET / HTTP/1.1\r\n", MllpEvent::kBytesOutsideFrame},
      {"a start block inside a frame", "\x0bMSH|a\x0bMSH|b\x1c\r", MllpEvent::kStartInsideFrame},
      {"0x1C not followed by 0x0D", "\x0bMSH|a\x1cX", MllpEvent::kBadEndBlock},
      {"a frame over the limit", "\x0bMSH|" + std::string(100, 'x'), MllpEvent::kFrameTooLarge},
  };
  for (const BadStream& c : cases) {
    SCOPED_TRACE(c.name);
    MllpFramer framer(64);
    std::vector<MllpEvent> events = framer.Feed(c.bytes);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind, c.kind);
    EXPECT_FALSE(events.back().what.empty());
    EXPECT_TRUE(framer.spent());
    EXPECT_TRUE(framer.Feed(MllpFrame("MSH|after")).empty()) << "a spent framer reads no more";
  }
}

TEST(MllpFramerTest, AFrameOverTheLimitKeepsItsFirstBytesForTheAnswer) {
  MllpFramer framer(16);
  std::vector<MllpEvent> events = framer.Feed("\x0bMSH|^~\\&|WARD|R9T01|" + std::string(100, 'x'));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, MllpEvent::kFrameTooLarge);
  EXPECT_EQ(events[0].message, std::string("MSH|^~\\&|WARD|R9").substr(0, 16));
}

TEST(MllpFramerTest, FramesBeforeAnErrorAreStillGiven) {
  MllpFramer framer(1024);
  std::vector<MllpEvent> events = framer.Feed(MllpFrame("good") + "junk");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, MllpEvent::kFrame);
  EXPECT_EQ(events[0].message, "good");
  EXPECT_EQ(events[1].kind, MllpEvent::kBytesOutsideFrame);
}

}  // namespace
}  // namespace frontdoor::gateway
