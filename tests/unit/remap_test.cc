// Tests for remap.config: each directive, the precedence of exact, regex and
// catch-all rules, port and path-prefix matching, regex substitution,
// reverse_map, redirect Locations and the errors for bad lines.

#include "proxy/remap.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace strata {
namespace {

using Kind = RemapResult::Kind;

// A table parsed from `text`; the test fails if it does not parse.
RemapTable Table(std::string_view text) {
  RemapTable t;
  Status st = t.Parse(text, "remap.config");
  EXPECT_TRUE(st.ok()) << st.ToString();
  return t;
}

// The origin URL a request maps to, "404" when nothing matches, or
// "301 LOCATION" / "307 LOCATION" for redirects.
std::string MapUrl(const RemapTable& t, std::string_view host, std::string_view path,
                   std::string_view scheme = "http") {
  RemapResult r;
  if (!t.Map(scheme, host, path, &r)) return "404";
  switch (r.kind) {
    case Kind::kMap:
      return r.origin_url;
    case Kind::kRedirect:
      return "301 " + r.location;
    case Kind::kRedirectTemporary:
      return "307 " + r.location;
  }
  return "?";
}

// The error message of parsing `text`, or "" when it parsed.
std::string ParseError(std::string_view text) {
  RemapTable t;
  Status st = t.Parse(text, "remap.config");
  if (!st.ok()) {
    EXPECT_EQ(t.size(), 0u) << "rules added despite errors";
  }
  return st.ok() ? "" : st.message();
}

TEST(RemapTest, MapFillsEveryField) {
  RemapTable t = Table("map http://www.example.com/ http://origin.internal:8080/x/\n");
  ASSERT_EQ(t.size(), 1u);
  RemapResult r;
  ASSERT_TRUE(t.Map("http", "www.example.com", "/foo?q=1", &r));
  EXPECT_EQ(r.kind, Kind::kMap);
  EXPECT_EQ(r.origin.scheme, "http");
  EXPECT_EQ(r.origin.host, "origin.internal");
  EXPECT_EQ(r.origin.port, 8080);
  EXPECT_EQ(r.origin_path, "/x/foo?q=1");
  EXPECT_EQ(r.origin_host_header, "origin.internal:8080");
  EXPECT_EQ(r.origin_url, "http://origin.internal:8080/x/foo?q=1");
  EXPECT_EQ(r.location, "");
}

TEST(RemapTest, DefaultPortsAreFilledAndNotShown) {
  RemapTable t = Table(
      "map http://a/ https://secure.internal/\n"
      "map http://b/ http://plain.internal:80\n"
      "map http://c/ https://secure.internal:443/\n");
  RemapResult r;
  ASSERT_TRUE(t.Map("http", "a", "/", &r));
  EXPECT_EQ(r.origin.scheme, "https");
  EXPECT_EQ(r.origin.port, 443);
  EXPECT_EQ(r.origin_host_header, "secure.internal");
  EXPECT_EQ(r.origin_url, "https://secure.internal/");
  ASSERT_TRUE(t.Map("http", "b", "/p", &r));
  EXPECT_EQ(r.origin.port, 80);
  EXPECT_EQ(r.origin_host_header, "plain.internal");
  EXPECT_EQ(r.origin_path, "/p");
  EXPECT_EQ(MapUrl(t, "c", "/"), "https://secure.internal/");
}

TEST(RemapTest, PathPrefixes) {
  RemapTable t = Table(
      "map http://a/img/ http://b/static/\n"
      "map http://a/css http://b/styles\n"
      "map http://a/js/ http://b/scripts\n"
      "map http://a/fonts http://b/f/\n");
  EXPECT_EQ(MapUrl(t, "a", "/img/1.png"), "http://b/static/1.png");
  EXPECT_EQ(MapUrl(t, "a", "/img/"), "http://b/static/");
  EXPECT_EQ(MapUrl(t, "a", "/img/a/b?x=1"), "http://b/static/a/b?x=1");
  EXPECT_EQ(MapUrl(t, "a", "/imgx"), "404");
  EXPECT_EQ(MapUrl(t, "a", "/img"), "404");        // "/img/" needs the slash
  EXPECT_EQ(MapUrl(t, "a", "/IMG/1.png"), "404");  // paths are case-sensitive
  EXPECT_EQ(MapUrl(t, "a", "/css"), "http://b/styles");
  EXPECT_EQ(MapUrl(t, "a", "/css?v=2"), "http://b/styles?v=2");
  EXPECT_EQ(MapUrl(t, "a", "/css/site.css"), "http://b/styles/site.css");
  EXPECT_EQ(MapUrl(t, "a", "/cssx"), "404");  // segment boundary
  EXPECT_EQ(MapUrl(t, "a", "/js/app.js"), "http://b/scripts/app.js");
  EXPECT_EQ(MapUrl(t, "a", "/fonts/x.woff"), "http://b/f/x.woff");
}

TEST(RemapTest, RootMapKeepsWholePath) {
  RemapTable t = Table("map http://a/ http://b\n");
  EXPECT_EQ(MapUrl(t, "a", "/"), "http://b/");
  EXPECT_EQ(MapUrl(t, "a", "/foo/bar?q"), "http://b/foo/bar?q");
  EXPECT_EQ(MapUrl(t, "a", "/?q"), "http://b/?q");
}

TEST(RemapTest, HostIsCaseInsensitive) {
  RemapTable t = Table("map http://WWW.Example.com/ http://Origin/\n");
  RemapResult r;
  ASSERT_TRUE(t.Map("http", "www.EXAMPLE.com", "/", &r));
  EXPECT_EQ(r.origin.host, "origin");
  EXPECT_EQ(MapUrl(t, "www.example.com.", "/"), "http://origin/");  // trailing dot
  EXPECT_EQ(MapUrl(t, "example.com", "/"), "404");
}

TEST(RemapTest, PortMatching) {
  RemapTable t = Table(
      "map http://any/ http://o/any/\n"
      "map http://fixed:8080/ http://o/8080/\n"
      "map http://dflt:80/ http://o/80/\n");
  EXPECT_EQ(MapUrl(t, "any", "/"), "http://o/any/");
  EXPECT_EQ(MapUrl(t, "any:8080", "/"), "http://o/any/");
  EXPECT_EQ(MapUrl(t, "fixed:8080", "/"), "http://o/8080/");
  EXPECT_EQ(MapUrl(t, "fixed", "/"), "404");
  EXPECT_EQ(MapUrl(t, "fixed:80", "/"), "404");
  EXPECT_EQ(MapUrl(t, "dflt", "/"), "http://o/80/");  // no port in Host = scheme default
  EXPECT_EQ(MapUrl(t, "dflt:80", "/"), "http://o/80/");
  EXPECT_EQ(MapUrl(t, "dflt:81", "/"), "404");
  EXPECT_EQ(MapUrl(t, "any:http", "/"), "404");  // malformed Host port
  EXPECT_EQ(MapUrl(t, "any:0", "/"), "404");
}

TEST(RemapTest, SchemeMustMatch) {
  RemapTable t = Table("map https://a/ http://o/\n");
  EXPECT_EQ(MapUrl(t, "a", "/", "https"), "http://o/");
  EXPECT_EQ(MapUrl(t, "a", "/", "http"), "404");
}

TEST(RemapTest, Ipv6Hosts) {
  RemapTable t = Table("map http://[::1]:8080/ http://[fd00::2]:9000/\n");
  RemapResult r;
  ASSERT_TRUE(t.Map("http", "[::1]:8080", "/x", &r));
  EXPECT_EQ(r.origin.host, "fd00::2");  // for connecting: no brackets
  EXPECT_EQ(r.origin.port, 9000);
  EXPECT_EQ(r.origin_host_header, "[fd00::2]:9000");
  EXPECT_EQ(r.origin_url, "http://[fd00::2]:9000/x");
  EXPECT_FALSE(t.Map("http", "[::1]", "/x", &r));
}

TEST(RemapTest, PrecedenceExactThenRegexThenCatchAll) {
  RemapTable t = Table(
      "map / http://catchall/\n"
      "regex_map http://(.*)\\.example\\.com/ http://regex/\n"
      "map http://www.example.com/api/ http://exact/\n");
  EXPECT_EQ(MapUrl(t, "www.example.com", "/api/v1"), "http://exact/v1");
  // The exact host has no rule for this path: fall through to regex.
  EXPECT_EQ(MapUrl(t, "www.example.com", "/other"), "http://regex/other");
  EXPECT_EQ(MapUrl(t, "img.example.com", "/api/v1"), "http://regex/api/v1");
  EXPECT_EQ(MapUrl(t, "example.org", "/x"), "http://catchall/x");
}

TEST(RemapTest, LongestPrefixThenFileOrder) {
  RemapTable t = Table(
      "map http://a/ http://root/\n"
      "map http://a/static/ http://static1/\n"
      "map http://a/static/ http://static2/\n"
      "map http://a/static/img/ http://img/\n");
  EXPECT_EQ(MapUrl(t, "a", "/static/img/x"), "http://img/x");
  EXPECT_EQ(MapUrl(t, "a", "/static/css/x"), "http://static1/css/x");  // tie: first line wins
  EXPECT_EQ(MapUrl(t, "a", "/x"), "http://root/x");
}

TEST(RemapTest, CatchAllTierUsesLongestPrefix) {
  RemapTable t = Table(
      "map / http://root/\n"
      "map /static/ http://static/\n");
  EXPECT_EQ(MapUrl(t, "anything", "/static/a"), "http://static/a");
  EXPECT_EQ(MapUrl(t, "anything", "/a"), "http://root/a");
  EXPECT_EQ(MapUrl(t, "", "/a"), "http://root/a");                   // HTTP/1.0 without Host
  EXPECT_EQ(MapUrl(t, "anything", "/a", "https"), "http://root/a");  // catch-alls ignore scheme
}

TEST(RemapTest, RegexSubstitution) {
  RemapTable t = Table(
      "regex_map http://([a-z0-9]+)\\.cdn\\.example\\.com/ http://$1.origin.internal/\n"
      "regex_map http://(.+)-(\\d+)\\.shard\\.example/ http://s$2.$1.internal:8007/\n"
      "regex_map http://.*\\.whole\\.example/ http://x.$0/\n");
  RemapResult r;
  ASSERT_TRUE(t.Map("http", "IMG.cdn.example.com", "/a.png", &r));
  EXPECT_EQ(r.origin.host, "img.origin.internal");
  EXPECT_EQ(r.origin_url, "http://img.origin.internal/a.png");
  ASSERT_TRUE(t.Map("http", "web-7.shard.example", "/", &r));
  EXPECT_EQ(r.origin.host, "s7.web.internal");
  EXPECT_EQ(r.origin.port, 8007);
  EXPECT_EQ(MapUrl(t, "a.whole.example", "/"), "http://x.a.whole.example/");
  // The regex must match the whole host.
  EXPECT_EQ(MapUrl(t, "img.cdn.example.com.evil", "/"), "404");
  EXPECT_EQ(MapUrl(t, "eviLimg.cdn.example.com:8080", "/"), "http://evilimg.origin.internal/");
}

TEST(RemapTest, RegexFileOrderAndPaths) {
  RemapTable t = Table(
      "regex_map http://.*\\.a/ http://first/\n"
      "regex_map http://x\\.a/ http://second/\n"
      "regex_map http://.*\\.a/deep/ http://deep/\n");
  EXPECT_EQ(MapUrl(t, "x.a", "/p"), "http://first/p");
  EXPECT_EQ(MapUrl(t, "x.a", "/deep/p"), "http://deep/p");
}

TEST(RemapTest, RegexGroupsCannotInjectIntoTheOriginHost) {
  RemapTable t = Table(
      "regex_map http://(.*)/ http://$1.internal/\n"
      "map / http://fallback/\n");
  EXPECT_EQ(MapUrl(t, "ok", "/"), "http://ok.internal/");
  EXPECT_EQ(MapUrl(t, "evil@attacker", "/"), "http://fallback/");
  EXPECT_EQ(MapUrl(t, "a/b", "/"), "http://fallback/");
}

TEST(RemapTest, Redirects) {
  RemapTable t = Table(
      "redirect http://old.example/ https://new.example/\n"
      "redirect_temporary http://www.example/old/ http://www.example:8080/new/\n"
      "map http://www.example/ http://origin/\n");
  RemapResult r;
  ASSERT_TRUE(t.Map("http", "old.example", "/a/b?c=d", &r));
  EXPECT_EQ(r.kind, Kind::kRedirect);
  EXPECT_EQ(r.location, "https://new.example/a/b?c=d");
  EXPECT_EQ(r.origin_url, "");
  EXPECT_EQ(MapUrl(t, "www.example", "/old/page"), "307 http://www.example:8080/new/page");
  EXPECT_EQ(MapUrl(t, "www.example", "/page"), "http://origin/page");
}

TEST(RemapTest, ReverseMap) {
  RemapTable t = Table(
      "map http://www.example/ http://origin:8080/\n"
      "reverse_map http://origin:8080/ http://www.example/\n"
      "reverse_map http://origin:8080/app/ https://app.example/\n"
      "reverse_map http://plain/ http://public:81/p/\n");
  EXPECT_EQ(t.size(), 4u);
  std::string out;
  ASSERT_TRUE(t.ReverseMap("http://origin:8080/a/b?c", &out));
  EXPECT_EQ(out, "http://www.example/a/b?c");
  ASSERT_TRUE(t.ReverseMap("http://ORIGIN:8080/app/x", &out));  // longest prefix
  EXPECT_EQ(out, "https://app.example/x");
  ASSERT_TRUE(t.ReverseMap("http://origin:8080", &out));
  EXPECT_EQ(out, "http://www.example/");
  ASSERT_TRUE(t.ReverseMap("http://plain:80/q", &out));  // default port is the same port
  EXPECT_EQ(out, "http://public:81/p/q");
  EXPECT_FALSE(t.ReverseMap("http://origin/a", &out));  // port 80, not 8080
  EXPECT_FALSE(t.ReverseMap("https://origin:8080/a", &out));
  EXPECT_FALSE(t.ReverseMap("/relative/path", &out));
  EXPECT_FALSE(t.ReverseMap("http://other/", &out));
  // reverse_map rules never map requests.
  EXPECT_EQ(MapUrl(t, "origin:8080", "/"), "404");
}

TEST(RemapTest, CommentsBlankLinesAndCrlf) {
  RemapTable t = Table(
      "# a comment\n"
      "\n"
      "   \t\n"
      "map http://a/ http://b/   # trailing comment\r\n"
      "  # indented comment\r\n"
      "map\thttp://c/\thttp://d/");  // tabs, no final newline
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(MapUrl(t, "a", "/"), "http://b/");
  EXPECT_EQ(MapUrl(t, "c", "/"), "http://d/");
}

TEST(RemapTest, BadLinesReportFileAndLine) {
  EXPECT_EQ(ParseError("mapp http://a/ http://b/\n"),
            "remap.config:1: unknown or unsupported directive 'mapp' (supported: map, reverse_map, redirect, "
            "redirect_temporary, regex_map)");
  EXPECT_EQ(ParseError("\nmap http://a/\n"), "remap.config:2: expected 'map FROM TO', got 1 argument(s)");
  EXPECT_EQ(ParseError("map http://a/ http://b/ http://c/\n"),
            "remap.config:1: expected 'map FROM TO', got 3 argument(s)");
  EXPECT_EQ(ParseError("map http://a/ http://b/ @plugin=gzip.so\n"),
            "remap.config:1: unsupported option '@plugin=gzip.so'");
  EXPECT_EQ(ParseError("map a.example http://b/\n"),
            "remap.config:1: FROM 'a.example' is not a URL (scheme://host[:port]/path, or /path)");
  EXPECT_EQ(ParseError("map ftp://a/ http://b/\n"),
            "remap.config:1: FROM 'ftp://a/': unsupported scheme 'ftp' (http or https)");
  EXPECT_EQ(ParseError("map http://a:0/ http://b/\n"), "remap.config:1: FROM 'http://a:0/': port must be 1..65535");
  EXPECT_NE(ParseError("map http://a:65536/ http://b/\n"), "");
  EXPECT_NE(ParseError("map http://a:x/ http://b/\n"), "");
  EXPECT_EQ(ParseError("map http://a/ /local/\n"),
            "remap.config:1: TO '/local/' needs a scheme and host (scheme://host/path)");
  EXPECT_EQ(ParseError("map http:///x http://b/\n"), "remap.config:1: FROM 'http:///x': missing host");
  EXPECT_EQ(ParseError("map http://a b/ http://b/\n"), "remap.config:1: expected 'map FROM TO', got 3 argument(s)");
  EXPECT_EQ(ParseError("map http://us@a/ http://b/\n"), "remap.config:1: FROM 'http://us@a/': bad host 'us@a'");
  EXPECT_EQ(ParseError("map http://a/?x=1 http://b/\n"),
            "remap.config:1: FROM 'http://a/?x=1': a rule URL cannot have a query or fragment");
  EXPECT_EQ(ParseError(".include other.config\n"),
            "remap.config:1: unknown or unsupported directive '.include' (supported: map, reverse_map, redirect, "
            "redirect_temporary, regex_map)");
  EXPECT_EQ(ParseError("reverse_map / http://b/\n"), "remap.config:1: reverse_map needs a scheme and host in FROM");
  EXPECT_EQ(ParseError("regex_map / http://b/\n"),
            "remap.config:1: FROM '/' needs a scheme and host (scheme://host/path)");
}

TEST(RemapTest, BadRegexes) {
  std::string e = ParseError("regex_map http://(unclosed/ http://b/\n");
  EXPECT_EQ(e.rfind("remap.config:1: bad regex '(unclosed': ", 0), 0u) << e;
  EXPECT_EQ(ParseError("regex_map http://(a)\\.(b)/ http://$3.x/\n"),
            "remap.config:1: TO uses $3 but the regex has 2 group(s)");
  EXPECT_EQ(ParseError("map http://a/ http://$1.x/\n"), "remap.config:1: TO 'http://$1.x/': bad host '$1.x'");
  // Only the host substitutes; the port is literal.
  EXPECT_EQ(ParseError("regex_map http://(a)-(\\d)/ http://x:80$2/\n"),
            "remap.config:1: TO 'http://x:80$2/': port must be 1..65535");
}

TEST(RemapTest, EveryErrorIsReportedAndNothingIsAdded) {
  std::string e = ParseError(
      "map http://good/ http://b/\n"
      "bogus\n"
      "map http://a/\n"
      "# fine\n"
      "redirect http://a/ gopher://b/\n");
  EXPECT_EQ(e,
            "remap.config:2: unknown or unsupported directive 'bogus' (supported: map, reverse_map, redirect, "
            "redirect_temporary, regex_map)\n"
            "remap.config:3: expected 'map FROM TO', got 1 argument(s)\n"
            "remap.config:5: TO 'gopher://b/': unsupported scheme 'gopher' (http or https)");
}

TEST(RemapTest, AppendsAcrossParses) {
  RemapTable t = Table("map / http://first/\n");
  ASSERT_TRUE(t.Parse("map / http://second/\nmap http://h/ http://h2/\n", "other.config").ok());
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(MapUrl(t, "x", "/"), "http://first/");  // earlier rules come first
  EXPECT_EQ(MapUrl(t, "h", "/"), "http://h2/");
  Status st = t.Parse("map\n", "third.config");
  EXPECT_EQ(st.message(), "third.config:1: expected 'map FROM TO', got 0 argument(s)");
  EXPECT_EQ(t.size(), 3u);
}

TEST(RemapTest, OriginCatchAll) {
  RemapTable t;
  ASSERT_TRUE(t.AddCatchAll("http://127.0.0.1:9000").ok());
  EXPECT_EQ(t.size(), 1u);
  RemapResult r;
  ASSERT_TRUE(t.Map("http", "whatever.example:8080", "/a?b", &r));
  EXPECT_EQ(r.origin.host, "127.0.0.1");
  EXPECT_EQ(r.origin.port, 9000);
  EXPECT_EQ(r.origin_path, "/a?b");
  EXPECT_EQ(r.origin_host_header, "127.0.0.1:9000");
  EXPECT_EQ(r.origin_url, "http://127.0.0.1:9000/a?b");

  RemapTable based;
  ASSERT_TRUE(based.AddCatchAll("https://origin.example/base/").ok());
  EXPECT_EQ(MapUrl(based, "x", "/a"), "https://origin.example/base/a");

  RemapTable bad;
  EXPECT_EQ(bad.AddCatchAll("127.0.0.1:9000").message(),
            "--origin '127.0.0.1:9000' is not a URL (scheme://host[:port]/path, or /path)");
  EXPECT_FALSE(bad.AddCatchAll("/path").ok());
  EXPECT_FALSE(bad.AddCatchAll("http://a:99999/").ok());
  EXPECT_EQ(bad.size(), 0u);
}

TEST(RemapTest, RequestPathMustBeOriginForm) {
  RemapTable t = Table("map / http://o/\n");
  RemapResult r;
  EXPECT_FALSE(t.Map("http", "a", "*", &r));
  EXPECT_FALSE(t.Map("http", "a", "", &r));
}

TEST(RemapTest, EmptyTableMapsNothing) {
  RemapTable t;
  RemapResult r;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.Map("http", "a", "/", &r));
  std::string out;
  EXPECT_FALSE(t.ReverseMap("http://a/", &out));
}

TEST(RemapTest, LoadFile) {
  std::string templ = (std::filesystem::temp_directory_path() / "strata_remap_XXXXXX").string();
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  const std::string path = templ + "/remap.config";
  std::ofstream(path) << "map http://a/ http://b/\n\nmap http://c\n";
  RemapTable t;
  Status st = t.LoadFile(path);
  EXPECT_EQ(st.message(), path + ":3: expected 'map FROM TO', got 1 argument(s)");
  std::ofstream(path) << "map http://a/ http://b/\n";
  EXPECT_TRUE(t.LoadFile(path).ok());
  EXPECT_EQ(MapUrl(t, "a", "/"), "http://b/");
  EXPECT_EQ(t.LoadFile(templ + "/missing.config").kind(), Status::Kind::kNotFound);
  std::filesystem::remove_all(templ);
}

}  // namespace
}  // namespace strata
