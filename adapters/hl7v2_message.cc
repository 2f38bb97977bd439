#include "adapters/hl7v2_message.h"

#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace frontdoor::adapters {
namespace {

constexpr char kMllpStart = 0x0b;
constexpr char kMllpEnd = 0x1c;

bool IsSegmentEnd(char c) { return c == '\r' || c == '\n'; }

bool IsUpperOrDigit(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Delimiters must be printable ASCII punctuation: not letters, digits, space or line ends.
bool IsUsableDelimiter(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
}

// The n-th (1-based) piece of `text` split at `separator`; empty when absent.
std::string_view Piece(std::string_view text, char separator, size_t n) {
  if (n == 0) return {};
  size_t begin = 0;
  for (size_t i = 1; i < n; ++i) {
    size_t next = text.find(separator, begin);
    if (next == std::string_view::npos) return {};
    begin = next + 1;
  }
  size_t end = text.find(separator, begin);
  return text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
}

size_t PieceCount(std::string_view text, char separator) {
  if (text.empty()) return 0;
  size_t count = 1;
  for (char c : text) count += c == separator ? 1 : 0;
  return count;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }
absl::Status TooBig(std::string message) { return absl::ResourceExhaustedError(std::move(message)); }

// Checks one field against the repetition, component and sub-component limits.
absl::Status CheckField(std::string_view field, const Hl7Delimiters& d, const Hl7Limits& limits,
                        std::string_view segment_id, size_t segment_number, size_t field_number) {
  auto where = [&] {
    return absl::StrCat(std::string(segment_id), "-", field_number, " (segment ", segment_number, ")");
  };
  if (field.size() > limits.max_field_bytes) {
    return TooBig(
        absl::StrCat("field ", where(), " is ", field.size(), " bytes; the limit is ", limits.max_field_bytes));
  }
  size_t repetitions = 1;
  size_t components = 1;
  size_t subcomponents = 1;
  for (char c : field) {
    if (c == d.repetition) {
      ++repetitions;
      components = 1;
      subcomponents = 1;
    } else if (c == d.component) {
      ++components;
      subcomponents = 1;
    } else if (c == d.subcomponent) {
      ++subcomponents;
    } else {
      continue;
    }
    if (repetitions > limits.max_repetitions) {
      return TooBig(absl::StrCat("field ", where(), " has more than ", limits.max_repetitions, " repetitions"));
    }
    if (components > limits.max_components || subcomponents > limits.max_components) {
      return TooBig(
          absl::StrCat("field ", where(), " has more than ", limits.max_components, " components or sub-components"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string Hl7Unescape(std::string_view text, const Hl7Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != d.escape) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t close = text.find(d.escape, i + 1);
    if (close == std::string_view::npos) {  // Unterminated: keep as written.
      out.append(text.substr(i));
      break;
    }
    std::string_view sequence = text.substr(i + 1, close - i - 1);
    i = close + 1;
    if (sequence == "F") {
      out.push_back(d.field);
    } else if (sequence == "S") {
      out.push_back(d.component);
    } else if (sequence == "T") {
      out.push_back(d.subcomponent);
    } else if (sequence == "R") {
      out.push_back(d.repetition);
    } else if (sequence == "E") {
      out.push_back(d.escape);
    } else if (sequence == ".br" || sequence.substr(0, 3) == ".sp") {
      out.push_back('\n');
    } else if (!sequence.empty() && sequence[0] == 'X') {
      std::string_view hex = sequence.substr(1);
      std::string bytes;
      bool ok = !hex.empty() && hex.size() % 2 == 0;
      for (size_t k = 0; ok && k < hex.size(); k += 2) {
        int high = HexDigit(hex[k]);
        int low = HexDigit(hex[k + 1]);
        ok = high >= 0 && low >= 0 && (high | low) != 0;  // no NUL
        bytes.push_back(static_cast<char>(high * 16 + low));
      }
      if (ok && !FirstInvalidUtf8Offset(bytes)) out.append(bytes);
    } else if (sequence == "H" || sequence == "N" ||
               (!sequence.empty() &&
                (sequence[0] == '.' || sequence[0] == 'C' || sequence[0] == 'M' || sequence[0] == 'Z'))) {
      // Highlighting, formatting and character-set switches: not carried into plain text.
    } else {
      out.push_back(d.escape);
      out.append(sequence);
      out.push_back(d.escape);
    }
  }
  return out;
}

std::string Hl7Escape(std::string_view text, const Hl7Delimiters& d) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto sequence = [&](const char* code) {
      out.push_back(d.escape);
      out.append(code);
      out.push_back(d.escape);
    };
    if (c == d.escape) {
      sequence("E");
    } else if (c == d.field) {
      sequence("F");
    } else if (c == d.component) {
      sequence("S");
    } else if (c == d.subcomponent) {
      sequence("T");
    } else if (c == d.repetition) {
      sequence("R");
    } else if (c == '\r') {
      sequence("X0D");
    } else if (c == '\n') {
      sequence("X0A");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

// The text as a message: within the size limit, any MLLP framing that survived into it trimmed, no
// NUL, UTF-8, and starting with MSH. Returns the text to parse.
absl::StatusOr<std::string_view> CheckEnvelope(std::string_view er7, const Hl7Limits& limits) {
  if (er7.size() > limits.max_bytes) {
    return TooBig(absl::StrCat("the message is ", er7.size(), " bytes; the limit is ", limits.max_bytes));
  }
  // MLLP framing (VT ... FS CR) sometimes survives into the payload.
  if (!er7.empty() && er7.front() == kMllpStart) er7.remove_prefix(1);
  while (!er7.empty() && (er7.back() == kMllpEnd || IsSegmentEnd(er7.back()))) er7.remove_suffix(1);
  if (er7.empty()) return Invalid("the message is empty");
  if (std::memchr(er7.data(), '\0', er7.size()) != nullptr) {
    return Invalid("the message contains a NUL byte");
  }
  if (FirstInvalidUtf8Offset(er7)) return Invalid("the message is not UTF-8");
  if (er7.size() < 8 || er7.substr(0, 3) != "MSH") {
    return Invalid("not an HL7 v2 message: it does not start with an MSH segment");
  }
  return er7;
}

// MSH-1 and MSH-2: five different usable delimiters (MSH-2 may carry a fifth, truncation,
// character). Returns MSH-2 as written.
absl::StatusOr<std::string_view> ReadDelimiters(std::string_view er7, Hl7Delimiters* d) {
  d->field = er7[3];
  if (!IsUsableDelimiter(d->field)) return Invalid("MSH-1 is not a usable field separator");
  size_t encoding_end = 4;
  while (encoding_end < er7.size() && er7[encoding_end] != d->field && !IsSegmentEnd(er7[encoding_end])) {
    ++encoding_end;
  }
  std::string_view encoding = er7.substr(4, encoding_end - 4);
  if (encoding.size() != 4 && encoding.size() != 5) {
    return Invalid("MSH-2 must hold 4 encoding characters (component, repetition, escape, sub-component)");
  }
  d->component = encoding[0];
  d->repetition = encoding[1];
  d->escape = encoding[2];
  d->subcomponent = encoding[3];
  const char all[] = {d->field, d->component, d->repetition, d->escape, d->subcomponent};
  for (size_t a = 0; a < 5; ++a) {
    if (!IsUsableDelimiter(all[a])) return Invalid("MSH-2 holds a character that cannot be a delimiter");
    for (size_t b = a + 1; b < 5; ++b) {
      if (all[a] == all[b]) return Invalid("MSH-1 and MSH-2 must be five different characters");
    }
  }
  if (encoding.size() == 5 && !IsUsableDelimiter(encoding[4])) {
    return Invalid("MSH-2 holds a character that cannot be a delimiter");
  }
  return encoding;
}

}  // namespace

absl::StatusOr<Hl7Message> Hl7Message::Parse(std::string_view er7, const Hl7Limits& limits) {
  absl::StatusOr<std::string_view> checked = CheckEnvelope(er7, limits);
  if (!checked.ok()) return checked.status();
  Hl7Message message;
  absl::StatusOr<std::string_view> encoding = ReadDelimiters(*checked, &message.delimiters_);
  if (!encoding.ok()) return encoding.status();
  const size_t encoding_size = encoding->size();

  message.text_.assign(checked->data(), checked->size());
  std::string_view text = message.text_;
  size_t position = 0;
  while (position < text.size()) {
    size_t end = position;
    while (end < text.size() && !IsSegmentEnd(text[end])) ++end;
    const size_t line_begin = position;
    std::string_view line = text.substr(position, end - position);
    position = end;
    while (position < text.size() && IsSegmentEnd(text[position])) ++position;
    if (line.empty()) continue;
    if (absl::Status s = message.AddSegment(line, line_begin, encoding_size, limits); !s.ok()) return s;
  }
  return message;
}

absl::Status Hl7Message::AddSegment(std::string_view line, size_t line_begin, size_t encoding_size,
                                    const Hl7Limits& limits) {
  const Hl7Delimiters& d = delimiters_;
  const size_t segment_number = segments_.size() + 1;
  if (segment_number > limits.max_segments) {
    return TooBig(absl::StrCat("the message has more than ", limits.max_segments, " segments"));
  }
  if (line.size() < 3 || !(line[0] >= 'A' && line[0] <= 'Z') || !IsUpperOrDigit(line[1]) || !IsUpperOrDigit(line[2]) ||
      (line.size() > 3 && line[3] != d.field)) {
    return Invalid(absl::StrCat("segment ", segment_number, " does not start with a segment id"));
  }
  std::string_view id = line.substr(0, 3);
  const bool is_header = segment_number == 1;
  if (id == "MSH" && !is_header) {
    return Invalid(absl::StrCat("segment ", segment_number, " is a second MSH: send one message per request"));
  }
  Segment& segment = segments_.emplace_back();
  segment.fields.push_back({line_begin, 3});
  size_t field_begin = 4;  // after "XYZ|"
  if (is_header) {
    segment.fields.push_back({line_begin + 3, 1});              // MSH-1
    segment.fields.push_back({line_begin + 4, encoding_size});  // MSH-2
    field_begin = 4 + encoding_size + 1;
  }
  if (line.size() <= 3 || field_begin > line.size()) return absl::OkStatus();
  while (true) {
    size_t field_end = line.find(d.field, field_begin);
    if (field_end == std::string_view::npos) field_end = line.size();
    std::string_view field = line.substr(field_begin, field_end - field_begin);
    const size_t field_number = segment.fields.size();
    if (field_number > limits.max_fields_per_segment) {
      return TooBig(
          absl::StrCat("segment ", segment_number, " has more than ", limits.max_fields_per_segment, " fields"));
    }
    absl::Status status = CheckField(field, d, limits, id, segment_number, field_number);
    if (!status.ok()) return status;
    segment.fields.push_back({line_begin + field_begin, field.size()});
    if (field_end == line.size()) return absl::OkStatus();
    field_begin = field_end + 1;
  }
}

std::string_view Hl7Message::segment_id(size_t segment) const {
  if (segment >= segments_.size()) return {};
  return View(segments_[segment].fields[0]);
}

std::vector<size_t> Hl7Message::FindSegments(std::string_view id) const {
  std::vector<size_t> found;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segment_id(i) == id) found.push_back(i);
  }
  return found;
}

std::optional<size_t> Hl7Message::FindFirst(std::string_view id) const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segment_id(i) == id) return i;
  }
  return std::nullopt;
}

