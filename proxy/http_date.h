// HTTP-date parsing and formatting (RFC 9110 §5.6.7).
//
// Recipients MUST accept all three formats: the preferred IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT") and the obsolete RFC 850
// ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994")
// forms. HTTP-date is case-sensitive and its grammar is exact, so parsing is
// strict: any other spelling (other case, extra spaces, missing comma, "UTC",
// a numeric zone, out-of-range fields, a day of month the month does not have)
// is invalid, and callers apply the rule of the field that carried it (e.g. an
// invalid Expires means "already expired", RFC 9111 §5.3). The day-name is
// checked to be a day name but not checked against the date: RFC 9110 gives
// no rule for a mismatch and the timestamp itself is unambiguous.
//
// Times are seconds since the Unix epoch (UTC). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::http {

// Parses `s` (no surrounding whitespace allowed; field values arrive trimmed)
// into seconds since the epoch. `now` resolves the two-digit year of the
// RFC 850 form: a year that would be more than 50 years in the future is
// taken as the most recent past year with those last two digits.
// Returns false for anything that is not an HTTP-date.
bool ParseHttpDate(std::string_view s, int64_t* out, int64_t now);
bool ParseHttpDate(std::string_view s, int64_t* out);  // now = current time

// Formats `t` as IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); times before
// 1970 are clamped to the epoch.
std::string FormatHttpDate(int64_t t);

// Days since 1970-01-01 for a proleptic Gregorian date (exposed for tests).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace strata::http
