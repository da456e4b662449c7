#include "proxy/cache_control.h"

#include <gtest/gtest.h>

namespace strata::http {
namespace {

CacheControl Parse(std::string_view v) {
  CacheControl cc;
  ParseCacheControlValue(v, &cc);
  return cc;
}

TEST(CacheControl, Rfc9111_1_2_2_DeltaSeconds) {
  int64_t v = 0;
  EXPECT_TRUE(ParseDeltaSeconds("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseDeltaSeconds("003600", &v));
  EXPECT_EQ(v, 3600);
  EXPECT_TRUE(ParseDeltaSeconds("2147483648", &v));
  EXPECT_EQ(v, kDeltaSecondsInfinity);
  EXPECT_TRUE(ParseDeltaSeconds("99999999999999999999999999", &v));
  EXPECT_EQ(v, kDeltaSecondsInfinity);
  for (const char* bad : {"", "-1", "+1", "1.5", "3600.0", "a3600", "3600a", " 1", "1 "})
    EXPECT_FALSE(ParseDeltaSeconds(bad, &v)) << bad;
}

TEST(CacheControl, Rfc9111_5_2_CaseInsensitiveNames) {
  CacheControl cc = Parse("MAX-AGE=60, No-Store, PUBLIC, S-MaxAge=5");
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 5);
  EXPECT_TRUE(cc.no_store);
  EXPECT_TRUE(cc.is_public);
}

TEST(CacheControl, Rfc9111_5_2_QuotedArgumentAccepted) {
  EXPECT_EQ(Parse("max-age=\"3600\"").max_age, 3600);
  EXPECT_FALSE(Parse("max-age=\"3600\"").max_age_invalid);
  // Single quotes are not quoting in HTTP.
  CacheControl cc = Parse("max-age='3600'");
  EXPECT_TRUE(cc.max_age_invalid);
  EXPECT_FALSE(cc.max_age);
}

TEST(CacheControl, Rfc9111_5_2_CommaInsideQuotedString) {
  CacheControl cc = Parse("extension=\"max-age=3600, public\", max-age=1");
  EXPECT_EQ(cc.max_age, 1);
  EXPECT_FALSE(cc.is_public);
  cc = Parse("max-age=1, extension=\"max-age=3600\"");
  EXPECT_EQ(cc.max_age, 1);
  cc = Parse("ext=\"a\\\"b,c\", no-store");
  EXPECT_TRUE(cc.no_store);
}

TEST(CacheControl, Rfc9111_4_2_1_InvalidMaxAgeIsStale) {
  for (const char* v : {"max-age=abc", "max-age=a3600", "max-age=3600a", "max-age=3600.0", "max-age=-1",
                        "max-age=", "max-age", "max-age =3600", "max-age= 3600", "max-age=1 2"}) {
    CacheControl cc = Parse(v);
    EXPECT_TRUE(cc.max_age_invalid) << v;
    EXPECT_TRUE(cc.HasMaxAge()) << v;
    EXPECT_FALSE(cc.max_age) << v;
  }
  EXPECT_TRUE(Parse("s-maxage=x").s_maxage_invalid);
}

TEST(CacheControl, Rfc9111_4_2_1_DuplicateDirectives) {
  // Same value repeated: harmless.
  EXPECT_EQ(Parse("max-age=10, max-age=10").max_age, 10);
  // Conflicting values, same line or separate lines: stale.
  EXPECT_TRUE(Parse("max-age=1800, max-age=1").max_age_invalid);
  std::vector<Field> fields = {{"Cache-Control", "max-age=1"}, {"cache-control", "max-age=1800"}};
  CacheControl cc = ParseCacheControl(fields);
  EXPECT_TRUE(cc.max_age_invalid);
  // An invalid occurrence poisons the directive even if a valid one follows.
  EXPECT_TRUE(Parse("max-age=x, max-age=5").max_age_invalid);
  // Most restrictive for the others.
  cc = Parse("stale-while-revalidate=10, stale-while-revalidate=5, stale-if-error=9, stale-if-error=30");
  EXPECT_EQ(cc.stale_while_revalidate, 5);
  EXPECT_EQ(cc.stale_if_error, 9);
  cc = Parse("min-fresh=5, min-fresh=20, max-stale, max-stale=7, max-stale=9");
  EXPECT_EQ(cc.min_fresh, 20);
  EXPECT_EQ(cc.max_stale, 7);
}

TEST(CacheControl, Rfc9111_5_3_MultipleFieldLinesCombined) {
  std::vector<Field> fields = {
      {"Cache-Control", "public"}, {"Content-Type", "text/plain"}, {"CACHE-CONTROL", "max-age=5, no-transform"}};
  CacheControl cc = ParseCacheControl(fields);
  EXPECT_TRUE(cc.present);
  EXPECT_TRUE(cc.is_public);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_EQ(cc.max_age, 5);
  EXPECT_FALSE(ParseCacheControl(std::vector<Field>{{"Pragma", "no-cache"}}).present);
}

TEST(CacheControl, Rfc9111_1_2_2_HugeDeltaSecondsSaturate) {
  EXPECT_EQ(Parse("max-age=99999999999").max_age, kDeltaSecondsInfinity);
  EXPECT_EQ(Parse("s-maxage=2147483649").s_maxage, kDeltaSecondsInfinity);
}

TEST(CacheControl, Rfc9111_5_2_2_4_NoCacheQualified) {
  CacheControl cc = Parse("no-cache=\"Set-Cookie, X-Foo\"");
  EXPECT_FALSE(cc.no_cache);
  EXPECT_EQ(cc.no_cache_fields, (std::vector<std::string>{"set-cookie", "x-foo"}));
  cc = Parse("no-cache=Set-Cookie");  // token form accepted too
  EXPECT_EQ(cc.no_cache_fields, std::vector<std::string>{"set-cookie"});
  EXPECT_TRUE(Parse("no-cache").no_cache);
  EXPECT_TRUE(Parse("no-cache=\"\"").no_cache);  // empty list: restrictive reading
}

TEST(CacheControl, Rfc9111_5_2_2_7_PrivateQualified) {
  CacheControl cc = Parse("private=\"Authorization-Info\", max-age=60");
  EXPECT_FALSE(cc.is_private);
  EXPECT_EQ(cc.private_fields, std::vector<std::string>{"authorization-info"});
  EXPECT_TRUE(Parse("PRIVATE").is_private);
}

TEST(CacheControl, Rfc9111_5_2_1_RequestDirectives) {
  CacheControl cc = Parse("max-stale, min-fresh=10, only-if-cached, no-cache, no-store, max-age=0");
  EXPECT_TRUE(cc.max_stale_any);
  EXPECT_FALSE(cc.max_stale);
  EXPECT_EQ(cc.min_fresh, 10);
  EXPECT_TRUE(cc.only_if_cached);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_TRUE(cc.no_store);
  EXPECT_EQ(cc.max_age, 0);
  cc = Parse("max-stale=60");
  EXPECT_EQ(cc.max_stale, 60);
  EXPECT_FALSE(cc.max_stale_any);
  EXPECT_FALSE(Parse("max-stale=abc").max_stale);
  EXPECT_FALSE(Parse("min-fresh=abc").min_fresh);
}

TEST(CacheControl, Rfc9111_5_2_2_ResponseDirectives) {
  CacheControl cc = Parse(
      "must-revalidate, proxy-revalidate, must-understand, no-transform, immutable, "
      "stale-while-revalidate=30, stale-if-error=60");
  EXPECT_TRUE(cc.must_revalidate);
  EXPECT_TRUE(cc.proxy_revalidate);
  EXPECT_TRUE(cc.must_understand);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_TRUE(cc.immutable);
  EXPECT_EQ(cc.stale_while_revalidate, 30);
  EXPECT_EQ(cc.stale_if_error, 60);
}

TEST(CacheControl, Rfc9111_5_2_3_UnknownDirectivesIgnored) {
  CacheControl cc = Parse("foo, bar=baz, qux=\"q\", max-age=5, , ,");
  EXPECT_EQ(cc.max_age, 5);
  EXPECT_FALSE(cc.no_store);
}

TEST(CacheControl, Rfc9111_5_2_ArgumentOnArgumentlessDirective) {
  EXPECT_TRUE(Parse("no-store=1").no_store);  // restrictive: honoured
  EXPECT_TRUE(Parse("must-revalidate=x").must_revalidate);
  EXPECT_FALSE(Parse("public=yes").is_public);  // permissive: ignored
  EXPECT_FALSE(Parse("immutable=1").immutable);
  EXPECT_FALSE(Parse("no-store junk").no_store);  // malformed element: ignored
}

TEST(CacheControl, Rfc9213_2_1_TargetedDictionary) {
  std::vector<Field> fields = {{"CDN-Cache-Control", "max-age=3600, no-transform"}, {"Cache-Control", "no-store"}};
  CacheControl cc;
  ASSERT_TRUE(ParseTargetedCacheControl(fields, kCdnCacheControl, &cc));
  EXPECT_EQ(cc.max_age, 3600);
  EXPECT_TRUE(cc.no_transform);
  EXPECT_FALSE(cc.no_store);
  EXPECT_FALSE(ParseTargetedCacheControl(fields, kStrataCacheControl, &cc));
}

TEST(CacheControl, Rfc9213_2_1_InvalidTargetedFieldIgnored) {
  for (const char* bad : {"max-age=10000, &&&&&", "MaX-aGe=3600", "max-age=10,", "", "max-age =1",
                          "max-age=\"unterminated", "a=(1 2", "max-age=1;", "max-age=1.2345"}) {
    std::vector<Field> fields = {{"CDN-Cache-Control", bad}};
    CacheControl cc;
    EXPECT_FALSE(ParseTargetedCacheControl(fields, kCdnCacheControl, &cc)) << bad;
  }
}

TEST(CacheControl, Rfc9213_2_1_WrongTypeDirectiveIgnored) {
  CacheControl cc;
  std::vector<Field> fields = {{"CDN-Cache-Control", "max-age=\"10000\", s-maxage=1.5, no-store=3, public=?0"}};
  ASSERT_TRUE(ParseTargetedCacheControl(fields, kCdnCacheControl, &cc));
  EXPECT_FALSE(cc.max_age);
  EXPECT_FALSE(cc.max_age_invalid);
  EXPECT_FALSE(cc.s_maxage);
  EXPECT_FALSE(cc.no_store);
  EXPECT_FALSE(cc.is_public);
  fields = {{"CDN-Cache-Control", "max-age=-5, private=\"set-cookie\", no-cache, none;p=1, x=(a b);q"}};
  ASSERT_TRUE(ParseTargetedCacheControl(fields, kCdnCacheControl, &cc));
  EXPECT_FALSE(cc.max_age);
  EXPECT_EQ(cc.private_fields, std::vector<std::string>{"set-cookie"});
  EXPECT_TRUE(cc.no_cache);
}

TEST(CacheControl, Rfc9213_2_1_LastDuplicateKeyWins) {
  CacheControl cc;
  std::vector<Field> fields = {{"CDN-Cache-Control", "max-age=10"}, {"CDN-Cache-Control", "max-age=99999999999"}};
  ASSERT_TRUE(ParseTargetedCacheControl(fields, kCdnCacheControl, &cc));
  EXPECT_EQ(cc.max_age, kDeltaSecondsInfinity);
}

TEST(CacheControl, Rfc9213_2_2_TargetListPrecedence) {
  bool targeted = false;
  std::vector<Field> fields = {
      {"Cache-Control", "max-age=1"}, {"CDN-Cache-Control", "max-age=20"}, {"Strata-Cache-Control", "max-age=300"}};
  EXPECT_EQ(EffectiveResponseCacheControl(fields, &targeted).max_age, 300);
  EXPECT_TRUE(targeted);
  fields[2].value = "&&";  // invalid: falls back to the next on the list
  EXPECT_EQ(EffectiveResponseCacheControl(fields, &targeted).max_age, 20);
  fields[1].value = "";  // empty: ignored too
  EXPECT_EQ(EffectiveResponseCacheControl(fields, &targeted).max_age, 1);
  EXPECT_FALSE(targeted);
  // "none" is a valid dictionary: it replaces Cache-Control entirely.
  fields = {{"Cache-Control", "no-store"}, {"CDN-Cache-Control", "none"}};
  CacheControl cc = EffectiveResponseCacheControl(fields, &targeted);
  EXPECT_TRUE(targeted);
  EXPECT_FALSE(cc.no_store);
}

}  // namespace
}  // namespace strata::http
