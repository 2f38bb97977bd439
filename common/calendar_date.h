// Calendar dates without time zones: how IG-RULES.md and ROUTING.md judge a referral (consent in
// force, age in whole years) on its referral date, so the same message always gets the same answer.
//
//   std::optional<CalendarDate> born = CalendarDate::Parse("1960-02-29");
//   std::optional<CalendarDate> on = CalendarDate::Parse("2025-03-01");
//   int age = WholeYearsBetween(*born, *on);  // 65: a 29 February birthday falls on 1 March.
#ifndef FRONTDOOR_COMMON_CALENDAR_DATE_H_
#define FRONTDOOR_COMMON_CALENDAR_DATE_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace frontdoor {

struct CalendarDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31

  // Parses exactly `YYYY-MM-DD` (years 0001..9999) naming a real day (29 February only in leap
  // years). Returns nullopt for anything else: partial dates, times, impossible days.
  static std::optional<CalendarDate> Parse(std::string_view text);
  // Parses exactly `YYYYMMDD`, as HL7 v2 DTM/TS fields begin. nullopt as for Parse.
  static std::optional<CalendarDate> ParseCompact(std::string_view text);
  // The UTC calendar date of a Unix time in seconds.
  static CalendarDate FromUnixSeconds(int64_t unix_seconds);
  // Returns the date if it names a real day, else nullopt.
  static std::optional<CalendarDate> FromYmd(int year, int month, int day);

  std::string ToString() const;  // YYYY-MM-DD

  friend auto operator<=>(const CalendarDate&, const CalendarDate&) = default;
  friend bool operator==(const CalendarDate&, const CalendarDate&) = default;
};

bool IsLeapYear(int year);

// Age in whole years on `on` of someone born on `born` (0 if `on` is before `born`). A person born
// on 29 February turns a year older on 1 March in a non-leap year.
int WholeYearsBetween(const CalendarDate& born, const CalendarDate& on);

}  // namespace frontdoor

#endif  // FRONTDOOR_COMMON_CALENDAR_DATE_H_
