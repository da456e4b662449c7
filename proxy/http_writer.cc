#include "proxy/http_writer.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "proxy/remap.h"

namespace strata::http {
namespace {

void AppendField(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

void AppendDecimal(std::string* out, uint64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, static_cast<size_t>(end - digits));
}

// Framing fields are rebuilt by the writer from the framing of the next hop.
bool IsFramingField(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding");
}

bool IsTargetedCacheControl(std::string_view name) {
  return EqualsIgnoreCase(name, "cdn-cache-control") || EqualsIgnoreCase(name, "strata-cache-control");
}

// A message's Connection field(s), found once per message rather than by a
// scan of every field for each field it has.
struct ConnectionFields {
  std::string_view value;  // when there is exactly one (the usual case)
  int count = 0;
};

ConnectionFields FindConnection(const std::vector<Field>& fields) {
  ConnectionFields c;
  for (const Field& field : fields) {
    if (EqualsIgnoreCase(field.name, "connection")) {
      c.value = field.value;
      ++c.count;
    }
  }
  return c;
}

bool Listed(const std::vector<Field>& fields, const ConnectionFields& connection, std::string_view name) {
  if (connection.count == 0) return false;
  if (connection.count == 1) return HasToken(connection.value, name);
  return IsConnectionListed(fields, name);
}

bool ShouldDrop(const std::vector<Field>& fields, const ConnectionFields& connection, std::string_view name) {
  return IsHopByHopField(name) || IsFramingField(name) || Listed(fields, connection, name);
}

void AppendFraming(const OutFraming& framing, std::string* out) {
  switch (framing.kind) {
    case OutFraming::Kind::kContentLength:
      out->append("Content-Length: ");
      AppendDecimal(out, framing.length);
      out->append("\r\n");
      break;
    case OutFraming::Kind::kChunked:
      out->append("Transfer-Encoding: chunked\r\n");
      break;
    case OutFraming::Kind::kNone:
    case OutFraming::Kind::kUntilClose:
      break;
  }
}

void AppendVia(int major, int minor, std::string_view via_name, std::string* out) {
  out->append("Via: ");
  out->push_back(static_cast<char>('0' + major));
  out->push_back('.');
  out->push_back(static_cast<char>('0' + minor));
  out->push_back(' ');
  out->append(via_name);
  out->append("\r\n");
}

}  // namespace

bool IsHopByHopField(std::string_view name) {
  switch (name.size()) {
    case 2:
      return EqualsIgnoreCase(name, "te");
    case 7:
      return EqualsIgnoreCase(name, "upgrade");
    case 10:
      return EqualsIgnoreCase(name, "connection") || EqualsIgnoreCase(name, "keep-alive");
    case 16:
      return EqualsIgnoreCase(name, "proxy-connection");
    case 17:
      return EqualsIgnoreCase(name, "transfer-encoding");
    default:
      return false;
  }
}

bool IsConnectionListed(const std::vector<Field>& fields, std::string_view name) {
  for (const Field& field : fields) {
    if (EqualsIgnoreCase(field.name, "connection") && HasToken(field.value, name)) return true;
  }
  return false;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string_view HttpDateNow() {
  thread_local time_t cached_second = 0;
  thread_local char cached[40];
  thread_local size_t cached_len = 0;
  time_t now = time(nullptr);
  if (now != cached_second) {
    struct tm tm;
    gmtime_r(&now, &tm);
    cached_len = strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return std::string_view(cached, cached_len);
}

void AppendOriginRequestHead(const RequestHead& request, const OriginRequestParams& params, std::string* out) {
  out->append(request.method);
  out->push_back(' ');
  out->append(params.path);
  out->append(" HTTP/1.1\r\n");
  AppendField(out, "Host", params.host_header);

  size_t xff_count = 0;
  const ConnectionFields connection = FindConnection(request.fields);
  for (const Field& field : request.fields) {
    if (ShouldDrop(request.fields, connection, field.name) || EqualsIgnoreCase(field.name, "host")) continue;
    if (params.strip_expect && EqualsIgnoreCase(field.name, "expect")) continue;
    if (!params.accept_encoding.empty() && EqualsIgnoreCase(field.name, "accept-encoding")) continue;
    if (params.strip_cache_conditionals &&
        (EqualsIgnoreCase(field.name, "if-none-match") || EqualsIgnoreCase(field.name, "if-modified-since"))) {
      continue;
    }
    if (!params.client_ip.empty() && EqualsIgnoreCase(field.name, "x-forwarded-for")) {
      // Merged into one field below: some origins read only the first one.
      ++xff_count;
      continue;
    }
    AppendField(out, field.name, field.value);
  }
  if (!params.client_ip.empty()) {
    out->append("X-Forwarded-For: ");
    if (xff_count > 0) {
      for (const Field& field : request.fields) {
        if (!EqualsIgnoreCase(field.name, "x-forwarded-for")) continue;
        out->append(field.value);
        out->append(", ");
      }
    }
    out->append(params.client_ip);
    out->append("\r\n");
  }
  if (!params.accept_encoding.empty()) AppendField(out, "Accept-Encoding", params.accept_encoding);
  AppendVia(request.version_major, request.version_minor, params.via_name, out);
  AppendFraming(params.body, out);
  out->append("\r\n");
}

void AppendClientResponseHead(const ResponseHead& response, const ClientResponseParams& params, std::string* out) {
  out->append("HTTP/1.1 ");
  AppendDecimal(out, response.status);
  out->push_back(' ');
  out->append(response.reason.empty() ? ReasonPhrase(response.status) : response.reason);
  out->append("\r\n");
  bool body_framed_by_us = params.body.kind != OutFraming::Kind::kNone;
  std::string rewritten;
  bool has_date = false;
  const ConnectionFields connection = FindConnection(response.fields);
  for (const Field& field : response.fields) {
    if (IsHopByHopField(field.name) || Listed(response.fields, connection, field.name)) continue;
    if (params.strip_targeted_cache_control && IsTargetedCacheControl(field.name)) continue;
    has_date = has_date || EqualsIgnoreCase(field.name, "date");
    // Without a body (HEAD, 304) Content-Length describes the selected
    // representation and passes through unchanged.
    if (IsFramingField(field.name) && (body_framed_by_us || EqualsIgnoreCase(field.name, "transfer-encoding")))
      continue;
    if (params.reverse_map != nullptr &&
        (EqualsIgnoreCase(field.name, "location") || EqualsIgnoreCase(field.name, "content-location")) &&
        params.reverse_map->ReverseMap(field.value, &rewritten)) {
      AppendField(out, field.name, rewritten);
      continue;
    }
    AppendField(out, field.name, field.value);
  }
  // RFC 9110 §6.6.1: a recipient with a clock adds the Date it received a
  // response at, when the origin sent none.
  if (!has_date) AppendField(out, "Date", HttpDateNow());
  AppendVia(response.version_major, response.version_minor, params.via_name, out);
  if (!params.cache_status.empty()) AppendField(out, "Cache-Status", params.cache_status);
  AppendFraming(params.body, out);
  if (params.close) {
    out->append("Connection: close\r\n");
  } else if (params.client_is_http10) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
}

void AppendCachedFields(std::span<const Field> fields, bool accept_ranges, bool not_modified, std::string* out) {
  for (const Field& field : fields) {
    std::string_view name = field.name;
    if (EqualsIgnoreCase(name, "age") || IsFramingField(name) || IsHopByHopField(name)) continue;
    if (accept_ranges && EqualsIgnoreCase(name, "accept-ranges")) continue;
    if (IsTargetedCacheControl(name)) continue;  // obeyed by this cache, not forwarded (RFC 9213)
    if (not_modified) {
      // RFC 9110 §15.4.5: a 304 carries what a 200 would have among these.
      static constexpr std::string_view kNotModifiedFields[] = {
          "cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"};
      bool keep = false;
      for (std::string_view allowed : kNotModifiedFields) keep = keep || EqualsIgnoreCase(name, allowed);
      if (!keep) continue;
    }
    AppendField(out, name, field.value);
  }
}

void AppendCachedResponseHead(std::span<const Field> fields, const CachedResponseParams& params, std::string* out) {
  out->append("HTTP/1.1 ");
  AppendDecimal(out, params.status);
  out->push_back(' ');
  out->append(params.reason.empty() ? ReasonPhrase(params.status) : params.reason);
  out->append("\r\n");
  if (params.rendered_fields != nullptr) {
    out->append(*params.rendered_fields);
  } else {
    AppendCachedFields(fields, params.accept_ranges, params.not_modified, out);
  }
  out->append("Age: ");
  AppendDecimal(out, static_cast<uint64_t>(params.age < 0 ? 0 : params.age));
  out->append("\r\n");
  out->append("Via: 1.1 ");
  out->append(params.via_name);
  out->append("\r\n");
  if (!params.cache_status.empty()) AppendField(out, "Cache-Status", params.cache_status);
  if (params.accept_ranges && !params.not_modified) out->append("Accept-Ranges: bytes\r\n");
  if (params.chunked) {
    out->append("Transfer-Encoding: chunked\r\n");
  } else if (params.send_content_length && !params.not_modified) {
    out->append("Content-Length: ");
    AppendDecimal(out, params.content_length);
    out->append("\r\n");
  }
  if (params.close) {
    out->append("Connection: close\r\n");
  } else if (params.client_is_http10) {
    out->append("Connection: keep-alive\r\n");
  }
  out->append("\r\n");
}

void AppendInterimResponse(const ResponseHead& response, std::string* out) {
  out->append("HTTP/1.1 ");
  AppendDecimal(out, response.status);
  out->push_back(' ');
  out->append(response.reason.empty() ? ReasonPhrase(response.status) : response.reason);
  out->append("\r\n");
  const ConnectionFields connection = FindConnection(response.fields);
  for (const Field& field : response.fields) {
    if (IsHopByHopField(field.name) || Listed(response.fields, connection, field.name)) continue;
    AppendField(out, field.name, field.value);
  }
  out->append("\r\n");
}

void AppendLocalResponse(int status, std::string_view body, bool close, bool head_request, std::string_view location,
                         std::string* out) {
  out->append("HTTP/1.1 ");
  AppendDecimal(out, status);
  out->push_back(' ');
  out->append(ReasonPhrase(status));
  out->append("\r\n");
  AppendField(out, "Date", HttpDateNow());
  if (!location.empty()) AppendField(out, "Location", location);
  out->append("Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n");
  out->append("Content-Length: ");
  AppendDecimal(out, body.size());
  out->append("\r\n");
  if (close) out->append("Connection: close\r\n");
  out->append("\r\n");
  if (!head_request) out->append(body);
}

}  // namespace strata::http
