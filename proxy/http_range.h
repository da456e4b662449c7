// Range requests (RFC 9110 §14) served from a complete stored representation
// of known length.
//
// EvaluateRange turns a request's Range field value into a decision:
//   kFull           serve 200 with the whole representation. Used when there
//                   is no Range, when it is invalid (bad syntax, a unit other
//                   than "bytes", last-pos < first-pos; §14.2 says to ignore
//                   it), when If-Range failed, when it has more than
//                   kMaxRangeSpecs ranges (§14.2 lets a server ignore a Range
//                   that looks like an attack), and for a zero-length
//                   representation asked for a suffix range (the only
//                   satisfiable form there, §14.1.1, but Content-Range cannot
//                   express zero bytes, so the entire, empty, representation
//                   is sent as 200).
//   kPartial        serve 206. `ranges` are the satisfiable ranges, clamped to
//                   the length, with overlapping and adjacent ones coalesced
//                   (§14.6 allows it); the remaining ranges keep the order of
//                   their first range-spec in the request (§14.6 SHOULD).
//                   One range: Content-Range: ContentRangeValue(r, len) and
//                   that slice. Several: multipart/byteranges, see
//                   PlanMultipart.
//   kUnsatisfiable  serve 416 with Content-Range: UnsatisfiedContentRange(len)
//                   (every range-spec starts at or past the end, or is "-0").
// Numbers too large for 64 bits saturate: a huge first-pos is unsatisfiable,
// a huge last-pos or suffix-length reaches the end. The unit is matched
// case-insensitively; OWS around list elements and empty elements are
// accepted (§5.6.1), whitespace inside a range-spec is not.
//
// Not done here (the caller's job): only GET has range handling (§14.2: ignore
// Range on other methods); evaluating If-Range (pass the result as
// if_range_ok); a request with several Range fields is invalid (pass "" so it
// is ignored); Accept-Ranges: bytes on responses.
//
// Thread-safety: all functions are pure except MakeBoundary, which uses an
// atomic counter; all may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::http {

// More range-specs than this in one Range field: the field is ignored (200).
inline constexpr size_t kMaxRangeSpecs = 100;

struct ByteRange {
  uint64_t first = 0;  // offsets of the first and last byte, inclusive
  uint64_t last = 0;
  uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

struct RangeDecision {
  enum class Kind { kFull, kPartial, kUnsatisfiable };
  Kind kind = Kind::kFull;
  std::vector<ByteRange> ranges;  // kPartial only: non-empty, disjoint, non-adjacent
};

// `range_value`: the Range field value ("" when absent); `length`: the stored
// representation's length; `if_range_ok`: false when the request had an
// If-Range that does not match (then the answer is kFull).
RangeDecision EvaluateRange(std::string_view range_value, uint64_t length, bool if_range_ok = true);

// "bytes FIRST-LAST/LENGTH" for a 206 (and each multipart part).
std::string ContentRangeValue(const ByteRange& range, uint64_t length);

// "bytes */LENGTH" for a 416.
std::string UnsatisfiedContentRange(uint64_t length);

// A fresh boundary for multipart/byteranges: 32 hex digits mixed from a
// process-wide counter, an address and the clock. Unpredictable enough not to
// collide with content by accident; not meant to resist an attacker.
std::string MakeBoundary();

// The body of a multipart/byteranges 206, planned so it can be streamed from
// the cache: send, for each part, `header` and then bytes [range.first,
// range.last] of the representation; then `closing`.
struct MultipartPlan {
  struct Part {
    std::string header;  // CRLF "--" boundary CRLF [Content-Type CRLF] Content-Range CRLF CRLF
    ByteRange range;
  };
  std::string content_type;  // "multipart/byteranges; boundary=..." for the response
  std::vector<Part> parts;
  std::string closing;          // CRLF "--" boundary "--" CRLF
  uint64_t content_length = 0;  // sum of every header, range and the closing
};

// `content_type`: the representation's Content-Type, repeated in each part
// (§14.6); "" to leave it out. `boundary`: normally MakeBoundary().
MultipartPlan PlanMultipart(const std::vector<ByteRange>& ranges, uint64_t length, std::string_view content_type,
                            std::string_view boundary);

}  // namespace strata::http
