// ip_allow.yaml parsing and the first-match access check; see ip_allow.h.

#include "proxy/ip_allow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "proxy/http_parser.h"

namespace strata {

namespace {

using AddrRange = IpAllow::AddrRange;

// Same rules as etc/ip_allow.yaml; parsed by Default().
constexpr std::string_view kDefaultRules = R"(ip_allow:
  - apply: in
    ip_addrs: 127.0.0.1
    action: allow
    methods: ALL
  - apply: in
    ip_addrs: ::1
    action: allow
    methods: ALL
  - apply: in
    ip_addrs: 0/0
    action: deny
    methods: [PURGE, ADMIN]
  - apply: in
    ip_addrs: ::/0
    action: deny
    methods: [PURGE, ADMIN]
)";

// Collects "file:line: problem" lines.
class Problems {
 public:
  explicit Problems(const std::string& file) : file_(file) {}
  void Add(const YAML::Node& at, const std::string& what) { AddLine(at.Mark().line + 1, what); }
  void AddLine(int line, const std::string& what) {
    lines_ += (lines_.empty() ? "" : "\n") + file_ + ":" + std::to_string(line < 1 ? 1 : line) + ": " + what;
  }
  bool empty() const { return lines_.empty(); }
  const std::string& text() const { return lines_; }

 private:
  const std::string& file_;
  std::string lines_;
};

// One address: IPv4 dotted quad or IPv6 text (inet_pton's forms).
bool ParseAddr(std::string_view text, int* family, std::array<uint8_t, 16>* bytes) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return false;
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

// Parses `text` into *range; returns "" or the problem.
std::string ParseRange(std::string_view text, AddrRange* range) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text == "0/0") text = "0.0.0.0/0";  // ATS's spelling of every IPv4 address
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    if (!ParseAddr(text.substr(0, slash), &range->family, &range->lo)) return "bad address in CIDR " + quoted;
    const std::string_view prefix = text.substr(slash + 1);
    const int max_bits = range->family == AF_INET ? 32 : 128;
    int bits = 0;
    bool ok = !prefix.empty() && prefix.size() <= 3;
    for (char c : prefix) {
      if (c < '0' || c > '9') ok = false;
      bits = bits * 10 + (c - '0');
    }
    if (!ok || bits > max_bits) {
      return "bad CIDR " + quoted + ": prefix length must be 0-" + std::to_string(max_bits);
    }
    range->hi = range->lo;
    for (int i = 0; i < max_bits / 8; ++i) {
      const int keep = std::min(8, std::max(0, bits - 8 * i));  // leading bits of byte i kept
      const uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xFF << (8 - keep));
      range->lo[i] &= mask;
      range->hi[i] |= static_cast<uint8_t>(~mask);
    }
    return "";
  }
  if (size_t dash = text.find('-'); dash != std::string_view::npos) {
    int hi_family = 0;
    if (!ParseAddr(text.substr(0, dash), &range->family, &range->lo) ||
        !ParseAddr(text.substr(dash + 1), &hi_family, &range->hi)) {
      return "bad address range " + quoted;
    }
    if (hi_family != range->family) return "bad address range " + quoted + ": mixes IPv4 and IPv6";
    if (std::memcmp(range->lo.data(), range->hi.data(), range->lo.size()) > 0) {
      return "bad address range " + quoted + ": first address is above the last";
    }
    return "";
  }
  if (!ParseAddr(text, &range->family, &range->lo)) return "bad address " + quoted;
  range->hi = range->lo;
  return "";
}

