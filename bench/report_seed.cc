// See report_seed.h.
#include "bench/report_seed.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/time_text.h"
#include "common/uuid.h"

namespace frontdoor::bench {

namespace v1 = ::frontdoor::v1;
using gateway::NewFeedback;
using gateway::NewReferral;
using gateway::StoredReferral;

absl::Time ReportYearStart() { return absl::FromCivil(absl::CivilSecond(2025, 1, 1, 0, 0, 0), absl::UTCTimeZone()); }
absl::Time ReportYearEnd() { return absl::FromCivil(absl::CivilSecond(2026, 1, 1, 0, 0, 0), absl::UTCTimeZone()); }

namespace {

// The demo network's words, in the shares a referral draws them with.
struct Mix {
  std::vector<const network::Practice*> practices;
  std::vector<std::string> referrers = {"R9T01", "R9O02", "L9O03", "L9T04", "R9M05", "L9O06"};
  std::vector<std::string> clusters;
  std::vector<std::string> activities = {"Walking for Health",
                                         "Men's Shed",
                                         "Knit and Natter",
                                         "Community allotment",
                                         "Befriending service",
                                         "Citizens Advice",
                                         "Food bank",
                                         "Chair-based exercise",
                                         "Art for wellbeing",
                                         "Singing for the brain",
                                         "Parkrun",
                                         "Library reading group",
                                         "Debt advice",
                                         "Carers' group",
                                         "Bereavement support",
                                         "Cookery course",
                                         "Volunteering placement",
                                         "Digital skills class",
                                         "Swimming sessions",
                                         "Gardening club",
                                         "Tai chi",
                                         "Peer support group",
                                         "Housing advice",
                                         "Adult learning",
                                         "Dementia cafe",
                                         "Youth club",
                                         "Football for all",
                                         "Photography club",
                                         "Church lunch club",
                                         "Men's mental health group"};
};

Mix MakeMix(const network::NetworkDirectory& network) {
  Mix mix;
  for (const char* ods : {"P85901", "P85902", "P85903", "P85904", "P85905", "P85906", "P85907", "P85908",
                          "P85909", "P85910", "P85911", "P85912", "P85913", "P85914", "P85915", "P89901",
                          "P89902", "P89903", "P89904", "P89905", "P89906", "P89907", "P89908", "P89909"}) {
    if (const network::Practice* p = network.FindPractice(ods); p != nullptr) mix.practices.push_back(p);
  }
  for (const network::ConnectorTeam& t : network.teams()) {
    if (!t.IsFrontDoor() && std::find(mix.clusters.begin(), mix.clusters.end(), t.cluster_id) == mix.clusters.end()) {
      mix.clusters.push_back(t.cluster_id);
    }
  }
  return mix;
}

// A time-ordered id, as the gateway's (UUID v7 from the received time).
std::string ReferralIdAt(absl::Time at, std::mt19937_64& rng) {
  unsigned char b[16];
  const uint64_t r1 = rng(), r2 = rng();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(r1 >> (8 * i));
    b[8 + i] = static_cast<unsigned char>(r2 >> (8 * i));
  }
  const int64_t unix_ms = absl::ToUnixMillis(at);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(static_cast<uint64_t>(unix_ms) >> (8 * (5 - i)));
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  return FormatUuid(b);
}

}  // namespace

struct ReferralSeeder::Impl {
  explicit Impl(const network::NetworkDirectory& network) : network_(network), mix_(MakeMix(network)) {}

