#include "gateway/console/audit_pages.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "adapters/referral_validation.h"
#include "audit/audit_csv.h"
#include "audit/audit_vocabulary.h"
#include "gateway/console/record_words.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;
using kainjow::mustache::data;

namespace {

// The form's filter fields, in the order the search form shows them.
constexpr const char* kFilterFields[] = {
    "nhs_number", "referrer_ods", "recipient_endpoint", "action", "outcome", "rule_id", "from", "to"};

template <typename Words>
bool OneOf(const std::string& value, const Words& words) {
  return std::any_of(std::begin(words), std::end(words), [&](const auto& w) { return value == w; });
}

// A day's midnight UTC in RFC 3339, `days_later` days on.
absl::StatusOr<std::string> DayStart(const std::string& text, const char* what, int days_later) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("“", what, "” is not a day (YYYY-MM-DD): ", text));
  }
  return absl::FormatCivilTime(absl::CivilSecond(day + days_later)) + "Z";
}

data Options(const std::vector<std::string>& values, const std::string& selected,
             const std::vector<std::string>& texts = {}) {
  data list{data::type::list};
  for (size_t i = 0; i < values.size(); ++i) {
    data option;
    option.set("value", values[i]);
    option.set("selected", values[i] == selected);
    if (i < texts.size()) option.set("text", texts[i]);
    list.push_back(option);
  }
  return list;
}

// "2026-12-05 19:17:14" from the record's RFC 3339 time: to the second, for a table.
std::string ShortTime(const std::string& rfc3339) {
  std::string t = rfc3339.substr(0, std::min<size_t>(rfc3339.size(), 19));
  if (t.size() > 10 && t[10] == 'T') t[10] = ' ';
  return t;
}

data RecordView(const v1::AuditRecord& r) {
  data row;
  row.set("index", std::to_string(r.index()));
  row.set("time", ShortTime(r.time()));
  row.set("actor", r.actor());
  // An organisation's identity is its organisation; a person's organisation is said beside it.
  if (r.actor_organisation() != r.actor()) row.set("actor_organisation", r.actor_organisation());
  row.set("nhs_number", r.nhs_number());
  row.set("what", DescribeRecord(r));
  row.set("rule_ids", absl::StrJoin(r.rule_ids(), ", "));
  row.set("consent_reference", r.consent_reference());
  row.set("recipient_endpoint", r.recipient_endpoint());
  row.set("outcome", r.outcome());
  return row;
}

data CheckpointView(const v1::SignedCheckpoint& c) {
  data view;
  view.set("tree_size", std::to_string(c.tree_size()));
  view.set("root_hash_hex", c.root_hash_hex());
  view.set("time", c.time());
  view.set("signature_base64", c.signature_base64());
  return view;
}

}  // namespace

absl::StatusOr<v1::QueryAuditRequest> AuditSearchFromForm(const FormFields& form) {
  v1::QueryAuditRequest request;
  std::string nhs = form.Get("nhs_number");
  nhs.erase(std::remove_if(nhs.begin(), nhs.end(), [](char c) { return c == ' '; }), nhs.end());
  if (!nhs.empty() && !adapters::IsValidNhsNumber(nhs)) {
    return absl::InvalidArgumentError(
        "That NHS number is not valid: it has 10 digits, the last a check digit (as on the person's letters).");
  }
  request.set_nhs_number(nhs);
  for (const char* field : {"referrer_ods", "recipient_endpoint"}) {
    const std::string value(absl::StripAsciiWhitespace(form.Get(field)));
    if (value.size() > 64) return absl::InvalidArgumentError("An organisation code is at most 64 characters.");
  }
  request.set_referrer_ods(std::string(absl::StripAsciiWhitespace(form.Get("referrer_ods"))));
  request.set_recipient_endpoint(std::string(absl::StripAsciiWhitespace(form.Get("recipient_endpoint"))));
  const std::string& action = form.Get("action");
  const std::string& outcome = form.Get("outcome");
  const std::string& rule = form.Get("rule_id");
  std::vector<std::string> rules;
  for (const auto& [id, meaning] : RuleMeanings()) rules.push_back(id);
  if ((!action.empty() && !OneOf(action, audit::kAuditActions)) ||
      (!outcome.empty() && !OneOf(outcome, audit::kAuditOutcomes)) || (!rule.empty() && !OneOf(rule, rules))) {
    return absl::InvalidArgumentError("Choose the action, outcome and rule from their lists.");
  }
  request.set_action(action);
  request.set_outcome(outcome);
  request.set_rule_id(rule);
  if (!form.Get("from").empty()) {
    absl::StatusOr<std::string> from = DayStart(form.Get("from"), "From", 0);
    if (!from.ok()) return from.status();
    request.set_from_time(*from);
  }
  if (!form.Get("to").empty()) {
    absl::StatusOr<std::string> to = DayStart(form.Get("to"), "To", 1);  // the whole of that day
    if (!to.ok()) return to.status();
    request.set_to_time(*to);
  }
  if (!request.from_time().empty() && !request.to_time().empty() && request.to_time() <= request.from_time()) {
    return absl::InvalidArgumentError("“To” is before “From”.");
  }
  return request;
}

