#include "proxy/cache_rules.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
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

struct CacheRules::UrlRegex {
  std::regex re;
};

struct CacheRules::Request {
  std::string_view scheme;
  std::string_view host;  // brackets and a trailing dot removed
  uint16_t port = 0;
  std::string_view path;
  std::string_view url;
  std::string_view method;
  int family = 0;  // AF_INET/AF_INET6 when host is an address, else 0
  std::array<uint8_t, 16> addr{};
};

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l;
  return out;
}

std::string Quoted(std::string_view s) { return std::string("'").append(s).append("'"); }

// RFC 9110 §5.6.2 tchar.
bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

// A DNS name (letters, digits, '.', '-', '_'), or with `ip6` also an IPv6
// literal's characters.
bool ValidHostName(std::string_view h, bool ip6) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [ip6](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || (ip6 && c == ':');
  });
}

// Removes IPv6 brackets and one trailing dot.
std::string_view BareHost(std::string_view h) {
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.ends_with('.')) h.remove_suffix(1);
  return h;
}

bool ParseAddr(std::string_view text, int* family, std::array<uint8_t, 16>* bytes) {
  if (text.empty() || text.size() > 64) return false;
  const std::string s(text);
  bytes->fill(0);
  if (inet_pton(AF_INET, s.c_str(), bytes->data()) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes->data()) == 1) {
    *family = AF_INET6;
    return true;
  }
  return false;
}

bool ParsePort(std::string_view s, uint16_t* port) {
  unsigned n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || n < 1 || n > 65535) return false;
  *port = static_cast<uint16_t>(n);
  return true;
}

enum class KeyKind { kPrimary, kSecondary, kAction, kUnsupported };

struct KeyDef {
  std::string_view name;
  KeyKind kind;
};

constexpr KeyDef kKeys[] = {
    {"dest_domain", KeyKind::kPrimary},  {"dest_host", KeyKind::kPrimary},
    {"dest_ip", KeyKind::kPrimary},      {"url_regex", KeyKind::kPrimary},
    {"prefix", KeyKind::kSecondary},     {"suffix", KeyKind::kSecondary},
    {"method", KeyKind::kSecondary},     {"port", KeyKind::kSecondary},
    {"scheme", KeyKind::kSecondary},     {"action", KeyKind::kAction},
    {"ttl-in-cache", KeyKind::kAction},  {"pin-in-cache", KeyKind::kAction},
    {"revalidate", KeyKind::kAction},    {"host_regex", KeyKind::kUnsupported},
    {"src_ip", KeyKind::kUnsupported},   {"time", KeyKind::kUnsupported},
    {"internal", KeyKind::kUnsupported}, {"cache-responses-to-cookies", KeyKind::kUnsupported},
};

}  // namespace

bool CacheRules::ParseTime(std::string_view text, int64_t* seconds) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (text.empty()) return false;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    int64_t n = 0;
    const size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i++] - '0');
      if (n > kMax) return false;
    }
    if (i == start) return false;  // a unit without a number, or junk
    int64_t unit = 1;
    if (i < text.size()) {
      switch (std::tolower(static_cast<unsigned char>(text[i++]))) {
        case 'd':
          unit = 86400;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'm':
          unit = 60;
          break;
        case 's':
          unit = 1;
          break;
        default:
          return false;
      }
    }
    total += n * unit;  // n <= 2^31 and unit <= 86400: no overflow
    if (total > kMax) return false;
  }
  *seconds = total;
  return true;
}

