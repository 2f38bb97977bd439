// An HL7 v2 ER7 ("pipe and hat") message reader: splits a message into segments, fields,
// repetitions, components and sub-components, and decodes escape sequences, with limits that
// make it safe on untrusted input. It knows nothing about referrals; hl7v2_referral_adapter.h
// reads a REF^I12 with it.
//
//   absl::StatusOr<Hl7Message> message = Hl7Message::Parse(er7, Hl7Limits{});
//   if (!message.ok()) return message.status();             // MALFORMED for the sender
//   std::string type = message->Field("MSH", 9, 1, 1);       // "REF"
//   std::optional<size_t> pid = message->FindFirst("PID");
//   std::string birth = pid ? message->Value(*pid, 7) : "";  // "19400322"
//
// Reading rules:
//  - The delimiters come from the message: MSH-1 is the field separator (the 4th byte) and MSH-2
//    the encoding characters, in the order component, repetition, escape, sub-component (a fifth,
//    the v2.7 truncation character, is accepted and ignored). They must be distinct, printable
//    and not letters or digits.
//  - Segments end at CR, LF or CR LF; empty lines are skipped; MLLP framing bytes (VT before,
//    FS after) are tolerated. The first segment must be MSH and the only MSH (no batches).
//  - Positions are 1-based as HL7 counts them. MSH-1 is the field separator itself and MSH-2 the
//    encoding characters, so `Value(msh, 9)` is MSH-9 as the standard numbers it. Both are
//    returned raw; every other value is split and unescaped.
//  - Escapes: \F\ \S\ \T\ \R\ \E\ become the delimiters; \Xhh..\ becomes the bytes it names when
//    they are UTF-8 without NUL (otherwise it is dropped); \.br\ and \.sp\ become a line break;
//    other formatting (\H\ \N\ \.in\ \Cxxyy\ \Mxxyyzz\ \Z..\) is dropped; an unknown or unterminated
//    sequence is kept as written.
//  - The message must be UTF-8 (the profile's MSH-18 is UNICODE UTF-8) without NUL bytes.
//
// Parse fails with INVALID_ARGUMENT for text that is not ER7 and RESOURCE_EXHAUSTED for text over
// a limit; the message says which, never quoting the content. An Hl7Message is immutable after
// Parse and safe to read from several threads; it owns a copy of the text.
#ifndef FRONTDOOR_ADAPTERS_HL7V2_MESSAGE_H_
#define FRONTDOOR_ADAPTERS_HL7V2_MESSAGE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace frontdoor::adapters {

// Limits on untrusted ER7; PROFILE.md's hostile corpus exceeds them by far.
struct Hl7Limits {
  size_t max_bytes = 1 << 20;  // The whole message.
  size_t max_segments = 1000;
  size_t max_repetitions = 100;          // Per field.
  size_t max_components = 100;           // Per repetition, and sub-components per component.
  size_t max_field_bytes = 64 << 10;     // Per field.
  size_t max_fields_per_segment = 1000;  // Beyond the brief's list: bounds the index of a segment.
};

struct Hl7Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
};

class Hl7Message {
 public:
  static absl::StatusOr<Hl7Message> Parse(std::string_view er7, const Hl7Limits& limits);

  const Hl7Delimiters& delimiters() const { return delimiters_; }

  size_t segment_count() const { return segments_.size(); }
  // The 3-character segment id ("MSH", "PID", "ZXY"); empty for an index out of range.
  std::string_view segment_id(size_t segment) const;
  // Indices of every segment with this id, in message order.
  std::vector<size_t> FindSegments(std::string_view id) const;
  std::optional<size_t> FindFirst(std::string_view id) const;

  // The highest field number the segment has (0 if it has only its id).
  size_t field_count(size_t segment) const;
  // A field as written (delimiters and escapes intact); empty when absent.
  std::string_view RawField(size_t segment, size_t field) const;
  // Repetitions in a field: 0 when the field is empty or absent.
  size_t RepetitionCount(size_t segment, size_t field) const;
  // Components in one repetition: 0 when it is empty or absent.
  size_t ComponentCount(size_t segment, size_t field, size_t repetition) const;

  // One leaf value, unescaped: field / repetition / component / sub-component, all 1-based.
  // Empty when any position is absent (HL7's "not present").
  std::string Value(size_t segment, size_t field, size_t repetition = 1, size_t component = 1,
                    size_t subcomponent = 1) const;
  // The same in the first segment with this id; empty when there is none.
  std::string Field(std::string_view segment_id, size_t field, size_t repetition = 1, size_t component = 1,
                    size_t subcomponent = 1) const;

 private:
  struct Span {
    size_t begin = 0;
    size_t size = 0;
  };
  struct Segment {
    std::vector<Span> fields;  // fields[0] is the id; for MSH, [1] is MSH-1 and [2] MSH-2.
  };

  Hl7Message() = default;
  // Parse's step for one segment line, starting at `line_begin` of text_: its id checked, each
  // field checked and its place recorded. `encoding_size` is MSH-2's length, for the header.
  absl::Status AddSegment(std::string_view line, size_t line_begin, size_t encoding_size, const Hl7Limits& limits);
  std::string_view View(Span span) const { return std::string_view(text_).substr(span.begin, span.size); }

  std::string text_;
  Hl7Delimiters delimiters_;
  std::vector<Segment> segments_;
};

// Decodes the escape sequences of one leaf value (see the reading rules above).
std::string Hl7Unescape(std::string_view text, const Hl7Delimiters& delimiters);
// Escapes text for one leaf value: the five delimiters as \F\ \S\ \T\ \R\ \E\, CR and LF as
// \X0D\ and \X0A\. Hl7Unescape(Hl7Escape(x)) == x for any UTF-8 text without NUL.
std::string Hl7Escape(std::string_view text, const Hl7Delimiters& delimiters);

}  // namespace frontdoor::adapters

#endif  // FRONTDOOR_ADAPTERS_HL7V2_MESSAGE_H_
