#include "proxy/access_format.h"

#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/json_escape.h"

namespace strata {
namespace {

struct FieldName {
  std::string_view name;
  AccessField field;
};

constexpr FieldName kFieldNames[] = {
    {"time", AccessField::kTime},
    {"time_iso", AccessField::kTimeIso},
    {"time_clf", AccessField::kTimeClf},
    {"elapsed_ms", AccessField::kElapsedMs},
    {"client_ip", AccessField::kClientIp},
    {"cache_result", AccessField::kCacheResult},
    {"status", AccessField::kStatus},
    {"bytes", AccessField::kBytes},
    {"method", AccessField::kMethod},
    {"url", AccessField::kUrl},
    {"target", AccessField::kTarget},
    {"protocol", AccessField::kProtocol},
    {"origin_host", AccessField::kOriginHost},
    {"content_type", AccessField::kContentType},
    {"origin_status", AccessField::kOriginStatus},
    {"referer", AccessField::kReferer},
    {"user_agent", AccessField::kUserAgent},
};

const char kHex[] = "0123456789abcdef";

// A value must not break the one-line, blank-separated record: blanks and
// control characters become '_', and an empty value is '-'.
void AppendOrDash(std::string* out, std::string_view value) {
  if (value.empty()) {
    out->push_back('-');
    return;
  }
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    out->push_back((u <= ' ' || u == 0x7f) ? '_' : c);
  }
}

void AppendNumber(std::string* out, uint64_t n) { out->append(std::to_string(n)); }

void AppendStatus(std::string* out, int status) {
  if (status > 0) {
    AppendNumber(out, static_cast<uint64_t>(status));
  } else {
    out->push_back('-');
  }
}

void AppendEpoch(std::string* out, double t) {
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%.3f", t);
  out->append(buf, n);
}

void AppendIsoTime(std::string* out, double t) {
  const long long total_ms = std::llround(t * 1000);  // 0.123 must not print as .122
  const time_t seconds = static_cast<time_t>(total_ms / 1000);
  const int ms = static_cast<int>(total_ms % 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[40];
  int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  out->append(buf, n);
}

// Apache's %t without the brackets: 10/Oct/2000:13:55:36 -0700, local time.
void AppendClfTime(std::string* out, double t) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t seconds = static_cast<time_t>(t);
  struct tm tm;
  localtime_r(&seconds, &tm);
  long offset_min = tm.tm_gmtoff / 60;
  const char sign = offset_min < 0 ? '-' : '+';
  if (offset_min < 0) offset_min = -offset_min;
  char buf[40];
  int n = snprintf(buf, sizeof(buf), "%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld", tm.tm_mday, kMonths[tm.tm_mon % 12],
                   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, offset_min / 60, offset_min % 60);
  out->append(buf, n);
}

// Apache's escaping inside a quoted field: \" and \\, and \xhh for bytes
// that are not printable ASCII.
void AppendApacheQuoted(std::string* out, std::string_view value) {
  out->push_back('"');
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      out->append("\\x");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendJsonString(std::string* out, std::string_view value) {
  out->push_back('"');
  AppendJsonEscaped(value, out);
  out->push_back('"');
}

// A JSON string, or null when empty.
void AppendJsonStringOrNull(std::string* out, std::string_view value) {
  if (value.empty()) {
    out->append("null");
  } else {
    AppendJsonString(out, value);
  }
}

void AppendField(const AccessRecord& r, AccessField field, std::string* out) {
  switch (field) {
    case AccessField::kTime:
      return AppendEpoch(out, r.start_time);
    case AccessField::kTimeIso:
      return AppendIsoTime(out, r.start_time);
    case AccessField::kTimeClf:
      return AppendClfTime(out, r.start_time);
    case AccessField::kElapsedMs:
      return AppendNumber(out, r.elapsed_ms);
    case AccessField::kClientIp:
      return AppendOrDash(out, r.client_ip);
    case AccessField::kCacheResult:
      return AppendOrDash(out, r.cache_result);
    case AccessField::kStatus:
      return AppendStatus(out, r.status);
    case AccessField::kBytes:
      return AppendNumber(out, r.bytes_to_client);
    case AccessField::kMethod:
      return AppendOrDash(out, r.method);
    case AccessField::kUrl:
      return AppendOrDash(out, r.url);
    case AccessField::kTarget:
      return AppendOrDash(out, r.target);
    case AccessField::kProtocol:
      return AppendOrDash(out, r.protocol);
    case AccessField::kOriginHost:
      return AppendOrDash(out, r.origin_host);
    case AccessField::kContentType:
      return AppendOrDash(out, r.content_type);
    case AccessField::kOriginStatus:
      return AppendStatus(out, r.origin_status);
    case AccessField::kReferer:
      return AppendOrDash(out, r.referer);
    case AccessField::kUserAgent:
      return AppendOrDash(out, r.user_agent);
  }
}

}  // namespace

bool AccessFormat::UsesRequestFields() const {
  if (kind_ == Kind::kCombined || kind_ == Kind::kJson) return true;
  for (const Piece& piece : pieces_) {
    if (piece.is_field && (piece.field == AccessField::kReferer || piece.field == AccessField::kUserAgent)) {
      return true;
    }
  }
  return false;
}

Status AccessFormat::Parse(std::string_view spec, AccessFormat* out) {
  AccessFormat format;
  if (spec == "squid") {
    format.kind_ = Kind::kSquid;
  } else if (spec == "combined") {
    format.kind_ = Kind::kCombined;
  } else if (spec == "json") {
    format.kind_ = Kind::kJson;
  } else {
    format.kind_ = Kind::kCustom;
    std::string literal;
    bool any_field = false;
    for (size_t i = 0; i < spec.size(); ++i) {
      if (spec[i] != '%') {
        literal.push_back(spec[i]);
        continue;
      }
      if (i + 1 < spec.size() && spec[i + 1] == '%') {
        literal.push_back('%');
        ++i;
        continue;
      }
      const size_t close = spec.find('}', i);
      if (i + 1 >= spec.size() || spec[i + 1] != '{' || close == std::string_view::npos) {
        return Status::InvalidArgument("a '%' must start a %{field} (or be doubled: %%) in '" + std::string(spec) +
                                       "'");
      }
      const std::string_view name = spec.substr(i + 2, close - i - 2);
      const FieldName* found = nullptr;
      for (const FieldName& f : kFieldNames) {
        if (f.name == name) found = &f;
      }
      if (found == nullptr) {
        return Status::InvalidArgument("unknown access log field %{" + std::string(name) + "} (known: " + FieldNames() +
                                       ")");
      }
      if (!literal.empty()) format.pieces_.push_back(Piece{false, AccessField::kTime, std::move(literal)});
      literal.clear();
      format.pieces_.push_back(Piece{true, found->field, ""});
      any_field = true;
      i = close;
    }
    if (!literal.empty()) format.pieces_.push_back(Piece{false, AccessField::kTime, std::move(literal)});
    if (!any_field) {
      return Status::InvalidArgument("'" + std::string(spec) +
                                     "' is not squid, combined, json, or a custom format with %{field}s");
    }
  }
  *out = std::move(format);
  return Status::OK();
}

std::string AccessFormat::FieldNames() {
  std::string out;
  for (const FieldName& f : kFieldNames) out += (out.empty() ? "" : ", ") + std::string(f.name);
  return out;
}

void AccessFormat::Format(const AccessRecord& record, std::string* out) const {
  switch (kind_) {
    case Kind::kSquid:
      return FormatSquidLine(record, out);
    case Kind::kCombined:
      return FormatCombinedLine(record, out);
    case Kind::kJson:
      return FormatJsonLine(record, out);
    case Kind::kCustom:
      for (const Piece& piece : pieces_) {
        if (piece.is_field) {
          AppendField(record, piece.field, out);
        } else {
          out->append(piece.literal);
        }
      }
      return;
  }
}

void FormatSquidLine(const AccessRecord& r, std::string* out) {
  char prefix[96];
  int n = snprintf(prefix, sizeof(prefix), "%.3f %6llu ", r.start_time, static_cast<unsigned long long>(r.elapsed_ms));
  out->append(prefix, n);
  AppendOrDash(out, r.client_ip);
  out->push_back(' ');
  AppendOrDash(out, r.cache_result);
  n = snprintf(prefix, sizeof(prefix), "/%03d %llu ", r.status, static_cast<unsigned long long>(r.bytes_to_client));
  out->append(prefix, n);
  AppendOrDash(out, r.method);
  out->push_back(' ');
  AppendOrDash(out, r.url);
  out->append(" - ");
  if (r.origin_host.empty()) {
    out->append("NONE/-");
  } else {
    out->append("DIRECT/");
    AppendOrDash(out, r.origin_host);
  }
  out->push_back(' ');
  AppendOrDash(out, r.content_type);
  out->push_back(' ');
  AppendStatus(out, r.origin_status);
}

// host ident user [time] "request line" status bytes "referer" "user-agent"
void FormatCombinedLine(const AccessRecord& r, std::string* out) {
  AppendOrDash(out, r.client_ip);
  out->append(" - - [");
  AppendClfTime(out, r.start_time);
  out->append("] ");
  if (r.protocol.empty()) {
    out->append("\"-\"");  // the request did not parse: Apache logs "-" too
  } else {
    std::string line;
    line.append(r.method).append(" ").append(r.target).append(" ").append(r.protocol);
    AppendApacheQuoted(out, line);
  }
  out->push_back(' ');
  AppendStatus(out, r.status);
  out->push_back(' ');
  if (r.bytes_to_client > 0) {
    AppendNumber(out, r.bytes_to_client);
  } else {
    out->push_back('-');
  }
  out->push_back(' ');
  AppendApacheQuoted(out, r.referer.empty() ? "-" : r.referer);
  out->push_back(' ');
  AppendApacheQuoted(out, r.user_agent.empty() ? "-" : r.user_agent);
}

void FormatJsonLine(const AccessRecord& r, std::string* out) {
  out->append("{\"time\":");
  AppendEpoch(out, r.start_time);
  out->append(",\"elapsed_ms\":");
  AppendNumber(out, r.elapsed_ms);
  out->append(",\"client_ip\":");
  AppendJsonStringOrNull(out, r.client_ip);
  out->append(",\"cache_result\":");
  AppendJsonStringOrNull(out, r.cache_result == "-" ? std::string_view() : r.cache_result);
  out->append(",\"status\":");
  AppendNumber(out, static_cast<uint64_t>(r.status > 0 ? r.status : 0));
  out->append(",\"bytes\":");
  AppendNumber(out, r.bytes_to_client);
  out->append(",\"method\":");
  AppendJsonStringOrNull(out, r.method == "-" ? std::string_view() : r.method);
  out->append(",\"url\":");
  AppendJsonStringOrNull(out, r.url == "-" ? std::string_view() : r.url);
  out->append(",\"target\":");
  AppendJsonStringOrNull(out, r.target);
  out->append(",\"protocol\":");
  AppendJsonStringOrNull(out, r.protocol);
  out->append(",\"origin_host\":");
  AppendJsonStringOrNull(out, r.origin_host);
  out->append(",\"content_type\":");
  AppendJsonStringOrNull(out, r.content_type);
  out->append(",\"origin_status\":");
  if (r.origin_status > 0) {
    AppendNumber(out, static_cast<uint64_t>(r.origin_status));
  } else {
    out->append("null");
  }
  out->append(",\"referer\":");
  AppendJsonStringOrNull(out, r.referer);
  out->append(",\"user_agent\":");
  AppendJsonStringOrNull(out, r.user_agent);
  out->push_back('}');
}

}  // namespace strata
