#include "proxy/http_date.h"

#include <gtest/gtest.h>

namespace strata::http {
namespace {

constexpr int64_t k1994 = 784111777;      // Sun, 06 Nov 1994 08:49:37 GMT
constexpr int64_t kNow2024 = 1704067200;  // 2024-01-01T00:00:00Z

bool Parse(std::string_view s, int64_t* t) { return ParseHttpDate(s, t, kNow2024); }

TEST(HttpDate, Rfc9110_5_6_7_ImfFixdate) {
  int64_t t = 0;
  ASSERT_TRUE(Parse("Sun, 06 Nov 1994 08:49:37 GMT", &t));
  EXPECT_EQ(t, k1994);
  ASSERT_TRUE(Parse("Thu, 01 Jan 1970 00:00:00 GMT", &t));
  EXPECT_EQ(t, 0);
  ASSERT_TRUE(Parse("Thu, 18 Aug 2050 02:01:18 GMT", &t));
  EXPECT_EQ(t, 2544400878);
}

TEST(HttpDate, Rfc9110_5_6_7_Rfc850Accepted) {
  int64_t t = 0;
  ASSERT_TRUE(Parse("Sunday, 06-Nov-94 08:49:37 GMT", &t));
  EXPECT_EQ(t, k1994);
  ASSERT_TRUE(Parse("Wednesday, 09-Nov-94 08:49:37 GMT", &t));
}

TEST(HttpDate, Rfc9110_5_6_7_Rfc850FiftyYearRule) {
  int64_t t = 0;
  // In 2024, "73" would be 2073 (49 years ahead): kept.
  ASSERT_TRUE(Parse("Sunday, 01-Jan-73 00:00:00 GMT", &t));
  EXPECT_EQ(t, DaysFromCivil(2073, 1, 1) * 86400);
  // "80" would be 2080 (56 years ahead): means 1980.
  ASSERT_TRUE(Parse("Tuesday, 01-Jan-80 00:00:00 GMT", &t));
  EXPECT_EQ(t, DaysFromCivil(1980, 1, 1) * 86400);
  ASSERT_TRUE(Parse("Monday, 01-Jan-24 00:00:00 GMT", &t));
  EXPECT_EQ(t, kNow2024);
}

TEST(HttpDate, Rfc9110_5_6_7_AsctimeAccepted) {
  int64_t t = 0;
  ASSERT_TRUE(Parse("Sun Nov  6 08:49:37 1994", &t));
  EXPECT_EQ(t, k1994);
  ASSERT_TRUE(Parse("Sun Nov 16 08:49:37 1994", &t));
  EXPECT_EQ(t, k1994 + 10 * 86400);
  EXPECT_FALSE(Parse("Sun Nov 6 08:49:37 1994", &t));  // single space before 1 digit
  EXPECT_FALSE(Parse("Sun Nov 06 08:49:37 94", &t));
}

TEST(HttpDate, Rfc9110_5_6_7_CaseSensitive) {
  int64_t t = 0;
  EXPECT_FALSE(Parse("THU, 18 Aug 2050 02:01:18 GMT", &t));
  EXPECT_FALSE(Parse("Thu, 18 AUG 2050 02:01:18 GMT", &t));
  EXPECT_FALSE(Parse("Thu, 18 Aug 2050 02:01:18 gMT", &t));
  EXPECT_FALSE(Parse("sunday, 06-Nov-94 08:49:37 GMT", &t));
}

TEST(HttpDate, Rfc9110_5_6_7_RejectsOtherForms) {
  int64_t t = 0;
  for (const char* bad :
       {"", "0", "-1", "1700000000", "Thu, 18 Aug 2050 02:01:18 UTC", "Thu, 18 Aug 50 02:01:18 GMT",
        "Thu 18 Aug 2050 02:01:18 GMT", "Thu, 18  Aug  2050 02:01:18 GMT", "Thu, 18-Aug-2050 02:01:18 GMT",
        "Thu, 18 Aug 2050 02.01.18 GMT", "Thu, 18 Aug 2050 2:01:18 GMT", "Thu, 18 Aug 2050 02:01:18 +0000",
        " Thu, 18 Aug 2050 02:01:18 GMT", "Thu, 18 Aug 2050 02:01:18 GMT ", "Thu, 18 Aug 2050 02:01:18 GMTX",
        "Xyz, 18 Aug 2050 02:01:18 GMT", "Sun, 06 Nov 1994 08:49:37 GMT, Sun"}) {
    EXPECT_FALSE(Parse(bad, &t)) << bad;
  }
}

TEST(HttpDate, Rfc9110_5_6_7_RangeChecks) {
  int64_t t = 0;
  EXPECT_FALSE(Parse("Sun, 06 Nov 1994 24:00:00 GMT", &t));
  EXPECT_FALSE(Parse("Sun, 06 Nov 1994 08:60:00 GMT", &t));
  EXPECT_FALSE(Parse("Sun, 06 Nov 1994 08:00:61 GMT", &t));
  EXPECT_TRUE(Parse("Sat, 31 Dec 2016 23:59:60 GMT", &t));  // leap second
  EXPECT_FALSE(Parse("Sun, 31 Nov 1994 08:49:37 GMT", &t));
  EXPECT_FALSE(Parse("Sun, 00 Nov 1994 08:49:37 GMT", &t));
  EXPECT_FALSE(Parse("Mon, 29 Feb 2100 00:00:00 GMT", &t));
  EXPECT_TRUE(Parse("Tue, 29 Feb 2000 00:00:00 GMT", &t));
  EXPECT_FALSE(Parse("Sun, 06 Nov 0000 08:49:37 GMT", &t));
}

TEST(HttpDate, Rfc9110_5_6_7_FormatImfFixdate) {
  EXPECT_EQ(FormatHttpDate(k1994), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(-5), "Thu, 01 Jan 1970 00:00:00 GMT");
  int64_t t = 0;
  for (int64_t v : {int64_t{0}, k1994, kNow2024, int64_t{2544400878}, int64_t{951782400}}) {
    ASSERT_TRUE(ParseHttpDate(FormatHttpDate(v), &t));
    EXPECT_EQ(t, v);
  }
}

TEST(HttpDate, DefaultNowOverload) {
  int64_t t = 0;
  EXPECT_TRUE(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", &t));
  EXPECT_EQ(t, k1994);
}

}  // namespace
}  // namespace strata::http
