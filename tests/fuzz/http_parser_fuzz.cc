// Fuzz target for the HTTP/1.1 head parsers and the chunked decoder.
//
// Besides "does not crash", it checks the contracts callers rely on and traps
// when one breaks: incremental and one-shot parses agree; a finished head lies
// inside the input and ends in CRLF CRLF; every view points into the input;
// framing facts are self-consistent; the chunked decoder never hands out more
// bytes than it was given and gives the same answer however the input is split.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_parser.h"

namespace {

using strata::http::BodyKind;
using strata::http::ChunkedDecoder;
using strata::http::Field;
using strata::http::HeadInfo;
using strata::http::ParseLimits;
using strata::http::ParseStatus;
using strata::http::RequestParser;
using strata::http::ResponseParser;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) {       \
      __builtin_trap();  \
    }                    \
  } while (0)

// Byte-at-a-time feeding costs one Parse() per byte; cap it so executions
// stay fast on large inputs.
constexpr size_t kIncrementalPrefix = 2048;

void CheckView(std::string_view v, const char* begin, size_t len) {
  if (v.empty()) return;
  FUZZ_CHECK(v.data() >= begin && v.data() + v.size() <= begin + len);
  for (char c : v) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
}

void CheckFields(const std::vector<Field>& fields, const char* data, size_t head_length) {
  for (const Field& f : fields) {
    FUZZ_CHECK(!f.name.empty());
    CheckView(f.name, data, head_length);
    CheckView(f.value, data, head_length);
    for (char c : f.name) FUZZ_CHECK(strata::http::IsTokenChar(static_cast<unsigned char>(c)));
    if (!f.value.empty()) {
      FUZZ_CHECK(f.value.front() != ' ' && f.value.front() != '\t');
      FUZZ_CHECK(f.value.back() != ' ' && f.value.back() != '\t');
    }
  }
}

void CheckHeadInfo(const HeadInfo& h, const char* data, size_t len, size_t max_head_bytes) {
  FUZZ_CHECK(h.head_length >= 4 && h.head_length <= len && h.head_length <= max_head_bytes);
  FUZZ_CHECK(std::string_view(data + h.head_length - 4, 4) == "\r\n\r\n");
  FUZZ_CHECK(h.version_major == 1 && h.version_minor >= 0 && h.version_minor <= 9);
  if (h.body == BodyKind::kChunked) FUZZ_CHECK(h.has_transfer_encoding);
}

// Parses one request head with `limits`, one-shot (into *one, left for the
// caller to inspect) and byte at a time, and returns the one-shot status.
ParseStatus FuzzRequest(const char* data, size_t len, const ParseLimits& limits, RequestParser* one) {
  *one = RequestParser(limits);
  const ParseStatus st = one->Parse(data, len);
  if (st == ParseStatus::kDone) {
    const strata::http::RequestHead& h = one->head();
    CheckHeadInfo(h, data, len, limits.max_head_bytes);
    FUZZ_CHECK(h.body != BodyKind::kUntilClose);
    FUZZ_CHECK(!h.method.empty() && !h.target.empty());
    CheckView(h.method, data, h.head_length);
    CheckView(h.target, data, h.head_length);
    CheckView(h.host, data, h.head_length);
    CheckFields(h.fields, data, h.head_length);
    FUZZ_CHECK(h.fields.size() <= limits.max_fields);
    if (h.is_http11_or_later()) FUZZ_CHECK(h.host.data() != nullptr);
  } else if (st == ParseStatus::kError) {
    FUZZ_CHECK(one->error() != nullptr);
  }

  RequestParser inc(limits);
  const size_t prefix = len < kIncrementalPrefix ? len : kIncrementalPrefix;
  ParseStatus ist = ParseStatus::kNeedMore;
  size_t n = 0;
  while (n < prefix && ist == ParseStatus::kNeedMore) ist = inc.Parse(data, ++n);
  if (ist == ParseStatus::kNeedMore) {
    // Not finished within the prefix: one-shot over the prefix agrees.
    RequestParser check(limits);
    FUZZ_CHECK(check.Parse(data, prefix) == ParseStatus::kNeedMore);
  } else {
    FUZZ_CHECK(ist == st);
    if (st == ParseStatus::kDone) {
      FUZZ_CHECK(inc.head().head_length == one->head().head_length);
      FUZZ_CHECK(inc.head().head_length == n);
      FUZZ_CHECK(inc.head().fields.size() == one->head().fields.size());
      FUZZ_CHECK(inc.head().body == one->head().body);
      FUZZ_CHECK(inc.head().target == one->head().target);
    }
  }
  return st;
}

