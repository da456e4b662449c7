#include "proxy/stored_response.h"

#include "common/coding.h"
#include "proxy/http_parser.h"

namespace strata {
namespace {

constexpr uint8_t kVersion = 1;

void PutString(std::string* out, std::string_view s) {
  char len[4];
  EncodeFixed32(len, static_cast<uint32_t>(s.size()));
  out->append(len, 4);
  out->append(s);
}

void PutInt64(std::string* out, int64_t v) {
  char b[8];
  EncodeFixed64(b, static_cast<uint64_t>(v));
  out->append(b, 8);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool U8(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U32(uint32_t* v) {
    if (in_.size() < 4) return false;
    *v = DecodeFixed32(in_.data());
    in_.remove_prefix(4);
    return true;
  }
  bool I64(int64_t* v) {
    if (in_.size() < 8) return false;
    *v = static_cast<int64_t>(DecodeFixed64(in_.data()));
    in_.remove_prefix(8);
    return true;
  }
  bool String(std::string* s) {
    uint32_t len;
    if (!U32(&len) || in_.size() < len) return false;
    s->assign(in_.substr(0, len));
    in_.remove_prefix(len);
    return true;
  }
  bool Strings(std::vector<std::string>* v) {
    uint32_t n;
    if (!U32(&n) || n > in_.size()) return false;  // each string takes >= 4 bytes
    v->resize(n);
    for (std::string& s : *v) {
      if (!String(&s)) return false;
    }
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

const std::string* StoredResponse::Find(std::string_view name) const {
  for (const http::StoredField& f : fields) {
    if (http::EqualsIgnoreCase(f.name, name)) return &f.value;
  }
  return nullptr;
}

std::string EncodeStoredResponse(const StoredResponse& r) {
  std::string out;
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(r.kind));
  PutString(&out, r.url);
  auto put_strings = [&out](const std::vector<std::string>& v) {
    char n[4];
    EncodeFixed32(n, static_cast<uint32_t>(v.size()));
    out.append(n, 4);
    for (const std::string& s : v) PutString(&out, s);
  };
  if (r.kind == StoredResponse::Kind::kVariants) {
    put_strings(r.vary);
    put_strings(r.variants);
    return out;
  }
  char b[4];
  EncodeFixed32(b, static_cast<uint32_t>(r.status));
  out.append(b, 4);
  PutString(&out, r.reason);
  EncodeFixed32(b, static_cast<uint32_t>(r.fields.size()));
  out.append(b, 4);
  for (const http::StoredField& f : r.fields) {
    PutString(&out, f.name);
    PutString(&out, f.value);
  }
  PutInt64(&out, r.request_time);
  PutInt64(&out, r.response_time);
  put_strings(r.vary);
  PutString(&out, r.secondary_key);
  return out;
}

Status DecodeStoredResponse(std::string_view bytes, StoredResponse* out) {
  Reader in(bytes);
  uint8_t version, kind;
  StoredResponse r;
  if (!in.U8(&version) || version != kVersion) return Status::Corruption("stored response: unknown version");
  if (!in.U8(&kind) || (kind != 1 && kind != 2)) return Status::Corruption("stored response: unknown kind");
  r.kind = static_cast<StoredResponse::Kind>(kind);
  if (!in.String(&r.url)) return Status::Corruption("stored response: truncated");
  if (r.kind == StoredResponse::Kind::kVariants) {
    if (!in.Strings(&r.vary) || !in.Strings(&r.variants) || !in.done()) {
      return Status::Corruption("stored variants: truncated");
    }
    *out = std::move(r);
    return Status::OK();
  }
  uint32_t status, nfields;
  if (!in.U32(&status) || status < 100 || status > 999 || !in.String(&r.reason) || !in.U32(&nfields) ||
      nfields > bytes.size() / 8) {
    return Status::Corruption("stored response: bad status line");
  }
  r.status = static_cast<int>(status);
  r.fields.resize(nfields);
  for (http::StoredField& f : r.fields) {
    if (!in.String(&f.name) || !in.String(&f.value)) return Status::Corruption("stored response: truncated field");
  }
  if (!in.I64(&r.request_time) || !in.I64(&r.response_time) || !in.Strings(&r.vary) || !in.String(&r.secondary_key) ||
      !in.done()) {
    return Status::Corruption("stored response: truncated");
  }
  *out = std::move(r);
  return Status::OK();
}

CacheKey UrlCacheKey(std::string_view url) { return CacheKey::Hash(url); }

CacheKey VariantCacheKey(std::string_view url, std::string_view secondary_key) {
  // A NUL cannot occur in a URL, so no URL's key equals an alternate's.
  std::string material(url);
  material.push_back('\0');
  material.append(secondary_key);
  return CacheKey::Hash(material);
}

}  // namespace strata
