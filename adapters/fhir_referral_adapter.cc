#include "adapters/fhir_referral_adapter.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/utf8.h"
// RapidJSON is the chosen JSON library: header-only, and its SAX Reader lets this adapter refuse
// hostile input while reading it: duplicate keys (any level), nesting depth, numbers a double
// cannot hold, invalid UTF-8. The guard below sits between the Reader and a rapidjson::Document,
// so no DOM is built past the first problem and nothing recurses deeper than the depth limit.
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"

namespace frontdoor::adapters {
namespace {

using frontdoor::v1::ClinicalContent;
using frontdoor::v1::Coding;
using frontdoor::v1::ContactPoint;
using frontdoor::v1::Issue;
using frontdoor::v1::Referral;
using JsonValue = rapidjson::Value;

constexpr char kBarsEventSystem[] = "https://fhir.nhs.uk/CodeSystem/message-events-bars";
constexpr char kBarsEventCode[] = "servicerequest-request";
constexpr char kNhsNumberSystem[] = "https://fhir.nhs.uk/Id/nhs-number";
constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";
constexpr char kConfidentialitySystem[] =
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
// A hostile message could carry one problem per entry; the sender needs the first few.
constexpr size_t kMaxIssues = 50;

// ---------------------------------------------------------------------------------------------
// Reading: a SAX handler that guards a rapidjson::Document.

class GuardedDocumentBuilder {
 public:
  // `may_hold_nul`: the message has a \u0000 escape somewhere. Without one no string can hold
  // U+0000 (a raw NUL byte is refused before parsing), so strings need not be searched for it.
  GuardedDocumentBuilder(rapidjson::Document& document, int max_depth, bool may_hold_nul)
      : document_(document), max_depth_(max_depth), may_hold_nul_(may_hold_nul) {}

  const std::string& error() const { return error_; }

  bool Null() { return document_.Null(); }
  bool Bool(bool b) { return document_.Bool(b); }
  bool Int(int i) { return document_.Int(i); }
  bool Uint(unsigned u) { return document_.Uint(u); }
  bool Int64(int64_t i) { return document_.Int64(i); }
  bool Uint64(uint64_t u) { return document_.Uint64(u); }
  bool Double(double d) { return document_.Double(d); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) {
    error_ = "numbers as strings are not accepted";
    return false;
  }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    if (may_hold_nul_ && std::memchr(text, '\0', length) != nullptr) {
      error_ = "a JSON string contains U+0000";
      return false;
    }
    return document_.String(text, length, copy);
  }
  bool StartObject() {
    if (!Enter()) return false;
    objects_.push_back(OpenObject{keys_.size(), nullptr});
    return document_.StartObject();
  }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    if (may_hold_nul_ && std::memchr(text, '\0', length) != nullptr) {
      error_ = "a JSON key contains U+0000";
      return false;
    }
    if (!AddKey(std::string_view(text, length))) {
      // The key itself is not echoed: a hostile message could use patient data as a key.
      error_ = "duplicate JSON key in one object";
      return false;
    }
    return document_.Key(text, length, copy);
  }
  bool EndObject(rapidjson::SizeType member_count) {
    --depth_;
    keys_.resize(objects_.back().first_key);
    objects_.pop_back();
    return document_.EndObject(member_count);
  }
  bool StartArray() {
    if (!Enter()) return false;
    return document_.StartArray();
  }
  bool EndArray(rapidjson::SizeType element_count) {
    --depth_;
    return document_.EndArray(element_count);
  }

 private:
  // Keys are views into the in-situ buffer, which outlives the parse. An object's keys are
  // compared one by one while it has few (FHIR objects have a handful); past kLinearKeys a hash
  // set takes over, so a hostile object with many keys costs linear time, not quadratic.
  static constexpr size_t kLinearKeys = 16;
  struct OpenObject {
    size_t first_key;
    std::unique_ptr<std::unordered_set<std::string_view>> many;
  };

  bool AddKey(std::string_view key) {
    OpenObject& object = objects_.back();
    if (object.many != nullptr) return object.many->insert(key).second;
    for (size_t i = object.first_key; i < keys_.size(); ++i) {
      if (keys_[i] == key) return false;
    }
    keys_.push_back(key);
    if (keys_.size() - object.first_key > kLinearKeys) {
      object.many = std::make_unique<std::unordered_set<std::string_view>>(keys_.begin() + object.first_key,
                                                                           keys_.end());
      keys_.resize(object.first_key);
    }
    return true;
  }

  bool Enter() {
    if (++depth_ > max_depth_) {
      error_ = absl::StrCat("JSON nesting deeper than ", max_depth_, " levels");
      return false;
    }
    return true;
  }

  rapidjson::Document& document_;
  const int max_depth_;
  const bool may_hold_nul_;
  int depth_ = 0;
  std::vector<std::string_view> keys_;  // the keys of every open object with few keys, in order
  std::vector<OpenObject> objects_;
  std::string error_;
};

bool HasControlByteTheScanMisses(std::string_view json) {
  unsigned char any = 0;
  for (const char c : json) any |= static_cast<unsigned char>(static_cast<unsigned char>(c - 0x1A) < 6);
  return any != 0;
}

