// Serialises the message heads the proxy sends: the request to the origin,
// the response to the client, and the small responses Strata makes itself.
//
// Forwarding rules applied here (RFC 9110 §7.6): hop-by-hop fields and the
// fields named in Connection are dropped; message framing (Content-Length,
// Transfer-Encoding) is rebuilt from the framing actually used on the next
// hop, never copied; Via is added; X-Forwarded-For gets the client address.
//
// Everything appends to a std::string the caller reuses, so a keep-alive
// connection does not allocate per request. No libevent here: unit-testable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/cache_policy.h"
#include "proxy/http_parser.h"

namespace strata {
class RemapTable;
}

namespace strata::http {

// The framing of a body on the hop we send it over.
struct OutFraming {
  enum class Kind { kNone, kContentLength, kChunked, kUntilClose } kind = Kind::kNone;
  uint64_t length = 0;
};

// Fields the proxy always removes before forwarding (RFC 9110 §7.6.1), besides
// those listed in Connection.
bool IsHopByHopField(std::string_view name);

// True when `name` is listed in any Connection field of `fields`.
bool IsConnectionListed(const std::vector<Field>& fields, std::string_view name);

std::string_view ReasonPhrase(int status);

// Whether a response with this status carries content (RFC 9110 §6.4.1: not
// 1xx, 204 or 304).
inline bool StatusHasBody(int status) { return !(status < 200 || status == 204 || status == 304); }

// The current time as an IMF-fixdate, recomputed at most once a second per thread.
std::string_view HttpDateNow();

struct OriginRequestParams {
  std::string_view path;         // origin-form target after remap
  std::string_view host_header;  // Host to send
  OutFraming body;               // how the request body goes to the origin
  std::string_view via_name;     // pseudonym for Via, e.g. "strata"
  std::string_view client_ip;    // for X-Forwarded-For; empty = do not add
  bool strip_expect = true;      // the proxy answers 100-continue itself
  // The cache evaluates If-None-Match / If-Modified-Since itself and sends
  // its own validators (RFC 9111 §4.3.1-2), so the client's are not passed.
  bool strip_cache_conditionals = false;
  // Non-empty: replaces the client's Accept-Encoding (the cache normalises
  // it, so a stored variant is valid for every request mapped to its key).
  std::string_view accept_encoding;
};

void AppendOriginRequestHead(const RequestHead& request, const OriginRequestParams& params, std::string* out);

struct ClientResponseParams {
  OutFraming body;                // how the body goes to the client
  bool close = false;             // the connection closes after this response
  bool client_is_http10 = false;  // answer keep-alive explicitly for 1.0
  std::string_view via_name;
  const RemapTable* reverse_map = nullptr;  // rewrites Location and Content-Location
  std::string_view cache_status;            // our Cache-Status member (RFC 9211); empty = none
  // This cache obeyed CDN-Cache-Control / Strata-Cache-Control (RFC 9213):
  // they are not forwarded downstream.
  bool strip_targeted_cache_control = false;
};

void AppendClientResponseHead(const ResponseHead& response, const ClientResponseParams& params, std::string* out);

// A response served from the cache: the stored status and fields (framing
// and Age replaced), Age, Via, Cache-Status and the client's framing.
struct CachedResponseParams {
  int status = 200;         // the stored status, or 304 for a client's conditional
  std::string_view reason;  // empty = the standard phrase
  uint64_t content_length = 0;
  bool send_content_length = true;
  int64_t age = 0;
  bool close = false;
  bool client_is_http10 = false;
  std::string_view via_name;
  std::string_view cache_status;
  bool not_modified = false;   // 304: only the fields RFC 9110 §15.4.5 lists
  bool chunked = false;        // length unknown (a collapsed follower): chunked framing
  bool accept_ranges = false;  // "Accept-Ranges: bytes": ranges are served from the cache
  // The fields already rendered by AppendCachedFields with the same
  // accept_ranges and not_modified (rendered once per stored object, not per
  // hit); null: rendered here from `fields`.
  const std::string* rendered_fields = nullptr;
};
void AppendCachedResponseHead(std::span<const Field> fields, const CachedResponseParams& params, std::string* out);

// The stored fields a cached response carries (framing, Age, hop-by-hop and
// targeted cache directives removed; a 304 keeps only RFC 9110 §15.4.5's).
void AppendCachedFields(std::span<const Field> fields, bool accept_ranges, bool not_modified, std::string* out);

// An interim (1xx) response passed on to the client unchanged but for
// hop-by-hop fields.
void AppendInterimResponse(const ResponseHead& response, std::string* out);

// A complete small response made by Strata (errors, redirects): text/plain
// body, Content-Length, Date; `location` adds a Location field when non-empty.
void AppendLocalResponse(int status, std::string_view body, bool close, bool head_request, std::string_view location,
                         std::string* out);

}  // namespace strata::http
