// FhirMapper::MapPatient (fhir_mapper.h): the Patient the ServiceRequest is about, read into
// Referral.person one part at a time.
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "adapters/fhir_element_path.h"
#include "adapters/fhir_mapper.h"
#include "adapters/fhir_rapidjson_reader.h"
#include "adapters/fhir_simdjson_reader.h"
#include "adapters/parsed_referral.h"

namespace frontdoor::adapters::fhir_internal {

constexpr char kNhsNumberSystem[] = "https://fhir.nhs.uk/Id/nhs-number";
constexpr char kConfidentialitySystem[] = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

template <typename Node>
void FhirMapper<Node>::MapPatient(const Entry& patient) {
  ResourcePath where(patient);
  const ElementPath& path = where.path();
  Node resource = patient.resource;
  frontdoor::v1::Person& person = *referral_.mutable_person();
  MapNhsNumber(resource, path, person);
  MapBirthDateAndGender(resource, path, person);
  MapNames(resource, path, person);
  MapHomeAddress(resource, path, person);
  ReadTelecom(resource, path, person.mutable_telecom());
  MapPreferredLanguage(resource, path, person);
  MapCommunicationNeeds(resource, path, person);
  MapRegisteredPractice(resource, path, person);
  MapDemographicsRestricted(resource, path, person);
}

template <typename Node>
void FhirMapper<Node>::MapNhsNumber(Node resource, const ElementPath& path, frontdoor::v1::Person& person) {
  size_t nhs_numbers = 0;
  size_t i = 0;
  for (Node identifier : Array(resource, "identifier", path).Elements()) {
    ElementPath identifier_path(path, "identifier", i++);
    if (StringOr(identifier, "system", identifier_path) != kNhsNumberSystem) continue;
    ElementPath value_path(identifier_path, "value");
    if (++nhs_numbers > 1) {
      AddIssue(kInvalidValue, value_path, "the Patient has more than one NHS number");
      continue;
    }
    std::string_view nhs_number = StringOr(identifier, "value", identifier_path);
    person.set_nhs_number(std::string(nhs_number));
    out_.paths.nhs_number = value_path.Render();
  }
  if (nhs_numbers == 0) {
    out_.paths.nhs_number = ElementPath(path, "identifier").Render();
    AddIssue(kMissingElement, out_.paths.nhs_number, "the Patient has no NHS number");
  } else if (person.nhs_number().empty()) {
    AddIssue(kMissingElement, out_.paths.nhs_number, "the NHS number identifier has no value");
  }
}

template <typename Node>
void FhirMapper<Node>::MapBirthDateAndGender(Node resource, const ElementPath& path, frontdoor::v1::Person& person) {
  std::string_view birth_date = DatePart(resource, "birthDate", path, &out_.paths.birth_date);
  person.set_birth_date(std::string(birth_date));
  if (person.birth_date().empty()) {
    AddIssue(kMissingElement, out_.paths.birth_date, "the Patient has no birthDate");
  }
  std::string_view gender = StringOr(resource, "gender", path);
  person.set_gender(std::string(gender));
}

// name[0] is the person's name; the preferred name is the first given name of a `usual` name (the
// first found).
template <typename Node>
void FhirMapper<Node>::MapNames(Node resource, const ElementPath& path, frontdoor::v1::Person& person) {
  size_t n = 0;
  for (Node name : Array(resource, "name", path).Elements()) {
    ElementPath name_path(path, "name", n);
    if (n == 0) ReadHumanName(name, name_path, person.mutable_name());
    if (StringOr(name, "use", name_path) == "usual" && person.name().preferred_name().empty()) {
      Node given = Array(name, "given", name_path);
      if (given.Size() > 0 && given.At(0).IsString()) {
        std::string_view preferred = given.At(0).GetString();
        person.mutable_name()->set_preferred_name(std::string(preferred));
      }
    }
    ++n;
  }
}

// Home: the first address with use=home, else the first without use; old/temp/work/billing
// addresses are never the home.
template <typename Node>
std::optional<size_t> FhirMapper<Node>::HomeAddressIndex(Node addresses, const ElementPath& path) {
  std::optional<size_t> home;
  size_t a = 0;
  for (Node address : addresses.Elements()) {
    if (StringOr(address, "use", ElementPath(path, "address", a)) == "home") {
      home = a;
      break;
    }
    ++a;
  }
  a = 0;
  for (Node address : addresses.Elements()) {
    if (home) break;
    if (address.IsObject() && !address.Member("use").Present()) home = a;
    ++a;
  }
  return home;
}

template <typename Node>
void FhirMapper<Node>::MapHomeAddress(Node resource, const ElementPath& path, frontdoor::v1::Person& person) {
  Node addresses = Array(resource, "address", path);
  std::optional<size_t> home = HomeAddressIndex(addresses, path);
  if (!home) return;
  ElementPath address_path(path, "address", *home);
  Node address = addresses.At(*home);
  frontdoor::v1::Address& out = *person.mutable_home_address();
  size_t l = 0;
  for (Node line : Array(address, "line", address_path).Elements()) {
    if (line.IsString()) {
      std::string_view text = line.GetString();
      out.add_lines(std::string(text));
    } else {
      AddIssue(kInvalidValue, ElementPath(address_path, "line", l), "expected a JSON string here");
    }
    ++l;
  }
  std::string_view city = StringOr(address, "city", address_path);
  out.set_city(std::string(city));
  std::string_view district = StringOr(address, "district", address_path);
  out.set_district(std::string(district));
  std::string_view postcode = StringOr(address, "postalCode", address_path);
  out.set_postcode(std::string(postcode));
  if (!out.postcode().empty()) out_.paths.postcode = ElementPath(address_path, "postalCode").Render();
}

// Preferred language: the preferred communication, else the first.
template <typename Node>
void FhirMapper<Node>::MapPreferredLanguage(Node resource, const ElementPath& path, frontdoor::v1::Person& person) {
  Node communications = Array(resource, "communication", path);
  std::optional<size_t> chosen;
  size_t c = 0;
  for (Node communication : communications.Elements()) {
    Node preferred = communication.Member("preferred");
    if (preferred.IsBool() && preferred.GetBool()) {
      chosen = c;
      break;
    }
    if (!chosen) chosen = c;
    ++c;
  }
  if (!chosen) return;
  ElementPath communication_path(path, "communication", *chosen);
  google::protobuf::RepeatedPtrField<Coding> languages;
  ReadCodings(communications.At(*chosen), "language", communication_path, &languages, nullptr);
  for (const Coding& language : languages) {
    if (!language.code().empty()) {
      person.set_language(language.code());
      break;
    }
  }
}

// UK Core / NHS extensions that carry communication needs. Only their presence and coded values
// are read; unknown extensions are ignored.
template <typename Node>
void FhirMapper<Node>::MapCommunicationNeeds(Node resource, const ElementPath& path, frontdoor::v1::Person& person) {
  size_t e = 0;
  for (Node extension : Array(resource, "extension", path).Elements()) {
    ElementPath extension_path(path, "extension", e++);
    std::string_view url = StringOr(extension, "url", extension_path);
    MapInterpreterRequired(extension, extension_path, url, person);
    if (url.find("ReasonableAdjustment") != std::string_view::npos ||
        url.find("Accessibility") != std::string_view::npos) {
      MapAccessibilityNeed(extension, extension_path, person);
    }
    if (url.find("ContactPreference") != std::string_view::npos) {
      MapPreferredContactMethod(extension, extension_path, person);
    }
  }
}

// Whether an interpreter is required: an InterpreterRequired extension's valueBoolean, or the
// interpreterRequired part of an NHSCommunication extension.
template <typename Node>
void FhirMapper<Node>::MapInterpreterRequired(Node extension, const ElementPath& extension_path, std::string_view url,
                                              frontdoor::v1::Person& person) {
  if (url.find("InterpreterRequired") != std::string_view::npos) {
    Node flag = extension.Member("valueBoolean");
    if (flag.IsBool()) person.set_interpreter_required(flag.GetBool());
  }
  if (url.find("NHSCommunication") != std::string_view::npos) {
    for (Node inner : Array(extension, "extension", extension_path).Elements()) {
      if (StringOr(inner, "url", extension_path) != "interpreterRequired") continue;
      Node flag = inner.Member("valueBoolean");
      if (flag.IsBool()) person.set_interpreter_required(flag.GetBool());
    }
  }
}

// A reasonable adjustment or accessibility need: its valueString, else its valueCodeableConcept's
// text, else the display of its first coding.
template <typename Node>
void FhirMapper<Node>::MapAccessibilityNeed(Node extension, const ElementPath& extension_path,
                                            frontdoor::v1::Person& person) {
  std::string_view need = StringOr(extension, "valueString", extension_path);
  google::protobuf::RepeatedPtrField<Coding> codes;
  if (need.empty()) {
    ReadCodings(extension, "valueCodeableConcept", extension_path, &codes, &need);
    if (need.empty() && !codes.empty()) need = codes[0].display();
  }
  if (!need.empty()) person.add_accessibility_needs(std::string(need));
}

template <typename Node>
void FhirMapper<Node>::MapPreferredContactMethod(Node extension, const ElementPath& extension_path,
                                                 frontdoor::v1::Person& person) {
  for (Node inner : Array(extension, "extension", extension_path).Elements()) {
    if (StringOr(inner, "url", extension_path) != "PreferredContactMethod") continue;
    google::protobuf::RepeatedPtrField<Coding> codes;
    ReadCodings(inner, "valueCodeableConcept", extension_path, &codes, nullptr);
    for (const Coding& code : codes) {
      // NHS ContactPreference codes: 1 letter, 3 telephone, 4 email (plus plain words).
      std::string c = absl::AsciiStrToLower(code.code());
      if (c == "1" || c == "letter") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_LETTER);
      if (c == "3" || c == "phone" || c == "telephone")
        person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_PHONE);
      if (c == "4" || c == "email") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_EMAIL);
      if (c == "sms" || c == "text") person.set_preferred_contact_method(frontdoor::v1::CONTACT_BY_SMS);
    }
  }
}