  SeededReferral Make(int64_t i, int64_t n) {
    std::uniform_real_distribution<double> u(0, 1);
    const absl::Duration step = (ReportYearEnd() - ReportYearStart()) / static_cast<double>(n);
    const absl::Time at = ReportYearStart() + step * (static_cast<double>(i) + u(rng_) * 0.999);
    SeededReferral s;
    NewReferral& r = s.record;
    r.referral_id = ReferralIdAt(at, rng_);
    r.message_id = absl::StrCat("bench-", i);
    r.format = u(rng_) < 0.6 ? "fhir" : (u(rng_) < 0.7 ? "hl7v2" : "typed");
    r.received_at = at;
    r.content_fingerprint = absl::StrCat("bench-fingerprint-", i);

    // Where it comes from: half GP practices, a fifth self-referrals, the rest other referrers.
    const double source = u(rng_);
    const network::Practice* practice = mix_.practices[rng_() % mix_.practices.size()];
    std::string cluster = practice->cluster_id;
    bool self_referral = false;
    if (source < 0.5) {
      r.sender_ods = practice->ods_code;
    } else if (source < 0.7) {
      r.sender_ods = practice->ods_code;  // a self-referral form the practice's front door sends on
      self_referral = true;
    } else {
      r.sender_ods = mix_.referrers[rng_() % mix_.referrers.size()];
      cluster = mix_.clusters[rng_() % mix_.clusters.size()];
    }
    const network::Cluster* c = network_.FindCluster(cluster);
    const std::string borough = c != nullptr ? c->borough : "oldham";
    const double cat = u(rng_);
    const std::string category =
        borough == "tameside" ? "all" : (cat < 0.5 ? "wellbeing" : (cat < 0.75 ? "older-people" : "mental-health"));

    v1::Referral& ref = r.referral;
    ref.set_message_id(r.message_id);
    ref.set_sender_ods(r.sender_ods);
    ref.set_referral_date(absl::FormatTime("%Y-%m-%d", at, absl::UTCTimeZone()));
    ref.set_self_referral(self_referral);
    v1::Person* p = ref.mutable_person();
    p->set_nhs_number(absl::StrCat(9000000000LL + static_cast<int64_t>(rng_() % 999999999)));
    p->mutable_name()->set_family(kFamilies[rng_() % std::size(kFamilies)]);
    p->mutable_name()->add_given(kGivens[rng_() % std::size(kGivens)]);
    p->set_birth_date(absl::StrCat(1930 + rng_() % 75, "-0", 1 + rng_() % 9, "-1", rng_() % 9));
    p->mutable_home_address()->add_lines(absl::StrCat(1 + rng_() % 200, " Windmill Lane"));
    p->mutable_home_address()->set_city(c != nullptr ? c->name : "Oldham");
    p->mutable_home_address()->set_postcode(borough == "tameside" ? "OL6 7AB" : "OL2 6LB");
    v1::ContactPoint* phone = p->add_telecom();
    phone->set_system(v1::ContactPoint::PHONE);
    phone->set_value(absl::StrCat("07700 9", 10000 + rng_() % 89999));
    p->set_registered_practice_ods(practice->ods_code);
    for (int k = 0, reasons = 1 + static_cast<int>(rng_() % 3); k < reasons; ++k) {
      v1::Coding* reason = ref.add_reasons();
      reason->set_system("http://snomed.info/sct");
      const auto& [code, display] = kReasons[rng_() % std::size(kReasons)];
      reason->set_code(code);
      reason->set_display(display);
    }
    ref.set_referrer_text("Would benefit from support to get out and meet people; lives alone since a bereavement.");
    v1::Consent* consent = ref.add_consents();
    consent->set_id("consent-1");
    consent->set_status(v1::Consent::ACTIVE);
    consent->set_provision(v1::Consent::PERMIT);
    consent->set_date(ref.referral_date());

    v1::SubmitReferralResponse& d = r.decision;
    d.set_referral_id(r.referral_id);
    d.set_cluster_id(cluster);
    v1::AuditRecord audit;
    audit.set_time(FormatRfc3339Utc(at, 6));
    audit.set_actor(r.sender_ods);
    audit.set_actor_organisation(r.sender_ods);
    audit.set_nhs_number(p->nhs_number());
    audit.set_referral_id(r.referral_id);
    audit.set_action("decide");
    audit.set_consent_reference("consent-1");
    audit.set_referrer_ods(r.sender_ods);
    audit.set_lawful_basis("UK GDPR Art 6(1)(e); Art 9(2)(h)");
    if (u(rng_) < 0.9) {
      d.set_disposition(v1::ACCEPTED);
      d.set_category(category);
      const network::ConnectorTeam* team = network_.FindTeam(cluster, category);
      if (team == nullptr || team->paused) {
        team = network_.FrontDoor(borough);
        d.set_front_door(true);
      }
      d.set_connector_id(team->team_id);
      d.set_endpoint_id(team->endpoint_id);
      d.set_routing_reason(absl::StrCat("Cluster ", cluster, " from the person's postcode; category ", category));
      audit.set_outcome("accepted");
      audit.set_recipient_endpoint(team->endpoint_id);
      s.feedback = Feedback(r.referral_id, at);
    } else {
      d.set_disposition(v1::REFUSED);
      const double rule = u(rng_);
      const char* id = rule < 0.6 ? "IG-1" : (rule < 0.8 ? "IG-2" : (rule < 0.95 ? "IG-3" : "IG-6"));
      v1::Issue* issue = d.add_issues();
      issue->set_severity(v1::Issue::ERROR);
      issue->set_code(id);
      issue->set_message("Refused under the network's information governance rules");
      audit.set_outcome("refused");
      audit.add_rule_ids(id);
    }
    r.audit.push_back(std::move(audit));
    return s;
  }

