// Strict, incremental, zero-copy HTTP/1.1 message-head parser (RFC 9112).
//
// The caller keeps every byte of the head received so far in one contiguous
// region and calls Parse() again each time more bytes arrive (bytes may come
// one at a time). The parser remembers how far it has scanned, so feeding a
// head byte by byte costs O(n) in total. Once the head is complete, Parse()
// validates it in one pass and fills a head whose string_views point into the
// caller's bytes (nothing is copied); they stay valid as long as those bytes.
//
// Strictness (each is an error, which the proxy answers with 400 and a close):
// bare CR, bare LF used as a line end, NUL or other control bytes, obs-fold,
// whitespace between a field name and the colon, invalid field names (not a
// token), invalid field values, a bad request line or version, a head over
// max_head_bytes, more than max_fields fields, Content-Length repeated (even
// with equal values) or invalid, Transfer-Encoding together with
// Content-Length, a request whose Transfer-Encoding does not end in
// "chunked", more than one Host, or no Host in an HTTP/1.1 request.
//
// Thread-safety: a parser is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::http {

struct Field {
  std::string_view name;   // as received (case preserved)
  std::string_view value;  // leading and trailing SP/HTAB removed
};

enum class ParseStatus { kNeedMore, kDone, kError };

// How the body that follows a head is delimited.
enum class BodyKind {
  kNone,           // no body (GET without framing, HEAD responses, 1xx/204/304, ...)
  kContentLength,  // exactly content_length bytes
  kChunked,        // chunked transfer coding (see ChunkedDecoder)
  kUntilClose,     // response only: the body ends when the origin closes
};

struct ParseLimits {
  size_t max_head_bytes = 64 * 1024;  // request/status line + fields + final CRLF
  size_t max_fields = 100;
};

// What the head parse learns that every caller needs; computed once while
// validating so nobody scans the fields for them again.
struct HeadInfo {
  int version_major = 1;
  int version_minor = 1;
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;         // valid when body == kContentLength
  bool connection_close = false;       // "close" among Connection tokens
  bool connection_keep_alive = false;  // "keep-alive" among Connection tokens
  bool has_transfer_encoding = false;
  size_t head_length = 0;  // bytes of the head, from the first byte given to
                           // Parse() through the final CRLF (includes any
                           // skipped leading empty lines)

  bool is_http11_or_later() const { return version_major > 1 || (version_major == 1 && version_minor >= 1); }
};

struct RequestHead : HeadInfo {
  std::string_view method;
  std::string_view target;       // request-target as sent (origin-form or absolute-form)
  std::string_view host;         // value of the Host field, empty if absent (HTTP/1.0 only)
  bool expect_continue = false;  // "Expect: 100-continue"
  std::vector<Field> fields;
};

struct ResponseHead : HeadInfo {
  int status = 0;
  std::string_view reason;
  std::vector<Field> fields;
};

// Parses request heads. Reset() before each new request; the field vector
// keeps its capacity so a keep-alive session allocates only once.
class RequestParser {
 public:
  explicit RequestParser(const ParseLimits& limits = ParseLimits()) : limits_(limits) {}

  void Reset();

  // `data` holds all bytes received so far for this head (and possibly bytes
  // after it, e.g. a body or a pipelined request). Leading empty lines (CRLF)
  // before the request line are skipped, as RFC 9112 §2.2 allows.
  // kDone: head() is valid and head().head_length bytes belong to the head.
  // kError: error() names the problem; the connection must be closed.
  ParseStatus Parse(const char* data, size_t len);

  const RequestHead& head() const { return head_; }
  const char* error() const { return error_; }

 private:
  ParseLimits limits_;
  RequestHead head_;
  size_t start_ = 0;    // offset of the request line (after leading CRLFs)
  size_t scanned_ = 0;  // bytes already searched for the end of the head
  bool done_ = false;
  const char* error_ = nullptr;
};

// Parses response heads from an origin. The body framing depends on the
// request (HEAD) and on the status (1xx, 204, 304 have no body); a response
// with neither Content-Length nor chunked is kUntilClose.
// A 1xx response is a complete head of its own: the caller forwards or drops
// it, then Reset()s and parses the final response that follows.
class ResponseParser {
 public:
  explicit ResponseParser(const ParseLimits& limits = ParseLimits()) : limits_(limits) {}

  void Reset(bool request_was_head);

  ParseStatus Parse(const char* data, size_t len);

  const ResponseHead& head() const { return head_; }
  const char* error() const { return error_; }

 private:
  ParseLimits limits_;
  ResponseHead head_;
  bool request_was_head_ = false;
  size_t start_ = 0;  // always 0: responses do not skip leading CRLFs
  size_t scanned_ = 0;
  bool done_ = false;
  const char* error_ = nullptr;
};

// Decodes the chunked transfer coding incrementally, over input that may be
// split anywhere. It validates chunk sizes (hex, at most 16 digits, no
// overflow), chunk extensions (syntax and a length limit) and trailer fields
// (same rules as head fields, with a size limit), and keeps the trailer field
// lines so a proxy can forward them.
class ChunkedDecoder {
 public:
  struct Limits {
    size_t max_chunk_ext_bytes = 4096;  // per chunk line
    size_t max_trailer_bytes = 16 * 1024;
  };

  struct Result {
    enum Kind { kNeedMore, kData, kDone, kError } kind = kNeedMore;
    // Bytes of framing consumed from the start of the input.
    size_t consumed = 0;
    // kData: chunk data starts at input + consumed and is data_length bytes
    // long; the decoder counts those bytes as taken. Feed again with the
    // input that follows them.
    size_t data_length = 0;
  };

  explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}
  ChunkedDecoder() : ChunkedDecoder(Limits()) {}

  void Reset();

  // kNeedMore: every input byte was consumed as framing; feed more.
  // kDone: the last chunk and trailer section ended at input + consumed.
  // kError: error() says why.
  Result Feed(const char* data, size_t len);

  // Raw trailer field lines ("Name: value\r\n" each), valid after kDone.
  const std::string& trailers() const { return trailers_; }
  const char* error() const { return error_; }

 private:
  Limits limits_;
  int state_ = 0;
  uint64_t chunk_remaining_ = 0;
  size_t size_digits_ = 0;
  size_t ext_bytes_ = 0;
  std::string trailers_;
  std::string line_;  // the trailer line being collected
  const char* error_ = nullptr;

  bool Step(unsigned char c);  // one framing byte; false (and error_) on error
  bool Fail(const char* why);
};

// Field helpers.
// Inline: called for nearly every field of every message, and most calls
// end at the length check.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x += 'a' - 'A';
    if (y >= 'A' && y <= 'Z') y += 'a' - 'A';
    if (x != y) return false;
  }
  return true;
}

// True when the comma-separated list `value` has `token` as an element
// (case-insensitive, OWS around elements ignored).
bool HasToken(std::string_view value, std::string_view token);

// Calls fn(element) for each non-empty element of a comma-separated list,
// with OWS trimmed.
template <typename Fn>
void ForEachListElement(std::string_view value, Fn&& fn) {
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view element = value.substr(pos, comma - pos);
    while (!element.empty() && (element.front() == ' ' || element.front() == '\t')) element.remove_prefix(1);
    while (!element.empty() && (element.back() == ' ' || element.back() == '\t')) element.remove_suffix(1);
    if (!element.empty()) fn(element);
    pos = comma + 1;
  }
}

// True for the characters of a token (RFC 9110 §5.6.2).
bool IsTokenChar(unsigned char c);

}  // namespace strata::http