template <typename Node>
void FhirMapper<Node>::MapRegisteredPractice(Node resource, const ElementPath& path, frontdoor::v1::Person& person) {
  Node practitioners = Array(resource, "generalPractitioner", path);
  if (practitioners.Size() > 0) {
    std::string value_path;
    std::string_view ods = OdsOf(practitioners.At(0), ElementPath(path, "generalPractitioner", 0), &value_path);
    person.set_registered_practice_ods(std::string(ods));
    if (!person.registered_practice_ods().empty()) out_.paths.registered_practice_ods = std::move(value_path);
  }
}

// S-flag: meta.security v3-Confidentiality R or V (PDS "restricted").
template <typename Node>
void FhirMapper<Node>::MapDemographicsRestricted(Node resource, const ElementPath& path,
                                                 frontdoor::v1::Person& person) {
  Node meta = Object(resource, "meta", path);
  ElementPath meta_path(path, "meta");
  size_t s = 0;
  for (Node security : Array(meta, "security", meta_path).Elements()) {
    ElementPath security_path(meta_path, "security", s++);
    if (StringOr(security, "system", security_path) != kConfidentialitySystem) continue;
    std::string_view code = StringOr(security, "code", security_path);
    if (code == "R" || code == "V") person.set_demographics_restricted(true);
  }
}

template void FhirMapper<RapidNode>::MapPatient(const MappedEntry<RapidNode>& patient);
template void FhirMapper<TapeNode>::MapPatient(const MappedEntry<TapeNode>& patient);

}  // namespace frontdoor::adapters::fhir_internal