std::string CacheRules::ParseRule(const std::vector<Token>& tokens, Rule* rule) {
  const Token* primary = nullptr;
  const Token* action = nullptr;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    const KeyDef* def = nullptr;
    for (const KeyDef& d : kKeys) {
      if (d.name == t.key) def = &d;
    }
    if (def == nullptr) return "unknown key " + Quoted(t.key);
    if (def->kind == KeyKind::kUnsupported) return Quoted(t.key) + " is not supported";
    for (size_t j = 0; j < i; ++j) {
      if (tokens[j].key == t.key) return "duplicate " + Quoted(t.key);
    }
    if (t.value.empty()) return "empty value for " + Quoted(t.key);
    if (def->kind == KeyKind::kPrimary) {
      if (primary != nullptr) {
        return "more than one primary specifier (" + Quoted(primary->key) + " and " + Quoted(t.key) + ")";
      }
      primary = &t;
    } else if (def->kind == KeyKind::kAction) {
      if (action != nullptr) return "more than one action (" + Quoted(action->key) + " and " + Quoted(t.key) + ")";
      action = &t;
    }
  }
  if (primary == nullptr) return "no primary specifier (dest_domain, dest_host, dest_ip or url_regex)";
  if (action == nullptr) return "no action (action=..., ttl-in-cache=, pin-in-cache= or revalidate=)";

  // The primary specifier.
  const std::string& pv = primary->value;
  if (primary->key == "dest_domain") {
    rule->primary = Primary::kDomain;
    std::string_view d = pv;
    if (d.starts_with('.')) d.remove_prefix(1);
    if (d.ends_with('.')) d.remove_suffix(1);
    if (!ValidHostName(d, false)) return "bad domain " + Quoted(pv);
    rule->name = Lower(d);
  } else if (primary->key == "dest_host") {
    rule->primary = Primary::kHost;
    const std::string_view h = BareHost(pv);
    if (!ValidHostName(h, true)) return "bad host " + Quoted(pv);
    rule->name = Lower(h);
  } else if (primary->key == "dest_ip") {
    rule->primary = Primary::kIp;
    AddrRange& r = rule->ip;
    const size_t slash = pv.find('/');
    const size_t dash = pv.find('-');
    if (slash != std::string::npos) {
      unsigned bits = 0;
      const std::string_view b = std::string_view(pv).substr(slash + 1);
      auto [end, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
      if (!ParseAddr(pv.substr(0, slash), &r.family, &r.lo) || b.empty() || ec != std::errc() ||
          end != b.data() + b.size() || bits > (r.family == AF_INET ? 32u : 128u)) {
        return "bad address range " + Quoted(pv);
      }
      r.hi = r.lo;
      for (unsigned i = bits; i < (r.family == AF_INET ? 32u : 128u); ++i) {
        r.lo[i / 8] = static_cast<uint8_t>(r.lo[i / 8] & ~(0x80u >> (i % 8)));
        r.hi[i / 8] = static_cast<uint8_t>(r.hi[i / 8] | (0x80u >> (i % 8)));
      }
    } else if (dash != std::string::npos) {
      int hi_family = 0;
      if (!ParseAddr(pv.substr(0, dash), &r.family, &r.lo) || !ParseAddr(pv.substr(dash + 1), &hi_family, &r.hi) ||
          hi_family != r.family || r.hi < r.lo) {
        return "bad address range " + Quoted(pv) + " (A-B: same family, A <= B)";
      }
    } else {
      if (!ParseAddr(pv, &r.family, &r.lo)) return "bad address " + Quoted(pv);
      r.hi = r.lo;
    }
  } else {
    rule->primary = Primary::kUrlRegex;
    try {
      rule->url_regex = std::make_shared<const UrlRegex>(UrlRegex{std::regex(pv, std::regex::ECMAScript)});
    } catch (const std::regex_error& e) {
      return "bad regex " + Quoted(pv) + ": " + e.what();
    }
  }

  // Secondary specifiers and the action.
  for (const Token& t : tokens) {
    const std::string& v = t.value;
    if (t.key == "prefix") {
      rule->prefix = std::string(v.substr(std::min(v.find_first_not_of('/'), v.size())));
    } else if (t.key == "suffix") {
      rule->suffix = Lower(v);
    } else if (t.key == "method") {
      if (!IsToken(v)) return "bad method " + Quoted(v);
      rule->method = Upper(v);
    } else if (t.key == "port") {
      const size_t dash = v.find('-');
      const bool ok = dash == std::string::npos ? ParsePort(v, &rule->port_lo)
                                                : ParsePort(std::string_view(v).substr(0, dash), &rule->port_lo) &&
                                                      ParsePort(std::string_view(v).substr(dash + 1), &rule->port_hi);
      if (dash == std::string::npos) rule->port_hi = rule->port_lo;
      if (!ok || rule->port_lo > rule->port_hi) return "bad port " + Quoted(v) + " (1..65535, or A-B)";
    } else if (t.key == "scheme") {
      rule->scheme = Lower(v);
      if (*rule->scheme != "http" && *rule->scheme != "https") return "bad scheme " + Quoted(v) + " (http or https)";
    } else if (t.key == "action") {
      static const std::pair<std::string_view, Action> kActions[] = {
          {"never-cache", Action::kNeverCache},
          {"ignore-no-cache", Action::kIgnoreNoCache},
          {"ignore-client-no-cache", Action::kIgnoreClient},
          {"ignore-server-no-cache", Action::kIgnoreServer},
          {"cluster-cache-local", Action::kNone},
      };
      const std::string name = Lower(v);
      bool known = false;
      for (auto [n, a] : kActions) {
        if (n == name) {
          rule->action = a;
          known = true;
        }
      }
      if (!known) {
        return "unknown action " + Quoted(v) +
               " (never-cache, ignore-no-cache, ignore-client-no-cache, ignore-server-no-cache, cluster-cache-local)";
      }
    } else if (t.key == "ttl-in-cache" || t.key == "pin-in-cache" || t.key == "revalidate") {
      rule->action = t.key == "ttl-in-cache"   ? Action::kTtl
                     : t.key == "pin-in-cache" ? Action::kPin
                                               : Action::kRevalidate;
      if (!ParseTime(v, &rule->seconds)) {
        return "bad time " + Quoted(v) + " for " + Quoted(t.key) + " (NUMBER[d|h|m|s]..., e.g. 1d2h30m or 90)";
      }
    }
  }
  return "";
}

