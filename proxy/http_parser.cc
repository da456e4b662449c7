// Strict HTTP/1.1 head parser and chunked decoder; see http_parser.h.
//
// A head is handled in two phases. While it is incomplete, Parse() only looks
// for the empty line that ends it (memchr for LF from where the last call
// stopped), rejecting a bare LF on the spot so garbage fails fast. Once the
// end is found, the head is validated and split into fields in one pass over
// bytes that are all present, which keeps the per-call work of byte-at-a-time
// feeding O(1) amortized and the validation code free of resumable state.
//
// Choices the header leaves open:
//  - Only requests skip leading empty lines; a response that starts with CRLF
//    (e.g. stray bytes after a mis-framed body) is an error, since tolerating
//    it would hide an origin desync.
//  - Content-Length above INT64_MAX is an error, so the value always fits an
//    off_t or int64_t wherever the proxy puts it.
//  - Transfer-Encoding in an HTTP/1.0 message is an error (RFC 9112 §6.1 says
//    to treat its framing as faulty), as is "chunked" with parameters.
//  - A request Host must be uri-host [":" port] characters; anything else (spaces,
//    '/', '@', ...) is an error because Host feeds the cache key and routing.
//  - A request body is kChunked, else kContentLength for any Content-Length
//    (0 included), else kNone. expect_continue stays false for HTTP/1.0,
//    which must ignore it (RFC 9110 §10.1.1).
//  - Chunked trailers must not carry Content-Length, Transfer-Encoding or
//    Host (RFC 9110 §6.5.1): a downstream that merges trailers into the head
//    would otherwise be open to smuggling.

#include "proxy/http_parser.h"

#include <array>
#include <cstring>
#include <limits>

namespace strata::http {

namespace {

// Character classes, one bit each, looked up per byte on the hot path.
constexpr uint8_t kToken = 1;   // tchar (RFC 9110 §5.6.2)
constexpr uint8_t kValue = 2;   // field-vchar / SP / HTAB (RFC 9110 §5.5)
constexpr uint8_t kTarget = 4;  // request-target: anything but CTL and SP
constexpr uint8_t kHost = 8;    // uri-host / ":" port (RFC 3986 §3.2.2)
constexpr uint8_t kHex = 16;

constexpr std::array<uint8_t, 256> MakeCharTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    uint8_t bits = 0;
    if (alpha || digit || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos)
      bits |= kToken;
    if ((c >= 0x21 && c != 0x7f) || c == ' ' || c == '\t') bits |= kValue;
    if (c > 0x20 && c != 0x7f) bits |= kTarget;
    if (alpha || digit || std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) != std::string_view::npos)
      bits |= kHost;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= kHex;
    t[c] = bits;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kCharTable = MakeCharTable();

inline bool Is(unsigned char c, uint8_t cls) { return (kCharTable[c] & cls) != 0; }
inline bool IsOws(char c) { return c == ' ' || c == '\t'; }

// Names the offending byte when it is one with a well-known attack story,
// `otherwise` when it is merely not allowed where it appears.
const char* BadByte(unsigned char c, const char* otherwise) {
  if (c == '\r') return "bare CR";
  if (c == '\n') return "bare LF";
  if (c == '\0') return "NUL byte";
  if (c < 0x20 || c == 0x7f) return "control character";
  return otherwise;
}

// Splits "name: value" (no CRLF) into *field, enforcing the head rules.
const char* ParseFieldLine(std::string_view line, Field* field) {
  if (line.empty()) return "empty field line";
  if (IsOws(line[0])) return "obs-fold";
  size_t i = 0;
  while (i < line.size() && Is(line[i], kToken)) ++i;
  if (i == line.size()) return "field line without colon";
  if (line[i] != ':') {
    if (IsOws(line[i])) return "whitespace before colon";
    return BadByte(line[i], "invalid field name");
  }
  if (i == 0) return "empty field name";
  for (size_t k = i + 1; k < line.size(); ++k) {
    if (!Is(line[k], kValue)) return BadByte(line[k], "invalid field value");
  }
  std::string_view value = line.substr(i + 1);
  while (!value.empty() && IsOws(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsOws(value.back())) value.remove_suffix(1);
  field->name = line.substr(0, i);
  field->value = value;
  return nullptr;
}

// "HTTP/D.D" with major version 1 (the only one this parser speaks).
const char* ParseVersion(std::string_view v, HeadInfo* info) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
      v[7] > '9') {
    return "invalid HTTP version";
  }
  if (v[5] != '1') return "unsupported HTTP version";
  info->version_major = 1;
  info->version_minor = v[7] - '0';
  return nullptr;
}

