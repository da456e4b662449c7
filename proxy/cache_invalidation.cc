// RFC 9111 §4.4 invalidation after unsafe requests, with the RFC 3986 §5.2
// reference resolution it needs for Location / Content-Location. Declared in
// cache_policy.h.
#include <algorithm>
#include <cctype>

#include "proxy/cache_policy.h"

namespace strata::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string_view> FirstField(std::span<const Field> fields, std::string_view name) {
  for (const Field& f : fields)
    if (EqualsIgnoreCase(f.name, name)) return f.value;
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------- invalidation

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

namespace {

struct UriParts {
  std::string_view scheme, authority, path, query;
  bool has_scheme = false, has_authority = false, has_query = false;
};

// RFC 3986 §3 / Appendix B split; the fragment is dropped.
bool SplitUri(std::string_view s, UriParts* u) {
  s = s.substr(0, s.find('#'));
  size_t colon = s.find(':');
  size_t delim = s.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 && (delim == std::string_view::npos || colon < delim)) {
    std::string_view scheme = s.substr(0, colon);
    if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return false;
    for (char c : scheme)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
    u->scheme = scheme;
    u->has_scheme = true;
    s.remove_prefix(colon + 1);
  }
  if (s.substr(0, 2) == "//") {
    s.remove_prefix(2);
    size_t end = s.find_first_of("/?");
    u->authority = s.substr(0, end);
    u->has_authority = true;
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  }
  size_t q = s.find('?');
  u->path = s.substr(0, q);
  if (q != std::string_view::npos) {
    u->has_query = true;
    u->query = s.substr(q + 1);
  }
  for (char c : s)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  return true;
}

// RFC 3986 §5.2.4.
std::string RemoveDotSegments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.substr(0, 3) == "../")
      in.remove_prefix(3);
    else if (in.substr(0, 2) == "./")
      in.remove_prefix(2);
    else if (in.substr(0, 3) == "/./")
      in.remove_prefix(2);
    else if (in == "/.")
      in = "/";
    else if (in.substr(0, 4) == "/../" || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      size_t slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', 1);
      if (next == std::string_view::npos) next = in.size();
      out += in.substr(0, next);
      in.remove_prefix(next);
    }
  }
  return out;
}

// scheme, host and port, lowercased, with the scheme's default port.
std::string Origin(const UriParts& u) {
  std::string scheme = Lower(u.scheme);
  std::string_view auth = u.authority;
  size_t at = auth.rfind('@');
  if (at != std::string_view::npos) auth.remove_prefix(at + 1);
  size_t port_colon = auth.rfind(':');
  if (port_colon != std::string_view::npos && auth.find(']', port_colon) != std::string_view::npos)
    port_colon = std::string_view::npos;  // a colon inside an IPv6 literal
  std::string host = Lower(auth.substr(0, port_colon));
  std::string port = port_colon == std::string_view::npos ? "" : std::string(auth.substr(port_colon + 1));
  if (port.empty()) port = scheme == "https" ? "443" : scheme == "http" ? "80" : "";
  return scheme + "://" + host + ":" + port;
}

}  // namespace

bool ResolveUri(std::string_view base, std::string_view ref, std::string* out) {
  UriParts b, r;
  if (!SplitUri(base, &b) || !b.has_scheme || !SplitUri(ref, &r)) return false;
  std::string_view scheme = b.scheme, authority = b.authority, query = r.query;
  bool has_authority = b.has_authority, has_query = r.has_query;
  std::string path;
  if (r.has_scheme) {  // §5.2.2
    scheme = r.scheme;
    authority = r.authority;
    has_authority = r.has_authority;
    path = RemoveDotSegments(r.path);
  } else if (r.has_authority) {
    authority = r.authority;
    path = RemoveDotSegments(r.path);
  } else if (r.path.empty()) {
    path = std::string(b.path);
    if (!r.has_query) {
      query = b.query;
      has_query = b.has_query;
    }
  } else if (r.path.front() == '/') {
    path = RemoveDotSegments(r.path);
  } else {  // §5.2.3 merge
    std::string merged;
    if (b.has_authority && b.path.empty())
      merged = "/" + std::string(r.path);
    else
      merged = std::string(b.path.substr(0, b.path.rfind('/') + 1)) + std::string(r.path);
    path = RemoveDotSegments(merged);
  }
  *out = std::string(scheme) + ":";
  if (has_authority) *out += "//" + std::string(authority);
  *out += path;
  if (has_query) *out += "?" + std::string(query);
  return true;
}

std::vector<std::string> InvalidationTargets(std::string_view method, int status, std::string_view target,
                                             std::span<const Field> response_fields) {
  std::vector<std::string> out;
  if (IsSafeMethod(method) || status < 200 || status > 399) return out;
  out.emplace_back(target);
  UriParts t;
  if (!SplitUri(target, &t) || !t.has_scheme || !t.has_authority) return out;
  std::string target_origin = Origin(t);
  for (std::string_view name : {"location", "content-location"}) {
    std::optional<std::string_view> ref = FirstField(response_fields, name);
    std::string resolved;
    UriParts u;
    if (!ref || !ResolveUri(target, *ref, &resolved) || !SplitUri(resolved, &u)) continue;
    if (Origin(u) != target_origin) continue;  // §4.4: MUST NOT cross origins
    if (std::find(out.begin(), out.end(), resolved) == out.end()) out.push_back(std::move(resolved));
  }
  return out;
}

}  // namespace strata::http