data AuditPages::SearchView(const ConsoleVisit& visit) const {
  data view = visit.View("Audit log");
  view.set("on_audit", true);
  data filters;
  for (const char* field : kFilterFields) filters.set(field, visit.form.Get(field));
  view.set("filters", filters);
  std::vector<std::string> rule_ids, rule_texts;
  for (const auto& [id, meaning] : RuleMeanings()) {
    rule_ids.push_back(id);
    rule_texts.push_back(meaning);
  }
  view.set("actions",
           Options({std::begin(audit::kAuditActions), std::end(audit::kAuditActions)}, visit.form.Get("action")));
  view.set("outcomes",
           Options({std::begin(audit::kAuditOutcomes), std::end(audit::kAuditOutcomes)}, visit.form.Get("outcome")));
  view.set("rules", Options(rule_ids, visit.form.Get("rule_id"), rule_texts));
  return view;
}

void AuditPages::SearchForm(const ConsoleVisit& visit) const { visit.Page(200, "audit_search", SearchView(visit)); }

void AuditPages::Failed(const ConsoleVisit& visit, const absl::Status& status) const {
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied:
      return visit.Problem(403, "Not allowed", std::string(status.message()), "/", "Back to the start");
    case absl::StatusCode::kNotFound:
      return visit.Problem(404, "No such record", std::string(status.message()), "/audit", "Back to the search");
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kInvalidArgument:
      return visit.Problem(400, "Cannot show that", std::string(status.message()), "/audit", "Back to the search");
    case absl::StatusCode::kDataLoss:
      return visit.Problem(500, "The audit log is damaged",
                           absl::StrCat(status.message(), " Verify the log to see which records."), "/audit",
                           "Back to the search");
    default:
      return visit.Problem(
          503, "The audit log cannot be read just now",
          absl::StrCat(status.message(), " Try again in a minute; if it persists, call the gateway's operator."),
          "/audit", "Back to the search");
  }
}

void AuditPages::Search(const ConsoleVisit& visit) const {
  absl::StatusOr<v1::QueryAuditRequest> request = AuditSearchFromForm(visit.form);
  if (!request.ok()) {
    data view = SearchView(visit);
    view.set("problem", std::string(request.status().message()));
    return visit.Page(400, "audit_search", std::move(view));
  }
  int64_t after = -1;
  if (!visit.form.Get("after").empty() && !absl::SimpleAtoi(visit.form.Get("after"), &after)) after = -1;
  reader_->Search(visit.caller, *request, after, kAuditPageRecords + 1, "console search",
                  [this, visit](absl::StatusOr<std::vector<v1::AuditRecord>> records) {
                    if (!records.ok()) return Failed(visit, records.status());
                    const bool more = static_cast<int>(records->size()) > kAuditPageRecords;
                    if (more) records->resize(kAuditPageRecords);
                    data view = SearchView(visit);
                    view.set("searched", true);
                    view.set("has_records", !records->empty());
                    view.set("count", std::to_string(records->size()));
                    view.set("results_heading", records->empty()       ? std::string("No records match")
                                                : records->size() == 1 ? std::string("1 record")
                                                : more ? absl::StrCat(records->size(), " records and more")
                                                       : absl::StrCat(records->size(), " records"));
                    data rows{data::type::list};
                    for (const v1::AuditRecord& r : *records) rows.push_back(RecordView(r));
                    view.set("records", rows);
                    view.set("more", more);
                    if (more) {
                      view.set("next_after", std::to_string(records->back().index()));
                      data hidden{data::type::list};
                      for (const char* field : kFilterFields) {
                        if (visit.form.Get(field).empty()) continue;
                        data h;
                        h.set("name", field);
                        h.set("value", visit.form.Get(field));
                        hidden.push_back(h);
                      }
                      view.set("hidden_filters", hidden);
                    }
                    visit.Page(200, "audit_search", std::move(view));
                  });
}

