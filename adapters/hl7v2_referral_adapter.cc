#include "adapters/hl7v2_referral_adapter.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace frontdoor::adapters {
namespace {

using frontdoor::v1::ClinicalContent;
using frontdoor::v1::Coding;
using frontdoor::v1::ContactPoint;
using frontdoor::v1::Issue;

// An HL7 position in the notation the paths use: `PID-7`, `PID-11[2].5`, `DG1[2]-3.1`.
// `occurrence` 0 leaves out the segment bracket; `repetition` 0 or 1 leaves out the field one.
std::string Hl7Path(std::string_view id, size_t occurrence, size_t field, size_t repetition = 0, size_t component = 0,
                    size_t subcomponent = 0) {
  std::string path(id);
  if (occurrence > 0) absl::StrAppend(&path, "[", occurrence, "]");
  absl::StrAppend(&path, "-", field);
  if (repetition > 1) absl::StrAppend(&path, "[", repetition, "]");
  if (component > 0) absl::StrAppend(&path, ".", component);
  if (subcomponent > 0) absl::StrAppend(&path, ".", subcomponent);
  return path;
}

std::string CodingSystem(const std::string& hl7_system) {
  return hl7_system == "SCT" ? std::string(kSnomedSystem) : hl7_system;
}

class Hl7Mapper {
 public:
  Hl7Mapper(const Hl7Message& message, ParsedReferral& out) : m_(message), out_(out), referral_(out.referral) {}

  void Map();

 private:
  void AddIssue(const char* code, std::string path, std::string message) {
    Issue& issue = out_.issues.emplace_back();
    issue.set_code(code);
    issue.set_path(std::move(path));
    issue.set_message(std::move(message));
    issue.set_severity(Issue::ERROR);
  }

  // A DTM/TS value as YYYY-MM-DD from its first 8 characters; a shorter or non-numeric value is
  // INVALID_VALUE and returned as written so the validator sees it too.
  std::string Date(size_t segment, size_t field, const std::string& path) {
    std::string text = m_.Value(segment, field);
    if (text.empty()) return "";
    bool full = text.size() >= 8;
    for (size_t i = 0; full && i < 8; ++i) full = absl::ascii_isdigit(static_cast<unsigned char>(text[i]));
    if (!full) {
      AddIssue(kInvalidValue, path, "not a full date (at least YYYYMMDD)");
      return text;
    }
    return absl::StrCat(text.substr(0, 4), "-", text.substr(4, 2), "-", text.substr(6, 2));
  }

  void ReadName(size_t segment, size_t field, size_t repetition, frontdoor::v1::HumanName* name) {
    name->set_family(m_.Value(segment, field, repetition, 1, 1));  // XPN-1 FN.1 surname
    for (size_t component : {2, 3}) {                              // given, further given
      std::string given = m_.Value(segment, field, repetition, component);
      if (!given.empty()) name->add_given(std::move(given));
    }
    name->set_prefix(m_.Value(segment, field, repetition, 5));
  }

  void ReadTelecom(size_t segment, size_t field, google::protobuf::RepeatedPtrField<ContactPoint>* out) {
    for (size_t r = 1; r <= m_.RepetitionCount(segment, field); ++r) {
      std::string use = m_.Value(segment, field, r, 2);
      std::string equipment = m_.Value(segment, field, r, 3);
      std::string value = m_.Value(segment, field, r, 1);
      if (value.empty() && (equipment == "Internet" || equipment == "X.400")) {
        value = m_.Value(segment, field, r, 4);
      }
      if (value.empty()) value = m_.Value(segment, field, r, 12);  // unformatted number
      if (value.empty()) {
        std::string local = m_.Value(segment, field, r, 7);
        if (!local.empty()) value = absl::StrCat(m_.Value(segment, field, r, 6), local);
      }
      // Some senders put the number in a later component; take the last non-empty one.
      for (size_t c = m_.ComponentCount(segment, field, r); value.empty() && c > 3; --c) {
        value = m_.Value(segment, field, r, c);
      }
      if (value.empty()) continue;
      ContactPoint* point = out->Add();
      if (equipment == "Internet" || equipment == "X.400") {
        point->set_system(ContactPoint::EMAIL);
      } else {
        point->set_system(ContactPoint::PHONE);
      }
      if (equipment == "CP") {
        point->set_use("mobile");
      } else if (use == "PRN") {
        point->set_use("home");
      } else if (use == "WPN") {
        point->set_use("work");
      }
      point->set_value(std::move(value));
    }
  }

