#include "proxy/cache_policy.h"

#include <gtest/gtest.h>

#include "proxy/http_date.h"

namespace strata::http {
namespace {

constexpr int64_t kT = 1700000000;  // response time of the stored responses below
const PolicyOptions kOpts;

// Owns the fields behind a RequestInfo / ResponseInfo.
struct Msg {
  std::vector<StoredField> owned;
  std::vector<Field> views;
  Msg(std::initializer_list<StoredField> f) : owned(f), views(FieldViews(owned)) {}
};

RequestInfo Req(const Msg& m, std::string_view method = "GET") { return RequestInfo{method, m.views}; }
ResponseInfo Resp(const Msg& m, int status = 200, int64_t t = kT) { return ResponseInfo{status, m.views, t, t}; }
std::string D(int64_t t) { return FormatHttpDate(t); }

StoreDecision Store(const Msg& req, const Msg& resp, int status = 200, std::string_view method = "GET") {
  StoreDecision d;
  IsStorable(Req(req, method), Resp(resp, status), kOpts, &d);
  return d;
}

TEST(CachePolicy, Rfc9111_3_MethodMustBeGet) {
  Msg req{}, resp{{"Cache-Control", "max-age=60"}};
  EXPECT_TRUE(Store(req, resp).store);
  for (const char* m : {"HEAD", "POST", "PUT", "get", "OPTIONS"}) {
    StoreDecision d = Store(req, resp, 200, m);
    EXPECT_FALSE(d.store) << m;
    EXPECT_EQ(d.reason, StoreReason::kMethod);
  }
}

TEST(CachePolicy, Rfc9111_3_FinalUnderstoodStatus) {
  Msg req{}, resp{{"Cache-Control", "max-age=60"}};
  EXPECT_EQ(Store(req, resp, 100).reason, StoreReason::kStatus);
  EXPECT_EQ(Store(req, resp, 304).reason, StoreReason::kStatus);
  EXPECT_EQ(Store(req, resp, 206).reason, StoreReason::kPartial);
  EXPECT_EQ(Store(req, resp, 299).reason, StoreReason::kStatus);
  EXPECT_TRUE(Store(req, resp, 302).store);  // explicit freshness makes any understood code storable
  EXPECT_TRUE(Store(req, resp, 500).store);
}

TEST(CachePolicy, Rfc9111_5_2_2_5_NoStore) {
  Msg req{}, resp{{"Cache-Control", "max-age=60, no-store"}};
  EXPECT_EQ(Store(req, resp).reason, StoreReason::kNoStore);
  EXPECT_STREQ(StoreReasonName(StoreReason::kNoStore), "no-store");
  Msg req_ns{{"Cache-Control", "no-store"}}, ok{{"Cache-Control", "max-age=60"}};
  EXPECT_EQ(Store(req_ns, ok).reason, StoreReason::kRequestNoStore);
}

TEST(CachePolicy, Rfc9111_5_2_2_3_MustUnderstand) {
  Msg req{}, resp{{"Cache-Control", "max-age=60, no-store, must-understand"}};
  EXPECT_TRUE(Store(req, resp, 200).store);  // understood: no-store ignored
  EXPECT_EQ(Store(req, resp, 299).reason, StoreReason::kMustUnderstand);
}

TEST(CachePolicy, Rfc9111_5_2_2_7_PrivateInSharedCache) {
  Msg req{}, resp{{"Cache-Control", "private, max-age=60"}};
  EXPECT_EQ(Store(req, resp).reason, StoreReason::kPrivate);
  Msg qualified{{"Cache-Control", "private=\"Set-Cookie\", no-cache=\"X-A\", max-age=60"},
                {"Set-Cookie", "a=b"},
                {"X-A", "1"},
                {"Connection", "X-Hop"},
                {"X-Hop", "1"},
                {"Keep-Alive", "t=5"},
                {"Content-Type", "text/plain"}};
  StoreDecision d = Store(req, qualified);
  ASSERT_TRUE(d.store);
  EXPECT_EQ(d.strip_fields, (std::vector<std::string>{"set-cookie", "x-a"}));
  std::vector<StoredField> kept = FieldsToStore(qualified.views, d.strip_fields);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1].name, "Content-Type");
}

TEST(CachePolicy, Rfc9111_3_5_Authorization) {
  Msg req{{"Authorization", "Basic x"}};
  EXPECT_EQ(Store(req, Msg{{"Cache-Control", "max-age=60"}}).reason, StoreReason::kAuthorization);
  EXPECT_TRUE(Store(req, Msg{{"Cache-Control", "public"}}).store);
  EXPECT_TRUE(Store(req, Msg{{"Cache-Control", "s-maxage=60"}}).store);
  EXPECT_TRUE(Store(req, Msg{{"Cache-Control", "must-revalidate, max-age=5"}}).store);
}