// Reads `json` into `document`; on failure returns why (no patient data in it). The document's
// strings point into `buffer` (in-situ parsing: no string is copied), which must outlive it.
std::optional<std::string> ReadGuarded(std::string_view json, const FhirLimits& limits, std::string& buffer,
                                       rapidjson::Document& document) {
  if (json.empty()) return "the message is empty";
  if (json.size() > limits.max_bytes) {
    return absl::StrCat("the message is ", json.size(), " bytes; the limit is ", limits.max_bytes);
  }
  if (std::memchr(json.data(), '\0', json.size()) != nullptr) {
    return "the message contains a NUL byte";
  }
  // Checked once over the whole message, so the reader need not decode strings to validate them.
  if (std::optional<size_t> bad = FirstInvalidUtf8Offset(json)) {
    return absl::StrCat("not UTF-8: an invalid byte sequence at byte ", *bad);
  }
  // RapidJSON 1.1.0's SIMD string scan (Debian's) lets U+001A..U+001F through unescaped. JSON
  // allows no byte below 0x20 but tab, line feed and carriage return anywhere, and those the scan
  // does stop at; so these six are refused here, in one pass the compiler vectorises.
  if (HasControlByteTheScanMisses(json)) {
    size_t at = 0;
    while (static_cast<unsigned char>(json[at] - 0x1A) >= 6) ++at;
    return absl::StrCat("not JSON: an unescaped control character (at byte ", at, ")");
  }
  // NUL-terminated by std::string, as in-situ parsing needs. The spare capacity keeps RapidJSON's
  // 16-byte SIMD reads (which stop at the terminator) inside the allocation.
  buffer.reserve(json.size() + 32);
  buffer.assign(json.data(), json.size());
  GuardedDocumentBuilder builder(document, limits.max_depth,
                                 json.find("\\u0000") != std::string_view::npos);
  rapidjson::ParseResult result;
  auto generator = [&](rapidjson::Document& target) {
    (void)target;  // The builder writes into the same document.
    rapidjson::InsituStringStream stream(buffer.data());
    rapidjson::Reader reader;
    // No kParseStopWhenDoneFlag: content after the root value is an error, not ignored.
    // The recursive parser is the faster one; its depth is bounded by the builder, which refuses
    // the object or array past max_depth before the parser descends into it. Past kMaxRecursion
    // (a caller's own limits) the iterative parser keeps the call stack flat whatever the depth.
    constexpr int kMaxRecursion = 256;
    if (limits.max_depth <= kMaxRecursion) {
      result = reader.Parse<rapidjson::kParseInsituFlag>(stream, builder);
    } else {
      result = reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag>(stream, builder);
    }
    return !result.IsError();
  };
  document.Populate(generator);
  if (!result.IsError()) return std::nullopt;
  if (!builder.error().empty()) return absl::StrCat(builder.error(), " (at byte ", result.Offset(), ")");
  if (result.Code() == rapidjson::kParseErrorNumberTooBig) {
    return absl::StrCat("a number at byte ", result.Offset(), " is too big to hold");
  }
  return absl::StrCat("not JSON: ", rapidjson::GetParseError_En(result.Code()), " (at byte ",
                      result.Offset(), ")");
}

// ---------------------------------------------------------------------------------------------
// Mapping.