  void ReadCodedElement(size_t segment, size_t field, size_t repetition,
                        google::protobuf::RepeatedPtrField<Coding>* codes) {
    std::string code = m_.Value(segment, field, repetition, 1);
    std::string display = m_.Value(segment, field, repetition, 2);
    if (code.empty() && display.empty()) return;
    Coding* coding = codes->Add();
    coding->set_code(std::move(code));
    coding->set_display(std::move(display));
    coding->set_system(CodingSystem(m_.Value(segment, field, repetition, 3)));
  }

  void CheckSegmentsThatOccurOnce();
  void MapHeader();
  void MapReferralSegment();
  void MapProviders();
  void MapPatient();
  void MapDiagnoses();
  void MapConsents();
  void MapNotes();
  void MapOtherSegments();

  const Hl7Message& m_;
  ParsedReferral& out_;
  frontdoor::v1::Referral& referral_;
};

void FillReply(const Hl7Message& m, ReplyContext* reply) {
  reply->sending_application = m.Value(0, 3);
  reply->sending_facility = m.Value(0, 4);
  reply->receiving_application = m.Value(0, 5);
  reply->receiving_facility = m.Value(0, 6);
  reply->control_id = m.Value(0, 10);
  reply->processing_id = m.Value(0, 11);
  reply->version = m.Value(0, 12);
  reply->accept_ack_type = m.Value(0, 15);
}

void Hl7Mapper::Map() {
  FillReply(m_, &out_.reply);
  if (m_.Value(0, 9, 1, 1) != "REF" || m_.Value(0, 9, 1, 2) != "I12") {
    AddIssue(kUnsupportedMessage, "MSH-9", "not a REF^I12 referral: this gateway accepts referrals only");
    return;
  }
  CheckSegmentsThatOccurOnce();
  MapHeader();
  MapReferralSegment();
  MapProviders();
  MapPatient();
  MapDiagnoses();
  MapConsents();
  MapNotes();
  MapOtherSegments();
}

// A REF^I12 is one referral about one person (HL7 v2.5.1 chapter 11: RF1, PID and PD1 occur at
// most once in REF_I12). A second PID names a second person; a second RF1 or PD1 a second referral
// or record. Reading only the first would route one person's referral on another's data, so the
// message is not a readable referral: each extra occurrence is INVALID_VALUE at its position.
void Hl7Mapper::CheckSegmentsThatOccurOnce() {
  for (const char* id : {"RF1", "PID", "PD1"}) {
    const std::vector<size_t> found = m_.FindSegments(id);
    for (size_t k = 1; k < found.size(); ++k) {
      AddIssue(kInvalidValue, absl::StrCat(id, "[", k + 1, "]"),
               absl::StrCat("a second ", id,
                            " segment: a REF^I12 carries one referral about one person; send each "
                            "person's referral as a message of its own"));
    }
  }
}

void Hl7Mapper::MapHeader() {
  referral_.set_message_id(m_.Value(0, 10));
  out_.paths.message_id = "MSH-10";
  if (referral_.message_id().empty()) AddIssue(kMissingElement, "MSH-10", "MSH-10 (the message control id) is empty");
  referral_.set_sender_ods(m_.Value(0, 4, 1, 1));
  out_.paths.sender_ods = "MSH-4.1";
  if (referral_.sender_ods().empty()) AddIssue(kMissingElement, "MSH-4.1", "MSH-4 (the sending facility) is empty");
}

void Hl7Mapper::MapReferralSegment() {
  out_.paths.referral_date = "RF1-7";
  std::optional<size_t> rf1 = m_.FindFirst("RF1");
  if (!rf1) {
    AddIssue(kMissingElement, "RF1-7", "no RF1 segment: the referral date (RF1-7) is missing");
    return;
  }
  referral_.set_referral_date(Date(*rf1, 7, "RF1-7"));
  if (referral_.referral_date().empty()) AddIssue(kMissingElement, "RF1-7", "RF1-7 (the referral date) is empty");
  referral_.set_referrer_reference(m_.Value(*rf1, 6, 1, 1));
}

void Hl7Mapper::MapProviders() {
  std::vector<size_t> providers = m_.FindSegments("PRD");
  bool have_referrer = false;
  bool have_practice = false;
  for (size_t k = 0; k < providers.size(); ++k) {
    size_t s = providers[k];
    std::string role = m_.Value(s, 1, 1, 1);
    if (role == "RP" && !have_referrer) {
      have_referrer = true;
      frontdoor::v1::Requester& requester = *referral_.mutable_requester();
      ReadName(s, 2, 1, requester.mutable_name());
      std::string role_text = m_.Value(s, 1, 1, 2);
      requester.set_role(role_text.empty() ? role : role_text);
      requester.set_organisation_ods(m_.Value(s, 4, 1, 4));
      // PRD-4.1, the ward: where the connector reaches the referrer.
      requester.set_organisation_name(m_.Value(s, 4, 1, 1));
      ReadTelecom(s, 5, requester.mutable_telecom());
    } else if (role == "PP" && !have_practice) {
      std::string practice = m_.Value(s, 4, 1, 4);
      if (practice.empty()) continue;
      have_practice = true;
      referral_.mutable_person()->set_registered_practice_ods(practice);
      out_.paths.registered_practice_ods = Hl7Path("PRD", k + 1, 4, 0, 4);
    }
  }
}

void Hl7Mapper::MapPatient() {
  out_.paths.nhs_number = "PID-3";
  out_.paths.birth_date = "PID-7";
  std::optional<size_t> pid = m_.FindFirst("PID");
  if (!pid) {
    AddIssue(kMissingElement, "PID", "no PID segment: the person referred is missing");
    return;
  }
  size_t s = *pid;
  frontdoor::v1::Person& person = *referral_.mutable_person();

  size_t nhs_numbers = 0;
  for (size_t r = 1; r <= m_.RepetitionCount(s, 3); ++r) {
    if (m_.Value(s, 3, r, 5) != "NH") continue;
    if (++nhs_numbers > 1) {
      AddIssue(kInvalidValue, Hl7Path("PID", 0, 3, r, 1), "PID-3 holds more than one NHS number");
      continue;
    }
    person.set_nhs_number(m_.Value(s, 3, r, 1));
    out_.paths.nhs_number = Hl7Path("PID", 0, 3, r, 1);
    if (r == 1) out_.paths.nhs_number = "PID-3";
  }
  if (person.nhs_number().empty()) {
    AddIssue(kMissingElement, out_.paths.nhs_number, "no NHS number (a PID-3 repetition with CX-5 = NH)");
  }

  person.set_birth_date(Date(s, 7, "PID-7"));
  if (person.birth_date().empty()) AddIssue(kMissingElement, "PID-7", "PID-7 (the birth date) is empty");

  if (m_.RepetitionCount(s, 5) > 0) ReadName(s, 5, 1, person.mutable_name());
  for (size_t r = 2; r <= m_.RepetitionCount(s, 5); ++r) {
    if (m_.Value(s, 5, r, 7) == "N" && person.name().preferred_name().empty()) {  // nickname / call-me
      person.mutable_name()->set_preferred_name(m_.Value(s, 5, r, 2));
    }
  }

  std::string gender = m_.Value(s, 8);
  if (gender == "M") person.set_gender("male");
  if (gender == "F") person.set_gender("female");
  if (gender == "O" || gender == "A") person.set_gender("other");
  if (gender == "U" || gender == "N") person.set_gender("unknown");

  // Home: the first PID-11 repetition with XAD-7 = H, else the first repetition.
  size_t addresses = m_.RepetitionCount(s, 11);
  size_t home = 0;
  for (size_t r = 1; r <= addresses && home == 0; ++r) {
    if (m_.Value(s, 11, r, 7) == "H") home = r;
  }
  if (home == 0 && addresses > 0) home = 1;
  if (home > 0) {
    frontdoor::v1::Address& address = *person.mutable_home_address();
    for (size_t component : {1, 2}) {
      std::string line = m_.Value(s, 11, home, component, 1);
      if (!line.empty()) address.add_lines(std::move(line));
    }
    address.set_city(m_.Value(s, 11, home, 3));
    address.set_district(m_.Value(s, 11, home, 4));
    address.set_postcode(m_.Value(s, 11, home, 5));
    if (!address.postcode().empty()) out_.paths.postcode = Hl7Path("PID", 0, 11, home, 5);
  }

  ReadTelecom(s, 13, person.mutable_telecom());
  ReadTelecom(s, 14, person.mutable_telecom());
  person.set_language(m_.Value(s, 15, 1, 1));

  if (std::optional<size_t> pd1 = m_.FindFirst("PD1")) {
    person.set_demographics_restricted(m_.Value(*pd1, 12) == "Y");
  }
}

void Hl7Mapper::MapDiagnoses() {
  std::vector<size_t> diagnoses = m_.FindSegments("DG1");
  for (size_t k = 0; k < diagnoses.size(); ++k) {
    size_t s = diagnoses[k];
    if (m_.Value(s, 3, 1, 3) == "SCT") {
      Coding* reason = referral_.add_reasons();
      reason->set_system(kSnomedSystem);
      reason->set_code(m_.Value(s, 3, 1, 1));
      reason->set_display(m_.Value(s, 3, 1, 2));
      out_.paths.reasons.push_back(Hl7Path("DG1", k + 1, 3, 0, 1));
      continue;
    }
    ClinicalContent& content = *referral_.add_clinical_content();
    content.set_kind(ClinicalContent::CONDITION);
    content.set_source_type("DG1");
    ReadCodedElement(s, 3, 1, content.mutable_codes());
    content.set_text(m_.Value(s, 4));
  }
}

void Hl7Mapper::MapConsents() {
  using C = frontdoor::v1::Consent;
  std::vector<size_t> consents = m_.FindSegments("CON");
  for (size_t k = 0; k < consents.size(); ++k) {
    size_t s = consents[k];
    size_t occurrence = k + 1;
    C& consent = *referral_.add_consents();
    consent.set_id(m_.Value(s, 1));
    consent.set_category(m_.Value(s, 2, 1, 1));
    std::string status = m_.Value(s, 11, 1, 1);
    if (status == "A") {
      consent.set_status(C::ACTIVE);
      consent.set_provision(C::PERMIT);
    } else if (status == "R") {
      consent.set_status(C::ACTIVE);
      consent.set_provision(C::DENY);
    } else if (status == "X") {
      consent.set_status(C::INACTIVE);
    } else if (status == "P") {
      consent.set_status(C::DRAFT);
    } else if (status == "B") {
      consent.set_status(C::PROPOSED);
    } else if (status.empty()) {
      AddIssue(kMissingElement, Hl7Path("CON", occurrence, 11), "CON-11 (the consent status) is empty");
    } else {
      AddIssue(kInvalidValue, Hl7Path("CON", occurrence, 11),
               "CON-11 is not a consent status this profile reads (A, R, X, P or B)");
    }
    std::string date_path = Hl7Path("CON", occurrence, 13);
    std::string start_path = Hl7Path("CON", occurrence, 14);
    std::string end_path = Hl7Path("CON", occurrence, 15);
    consent.set_date(Date(s, 13, date_path));
    consent.set_period_start(Date(s, 14, start_path));
    consent.set_period_end(Date(s, 15, end_path));
    out_.paths.consent_dates.push_back(date_path);
    out_.paths.consent_starts.push_back(start_path);
    out_.paths.consent_ends.push_back(end_path);
  }
}

void Hl7Mapper::MapNotes() {
  for (size_t s : m_.FindSegments("NTE")) {
    std::string text;
    for (size_t r = 1; r <= m_.RepetitionCount(s, 3); ++r) {
      if (r > 1) text.push_back('\n');
      text += m_.Value(s, 3, r);
    }
    std::string type = m_.Value(s, 4, 1, 1);
    std::string* target = nullptr;
    if (type == "1R") target = referral_.mutable_referrer_text();
    if (type == "WMTM") target = referral_.mutable_what_matters();
    if (target != nullptr) {
      if (!target->empty()) target->push_back('\n');
      target->append(text);
      continue;
    }
    ClinicalContent& content = *referral_.add_clinical_content();
    content.set_kind(ClinicalContent::NOTE);
    content.set_source_type("NTE");
    content.set_category(type);
    content.set_text(std::move(text));
  }
}

void Hl7Mapper::MapOtherSegments() {
  for (size_t s = 1; s < m_.segment_count(); ++s) {
    std::string_view id = m_.segment_id(s);
    if (id == "RF1" || id == "PRD" || id == "PID" || id == "PD1" || id == "DG1" || id == "CON" || id == "NTE") {
      continue;
    }
    ClinicalContent& content = *referral_.add_clinical_content();
    content.set_source_type(std::string(id));
    if (id == "OBX") {
      content.set_kind(ClinicalContent::OBSERVATION);
      ReadCodedElement(s, 3, 1, content.mutable_codes());
      content.set_text(m_.Value(s, 5));
      content.set_status(m_.Value(s, 11));
    } else if (id == "PRB") {
      content.set_kind(ClinicalContent::CONDITION);
      ReadCodedElement(s, 3, 1, content.mutable_codes());
    } else if (id == "RXO" || id == "RXE" || id == "RXD" || id == "RXG" || id == "RXA") {
      content.set_kind(ClinicalContent::MEDICATION);
      size_t code_field = id == "RXO" ? 1 : id == "RXA" ? 5 : 2;
      ReadCodedElement(s, code_field, 1, content.mutable_codes());
    } else {
      content.set_kind(ClinicalContent::OTHER);
    }
  }
}

}  // namespace