TEST(CachePolicy, Rfc9111_3_NeedsFreshnessInformation) {
  Msg req{};
  EXPECT_EQ(Store(req, Msg{}, 302).reason, StoreReason::kNoFreshnessInfo);
  EXPECT_TRUE(Store(req, Msg{}, 200).store);  // heuristically cacheable
  EXPECT_TRUE(Store(req, Msg{}, 404).store);
  EXPECT_TRUE(Store(req, Msg{{"Expires", "0"}}, 302).store);
  EXPECT_TRUE(Store(req, Msg{{"Cache-Control", "public"}}, 307).store);
  EXPECT_TRUE(Store(req, Msg{{"Cache-Control", "max-age=abc"}}, 302).store);  // stored, but stale
}

TEST(CachePolicy, Rfc9111_4_1_VaryStarStorableNeverMatches) {
  StoreDecision d = Store(Msg{}, Msg{{"Cache-Control", "max-age=60"}, {"Vary", "Accept, *"}});
  EXPECT_TRUE(d.store);
  EXPECT_TRUE(d.vary_star);
}

TEST(CachePolicy, Rfc9111_5_2_2_4_NoCacheStorableMustValidate) {
  StoreDecision d = Store(Msg{}, Msg{{"Cache-Control", "no-cache, max-age=60"}});
  EXPECT_TRUE(d.store);
  EXPECT_TRUE(d.must_validate);
}

TEST(CachePolicy, Rfc9213_2_2_TargetedFieldDecidesStoring) {
  EXPECT_EQ(Store(Msg{}, Msg{{"Cache-Control", "max-age=60"}, {"CDN-Cache-Control", "no-store"}}).reason,
            StoreReason::kNoStore);
  StoreDecision d = Store(Msg{}, Msg{{"Cache-Control", "no-store"}, {"CDN-Cache-Control", "max-age=60"}});
  EXPECT_TRUE(d.store);
  EXPECT_TRUE(d.targeted);
  EXPECT_EQ(Store(Msg{}, Msg{{"CDN-Cache-Control", "private"}, {"Cache-Control", "max-age=60"}}).reason,
            StoreReason::kPrivate);
  // Expires is ignored under a targeted field.
  EXPECT_EQ(Store(Msg{}, Msg{{"CDN-Cache-Control", "none"}, {"Expires", D(kT + 60)}}, 302).reason,
            StoreReason::kNoFreshnessInfo);
}

int64_t Lifetime(const Msg& m, int status = 200) { return FreshnessLifetime(Resp(m, status), kOpts).lifetime; }

TEST(CachePolicy, Rfc9111_4_2_1_FreshnessLifetimeOrder) {
  EXPECT_EQ(Lifetime(Msg{{"Cache-Control", "max-age=60, s-maxage=10"}}), 10);
  EXPECT_EQ(Lifetime(Msg{{"Cache-Control", "max-age=60"}, {"Expires", D(kT + 1000)}, {"Date", D(kT)}}), 60);
  EXPECT_EQ(Lifetime(Msg{{"Expires", D(kT + 1000)}, {"Date", D(kT)}}), 1000);
  EXPECT_EQ(Lifetime(Msg{{"Expires", D(kT - 1000)}, {"Date", D(kT)}}), 0);
  // No Date: response time stands in for it.
  EXPECT_EQ(Lifetime(Msg{{"Expires", D(kT + 500)}}), 500);
  EXPECT_EQ(Lifetime(Msg{{"Expires", D(kT + 500)}, {"Date", "garbage"}}), 500);
}

TEST(CachePolicy, Rfc9111_4_2_1_InvalidOrConflictingIsStale) {
  EXPECT_EQ(Lifetime(Msg{{"Cache-Control", "max-age=abc"}, {"Expires", D(kT + 1000)}}), 0);
  EXPECT_EQ(Lifetime(Msg{{"Cache-Control", "max-age=1800, max-age=1"}}), 0);
  EXPECT_EQ(Lifetime(Msg{{"Cache-Control", "max-age=\"60\""}}), 60);
  EXPECT_EQ(Lifetime(Msg{{"Expires", D(kT + 100)}, {"Expires", D(kT + 200)}}), 0);
  EXPECT_EQ(Lifetime(Msg{{"Expires", D(kT + 100)}, {"Expires", D(kT + 100)}}), 100);
}

TEST(CachePolicy, Rfc9111_5_3_InvalidExpiresIsExpired) {
  for (const char* v : {"0", "-1", "", "Thu, 01 Dec 1994", "tomorrow"})
    EXPECT_EQ(Lifetime(Msg{{"Expires", v}, {"Last-Modified", D(kT - 100000)}}), 0) << v;
}