void FuzzResponse(const char* data, size_t len, bool request_was_head) {
  ParseLimits limits;
  limits.max_head_bytes = 1024;
  limits.max_fields = 16;
  ResponseParser one(limits);
  one.Reset(request_was_head);
  const ParseStatus st = one.Parse(data, len);
  if (st == ParseStatus::kDone) {
    const strata::http::ResponseHead& h = one.head();
    CheckHeadInfo(h, data, len, limits.max_head_bytes);
    FUZZ_CHECK(h.status >= 100 && h.status <= 999);
    FUZZ_CHECK(h.head_length >= 14);  // "HTTP/1.1 200" CRLF CRLF
    CheckView(h.reason, data, h.head_length);
    CheckFields(h.fields, data, h.head_length);
    if (request_was_head || h.status < 200 || h.status == 204 || h.status == 304) {
      FUZZ_CHECK(h.body == BodyKind::kNone);
    }
  }

  ResponseParser inc(limits);
  inc.Reset(request_was_head);
  const size_t prefix = len < kIncrementalPrefix ? len : kIncrementalPrefix;
  ParseStatus ist = ParseStatus::kNeedMore;
  size_t n = 0;
  while (n < prefix && ist == ParseStatus::kNeedMore) ist = inc.Parse(data, ++n);
  if (ist != ParseStatus::kNeedMore) {
    FUZZ_CHECK(ist == st);
    if (st == ParseStatus::kDone) {
      FUZZ_CHECK(inc.head().head_length == one.head().head_length);
      FUZZ_CHECK(inc.head().status == one.head().status);
      FUZZ_CHECK(inc.head().body == one.head().body);
    }
  }
}

struct ChunkOutcome {
  ChunkedDecoder::Result::Kind end = ChunkedDecoder::Result::kNeedMore;  // kNeedMore: ran out of input
  std::string data;
  size_t consumed = 0;
  std::string trailers;
};

// Decodes data[0, len) fed in pieces whose sizes cycle through 1..max_piece
// (max_piece 0: all at once).
ChunkOutcome DecodeChunked(const char* data, size_t len, size_t max_piece, const ChunkedDecoder::Limits& limits) {
  ChunkedDecoder dec(limits);
  ChunkOutcome out;
  size_t pos = 0, piece = 1;
  while (pos < len) {
    size_t end = max_piece == 0 ? len : pos + piece;
    if (end > len) end = len;
    piece = piece % (max_piece == 0 ? 1 : max_piece) + 1;
    while (pos < end) {
      const ChunkedDecoder::Result r = dec.Feed(data + pos, end - pos);
      FUZZ_CHECK(r.consumed <= end - pos);
      pos += r.consumed;
      if (r.kind == ChunkedDecoder::Result::kData) {
        FUZZ_CHECK(r.data_length > 0 && r.data_length <= end - pos);
        out.data.append(data + pos, r.data_length);
        pos += r.data_length;
      } else if (r.kind == ChunkedDecoder::Result::kNeedMore) {
        FUZZ_CHECK(pos == end);
      } else {
        out.end = r.kind;
        out.consumed = pos;
        if (r.kind == ChunkedDecoder::Result::kDone) {
          out.trailers = dec.trailers();
          FUZZ_CHECK(out.trailers.size() <= limits.max_trailer_bytes);
        } else {
          FUZZ_CHECK(dec.error() != nullptr);
        }
        return out;
      }
    }
  }
  out.consumed = pos;
  return out;
}

void FuzzChunked(const char* data, size_t len) {
  ChunkedDecoder::Limits limits;
  limits.max_chunk_ext_bytes = 64;
  limits.max_trailer_bytes = 256;
  const ChunkOutcome whole = DecodeChunked(data, len, 0, limits);
  FUZZ_CHECK(whole.consumed <= len);
  FUZZ_CHECK(whole.data.size() <= whole.consumed);
  if (whole.end == ChunkedDecoder::Result::kDone) FUZZ_CHECK(whole.consumed >= 5);  // "0" CRLF CRLF
  for (size_t max_piece : {size_t{1}, size_t{7}}) {
    const ChunkOutcome split = DecodeChunked(data, len, max_piece, limits);
    FUZZ_CHECK(split.end == whole.end);
    FUZZ_CHECK(split.consumed == whole.consumed);
    FUZZ_CHECK(split.data == whole.data);
    FUZZ_CHECK(split.trailers == whole.trailers);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t len) {
  const char* data = reinterpret_cast<const char*>(bytes);

  RequestParser req;
  FuzzRequest(data, len, ParseLimits(), &req);
  ParseLimits small;
  small.max_head_bytes = 256;
  small.max_fields = 8;
  if (FuzzRequest(data, len, small, &req) == ParseStatus::kDone && req.head().body == BodyKind::kChunked) {
    // The body right after a chunked request head: the realistic path.
    const size_t off = req.head().head_length;
    FuzzChunked(data + off, len - off);
  }

  FuzzResponse(data, len, false);
  FuzzResponse(data, len, true);
  FuzzChunked(data, len);
  return 0;
}