bool IsFullDate(std::string_view text) {
  if (text.size() != 10) return false;
  for (size_t i = 0; i < 10; ++i) {
    bool want_dash = i == 4 || i == 7;
    if (want_dash ? text[i] != '-' : !absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

// A FHIR date or dateTime whose first 10 characters are a full date (`YYYY-MM-DD`, then nothing
// or a time starting with `T`).
bool StartsWithFullDate(std::string_view text) {
  return text.size() >= 10 && IsFullDate(text.substr(0, 10)) && (text.size() == 10 || text[10] == 'T');
}

struct Entry {
  const JsonValue* resource = nullptr;
  std::string type;       // resourceType
  std::string path;       // Bundle.entry[i].resource
  std::string full_url;
  std::string id;
  size_t index = 0;
};

class FhirMapper {
 public:
  explicit FhirMapper(ParsedReferral& out) : out_(out), referral_(out.referral) {}

  void Map(const JsonValue& root);

 private:
  // Issues.
  void AddIssue(const char* code, std::string path, std::string message) {
    if (out_.issues.size() >= kMaxIssues) return;
    Issue& issue = out_.issues.emplace_back();
    issue.set_code(code);
    issue.set_path(std::move(path));
    issue.set_message(out_.issues.size() == kMaxIssues
                          ? "further problems were found and not listed"
                          : std::move(message));
    issue.set_severity(Issue::ERROR);
  }

  // Typed member access. Absent -> nullptr/nullopt silently; present but of the wrong JSON type
  // -> INVALID_VALUE at `path` and nullptr/nullopt.
  static const JsonValue* Find(const JsonValue* object, const char* key) {
    if (object == nullptr || !object->IsObject()) return nullptr;
    auto it = object->FindMember(key);
    return it == object->MemberEnd() ? nullptr : &it->value;
  }
  std::optional<std::string> String(const JsonValue* object, const char* key, const std::string& path) {
    const JsonValue* value = Find(object, key);
    if (value == nullptr || value->IsNull()) return std::nullopt;
    if (!value->IsString()) {
      AddIssue(kInvalidValue, absl::StrCat(path, ".", key), "expected a JSON string here");
      return std::nullopt;
    }
    return std::string(value->GetString(), value->GetStringLength());
  }
  std::string StringOr(const JsonValue* object, const char* key, const std::string& path) {
    return String(object, key, path).value_or("");
  }
  const JsonValue* Object(const JsonValue* object, const char* key, const std::string& path) {
    const JsonValue* value = Find(object, key);
    if (value == nullptr || value->IsNull()) return nullptr;
    if (!value->IsObject()) {
      AddIssue(kInvalidValue, absl::StrCat(path, ".", key), "expected a JSON object here");
      return nullptr;
    }
    return value;
  }
  // An array member; an empty array when absent or unusable.
  const JsonValue::ConstArray Array(const JsonValue* object, const char* key, const std::string& path) {
    const JsonValue* value = Find(object, key);
    if (value != nullptr && !value->IsNull() && !value->IsArray()) {
      AddIssue(kInvalidValue, absl::StrCat(path, ".", key), "expected a JSON array here");
    }
    if (value == nullptr || !value->IsArray()) return kEmptyArray().GetArray();
    return value->GetArray();
  }
  static std::string Index(const std::string& path, const char* key, size_t i) {
    return absl::StrCat(path, ".", key, "[", i, "]");
  }

  // References.
  const Entry* Resolve(const JsonValue* reference_holder, const std::string& path) {
    std::optional<std::string> reference = String(reference_holder, "reference", path);
    if (!reference || reference->empty()) return nullptr;
    auto it = by_full_url_.find(*reference);
    if (it != by_full_url_.end()) return &entries_[it->second];
    // A relative reference `Type/id` to an entry in the Bundle.
    for (const Entry& entry : entries_) {
      if (!entry.id.empty() && *reference == absl::StrCat(entry.type, "/", entry.id)) return &entry;
    }
    return nullptr;
  }

  // Content.
  void ReadCodings(const JsonValue* concept_holder, const char* key, const std::string& path,
                   google::protobuf::RepeatedPtrField<Coding>* codes, std::string* text);
  void ReadHumanName(const JsonValue* name, const std::string& path, frontdoor::v1::HumanName* out);
  void ReadTelecom(const JsonValue* holder, const std::string& path,
                   google::protobuf::RepeatedPtrField<ContactPoint>* out);
  // The ODS code of an Organization entry, or of a logical reference with an ODS identifier.
  std::string OdsOf(const JsonValue* reference, const std::string& reference_path,
                    std::string* value_path);
  // A date element; partial -> INVALID_VALUE. Returns the date part (or the partial text, so the
  // validator sees it too) and sets `*value_path`.
  std::string DatePart(const JsonValue* object, const char* key, const std::string& path,
                       std::string* value_path);

  bool ReadEntries(const JsonValue& bundle);
  void MapHeader(const Entry& header, const Entry** service_request);
  void MapServiceRequest(const Entry& request);
  void MapPatient(const Entry& patient);
  void MapRequester(const Entry& requester);
  void MapConsent(const Entry& consent);
  void MapOtherResource(const Entry& entry);

  ParsedReferral& out_;
  Referral& referral_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> by_full_url_;
  static const JsonValue& kEmptyArray() {
    static const JsonValue* const empty = new JsonValue(rapidjson::kArrayType);
    return *empty;
  }
  const Entry* patient_ = nullptr;
  const Entry* requester_ = nullptr;
};

std::string FhirMapper::DatePart(const JsonValue* object, const char* key, const std::string& path,
                                 std::string* value_path) {
  std::optional<std::string> text = String(object, key, path);
  *value_path = absl::StrCat(path, ".", key);
  if (!text || text->empty()) return "";
  if (!StartsWithFullDate(*text)) {
    AddIssue(kInvalidValue, *value_path, "not a full date (YYYY-MM-DD)");
    // Kept (cut to at most 10 bytes on a character boundary) so the validator sees it too.
    size_t cut = std::min<size_t>(text->size(), 10);
    while (cut > 0 && cut < text->size() && (static_cast<unsigned char>((*text)[cut]) & 0xc0) == 0x80) --cut;
    return text->substr(0, cut);
  }
  return text->substr(0, 10);
}

void FhirMapper::ReadCodings(const JsonValue* concept_holder, const char* key,
                             const std::string& path,
                             google::protobuf::RepeatedPtrField<Coding>* codes, std::string* text) {
  const JsonValue* concept_value = Object(concept_holder, key, path);
  if (concept_value == nullptr) return;
  std::string concept_path = absl::StrCat(path, ".", key);
  size_t i = 0;
  for (const JsonValue& coding : Array(concept_value, "coding", concept_path)) {
    std::string coding_path = Index(concept_path, "coding", i++);
    Coding* out = codes->Add();
    out->set_system(StringOr(&coding, "system", coding_path));
    out->set_code(StringOr(&coding, "code", coding_path));
    out->set_display(StringOr(&coding, "display", coding_path));
  }
  if (text != nullptr && text->empty()) *text = StringOr(concept_value, "text", concept_path);
}

void FhirMapper::ReadHumanName(const JsonValue* name, const std::string& path,
                               frontdoor::v1::HumanName* out) {
  out->set_family(StringOr(name, "family", path));
  size_t i = 0;
  for (const JsonValue& given : Array(name, "given", path)) {
    if (given.IsString()) {
      out->add_given(std::string(given.GetString(), given.GetStringLength()));
    } else {
      AddIssue(kInvalidValue, Index(path, "given", i), "expected a JSON string here");
    }
    ++i;
  }
  auto prefixes = Array(name, "prefix", path);
  if (!prefixes.Empty() && prefixes[0].IsString()) {
    out->set_prefix(std::string(prefixes[0].GetString(), prefixes[0].GetStringLength()));
  }
}

void FhirMapper::ReadTelecom(const JsonValue* holder, const std::string& path,
                             google::protobuf::RepeatedPtrField<ContactPoint>* out) {
  size_t i = 0;
  for (const JsonValue& telecom : Array(holder, "telecom", path)) {
    std::string telecom_path = Index(path, "telecom", i++);
    std::string system = StringOr(&telecom, "system", telecom_path);
    std::string value = StringOr(&telecom, "value", telecom_path);
    if (value.empty()) continue;
    ContactPoint* point = out->Add();
    if (system == "phone") point->set_system(ContactPoint::PHONE);
    if (system == "email") point->set_system(ContactPoint::EMAIL);
    if (system == "sms") point->set_system(ContactPoint::SMS);
    point->set_value(std::move(value));
    point->set_use(StringOr(&telecom, "use", telecom_path));
    if (const JsonValue* rank = Find(&telecom, "rank"); rank != nullptr && rank->IsUint()) {
      point->set_rank(rank->GetUint());
    }
  }
}

std::string FhirMapper::OdsOf(const JsonValue* reference, const std::string& reference_path,
                              std::string* value_path) {
  if (reference == nullptr) return "";
  // A logical reference, as PDS sends generalPractitioner: {"type": ..., "identifier": {...}}.
  if (const JsonValue* identifier = Object(reference, "identifier", reference_path)) {
    std::string identifier_path = absl::StrCat(reference_path, ".identifier");
    if (StringOr(identifier, "system", identifier_path) == kOdsSystem) {
      *value_path = absl::StrCat(identifier_path, ".value");
      return StringOr(identifier, "value", identifier_path);
    }
  }
  const Entry* target = Resolve(reference, reference_path);
  if (target == nullptr) return "";
  if (target->type == "PractitionerRole") {
    // A practice named through its role: PractitionerRole.organization.
    const JsonValue* organization = Object(target->resource, "organization", target->path);
    target = Resolve(organization, absl::StrCat(target->path, ".organization"));
    if (target == nullptr) return "";
  }
  if (target->type != "Organization") return "";
  size_t i = 0;
  for (const JsonValue& identifier : Array(target->resource, "identifier", target->path)) {
    std::string identifier_path = Index(target->path, "identifier", i++);
    if (StringOr(&identifier, "system", identifier_path) == kOdsSystem) {
      *value_path = absl::StrCat(identifier_path, ".value");
      return StringOr(&identifier, "value", identifier_path);
    }
  }
  *value_path = absl::StrCat(target->path, ".identifier");
  return "";
}

bool FhirMapper::ReadEntries(const JsonValue& bundle) {
  const JsonValue* entries = Find(&bundle, "entry");
  if (entries != nullptr && !entries->IsArray()) {
    AddIssue(kInvalidValue, "Bundle.entry", "expected a JSON array here");
    return false;
  }
  if (entries == nullptr || entries->Empty()) {
    AddIssue(kMissingElement, "Bundle.entry[0].resource", "the Bundle has no entries");
    return false;
  }
  bool ok = true;
  for (rapidjson::SizeType i = 0; i < entries->Size(); ++i) {
    const JsonValue& entry = (*entries)[i];
    std::string entry_path = absl::StrCat("Bundle.entry[", i, "]");
    Entry& mapped = entries_.emplace_back();
    mapped.index = i;
    mapped.path = absl::StrCat(entry_path, ".resource");
    if (!entry.IsObject()) {
      AddIssue(kInvalidValue, entry_path, "expected a JSON object here");
      ok = false;
      continue;
    }
    mapped.full_url = StringOr(&entry, "fullUrl", entry_path);
    mapped.resource = Object(&entry, "resource", entry_path);
    if (mapped.resource == nullptr) {
      AddIssue(kMissingElement, mapped.path, "an entry without a resource");
      continue;
    }
    mapped.type = StringOr(mapped.resource, "resourceType", mapped.path);
    mapped.id = StringOr(mapped.resource, "id", mapped.path);
    if (!mapped.full_url.empty() && !by_full_url_.emplace(mapped.full_url, i).second) {
      AddIssue(kInvalidValue, absl::StrCat(entry_path, ".fullUrl"),
               "this fullUrl is used by an earlier entry; references would be ambiguous");
      ok = false;
    }
  }
  return ok;
}

void FhirMapper::Map(const JsonValue& root) {
  const JsonValue* resource_type = Find(&root, "resourceType");
  if (resource_type != nullptr && !resource_type->IsString()) {
    AddIssue(kInvalidValue, "resourceType", "expected a JSON string here");
    return;
  }
  if (resource_type == nullptr || std::string_view(resource_type->GetString()) != "Bundle") {
    AddIssue(kUnsupportedMessage, "resourceType",
             "not a FHIR Bundle: a referral is a BaRS message Bundle");
    return;
  }
  std::optional<std::string> bundle_id = String(&root, "id", "Bundle");
  referral_.set_message_id(bundle_id.value_or(""));
  out_.reply.bundle_id = bundle_id.value_or("");
  out_.paths.message_id = "Bundle.id";
  if (referral_.message_id().empty()) {
    AddIssue(kMissingElement, "Bundle.id", "the Bundle has no id (the message id)");
  }
  std::optional<std::string> bundle_type = String(&root, "type", "Bundle");
  if (!bundle_type || *bundle_type != "message") {
    AddIssue(kUnsupportedMessage, "Bundle.type", "the Bundle is not a message (type = message)");
    return;
  }
  if (!ReadEntries(root)) return;

  const Entry& header = entries_[0];
  if (header.type != "MessageHeader") {
    AddIssue(kMissingElement, header.path, "the first entry must be the MessageHeader");
    return;
  }
  const Entry* service_request = nullptr;
  MapHeader(header, &service_request);
  if (service_request == nullptr) return;
  MapServiceRequest(*service_request);

  for (const Entry& entry : entries_) {
    if (entry.resource == nullptr || &entry == &header || &entry == service_request ||
        &entry == patient_ || &entry == requester_) {
      continue;
    }
    if (entry.type == "Consent") {
      MapConsent(entry);
    } else {
      MapOtherResource(entry);
    }
  }
}

void FhirMapper::MapHeader(const Entry& header, const Entry** service_request) {
  const JsonValue* resource = header.resource;
  const JsonValue* event = Object(resource, "eventCoding", header.path);
  std::string event_path = absl::StrCat(header.path, ".eventCoding");
  if (event == nullptr) {
    AddIssue(kMissingElement, event_path, "the MessageHeader has no eventCoding");
    return;
  }
  if (StringOr(event, "system", event_path) != kBarsEventSystem ||
      StringOr(event, "code", event_path) != kBarsEventCode) {
    AddIssue(kUnsupportedMessage, event_path,
             "not a BaRS servicerequest-request message: this gateway accepts referrals only");
    return;
  }
  if (const JsonValue* source = Object(resource, "source", header.path)) {
    out_.reply.source_endpoint = StringOr(source, "endpoint", absl::StrCat(header.path, ".source"));
  }

  std::string sender_path = absl::StrCat(header.path, ".sender");
  const JsonValue* sender = Object(resource, "sender", header.path);
  out_.paths.sender_ods = sender_path;
  if (sender == nullptr) {
    AddIssue(kMissingElement, sender_path, "the MessageHeader has no sender");
  } else {
    referral_.set_sender_ods(OdsOf(sender, sender_path, &out_.paths.sender_ods));
    if (referral_.sender_ods().empty()) {
      AddIssue(kMissingElement, out_.paths.sender_ods,
               "the sender is not an Organization with an ODS code");
    }
  }

  auto focus = Array(resource, "focus", header.path);
  std::string focus_path = absl::StrCat(header.path, ".focus[0]");
  const Entry* target = focus.Empty() ? nullptr : Resolve(&focus[0], focus_path);
  if (target == nullptr || target->type != "ServiceRequest") {
    AddIssue(kMissingElement, focus_path,
             "MessageHeader.focus[0] does not reference a ServiceRequest entry");
    out_.paths.referral_date = focus_path;
    out_.paths.nhs_number = focus_path;
    out_.paths.birth_date = focus_path;
    return;
  }
  *service_request = target;
}

void FhirMapper::MapServiceRequest(const Entry& request) {
  const JsonValue* resource = request.resource;
  const std::string& path = request.path;

  auto identifiers = Array(resource, "identifier", path);
  if (!identifiers.Empty()) {
    referral_.set_referrer_reference(StringOr(&identifiers[0], "value", Index(path, "identifier", 0)));
  }

  referral_.set_referral_date(DatePart(resource, "authoredOn", path, &out_.paths.referral_date));
  if (referral_.referral_date().empty()) {
    AddIssue(kMissingElement, out_.paths.referral_date,
             "the ServiceRequest has no authoredOn (the referral date)");
  }

  size_t i = 0;
  for (const JsonValue& reason : Array(resource, "reasonCode", path)) {
    std::string reason_path = Index(path, "reasonCode", i++);
    size_t j = 0;
    for (const JsonValue& coding : Array(&reason, "coding", reason_path)) {
      std::string coding_path = Index(reason_path, "coding", j++);
      if (StringOr(&coding, "system", coding_path) != kSnomedSystem) continue;
      Coding* out = referral_.add_reasons();
      out->set_system(kSnomedSystem);
      out->set_code(StringOr(&coding, "code", coding_path));
      out->set_display(StringOr(&coding, "display", coding_path));
      out_.paths.reasons.push_back(absl::StrCat(coding_path, ".code"));
    }
  }

  auto notes = Array(resource, "note", path);
  if (notes.Size() > 0) referral_.set_referrer_text(StringOr(&notes[0], "text", Index(path, "note", 0)));
  if (notes.Size() > 1) referral_.set_what_matters(StringOr(&notes[1], "text", Index(path, "note", 1)));

  const JsonValue* subject = Object(resource, "subject", path);
  const JsonValue* requester = Object(resource, "requester", path);
  std::string subject_path = absl::StrCat(path, ".subject");
  std::string subject_reference = StringOr(subject, "reference", subject_path);
  std::string requester_reference =
      StringOr(requester, "reference", absl::StrCat(path, ".requester"));
  referral_.set_self_referral(!subject_reference.empty() && subject_reference == requester_reference);

  const Entry* patient = Resolve(subject, subject_path);
  if (patient == nullptr || patient->type != "Patient") {
    AddIssue(kMissingElement, subject_path, "ServiceRequest.subject does not reference a Patient entry");
    out_.paths.nhs_number = subject_path;
    out_.paths.birth_date = subject_path;
  } else {
    patient_ = patient;
    MapPatient(*patient);
  }

  if (!referral_.self_referral() && requester != nullptr) {
    const Entry* target = Resolve(requester, absl::StrCat(path, ".requester"));
    if (target != nullptr) {
      requester_ = target;
      MapRequester(*target);
    }
  }
}

void FhirMapper::MapPatient(const Entry& patient) {
  const JsonValue* resource = patient.resource;
  const std::string& path = patient.path;
  frontdoor::v1::Person& person = *referral_.mutable_person();

  size_t nhs_numbers = 0;
  size_t i = 0;
  for (const JsonValue& identifier : Array(resource, "identifier", path)) {
    std::string identifier_path = Index(path, "identifier", i++);
    if (StringOr(&identifier, "system", identifier_path) != kNhsNumberSystem) continue;
    std::string value_path = absl::StrCat(identifier_path, ".value");
    if (++nhs_numbers > 1) {
      AddIssue(kInvalidValue, value_path, "the Patient has more than one NHS number");
      continue;
    }
    person.set_nhs_number(StringOr(&identifier, "value", identifier_path));
    out_.paths.nhs_number = value_path;
  }
  if (nhs_numbers == 0) {
    out_.paths.nhs_number = absl::StrCat(path, ".identifier");
    AddIssue(kMissingElement, out_.paths.nhs_number, "the Patient has no NHS number");
  } else if (person.nhs_number().empty()) {
    AddIssue(kMissingElement, out_.paths.nhs_number, "the NHS number identifier has no value");
  }

  person.set_birth_date(DatePart(resource, "birthDate", path, &out_.paths.birth_date));
  if (person.birth_date().empty()) {
    AddIssue(kMissingElement, out_.paths.birth_date, "the Patient has no birthDate");
  }
  person.set_gender(StringOr(resource, "gender", path));

  auto names = Array(resource, "name", path);
  for (rapidjson::SizeType n = 0; n < names.Size(); ++n) {
    std::string name_path = Index(path, "name", n);
    if (n == 0) ReadHumanName(&names[n], name_path, person.mutable_name());
    if (StringOr(&names[n], "use", name_path) == "usual" && person.name().preferred_name().empty()) {
      auto given = Array(&names[n], "given", name_path);
      if (!given.Empty() && given[0].IsString()) {
        person.mutable_name()->set_preferred_name(given[0].GetString());
      }
    }
  }

  // Home: the first address with use=home, else the first without use; old/temp/work/billing
  // addresses are never the home.
  auto addresses = Array(resource, "address", path);
  std::optional<rapidjson::SizeType> home;
  for (rapidjson::SizeType a = 0; a < addresses.Size() && !home; ++a) {
    if (StringOr(&addresses[a], "use", Index(path, "address", a)) == "home") home = a;
  }
  for (rapidjson::SizeType a = 0; a < addresses.Size() && !home; ++a) {
    if (addresses[a].IsObject() && Find(&addresses[a], "use") == nullptr) home = a;
  }
  if (home) {
    std::string address_path = Index(path, "address", *home);
    const JsonValue* address = &addresses[*home];
    frontdoor::v1::Address& out = *person.mutable_home_address();
    size_t l = 0;
    for (const JsonValue& line : Array(address, "line", address_path)) {
      if (line.IsString()) {
        out.add_lines(line.GetString());
      } else {
        AddIssue(kInvalidValue, Index(address_path, "line", l), "expected a JSON string here");
      }
      ++l;
    }
    out.set_city(StringOr(address, "city", address_path));
    out.set_district(StringOr(address, "district", address_path));
    out.set_postcode(StringOr(address, "postalCode", address_path));
    if (!out.postcode().empty()) out_.paths.postcode = absl::StrCat(address_path, ".postalCode");
  }

  ReadTelecom(resource, path, person.mutable_telecom());

  // Preferred language: the preferred communication, else the first.
  auto communications = Array(resource, "communication", path);
  std::optional<rapidjson::SizeType> chosen;
  for (rapidjson::SizeType c = 0; c < communications.Size(); ++c) {
    const JsonValue* preferred = Find(&communications[c], "preferred");
    if (preferred != nullptr && preferred->IsBool() && preferred->GetBool()) {
      chosen = c;
      break;
    }
    if (!chosen) chosen = c;
  }
  if (chosen) {
    std::string communication_path = Index(path, "communication", *chosen);
    google::protobuf::RepeatedPtrField<Coding> languages;
    ReadCodings(&communications[*chosen], "language", communication_path, &languages, nullptr);
    for (const Coding& language : languages) {
      if (!language.code().empty()) {
        person.set_language(language.code());
        break;
      }
    }
  }

  // UK Core / NHS extensions that carry communication needs. Only their presence and coded values
  // are read; unknown extensions are ignored.
  size_t e = 0;
  for (const JsonValue& extension : Array(resource, "extension", path)) {
    std::string extension_path = Index(path, "extension", e++);
    std::string url = StringOr(&extension, "url", extension_path);
    if (url.find("InterpreterRequired") != std::string::npos) {
      const JsonValue* flag = Find(&extension, "valueBoolean");
      if (flag != nullptr && flag->IsBool()) person.set_interpreter_required(flag->GetBool());
    }
    if (url.find("NHSCommunication") != std::string::npos) {
      for (const JsonValue& inner : Array(&extension, "extension", extension_path)) {
        if (StringOr(&inner, "url", extension_path) != "interpreterRequired") continue;
        const JsonValue* flag = Find(&inner, "valueBoolean");
        if (flag != nullptr && flag->IsBool()) person.set_interpreter_required(flag->GetBool());
      }
    }
    if (url.find("ReasonableAdjustment") != std::string::npos ||
        url.find("Accessibility") != std::string::npos) {
      std::string need = StringOr(&extension, "valueString", extension_path);
      if (need.empty()) {
        google::protobuf::RepeatedPtrField<Coding> codes;
        ReadCodings(&extension, "valueCodeableConcept", extension_path, &codes, &need);
        if (need.empty() && !codes.empty()) need = codes[0].display();
      }
      if (!need.empty()) person.add_accessibility_needs(need);
    }
    if (url.find("ContactPreference") != std::string::npos) {
      for (const JsonValue& inner : Array(&extension, "extension", extension_path)) {
        if (StringOr(&inner, "url", extension_path) != "PreferredContactMethod") continue;
        google::protobuf::RepeatedPtrField<Coding> codes;
        ReadCodings(&inner, "valueCodeableConcept", extension_path, &codes, nullptr);
        for (const Coding& code : codes) {
          // NHS ContactPreference codes: 1 letter, 3 telephone, 4 email (plus plain words).
          std::string c = absl::AsciiStrToLower(code.code());
          if (c == "1" || c == "letter") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_LETTER);
          if (c == "3" || c == "phone" || c == "telephone") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_PHONE);
          if (c == "4" || c == "email") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_EMAIL);
          if (c == "sms" || c == "text") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_SMS);
        }
      }
    }
  }

  auto practitioners = Array(resource, "generalPractitioner", path);
  if (!practitioners.Empty()) {
    std::string value_path;
    person.set_registered_practice_ods(
        OdsOf(&practitioners[0], Index(path, "generalPractitioner", 0), &value_path));
    if (!person.registered_practice_ods().empty()) out_.paths.registered_practice_ods = value_path;
  }

  // S-flag: meta.security v3-Confidentiality R or V (PDS "restricted").
  const JsonValue* meta = Object(resource, "meta", path);
  std::string meta_path = absl::StrCat(path, ".meta");
  size_t s = 0;
  for (const JsonValue& security : Array(meta, "security", meta_path)) {
    std::string security_path = Index(meta_path, "security", s++);
    if (StringOr(&security, "system", security_path) != kConfidentialitySystem) continue;
    std::string code = StringOr(&security, "code", security_path);
    if (code == "R" || code == "V") person.set_demographics_restricted(true);
  }
}

