// FhirMapper (fhir_mapper.h): the Bundle, its entries and MessageHeader, the ServiceRequest, the
// requester, Consents and the clinical content. The Patient is read in fhir_patient_mapper.cc.
#include "adapters/fhir_mapper.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "adapters/fhir_element_path.h"
#include "adapters/fhir_rapidjson_reader.h"
#include "adapters/fhir_simdjson_reader.h"
#include "adapters/parsed_referral.h"
#include "adapters/referral_validation.h"  // kSnomedSystem
#include "adapters/sender_replies.h"       // kReferralIdSystem

namespace frontdoor::adapters::fhir_internal {

using frontdoor::v1::ClinicalContent;

constexpr char kBarsEventSystem[] = "https://fhir.nhs.uk/CodeSystem/message-events-bars";
constexpr char kBarsEventCode[] = "servicerequest-request";

template <typename Node>
[[gnu::always_inline]] inline bool FhirMapper<Node>::ReadEntries(Node bundle) {
  Node entries = bundle.Member("entry");
  if (entries.Present() && !entries.IsArray()) {
    AddIssue(kInvalidValue, "Bundle.entry", "expected a JSON array here");
    return false;
  }
  if (entries.Size() == 0) {
    AddIssue(kMissingElement, "Bundle.entry[0].resource", "the Bundle has no entries");
    return false;
  }
  // Sized once: entries are referred to by address from here on.
  entries_.reserve(entries.Size());
  if (entries.Size() > kLinearEntries) {
    by_full_url_ = std::make_unique<std::unordered_map<std::string_view, size_t>>();
  }
  bool ok = true;
  size_t i = 0;
  for (Node entry : entries.Elements()) {
    ElementPath entry_path(kBundlePath, "entry", i);
    Entry mapped;
    mapped.index = i++;
    if (!entry.IsObject()) {
      AddIssue(kInvalidValue, entry_path, "expected a JSON object here");
      ok = false;
      entries_.push_back(mapped);
      continue;
    }
    mapped.full_url = StringOr(entry, "fullUrl", entry_path);
    mapped.resource = Object(entry, "resource", entry_path);
    ElementPath resource_path(entry_path, "resource");
    if (!mapped.resource.Present()) {
      AddIssue(kMissingElement, resource_path, "an entry without a resource");
      entries_.push_back(mapped);
      continue;
    }
    mapped.type = StringOr(mapped.resource, "resourceType", resource_path);
    mapped.id = StringOr(mapped.resource, "id", resource_path);
    if (!mapped.full_url.empty()) {
      if (EntryWithFullUrl(mapped.full_url) != nullptr) {
        AddIssue(kInvalidValue, ElementPath(entry_path, "fullUrl"),
                 "this fullUrl is used by an earlier entry; references would be ambiguous");
        ok = false;
      } else if (by_full_url_ != nullptr) {
        by_full_url_->emplace(mapped.full_url, mapped.index);
      }
    }
    entries_.push_back(mapped);
  }
  return ok;
}

template <typename Node>
void FhirMapper<Node>::Map(Node root) {
  Node resource_type = root.Member("resourceType");
  if (resource_type.Present() && !resource_type.IsString()) {
    AddIssue(kInvalidValue, "resourceType", "expected a JSON string here");
    return;
  }
  if (!resource_type.Present() || resource_type.GetString() != "Bundle") {
    AddIssue(kUnsupportedMessage, "resourceType", "not a FHIR Bundle: a referral is a BaRS message Bundle");
    return;
  }
  std::string_view bundle_id = StringOr(root, "id", kBundlePath);
  referral_.set_message_id(std::string(bundle_id));
  out_.reply.bundle_id = bundle_id;
  out_.paths.message_id = "Bundle.id";
  if (referral_.message_id().empty()) {
    AddIssue(kMissingElement, "Bundle.id", "the Bundle has no id (the message id)");
  }
  std::optional<std::string_view> bundle_type = String(root, "type", kBundlePath);
  if (!bundle_type || *bundle_type != "message") {
    AddIssue(kUnsupportedMessage, "Bundle.type", "the Bundle is not a message (type = message)");
    return;
  }
  if (!ReadEntries(root)) return;
  if (!CheckResourcesThatOccurOnce()) return;

  const Entry& header = entries_[0];
  if (header.type != "MessageHeader") {
    AddIssue(kMissingElement, ResourcePath(header).path(), "the first entry must be the MessageHeader");
    return;
  }
  const Entry* service_request = nullptr;
  MapHeader(header, &service_request);
  if (service_request == nullptr) return;
  MapServiceRequest(*service_request);

  for (const Entry& entry : entries_) {
    if (!entry.resource.Present() || &entry == &header || &entry == service_request || &entry == patient_ ||
        &entry == requester_) {
      continue;
    }
    if (entry.type == "Consent") {
      MapConsent(entry);
    } else {
      MapOtherResource(entry);
    }
  }
}

// A servicerequest-request is one referral about one person: one MessageHeader, one
// ServiceRequest, one Patient. A second Patient is a second person (which one would routing,
// consent and delivery be about?); a second ServiceRequest or MessageHeader a second referral or
// message. Reading only the one the references lead to would silently ignore the other, so the
// message is not a readable referral: each extra one is INVALID_VALUE at its entry. Returns false
// when there was one.
template <typename Node>
[[gnu::always_inline]] inline bool FhirMapper<Node>::CheckResourcesThatOccurOnce() {
  bool ok = true;
  for (const char* type : {"MessageHeader", "ServiceRequest", "Patient"}) {
    bool seen = false;
    for (const Entry& entry : entries_) {
      if (entry.type != type) continue;
      if (seen) {
        const std::string message = absl::StrCat("a second ", type,
                                                 ": a referral message carries one referral about one person; send "
                                                 "each person's referral as a message of its own");
        AddIssue(kInvalidValue, ResourcePath(entry).path(), message.c_str());
        ok = false;
      }
      seen = true;
    }
  }
  return ok;
}

template <typename Node>
[[gnu::always_inline]] inline void FhirMapper<Node>::MapHeader(const Entry& header, const Entry** service_request) {
  ResourcePath where(header);
  const ElementPath& path = where.path();
  Node resource = header.resource;
  Node event = Object(resource, "eventCoding", path);
  ElementPath event_path(path, "eventCoding");
  if (!event.Present()) {
    AddIssue(kMissingElement, event_path, "the MessageHeader has no eventCoding");
    return;
  }
  if (StringOr(event, "system", event_path) != kBarsEventSystem ||
      StringOr(event, "code", event_path) != kBarsEventCode) {
    AddIssue(kUnsupportedMessage, event_path,
             "not a BaRS servicerequest-request message: this gateway accepts referrals only");
    return;
  }
  if (Node source = Object(resource, "source", path); source.Present()) {
    out_.reply.source_endpoint = StringOr(source, "endpoint", ElementPath(path, "source"));
  }

  ElementPath sender_path(path, "sender");
  Node sender = Object(resource, "sender", path);
  out_.paths.sender_ods = sender_path.Render();
  if (!sender.Present()) {
    AddIssue(kMissingElement, out_.paths.sender_ods, "the MessageHeader has no sender");
  } else {
    std::string_view ods = OdsOf(sender, sender_path, &out_.paths.sender_ods);
    referral_.set_sender_ods(std::string(ods));
    if (referral_.sender_ods().empty()) {
      AddIssue(kMissingElement, out_.paths.sender_ods, "the sender is not an Organization with an ODS code");
    }
  }

  Node focus = Array(resource, "focus", path);
  ElementPath focus_path(path, "focus", 0);
  const Entry* target = focus.Size() == 0 ? nullptr : Resolve(focus.At(0), focus_path);
  if (target == nullptr || target->type != "ServiceRequest") {
    std::string focus_text = focus_path.Render();
    AddIssue(kMissingElement, focus_text, "MessageHeader.focus[0] does not reference a ServiceRequest entry");
    out_.paths.referral_date = focus_text;
    out_.paths.nhs_number = focus_text;
    out_.paths.birth_date = focus_text;
    return;
  }
  *service_request = target;
}

template <typename Node>
[[gnu::always_inline]] inline void FhirMapper<Node>::MapServiceRequestStatus(const Entry& request, Node identifiers) {
  ResourcePath where(request);
  const ElementPath& path = where.path();
  const std::string status_path = ElementPath(path, "status").Render();
  std::string_view status = StringOr(request.resource, "status", path);
  if (status == "revoked" || status == "entered-in-error") {
    WithdrawalRequest withdrawal;
    withdrawal.path = status_path;
    withdrawal.reason = status == "revoked" ? frontdoor::v1::NO_LONGER_NEEDED : frontdoor::v1::ENTERED_IN_ERROR;
    size_t i = 0;
    for (Node identifier : identifiers.Elements()) {
      ElementPath identifier_path(path, "identifier", i++);
      if (StringOr(identifier, "system", identifier_path) != kReferralIdSystem) continue;
      std::string_view value = StringOr(identifier, "value", identifier_path);
      if (!value.empty()) withdrawal.referral_ids.emplace_back(value);
    }
    if (!request.id.empty()) withdrawal.referral_ids.emplace_back(request.id);
    if (withdrawal.referral_ids.empty()) {
      AddIssue(kMissingElement, ElementPath(path, "id").Render(),
               "a withdrawal must name the referral: its referral id as ServiceRequest.id or as an identifier "
               "in https://frontdoor.example.org/Id/referral-id");
    }
    out_.withdrawal = std::move(withdrawal);
    return;
  }
  if (!status.empty() && status != "active") {
    AddIssue(kInvalidValue, status_path,
             "ServiceRequest.status must be active for a new referral (revoked or entered-in-error withdraws one "
             "sent before)");
  }
}

template <typename Node>
void FhirMapper<Node>::MapServiceRequest(const Entry& request) {
  ResourcePath where(request);
  const ElementPath& path = where.path();
  Node resource = request.resource;

  Node identifiers = Array(resource, "identifier", path);
  if (identifiers.Size() > 0) {
    std::string_view reference = StringOr(identifiers.At(0), "value", ElementPath(path, "identifier", 0));
    referral_.set_referrer_reference(std::string(reference));
  }
  MapServiceRequestStatus(request, identifiers);

  std::string_view referral_date = DatePart(resource, "authoredOn", path, &out_.paths.referral_date);
  referral_.set_referral_date(std::string(referral_date));
  if (referral_.referral_date().empty()) {
    AddIssue(kMissingElement, out_.paths.referral_date, "the ServiceRequest has no authoredOn (the referral date)");
  }

  size_t i = 0;
  for (Node reason : Array(resource, "reasonCode", path).Elements()) {
    ElementPath reason_path(path, "reasonCode", i++);
    size_t j = 0;
    for (Node coding : Array(reason, "coding", reason_path).Elements()) {
      ElementPath coding_path(reason_path, "coding", j++);
      if (StringOr(coding, "system", coding_path) != kSnomedSystem) continue;
      Coding* out = referral_.add_reasons();
      out->set_system(std::string(kSnomedSystem));
      std::string_view code = StringOr(coding, "code", coding_path);
      std::string_view display = StringOr(coding, "display", coding_path);
      out->set_code(std::string(code));
      out->set_display(std::string(display));
      out_.paths.reasons.push_back(ElementPath(coding_path, "code").Render());
    }
  }

  Node notes = Array(resource, "note", path);
  if (notes.Size() > 0) {
    std::string_view text = StringOr(notes.At(0), "text", ElementPath(path, "note", 0));
    referral_.set_referrer_text(std::string(text));
  }
  if (notes.Size() > 1) {
    std::string_view text = StringOr(notes.At(1), "text", ElementPath(path, "note", 1));
    referral_.set_what_matters(std::string(text));
  }

  Node subject = Object(resource, "subject", path);
  Node requester = Object(resource, "requester", path);
  ElementPath subject_path(path, "subject");
  ElementPath requester_path(path, "requester");
  std::string_view subject_reference = StringOr(subject, "reference", subject_path);
  std::string_view requester_reference = StringOr(requester, "reference", requester_path);
  referral_.set_self_referral(!subject_reference.empty() && subject_reference == requester_reference);

  const Entry* patient = Resolve(subject, subject_path);
  if (patient == nullptr || patient->type != "Patient") {
    std::string subject_text = subject_path.Render();
    AddIssue(kMissingElement, subject_text, "ServiceRequest.subject does not reference a Patient entry");
    out_.paths.nhs_number = subject_text;
    out_.paths.birth_date = subject_text;
  } else {
    patient_ = patient;
    MapPatient(*patient);
  }

  if (!referral_.self_referral() && requester.Present()) {
    const Entry* target = Resolve(requester, requester_path);
    if (target != nullptr) {
      requester_ = target;
      MapRequester(*target);
    }
  }
}

template <typename Node>
[[gnu::always_inline]] inline void FhirMapper<Node>::MapRequester(const Entry& requester) {
  frontdoor::v1::Requester& out = *referral_.mutable_requester();
  const Entry* practitioner = nullptr;
  const Entry* organization = nullptr;
  if (requester.type == "PractitionerRole") {
    ResourcePath where(requester);
    const ElementPath& path = where.path();
    Node role = requester.resource;
    Node codes = Array(role, "code", path);
    if (codes.Size() > 0) {
      // PractitionerRole.code[0]: its text, else its first coding's display.
      Node first = codes.At(0);
      ElementPath concept_path(path, "code", 0);
      std::string_view text = StringOr(first, "text", concept_path);
      if (text.empty()) {
        Node coding = Array(first, "coding", concept_path);
        if (coding.Size() > 0) text = StringOr(coding.At(0), "display", ElementPath(concept_path, "coding", 0));
      }
      out.set_role(std::string(text));
    }
    ReadTelecom(role, path, out.mutable_telecom());
    practitioner = Resolve(Object(role, "practitioner", path), ElementPath(path, "practitioner"));
    organization = Resolve(Object(role, "organization", path), ElementPath(path, "organization"));
  } else if (requester.type == "Practitioner") {
    practitioner = &requester;
  } else if (requester.type == "Organization") {
    organization = &requester;
  }
  if (practitioner != nullptr && practitioner->type == "Practitioner") {
    ResourcePath where(*practitioner);
    Node names = Array(practitioner->resource, "name", where.path());
    if (names.Size() > 0) ReadHumanName(names.At(0), ElementPath(where.path(), "name", 0), out.mutable_name());
    ReadTelecom(practitioner->resource, where.path(), out.mutable_telecom());
  }
  if (organization != nullptr && organization->type == "Organization") {
    ResourcePath where(*organization);
    std::string_view name = StringOr(organization->resource, "name", where.path());
    out.set_organisation_name(std::string(name));
    size_t i = 0;
    for (Node identifier : Array(organization->resource, "identifier", where.path()).Elements()) {
      ElementPath identifier_path(where.path(), "identifier", i++);
      if (StringOr(identifier, "system", identifier_path) == kOdsSystem) {
        std::string_view ods = StringOr(identifier, "value", identifier_path);
        out.set_organisation_ods(std::string(ods));
        break;
      }
    }
  }
}

template <typename Node>
void FhirMapper<Node>::MapConsent(const Entry& consent) {
  ResourcePath where(consent);
  const ElementPath& path = where.path();
  Node resource = consent.resource;
  frontdoor::v1::Consent& out = *referral_.add_consents();
  out.set_id(std::string(consent.id));
  std::string_view status = StringOr(resource, "status", path);
  using C = frontdoor::v1::Consent;
  if (status == "draft") out.set_status(C::DRAFT);
  if (status == "proposed") out.set_status(C::PROPOSED);
  if (status == "active") out.set_status(C::ACTIVE);
  if (status == "rejected") out.set_status(C::REJECTED);
  if (status == "inactive") out.set_status(C::INACTIVE);
  if (status == "entered-in-error") out.set_status(C::ENTERED_IN_ERROR);

  std::string date_path;
  std::string_view date = DatePart(resource, "dateTime", path, &date_path);
  out.set_date(std::string(date));
  out_.paths.consent_dates.push_back(std::move(date_path));

  Node provision = Object(resource, "provision", path);
  ElementPath provision_path(path, "provision");
  std::string_view type = StringOr(provision, "type", provision_path);
  if (type == "permit") out.set_provision(C::PERMIT);
  if (type == "deny") out.set_provision(C::DENY);
  Node period = Object(provision, "period", provision_path);
  ElementPath period_path(provision_path, "period");
  std::string start_path;
  std::string end_path;
  std::string_view start = DatePart(period, "start", period_path, &start_path);
  out.set_period_start(std::string(start));
  std::string_view end = DatePart(period, "end", period_path, &end_path);
  out.set_period_end(std::string(end));
  out_.paths.consent_starts.push_back(std::move(start_path));
  out_.paths.consent_ends.push_back(std::move(end_path));

  Node categories = Array(resource, "category", path);
  if (categories.Size() > 0) {
    ElementPath holder(path, "category", 0);
    size_t j = 0;
    for (Node coding : Array(categories.At(0), "coding", holder).Elements()) {
      std::string_view code = StringOr(coding, "code", ElementPath(holder, "coding", j++));
      if (!code.empty()) {
        out.set_category(std::string(code));
        break;
      }
    }
  }
}

template <typename Node>
void FhirMapper<Node>::MapOtherResource(const Entry& entry) {
  // The participants of the referral itself are not clinical content.
  if (entry.type == "Practitioner" || entry.type == "PractitionerRole" || entry.type == "Organization" ||
      entry.type == "Patient" || entry.type == "MessageHeader") {
    return;
  }
  ResourcePath where(entry);
  const ElementPath& path = where.path();
  Node resource = entry.resource;
  ClinicalContent& out = *referral_.add_clinical_content();
  out.set_source_type(std::string(entry.type));
  std::string_view text;
  if (entry.type == "MedicationStatement" || entry.type == "MedicationRequest") {
    out.set_kind(ClinicalContent::MEDICATION);
    ReadCodings(resource, "medicationCodeableConcept", path, out.mutable_codes(), &text);
  } else {
    if (entry.type == "Condition")
      out.set_kind(ClinicalContent::CONDITION);
    else if (entry.type == "Observation")
      out.set_kind(ClinicalContent::OBSERVATION);
    else if (entry.type == "Flag")
      out.set_kind(ClinicalContent::FLAG);
    else
      out.set_kind(ClinicalContent::OTHER);
    ReadCodings(resource, "code", path, out.mutable_codes(), &text);
  }
  // status is a code in most resources; Condition carries a CodeableConcept clinicalStatus.
  Node status = resource.Member("status");
  if (status.IsString()) {
    std::string_view value = status.GetString();
    out.set_status(std::string(value));
  }
  if (out.status().empty()) {
    google::protobuf::RepeatedPtrField<Coding> clinical_status;
    ReadCodings(resource, "clinicalStatus", path, &clinical_status, nullptr);
    if (!clinical_status.empty()) out.set_status(clinical_status[0].code());
  }
  // category: a CodeableConcept in some resources, a list of them in others (Flag).
  Node category = resource.Member("category");
  Node first_category;
  if (category.Size() > 0) first_category = category.At(0);
  if (category.IsObject()) first_category = category;
  if (first_category.IsObject()) {
    for (Node coding : first_category.Member("coding").Elements()) {
      Node code = coding.Member("code");
      if (code.IsString()) {
        std::string_view value = code.GetString();
        out.set_category(std::string(value));
        break;
      }
    }
  }
  if (text.empty()) {
    Node notes = Array(resource, "note", path);
    if (notes.Size() > 0) text = StringOr(notes.At(0), "text", ElementPath(path, "note", 0));
  }
  out.set_text(std::string(text));
}

template void FhirMapper<RapidNode>::Map(RapidNode root);
template void FhirMapper<TapeNode>::Map(TapeNode root);

}  // namespace frontdoor::adapters::fhir_internal
