// RFC 9211 Cache-Status field values. Declared in cache_policy.h.
#include <cctype>

#include "proxy/cache_policy.h"

namespace strata::http {

// ---------------------------------------------------------------- Cache-Status

const char* FwdName(Fwd fwd) {
  switch (fwd) {
    case Fwd::kNone:
      return "";
    case Fwd::kBypass:
      return "bypass";
    case Fwd::kMethod:
      return "method";
    case Fwd::kUriMiss:
      return "uri-miss";
    case Fwd::kVaryMiss:
      return "vary-miss";
    case Fwd::kMiss:
      return "miss";
    case Fwd::kRequest:
      return "request";
    case Fwd::kStale:
      return "stale";
    case Fwd::kPartial:
      return "partial";
  }
  return "";
}

namespace {

// RFC 8941 sf-token: ( ALPHA / "*" ) *( tchar / ":" / "/" ).
bool IsSfToken(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '*')) return false;
  for (char c : s)
    if (!IsTokenChar(static_cast<unsigned char>(c)) && c != ':' && c != '/') return false;
  return true;
}

// RFC 8941 sf-string; characters it cannot carry become '?'.
void AppendSfString(std::string_view s, std::string* out) {
  *out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') *out += '\\';
    *out += (c < 0x20 || c > 0x7e) ? '?' : c;
  }
  *out += '"';
}

}  // namespace

std::string CacheStatusValue(const CacheStatus& s) {
  std::string out;
  if (IsSfToken(s.cache))
    out += s.cache;
  else
    AppendSfString(s.cache, &out);
  if (s.hit) out += "; hit";
  if (s.fwd != Fwd::kNone) {
    out += "; fwd=";
    out += FwdName(s.fwd);
  }
  if (s.fwd_status > 0) out += "; fwd-status=" + std::to_string(s.fwd_status);
  if (s.stored) out += "; stored";
  if (s.collapsed) out += "; collapsed";
  if (s.ttl) out += "; ttl=" + std::to_string(*s.ttl);
  if (!s.key.empty()) {
    out += "; key=";
    AppendSfString(s.key, &out);
  }
  if (!s.detail.empty()) {
    out += "; detail=";
    if (IsSfToken(s.detail))
      out += s.detail;
    else
      AppendSfString(s.detail, &out);
  }
  return out;
}

}  // namespace strata::http