void FhirMapper::MapRequester(const Entry& requester) {
  frontdoor::v1::Requester& out = *referral_.mutable_requester();
  const Entry* practitioner = nullptr;
  const Entry* organization = nullptr;
  if (requester.type == "PractitionerRole") {
    const JsonValue* role = requester.resource;
    auto codes = Array(role, "code", requester.path);
    if (!codes.Empty()) {
      // PractitionerRole.code[0]: its text, else its first coding's display.
      const JsonValue& first = codes[0];
      std::string concept_path = Index(requester.path, "code", 0);
      std::string text = StringOr(&first, "text", concept_path);
      if (text.empty()) {
        auto coding = Array(&first, "coding", concept_path);
        if (!coding.Empty()) text = StringOr(&coding[0], "display", Index(concept_path, "coding", 0));
      }
      out.set_role(text);
    }
    ReadTelecom(role, requester.path, out.mutable_telecom());
    practitioner = Resolve(Object(role, "practitioner", requester.path),
                           absl::StrCat(requester.path, ".practitioner"));
    organization = Resolve(Object(role, "organization", requester.path),
                           absl::StrCat(requester.path, ".organization"));
  } else if (requester.type == "Practitioner") {
    practitioner = &requester;
  } else if (requester.type == "Organization") {
    organization = &requester;
  }
  if (practitioner != nullptr && practitioner->type == "Practitioner") {
    auto names = Array(practitioner->resource, "name", practitioner->path);
    if (!names.Empty()) ReadHumanName(&names[0], Index(practitioner->path, "name", 0), out.mutable_name());
    ReadTelecom(practitioner->resource, practitioner->path, out.mutable_telecom());
  }
  if (organization != nullptr && organization->type == "Organization") {
    out.set_organisation_name(StringOr(organization->resource, "name", organization->path));
    size_t i = 0;
    for (const JsonValue& identifier : Array(organization->resource, "identifier", organization->path)) {
      std::string identifier_path = Index(organization->path, "identifier", i++);
      if (StringOr(&identifier, "system", identifier_path) == kOdsSystem) {
        out.set_organisation_ods(StringOr(&identifier, "value", identifier_path));
        break;
      }
    }
  }
}