Status CacheRules::Parse(std::string_view text, const std::string& file_name) {
  std::vector<Rule> parsed;
  std::vector<std::string> errors;
  ForEachLine(text, [&](int line_no, std::string_view line) {
    // Tokens: key=value or key="value with spaces"; a token that starts
    // with '#' comments out the rest of the line.
    std::vector<Token> tokens;
    std::string problem;
    size_t i = 0;
    auto space = [&line](size_t k) { return std::isspace(static_cast<unsigned char>(line[k])) != 0; };
    while (problem.empty()) {
      while (i < line.size() && space(i)) ++i;
      if (i == line.size() || line[i] == '#') break;
      const size_t start = i;
      while (i < line.size() && !space(i) && line[i] != '=') ++i;
      if (i == line.size() || line[i] != '=' || i == start) {
        while (i < line.size() && !space(i)) ++i;
        problem = "expected key=value, got " + Quoted(line.substr(start, i - start));
        break;
      }
      Token t{Lower(line.substr(start, i - start)), ""};
      ++i;  // '='
      if (i < line.size() && line[i] == '"') {
        const size_t close = line.find('"', i + 1);
        if (close == std::string_view::npos) {
          problem = "unterminated quote in " + Quoted(line.substr(start));
          break;
        }
        t.value = std::string(line.substr(i + 1, close - i - 1));
        i = close + 1;
        if (i < line.size() && !space(i)) problem = "expected whitespace after the closing quote of " + Quoted(t.key);
      } else {
        const size_t vstart = i;
        while (i < line.size() && !space(i)) ++i;
        t.value = std::string(line.substr(vstart, i - vstart));
      }
      tokens.push_back(std::move(t));
    }
    if (problem.empty() && tokens.empty()) return;
    Rule rule;
    if (problem.empty()) problem = ParseRule(tokens, &rule);
    if (problem.empty()) {
      parsed.push_back(std::move(rule));
    } else {
      errors.push_back(file_name + ":" + std::to_string(line_no) + ": " + problem);
    }
  });
  if (!errors.empty()) return Status::InvalidArgument(Join(errors));
  for (Rule& rule : parsed) rules_.push_back(std::move(rule));
  return Status::OK();
}