ReplyContext Hl7v2ReplyContext(std::string_view er7, const Hl7Limits& limits) {
  ReplyContext reply;
  std::string_view first_line = er7.substr(0, er7.find_first_of("\r\n"));
  absl::StatusOr<Hl7Message> header = Hl7Message::Parse(first_line, limits);
  if (header.ok()) FillReply(*header, &reply);
  return reply;
}

ParsedReferral ParseHl7v2Referral(std::string_view er7, const Hl7Limits& limits) {
  ParsedReferral parsed;
  parsed.format = MessageFormat::kHl7v2;
  absl::StatusOr<Hl7Message> message = Hl7Message::Parse(er7, limits);
  if (!message.ok()) {
    Issue& issue = parsed.issues.emplace_back();
    issue.set_code(kMalformed);
    issue.set_message(absl::StrCat("not a readable HL7 v2 message: ", message.status().message()));
    issue.set_severity(Issue::ERROR);
    // The MSH line alone may still be readable: answer its MSH-10 in the ACK.
    std::string_view first_line = er7.substr(0, er7.find_first_of("\r\n"));
    absl::StatusOr<Hl7Message> header = Hl7Message::Parse(first_line, limits);
    if (header.ok()) FillReply(*header, &parsed.reply);
    return parsed;
  }
  Hl7Mapper(*message, parsed).Map();
  return parsed;
}

}  // namespace frontdoor::adapters
