#include "proxy/remap.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/text.h"

// libstdc++ 12's <regex> trips a false -Wmaybe-uninitialized inside
// std::function at -O3 and under the sanitizers (GCC PR 105562); keep
// -Werror builds working without hiding warnings in our own code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

namespace strata {

struct RemapTable::HostRegex {
  std::regex re;
};

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

uint16_t DefaultPort(std::string_view scheme) {
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  return 0;
}

// Parses a decimal port 1..65535; false otherwise.
bool ParsePort(std::string_view s, uint16_t* port) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < 1 || n > 65535) return false;
  *port = static_cast<uint16_t>(n);
  return true;
}

// A host as written in a URL: a DNS name or IPv4 address, or an IPv6 address
// in brackets. With `dollar`, "$N" group references are allowed too.
bool ValidHost(std::string_view h, bool dollar) {
  if (h.empty()) return false;
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    return std::all_of(h.begin() + 1, h.end() - 1,
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; });
  }
  for (size_t i = 0; i < h.size(); ++i) {
    const char c = h[i];
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') continue;
    if (dollar && c == '$' && i + 1 < h.size() && std::isdigit(static_cast<unsigned char>(h[i + 1]))) continue;
    return false;
  }
  return true;
}

// True when `prefix` (a rule path) matches `path` on a segment boundary: the
// request path continues with '/' or '?' or ends, unless the prefix ends in '/'.
bool PathPrefixMatches(std::string_view prefix, std::string_view path) {
  if (!path.starts_with(prefix)) return false;
  if (prefix.ends_with('/') || path.size() == prefix.size()) return true;
  const char next = path[prefix.size()];
  return next == '/' || next == '?';
}

// TO's path followed by what the request had after FROM's prefix, with
// exactly one '/' at the seam.
// Appends TO's path joined with the rest of the request path to *out.
void AppendJoinedPath(std::string_view to_path, std::string_view rest, std::string* out) {
  out->append(to_path);
  if (rest.empty()) return;
  const bool slash_to = to_path.ends_with('/');
  const bool slash_rest = rest.front() == '/';
  if (slash_to && slash_rest) {
    rest.remove_prefix(1);
  } else if (!slash_to && !slash_rest && rest.front() != '?') {
    out->push_back('/');
  }
  out->append(rest);
}

std::string JoinPath(std::string_view to_path, std::string_view rest) {
  std::string out;
  AppendJoinedPath(to_path, rest, &out);
  return out;
}

// Appends "host", or "host:port" when the port is not the scheme's default.
void AppendAuthority(std::string_view scheme, std::string_view host, uint16_t port, std::string* out) {
  out->append(host);
  if (port != DefaultPort(scheme)) {
    out->push_back(':');
    out->append(std::to_string(port));
  }
}

std::string Authority(std::string_view scheme, std::string_view host, uint16_t port) {
  std::string out;
  AppendAuthority(scheme, host, port, &out);
  return out;
}

// Replaces $0..$9 in `pattern` by the regex groups. Unmatched groups are "".
std::string Substitute(std::string_view pattern, const std::smatch& groups) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '$' && i + 1 < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[i + 1]))) {
      const size_t n = static_cast<size_t>(pattern[++i] - '0');
      if (n < groups.size()) out += groups[n].str();
    } else {
      out += pattern[i];
    }
  }
  return Lower(out);
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

enum class UrlMode {
  kFrom,       // literal host, or a path-only catch-all
  kRegexFrom,  // host is a regex
  kTo,         // literal host
  kRegexTo,    // literal host that may use $0..$9
};

struct ParsedUrl {
  std::string scheme;
  std::string host;
  uint16_t port = 0;
  bool port_explicit = false;
  std::string path = "/";
};

// Parses a rule URL. Returns the problem or "".
std::string ParseUrl(std::string_view text, UrlMode mode, ParsedUrl* out) {
  const std::string quoted = std::string("'").append(text).append("'");
  std::string_view path = "/";
  if (text.starts_with('/')) {
    if (mode != UrlMode::kFrom) return quoted + " needs a scheme and host (scheme://host/path)";
    path = text;
  } else {
    const size_t sep = text.find("://");
    if (sep == std::string_view::npos) return quoted + " is not a URL (scheme://host[:port]/path, or /path)";
    out->scheme = Lower(text.substr(0, sep));
    if (DefaultPort(out->scheme) == 0) return quoted + ": unsupported scheme '" + out->scheme + "' (http or https)";
    std::string_view rest = text.substr(sep + 3);
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) path = rest.substr(slash);
    std::string_view host = authority;
    std::string_view port;
    const size_t colon = authority.rfind(':');
    const size_t bracket = authority.rfind(']');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
      port = authority.substr(colon + 1);
      host = authority.substr(0, colon);
      // In a regex, a ':' not followed by digits up to the end is part of it.
      if (mode == UrlMode::kRegexFrom &&
          (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))) {
        host = authority;
        port = {};
      } else if (!ParsePort(port, &out->port)) {
        return quoted + ": port must be 1..65535";
      }
      out->port_explicit = !port.empty();
    }
    if (host.empty()) return quoted + ": missing host";
    if (mode != UrlMode::kRegexFrom && !ValidHost(host, mode == UrlMode::kRegexTo)) {
      return quoted + ": bad host '" + std::string(host) + "'";
    }
    out->host = mode == UrlMode::kRegexFrom ? std::string(host) : Lower(host);
    if (!out->port_explicit) out->port = DefaultPort(out->scheme);
  }
  for (char c : path) {
    if (c == '?' || c == '#') return quoted + ": a rule URL cannot have a query or fragment";
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return quoted + ": control character in path";
  }
  out->path = std::string(path);
  return "";
}

}  // namespace