TEST(CachePolicy, Rfc9111_4_2_2_HeuristicFreshness) {
  Msg m{{"Date", D(kT)}, {"Last-Modified", D(kT - 10000)}};
  Freshness f = FreshnessLifetime(Resp(m), kOpts);
  EXPECT_EQ(f.lifetime, 1000);
  EXPECT_TRUE(f.heuristic);
  EXPECT_EQ(Lifetime(Msg{{"Date", D(kT)}, {"Last-Modified", D(kT - 100 * 86400)}}), 86400);  // capped
  EXPECT_EQ(Lifetime(Msg{{"Date", D(kT)}}), 0);  // no Last-Modified: nothing to base it on
  EXPECT_EQ(Lifetime(Msg{{"Date", D(kT)}, {"Last-Modified", D(kT + 50)}}), 0);          // LM in the future
  EXPECT_EQ(Lifetime(Msg{{"Date", D(kT)}, {"Last-Modified", D(kT - 10000)}}, 302), 0);  // not heuristic
  EXPECT_EQ(Lifetime(Msg{{"Date", D(kT)}, {"Last-Modified", D(kT - 10000)}, {"Cache-Control", "public"}}, 302), 1000);
  PolicyOptions o;
  o.heuristic_fraction = 0.5;
  EXPECT_EQ(FreshnessLifetime(Resp(m), o).lifetime, 5000);
}

TEST(CachePolicy, Rfc9213_2_2_TargetedFreshness) {
  EXPECT_EQ(Lifetime(Msg{{"Cache-Control", "max-age=3600"}, {"CDN-Cache-Control", "max-age=1"}}), 1);
  EXPECT_EQ(Lifetime(Msg{{"CDN-Cache-Control", "max-age=3600"}, {"Expires", "0"}}), 3600);
  EXPECT_EQ(Lifetime(Msg{{"CDN-Cache-Control", "foo"}, {"Expires", D(kT + 100)}}), 0);
  PolicyOptions o;
  o.use_targeted_cache_control = false;
  Msg m{{"Cache-Control", "max-age=3600"}, {"CDN-Cache-Control", "max-age=1"}};
  EXPECT_EQ(FreshnessLifetime(Resp(m), o).lifetime, 3600);
}

TEST(CachePolicy, Rfc9111_4_2_3_AgeCalculation) {
  Msg m{{"Date", D(kT - 10)}, {"Age", "5"}};
  ResponseInfo r{200, m.views, kT - 2, kT};
  // apparent 10; corrected age value 5 + 2 = 7; initial 10; resident 30.
  EXPECT_EQ(CurrentAge(r, kT + 30), 40);
  Msg m2{{"Date", D(kT)}, {"Age", "100"}};
  ResponseInfo r2{200, m2.views, kT - 3, kT};
  EXPECT_EQ(CurrentAge(r2, kT), 103);
  // Date in the future: apparent age clamps at 0.
  Msg m3{{"Date", D(kT + 500)}};
  EXPECT_EQ(CurrentAge(Resp(m3), kT + 1), 1);
}

