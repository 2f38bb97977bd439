#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace frontdoor {
namespace {

// Length of the valid sequence starting at text[i], or 0 when it is not valid.
size_t ValidSequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return len;
}

}  // namespace

std::optional<size_t> FirstInvalidUtf8Offset(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    // Runs of ASCII, the bulk of every message: 32 bytes at a time (four words OR'd, which the
    // compiler keeps in registers or vectorises), then eight.
    constexpr uint64_t kHighBits = 0x8080808080808080ULL;
    while (i + 32 <= text.size()) {
      uint64_t words[4];
      std::memcpy(words, text.data() + i, sizeof words);
      if (((words[0] | words[1] | words[2] | words[3]) & kHighBits) != 0) break;
      i += 32;
    }
    while (i + 8 <= text.size()) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, sizeof word);
      if ((word & kHighBits) != 0) break;
      i += 8;
    }
    if (i >= text.size()) break;
    const size_t n = ValidSequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

std::string ToValidUtf8(std::string_view text) {
  // Almost always valid already (it is how replies echo ids): one fast scan, one copy.
  std::optional<size_t> bad = FirstInvalidUtf8Offset(text);
  if (!bad.has_value()) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  while (bad.has_value()) {
    out.append(text.substr(i, *bad - i));
    out += "\xEF\xBF\xBD";
    i = *bad + 1;
    const std::optional<size_t> next = FirstInvalidUtf8Offset(text.substr(i));
    bad = next.has_value() ? std::optional<size_t>(i + *next) : std::nullopt;
  }
  out.append(text.substr(i));
  return out;
}

}  // namespace frontdoor