  // The casework funnel of an accepted referral, each event some days after the one before.
  std::vector<v1::ReportProgressRequest> Feedback(const std::string& referral_id, absl::Time received) {
    std::uniform_real_distribution<double> u(0, 1);
    std::normal_distribution<double> change(2.5, 3.5);
    std::vector<v1::ReportProgressRequest> out;
    absl::Time t = received;
    auto event = [&](v1::ProgressStatus status, int min_days, int max_days) -> v1::ReportProgressRequest& {
      t += absl::Hours(24 * min_days + static_cast<int64_t>(rng_() % (24 * (max_days - min_days) + 1)));
      v1::ReportProgressRequest& e = out.emplace_back();
      e.set_referral_id(referral_id);
      e.set_idempotency_key(absl::StrCat(referral_id, "-", out.size()));
      e.set_status(status);
      e.set_occurred_at(FormatRfc3339Utc(t, 0));
      return e;
    };
    const double reach = u(rng_);
    if (reach < 0.05) return out;  // nothing reported yet
    if (reach < 0.15) {
      event(v1::PROGRESS_UNABLE_TO_CONTACT, 7, 21);
      return out;
    }
    event(v1::PROGRESS_CONTACTED, 1, 10);
    const double next = u(rng_);
    if (next < 0.08) {
      event(v1::PROGRESS_DECLINED, 2, 14).set_reason("Did not want support at this time");
      return out;
    }
    if (next > 0.88) return out;
    event(v1::PROGRESS_FIRST_CONVERSATION_HELD, 3, 20).set_what_matters("Getting out of the house and meeting people");
    const bool connected = u(rng_) < 0.72;
    if (connected) {
      v1::ReportProgressRequest& e = event(v1::PROGRESS_CONNECTED, 7, 40);
      for (int k = 0, n = 1 + static_cast<int>(rng_() % 3); k < n; ++k) {
        e.add_connected_to(mix_.activities[rng_() % mix_.activities.size()]);
      }
    }
    if (u(rng_) < (connected ? 0.85 : 0.5)) {
      v1::ReportProgressRequest& e = event(v1::PROGRESS_CLOSED, 30, 120);
      e.set_reason(connected ? "Support completed" : "No further support needed");
      if (connected) {
        const double start = 14 + static_cast<double>(rng_() % 15);
        v1::OutcomeMeasure* m = e.add_outcome_measures();
        m->set_instrument("SWEMWBS");
        m->set_start_score(start);
        m->set_end_score(std::clamp(std::round(start + change(rng_)), 7.0, 35.0));
        if (u(rng_) < 0.5) {
          for (const char* item : {"ONS4-SATISFACTION", "ONS4-WORTHWHILE", "ONS4-HAPPINESS", "ONS4-ANXIETY"}) {
            v1::OutcomeMeasure* o = e.add_outcome_measures();
            const double s0 = static_cast<double>(rng_() % 8);
            o->set_instrument(item);
            o->set_start_score(s0);
            o->set_end_score(std::clamp(s0 + static_cast<double>(rng_() % 5) - 1, 0.0, 10.0));
          }
        }
      }
    }
    return out;
  }

