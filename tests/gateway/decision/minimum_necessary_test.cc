// Minimum necessary, proved over the real pipeline (IG-4, IG-5, IG-6): every sample of
// tests/data/samples is varied to carry each kind of data the rules withhold, sent over real gRPC
// to a gateway on loopback, and the request the connector actually received is searched, as
// serialized bytes, for every withheld value. A value that slipped into any field, present or
// future, is caught.
//
// Withheld kinds: every code of every sensitive-* group of reason_codes.csv (code, display and
// the referrer's free text that may restate it), an active safeguarding Flag (FHIR), an S-flag
// person's address lines, postcode and phone numbers, the NHS number for endpoints that do not
// accept it (connector_teams.csv), and clinical content (MedicationStatement, Condition and
// Observation text in FHIR; OBX, PRB, RXO and non-reason DG1 in HL7 v2). HL7 v2 has no Flag
// segment in PROFILE.md, so the safeguarding Flag variant is FHIR only.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "frontdoor/v1/referral_service.grpc.pb.h"
#include "gateway/server/gateway_server.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;
namespace pb = ::google::protobuf;

const std::string kSamples = std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples";
const std::string kNetwork = std::string(FRONTDOOR_SOURCE_DIR) + "/config/demo/network";
constexpr char kSnomed[] = "http://snomed.info/sct";

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct SensitiveCode {
  std::string code, display, group;
};

std::vector<SensitiveCode> SensitiveCodes() {
  std::vector<SensitiveCode> out;
  std::istringstream in(Read(kNetwork + "/reason_codes.csv"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() == 3 && f[2].rfind("sensitive-", 0) == 0) out.push_back({f[0], f[1], f[2]});
  }
  return out;
}

std::map<std::string, bool> EndpointAcceptsNhsNumber() {
  std::map<std::string, bool> out;
  std::istringstream in(Read(kNetwork + "/connector_teams.csv"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() == 7 && f[0] != "team_id") out[f[2]] = f[5] == "yes";
  }
  return out;
}

// One message to send, and the strings that must not reach any connector.
struct Variant {
  std::string name;
  std::string sender;
  bool hl7 = false;
  std::string payload;
  std::vector<std::string> forbidden;
  std::string nhs_number;  // forbidden too where the endpoint does not accept it
};

// --- FHIR editing (google.protobuf.Struct) -----------------------------------------------------

pb::Value Text(const std::string& s) {
  pb::Value v;
  v.set_string_value(s);
  return v;
}

pb::Struct* ResourceOf(pb::Struct* bundle, const std::string& type) {
  auto* entries = (*bundle->mutable_fields())["entry"].mutable_list_value();
  for (auto& e : *entries->mutable_values()) {
    pb::Struct* r = (*e.mutable_struct_value()->mutable_fields())["resource"].mutable_struct_value();
    if (r->fields().count("resourceType") && r->fields().at("resourceType").string_value() == type) return r;
  }
  return nullptr;
}

pb::Value Coding(const std::string& system, const std::string& code, const std::string& display) {
  pb::Value v;
  auto& f = *v.mutable_struct_value()->mutable_fields();
  f["system"] = Text(system);
  f["code"] = Text(code);
  f["display"] = Text(display);
  return v;
}

pb::Value Concept(const std::string& system, const std::string& code, const std::string& display) {
  pb::Value v;
  auto& f = *v.mutable_struct_value()->mutable_fields();
  *f["coding"].mutable_list_value()->add_values() = Coding(system, code, display);
  f["text"] = Text(display);
  return v;
}

void AddEntry(pb::Struct* bundle, pb::Struct resource) {
  pb::Value entry;
  auto& f = *entry.mutable_struct_value()->mutable_fields();
  f["fullUrl"] = Text(absl::StrCat("urn:uuid:00000000-0000-4000-8000-",
                                   100000000000 + bundle->fields().at("entry").list_value().values_size()));
  *f["resource"].mutable_struct_value() = std::move(resource);
  *(*bundle->mutable_fields())["entry"].mutable_list_value()->add_values() = std::move(entry);
}

