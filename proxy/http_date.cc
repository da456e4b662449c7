#include "proxy/http_date.h"

#include <cstdio>
#include <ctime>

namespace strata::http {
namespace {

constexpr const char* kDayNames[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDayNames[7] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr const char* kMonthNames[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A cursor over the input; every Take* consumes exactly what the grammar says.
struct Cursor {
  std::string_view s;
  size_t pos = 0;

  bool Literal(std::string_view lit) {
    if (s.substr(pos, lit.size()) != lit) return false;
    pos += lit.size();
    return true;
  }
  // Exactly n DIGITs.
  bool Digits(size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos += n;
    *out = v;
    return true;
  }
  bool OneOf(const char* const* names, int count, int* index) {
    for (int i = 0; i < count; ++i) {
      if (Literal(names[i])) {
        *index = i;
        return true;
      }
    }
    return false;
  }
  bool AtEnd() const { return pos == s.size(); }
};

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t year, int month0) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month0 == 1 && IsLeap(year) ? 29 : kDays[month0];
}

// time-of-day = hour ":" minute ":" second; 00:00:00 - 23:59:60 (leap second).
bool TimeOfDay(Cursor* c, int* h, int* m, int* sec) {
  return c->Digits(2, h) && c->Literal(":") && c->Digits(2, m) && c->Literal(":") && c->Digits(2, sec) && *h <= 23 &&
         *m <= 59 && *sec <= 60;
}

bool Assemble(int64_t year, int month0, int day, int h, int m, int sec, int64_t* out) {
  if (year < 1 || year > 9999 || day < 1 || day > DaysInMonth(year, month0)) return false;
  *out = DaysFromCivil(year, month0 + 1, day) * 86400 + h * 3600 + m * 60 + sec;
  return true;
}

// IMF-fixdate = day-name "," SP day SP month SP year SP time-of-day SP "GMT"
bool ParseImfFixdate(std::string_view s, int64_t* out) {
  Cursor c{s};
  int wday, day, month, year, h, m, sec;
  if (!c.OneOf(kDayNames, 7, &wday) || !c.Literal(", ") || !c.Digits(2, &day) || !c.Literal(" ") ||
      !c.OneOf(kMonthNames, 12, &month) || !c.Literal(" ") || !c.Digits(4, &year) || !c.Literal(" ") ||
      !TimeOfDay(&c, &h, &m, &sec) || !c.Literal(" GMT") || !c.AtEnd())
    return false;
  return Assemble(year, month, day, h, m, sec, out);
}

// rfc850-date = day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP GMT
bool ParseRfc850(std::string_view s, int64_t* out, int64_t now) {
  Cursor c{s};
  int wday, day, month, yy, h, m, sec;
  if (!c.OneOf(kLongDayNames, 7, &wday) || !c.Literal(", ") || !c.Digits(2, &day) || !c.Literal("-") ||
      !c.OneOf(kMonthNames, 12, &month) || !c.Literal("-") || !c.Digits(2, &yy) || !c.Literal(" ") ||
      !TimeOfDay(&c, &h, &m, &sec) || !c.Literal(" GMT") || !c.AtEnd())
    return false;
  // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means
  // the most recent past year with the same last two digits.
  std::time_t now_t = static_cast<std::time_t>(now);
  std::tm now_tm{};
  gmtime_r(&now_t, &now_tm);
  int64_t current_year = now_tm.tm_year + 1900;
  int64_t year = current_year - current_year % 100 + yy;
  if (year > current_year + 50) year -= 100;
  // Compare whole timestamps, not only years, near the boundary.
  int64_t t;
  if (!Assemble(year, month, day, h, m, sec, &t)) return false;
  if (t > now + int64_t{50} * 365 * 86400 + 12 * 86400) {  // 50 years incl. leap days
    if (!Assemble(year - 100, month, day, h, m, sec, &t)) return false;
  }
  *out = t;
  return true;
}

// asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year
bool ParseAsctime(std::string_view s, int64_t* out) {
  Cursor c{s};
  int wday, day, month, year, h, m, sec;
  if (!c.OneOf(kDayNames, 7, &wday) || !c.Literal(" ") || !c.OneOf(kMonthNames, 12, &month) || !c.Literal(" "))
    return false;
  if (c.Literal(" ")) {
    if (!c.Digits(1, &day)) return false;
  } else if (!c.Digits(2, &day)) {
    return false;
  }
  if (!c.Literal(" ") || !TimeOfDay(&c, &h, &m, &sec) || !c.Literal(" ") || !c.Digits(4, &year) || !c.AtEnd())
    return false;
  return Assemble(year, month, day, h, m, sec, out);
}

}  // namespace

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseHttpDate(std::string_view s, int64_t* out, int64_t now) {
  if (s.size() < 24 || s.size() > 33) return false;  // shortest: asctime (24); longest: RFC 850 Wednesday
  if (s[3] == ',') return ParseImfFixdate(s, out);
  if (s[3] == ' ') return ParseAsctime(s, out);
  return ParseRfc850(s, out, now);
}

bool ParseHttpDate(std::string_view s, int64_t* out) { return ParseHttpDate(s, out, std::time(nullptr)); }

std::string FormatHttpDate(int64_t t) {
  if (t < 0) t = 0;
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDayNames[tm.tm_wday], tm.tm_mday,
                kMonthNames[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace strata::http
