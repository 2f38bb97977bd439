// libFuzzer target: the MLLP framer on arbitrary bytes, fed in arbitrary pieces. Built only with
// -DFRONTDOOR_BUILD_FUZZERS=ON and clang (the `fuzz` preset; scripts/fuzz runs it).
//
// Besides the sanitizers it checks, aborting when one fails: how the bytes are cut into reads never
// changes what the framer finds (the same frames, the same error, in the same order); no frame is
// longer than the limit; nothing comes after an error; and framing each frame found again, then
// reading that, gives the same frames back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/mllp/mllp_framer.h"

namespace {

using frontdoor::gateway::MllpEvent;
using frontdoor::gateway::MllpFramer;

constexpr size_t kLimit = 4096;

struct Found {
  std::vector<std::string> frames;
  int error = -1;  // the kind of the error that ended the stream; -1 for none
};

Found Read(std::string_view bytes, const std::vector<size_t>& cuts) {
  MllpFramer framer(kLimit);
  Found found;
  size_t at = 0;
  auto feed = [&](std::string_view piece) {
    for (MllpEvent& e : framer.Feed(piece)) {
      if (found.error >= 0) std::abort();  // nothing after an error
      if (e.kind == MllpEvent::kFrame) {
        if (e.message.size() > kLimit) std::abort();
        found.frames.push_back(std::move(e.message));
      } else {
        found.error = e.kind;
      }
    }
  };
  for (size_t cut : cuts) {
    if (cut <= at || cut >= bytes.size()) continue;
    feed(bytes.substr(at, cut - at));
    at = cut;
  }
  feed(bytes.substr(at));
  return found;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte seeds where the stream is cut into reads.
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<size_t> cuts;
  for (size_t i = 1, step = 1 + data[0] % 17; i < bytes.size(); i += step) cuts.push_back(i);

  const Found whole = Read(bytes, {});
  const Found pieces = Read(bytes, cuts);
  if (whole.frames != pieces.frames || whole.error != pieces.error) std::abort();

  std::string again;
  for (const std::string& frame : whole.frames) again += frontdoor::gateway::MllpFrame(frame);
  const Found reread = Read(again, cuts);
  // A frame holding 0x0B or 0x1C cannot be framed again; everything else must come back as it was.
  bool reframable = true;
  for (const std::string& frame : whole.frames) {
    if (frame.find('\x0b') != std::string::npos || frame.find('\x1c') != std::string::npos) reframable = false;
  }
  if (reframable && (reread.frames != whole.frames || reread.error >= 0)) std::abort();
  return 0;
}