void AuditPages::Export(const ConsoleVisit& visit) const {
  absl::StatusOr<v1::QueryAuditRequest> request = AuditSearchFromForm(visit.form);
  if (!request.ok()) {
    data view = SearchView(visit);
    view.set("problem", std::string(request.status().message()));
    return visit.Page(400, "audit_search", std::move(view));
  }
  reader_->Search(visit.caller, *request, -1, kAuditExportRecords + 1, "console export as CSV",
                  [this, visit](absl::StatusOr<std::vector<v1::AuditRecord>> records) {
                    if (!records.ok()) return Failed(visit, records.status());
                    if (static_cast<int>(records->size()) > kAuditExportRecords) {
                      return visit.Problem(400, "Too many records to export",
                                           absl::StrCat("More than ", kAuditExportRecords,
                                                        " records match: narrow the search (by days, say) and "
                                                        "export each part."),
                                           "/audit", "Back to the search");
                    }
                    std::string csv = audit::AuditCsvHeader();
                    for (const v1::AuditRecord& r : *records) csv += audit::AuditCsvRow(r);
                    visit.respond(HttpAnswer{200,
                                             {{"content-type", "text/csv; charset=utf-8"},
                                              {"content-disposition", "attachment; filename=\"frontdoor-audit.csv\""}},
                                             std::move(csv)});
                  });
}

void AuditPages::Record(const ConsoleVisit& visit, const std::string& index_text) const {
  uint64_t index = 0;
  if (index_text.empty() || index_text.size() > 19 ||
      !std::all_of(index_text.begin(), index_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(index_text, &index)) {
    return visit.Problem(404, "No such record", "A record is named by its number, as the search shows it.", "/audit",
                         "Back to the search");
  }
  reader_->Prove(visit.caller, index, [this, visit](absl::StatusOr<v1::AuditInclusionProof> proof) {
    if (!proof.ok()) return Failed(visit, proof.status());
    const v1::AuditRecord& r = proof->record();
    data view = visit.View(absl::StrCat("Audit record ", proof->leaf_index()));
    view.set("on_audit", true);
    data record;
    for (const auto& [name, value] :
         std::vector<std::pair<const char*, std::string>>{{"time", r.time()},
                                                          {"actor", r.actor()},
                                                          {"actor_organisation", r.actor_organisation()},
                                                          {"action", r.action()},
                                                          {"outcome", r.outcome()},
                                                          {"referral_id", r.referral_id()},
                                                          {"consent_reference", r.consent_reference()},
                                                          {"referrer_ods", r.referrer_ods()},
                                                          {"recipient_endpoint", r.recipient_endpoint()},
                                                          {"lawful_basis", r.lawful_basis()},
                                                          {"detail", r.detail()},
                                                          {"leaf_hash_hex", r.leaf_hash_hex()}}) {
      record.set(name, value);
    }
    // Mustache takes an empty string as true: what may be empty is set only when it is not.
    if (!r.nhs_number().empty()) record.set("nhs_number", r.nhs_number());
    view.set("record", record);
    view.set("what", DescribeRecord(r));
    view.set("rule_ids", absl::StrJoin(r.rule_ids(), ", "));
    if (r.withheld_categories_size() > 0) view.set("withheld", absl::StrJoin(r.withheld_categories(), ", "));
    view.set("leaf_index", std::to_string(proof->leaf_index()));
    view.set("tree_size", std::to_string(proof->tree_size()));
    data path{data::type::list};
    for (const std::string& hex : proof->audit_path_hex()) path.push_back(data(hex));
    view.set("path", path);
    view.set("checkpoint", CheckpointView(proof->checkpoint()));
    visit.Page(200, "audit_record", std::move(view));
  });
}

void AuditPages::Verify(const ConsoleVisit& visit) const {
  reader_->Verify(visit.caller, std::nullopt, [this, visit](absl::StatusOr<v1::VerifyAuditResponse> result) {
    if (!result.ok()) return Failed(visit, result.status());
    data view = visit.View(result->verified() ? "The audit log verifies" : "The audit log does not verify");
    view.set("on_audit", true);
    view.set("verified", result->verified());
    view.set("tree_size", std::to_string(result->tree_size()));
    view.set("root_hash_hex", result->root_hash_hex());
    view.set("first_bad_index", std::to_string(result->first_bad_index()));
    view.set("last_index", std::to_string(result->tree_size() == 0 ? 0 : result->tree_size() - 1));
    view.set("message", result->message());
    view.set("checkpoints_verified", std::to_string(result->checkpoints_verified()));
    view.set("pruned_records", std::to_string(result->pruned_records()));
    view.set("unsigned_tail", std::to_string(result->unsigned_tail()));
    if (result->has_latest_checkpoint()) view.set("latest", CheckpointView(result->latest_checkpoint()));
    visit.Page(200, "audit_verify", std::move(view));
  });
}

}  // namespace frontdoor::gateway
