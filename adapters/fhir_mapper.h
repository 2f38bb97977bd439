// Internal to adapters/ (the FHIR adapter, fhir_referral_adapter.h): FhirMapper, which reads a
// BaRS message Bundle from either JSON reader's tree into the canonical ParsedReferral, and the
// element readers every part of it uses (typed members, references, codings, names, telecom, ODS
// codes, dates).
#ifndef FRONTDOOR_ADAPTERS_FHIR_MAPPER_H_
#define FRONTDOOR_ADAPTERS_FHIR_MAPPER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "adapters/fhir_element_path.h"
#include "adapters/fhir_member_name.h"
#include "adapters/parsed_referral.h"

namespace frontdoor::adapters::fhir_internal {

using frontdoor::v1::Coding;
using frontdoor::v1::ContactPoint;
using frontdoor::v1::Issue;
using frontdoor::v1::Referral;

inline constexpr char kOdsSystem[] = "https://fhir.nhs.uk/Id/ods-organization-code";
// A hostile message could carry one problem per entry; the sender needs the first few.
inline constexpr size_t kMaxIssues = 50;

inline bool IsFullDate(std::string_view text) {
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
inline bool StartsWithFullDate(std::string_view text) {
  return text.size() >= 10 && IsFullDate(text.substr(0, 10)) && (text.size() == 10 || text[10] == 'T');
}

template <typename Node>
struct MappedEntry {
  Node resource;          // Absent when the entry has none.
  std::string_view type;  // resourceType
  std::string_view full_url;
  std::string_view id;
  size_t index = 0;
};

// `Type/id`, a relative reference to `entry`.
template <typename Entry>
bool IsRelativeReferenceTo(std::string_view reference, const Entry& entry) {
  const size_t type = entry.type.size();
  return reference.size() == type + 1 + entry.id.size() && reference.substr(0, type) == entry.type &&
         reference[type] == '/' && reference.substr(type + 1) == entry.id;
}

// Node: RapidNode (fhir_rapidjson_reader.h) or TapeNode (fhir_simdjson_reader.h). Map and the
// resources it reads are defined in fhir_mapper.cc, MapPatient and its parts in
// fhir_patient_mapper.cc; Map and MapPatient are instantiated there for both. The element readers
// they share are defined in this header, so each is compiled (and inlined) where it is called.
template <typename Node>
class FhirMapper {
 public:
  using Entry = MappedEntry<Node>;
  explicit FhirMapper(ParsedReferral& out) : out_(out), referral_(out.referral) {}

  void Map(Node root);

 private:
  // Issues.
  void AddIssue(const char* code, std::string path, const char* message) {
    if (out_.issues.size() >= kMaxIssues) return;
    Issue& issue = out_.issues.emplace_back();
    issue.set_code(code);
    issue.set_path(std::move(path));
    issue.set_message(out_.issues.size() == kMaxIssues ? "further problems were found and not listed" : message);
    issue.set_severity(Issue::ERROR);
  }
  void AddIssue(const char* code, const ElementPath& path, const char* message) {
    if (out_.issues.size() >= kMaxIssues) return;
    AddIssue(code, path.Render(), message);
  }

  // Typed member access. Absent or null -> nullopt/absent silently; present but of the wrong JSON
  // type -> INVALID_VALUE at `path`.`key` and nullopt/absent.
  std::optional<std::string_view> String(Node object, const MemberName& key, const ElementPath& path) {
    Node value = object.Member(key);
    if (!value.Present() || value.IsNull()) return std::nullopt;
    if (!value.IsString()) {
      AddIssue(kInvalidValue, ElementPath(path, key.name()), "expected a JSON string here");
      return std::nullopt;
    }
    return value.GetString();
  }
  std::string_view StringOr(Node object, const MemberName& key, const ElementPath& path) {
    return String(object, key, path).value_or(std::string_view());
  }
  Node Object(Node object, const MemberName& key, const ElementPath& path) {
    Node value = object.Member(key);
    if (!value.Present() || value.IsNull()) return Node();
    if (!value.IsObject()) {
      AddIssue(kInvalidValue, ElementPath(path, key.name()), "expected a JSON object here");
      return Node();
    }
    return value;
  }
  // An array member; absent (no elements) when absent or unusable.
  Node Array(Node object, const MemberName& key, const ElementPath& path) {
    Node value = object.Member(key);
    if (value.Present() && !value.IsNull() && !value.IsArray()) {
      AddIssue(kInvalidValue, ElementPath(path, key.name()), "expected a JSON array here");
    }
    return value.IsArray() ? value : Node();
  }

  // References: a fullUrl, else a relative `Type/id`.
  const Entry* Resolve(Node reference_holder, const ElementPath& path) {
    std::optional<std::string_view> reference = String(reference_holder, "reference", path);
    if (!reference || reference->empty()) return nullptr;
    if (const Entry* entry = EntryWithFullUrl(*reference)) return entry;
    for (const Entry& entry : entries_) {
      if (!entry.id.empty() && IsRelativeReferenceTo(*reference, entry)) return &entry;
    }
    return nullptr;
  }
  // The first entry with a resource and this fullUrl. A referral has a handful of entries, compared
  // one by one; a Bundle with more than kLinearEntries is indexed, so a hostile one with many
  // entries and references costs linear time, not quadratic.
  static constexpr size_t kLinearEntries = 16;
  const Entry* EntryWithFullUrl(std::string_view full_url) const {
    if (by_full_url_ != nullptr) {
      auto it = by_full_url_->find(full_url);
      return it == by_full_url_->end() ? nullptr : &entries_[it->second];
    }
    for (const Entry& entry : entries_) {
      if (entry.resource.Present() && entry.full_url == full_url) return &entry;
    }
    return nullptr;
  }

  // Content. Protobuf string fields are set from a std::string built from the parser's buffer and
  // moved in: one copy. (Protobuf 3.21's set_x(pointer, size) builds a temporary std::string and
  // copies it again: two copies, and two allocations for a string past 15 bytes.)
  void ReadCodings(Node concept_holder, const MemberName& key, const ElementPath& path,
                   google::protobuf::RepeatedPtrField<Coding>* codes, std::string_view* text);
  void ReadHumanName(Node name, const ElementPath& path, frontdoor::v1::HumanName* out);
  void ReadTelecom(Node holder, const ElementPath& path, google::protobuf::RepeatedPtrField<ContactPoint>* out);
  // The ODS code of an Organization entry, or of a logical reference with an ODS identifier.
  std::string_view OdsOf(Node reference, const ElementPath& reference_path, std::string* value_path);
  // A date element; partial -> INVALID_VALUE. Returns the date part (or the partial text, so the
  // validator sees it too) and sets `*value_path`.
  std::string_view DatePart(Node object, const MemberName& key, const ElementPath& path, std::string* value_path);

  // The resources, each read once a message. ReadEntries, CheckResourcesThatOccurOnce, MapHeader,
  // MapServiceRequestStatus and MapRequester are [[gnu::always_inline]] (fhir_mapper.cc), so each
  // is compiled into its one caller: GCC keeps a class template's member out of line when other
  // files could instantiate it too, where it would inline a function only one file can see.
  bool ReadEntries(Node bundle);
  bool CheckResourcesThatOccurOnce();
  void MapHeader(const Entry& header, const Entry** service_request);
  // ServiceRequest.status: `active` for a new referral; `revoked` or `entered-in-error` make the
  // message a withdrawal of a referral sent before (ParsedReferral.withdrawal).
  void MapServiceRequestStatus(const Entry& request, Node identifiers);
  void MapServiceRequest(const Entry& request);
  void MapPatient(const Entry& patient);
  // The parts of the Patient, in the order MapPatient reads them.
  void MapNhsNumber(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  void MapBirthDateAndGender(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  void MapNames(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  std::optional<size_t> HomeAddressIndex(Node addresses, const ElementPath& path);
  void MapHomeAddress(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  void MapPreferredLanguage(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  void MapCommunicationNeeds(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  void MapInterpreterRequired(Node extension, const ElementPath& extension_path, std::string_view url,
                              frontdoor::v1::Person& person);
  void MapAccessibilityNeed(Node extension, const ElementPath& extension_path, frontdoor::v1::Person& person);
  void MapPreferredContactMethod(Node extension, const ElementPath& extension_path, frontdoor::v1::Person& person);
  void MapRegisteredPractice(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  void MapDemographicsRestricted(Node resource, const ElementPath& path, frontdoor::v1::Person& person);
  void MapRequester(const Entry& requester);
  void MapConsent(const Entry& consent);
  void MapOtherResource(const Entry& entry);

  ParsedReferral& out_;
  Referral& referral_;
  std::vector<Entry> entries_;
  std::unique_ptr<std::unordered_map<std::string_view, size_t>> by_full_url_;
  const Entry* patient_ = nullptr;
  const Entry* requester_ = nullptr;
};

template <typename Node>
std::string_view FhirMapper<Node>::DatePart(Node object, const MemberName& key, const ElementPath& path,
                                            std::string* value_path) {
  std::optional<std::string_view> text = String(object, key, path);
  *value_path = ElementPath(path, key.name()).Render();
  if (!text || text->empty()) return std::string_view();
  if (!StartsWithFullDate(*text)) {
    AddIssue(kInvalidValue, *value_path, "not a full date (YYYY-MM-DD)");
    // Kept (cut to at most 10 bytes on a character boundary) so the validator sees it too.
    size_t cut = std::min<size_t>(text->size(), 10);
    while (cut > 0 && cut < text->size() && (static_cast<unsigned char>((*text)[cut]) & 0xc0) == 0x80) --cut;
    return text->substr(0, cut);
  }
  return text->substr(0, 10);
}

template <typename Node>
void FhirMapper<Node>::ReadCodings(Node concept_holder, const MemberName& key, const ElementPath& path,
                                   google::protobuf::RepeatedPtrField<Coding>* codes, std::string_view* text) {
  Node concept_value = Object(concept_holder, key, path);
  if (!concept_value.Present()) return;
  ElementPath concept_path(path, key.name());
  size_t i = 0;
  for (Node coding : Array(concept_value, "coding", concept_path).Elements()) {
    ElementPath coding_path(concept_path, "coding", i++);
    Coding* out = codes->Add();
    std::string_view system = StringOr(coding, "system", coding_path);
    std::string_view code = StringOr(coding, "code", coding_path);
    std::string_view display = StringOr(coding, "display", coding_path);
    out->set_system(std::string(system));
    out->set_code(std::string(code));
    out->set_display(std::string(display));
  }
  if (text != nullptr && text->empty()) *text = StringOr(concept_value, "text", concept_path);
}

template <typename Node>
void FhirMapper<Node>::ReadHumanName(Node name, const ElementPath& path, frontdoor::v1::HumanName* out) {
  std::string_view family = StringOr(name, "family", path);
  out->set_family(std::string(family));
  size_t i = 0;
  for (Node given : Array(name, "given", path).Elements()) {
    if (given.IsString()) {
      std::string_view text = given.GetString();
      out->add_given(std::string(text));
    } else {
      AddIssue(kInvalidValue, ElementPath(path, "given", i), "expected a JSON string here");
    }
    ++i;
  }
  Node prefixes = Array(name, "prefix", path);
  if (prefixes.Size() > 0 && prefixes.At(0).IsString()) {
    std::string_view prefix = prefixes.At(0).GetString();
    out->set_prefix(std::string(prefix));
  }
}

template <typename Node>
void FhirMapper<Node>::ReadTelecom(Node holder, const ElementPath& path,
                                   google::protobuf::RepeatedPtrField<ContactPoint>* out) {
  size_t i = 0;
  for (Node telecom : Array(holder, "telecom", path).Elements()) {
    ElementPath telecom_path(path, "telecom", i++);
    std::string_view system = StringOr(telecom, "system", telecom_path);
    std::string_view value = StringOr(telecom, "value", telecom_path);
    if (value.empty()) continue;
    ContactPoint* point = out->Add();
    if (system == "phone") point->set_system(ContactPoint::PHONE);
    if (system == "email") point->set_system(ContactPoint::EMAIL);
    if (system == "sms") point->set_system(ContactPoint::SMS);
    point->set_value(std::string(value));
    std::string_view use = StringOr(telecom, "use", telecom_path);
    point->set_use(std::string(use));
    if (std::optional<uint32_t> rank = telecom.Member("rank").GetUint32()) point->set_rank(*rank);
  }
}

template <typename Node>
std::string_view FhirMapper<Node>::OdsOf(Node reference, const ElementPath& reference_path, std::string* value_path) {
  if (!reference.Present()) return std::string_view();
  // A logical reference, as PDS sends generalPractitioner: {"type": ..., "identifier": {...}}.
  if (Node identifier = Object(reference, "identifier", reference_path); identifier.Present()) {
    ElementPath identifier_path(reference_path, "identifier");
    if (StringOr(identifier, "system", identifier_path) == kOdsSystem) {
      *value_path = ElementPath(identifier_path, "value").Render();
      return StringOr(identifier, "value", identifier_path);
    }
  }
  const Entry* target = Resolve(reference, reference_path);
  if (target == nullptr) return std::string_view();
  if (target->type == "PractitionerRole") {
    // A practice named through its role: PractitionerRole.organization.
    ResourcePath role(*target);
    Node organization = Object(target->resource, "organization", role.path());
    target = Resolve(organization, ElementPath(role.path(), "organization"));
    if (target == nullptr) return std::string_view();
  }
  if (target->type != "Organization") return std::string_view();
  ResourcePath where(*target);
  size_t i = 0;
  for (Node identifier : Array(target->resource, "identifier", where.path()).Elements()) {
    ElementPath identifier_path(where.path(), "identifier", i++);
    if (StringOr(identifier, "system", identifier_path) == kOdsSystem) {
      *value_path = ElementPath(identifier_path, "value").Render();
      return StringOr(identifier, "value", identifier_path);
    }
  }
  *value_path = ElementPath(where.path(), "identifier").Render();
  return std::string_view();
}

}  // namespace frontdoor::adapters::fhir_internal

#endif  // FRONTDOOR_ADAPTERS_FHIR_MAPPER_H_