pb::Struct Resource(const std::string& type, const std::string& status_key, const std::string& status,
                    const std::string& code_key, const pb::Value& code) {
  pb::Struct r;
  auto& f = *r.mutable_fields();
  f["resourceType"] = Text(type);
  f["id"] = Text(absl::StrCat(type, "-variant"));
  f[status_key] = Text(status);
  f[code_key] = code;
  return r;
}

std::string Json(const pb::Struct& s) {
  std::string out;
  EXPECT_TRUE(pb::util::MessageToJsonString(s, &out).ok());
  return out;
}

void SetFhirMessageId(pb::Struct* bundle, const std::string& suffix) {
  (*bundle->mutable_fields())["id"] = Text(bundle->fields().at("id").string_value() + suffix);
}

std::string FhirNhsNumber(pb::Struct* bundle) {
  pb::Struct* patient = ResourceOf(bundle, "Patient");
  if (patient == nullptr || !patient->fields().count("identifier")) return "";
  for (const auto& id : patient->fields().at("identifier").list_value().values()) {
    const auto& f = id.struct_value().fields();
    if (f.count("system") && f.at("system").string_value() == "https://fhir.nhs.uk/Id/nhs-number") {
      return f.at("value").string_value();
    }
  }
  return "";
}

void SetReferrerText(pb::Struct* bundle, const std::string& text) {
  pb::Struct* sr = ResourceOf(bundle, "ServiceRequest");
  auto* notes = (*sr->mutable_fields())["note"].mutable_list_value();
  if (notes->values_size() == 0) {
    pb::Value note;
    (*note.mutable_struct_value()->mutable_fields())["text"] = Text(text);
    *notes->add_values() = note;
    return;
  }
  (*notes->mutable_values(0)->mutable_struct_value()->mutable_fields())["text"] = Text(text);
}

std::vector<Variant> FhirVariants(const std::string& file, const std::string& sender) {
  std::vector<Variant> out;
  pb::Struct original;
  if (!pb::util::JsonStringToMessage(Read(kSamples + "/" + file), &original).ok()) {
    ADD_FAILURE() << file << " does not parse as JSON";
    return out;
  }
  int n = 0;
  auto make = [&](const std::string& name, pb::Struct bundle, std::vector<std::string> forbidden) {
    SetFhirMessageId(&bundle, absl::StrCat("-v", ++n));
    Variant v;
    v.name = absl::StrCat(file, " + ", name);
    v.sender = sender;
    v.nhs_number = FhirNhsNumber(&bundle);
    v.payload = Json(bundle);
    v.forbidden = std::move(forbidden);
    out.push_back(std::move(v));
  };

  // Every sensitive code, among the other reasons and as the only reason.
  for (const SensitiveCode& s : SensitiveCodes()) {
    for (bool only : {false, true}) {
      pb::Struct b = original;
      pb::Struct* sr = ResourceOf(&b, "ServiceRequest");
      if (sr == nullptr) return out;
      auto* reasons = (*sr->mutable_fields())["reasonCode"].mutable_list_value();
      if (only) reasons->clear_values();
      *reasons->add_values() = Concept(kSnomed, s.code, s.display);
      const std::string text = absl::StrCat("Restates the withheld reason ", s.display, " REFTEXT", s.code);
      SetReferrerText(&b, text);
      make(absl::StrCat(s.group, only ? " only " : " ", s.code), b, {s.code, s.display, text, "REFTEXT"});
    }
  }
  // An active safeguarding Flag.
  {
    pb::Struct b = original;
    pb::Struct flag = Resource("Flag", "status", "active", "code",
                               Concept(kSnomed, "766561000000109", "FLAGTEXT adult safeguarding concern raised"));
    pb::Value category;
    *category.mutable_list_value()->add_values() =
        Concept("https://fhir.nhs.uk/CodeSystem/flag-category", "SG", "Safeguarding");
    (*flag.mutable_fields())["category"] = category;
    AddEntry(&b, flag);
    SetReferrerText(&b, "Lonely; FLAGREF social care are involved.");
    make("safeguarding Flag", b, {"FLAGTEXT", "766561000000109", "FLAGREF"});
  }
  // Clinical content: medication, problem, observation.
  {
    pb::Struct b = original;
    AddEntry(&b, Resource("MedicationStatement", "status", "active", "medicationCodeableConcept",
                          Concept(kSnomed, "36567011000001106", "MEDTEXT Sertraline 50mg tablets")));
    AddEntry(&b, Resource("Condition", "status", "active", "code",
                          Concept(kSnomed, "44054006", "CONDTEXT Diabetes mellitus type 2")));
    AddEntry(&b, Resource("Observation", "status", "final", "code",
                          Concept(kSnomed, "27113001", "OBSTEXT Body weight 92 kg")));
    make("clinical content", b, {"MEDTEXT", "CONDTEXT", "OBSTEXT", "36567011000001106", "27113001"});
  }
  // S-flag: no address lines, postcode or phone numbers.
  {
    pb::Struct b = original;
    pb::Struct* patient = ResourceOf(&b, "Patient");
    if (patient != nullptr) {
      pb::Value security;
      *security.mutable_list_value()->add_values() =
          Coding("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R", "restricted");
      (*(*patient->mutable_fields())["meta"].mutable_struct_value()->mutable_fields())["security"] = security;
      std::vector<std::string> forbidden;
      if (patient->fields().count("address")) {
        for (const auto& a : patient->fields().at("address").list_value().values()) {
          const auto& f = a.struct_value().fields();
          if (f.count("postalCode")) forbidden.push_back(f.at("postalCode").string_value());
          if (f.count("line")) {
            for (const auto& l : f.at("line").list_value().values()) forbidden.push_back(l.string_value());
          }
        }
      }
      if (patient->fields().count("telecom")) {
        for (const auto& t : patient->fields().at("telecom").list_value().values()) {
          forbidden.push_back(t.struct_value().fields().at("value").string_value());
        }
      }
      make("S-flag", b, forbidden);
    }
  }
  // As it is: only the NHS number rule applies.
  make("unchanged", original, {});
  return out;
}