// Calls fn(scalar node) for a scalar or for each element of a sequence of
// scalars; reports anything else. Returns the number of scalars seen.
template <typename Fn>
int ForEachScalar(const YAML::Node& node, const char* key, Problems* problems, Fn&& fn) {
  if (node.IsScalar()) {
    fn(node);
    return 1;
  }
  if (!node.IsSequence()) {
    problems->Add(node, std::string("'") + key + "' must be a string or a list of strings");
    return 0;
  }
  int n = 0;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) {
      problems->Add(item, std::string("'") + key + "' list elements must be strings");
      continue;
    }
    fn(item);
    ++n;
  }
  if (n == 0 && node.size() == 0) problems->Add(node, std::string("'") + key + "' is an empty list");
  return n;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!http::IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void ParseRule(const YAML::Node& node, Problems* problems, std::vector<IpAllow::Rule>* rules) {
  if (!node.IsMap()) {
    problems->Add(node, "a rule must be a mapping of apply, ip_addrs, action and methods");
    return;
  }
  IpAllow::Rule rule;
  rule.line = node.Mark().line + 1;
  rule.all_methods = true;  // no `methods` key: ALL
  bool has_apply = false, has_addrs = false, has_action = false, ok = true;
  std::set<std::string> seen;
  for (const auto& kv : node) {
    const YAML::Node& key = kv.first;
    const YAML::Node& value = kv.second;
    const std::string name = key.IsScalar() ? key.Scalar() : "";
    if (!seen.insert(name).second) {
      problems->Add(key, "duplicate key '" + name + "'");
      ok = false;
      continue;
    }
    if (name == "apply") {
      has_apply = true;
      const std::string v = value.IsScalar() ? value.Scalar() : "";
      if (http::EqualsIgnoreCase(v, "in")) {
        rule.apply = IpAllow::Apply::kIn;
      } else if (http::EqualsIgnoreCase(v, "out")) {
        rule.apply = IpAllow::Apply::kOut;
      } else {
        problems->Add(value, "bad apply '" + v + "': expected in or out");
        ok = false;
      }
    } else if (name == "action") {
      has_action = true;
      const std::string v = value.IsScalar() ? value.Scalar() : "";
      if (http::EqualsIgnoreCase(v, "allow") || http::EqualsIgnoreCase(v, "set_allow")) {
        rule.action = IpAllow::Action::kAllow;
      } else if (http::EqualsIgnoreCase(v, "deny") || http::EqualsIgnoreCase(v, "set_deny")) {
        rule.action = IpAllow::Action::kDeny;
      } else {
        problems->Add(value, "bad action '" + v + "': expected allow or deny (or set_allow, set_deny)");
        ok = false;
      }
    } else if (name == "ip_addrs") {
      has_addrs = true;
      const int n = ForEachScalar(value, "ip_addrs", problems, [&](const YAML::Node& item) {
        AddrRange range;
        const std::string problem = ParseRange(item.Scalar(), &range);
        if (problem.empty()) {
          rule.ranges.push_back(range);
        } else {
          problems->Add(item, problem);
          ok = false;
        }
      });
      if (n == 0) ok = false;
    } else if (name == "methods") {
      rule.all_methods = false;
      const int n = ForEachScalar(value, "methods", problems, [&](const YAML::Node& item) {
        const std::string& m = item.Scalar();
        if (http::EqualsIgnoreCase(m, "ALL")) {
          rule.all_methods = true;
        } else if (IsToken(m)) {
          rule.methods.push_back(m);
        } else {
          problems->Add(item, "bad method '" + m + "': not a token");
          ok = false;
        }
      });
      if (n == 0) ok = false;
    } else if (name == "ip_categories") {
      problems->Add(key, "'ip_categories' is not supported; list the addresses in ip_addrs");
      ok = false;
    } else {
      problems->Add(key, "unknown key '" + name + "' (expected apply, ip_addrs, action, methods)");
      ok = false;
    }
  }
  if (!has_apply) problems->AddLine(rule.line, "rule has no 'apply' (in or out)");
  if (!has_addrs) problems->AddLine(rule.line, "rule has no 'ip_addrs'");
  if (!has_action) problems->AddLine(rule.line, "rule has no 'action' (allow or deny)");
  if (ok && has_apply && has_addrs && has_action) {
    if (rule.all_methods) rule.methods.clear();
    rules->push_back(std::move(rule));
  }
}

bool Contains(const AddrRange& r, int family, const uint8_t* addr) {
  if (r.family != family) return false;
  const size_t n = family == AF_INET ? 4 : 16;
  return std::memcmp(r.lo.data(), addr, n) <= 0 && std::memcmp(addr, r.hi.data(), n) <= 0;
}

