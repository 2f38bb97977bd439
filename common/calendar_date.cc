#include "common/calendar_date.h"

#include <cstdio>

namespace frontdoor {
namespace {

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

// Reads `count` ASCII digits; false if any is not a digit.
bool ReadDigits(std::string_view text, size_t pos, size_t count, int* out) {
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *out = value;
  return true;
}

}  // namespace

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

std::optional<CalendarDate> CalendarDate::FromYmd(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return std::nullopt;
  if (day > DaysInMonth(year, month)) return std::nullopt;
  return CalendarDate{year, month, day};
}

std::optional<CalendarDate> CalendarDate::Parse(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y, m, d;
  if (!ReadDigits(text, 0, 4, &y) || !ReadDigits(text, 5, 2, &m) || !ReadDigits(text, 8, 2, &d)) {
    return std::nullopt;
  }
  return FromYmd(y, m, d);
}

std::optional<CalendarDate> CalendarDate::ParseCompact(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  int y, m, d;
  if (!ReadDigits(text, 0, 4, &y) || !ReadDigits(text, 4, 2, &m) || !ReadDigits(text, 6, 2, &d)) {
    return std::nullopt;
  }
  return FromYmd(y, m, d);
}

CalendarDate CalendarDate::FromUnixSeconds(int64_t unix_seconds) {
  // Howard Hinnant's civil_from_days.
  int64_t days = unix_seconds / 86400;
  if (unix_seconds % 86400 < 0) --days;
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
  return CalendarDate{y, m, d};
}

std::string CalendarDate::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

int WholeYearsBetween(const CalendarDate& born, const CalendarDate& on) {
  if (on < born) return 0;
  int years = on.year - born.year;
  // Comparing (month, day) pairs makes a 29 February birthday fall on 1 March in non-leap years.
  if (on.month < born.month || (on.month == born.month && on.day < born.day)) --years;
  return years;
}

}  // namespace frontdoor