TEST(CachePolicy, Rfc9111_5_1_AgeParsing) {
  int64_t v = 0;
  EXPECT_TRUE(AgeValue(Msg{{"Age", "7200"}}.views, &v));
  EXPECT_EQ(v, 7200);
  EXPECT_TRUE(AgeValue(Msg{{"Age", "7200, 0"}}.views, &v));
  EXPECT_EQ(v, 7200);
  EXPECT_TRUE(AgeValue(Msg{{"Age", "0"}, {"Age", "7200"}}.views, &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(AgeValue(Msg{{"Age", "99999999999"}}.views, &v));
  EXPECT_EQ(v, kDeltaSecondsInfinity);
  for (const char* bad : {"abc", "-7200", "7200.0", "", "1e3"}) EXPECT_FALSE(AgeValue(Msg{{"Age", bad}}.views, &v));
  // An ignored Age does not age the response.
  Msg neg{{"Cache-Control", "max-age=3600"}, {"Age", "-7200"}};
  EXPECT_EQ(CurrentAge(Resp(neg), kT), 0);
}

Usability Use(const Msg& req, const Msg& stored, int64_t now, const PolicyOptions& o = kOpts) {
  return EvaluateStored(Req(req), Resp(stored), now, o).usability;
}

TEST(CachePolicy, Rfc9111_4_2_FreshVersusStale) {
  Msg s{{"Cache-Control", "max-age=60"}};
  Evaluation e = EvaluateStored(Req(Msg{}), Resp(s), kT + 10, kOpts);
  EXPECT_EQ(e.usability, Usability::kFresh);
  EXPECT_EQ(e.current_age, 10);
  EXPECT_EQ(e.ttl, 50);
  EXPECT_EQ(Use(Msg{}, s, kT + 60), Usability::kStaleMustRevalidate);
  EXPECT_EQ(Use(Msg{}, Msg{{"Cache-Control", "max-age=3600"}, {"Age", "7200"}}, kT), Usability::kStaleMustRevalidate);
  EXPECT_EQ(Use(Msg{}, Msg{{"Cache-Control", "max-age=0"}}, kT), Usability::kStaleMustRevalidate);
}

TEST(CachePolicy, Rfc9111_5_2_2_4_ResponseNoCacheAlwaysValidates) {
  EXPECT_EQ(Use(Msg{}, Msg{{"Cache-Control", "no-cache, max-age=3600"}}, kT), Usability::kMustValidate);
  // The qualified form does not force validation (the fields were stripped).
  EXPECT_EQ(Use(Msg{}, Msg{{"Cache-Control", "no-cache=\"set-cookie\", max-age=3600"}}, kT), Usability::kFresh);
}

TEST(CachePolicy, Rfc9111_5_2_1_4_RequestNoCacheAndPragma) {
  Msg s{{"Cache-Control", "max-age=3600"}};
  Evaluation e = EvaluateStored(Req(Msg{{"Cache-Control", "no-cache"}}), Resp(s), kT, kOpts);
  EXPECT_EQ(e.usability, Usability::kMustValidate);
  EXPECT_TRUE(e.forced_by_request);
  EXPECT_EQ(Use(Msg{{"Pragma", "no-cache"}}, s, kT), Usability::kMustValidate);
  EXPECT_EQ(Use(Msg{{"Pragma", "no-cache"}, {"Cache-Control", "max-stale"}}, s, kT), Usability::kFresh);
  PolicyOptions o;
  o.ignore_client_no_cache = true;
  EXPECT_EQ(Use(Msg{{"Cache-Control", "no-cache"}}, s, kT, o), Usability::kFresh);
}

TEST(CachePolicy, Rfc8246_ImmutableOnlyWithOptIn) {
  Msg s{{"Cache-Control", "max-age=3600, immutable"}};
  Msg reload{{"Cache-Control", "no-cache"}};
  EXPECT_EQ(Use(reload, s, kT), Usability::kMustValidate);
  PolicyOptions o;
  o.immutable_ignores_client_no_cache = true;
  EXPECT_EQ(Use(reload, s, kT, o), Usability::kFresh);
  EXPECT_EQ(Use(reload, s, kT + 4000, o), Usability::kMustValidate);  // stale: no effect
}

TEST(CachePolicy, Rfc9111_5_2_1_1_RequestMaxAge) {
  Msg s{{"Cache-Control", "max-age=3600"}};
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-age=0"}}, s, kT), Usability::kMustValidate);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-age=100"}}, s, kT + 100), Usability::kFresh);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-age=100"}}, s, kT + 101), Usability::kMustValidate);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-age=abc"}}, s, kT + 1), Usability::kMustValidate);
}

TEST(CachePolicy, Rfc9111_5_2_1_3_MinFresh) {
  Msg s{{"Cache-Control", "max-age=100"}};
  EXPECT_EQ(Use(Msg{{"Cache-Control", "min-fresh=50"}}, s, kT + 50), Usability::kFresh);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "min-fresh=50"}}, s, kT + 51), Usability::kMustValidate);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "min-fresh=5, max-stale"}}, s, kT + 200), Usability::kStaleMustRevalidate);
}

TEST(CachePolicy, Rfc9111_5_2_1_2_MaxStale) {
  Msg s{{"Cache-Control", "max-age=100"}};
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-stale"}}, s, kT + 100000), Usability::kStaleMayServe);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-stale=50"}}, s, kT + 150), Usability::kStaleMayServe);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-stale=50"}}, s, kT + 151), Usability::kStaleMustRevalidate);
  EXPECT_EQ(Use(Msg{{"Cache-Control", "max-stale=abc"}}, s, kT + 101), Usability::kStaleMustRevalidate);
}

TEST(CachePolicy, Rfc9111_4_2_4_RevalidateDirectivesForbidStale) {
  Msg req{{"Cache-Control", "max-stale"}};
  for (const char* cc : {"max-age=1, must-revalidate", "max-age=1, proxy-revalidate", "s-maxage=1"})
    EXPECT_EQ(Use(req, Msg{{"Cache-Control", cc}}, kT + 10), Usability::kStaleMustRevalidate) << cc;
}

TEST(CachePolicy, Rfc5861_3_StaleWhileRevalidate) {
  Msg s{{"Cache-Control", "max-age=10, stale-while-revalidate=20"}};
  EXPECT_EQ(Use(Msg{}, s, kT + 5), Usability::kFresh);
  EXPECT_EQ(Use(Msg{}, s, kT + 30), Usability::kStaleMayServeWhileRevalidate);
  EXPECT_EQ(Use(Msg{}, s, kT + 31), Usability::kStaleMustRevalidate);
  EXPECT_EQ(Use(Msg{}, Msg{{"Cache-Control", "s-maxage=10, stale-while-revalidate=20"}}, kT + 15),
            Usability::kStaleMayServeWhileRevalidate);
  EXPECT_EQ(Use(Msg{}, Msg{{"Cache-Control", "max-age=10, stale-while-revalidate=20, must-revalidate"}}, kT + 15),
            Usability::kStaleMustRevalidate);
  EXPECT_STREQ(UsabilityName(Usability::kStaleMayServeWhileRevalidate), "stale-while-revalidate");
}

