#include "adapters/referral_validation.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace frontdoor::adapters {
namespace {

using ::frontdoor::v1::Issue;
using ::frontdoor::v1::Referral;

constexpr size_t kMaxMessageIdLength = 64;

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }

bool AllAsciiDigits(std::string_view text) {
  for (char c : text) {
    if (!IsAsciiDigit(c)) return false;
  }
  return true;
}

// FHIR ids allow [A-Za-z0-9.-]; the underscore is accepted too because HL7 v2 control ids and
// typed clients use it.
bool IsMessageIdChar(char c) {
  return IsAsciiDigit(c) || IsAsciiUpper(c) || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '_';
}

bool IsWellFormedMessageId(std::string_view id) {
  if (id.empty() || id.size() > kMaxMessageIdLength) return false;
  for (char c : id) {
    if (!IsMessageIdChar(c)) return false;
  }
  return true;
}

// Issues never quote the sender's value: a referral's values are patient data, and issues are
// logged and returned to callers. They name the datum and the rule it breaks.
Issue Error(std::string_view code, std::string path, std::string message) {
  Issue issue;
  issue.set_code(std::string(code));
  issue.set_path(std::move(path));
  issue.set_message(std::move(message));
  issue.set_severity(Issue::ERROR);
  return issue;
}

// Where a datum sat in the sender's message: the adapter's path, or (when it gave none) the typed
// path (TypedReferralPaths), which says where the datum belongs. Rendered only when an issue names
// it: most referrals raise none.
class DatumPath {
 public:
  DatumPath(const std::string& given, const char* typed) : given_(&given), typed_(typed) {}
  // Entry `index` of a per-entry list: `referral.<list>[index].<field>` when the adapter gave fewer
  // paths than entries (a caller bug, but the issue should still say where).
  DatumPath(const std::vector<std::string>& given, size_t index, const char* list, const char* field)
      : given_(index < given.size() ? &given[index] : nullptr), list_(list), field_(field), index_(index) {}

  std::string Render() const {
    if (given_ != nullptr && !given_->empty()) return *given_;
    if (typed_ != nullptr) return typed_;
    return absl::StrCat("referral.", list_, "[", index_, "].", field_);
  }

 private:
  const std::string* given_ = nullptr;
  const char* typed_ = nullptr;
  const char* list_ = nullptr;
  const char* field_ = nullptr;
  size_t index_ = 0;
};

// Checks a required date: present, a real YYYY-MM-DD day, not after `today`. Adds at most one issue
// and returns the date when it is usable.
std::optional<CalendarDate> CheckRequiredDate(std::string_view value, const DatumPath& path, const char* what,
                                              const CalendarDate& today, std::vector<Issue>* issues) {
  if (value.empty()) {
    issues->push_back(Error(kMissingElement, path.Render(), absl::StrCat("the ", what, " is missing")));
    return std::nullopt;
  }
  std::optional<CalendarDate> date = CalendarDate::Parse(value);
  if (!date.has_value()) {
    issues->push_back(Error(kInvalidValue, path.Render(),
                            absl::StrCat("the ", what, " is not a full date (YYYY-MM-DD) naming a real day")));
    return std::nullopt;
  }
  if (*date > today) {
    issues->push_back(Error(kInvalidValue, path.Render(), absl::StrCat("the ", what, " is in the future")));
    return std::nullopt;
  }
  return date;
}

// Checks an optional consent date: absent is fine; present must be a real day. Whether it is in
// the future does not make the message unreadable: a consent dated after the referral date is
// simply not in force on it (IG-RULES.md, "In force"), which the IG decision answers with IG-1 (a
// permit) or by not counting it (a deny). Only the referral date itself may not be in the future.
void CheckOptionalDate(std::string_view value, const DatumPath& path, const char* what, std::vector<Issue>* issues) {
  if (value.empty()) return;
  if (!CalendarDate::Parse(value).has_value()) {
    issues->push_back(Error(kInvalidValue, path.Render(),
                            absl::StrCat("the ", what, " is not a full date (YYYY-MM-DD) naming a real day")));
  }
}