const char* ParseRequestLine(std::string_view line, RequestHead* head) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return "malformed request line";
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return "malformed request line";
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method.empty()) return "empty method";
  for (unsigned char c : method) {
    if (!Is(c, kToken)) return BadByte(c, "invalid method");
  }
  if (target.empty()) return "empty request target";
  for (unsigned char c : target) {
    if (!Is(c, kTarget)) return BadByte(c, "invalid request target");
  }
  // The version must end the line, so a third SP lands here and fails.
  if (const char* err = ParseVersion(line.substr(sp2 + 1), head)) return err;
  head->method = method;
  head->target = target;
  return nullptr;
}

// "HTTP/1.1 200 OK", "HTTP/1.1 200 " and "HTTP/1.1 200" are all well formed.
const char* ParseStatusLine(std::string_view line, ResponseHead* head) {
  if (line.size() < 12 || line[8] != ' ') return "malformed status line";
  if (const char* err = ParseVersion(line.substr(0, 8), head)) return err;
  const char d0 = line[9], d1 = line[10], d2 = line[11];
  if (d0 < '1' || d0 > '9' || d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9') return "invalid status code";
  if (line.size() > 12 && line[12] != ' ') return "invalid status code";
  const std::string_view reason = line.size() > 12 ? line.substr(13) : std::string_view();
  for (unsigned char c : reason) {
    if (!Is(c, kValue)) return BadByte(c, "invalid reason phrase");
  }
  head->status = (d0 - '0') * 100 + (d1 - '0') * 10 + (d2 - '0');
  head->reason = reason;
  return nullptr;
}

// 1*DIGIT, at most INT64_MAX.
bool ParseContentLength(std::string_view v, uint64_t* out) {
  if (v.empty()) return false;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (kMax - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

// What the framing-relevant fields say, gathered in the field pass.
struct Framing {
  bool request = false;  // Host and Expect only mean something in requests
  bool has_content_length = false;
  bool chunked_seen = false;
  bool chunked_last = false;
  int host_count = 0;
  std::string_view host;
  bool expect_continue = false;
};

// Applies one field to *framing and *info. Names are dispatched on length
// first so most fields cost one switch and no string compare.
const char* NoteField(const Field& f, HeadInfo* info, Framing* framing) {
  switch (f.name.size()) {
    case 4:
      if (framing->request && EqualsIgnoreCase(f.name, "host")) {
        if (++framing->host_count > 1) return "more than one Host";
        for (unsigned char c : f.value) {
          if (!Is(c, kHost)) return "invalid Host";
        }
        framing->host = f.value;
      }
      break;
    case 6:
      if (framing->request && EqualsIgnoreCase(f.name, "expect") && HasToken(f.value, "100-continue"))
        framing->expect_continue = true;
      break;
    case 10:
      if (EqualsIgnoreCase(f.name, "connection")) {
        ForEachListElement(f.value, [info](std::string_view token) {
          if (EqualsIgnoreCase(token, "close")) info->connection_close = true;
          if (EqualsIgnoreCase(token, "keep-alive")) info->connection_keep_alive = true;
        });
      }
      break;
    case 14:
      if (EqualsIgnoreCase(f.name, "content-length")) {
        if (framing->has_content_length) return "repeated Content-Length";
        if (!ParseContentLength(f.value, &info->content_length)) return "invalid Content-Length";
        framing->has_content_length = true;
      }
      break;
    case 17:
      if (EqualsIgnoreCase(f.name, "transfer-encoding")) {
        info->has_transfer_encoding = true;
        const char* err = nullptr;
        int codings = 0;
        ForEachListElement(f.value, [&](std::string_view coding) {
          ++codings;
          size_t name_end = 0;
          while (name_end < coding.size() && Is(coding[name_end], kToken)) ++name_end;
          const std::string_view name = coding.substr(0, name_end);
          if (name.empty()) {
            err = "invalid Transfer-Encoding";
          } else if (EqualsIgnoreCase(name, "chunked")) {
            if (name.size() != coding.size()) err = "invalid Transfer-Encoding";
            if (framing->chunked_seen) err = "chunked applied more than once";
            framing->chunked_seen = true;
            framing->chunked_last = true;
          } else {
            if (framing->chunked_seen) err = "chunked is not the final coding";
            framing->chunked_last = false;
          }
        });
        if (codings == 0) return "empty Transfer-Encoding";
        if (err != nullptr) return err;
      }
      break;
    default:
      break;
  }
  return nullptr;
}

// Looks for the end of a head in data[0, len). *start and *scanned carry the
// progress between calls; they are offsets, not pointers, because the caller
// may move its buffer between calls. Sets *head_end to the offset just past
// the final CRLF on kDone.
ParseStatus FindHeadEnd(const char* data, size_t len, size_t max_head_bytes, bool skip_empty_lines, size_t* start,
                        size_t* scanned, size_t* head_end, const char** error) {
  if (len < *scanned) *scanned = *start = 0;  // caller handed us less than before: start over
  const size_t limit = len < max_head_bytes ? len : max_head_bytes;
  bool at_start = skip_empty_lines && *scanned == *start;
  while (at_start && *start < limit) {
    if (data[*start] == '\n') {
      *error = "bare LF";
      return ParseStatus::kError;
    }
    if (data[*start] != '\r') break;
    if (*start + 1 == limit) {
      // A lone CR: wait for the LF without scanning, so the next call
      // still treats this as a leading empty line.
      *scanned = *start;
      return len > max_head_bytes ? (*error = "head too large", ParseStatus::kError) : ParseStatus::kNeedMore;
    }
    if (data[*start + 1] != '\n') {
      *error = "bare CR";
      return ParseStatus::kError;
    }
    *start += 2;
    *scanned = *start;
  }
  size_t i = *scanned;
  while (i < limit) {
    const void* hit = std::memchr(data + i, '\n', limit - i);
    if (hit == nullptr) {
      i = limit;
      break;
    }
    const size_t lf = static_cast<const char*>(hit) - data;
    if (lf == *start || data[lf - 1] != '\r') {
      *error = "bare LF";
      return ParseStatus::kError;
    }
    if (lf >= *start + 3 && data[lf - 2] == '\n' && data[lf - 3] == '\r') {
      *scanned = lf + 1;
      *head_end = lf + 1;
      return ParseStatus::kDone;
    }
    i = lf + 1;
  }
  *scanned = i;
  if (len > max_head_bytes) {
    *error = "head too large";
    return ParseStatus::kError;
  }
  return ParseStatus::kNeedMore;
}

// Splits the complete head data[start, end) into its start line (returned)
// and fields. Every LF in it is known to follow a CR.
template <typename StartLineFn>
const char* SplitHead(const char* data, size_t start, size_t end, size_t max_fields, std::vector<Field>* fields,
                      HeadInfo* info, Framing* framing, StartLineFn&& parse_start_line) {
  const char* p = data + start;
  const char* const stop = data + end - 2;  // the final CRLF
  const char* lf = static_cast<const char*>(std::memchr(p, '\n', stop - p));
  if (const char* err = parse_start_line(std::string_view(p, lf - 1 - p))) return err;
  p = lf + 1;
  while (p < stop) {
    lf = static_cast<const char*>(std::memchr(p, '\n', stop - p));
    Field f;
    if (const char* err = ParseFieldLine(std::string_view(p, lf - 1 - p), &f)) return err;
    if (fields->size() >= max_fields) return "too many fields";
    fields->push_back(f);
    if (const char* err = NoteField(f, info, framing)) return err;
    p = lf + 1;
  }
  return nullptr;
}

template <typename Head>
void ResetHead(Head* head) {
  std::vector<Field> fields = std::move(head->fields);  // keeps the capacity
  fields.clear();
  *head = Head();
  head->fields = std::move(fields);
}

}  // namespace

bool IsTokenChar(unsigned char c) { return Is(c, kToken); }

bool HasToken(std::string_view value, std::string_view token) {
  bool found = false;
  ForEachListElement(value, [&](std::string_view element) {
    if (EqualsIgnoreCase(element, token)) found = true;
  });
  return found;
}

// ---- RequestParser ----

void RequestParser::Reset() {
  ResetHead(&head_);
  scanned_ = 0;
  start_ = 0;
  done_ = false;
  error_ = nullptr;
}

ParseStatus RequestParser::Parse(const char* data, size_t len) {
  if (error_ != nullptr) return ParseStatus::kError;
  if (done_) return ParseStatus::kDone;
  size_t end = 0;
  const ParseStatus st = FindHeadEnd(data, len, limits_.max_head_bytes, true, &start_, &scanned_, &end, &error_);
  if (st != ParseStatus::kDone) return st;

  Framing framing;
  framing.request = true;
  error_ = SplitHead(data, start_, end, limits_.max_fields, &head_.fields, &head_, &framing,
                     [this](std::string_view line) { return ParseRequestLine(line, &head_); });
  if (error_ == nullptr) {
    if (framing.host_count == 0 && head_.is_http11_or_later()) {
      error_ = "missing Host";
    } else if (head_.has_transfer_encoding) {
      // RFC 9112 §6.1-6.3: anything but a final "chunked" leaves the
      // request length unknowable, and TE with CL is the classic smuggle.
      if (framing.has_content_length) {
        error_ = "Transfer-Encoding with Content-Length";
      } else if (!head_.is_http11_or_later()) {
        error_ = "Transfer-Encoding in HTTP/1.0";
      } else if (!framing.chunked_last) {
        error_ = "request Transfer-Encoding does not end in chunked";
      }
    }
  }
  if (error_ != nullptr) return ParseStatus::kError;

  if (head_.has_transfer_encoding) {
    head_.body = BodyKind::kChunked;
  } else if (framing.has_content_length) {
    head_.body = BodyKind::kContentLength;  // even for 0, so callers see what was sent
  } else {
    head_.body = BodyKind::kNone;
  }
  head_.host = framing.host;
  // RFC 9110 §10.1.1: an HTTP/1.0 client cannot know to wait for 100.
  head_.expect_continue = framing.expect_continue && head_.is_http11_or_later();
  head_.head_length = end;
  done_ = true;
  return ParseStatus::kDone;
}

// ---- ResponseParser ----

void ResponseParser::Reset(bool request_was_head) {
  ResetHead(&head_);
  request_was_head_ = request_was_head;
  scanned_ = 0;
  start_ = 0;
  done_ = false;
  error_ = nullptr;
}

ParseStatus ResponseParser::Parse(const char* data, size_t len) {
  if (error_ != nullptr) return ParseStatus::kError;
  if (done_) return ParseStatus::kDone;
  size_t end = 0;
  const ParseStatus st = FindHeadEnd(data, len, limits_.max_head_bytes, false, &start_, &scanned_, &end, &error_);
  if (st != ParseStatus::kDone) return st;

  Framing framing;
  error_ = SplitHead(data, start_, end, limits_.max_fields, &head_.fields, &head_, &framing,
                     [this](std::string_view line) { return ParseStatusLine(line, &head_); });
  if (error_ == nullptr && head_.has_transfer_encoding) {
    if (framing.has_content_length) {
      error_ = "Transfer-Encoding with Content-Length";
    } else if (!head_.is_http11_or_later()) {
      error_ = "Transfer-Encoding in HTTP/1.0";
    }
  }
  if (error_ != nullptr) return ParseStatus::kError;

  // RFC 9112 §6.3, in order.
  const int s = head_.status;
  if (request_was_head_ || s < 200 || s == 204 || s == 304) {
    head_.body = BodyKind::kNone;
  } else if (head_.has_transfer_encoding) {
    head_.body = framing.chunked_last ? BodyKind::kChunked : BodyKind::kUntilClose;
  } else if (framing.has_content_length) {
    head_.body = BodyKind::kContentLength;
  } else {
    head_.body = BodyKind::kUntilClose;
  }
  head_.head_length = end;
  done_ = true;
  return ParseStatus::kDone;
}

// ---- ChunkedDecoder ----
//
// A byte-at-a-time state machine for the framing (chunk lines, CRLFs,
// trailers); chunk data itself is handed back in whole runs, never copied.

namespace {

enum ChunkState : int {
  kSizeStart = 0,  // first hex digit of a chunk-size
  kSize,           // more hex digits, or what ends the size
  kExtPreSemi,     // BWS that must be followed by ';'
  kExtPreName,     // after ';': BWS, then the extension name
  kExtName,        // in chunk-ext-name
  kExtPostName,    // BWS after the name: '=' or ';' must follow
  kExtPreValue,    // after '=': BWS, then token or quoted-string
  kExtToken,       // in a token value
  kExtQuoted,      // in a quoted-string value
  kExtQuotedPair,  // after '\' in a quoted-string
  kExtPostQuoted,  // just after the closing quote
  kSizeLF,         // CR of the chunk line seen
  kData,           // chunk_remaining_ data bytes to hand out
  kDataCR,         // CRLF that must follow the data
  kDataLF,
  kTrailerStart,  // start of a trailer line or of the final CRLF
  kTrailerLine,   // in a trailer line
  kTrailerLF,     // CR of a trailer line seen
  kFinalLF,       // CR of the final empty line seen
  kChunkDone,
};

inline int HexValue(unsigned char c) {
  if (c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

// Trailers may not redefine framing or routing (RFC 9110 §6.5.1).
bool IsForbiddenTrailer(std::string_view name) {
  return EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding") ||
         EqualsIgnoreCase(name, "host");
}

}  // namespace

void ChunkedDecoder::Reset() {
  state_ = kSizeStart;
  chunk_remaining_ = 0;
  size_digits_ = 0;
  ext_bytes_ = 0;
  trailers_.clear();
  line_.clear();
  error_ = nullptr;
}

bool ChunkedDecoder::Fail(const char* why) {
  error_ = why;
  return false;
}

ChunkedDecoder::Result ChunkedDecoder::Feed(const char* data, size_t len) {
  Result r;
  if (error_ != nullptr) {
    r.kind = Result::kError;
    return r;
  }
  size_t i = 0;
  while (state_ != kChunkDone) {
    if (state_ == kData) {
      if (i == len) break;
      const uint64_t avail = len - i;
      const uint64_t n = chunk_remaining_ < avail ? chunk_remaining_ : avail;
      chunk_remaining_ -= n;
      if (chunk_remaining_ == 0) state_ = kDataCR;
      r.kind = Result::kData;
      r.consumed = i;
      r.data_length = static_cast<size_t>(n);
      return r;
    }
    if (i == len) break;
    if (!Step(static_cast<unsigned char>(data[i++]))) {
      r.kind = Result::kError;
      r.consumed = i;
      return r;
    }
  }
  r.kind = state_ == kChunkDone ? Result::kDone : Result::kNeedMore;
  r.consumed = i;
  return r;
}

bool ChunkedDecoder::Step(unsigned char c) {
  // Everything between the size digits and the CR counts against the
  // extension limit, whatever state it is parsed in.
  if (state_ >= kExtPreSemi && state_ <= kExtPostQuoted && c != '\r' && ++ext_bytes_ > limits_.max_chunk_ext_bytes) {
    return Fail("chunk extension too long");
  }
  switch (state_) {
    case kSizeStart:
      if (!Is(c, kHex)) return Fail(c == '-' ? "negative chunk size" : "missing or invalid chunk size");
      chunk_remaining_ = HexValue(c);
      size_digits_ = 1;
      ext_bytes_ = 0;
      state_ = kSize;
      return true;
    case kSize:
      if (Is(c, kHex)) {
        if (++size_digits_ > 16) return Fail("chunk size has too many digits");
        if (chunk_remaining_ >> 60 != 0) return Fail("chunk size overflow");
        chunk_remaining_ = chunk_remaining_ << 4 | HexValue(c);
        return true;
      }
      if (c == '\r') {
        state_ = kSizeLF;
      } else if (c == ';') {
        state_ = kExtPreName;
      } else if (IsOws(c)) {
        state_ = kExtPreSemi;
      } else {
        return Fail("invalid chunk size");
      }
      ext_bytes_ = c == '\r' ? 0 : 1;
      return true;
    case kExtPreSemi:
      if (c == ';') state_ = kExtPreName;
      return c == ';' || IsOws(c) || Fail("invalid chunk extension");
    case kExtPreName:
      if (Is(c, kToken)) state_ = kExtName;
      return Is(c, kToken) || IsOws(c) || Fail("invalid chunk extension");
    case kExtName:
    case kExtToken:
      if (Is(c, kToken)) return true;
      if (c == '=' && state_ == kExtName) {
        state_ = kExtPreValue;
      } else if (c == ';') {
        state_ = kExtPreName;
      } else if (c == '\r') {
        state_ = kSizeLF;
      } else if (IsOws(c)) {
        state_ = state_ == kExtName ? kExtPostName : kExtPreSemi;
      } else {
        return Fail("invalid chunk extension");
      }
      return true;
    case kExtPostName:
      if (c == '=') {
        state_ = kExtPreValue;
      } else if (c == ';') {
        state_ = kExtPreName;
      } else if (!IsOws(c)) {
        return Fail("invalid chunk extension");
      }
      return true;
    case kExtPreValue:
      if (c == '"') {
        state_ = kExtQuoted;
      } else if (Is(c, kToken)) {
        state_ = kExtToken;
      } else if (!IsOws(c)) {
        return Fail("invalid chunk extension");
      }
      return true;
    case kExtQuoted:
      // qdtext is field-vchar, SP and HTAB, less '"' and '\'.
      if (c == '"') {
        state_ = kExtPostQuoted;
      } else if (c == '\\') {
        state_ = kExtQuotedPair;
      } else if (!Is(c, kValue)) {
        return Fail(BadByte(c, "invalid chunk extension"));
      }
      return true;
    case kExtQuotedPair:
      if (!Is(c, kValue)) return Fail(BadByte(c, "invalid chunk extension"));
      state_ = kExtQuoted;
      return true;
    case kExtPostQuoted:
      if (c == ';') {
        state_ = kExtPreName;
      } else if (c == '\r') {
        state_ = kSizeLF;
      } else if (IsOws(c)) {
        state_ = kExtPreSemi;
      } else {
        return Fail("invalid chunk extension");
      }
      return true;
    case kSizeLF:
      if (c != '\n') return Fail("bare CR in chunk line");
      state_ = chunk_remaining_ == 0 ? kTrailerStart : kData;
      return true;
    case kDataCR:
      if (c != '\r') return Fail("missing CRLF after chunk data");
      state_ = kDataLF;
      return true;
    case kDataLF:
      if (c != '\n') return Fail("missing CRLF after chunk data");
      state_ = kSizeStart;
      return true;
    case kTrailerStart:
      if (c == '\r') {
        state_ = kFinalLF;
        return true;
      }
      line_.clear();
      state_ = kTrailerLine;
      [[fallthrough]];
    case kTrailerLine:
      if (c == '\r') {
        state_ = kTrailerLF;
        return true;
      }
      if (c == '\n') return Fail("bare LF");
      // The line still needs its CRLF, so count it now to fail early.
      if (trailers_.size() + line_.size() + 3 > limits_.max_trailer_bytes) return Fail("trailer section too large");
      line_.push_back(static_cast<char>(c));
      return true;
    case kTrailerLF: {
      if (c != '\n') return Fail("bare CR");
      Field f;
      if (const char* err = ParseFieldLine(line_, &f)) return Fail(err);
      if (IsForbiddenTrailer(f.name)) return Fail("framing field in trailers");
      trailers_.append(line_);
      trailers_.append("\r\n");
      state_ = kTrailerStart;
      return true;
    }
    case kFinalLF:
      if (c != '\n') return Fail("bare CR");
      state_ = kChunkDone;
      return true;
    default:
      return Fail("decoder misuse");
  }
}

}  // namespace strata::http
