// DecodedResponse: a stored response decoded once and shared by every hit on
// the same stored bytes, with what each hit would otherwise rebuild (field
// views, the freshness facts, the stored fields rendered for a full response
// head).
//
// DecodedResponseCache: per worker, a small direct-mapped table from a cached
// object's first Doc to its decoded response. The Doc's identity is the key
// (the same RAM-cache buffer, compared by owner, never by address alone), so
// an object rewritten, refreshed by a 304 or re-read from disk never finds an
// older decoding: it finds nothing and is decoded again. The table holds
// weak references to the Docs and so never keeps an evicted Doc in memory.
//
// Thread-safety: DecodedResponse is immutable once made and may be shared
// across threads; a DecodedResponseCache belongs to one worker's thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/cache.h"
#include "proxy/http_parser.h"
#include "proxy/stored_response.h"

namespace strata {

struct DecodedResponse {
  StoredResponse response;
  std::vector<http::Field> views;  // over response.fields
  // response.fields as a full (200, not 304, no Range) cached response head
  // carries them: see http::AppendCachedFields.
  std::string full_head_fields;
  // Computed under these options (a reload may change them).
  http::PolicyOptions options;
  http::StoredFacts facts;

  http::StoredInfo info() const {
    return http::StoredInfo{response.status, views, response.request_time, response.response_time};
  }
};

std::shared_ptr<const DecodedResponse> MakeDecodedResponse(StoredResponse response, const http::PolicyOptions& options);

class DecodedResponseCache {
 public:
  explicit DecodedResponseCache(size_t slots = 4096);

  // The decoding of info's stored response under `options`, decoded now if
  // it was not found. Corruption when the stored bytes do not decode.
  Status Get(const ObjectInfo& info, const http::PolicyOptions& options, std::shared_ptr<const DecodedResponse>* out);

 private:
  struct Slot {
    std::weak_ptr<const std::string> doc;
    std::shared_ptr<const DecodedResponse> decoded;
  };
  std::vector<Slot> slots_;
};

}  // namespace strata