std::string RemapTable::ParseRule(const std::vector<std::string_view>& tokens, Rule* rule) {
  static const std::pair<std::string_view, Directive> kDirectives[] = {
      {"map", Directive::kMap},
      {"reverse_map", Directive::kReverseMap},
      {"redirect", Directive::kRedirect},
      {"redirect_temporary", Directive::kRedirectTemporary},
      {"regex_map", Directive::kRegexMap},
  };
  const std::string_view name = tokens[0];
  bool known = false;
  for (auto [n, d] : kDirectives) {
    if (n == name) {
      rule->directive = d;
      known = true;
    }
  }
  if (!known) {
    return "unknown or unsupported directive '" + std::string(name) +
           "' (supported: map, reverse_map, redirect, redirect_temporary, regex_map)";
  }
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (tokens[i].starts_with('@')) return "unsupported option '" + std::string(tokens[i]) + "'";
  }
  if (tokens.size() != 3) {
    return "expected '" + std::string(name) + " FROM TO', got " + std::to_string(tokens.size() - 1) + " argument(s)";
  }
  const bool regex = rule->directive == Directive::kRegexMap;
  ParsedUrl from, to;
  std::string problem = ParseUrl(tokens[1], regex ? UrlMode::kRegexFrom : UrlMode::kFrom, &from);
  if (!problem.empty()) return "FROM " + problem;
  problem = ParseUrl(tokens[2], regex ? UrlMode::kRegexTo : UrlMode::kTo, &to);
  if (!problem.empty()) return "TO " + problem;
  if (rule->directive == Directive::kReverseMap && from.host.empty()) {
    return "reverse_map needs a scheme and host in FROM";
  }
  if (regex) {
    try {
      rule->host_regex = std::make_shared<const HostRegex>(
          HostRegex{std::regex(from.host, std::regex::ECMAScript | std::regex::icase)});
    } catch (const std::regex_error& e) {
      return "bad regex '" + from.host + "': " + e.what();
    }
    const size_t groups = rule->host_regex->re.mark_count();
    for (size_t i = 0; i + 1 < to.host.size(); ++i) {
      if (to.host[i] == '$' && static_cast<size_t>(to.host[i + 1] - '0') > groups) {
        return "TO uses $" + std::string(1, to.host[i + 1]) + " but the regex has " + std::to_string(groups) +
               " group(s)";
      }
    }
  }
  rule->from = RuleUrl{from.scheme, from.host, from.port, from.port_explicit, from.path};
  rule->to = RuleUrl{to.scheme, to.host, to.port, to.port_explicit, to.path};
  return "";
}

Status RemapTable::Parse(std::string_view text, const std::string& filename) {
  std::vector<Rule> parsed;
  std::vector<std::string> errors;
  ForEachLine(text, [&](int line_no, std::string_view line) {
    std::vector<std::string_view> tokens;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i == line.size() || line[i] == '#') break;  // a token starting with '#' comments out the rest
      const size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      tokens.push_back(line.substr(start, i - start));
    }
    if (tokens.empty()) return;
    Rule rule;
    std::string problem = ParseRule(tokens, &rule);
    if (problem.empty()) {
      parsed.push_back(std::move(rule));
    } else {
      errors.push_back(filename + ":" + std::to_string(line_no) + ": " + problem);
    }
  });
  if (!errors.empty()) return Status::InvalidArgument(Join(errors));
  for (Rule& rule : parsed) Append(std::move(rule));
  return Status::OK();
}

Status RemapTable::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": cannot read");
  return Parse(text.str(), path);
}

Status RemapTable::AddCatchAll(std::string_view origin_url) {
  ParsedUrl to;
  std::string problem = ParseUrl(origin_url, UrlMode::kTo, &to);
  if (!problem.empty()) return Status::InvalidArgument("--origin " + problem);
  Rule rule;
  rule.directive = Directive::kMap;
  rule.to = RuleUrl{to.scheme, to.host, to.port, to.port_explicit, to.path};
  Append(std::move(rule));
  return Status::OK();
}

void RemapTable::Append(Rule rule) {
  const size_t index = rules_.size();
  std::vector<size_t>* tier = &catch_all_;
  if (rule.directive == Directive::kReverseMap) {
    tier = &reverse_;
  } else if (rule.directive == Directive::kRegexMap) {
    tier = &regex_;
  } else if (!rule.from.host.empty()) {
    tier = &exact_[rule.from.host];
  }
  rules_.push_back(std::move(rule));
  tier->push_back(index);
  // Longest path first; stable, so equal lengths stay in file order.
  std::stable_sort(tier->begin(), tier->end(),
                   [this](size_t a, size_t b) { return rules_[a].from.path.size() > rules_[b].from.path.size(); });
}

