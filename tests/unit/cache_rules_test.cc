// Tests for cache.config: each primary and secondary specifier, each action,
// TIME values, how the actions of several matching rules combine (first
// match per field), the errors for bad lines, and the shipped etc/cache.config.

#include "proxy/cache_rules.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

namespace strata {
namespace {

// Rules parsed from `text`; the test fails if they do not parse.
CacheRules Rules(std::string_view text) {
  CacheRules r;
  Status st = r.Parse(text, "cache.config");
  EXPECT_TRUE(st.ok()) << st.ToString();
  return r;
}

// The actions for `method url`, with the URL split the way the proxy does:
// lowercase host without port, path without query.
CacheRuleActions Act(const CacheRules& rules, std::string_view url, std::string_view method = "GET") {
  const size_t sep = url.find("://");
  const std::string_view scheme = url.substr(0, sep);
  std::string_view rest = url.substr(sep + 3);
  const size_t slash = std::min(rest.find('/'), rest.size());
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = rest.substr(slash);
  path = path.substr(0, path.find('?'));
  uint16_t port = scheme == "https" ? 443 : 80;
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    port = static_cast<uint16_t>(std::stoi(std::string(authority.substr(colon + 1))));
    authority = authority.substr(0, colon);
  }
  std::string host(authority);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return rules.Match(scheme, host, port, path, url, method);
}

bool NeverCache(const CacheRules& rules, std::string_view url, std::string_view method = "GET") {
  return Act(rules, url, method).never_cache;
}

// The error message of parsing `text`, or "" when it parsed.
std::string ParseError(std::string_view text) {
  CacheRules r;
  Status st = r.Parse(text, "cache.config");
  if (!st.ok()) {
    EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
    EXPECT_EQ(r.size(), 0u) << "rules added despite errors";
  }
  return st.ok() ? "" : st.message();
}

int64_t Time(std::string_view text) {
  int64_t s = -1;
  return CacheRules::ParseTime(text, &s) ? s : -1;
}

TEST(CacheRulesTest, NoRulesMeansNoActions) {
  CacheRules r;
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(Act(r, "http://example.com/"), CacheRuleActions());
  r = Rules("# only a comment\n\n   \n");
  EXPECT_EQ(r.size(), 0u);
}

TEST(CacheRulesTest, DestDomainMatchesTheDomainAndItsSubdomains) {
  CacheRules r = Rules("dest_domain=example.com action=never-cache\n");
  EXPECT_TRUE(NeverCache(r, "http://example.com/"));
  EXPECT_TRUE(NeverCache(r, "http://www.example.com/a"));
  EXPECT_TRUE(NeverCache(r, "http://a.b.example.com/a"));
  EXPECT_TRUE(NeverCache(r, "http://WWW.Example.COM/a"));
  EXPECT_TRUE(NeverCache(r, "http://www.example.com./a"));  // trailing dot
  EXPECT_FALSE(NeverCache(r, "http://badexample.com/"));
  EXPECT_FALSE(NeverCache(r, "http://example.com.evil.net/"));
  EXPECT_FALSE(NeverCache(r, "http://example.org/"));
  EXPECT_FALSE(NeverCache(r, "http://com/"));
  // Written with a leading dot or in capitals: the same rule.
  EXPECT_TRUE(NeverCache(Rules("dest_domain=.Example.Com action=never-cache"), "http://www.example.com/"));
  EXPECT_FALSE(NeverCache(Rules("dest_domain=.example.com action=never-cache"), "http://badexample.com/"));
}

TEST(CacheRulesTest, DestHostIsExact) {
  CacheRules r = Rules("dest_host=www.example.com action=never-cache\n");
  EXPECT_TRUE(NeverCache(r, "http://www.example.com/x"));
  EXPECT_TRUE(NeverCache(r, "http://WWW.EXAMPLE.COM:8080/x"));
  EXPECT_FALSE(NeverCache(r, "http://example.com/x"));
  EXPECT_FALSE(NeverCache(r, "http://a.www.example.com/x"));
  CacheRules v6 = Rules("dest_host=[2001:DB8::1] action=never-cache\n");
  EXPECT_TRUE(NeverCache(v6, "http://[2001:db8::1]/x"));
}

TEST(CacheRulesTest, DestIpMatchesNumericHosts) {
  CacheRules r = Rules(
      "dest_ip=192.0.2.7 action=never-cache\n"
      "dest_ip=10.0.0.5-10.0.0.9 action=ignore-client-no-cache\n"
      "dest_ip=172.16.0.0/12 action=ignore-server-no-cache\n"
      "dest_ip=2001:db8::/32 pin-in-cache=1h\n");
  EXPECT_TRUE(NeverCache(r, "http://192.0.2.7/"));
  EXPECT_FALSE(NeverCache(r, "http://192.0.2.8/"));
  EXPECT_TRUE(Act(r, "http://10.0.0.5/").ignore_client_no_cache);
  EXPECT_TRUE(Act(r, "http://10.0.0.9:8080/").ignore_client_no_cache);
  EXPECT_FALSE(Act(r, "http://10.0.0.10/").ignore_client_no_cache);
  EXPECT_FALSE(Act(r, "http://10.0.0.4/").ignore_client_no_cache);
  EXPECT_TRUE(Act(r, "http://172.31.255.255/").ignore_server_no_cache);
  EXPECT_FALSE(Act(r, "http://172.32.0.0/").ignore_server_no_cache);
  EXPECT_EQ(Act(r, "http://[2001:db8:ffff::1]/").pin_in_cache, 3600);
  EXPECT_FALSE(Act(r, "http://[2001:db9::1]/").pin_in_cache);
  // A name is not an address: no DNS lookup, no match.
  EXPECT_EQ(Act(r, "http://origin.example/"), CacheRuleActions());
  // No cross-family matches.
  EXPECT_FALSE(NeverCache(r, "http://[::ffff:192.0.2.7]/"));
}

TEST(CacheRulesTest, UrlRegexIsSearchedInTheWholeUrl) {
  CacheRules r = Rules("url_regex=\\.php action=never-cache\n");
  EXPECT_TRUE(NeverCache(r, "http://a.example/index.php"));
  EXPECT_TRUE(NeverCache(r, "http://a.example/x?file=y.php"));  // the query is part of the URL
  EXPECT_FALSE(NeverCache(r, "http://a.example/index.html"));
  EXPECT_FALSE(NeverCache(r, "http://a.example/INDEX.PHP"));  // case-sensitive
  CacheRules anchored = Rules("url_regex=^https://[^/]*/api/ action=never-cache\n");
  EXPECT_TRUE(NeverCache(anchored, "https://a.example/api/v1"));
  EXPECT_FALSE(NeverCache(anchored, "http://a.example/api/v1"));
  EXPECT_FALSE(NeverCache(anchored, "https://a.example/x/api/"));
}

TEST(CacheRulesTest, PrefixIsWrittenWithoutTheLeadingSlash) {
  CacheRules r = Rules("dest_domain=example.com prefix=images/ action=never-cache\n");
  EXPECT_TRUE(NeverCache(r, "http://example.com/images/a.png"));
  EXPECT_FALSE(NeverCache(r, "http://example.com/img/images/a.png"));
  EXPECT_FALSE(NeverCache(r, "http://example.com/Images/a.png"));  // case-sensitive
  EXPECT_FALSE(NeverCache(r, "http://example.com/images"));
  // A leading slash is stripped, so both spellings mean the same.
  CacheRules slash = Rules("dest_domain=example.com prefix=/images/ action=never-cache\n");
  EXPECT_TRUE(NeverCache(slash, "http://example.com/images/a.png"));
  EXPECT_FALSE(NeverCache(slash, "http://example.com/x/a.png"));
}

TEST(CacheRulesTest, SuffixIsCaseInsensitiveAndIgnoresTheQuery) {
  CacheRules r = Rules("dest_domain=example.com suffix=.jpg action=never-cache\n");
  EXPECT_TRUE(NeverCache(r, "http://example.com/a/b.jpg"));
  EXPECT_TRUE(NeverCache(r, "http://example.com/a/b.JPG"));
  EXPECT_TRUE(NeverCache(r, "http://example.com/a/b.jpg?v=2"));
  EXPECT_FALSE(NeverCache(r, "http://example.com/a/b.jpeg"));
  EXPECT_FALSE(NeverCache(r, "http://example.com/a/b.jpg/x"));
}

TEST(CacheRulesTest, MethodPortAndScheme) {
  CacheRules method = Rules("dest_domain=example.com method=post action=never-cache\n");
  EXPECT_TRUE(NeverCache(method, "http://example.com/", "POST"));
  EXPECT_TRUE(NeverCache(method, "http://example.com/", "post"));
  EXPECT_FALSE(NeverCache(method, "http://example.com/", "GET"));

  CacheRules port = Rules(
      "dest_domain=example.com port=8080 action=never-cache\n"
      "dest_domain=example.com port=9000-9009 action=ignore-server-no-cache\n");
  EXPECT_TRUE(NeverCache(port, "http://example.com:8080/"));
  EXPECT_FALSE(NeverCache(port, "http://example.com/"));
  EXPECT_TRUE(Act(port, "http://example.com:9000/").ignore_server_no_cache);
  EXPECT_TRUE(Act(port, "http://example.com:9009/").ignore_server_no_cache);
  EXPECT_FALSE(Act(port, "http://example.com:9010/").ignore_server_no_cache);

  CacheRules scheme = Rules("dest_domain=example.com scheme=HTTPS action=never-cache\n");
  EXPECT_TRUE(NeverCache(scheme, "https://example.com/"));
  EXPECT_FALSE(NeverCache(scheme, "http://example.com/"));
}

TEST(CacheRulesTest, AllSecondarySpecifiersMustMatch) {
  CacheRules r = Rules(
      "dest_domain=example.com scheme=https port=8443 method=GET prefix=static/ suffix=.css "
      "action=never-cache\n");
  EXPECT_TRUE(NeverCache(r, "https://cdn.example.com:8443/static/site.css"));
  EXPECT_FALSE(NeverCache(r, "http://cdn.example.com:8443/static/site.css"));           // scheme
  EXPECT_FALSE(NeverCache(r, "https://cdn.example.com/static/site.css"));               // port
  EXPECT_FALSE(NeverCache(r, "https://cdn.example.com:8443/static/site.css", "HEAD"));  // method
  EXPECT_FALSE(NeverCache(r, "https://cdn.example.com:8443/dyn/site.css"));             // prefix
  EXPECT_FALSE(NeverCache(r, "https://cdn.example.com:8443/static/site.js"));           // suffix
  EXPECT_FALSE(NeverCache(r, "https://cdn.example.org:8443/static/site.css"));          // primary
}

TEST(CacheRulesTest, EachAction) {
  CacheRules r = Rules(
      "dest_host=never.example action=never-cache\n"
      "dest_host=ignore.example action=ignore-no-cache\n"
      "dest_host=client.example action=ignore-client-no-cache\n"
      "dest_host=server.example action=ignore-server-no-cache\n"
      "dest_host=cluster.example action=cluster-cache-local\n"
      "dest_host=ttl.example ttl-in-cache=1d\n"
      "dest_host=pin.example pin-in-cache=2h\n"
      "dest_host=reval.example revalidate=30m\n");
  EXPECT_EQ(r.size(), 8u);
  CacheRuleActions want;
  want.never_cache = true;
  EXPECT_EQ(Act(r, "http://never.example/"), want);
  want = {};
  want.ignore_client_no_cache = want.ignore_server_no_cache = true;
  EXPECT_EQ(Act(r, "http://ignore.example/"), want);
  want = {};
  want.ignore_client_no_cache = true;
  EXPECT_EQ(Act(r, "http://client.example/"), want);
  want = {};
  want.ignore_server_no_cache = true;
  EXPECT_EQ(Act(r, "http://server.example/"), want);
  EXPECT_EQ(Act(r, "http://cluster.example/"), CacheRuleActions());
  want = {};
  want.ttl_in_cache = 86400;
  EXPECT_EQ(Act(r, "http://ttl.example/"), want);
  want = {};
  want.pin_in_cache = 7200;
  EXPECT_EQ(Act(r, "http://pin.example/"), want);
  want = {};
  want.revalidate = 1800;
  EXPECT_EQ(Act(r, "http://reval.example/"), want);
}

TEST(CacheRulesTest, KeysAndActionNamesAreCaseInsensitive) {
  CacheRules r = Rules("DEST_DOMAIN=example.com Action=Never-Cache\nDest_Host=a.example TTL-In-Cache=5M\n");
  EXPECT_TRUE(NeverCache(r, "http://example.com/"));
  EXPECT_EQ(Act(r, "http://a.example/").ttl_in_cache, 300);
}

TEST(CacheRulesTest, TimeValues) {
  EXPECT_EQ(Time("1d2h30m"), 86400 + 7200 + 1800);
  EXPECT_EQ(Time("90s"), 90);
  EXPECT_EQ(Time("45"), 45);
  EXPECT_EQ(Time("0"), 0);
  EXPECT_EQ(Time("1h30"), 3630);  // a trailing bare number is seconds
  EXPECT_EQ(Time("2m5s"), 125);
  EXPECT_EQ(Time("1D"), 86400);
  EXPECT_EQ(Time("24855d"), 24855LL * 86400);
  EXPECT_EQ(Time("2147483647"), 2147483647);
  // Bad: empty, a unit without a number, unknown units, signs, fractions,
  // spaces, and more than 2^31-1 seconds.
  for (const char* bad :
       {"", "h", "5x", "5w", "1.5h", "-1", "+1", "1 h", "1dd", "2147483648", "24856d", "99999999999999999999"}) {
    EXPECT_EQ(Time(bad), -1) << bad;
  }
}

TEST(CacheRulesTest, FirstMatchingRuleSetsEachField) {
  CacheRules r = Rules(
      "dest_host=a.example prefix=x/ ttl-in-cache=10\n"
      "dest_domain=example ttl-in-cache=20\n"
      "dest_domain=example revalidate=30\n"
      "dest_domain=example pin-in-cache=40\n"
      "dest_domain=example pin-in-cache=50\n");
  EXPECT_EQ(Act(r, "http://a.example/x/1").ttl_in_cache, 10);
  EXPECT_EQ(Act(r, "http://a.example/y/1").ttl_in_cache, 20);
  // ttl-in-cache and revalidate share one slot: the first one matched wins.
  EXPECT_FALSE(Act(r, "http://a.example/y/1").revalidate);
  EXPECT_EQ(Act(r, "http://a.example/y/1").pin_in_cache, 40);

  CacheRules reval_first = Rules("dest_domain=example revalidate=30\ndest_domain=example ttl-in-cache=20\n");
  CacheRuleActions want;
  want.revalidate = 30;
  EXPECT_EQ(Act(reval_first, "http://a.example/"), want);

  // Boolean actions accumulate: a later rule adds what an earlier one lacked.
  CacheRules flags = Rules(
      "dest_domain=example action=ignore-client-no-cache\n"
      "dest_domain=example action=ignore-server-no-cache\n"
      "dest_domain=example pin-in-cache=1m\n");
  want = {};
  want.ignore_client_no_cache = want.ignore_server_no_cache = true;
  want.pin_in_cache = 60;
  EXPECT_EQ(Act(flags, "http://a.example/"), want);
}

TEST(CacheRulesTest, TtlInCacheOverridesNeverCacheInEitherOrder) {
  for (const char* text : {"dest_domain=example.com action=never-cache\ndest_host=www.example.com ttl-in-cache=1h\n",
                           "dest_host=www.example.com ttl-in-cache=1h\ndest_domain=example.com action=never-cache\n"}) {
    CacheRules r = Rules(text);
    CacheRuleActions want;
    want.ttl_in_cache = 3600;
    EXPECT_EQ(Act(r, "http://www.example.com/"), want) << text;
    EXPECT_TRUE(NeverCache(r, "http://img.example.com/")) << text;
  }
  // revalidate and pin-in-cache do not: never-cache stays.
  CacheRules r = Rules("dest_domain=example.com revalidate=1h\ndest_domain=example.com action=never-cache\n");
  EXPECT_TRUE(NeverCache(r, "http://example.com/"));
}

TEST(CacheRulesTest, CommentsAndQuotedValues) {
  CacheRules r = Rules(
      "# a comment line\n"
      "   # an indented one\n"
      "dest_domain=example.com action=never-cache   # trailing comment\n"
      "url_regex=\"/a b/\" action=ignore-server-no-cache\n"
      "url_regex=/frag#x action=ignore-client-no-cache\n");  // '#' inside a value is not a comment
  EXPECT_EQ(r.size(), 3u);
  EXPECT_TRUE(NeverCache(r, "http://example.com/"));
  EXPECT_TRUE(Act(r, "http://x.example/a b/c").ignore_server_no_cache);
  EXPECT_TRUE(Act(r, "http://x.example/frag#x").ignore_client_no_cache);
}

TEST(CacheRulesTest, ErrorsCarryLineNumbersAndAllAreReported) {
  const std::string text =
      "# line 1\n"
      "dest_domain=example.com action=never-cache\n"                      // 2: fine
      "dest_domain=example.com colour=blue action=never-cache\n"          // 3
      "dest_domain=example.com dest_host=a.example action=never-cache\n"  // 4
      "prefix=images/ action=never-cache\n"                               // 5
      "url_regex=(unclosed action=never-cache\n"                          // 6
      "dest_domain=example.com prefix=images/\n"                          // 7
      "dest_domain=example.com ttl-in-cache=5x\n"                         // 8
      "dest_domain=example.com method=GE,T action=never-cache\n";         // 9
  const std::string err = ParseError(text);
  EXPECT_EQ(err.find("cache.config:2:"), std::string::npos) << err;
  EXPECT_NE(err.find("cache.config:3: unknown key 'colour'"), std::string::npos) << err;
  EXPECT_NE(err.find("cache.config:4: more than one primary specifier ('dest_domain' and 'dest_host')"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("cache.config:5: no primary specifier"), std::string::npos) << err;
  EXPECT_NE(err.find("cache.config:6: bad regex '(unclosed'"), std::string::npos) << err;
  EXPECT_NE(err.find("cache.config:7: no action"), std::string::npos) << err;
  EXPECT_NE(err.find("cache.config:8: bad time '5x' for 'ttl-in-cache'"), std::string::npos) << err;
  EXPECT_NE(err.find("cache.config:9: bad method 'GE,T'"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 6) << err;  // seven lines, one per bad rule
}

TEST(CacheRulesTest, MoreErrors) {
  EXPECT_EQ(ParseError("dest_domain=a.example action=never-cache action=never-cache"),
            "cache.config:1: duplicate 'action'");
  EXPECT_EQ(ParseError("dest_domain=a.example prefix=a/ prefix=b/ action=never-cache"),
            "cache.config:1: duplicate 'prefix'");
  EXPECT_EQ(ParseError("dest_domain=a.example action=never-cache ttl-in-cache=1h"),
            "cache.config:1: more than one action ('action' and 'ttl-in-cache')");
  EXPECT_EQ(ParseError("\ndest_domain=a.example action=cache-everything"),
            "cache.config:2: unknown action 'cache-everything' (never-cache, ignore-no-cache, "
            "ignore-client-no-cache, ignore-server-no-cache, cluster-cache-local)");
  EXPECT_EQ(ParseError("host_regex=.* action=never-cache"), "cache.config:1: 'host_regex' is not supported");
  EXPECT_EQ(ParseError("dest_domain=a.example src_ip=1.2.3.4 action=never-cache"),
            "cache.config:1: 'src_ip' is not supported");
  EXPECT_EQ(ParseError("dest_domain=a.example action=standard-cache").substr(0, 40),
            "cache.config:1: unknown action 'standard");
  EXPECT_EQ(ParseError("dest_domain=a.example never-cache"), "cache.config:1: expected key=value, got 'never-cache'");
  EXPECT_EQ(ParseError("dest_domain=a.example =x action=never-cache"), "cache.config:1: expected key=value, got '=x'");
  EXPECT_EQ(ParseError("dest_domain= action=never-cache"), "cache.config:1: empty value for 'dest_domain'");
  EXPECT_EQ(ParseError("url_regex=\"abc action=never-cache"),
            "cache.config:1: unterminated quote in 'url_regex=\"abc action=never-cache'");
  EXPECT_EQ(ParseError("dest_domain=a/b action=never-cache"), "cache.config:1: bad domain 'a/b'");
  EXPECT_EQ(ParseError("dest_ip=10.0.0.300 action=never-cache"), "cache.config:1: bad address '10.0.0.300'");
  EXPECT_NE(ParseError("dest_ip=10.0.0.9-10.0.0.1 action=never-cache").find("bad address range"), std::string::npos);
  EXPECT_NE(ParseError("dest_ip=10.0.0.1-::1 action=never-cache").find("bad address range"), std::string::npos);
  EXPECT_NE(ParseError("dest_ip=10.0.0.0/33 action=never-cache").find("bad address range"), std::string::npos);
  EXPECT_NE(ParseError("dest_domain=a.example port=0 action=never-cache").find("bad port '0'"), std::string::npos);
  EXPECT_NE(ParseError("dest_domain=a.example port=90-80 action=never-cache").find("bad port"), std::string::npos);
  EXPECT_NE(ParseError("dest_domain=a.example port=http action=never-cache").find("bad port"), std::string::npos);
  EXPECT_EQ(ParseError("dest_domain=a.example scheme=ftp action=never-cache"),
            "cache.config:1: bad scheme 'ftp' (http or https)");
  EXPECT_NE(ParseError("dest_domain=a.example revalidate=").find("empty value for 'revalidate'"), std::string::npos);
  EXPECT_NE(ParseError("dest_domain=a.example pin-in-cache=1y").find("bad time '1y'"), std::string::npos);
}

TEST(CacheRulesTest, ParseAppendsAndAnErrorAddsNothing) {
  CacheRules r;
  ASSERT_TRUE(r.Parse("dest_domain=a.example ttl-in-cache=10\n", "one").ok());
  Status st = r.Parse("dest_domain=a.example ttl-in-cache=20\nbogus\n", "two");
  EXPECT_EQ(st.message(), "two:2: expected key=value, got 'bogus'");
  ASSERT_TRUE(r.Parse("dest_domain=a.example ttl-in-cache=30\ndest_domain=b.example pin-in-cache=1\n", "three").ok());
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(Act(r, "http://a.example/").ttl_in_cache, 10);  // earlier file, earlier rule
}

TEST(CacheRulesTest, LoadFile) {
  CacheRules r;
  Status st = r.LoadFile("/nonexistent/cache.config");
  EXPECT_EQ(st.kind(), Status::Kind::kNotFound);
  const std::string path = ::testing::TempDir() + "cache_rules_test_" + std::to_string(getpid()) + ".config";
  {
    std::ofstream out(path);
    out << "dest_domain=example.com action=never-cache\nsuffix=.x\n";
  }
  st = r.LoadFile(path);
  EXPECT_EQ(st.message(), path + ":2: no primary specifier (dest_domain, dest_host, dest_ip or url_regex)");
  {
    std::ofstream out(path);
    out << "dest_domain=example.com action=never-cache\n";
  }
  EXPECT_TRUE(r.LoadFile(path).ok());
  EXPECT_EQ(r.size(), 1u);
  std::remove(path.c_str());
}

// The shipped etc/cache.config has no active rule, and each of its commented
// examples is a valid rule once uncommented.
TEST(CacheRulesTest, ShippedCacheConfig) {
  const char* srcdir = getenv("STRATA_SRCDIR");
  if (srcdir == nullptr || *srcdir == '\0') GTEST_SKIP() << "STRATA_SRCDIR is not set";
  const std::string path = std::string(srcdir) + "/etc/cache.config";
  CacheRules shipped;
  Status st = shipped.LoadFile(path);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(shipped.size(), 0u);

  std::ifstream in(path);
  std::string examples;
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    for (const char* p : {"# dest_domain=", "# dest_host=", "# dest_ip=", "# url_regex="}) {
      if (line.rfind(p, 0) == 0) {
        examples += line.substr(2) + "\n";
        ++count;
      }
    }
  }
  CacheRules rules;
  st = rules.Parse(examples, "etc/cache.config examples");
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(rules.size(), static_cast<size_t>(count));
  // Every primary specifier and every action has an example.
  for (const char* kind : {"dest_domain=", "dest_host=", "dest_ip=", "url_regex=", "prefix=", "suffix=", "method=",
                           "port=", "scheme=", "action=never-cache", "action=ignore-no-cache",
                           "action=ignore-client-no-cache", "action=ignore-server-no-cache",
                           "action=cluster-cache-local", "ttl-in-cache=", "pin-in-cache=", "revalidate="}) {
    EXPECT_NE(examples.find(kind), std::string::npos) << kind;
  }
}

}  // namespace
}  // namespace strata
