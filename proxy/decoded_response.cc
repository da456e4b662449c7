#include "proxy/decoded_response.h"

#include "proxy/http_writer.h"

namespace strata {

std::shared_ptr<const DecodedResponse> MakeDecodedResponse(StoredResponse response,
                                                           const http::PolicyOptions& options) {
  auto decoded = std::make_shared<DecodedResponse>();
  decoded->response = std::move(response);
  // The views point into the fields' strings, which stay where they are:
  // the object is not moved again.
  decoded->views = http::FieldViews(decoded->response.fields);
  if (decoded->response.kind == StoredResponse::Kind::kResponse) {
    http::AppendCachedFields(decoded->views, /*accept_ranges=*/decoded->response.status == 200,
                             /*not_modified=*/false, &decoded->full_head_fields);
    decoded->options = options;
    decoded->facts = http::ComputeStoredFacts(decoded->info(), options);
  }
  return decoded;
}

DecodedResponseCache::DecodedResponseCache(size_t slots) : slots_(slots) {}

Status DecodedResponseCache::Get(const ObjectInfo& info, const http::PolicyOptions& options,
                                 std::shared_ptr<const DecodedResponse>* out) {
  Slot& slot = slots_[(info.key.lo ^ info.key.hi) % slots_.size()];
  const RamCache::Bytes& doc = info.first_doc;
  // Same owner = the same Doc buffer, and a weak reference keeps its control
  // block alive, so a new buffer can never pass for an old one.
  bool same_doc = doc != nullptr && !slot.doc.expired() && !slot.doc.owner_before(doc) && !doc.owner_before(slot.doc);
  if (same_doc && slot.decoded->options == options) {
    *out = slot.decoded;
    return Status::OK();
  }
  StoredResponse response;
  Status s = DecodeStoredResponse(info.metadata, &response);
  if (!s.ok()) return s;
  *out = MakeDecodedResponse(std::move(response), options);
  if (doc != nullptr) {
    slot.doc = doc;
    slot.decoded = *out;
  }
  return Status::OK();
}

}  // namespace strata