Status CacheRules::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": cannot read");
  return Parse(text.str(), path);
}

bool CacheRules::Matches(const Rule& rule, const Request& req) {
  switch (rule.primary) {
    case Primary::kDomain: {
      const std::string& d = rule.name;
      if (req.host.size() < d.size() || !EqualsIgnoreCase(req.host.substr(req.host.size() - d.size()), d)) {
        return false;
      }
      if (req.host.size() > d.size() && req.host[req.host.size() - d.size() - 1] != '.') return false;
      break;
    }
    case Primary::kHost:
      if (!EqualsIgnoreCase(req.host, rule.name)) return false;
      break;
    case Primary::kIp: {
      const size_t n = rule.ip.family == AF_INET ? 4 : 16;
      if (req.family != rule.ip.family || std::memcmp(req.addr.data(), rule.ip.lo.data(), n) < 0 ||
          std::memcmp(req.addr.data(), rule.ip.hi.data(), n) > 0) {
        return false;
      }
      break;
    }
    case Primary::kUrlRegex:
      try {
        if (!std::regex_search(req.url.begin(), req.url.end(), rule.url_regex->re)) return false;
      } catch (const std::regex_error&) {
        return false;  // e.g. error_complexity on a hostile URL: not a match
      }
      break;
  }
  if (rule.scheme && !EqualsIgnoreCase(req.scheme, *rule.scheme)) return false;
  if (rule.port_lo != 0 && (req.port < rule.port_lo || req.port > rule.port_hi)) return false;
  if (rule.method && !EqualsIgnoreCase(req.method, *rule.method)) return false;
  if (rule.prefix) {
    std::string_view p = req.path;
    if (p.starts_with('/')) p.remove_prefix(1);
    if (!p.starts_with(*rule.prefix)) return false;
  }
  if (rule.suffix) {
    const std::string& s = *rule.suffix;
    if (req.path.size() < s.size() || !EqualsIgnoreCase(req.path.substr(req.path.size() - s.size()), s)) return false;
  }
  return true;
}

CacheRuleActions CacheRules::Match(std::string_view scheme, std::string_view host, uint16_t port, std::string_view path,
                                   std::string_view url, std::string_view method) const {
  CacheRuleActions out;
  if (rules_.empty()) return out;
  Request req{scheme, BareHost(host), port, path, url, method};
  // Only numeric hosts can be addresses; skip inet_pton for names.
  const bool numeric = !req.host.empty() && (std::isdigit(static_cast<unsigned char>(req.host[0])) ||
                                             req.host.find(':') != std::string_view::npos);
  if (!numeric || !ParseAddr(req.host, &req.family, &req.addr)) req.family = 0;
  for (const Rule& rule : rules_) {
    if (!Matches(rule, req)) continue;
    switch (rule.action) {
      case Action::kNeverCache:
        out.never_cache = true;
        break;
      case Action::kIgnoreNoCache:
        out.ignore_client_no_cache = true;
        out.ignore_server_no_cache = true;
        break;
      case Action::kIgnoreClient:
        out.ignore_client_no_cache = true;
        break;
      case Action::kIgnoreServer:
        out.ignore_server_no_cache = true;
        break;
      case Action::kNone:
        break;
      case Action::kTtl:
        if (!out.ttl_in_cache && !out.revalidate) out.ttl_in_cache = rule.seconds;
        break;
      case Action::kRevalidate:
        if (!out.ttl_in_cache && !out.revalidate) out.revalidate = rule.seconds;
        break;
      case Action::kPin:
        if (!out.pin_in_cache) out.pin_in_cache = rule.seconds;
        break;
    }
  }
  if (out.ttl_in_cache) out.never_cache = false;  // ttl-in-cache overrides never-cache, as in ATS
  return out;
}

}  // namespace strata