// --- HL7 v2 editing ----------------------------------------------------------------------------

std::vector<std::string> Segments(const std::string& message) {
  std::string normalised = message;
  std::replace(normalised.begin(), normalised.end(), '\n', '\r');
  std::vector<std::string> out = absl::StrSplit(normalised, '\r', absl::SkipEmpty());
  return out;
}

std::vector<std::string> Fields(const std::string& segment) { return absl::StrSplit(segment, '|'); }

std::string Field(const std::vector<std::string>& segments, const std::string& id, size_t n) {
  for (const std::string& s : segments) {
    if (s.rfind(id + "|", 0) != 0) continue;
    std::vector<std::string> f = Fields(s);
    if (id == "MSH") f.insert(f.begin() + 1, "|");
    return n < f.size() ? f[n] : "";
  }
  return "";
}

void SetField(std::vector<std::string>* segments, const std::string& id, size_t n, const std::string& value) {
  for (std::string& s : *segments) {
    if (s.rfind(id + "|", 0) != 0) continue;
    std::vector<std::string> f = Fields(s);
    const size_t index = id == "MSH" ? n - 1 : n;
    if (f.size() <= index) f.resize(index + 1);
    f[index] = value;
    s = absl::StrJoin(f, "|");
    return;
  }
}

// Inserts `segment` after the last segment named one of `after` (or at the end).
void Insert(std::vector<std::string>* segments, const std::string& segment, std::vector<std::string> after) {
  size_t at = segments->size();
  for (size_t i = 0; i < segments->size(); ++i) {
    for (const std::string& a : after) {
      if ((*segments)[i].rfind(a + "|", 0) == 0) at = i + 1;
    }
  }
  segments->insert(segments->begin() + static_cast<long>(at), segment);
}

void SetReferrerNote(std::vector<std::string>* segments, const std::string& text) {
  for (std::string& s : *segments) {
    if (s.rfind("NTE|", 0) != 0) continue;
    std::vector<std::string> f = Fields(s);
    if (f.size() > 4 && f[4].rfind("1R", 0) == 0) {
      f[3] = text;
      s = absl::StrJoin(f, "|");
      return;
    }
  }
  segments->push_back(absl::StrCat("NTE|9|P|", text, "|1R^Primary Reason^HL70364"));
}

