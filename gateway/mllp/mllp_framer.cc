#include "gateway/mllp/mllp_framer.h"

#include <utility>

namespace frontdoor::gateway {

std::string MllpFrame(std::string_view message) {
  std::string frame;
  frame.reserve(message.size() + 3);
  frame.push_back(kMllpStart);
  frame.append(message);
  frame.push_back(kMllpEnd);
  frame.push_back(kMllpCarriageReturn);
  return frame;
}

MllpEvent MllpFramer::Fail(MllpEvent::Kind kind, std::string what) {
  state_ = State::kSpent;
  MllpEvent event{kind, {}, std::move(what)};
  if (kind == MllpEvent::kFrameTooLarge) event.message = std::move(message_);
  message_.clear();
  return event;
}

std::vector<MllpEvent> MllpFramer::Feed(std::string_view bytes) {
  std::vector<MllpEvent> events;
  size_t i = 0;
  while (i < bytes.size() && state_ != State::kSpent) {
    switch (state_) {
      case State::kBetweenFrames: {
        const char c = bytes[i++];
        if (c == kMllpStart) {
          state_ = State::kInFrame;
        } else if (c != '\r' && c != '\n') {
          events.push_back(Fail(MllpEvent::kBytesOutsideFrame, "bytes outside a frame (no 0x0B start block)"));
        }
        break;
      }
      case State::kInFrame: {
        // Take everything up to the next framing byte in one go.
        size_t j = i;
        while (j < bytes.size() && bytes[j] != kMllpEnd && bytes[j] != kMllpStart) ++j;
        const size_t room = max_frame_bytes_ - message_.size();
        if (j - i > room) {
          message_.append(bytes.substr(i, room));
          events.push_back(Fail(MllpEvent::kFrameTooLarge, "a frame longer than the limit"));
          break;
        }
        message_.append(bytes.substr(i, j - i));
        i = j;
        if (i == bytes.size()) break;
        if (bytes[i] == kMllpStart) {
          events.push_back(Fail(MllpEvent::kStartInsideFrame, "a 0x0B start block inside a frame"));
          break;
        }
        ++i;  // the 0x1C
        state_ = State::kAfterEnd;
        break;
      }
      case State::kAfterEnd: {
        if (bytes[i] != kMllpCarriageReturn) {
          events.push_back(Fail(MllpEvent::kBadEndBlock, "0x1C not followed by 0x0D"));
          break;
        }
        ++i;
        events.push_back(MllpEvent{MllpEvent::kFrame, std::move(message_), ""});
        message_.clear();
        state_ = State::kBetweenFrames;
        break;
      }
      case State::kSpent:
        break;
    }
  }
  return events;
}

}  // namespace frontdoor::gateway