size_t Hl7Message::field_count(size_t segment) const {
  if (segment >= segments_.size()) return 0;
  return segments_[segment].fields.size() - 1;
}

std::string_view Hl7Message::RawField(size_t segment, size_t field) const {
  if (segment >= segments_.size() || field == 0 || field >= segments_[segment].fields.size()) return {};
  return View(segments_[segment].fields[field]);
}

size_t Hl7Message::RepetitionCount(size_t segment, size_t field) const {
  if (segment == 0 && field <= 2) return RawField(segment, field).empty() ? 0 : 1;
  return PieceCount(RawField(segment, field), delimiters_.repetition);
}

size_t Hl7Message::ComponentCount(size_t segment, size_t field, size_t repetition) const {
  if (segment == 0 && field <= 2) return RepetitionCount(segment, field);
  return PieceCount(Piece(RawField(segment, field), delimiters_.repetition, repetition), delimiters_.component);
}

std::string Hl7Message::Value(size_t segment, size_t field, size_t repetition, size_t component,
                              size_t subcomponent) const {
  std::string_view raw = RawField(segment, field);
  // MSH-1 and MSH-2 are the delimiters themselves: never split or unescaped.
  if (segment == 0 && field <= 2) {
    return repetition == 1 && component == 1 && subcomponent == 1 ? std::string(raw) : std::string();
  }
  std::string_view leaf = Piece(raw, delimiters_.repetition, repetition);
  leaf = Piece(leaf, delimiters_.component, component);
  leaf = Piece(leaf, delimiters_.subcomponent, subcomponent);
  return Hl7Unescape(leaf, delimiters_);
}

std::string Hl7Message::Field(std::string_view segment_id, size_t field, size_t repetition, size_t component,
                              size_t subcomponent) const {
  std::optional<size_t> segment = FindFirst(segment_id);
  if (!segment) return "";
  return Value(*segment, field, repetition, component, subcomponent);
}

}  // namespace frontdoor::adapters