TEST(CachePolicy, Rfc5861_4_StaleIfError) {
  Msg s{{"Cache-Control", "max-age=10, stale-if-error=60"}};
  EXPECT_TRUE(MayServeStaleOnError(Req(Msg{}), Resp(s), kT + 70, kOpts));
  EXPECT_FALSE(MayServeStaleOnError(Req(Msg{}), Resp(s), kT + 71, kOpts));
  Msg plain{{"Cache-Control", "max-age=10"}};
  EXPECT_FALSE(MayServeStaleOnError(Req(Msg{}), Resp(plain), kT + 20, kOpts));
  EXPECT_TRUE(MayServeStaleOnError(Req(Msg{{"Cache-Control", "stale-if-error=100"}}), Resp(plain), kT + 20, kOpts));
  Msg mr{{"Cache-Control", "max-age=10, stale-if-error=60, must-revalidate"}};
  EXPECT_FALSE(MayServeStaleOnError(Req(Msg{}), Resp(mr), kT + 20, kOpts));
  EXPECT_TRUE(IsStaleIfErrorStatus(503));
  EXPECT_FALSE(IsStaleIfErrorStatus(501));
}

TEST(CachePolicy, Rfc9111_5_2_1_7_OnlyIfCached) {
  Evaluation e = EvaluateStored(Req(Msg{{"Cache-Control", "only-if-cached"}}), Resp(Msg{}), kT, kOpts);
  EXPECT_TRUE(e.only_if_cached);
  EXPECT_FALSE(EvaluateStored(Req(Msg{}), Resp(Msg{}), kT, kOpts).only_if_cached);
}

TEST(CachePolicy, Rfc9111_4_1_VarySecondaryKey) {
  std::vector<std::string> names;
  ASSERT_TRUE(VaryFieldNames(Msg{{"Vary", "Accept-Language, X-Foo"}, {"vary", "accept-language"}}.views, &names));
  EXPECT_EQ(names, (std::vector<std::string>{"accept-language", "x-foo"}));
  std::vector<std::string> star;
  EXPECT_FALSE(VaryFieldNames(Msg{{"Vary", "*"}}.views, &star));
  std::string a = VarySecondaryKey(names, Msg{{"Accept-Language", "en,  fr"}, {"X-Foo", "1"}}.views, kOpts);
  std::string b =
      VarySecondaryKey(names, Msg{{"x-foo", "1"}, {"accept-language", "en"}, {"Accept-Language", "fr"}}.views, kOpts);
  EXPECT_EQ(a, b);  // combined lines and whitespace normalized
  std::string absent = VarySecondaryKey(names, Msg{{"X-Foo", "1"}}.views, kOpts);
  std::string empty = VarySecondaryKey(names, Msg{{"Accept-Language", ""}, {"X-Foo", "1"}}.views, kOpts);
  EXPECT_NE(absent, empty);
  EXPECT_NE(VarySecondaryKey(names, Msg{{"Accept-Language", "EN"}, {"X-Foo", "1"}}.views, kOpts),
            VarySecondaryKey(names, Msg{{"Accept-Language", "en"}, {"X-Foo", "1"}}.views, kOpts));
}

TEST(CachePolicy, Rfc9110_12_5_3_AcceptEncodingNormalization) {
  auto n = [](std::string_view v) { return NormalizeAcceptEncoding(Msg{{"Accept-Encoding", std::string(v)}}.views); };
  EXPECT_EQ(n("gzip, deflate, br"), "br");
  EXPECT_EQ(n("gzip"), "gzip");
  EXPECT_EQ(n("x-gzip"), "gzip");
  EXPECT_EQ(n("br;q=0.5, gzip;q=0.8"), "gzip");
  EXPECT_EQ(n("br;q=0, gzip"), "gzip");
  EXPECT_EQ(n("*"), "br");
  EXPECT_EQ(n("*;q=0.1, br;q=0"), "gzip");
  EXPECT_EQ(n("gzip;q=0"), "identity");
  EXPECT_EQ(n("deflate"), "identity");
  EXPECT_EQ(n(""), "identity");
  EXPECT_EQ(n("gzip;q=2"), "identity");  // invalid qvalue: element ignored
  EXPECT_EQ(NormalizeAcceptEncoding(Msg{}.views), "identity");
  std::vector<std::string> names{"accept-encoding"};
  EXPECT_EQ(VarySecondaryKey(names, Msg{{"Accept-Encoding", "gzip, br"}}.views, kOpts),
            VarySecondaryKey(names, Msg{{"Accept-Encoding", "br"}}.views, kOpts));
  PolicyOptions raw;
  raw.normalize_accept_encoding = false;
  EXPECT_NE(VarySecondaryKey(names, Msg{{"Accept-Encoding", "gzip, br"}}.views, raw),
            VarySecondaryKey(names, Msg{{"Accept-Encoding", "br"}}.views, raw));
}

