// StoredResponse: what the proxy keeps in a cached object's metadata (the
// engine stores it as opaque bytes in the object's first Doc).
//
// Two kinds share one key space:
//  - a response: the request URL it answers (compared on every hit, so even
//    a 128-bit key collision is a miss, never someone else's object), the
//    status line, the response header fields as received (hop-by-hop and
//    framing fields already removed), the request and response times for Age
//    (RFC 9111 §4.2.3), and, when the response varies, the Vary field names
//    and the request's values for them (its secondary key, §4.1);
//  - a variants index, stored under the URL's own key when responses vary:
//    the Vary field names and the secondary keys of the alternates stored
//    under their own keys, newest first (for the alternates cap and PURGE).
//
// The encoding is versioned and length-prefixed; any inconsistency decodes
// as Corruption, which the caller treats as a miss.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cache_key.h"
#include "common/status.h"
#include "proxy/cache_policy.h"

namespace strata {

struct StoredResponse {
  enum class Kind : uint8_t { kResponse = 1, kVariants = 2 };

  Kind kind = Kind::kResponse;
  std::string url;  // the cache key URL (origin URL after remap)

  // kResponse
  int status = 0;
  std::string reason;
  std::vector<http::StoredField> fields;
  int64_t request_time = 0;       // seconds since the epoch: request sent to the origin
  int64_t response_time = 0;      // seconds since the epoch: response received
  std::vector<std::string> vary;  // Vary field names, lower case; empty = none
  std::string secondary_key;      // the request's values for them

  // kVariants
  std::vector<std::string> variants;  // secondary keys, newest first

  // First value of the field, case-insensitive; nullptr when absent.
  const std::string* Find(std::string_view name) const;
};

std::string EncodeStoredResponse(const StoredResponse& response);
Status DecodeStoredResponse(std::string_view bytes, StoredResponse* out);

// The engine key of a URL, and of one of its alternates.
CacheKey UrlCacheKey(std::string_view url);
CacheKey VariantCacheKey(std::string_view url, std::string_view secondary_key);

}  // namespace strata
