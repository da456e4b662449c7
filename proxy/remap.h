// RemapTable: remap.config, which turns a client's URL into the origin URL
// (or a redirect). Unmapped requests get no result, and the proxy answers 404:
// Strata is never an open proxy.
//
// Syntax (ATS's), one rule per line; '#' starts a comment, blank lines are
// ignored:
//   map                FROM TO   proxy FROM... to TO...
//   reverse_map        FROM TO   rewrite Location/Content-Location from FROM... to TO...
//   redirect           FROM TO   answer 301 with Location TO...
//   redirect_temporary FROM TO   answer 307 with Location TO...
//   regex_map          FROM TO   like map; FROM's host is a regex, TO's host may use $0..$9
// FROM and TO are `scheme://host[:port][/path-prefix]`, scheme http or https
// (IPv6 hosts in brackets). A FROM that is only a path ("/" or "/static/")
// matches every host and scheme: a catch-all. ATS's trailing `@option=...`
// tokens and `.directives` are rejected as unsupported for now.
//
// Matching (Map), for a request's scheme, Host and path:
//   1. Tiers, in order; the first tier with a matching rule decides:
//      a. map/redirect/redirect_temporary rules whose FROM host equals the
//         Host's host (ASCII case-insensitive; a trailing dot is ignored),
//      b. regex_map rules whose host regex matches the whole Host host,
//      c. catch-all rules.
//   2. Within a tier the rule with the longest matching path prefix wins;
//      file order breaks ties (first one wins). Rules appended later (another
//      file, --origin) come after earlier ones in "file order".
//   A rule with a host also needs the same scheme. A FROM without a port
//   matches any port; a FROM with a port matches only that port (the Host's
//   port, or the scheme's default when the Host has none).
//   Path prefixes are compared case-sensitively and on segment boundaries:
//   FROM path "/img/" or "/img" matches "/img/1.png", "/img?x" (the latter only
//   for "/img") but never "/imgx". The part of the request path after the
//   prefix (with the query) is appended to TO's path: `map http://a/img/
//   http://b/static/` sends /img/1.png?v=2 to /static/1.png?v=2.
//
// Thread-safety: a RemapTable is built by one thread, then only read (Map and
// ReverseMap are const and safe from any number of threads at once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace strata {

struct OriginTarget {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or address to connect to (IPv6 without brackets), lowercase
  uint16_t port = 0;   // explicit port, or 80/443 for the scheme
};

struct RemapResult {
  enum class Kind { kMap, kRedirect, kRedirectTemporary } kind = Kind::kMap;
  OriginTarget origin;             // kMap: where to connect
  std::string origin_path;         // kMap: request path+query rewritten (TO's path prefix + remainder)
  std::string origin_host_header;  // kMap: "host" or "host:port" when port is not the scheme default
  std::string location;            // redirects: full URL for the Location header
  std::string origin_url;          // kMap: scheme://host[:port]/path?query, as the access log and cache key use it
};

class RemapTable {
 public:
  // Reads and parses a remap.config file; see Parse. NotFound if it cannot be opened.
  Status LoadFile(const std::string& path);

  // Parses remap.config text and appends its rules. Every problem is reported,
  // one "filename:line: problem" line each; on error no rule is added.
  Status Parse(std::string_view text, const std::string& filename);

  // Appends `map / ORIGIN_URL` (the quick-start `--origin URL`).
  Status AddCatchAll(std::string_view origin_url);

  // Maps a request. `scheme` is the client connection's ("http"/"https");
  // `host_header` the client's Host value (may carry ":port"); `path` the
  // origin-form target (path?query) starting with '/'. Returns false when no
  // rule matches (the proxy answers 404).
  bool Map(std::string_view scheme, std::string_view host_header, std::string_view path, RemapResult* out) const;

  // For Location/Content-Location rewriting: when `url` is absolute and starts
  // with a reverse_map FROM (same scheme, host case-insensitive, same port with
  // defaults filled in, then the path prefix), sets *out to the URL with that
  // prefix replaced by TO and returns true. Longest prefix wins.
  bool ReverseMap(std::string_view url, std::string* out) const;

  // Number of rules of all kinds.
  size_t size() const { return rules_.size(); }

 private:
  enum class Directive { kMap, kReverseMap, kRedirect, kRedirectTemporary, kRegexMap };

  // A URL from a rule. `host` is lowercase and keeps IPv6 brackets; empty for
  // a path-only FROM.
  struct RuleUrl {
    std::string scheme;
    std::string host;
    uint16_t port = 0;  // explicit port, or the scheme default
    bool port_explicit = false;
    std::string path = "/";
  };

  // A compiled FROM host regex; defined in remap.cc so that <regex> stays out
  // of every file that includes this header.
  struct HostRegex;

  struct Rule {
    Directive directive = Directive::kMap;
    RuleUrl from;
    RuleUrl to;
    std::shared_ptr<const HostRegex> host_regex;  // regex_map only; immutable, shared by copies
  };

  // Parses one line's tokens into *rule; returns the problem or "".
  static std::string ParseRule(const std::vector<std::string_view>& tokens, Rule* rule);

  // Adds a parsed rule to rules_ and to its tier's index.
  void Append(Rule rule);

  // The first rule in `tier` (sorted: longest path first, then file order)
  // that matches; nullptr if none. *to_host gets the TO host to use (with
  // regex groups substituted).
  const Rule* Match(const std::vector<size_t>& tier, std::string_view scheme, uint16_t port, std::string_view path,
                    const std::string& host, std::string* to_host) const;

  void Build(const Rule& rule, std::string_view to_host, std::string_view path, RemapResult* out) const;

  std::vector<Rule> rules_;
  std::unordered_map<std::string, std::vector<size_t>> exact_;  // host -> rules
  std::vector<size_t> regex_;
  std::vector<size_t> catch_all_;
  std::vector<size_t> reverse_;
};

}  // namespace strata
