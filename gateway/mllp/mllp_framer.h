// MllpFramer: the Minimal Lower Layer Protocol's framing, read incrementally from a byte stream.
// A frame is 0x0B (start block), the message, 0x1C 0x0D (end block). Bytes arrive however TCP
// delivers them: several frames in one read, one frame over many; the framer gives back each whole
// message in order and says precisely what is wrong with anything else, so a door can answer or
// close and log without guessing.
//
//   MllpFramer framer(/*max_frame_bytes=*/1 << 20);
//   for (MllpEvent& e : framer.Feed(bytes)) {
//     if (e.kind == MllpEvent::kFrame) Submit(std::move(e.message));
//     else { Log(e.what); Close(); break; }   // an error ends the stream: the framer reads no more
//   }
//   framer.in_frame();   // a frame has begun and not ended (for the door's frame deadline)
//
// What is an error: a byte other than 0x0B outside a frame (whitespace between frames included:
// CR or LF after an end block is tolerated, as many engines send one); a 0x0B inside a frame; 0x1C
// not followed by 0x0D; a frame longer than max_frame_bytes (reported as soon as it passes the
// limit, with the first bytes of the message kept, so the door can still answer its MSH). After an
// error the framer is spent: Feed returns nothing more.
//
// Pure, no I/O; not thread-safe (one per connection).
#ifndef FRONTDOOR_GATEWAY_MLLP_MLLP_FRAMER_H_
#define FRONTDOOR_GATEWAY_MLLP_MLLP_FRAMER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace frontdoor::gateway {

inline constexpr char kMllpStart = 0x0B;
inline constexpr char kMllpEnd = 0x1C;
inline constexpr char kMllpCarriageReturn = 0x0D;

struct MllpEvent {
  enum Kind {
    kFrame,              // `message` is a whole message
    kBytesOutsideFrame,  // a byte other than the start block where a frame should begin
    kStartInsideFrame,   // a start block inside a frame
    kBadEndBlock,        // 0x1C not followed by 0x0D
    kFrameTooLarge,      // the frame passed max_frame_bytes; `message` holds its first bytes
  };
  Kind kind = kFrame;
  std::string message;
  std::string what;  // the error in words (no message content), for the log
};

// Frames a message for sending: 0x0B message 0x1C 0x0D.
std::string MllpFrame(std::string_view message);

class MllpFramer {
 public:
  explicit MllpFramer(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  std::vector<MllpEvent> Feed(std::string_view bytes);

  bool in_frame() const { return state_ != State::kBetweenFrames && state_ != State::kSpent; }
  bool spent() const { return state_ == State::kSpent; }

 private:
  enum class State { kBetweenFrames, kInFrame, kAfterEnd, kSpent };
  MllpEvent Fail(MllpEvent::Kind kind, std::string what);

  const size_t max_frame_bytes_;
  State state_ = State::kBetweenFrames;
  std::string message_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_MLLP_MLLP_FRAMER_H_