std::vector<Variant> Hl7Variants(const std::string& file, const std::string& sender) {
  std::vector<Variant> out;
  const std::vector<std::string> original = Segments(Read(kSamples + "/" + file));
  const std::string nhs = [&] {
    for (const std::string& rep : std::vector<std::string>(absl::StrSplit(Field(original, "PID", 3), '~'))) {
      std::vector<std::string> c = absl::StrSplit(rep, '^');
      if (c.size() > 4 && c[4] == "NH") return c[0];
    }
    return std::string();
  }();
  int n = 0;
  auto make = [&](const std::string& name, std::vector<std::string> segments, std::vector<std::string> forbidden) {
    SetField(&segments, "MSH", 10, absl::StrCat(Field(segments, "MSH", 10), "V", ++n));
    Variant v;
    v.name = absl::StrCat(file, " + ", name);
    v.sender = sender;
    v.hl7 = true;
    v.nhs_number = nhs;
    v.payload = absl::StrJoin(segments, "\r") + "\r";
    v.forbidden = std::move(forbidden);
    out.push_back(std::move(v));
  };
  for (const SensitiveCode& s : SensitiveCodes()) {
    for (bool only : {false, true}) {
      std::vector<std::string> seg = original;
      if (only) {
        seg.erase(std::remove_if(seg.begin(), seg.end(), [](const std::string& x) { return x.rfind("DG1|", 0) == 0; }),
                  seg.end());
      }
      Insert(&seg, absl::StrCat("DG1|9||", s.code, "^", s.display, "^SCT||20250101|W"), {"PID", "PD1", "DG1"});
      const std::string text = absl::StrCat("Restates ", s.display, " REFTEXT", s.code);
      SetReferrerNote(&seg, text);
      make(absl::StrCat(s.group, only ? " only " : " ", s.code), seg, {s.code, s.display, text, "REFTEXT"});
    }
  }
  {
    std::vector<std::string> seg = original;
    seg.push_back("OBX|1|ST|27113001^Body weight^SCT||OBSTEXT 92 kg||||||F");
    seg.push_back("PRB|AD|20250101|44054006^CONDTEXT Diabetes mellitus type 2^SCT|1");
    seg.push_back("RXO|36567011000001106^MEDTEXT Sertraline 50mg tablets^SCT");
    Insert(&seg, "DG1|8||E11^DGTEXT Type 2 diabetes^I10||20250101|W", {"PID", "PD1", "DG1"});
    make("clinical content", seg, {"OBSTEXT", "CONDTEXT", "MEDTEXT", "DGTEXT", "27113001", "36567011000001106"});
  }
  {
    std::vector<std::string> seg = original;
    bool has_pd1 = false;
    for (const std::string& s : seg) has_pd1 = has_pd1 || s.rfind("PD1|", 0) == 0;
    if (!has_pd1) Insert(&seg, "PD1|", {"PID"});
    SetField(&seg, "PD1", 12, "Y");
    std::vector<std::string> forbidden;
    for (size_t field : {11, 13, 14}) {
      for (const std::string& rep : std::vector<std::string>(absl::StrSplit(Field(seg, "PID", field), '~'))) {
        std::vector<std::string> c = absl::StrSplit(rep, '^');
        if (field == 11) {
          if (!c.empty() && !c[0].empty()) forbidden.push_back(c[0]);    // XAD-1 street
          if (c.size() > 4 && !c[4].empty()) forbidden.push_back(c[4]);  // XAD-5 postcode
        } else if (!c.empty() && !c[0].empty()) {
          forbidden.push_back(c[0]);  // XTN-1
        }
      }
    }
    make("S-flag", seg, forbidden);
  }
  make("unchanged", original, {});
  return out;
}

class MinimumNecessaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GatewayOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.path() + "/data";
    options.insecure_plaintext = true;
    // Hundreds of variants from one identity: above the per-identity rate limit of real referrers.
    options.config_path = frontdoor::testing::WriteBulkTestConfig(dir_.path());
    for (const auto& [endpoint, _] : EndpointAcceptsNhsNumber()) {
      connectors_[endpoint] = std::make_unique<frontdoor::testing::RecordingConnector>();
      options.connector_overrides[endpoint] = connectors_[endpoint]->address();
    }
    auto server = GatewayServer::Start(options, &clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::ReferralService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  frontdoor::testing::TempDir dir_;
  std::map<std::string, std::unique_ptr<frontdoor::testing::RecordingConnector>> connectors_;
  SystemClock clock_;
  std::unique_ptr<GatewayServer> server_;
  std::unique_ptr<v1::ReferralService::Stub> stub_;
};

TEST_F(MinimumNecessaryTest, NoDeliveredMessageCarriesAnythingTheRulesWithhold) {
  pb::Struct expected;
  ASSERT_TRUE(pb::util::JsonStringToMessage(Read(kSamples + "/expected.json"), &expected).ok());
  std::vector<Variant> variants;
  for (const auto& [file, want] : expected.fields()) {
    const std::string sender = want.struct_value().fields().at("sender").string_value();
    std::vector<Variant> v = file.size() > 4 && file.substr(file.size() - 4) == ".hl7" ? Hl7Variants(file, sender)
                                                                                       : FhirVariants(file, sender);
    variants.insert(variants.end(), v.begin(), v.end());
  }
  ASSERT_GT(variants.size(), 400u);

  const std::map<std::string, bool> accepts = EndpointAcceptsNhsNumber();
  std::map<std::string, const Variant*> by_referral;  // referral_id -> variant
  std::map<std::string, std::string> endpoint_of;     // referral_id -> endpoint
  std::map<std::string, int> expected_per_endpoint;
  for (const Variant& variant : variants) {
    SCOPED_TRACE(variant.name);
    v1::SubmitReferralRequest req;
    if (variant.hl7) {
      req.set_hl7v2(variant.payload);
    } else {
      req.set_fhir_json(variant.payload);
    }
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-frontdoor-client", variant.sender);
    v1::SubmitReferralResponse got;
    ASSERT_TRUE(stub_->SubmitReferral(&ctx, req, &got).ok());
    if (got.disposition() != v1::ACCEPTED || got.duplicate()) continue;
    by_referral[got.referral_id()] = &variant;
    endpoint_of[got.referral_id()] = got.endpoint_id();
    ++expected_per_endpoint[got.endpoint_id()];
  }
  // Most variants of the accepted samples are accepted too (the rules withhold, they do not refuse).
  ASSERT_GT(by_referral.size(), 250u);

  for (const auto& [endpoint, count] : expected_per_endpoint) {
    ASSERT_EQ(connectors_[endpoint]->WaitForDistinct(count, absl::Seconds(120)), count) << endpoint;
  }
  int checked = 0;
  for (const auto& [endpoint, connector] : connectors_) {
    for (const v1::DeliverReferralRequest& received : connector->received()) {
      const std::string& id = received.referral().referral_id();
      ASSERT_TRUE(by_referral.count(id)) << "unexpected delivery " << id;
      const Variant& variant = *by_referral[id];
      SCOPED_TRACE(variant.name);
      EXPECT_EQ(endpoint_of[id], endpoint);
      const std::string bytes = received.SerializeAsString();
      for (const std::string& value : variant.forbidden) {
        if (value.size() < 3) continue;  // too short to search meaningfully
        EXPECT_EQ(bytes.find(value), std::string::npos) << "'" << value << "' reached " << endpoint;
      }
      ASSERT_FALSE(variant.nhs_number.empty());
      if (!accepts.at(endpoint)) {
        EXPECT_EQ(bytes.find(variant.nhs_number), std::string::npos) << "NHS number reached " << endpoint;
      } else {
        EXPECT_EQ(received.referral().nhs_number(), variant.nhs_number);
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(by_referral.size()));
}

}  // namespace
}  // namespace frontdoor::gateway