// Reduces a v4-mapped IPv6 address to IPv4; true if `addr` was one.
bool UnmapV4(const uint8_t* addr16, uint8_t* out4) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(addr16, kPrefix, sizeof kPrefix) != 0) return false;
  std::memcpy(out4, addr16 + 12, 4);
  return true;
}

}  // namespace

Status IpAllow::Load(const std::string& path, IpAllow* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": cannot read");
  return Parse(text.str(), path, out);
}

Status IpAllow::Parse(std::string_view yaml, const std::string& file_name, IpAllow* out) {
  Problems problems(file_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    problems.AddLine(e.mark.line + 1, "YAML syntax error: " + e.msg);
    return Status::InvalidArgument(problems.text());
  }
  std::vector<Rule> rules;
  if (!root.IsMap()) {
    problems.AddLine(1, "expected a top-level 'ip_allow' list");
    return Status::InvalidArgument(problems.text());
  }
  bool has_list = false;
  for (const auto& kv : root) {
    const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (name != "ip_allow") {
      problems.Add(kv.first, "unknown top-level key '" + name + "' (expected ip_allow)");
      continue;
    }
    if (has_list) {
      problems.Add(kv.first, "duplicate key 'ip_allow'");
      continue;
    }
    has_list = true;
    const YAML::Node& list = kv.second;
    if (list.IsMap()) {  // ATS also takes a single rule
      ParseRule(list, &problems, &rules);
    } else if (list.IsSequence()) {
      for (const YAML::Node& rule : list) ParseRule(rule, &problems, &rules);
    } else {
      problems.Add(list.IsNull() ? kv.first : list, "'ip_allow' must be a list of rules");
    }
  }
  if (!has_list) problems.AddLine(1, "expected a top-level 'ip_allow' list");
  if (!problems.empty()) return Status::InvalidArgument(problems.text());
  out->rules_ = std::move(rules);
  return Status::OK();
}

IpAllow IpAllow::Default() {
  IpAllow ip_allow;
  Status st = Parse(kDefaultRules, "<built-in ip_allow>", &ip_allow);
  (void)st;  // the built-in text is known good (ip_allow_test checks it)
  return ip_allow;
}

bool IpAllow::Allowed(const sockaddr* client, std::string_view method) const {
  if (client == nullptr) return false;
  if (client->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(client);
    return AllowedAddr(AF_INET, reinterpret_cast<const uint8_t*>(&sin->sin_addr), method);
  }
  if (client->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(client);
    const auto* addr = reinterpret_cast<const uint8_t*>(&sin6->sin6_addr);
    uint8_t v4[4];
    if (UnmapV4(addr, v4)) return AllowedAddr(AF_INET, v4, method);
    return AllowedAddr(AF_INET6, addr, method);
  }
  return false;
}

bool IpAllow::Allowed(std::string_view ip_text, std::string_view method) const {
  int family = 0;
  std::array<uint8_t, 16> addr;
  if (!ParseAddr(ip_text, &family, &addr)) return false;
  uint8_t v4[4];
  if (family == AF_INET6 && UnmapV4(addr.data(), v4)) return AllowedAddr(AF_INET, v4, method);
  return AllowedAddr(family, addr.data(), method);
}

bool IpAllow::AllowedAddr(int family, const uint8_t* addr, std::string_view method) const {
  for (const Rule& rule : rules_) {
    if (rule.apply != Apply::kIn) continue;
    bool match = false;
    for (const AddrRange& r : rule.ranges) {
      if (Contains(r, family, addr)) {
        match = true;
        break;
      }
    }
    if (!match) continue;
    bool listed = rule.all_methods;
    for (size_t i = 0; !listed && i < rule.methods.size(); ++i)
      listed = http::EqualsIgnoreCase(rule.methods[i], method);
    return rule.action == Action::kAllow ? listed : !listed;
  }
  return false;  // no rule matches: denied
}

}  // namespace strata