ConditionalResult Cond(const Msg& req, const Msg& stored, std::string_view method = "GET", bool origin = false) {
  return EvaluateClientConditional(Req(req, method), Resp(stored), origin);
}

TEST(CachePolicy, Rfc9110_13_1_2_IfNoneMatchWeakComparison) {
  Msg s{{"ETag", "W/\"v1\""}, {"Last-Modified", D(kT - 100)}};
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"v1\""}}, s), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"x\", W/\"v1\""}}, s), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"x\""}, {"If-None-Match", "\"v1\""}}, s), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "*"}}, s), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"v2\""}}, s), ConditionalResult::kNone);
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"a,b\""}}, Msg{{"ETag", "\"a,b\""}}), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "v1"}}, s), ConditionalResult::kNone);  // malformed
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"v1\""}}, s, "POST"), ConditionalResult::kPreconditionFailed);
}

TEST(CachePolicy, Rfc9110_13_1_3_IfModifiedSince) {
  Msg s{{"Last-Modified", D(kT - 100)}, {"Date", D(kT)}};
  EXPECT_EQ(Cond(Msg{{"If-Modified-Since", D(kT - 100)}}, s), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-Modified-Since", D(kT - 50)}}, s), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-Modified-Since", D(kT - 101)}}, s), ConditionalResult::kNone);
  EXPECT_EQ(Cond(Msg{{"If-Modified-Since", "garbage"}}, s), ConditionalResult::kNone);
  EXPECT_EQ(Cond(Msg{{"If-Modified-Since", D(kT)}}, s, "POST"), ConditionalResult::kNone);
  // Without Last-Modified, Date is used.
  EXPECT_EQ(Cond(Msg{{"If-Modified-Since", D(kT)}}, Msg{{"Date", D(kT)}}), ConditionalResult::kNotModified);
  EXPECT_EQ(Cond(Msg{{"If-Modified-Since", D(kT - 1)}}, Msg{{"Date", D(kT)}}), ConditionalResult::kNone);
}

TEST(CachePolicy, Rfc9110_13_2_2_IfNoneMatchTakesPrecedence) {
  Msg s{{"ETag", "\"v1\""}, {"Last-Modified", D(kT - 100)}};
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"v2\""}, {"If-Modified-Since", D(kT)}}, s), ConditionalResult::kNone);
  EXPECT_EQ(Cond(Msg{{"If-None-Match", "\"v1\""}, {"If-Modified-Since", D(kT - 1000)}}, s),
            ConditionalResult::kNotModified);
}

TEST(CachePolicy, Rfc9111_4_3_2_IfMatchOnlyForOrigins) {
  Msg s{{"ETag", "W/\"v1\""}, {"Last-Modified", D(kT - 100)}};
  EXPECT_EQ(Cond(Msg{{"If-Match", "\"zz\""}}, s), ConditionalResult::kNone);
  EXPECT_EQ(Cond(Msg{{"If-Match", "\"zz\""}}, s, "GET", true), ConditionalResult::kPreconditionFailed);
  EXPECT_EQ(Cond(Msg{{"If-Match", "W/\"v1\""}}, s, "GET", true), ConditionalResult::kPreconditionFailed);  // strong
  EXPECT_EQ(Cond(Msg{{"If-Match", "\"v1\""}}, Msg{{"ETag", "\"v1\""}}, "GET", true), ConditionalResult::kNone);
  EXPECT_EQ(Cond(Msg{{"If-Match", "*"}}, s, "GET", true), ConditionalResult::kNone);
  EXPECT_EQ(Cond(Msg{{"If-Unmodified-Since", D(kT - 200)}}, s, "GET", true), ConditionalResult::kPreconditionFailed);
  EXPECT_EQ(Cond(Msg{{"If-Unmodified-Since", D(kT - 100)}}, s, "GET", true), ConditionalResult::kNone);
}