const RemapTable::Rule* RemapTable::Match(const std::vector<size_t>& tier, std::string_view scheme, uint16_t port,
                                          std::string_view path, const std::string& host, std::string* to_host) const {
  for (size_t index : tier) {
    const Rule& rule = rules_[index];
    if (!rule.from.scheme.empty() && rule.from.scheme != scheme) continue;
    if (rule.from.port_explicit && rule.from.port != port) continue;
    if (!PathPrefixMatches(rule.from.path, path)) continue;
    if (rule.directive != Directive::kRegexMap) {
      *to_host = rule.to.host;
      return &rule;
    }
    std::smatch groups;
    try {
      if (!std::regex_match(host, groups, rule.host_regex->re)) continue;
    } catch (const std::regex_error&) {
      continue;  // e.g. error_complexity on a hostile Host: not a match
    }
    // The client chose the groups; never let them form something that is
    // not a host name.
    *to_host = Substitute(rule.to.host, groups);
    if (ValidHost(*to_host, false)) return &rule;
  }
  return nullptr;
}

void RemapTable::Build(const Rule& rule, std::string_view to_host, std::string_view path, RemapResult* out) const {
  // Written into out's strings (not fresh ones): a connection's requests
  // reuse their capacity.
  out->origin_path.clear();
  AppendJoinedPath(rule.to.path, path.substr(rule.from.path.size()), &out->origin_path);
  out->origin_host_header.clear();
  AppendAuthority(rule.to.scheme, to_host, rule.to.port, &out->origin_host_header);
  const bool redirect = rule.directive == Directive::kRedirect || rule.directive == Directive::kRedirectTemporary;
  std::string& url = redirect ? out->location : out->origin_url;
  url.assign(rule.to.scheme).append("://").append(out->origin_host_header).append(out->origin_path);
  if (redirect) {
    out->kind =
        rule.directive == Directive::kRedirect ? RemapResult::Kind::kRedirect : RemapResult::Kind::kRedirectTemporary;
    out->origin_url.clear();
    return;
  }
  out->kind = RemapResult::Kind::kMap;
  out->location.clear();
  std::string_view host = to_host;
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  out->origin.scheme.assign(rule.to.scheme);
  out->origin.host.assign(host);
  out->origin.port = rule.to.port;
}

bool RemapTable::Map(std::string_view scheme, std::string_view host_header, std::string_view path,
                     RemapResult* out) const {
  if (!path.starts_with('/')) return false;
  const std::string lscheme = Lower(scheme);
  // Split the Host value into host and optional port.
  std::string_view hv = host_header;
  while (!hv.empty() && (hv.back() == ' ' || hv.back() == '\t')) hv.remove_suffix(1);
  while (!hv.empty() && (hv.front() == ' ' || hv.front() == '\t')) hv.remove_prefix(1);
  std::string_view port_text;
  const size_t colon = hv.rfind(':');
  const size_t bracket = hv.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    port_text = hv.substr(colon + 1);
    hv = hv.substr(0, colon);
  }
  uint16_t port = DefaultPort(lscheme);
  if (!port_text.empty() && !ParsePort(port_text, &port)) return false;
  if (hv.ends_with('.')) hv.remove_suffix(1);  // "example.com." is "example.com"
  const std::string host = Lower(hv);

  std::string to_host;
  const Rule* rule = nullptr;
  if (auto it = exact_.find(host); it != exact_.end() && !host.empty()) {
    rule = Match(it->second, lscheme, port, path, host, &to_host);
  }
  if (!rule && !host.empty()) rule = Match(regex_, lscheme, port, path, host, &to_host);
  if (!rule) rule = Match(catch_all_, lscheme, port, path, host, &to_host);
  if (!rule) return false;
  Build(*rule, to_host, path, out);
  return true;
}

bool RemapTable::ReverseMap(std::string_view url, std::string* out) const {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return false;
  const std::string scheme = Lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  const size_t end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, end);
  std::string path = rest.substr(end).starts_with('/') ? "" : "/";
  path += rest.substr(end);
  uint16_t port = DefaultPort(scheme);
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    if (!ParsePort(authority.substr(colon + 1), &port)) return false;
    authority = authority.substr(0, colon);
  }
  const std::string host = Lower(authority);
  for (size_t index : reverse_) {
    const Rule& rule = rules_[index];
    if (rule.from.scheme != scheme || rule.from.host != host || rule.from.port != port) continue;
    if (!PathPrefixMatches(rule.from.path, path)) continue;
    *out = rule.to.scheme + "://" + Authority(rule.to.scheme, rule.to.host, rule.to.port) +
           JoinPath(rule.to.path, std::string_view(path).substr(rule.from.path.size()));
    return true;
  }
  return false;
}

}  // namespace strata