  static constexpr const char* kFamilies[] = {"Pickup", "Shah", "Kowalski", "Brennan", "Okafor", "Hughes",
                                              "Begum",  "Lee",  "Taylor",   "Ahmed",   "Walsh",  "Nowak"};
  static constexpr const char* kGivens[] = {"Olivia", "Mohammed", "Anna",  "Patrick", "Grace", "David",
                                            "Amina",  "Jack",     "Zofia", "Tom",     "Ruth",  "Imran"};
  static constexpr std::pair<const char*, const char*> kReasons[] = {
      {"267076002", "Feeling lonely"},     {"48694002", "Anxiety"},
      {"35489007", "Depressive disorder"}, {"105421008", "Social isolation"},
      {"160903007", "Lives alone"},        {"73595000", "Stress"},
      {"423315002", "Financial problem"},  {"105480006", "Refusal of treatment"}};

  const network::NetworkDirectory& network_;
  const Mix mix_;
  std::mt19937_64 rng_{20250101};
};

ReferralSeeder::ReferralSeeder(const network::NetworkDirectory& network) : impl_(std::make_unique<Impl>(network)) {}
ReferralSeeder::~ReferralSeeder() = default;
SeededReferral ReferralSeeder::Make(int64_t i, int64_t n) { return impl_->Make(i, n); }

absl::StatusOr<SeedFigures> SeedStore(gateway::Store* store, const network::NetworkDirectory& network, int64_t n,
                                      int threads) {
  SeedFigures f;
  const absl::Time start = absl::Now();
  ReferralSeeder seeder(network);
  constexpr int64_t kBatch = 2000;
  for (int64_t first = 0; first < n; first += kBatch) {
    std::vector<SeededReferral> chunk;
    std::vector<NewReferral> batch;
    for (int64_t i = first; i < std::min(n, first + kBatch); ++i) chunk.push_back(seeder.Make(i, n));
    for (const SeededReferral& s : chunk) batch.push_back(s.record);
    absl::StatusOr<std::vector<gateway::RecordOutcome>> recorded = store->RecordReferrals(std::move(batch));
    if (!recorded.ok()) return recorded.status();
    f.referrals += static_cast<int64_t>(chunk.size());
    std::atomic<int64_t> events{0};
    std::vector<absl::Status> failures(threads);
    auto feed = [&](int t) {
      for (size_t k = t; k < chunk.size(); k += threads) {
        const NewReferral& r = chunk[k].record;
        StoredReferral referral;
        referral.referral_id = r.referral_id;
        referral.sender_ods = r.sender_ods;
        referral.message_id = r.message_id;
        referral.format = r.format;
        referral.received_at = r.received_at;
        referral.decision = r.decision;
        for (const v1::ReportProgressRequest& report : chunk[k].feedback) {
          absl::Time at;
          ParseRfc3339(report.occurred_at(), &at);
          NewFeedback fb{r.decision.endpoint_id(), report, at + absl::Minutes(5), ""};
          absl::StatusOr<gateway::FeedbackRecordOutcome> out = store->RecordFeedback(
              fb, referral,
              [](const gateway::FeedbackContext&) -> absl::StatusOr<std::optional<int64_t>> { return std::nullopt; });
          if (!out.ok()) {
            failures[t] = out.status();
            return;
          }
          ++events;
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(feed, t);
    feed(0);
    for (std::thread& t : pool) t.join();
    for (const absl::Status& s : failures) {
      if (!s.ok()) return s;
    }
    f.feedback += events;
    if ((first / kBatch) % 50 == 49 || first + kBatch >= n) {
      std::fprintf(stderr, "  seeded %lld referrals, %lld feedback events, %.0f s\n",
                   static_cast<long long>(f.referrals), static_cast<long long>(f.feedback),
                   absl::ToDoubleSeconds(absl::Now() - start));
    }
  }
  f.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return f;
}

}  // namespace frontdoor::bench