void FhirMapper::MapConsent(const Entry& consent) {
  const JsonValue* resource = consent.resource;
  const std::string& path = consent.path;
  frontdoor::v1::Consent& out = *referral_.add_consents();
  out.set_id(consent.id);
  std::string status = StringOr(resource, "status", path);
  using C = frontdoor::v1::Consent;
  if (status == "draft") out.set_status(C::DRAFT);
  if (status == "proposed") out.set_status(C::PROPOSED);
  if (status == "active") out.set_status(C::ACTIVE);
  if (status == "rejected") out.set_status(C::REJECTED);
  if (status == "inactive") out.set_status(C::INACTIVE);
  if (status == "entered-in-error") out.set_status(C::ENTERED_IN_ERROR);

  std::string date_path;
  out.set_date(DatePart(resource, "dateTime", path, &date_path));
  out_.paths.consent_dates.push_back(date_path);

  const JsonValue* provision = Object(resource, "provision", path);
  std::string provision_path = absl::StrCat(path, ".provision");
  std::string type = StringOr(provision, "type", provision_path);
  if (type == "permit") out.set_provision(C::PERMIT);
  if (type == "deny") out.set_provision(C::DENY);
  const JsonValue* period = Object(provision, "period", provision_path);
  std::string period_path = absl::StrCat(provision_path, ".period");
  std::string start_path;
  std::string end_path;
  out.set_period_start(DatePart(period, "start", period_path, &start_path));
  out.set_period_end(DatePart(period, "end", period_path, &end_path));
  out_.paths.consent_starts.push_back(start_path);
  out_.paths.consent_ends.push_back(end_path);

  auto categories = Array(resource, "category", path);
  if (!categories.Empty()) {
    std::string holder = Index(path, "category", 0);
    size_t j = 0;
    for (const JsonValue& coding : Array(&categories[0], "coding", holder)) {
      std::string code = StringOr(&coding, "code", Index(holder, "coding", j++));
      if (!code.empty()) {
        out.set_category(code);
        break;
      }
    }
  }
}