TEST(CachePolicy, Rfc9110_13_1_5_IfRange) {
  Msg s{{"ETag", "\"v1\""}, {"Last-Modified", D(kT - 100)}, {"Date", D(kT)}};
  EXPECT_TRUE(IfRangeMatches("\"v1\"", Resp(s)));
  EXPECT_FALSE(IfRangeMatches("W/\"v1\"", Resp(s)));
  EXPECT_FALSE(IfRangeMatches("\"v1\"", Resp(Msg{{"ETag", "W/\"v1\""}})));
  EXPECT_TRUE(IfRangeMatches(D(kT - 100), Resp(s)));
  EXPECT_FALSE(IfRangeMatches(D(kT - 99), Resp(s)));
  // Last-Modified equal to Date is weak: no match.
  EXPECT_FALSE(IfRangeMatches(D(kT), Resp(Msg{{"Last-Modified", D(kT)}, {"Date", D(kT)}})));
  EXPECT_FALSE(IfRangeMatches("garbage", Resp(s)));
}

TEST(CachePolicy, Rfc9111_4_3_1_AddValidators) {
  std::vector<StoredField> out;
  AddValidators(Msg{{"ETag", "\"v1\""}, {"Last-Modified", D(kT)}}.views, &out);
  EXPECT_EQ(out, (std::vector<StoredField>{{"If-None-Match", "\"v1\""}, {"If-Modified-Since", D(kT)}}));
  out.clear();
  AddValidators(Msg{{"ETag", "bogus"}, {"Last-Modified", "0"}}.views, &out);
  EXPECT_TRUE(out.empty());
}

TEST(CachePolicy, Rfc9111_4_3_4_SelectStoredFor304) {
  Msg a{{"ETag", "\"a\""}}, b{{"ETag", "\"b\""}}, wa{{"ETag", "W/\"a\""}}, lm{{"Last-Modified", D(kT)}}, none{};
  std::vector<StoredInfo> stored = {Resp(a, 200, kT), Resp(b, 200, kT), Resp(a, 200, kT + 5)};
  EXPECT_EQ(SelectStoredFor304(Msg{{"ETag", "\"a\""}}.views, stored), (std::vector<size_t>{0, 2}));
  EXPECT_TRUE(SelectStoredFor304(Msg{{"ETag", "\"c\""}}.views, stored).empty());
  EXPECT_EQ(SelectStoredFor304(Msg{{"ETag", "W/\"a\""}}.views, stored), (std::vector<size_t>{2}));  // most recent
  std::vector<StoredInfo> by_lm = {Resp(lm), Resp(wa)};
  EXPECT_EQ(SelectStoredFor304(Msg{{"Last-Modified", D(kT)}}.views, by_lm), (std::vector<size_t>{0}));
  std::vector<StoredInfo> single = {Resp(none)};
  EXPECT_EQ(SelectStoredFor304(Msg{}.views, single), (std::vector<size_t>{0}));
  EXPECT_TRUE(SelectStoredFor304(Msg{}.views, by_lm).empty());
}

TEST(CachePolicy, Rfc9111_3_2_MergeHeadersFrom304) {
  Msg stored{{"Content-Type", "text/plain"},  {"Content-Length", "10"}, {"ETag", "\"a\""},
             {"Cache-Control", "max-age=10"}, {"X-Old", "1"},           {"Age", "50"},
             {"Date", D(kT - 100)},           {"Set-Cookie", "a"},      {"Set-Cookie", "b"}};
  Msg r304{{"Cache-Control", "max-age=60, private=\"x-old\""},
           {"Content-Length", "0"},
           {"Connection", "close"},
           {"Set-Cookie", "c"},
           {"ETag", "\"a\""}};
  std::vector<StoredField> merged = MergeHeadersFrom304(stored.views, r304.views, kT);
  std::vector<StoredField> want = {{"Content-Type", "text/plain"},
                                   {"Content-Length", "10"},
                                   {"Cache-Control", "max-age=60, private=\"x-old\""},
                                   {"Set-Cookie", "c"},
                                   {"ETag", "\"a\""},
                                   {"Date", D(kT)}};
  EXPECT_EQ(merged, want);
}

TEST(CachePolicy, Rfc9111_4_4_Invalidation) {
  Msg fields{{"Location", "/created/1"}, {"Content-Location", "https://other.example/x"}};
  std::vector<std::string> t = InvalidationTargets("POST", 201, "http://a.example/list?x=1", fields.views);
  EXPECT_EQ(t, (std::vector<std::string>{"http://a.example/list?x=1", "http://a.example/created/1"}));
  EXPECT_TRUE(InvalidationTargets("GET", 200, "http://a.example/", fields.views).empty());
  EXPECT_TRUE(InvalidationTargets("HEAD", 200, "http://a.example/", fields.views).empty());
  EXPECT_TRUE(InvalidationTargets("DELETE", 404, "http://a.example/", fields.views).empty());
  EXPECT_TRUE(InvalidationTargets("PUT", 500, "http://a.example/", fields.views).empty());
  EXPECT_EQ(InvalidationTargets("FROB", 302, "http://a.example/", Msg{}.views).size(), 1u);  // unknown = unsafe
  Msg same{{"Content-Location", "HTTP://A.EXAMPLE:80/y"}, {"Location", "http://a.example:8080/z"}};
  EXPECT_EQ(InvalidationTargets("PATCH", 204, "http://a.example/", same.views),
            (std::vector<std::string>{"http://a.example/", "HTTP://A.EXAMPLE:80/y"}));
}