void CheckOdsCode(std::string_view value, const DatumPath& path, const char* what, std::vector<Issue>* issues) {
  if (!IsWellFormedOdsCode(value)) {
    issues->push_back(Error(kInvalidValue, path.Render(),
                            absl::StrCat("the ", what,
                                         " is not an ODS code (3 to 6 upper-case letters and "
                                         "digits)")));
  }
}

// The Verhoeff dihedral-group tables: multiplication d, permutation p, inverse inv.
// clang-format off
constexpr int kVerhoeffD[10][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
    {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
    {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
    {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
    {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
};
// Row i is the permutation {1 5 7 6 2 8 3 0 9 4} applied i times.
constexpr int kVerhoeffP[8][10] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    {1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
    {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
    {8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
    {9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
    {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
    {2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
    {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
};
// clang-format on
constexpr int kVerhoeffInv[10] = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

// A typo in a table would silently accept wrong codes, so the tables check each other when this
// file compiles: each p row is the previous one permuted by p[1], and d[j][inv[j]] is the identity.
constexpr bool VerhoeffTablesAreConsistent() {
  for (int i = 1; i < 8; ++i) {
    for (int j = 0; j < 10; ++j) {
      if (kVerhoeffP[i][j] != kVerhoeffP[1][kVerhoeffP[i - 1][j]]) return false;
    }
  }
  for (int j = 0; j < 10; ++j) {
    if (kVerhoeffD[j][kVerhoeffInv[j]] != 0) return false;
  }
  return true;
}
static_assert(VerhoeffTablesAreConsistent());

}  // namespace

ReferralSourcePaths TypedReferralPaths(const Referral& referral) {
  ReferralSourcePaths paths;
  paths.message_id = "referral.message_id";
  paths.sender_ods = "referral.sender_ods";
  paths.referral_date = "referral.referral_date";
  paths.nhs_number = "referral.person.nhs_number";
  paths.birth_date = "referral.person.birth_date";
  paths.postcode = "referral.person.home_address.postcode";
  paths.registered_practice_ods = "referral.person.registered_practice_ods";
  for (int i = 0; i < referral.reasons_size(); ++i) {
    paths.reasons.push_back(absl::StrCat("referral.reasons[", i, "].code"));
  }
  for (int i = 0; i < referral.consents_size(); ++i) {
    paths.consent_dates.push_back(absl::StrCat("referral.consents[", i, "].date"));
    paths.consent_starts.push_back(absl::StrCat("referral.consents[", i, "].period_start"));
    paths.consent_ends.push_back(absl::StrCat("referral.consents[", i, "].period_end"));
  }
  return paths;
}

std::vector<Issue> ValidateReferral(const Referral& referral, const ReferralSourcePaths& paths,
                                    const CalendarDate& today) {
  // Where the adapter's paths fall short, the typed paths (TypedReferralPaths) name where each
  // datum belongs.
  std::vector<Issue> issues;

  const DatumPath message_id_path(paths.message_id, "referral.message_id");
  if (referral.message_id().empty()) {
    issues.push_back(Error(kMissingElement, message_id_path.Render(), "the message id is missing"));
  } else if (!IsWellFormedMessageId(referral.message_id())) {
    issues.push_back(Error(kInvalidValue, message_id_path.Render(),
                           "the message id must be 1 to 64 letters, digits, '.', '-' or '_'"));
  }

  const DatumPath sender_path(paths.sender_ods, "referral.sender_ods");
  if (referral.sender_ods().empty()) {
    issues.push_back(Error(kMissingElement, sender_path.Render(), "the sender's ODS code is missing"));
  } else {
    CheckOdsCode(referral.sender_ods(), sender_path, "sender's ODS code", &issues);
  }

  const std::optional<CalendarDate> referral_date =
      CheckRequiredDate(referral.referral_date(), DatumPath(paths.referral_date, "referral.referral_date"),
                        "referral date", today, &issues);

  const v1::Person& person = referral.person();
  const DatumPath nhs_path(paths.nhs_number, "referral.person.nhs_number");
  if (person.nhs_number().empty()) {
    issues.push_back(Error(kMissingElement, nhs_path.Render(), "the NHS number is missing"));
  } else if (person.nhs_number().size() != 10 || !AllAsciiDigits(person.nhs_number())) {
    issues.push_back(Error(kInvalidNhsNumber, nhs_path.Render(), "the NHS number must be exactly 10 digits"));
  } else if (!IsValidNhsNumber(person.nhs_number())) {
    issues.push_back(Error(kInvalidNhsNumber, nhs_path.Render(), "the NHS number fails the Modulus 11 check"));
  }

  const DatumPath birth_path(paths.birth_date, "referral.person.birth_date");
  const std::optional<CalendarDate> birth_date =
      CheckRequiredDate(person.birth_date(), birth_path, "birth date", today, &issues);
  if (birth_date.has_value() && referral_date.has_value() && *birth_date > *referral_date) {
    issues.push_back(Error(kInvalidValue, birth_path.Render(), "the birth date is after the referral date"));
  }

  if (!person.registered_practice_ods().empty()) {
    CheckOdsCode(person.registered_practice_ods(),
                 DatumPath(paths.registered_practice_ods, "referral.person.registered_practice_ods"),
                 "registered practice's ODS code", &issues);
  }

  for (int i = 0; i < referral.reasons_size(); ++i) {
    const v1::Coding& reason = referral.reasons(i);
    if (reason.system() != kSnomedSystem) continue;  // Not a reason; never checked.
    if (!IsWellFormedSnomedConceptId(reason.code())) {
      issues.push_back(Error(kInvalidValue, DatumPath(paths.reasons, i, "reasons", "code").Render(),
                             "the reason code is not a well-formed SNOMED CT concept id"));
    }
  }

  for (int i = 0; i < referral.consents_size(); ++i) {
    const v1::Consent& consent = referral.consents(i);
    CheckOptionalDate(consent.date(), DatumPath(paths.consent_dates, i, "consents", "date"), "consent date", &issues);
    CheckOptionalDate(consent.period_start(), DatumPath(paths.consent_starts, i, "consents", "period_start"),
                      "consent period start", &issues);
    CheckOptionalDate(consent.period_end(), DatumPath(paths.consent_ends, i, "consents", "period_end"),
                      "consent period end", &issues);
  }

  return issues;
}

bool HasErrors(const std::vector<Issue>& issues) {
  for (const Issue& issue : issues) {
    if (issue.severity() == Issue::ERROR) return true;
  }
  return false;
}

bool IsValidNhsNumber(std::string_view nhs_number) {
  if (nhs_number.size() != 10 || !AllAsciiDigits(nhs_number)) return false;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (nhs_number[i] - '0') * (10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  if (check == 10) return false;
  return check == nhs_number[9] - '0';
}

bool IsWellFormedOdsCode(std::string_view ods_code) {
  if (ods_code.size() < 3 || ods_code.size() > 6) return false;
  for (char c : ods_code) {
    if (!IsAsciiUpper(c) && !IsAsciiDigit(c)) return false;
  }
  return true;
}

bool IsWellFormedSnomedConceptId(std::string_view sctid) {
  if (sctid.size() < 6 || sctid.size() > 18 || !AllAsciiDigits(sctid)) return false;
  if (sctid.front() == '0') return false;
  // The partition identifier: the two digits before the check digit. 00 is a concept id in the
  // international short format, 10 one in the long (namespace) format; 01/11 are description
  // ids and 02/12 relationship ids, never concepts.
  const std::string_view partition = sctid.substr(sctid.size() - 3, 2);
  if (partition != "00" && partition != "10") return false;
  return VerhoeffCheck(sctid);
}

bool VerhoeffCheck(std::string_view digits) {
  if (digits.empty() || !AllAsciiDigits(digits)) return false;
  int c = 0;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    const int digit = digits[n - 1 - i] - '0';
    c = kVerhoeffD[c][kVerhoeffP[i % 8][digit]];
  }
  return c == 0;
}

}  // namespace frontdoor::adapters