void FhirMapper::MapOtherResource(const Entry& entry) {
  // The participants of the referral itself are not clinical content.
  if (entry.type == "Practitioner" || entry.type == "PractitionerRole" ||
      entry.type == "Organization" || entry.type == "Patient" || entry.type == "MessageHeader") {
    return;
  }
  const JsonValue* resource = entry.resource;
  const std::string& path = entry.path;
  ClinicalContent& out = *referral_.add_clinical_content();
  out.set_source_type(entry.type);
  std::string text;
  if (entry.type == "MedicationStatement" || entry.type == "MedicationRequest") {
    out.set_kind(ClinicalContent::MEDICATION);
    ReadCodings(resource, "medicationCodeableConcept", path, out.mutable_codes(), &text);
  } else {
    if (entry.type == "Condition") out.set_kind(ClinicalContent::CONDITION);
    else if (entry.type == "Observation") out.set_kind(ClinicalContent::OBSERVATION);
    else if (entry.type == "Flag") out.set_kind(ClinicalContent::FLAG);
    else out.set_kind(ClinicalContent::OTHER);
    ReadCodings(resource, "code", path, out.mutable_codes(), &text);
  }
  // status is a code in most resources; Condition carries a CodeableConcept clinicalStatus.
  const JsonValue* status = Find(resource, "status");
  if (status != nullptr && status->IsString()) out.set_status(status->GetString());
  if (out.status().empty()) {
    google::protobuf::RepeatedPtrField<Coding> clinical_status;
    ReadCodings(resource, "clinicalStatus", path, &clinical_status, nullptr);
    if (!clinical_status.empty()) out.set_status(clinical_status[0].code());
  }
  // category: a CodeableConcept in some resources, a list of them in others (Flag).
  const JsonValue* category = Find(resource, "category");
  const JsonValue* first_category = nullptr;
  if (category != nullptr && category->IsArray() && !category->Empty()) first_category = &(*category)[0];
  if (category != nullptr && category->IsObject()) first_category = category;
  if (first_category != nullptr && first_category->IsObject()) {
    const JsonValue* codings = Find(first_category, "coding");
    if (codings != nullptr && codings->IsArray()) {
      for (const JsonValue& coding : codings->GetArray()) {
        const JsonValue* code = Find(&coding, "code");
        if (code != nullptr && code->IsString()) {
          out.set_category(code->GetString());
          break;
        }
      }
    }
  }
  if (text.empty()) {
    auto notes = Array(resource, "note", path);
    if (!notes.Empty()) text = StringOr(&notes[0], "text", Index(path, "note", 0));
  }
  out.set_text(std::move(text));
}

}  // namespace

ParsedReferral ParseFhirReferral(std::string_view json, const FhirLimits& limits) {
  ParsedReferral parsed;
  parsed.format = MessageFormat::kFhir;
  std::string buffer;
  // The tree of a typical referral fits this per-thread block, so parsing makes no allocation for
  // it (a larger message takes more blocks from the heap, freed with the document).
  alignas(8) static thread_local char tree_block[32 * 1024];
  rapidjson::MemoryPoolAllocator<> pool(tree_block, sizeof tree_block);
  rapidjson::Document document(&pool);
  if (std::optional<std::string> error = ReadGuarded(json, limits, buffer, document)) {
    Issue& issue = parsed.issues.emplace_back();
    issue.set_code(kMalformed);
    issue.set_message(*error);
    issue.set_severity(Issue::ERROR);
    return parsed;
  }
  if (!document.IsObject()) {
    Issue& issue = parsed.issues.emplace_back();
    issue.set_code(kMalformed);
    issue.set_message("not a FHIR resource: the JSON root is not an object");
    issue.set_severity(Issue::ERROR);
    return parsed;
  }
  FhirMapper(parsed).Map(document);
  return parsed;
}

}  // namespace frontdoor::adapters