TEST(CachePolicy, Rfc3986_5_2_ResolveUri) {
  std::string out;
  const char* base = "http://a/b/c/d;p?q";
  std::pair<const char*, const char*> cases[] = {
      {"g", "http://a/b/c/g"},     {"./g", "http://a/b/c/g"},    {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},        {"//g", "http://g"},          {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"}, {"#s", "http://a/b/c/d;p?q"}, {"", "http://a/b/c/d;p?q"},
      {"..", "http://a/b/"},       {"../g", "http://a/b/g"},     {"../../../g", "http://a/g"},
      {"/./g", "http://a/g"},      {"g/../h", "http://a/b/c/h"}, {"https://x/y", "https://x/y"}};
  for (auto [ref, want] : cases) {
    ASSERT_TRUE(ResolveUri(base, ref, &out)) << ref;
    EXPECT_EQ(out, want) << ref;
  }
  EXPECT_FALSE(ResolveUri("/relative", "g", &out));
}

TEST(CachePolicy, Rfc9211_CacheStatus) {
  CacheStatus s;
  s.hit = true;
  s.ttl = 123;
  EXPECT_EQ(CacheStatusValue(s), "Strata; hit; ttl=123");
  s = CacheStatus();
  s.fwd = Fwd::kMiss;
  s.stored = true;
  EXPECT_EQ(CacheStatusValue(s), "Strata; fwd=miss; stored");
  s = CacheStatus();
  s.fwd = Fwd::kStale;
  s.fwd_status = 304;
  EXPECT_EQ(CacheStatusValue(s), "Strata; fwd=stale; fwd-status=304");
  s = CacheStatus();
  s.fwd = Fwd::kUriMiss;
  s.detail = StoreReasonName(StoreReason::kNoStore);
  EXPECT_EQ(CacheStatusValue(s), "Strata; fwd=uri-miss; detail=no-store");
  s.detail = "two words";
  s.key = "GET \"x\"";
  s.collapsed = true;
  s.ttl = -5;
  EXPECT_EQ(CacheStatusValue(s),
            "Strata; fwd=uri-miss; collapsed; ttl=-5; key=\"GET \\\"x\\\"\"; detail=\"two words\"");
  EXPECT_STREQ(FwdName(Fwd::kVaryMiss), "vary-miss");
}

}  // namespace
// Facts computed once per stored response give every request the answer
// that parsing the stored fields again would give.
TEST(CachePolicy, StoredFactsGiveTheSameEvaluation) {
  const Msg stored_msgs[] = {
      {{"Cache-Control", "max-age=60"}, {"Date", D(kT - 10)}},
      {{"Cache-Control", "s-maxage=5, max-age=600"}, {"Age", "3"}},
      {{"Expires", D(kT + 100)}, {"Date", D(kT)}},
      {{"Expires", "0"}},
      {{"Last-Modified", D(kT - 100000)}, {"Date", D(kT)}},
      {{"Cache-Control", "no-cache"}},
      {{"Cache-Control", "max-age=10, stale-while-revalidate=30"}},
      {{"Cache-Control", "max-age=10, must-revalidate"}},
      {{"Strata-Cache-Control", "max-age=900"}, {"Cache-Control", "max-age=1"}},
      {{"Cache-Control", "max-age=60, immutable"}},
  };
  const Msg requests[] = {{},
                          {{"Cache-Control", "max-age=0"}},
                          {{"Cache-Control", "max-stale=100"}},
                          {{"Pragma", "no-cache"}},
                          {{"Cache-Control", "min-fresh=20"}}};
  PolicyOptions plain;
  plain.use_targeted_cache_control = false;
  for (const PolicyOptions& options : {kOpts, plain}) {
    for (const Msg& stored : stored_msgs) {
      ResponseInfo info{200, stored.views, kT - 2, kT};
      StoredFacts facts = ComputeStoredFacts(info, options);
      for (const Msg& request : requests) {
        for (int64_t now : {kT, kT + 7, kT + 45, kT + 200000}) {
          Evaluation a = EvaluateStored(Req(request), info, now, options);
          Evaluation b = EvaluateStored(Req(request), info, facts, now, options);
          EXPECT_EQ(a.usability, b.usability);
          EXPECT_EQ(a.current_age, b.current_age);
          EXPECT_EQ(a.lifetime, b.lifetime);
          EXPECT_EQ(a.ttl, b.ttl);
          EXPECT_EQ(a.forced_by_request, b.forced_by_request);
          EXPECT_EQ(a.current_age, CurrentAge(info, now));
        }
      }
    }
  }
}

}  // namespace strata::http
