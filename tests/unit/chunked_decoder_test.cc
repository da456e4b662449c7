// Tests for ChunkedDecoder: decoding, extensions, trailers, limits, and input
// split at every possible position.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_parser.h"

namespace strata::http {
namespace {

struct Decoded {
  ChunkedDecoder::Result::Kind kind = ChunkedDecoder::Result::kNeedMore;
  std::string data;
  size_t consumed = 0;  // bytes of the input that belong to the chunked body
  std::string trailers;
  std::string error;
};

// Feeds `input` in pieces of `piece` bytes (0: all at once), the way a proxy
// does: each kData run is taken, the rest of the piece is fed again.
Decoded Decode(std::string_view input, size_t piece = 0, ChunkedDecoder::Limits limits = {}) {
  ChunkedDecoder dec(limits);
  Decoded out;
  if (piece == 0) piece = input.size() == 0 ? 1 : input.size();
  size_t pos = 0;
  while (pos < input.size()) {
    size_t end = std::min(input.size(), pos + piece);
    while (pos < end) {
      ChunkedDecoder::Result r = dec.Feed(input.data() + pos, end - pos);
      out.kind = r.kind;
      pos += r.consumed;
      if (r.kind == ChunkedDecoder::Result::kData) {
        EXPECT_GT(r.data_length, 0u);
        EXPECT_LE(pos + r.data_length, end);
        out.data.append(input.substr(pos, r.data_length));
        pos += r.data_length;
      } else if (r.kind == ChunkedDecoder::Result::kNeedMore) {
        EXPECT_EQ(pos, end);
      } else {
        out.consumed = pos;
        if (r.kind == ChunkedDecoder::Result::kDone) out.trailers = dec.trailers();
        if (dec.error() != nullptr) out.error = dec.error();
        return out;
      }
    }
  }
  out.consumed = pos;
  return out;
}

void ExpectDecodeError(std::string_view input, std::string_view why = {}, ChunkedDecoder::Limits limits = {}) {
  for (size_t piece : {size_t{0}, size_t{1}}) {
    Decoded d = Decode(input, piece, limits);
    EXPECT_EQ(d.kind, ChunkedDecoder::Result::kError) << input << " piece " << piece;
    if (!why.empty()) {
      EXPECT_EQ(d.error, why) << input;
    }
  }
}

Decoded DecodeOk(std::string_view input, size_t piece = 0, ChunkedDecoder::Limits limits = {}) {
  Decoded d = Decode(input, piece, limits);
  EXPECT_EQ(d.kind, ChunkedDecoder::Result::kDone) << input << " error: " << d.error;
  return d;
}

TEST(ChunkedDecoder, SingleChunk) {
  Decoded d = DecodeOk("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(d.data, "hello");
  EXPECT_EQ(d.trailers, "");
}

TEST(ChunkedDecoder, MultipleChunksHexSizes) {
  const std::string a(0x1a, 'a'), b(0xF0, 'b');
  Decoded d = DecodeOk("1a\r\n" + a + "\r\nF0\r\n" + b + "\r\n3\r\nxyz\r\n0\r\n\r\n");
  EXPECT_EQ(d.data, a + b + "xyz");
}

TEST(ChunkedDecoder, EmptyBody) {
  Decoded d = DecodeOk("0\r\n\r\n");
  EXPECT_EQ(d.data, "");
  EXPECT_EQ(d.consumed, 5u);
}

TEST(ChunkedDecoder, LeadingZerosInSize) {
  EXPECT_EQ(DecodeOk("0003\r\nabc\r\n000\r\n\r\n").data, "abc");
  EXPECT_EQ(DecodeOk("0000000000000003\r\nabc\r\n0\r\n\r\n").data, "abc");  // 16 digits
}

TEST(ChunkedDecoder, StopsAtEndOfBody) {
  const std::string body = "2\r\nhi\r\n0\r\n\r\n";
  Decoded d = DecodeOk(body + "GET / HTTP/1.1\r\n");
  EXPECT_EQ(d.consumed, body.size());
  EXPECT_EQ(d.data, "hi");
}

TEST(ChunkedDecoder, DataIsHandedOutWithoutCopy) {
  ChunkedDecoder dec;
  const std::string in = "4\r\nwxyz\r\n";
  ChunkedDecoder::Result r = dec.Feed(in.data(), in.size());
  ASSERT_EQ(r.kind, ChunkedDecoder::Result::kData);
  EXPECT_EQ(r.consumed, 3u);
  EXPECT_EQ(r.data_length, 4u);
  r = dec.Feed(in.data() + 7, in.size() - 7);
  EXPECT_EQ(r.kind, ChunkedDecoder::Result::kNeedMore);
  EXPECT_EQ(r.consumed, 2u);
}

TEST(ChunkedDecoder, LargeChunkSpansFeeds) {
  ChunkedDecoder dec;
  const std::string head = "100000\r\n";  // 1 MiB chunk
  ChunkedDecoder::Result r = dec.Feed(head.data(), head.size());
  EXPECT_EQ(r.kind, ChunkedDecoder::Result::kNeedMore);
  const std::string part(1000, 'x');
  size_t total = 0;
  while (total < 0x100000) {
    const size_t n = std::min(part.size(), size_t{0x100000} - total);
    r = dec.Feed(part.data(), n);
    ASSERT_EQ(r.kind, ChunkedDecoder::Result::kData);
    ASSERT_EQ(r.consumed, 0u);
    ASSERT_EQ(r.data_length, n);
    total += n;
  }
  const std::string tail = "\r\n0\r\n\r\n";
  r = dec.Feed(tail.data(), tail.size());
  EXPECT_EQ(r.kind, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(r.consumed, tail.size());
}

TEST(ChunkedDecoder, FeedAfterDoneReturnsDone) {
  ChunkedDecoder dec;
  const std::string in = "0\r\n\r\nextra";
  ChunkedDecoder::Result r = dec.Feed(in.data(), in.size());
  ASSERT_EQ(r.kind, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(r.consumed, 5u);
  r = dec.Feed(in.data() + 5, in.size() - 5);
  EXPECT_EQ(r.kind, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(r.consumed, 0u);
}

TEST(ChunkedDecoder, ErrorIsStickyUntilReset) {
  ChunkedDecoder dec;
  const std::string bad = "z\r\n";
  EXPECT_EQ(dec.Feed(bad.data(), bad.size()).kind, ChunkedDecoder::Result::kError);
  const std::string good = "0\r\n\r\n";
  EXPECT_EQ(dec.Feed(good.data(), good.size()).kind, ChunkedDecoder::Result::kError);
  dec.Reset();
  EXPECT_EQ(dec.error(), nullptr);
  EXPECT_EQ(dec.Feed(good.data(), good.size()).kind, ChunkedDecoder::Result::kDone);
}

TEST(ChunkedDecoder, ResetClearsTrailersAndState) {
  ChunkedDecoder dec;
  const std::string a = "0\r\nX: 1\r\n\r\n";
  ASSERT_EQ(dec.Feed(a.data(), a.size()).kind, ChunkedDecoder::Result::kDone);
  EXPECT_EQ(dec.trailers(), "X: 1\r\n");
  dec.Reset();
  EXPECT_EQ(dec.trailers(), "");
  const std::string b = "1\r\n";
  EXPECT_EQ(dec.Feed(b.data(), b.size()).kind, ChunkedDecoder::Result::kNeedMore);
}

// ---- Extensions ----

TEST(ChunkedDecoder, AcceptsExtensions) {
  for (const char* in : {"3;a\r\nabc\r\n0\r\n\r\n", "3;a=b\r\nabc\r\n0\r\n\r\n",
                         "3;a=\"q \\\" \\\\ x;y\"\r\nabc\r\n0\r\n\r\n", "3 ; a = b ;c\t;\td=\"\"\r\nabc\r\n0\r\n\r\n",
                         "3;a;b=1;c=\"2\"\r\nabc\r\n0;last=1\r\n\r\n", "3;a=\"x\" ;b\r\nabc\r\n0\r\n\r\n"}) {
    EXPECT_EQ(DecodeOk(in).data, "abc") << in;
    EXPECT_EQ(DecodeOk(in, 1).data, "abc") << in;
  }
}

TEST(ChunkedDecoder, RejectsInvalidExtensions) {
  for (const char* in :
       {"3;\r\nabc\r\n0\r\n\r\n", "3;=b\r\nabc\r\n0\r\n\r\n", "3;a=\r\nabc\r\n0\r\n\r\n", "3;a b\r\nabc\r\n0\r\n\r\n",
        "3;a=b c\r\nabc\r\n0\r\n\r\n", "3;a=\"x\"y\r\nabc\r\n0\r\n\r\n", "3;a=b=c\r\nabc\r\n0\r\n\r\n",
        "3;a@b\r\nabc\r\n0\r\n\r\n", "3;a=\"x\x01\"\r\nabc\r\n0\r\n\r\n", "3 \r\nabc\r\n0\r\n\r\n",
        "3;a \r\nabc\r\n0\r\n\r\n", "3 x\r\nabc\r\n0\r\n\r\n"}) {
    ExpectDecodeError(in);
  }
}

TEST(ChunkedDecoder, RejectsUnterminatedQuotedExtension) {
  ExpectDecodeError("3;a=\"abc\r\nabc\r\n0\r\n\r\n", "bare CR");
}

TEST(ChunkedDecoder, ExtensionExactlyAtLimitPasses) {
  ChunkedDecoder::Limits limits;
  limits.max_chunk_ext_bytes = 8;
  EXPECT_EQ(DecodeOk("3;abc=xyz\r\nabc\r\n0\r\n\r\n", 0, limits).data, "abc");  // ";abc=xyz" is 8 bytes
  EXPECT_EQ(DecodeOk("3;abc=xyz\r\nabc\r\n0\r\n\r\n", 1, limits).data, "abc");
}

TEST(ChunkedDecoder, RejectsExtensionOverLimit) {
  ChunkedDecoder::Limits limits;
  limits.max_chunk_ext_bytes = 8;
  ExpectDecodeError("3;abc=xyzw\r\nabc\r\n0\r\n\r\n", "chunk extension too long", limits);
  // The limit is per chunk line, not cumulative.
  EXPECT_EQ(DecodeOk("3;abc=xyz\r\nabc\r\n3;abc=xyz\r\ndef\r\n0;abc=xyz\r\n\r\n", 0, limits).data, "abcdef");
}

// ---- Chunk sizes and data framing ----

TEST(ChunkedDecoder, RejectsNonHexSize) {
  ExpectDecodeError("g\r\n\r\n", "missing or invalid chunk size");
  ExpectDecodeError("5g\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
}

TEST(ChunkedDecoder, RejectsEmptySize) {
  ExpectDecodeError("\r\nhello\r\n0\r\n\r\n", "missing or invalid chunk size");
  ExpectDecodeError(";a\r\nhello\r\n0\r\n\r\n", "missing or invalid chunk size");
}

TEST(ChunkedDecoder, RejectsTooManyDigits) {
  ExpectDecodeError("00000000000000005\r\nhello\r\n0\r\n\r\n", "chunk size has too many digits");
}

TEST(ChunkedDecoder, RejectsOverflowingSize) {
  ExpectDecodeError("10000000000000000\r\n", "chunk size has too many digits");
  ExpectDecodeError("fffffffffffffffff\r\n", "chunk size has too many digits");
}

TEST(ChunkedDecoder, AcceptsLargestSizeLine) {
  ChunkedDecoder dec;
  const std::string in = "ffffffffffffffff\r\nab";
  ChunkedDecoder::Result r = dec.Feed(in.data(), in.size());
  EXPECT_EQ(r.kind, ChunkedDecoder::Result::kData);
  EXPECT_EQ(r.data_length, 2u);
}

TEST(ChunkedDecoder, RejectsNegativeSize) { ExpectDecodeError("-1\r\nx\r\n0\r\n\r\n", "negative chunk size"); }

TEST(ChunkedDecoder, RejectsHexPrefix) { ExpectDecodeError("0x5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"); }

TEST(ChunkedDecoder, RejectsSizeWithLeadingSpace) { ExpectDecodeError(" 5\r\nhello\r\n0\r\n\r\n"); }

TEST(ChunkedDecoder, RejectsMissingCrlfAfterData) {
  ExpectDecodeError("5\r\nhelloX\r\n0\r\n\r\n", "missing CRLF after chunk data");
  ExpectDecodeError("5\r\nhello\rX0\r\n\r\n", "missing CRLF after chunk data");
  ExpectDecodeError("5\r\nhello0\r\n\r\n", "missing CRLF after chunk data");
}

TEST(ChunkedDecoder, RejectsBareLfAfterData) {
  ExpectDecodeError("5\r\nhello\n0\r\n\r\n", "missing CRLF after chunk data");
}

TEST(ChunkedDecoder, RejectsBareLfAfterSize) { ExpectDecodeError("5\nhello\r\n0\r\n\r\n", "invalid chunk size"); }

TEST(ChunkedDecoder, RejectsBareCrAfterSize) { ExpectDecodeError("5\rhello\r\n0\r\n\r\n", "bare CR in chunk line"); }

TEST(ChunkedDecoder, RejectsBareCrAtEnd) { ExpectDecodeError("0\r\n\rX", "bare CR"); }

TEST(ChunkedDecoder, IncompleteBodyNeedsMore) {
  for (const char* in :
       {"5", "5\r", "5\r\nhel", "5\r\nhello\r", "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\nX: y\r\n"}) {
    for (size_t piece : {size_t{0}, size_t{1}}) {
      const Decoded d = Decode(in, piece);
      EXPECT_NE(d.kind, ChunkedDecoder::Result::kError) << in;
      EXPECT_NE(d.kind, ChunkedDecoder::Result::kDone) << in;
      EXPECT_EQ(d.consumed, std::string_view(in).size()) << in;
    }
  }
}

// ---- Trailers ----

TEST(ChunkedDecoder, KeepsTrailers) {
  Decoded d = DecodeOk("3\r\nabc\r\n0\r\nX-Sum: 123\r\nServer-Timing:  db;dur=5 \r\n\r\n");
  EXPECT_EQ(d.data, "abc");
  EXPECT_EQ(d.trailers, "X-Sum: 123\r\nServer-Timing:  db;dur=5 \r\n");
}

TEST(ChunkedDecoder, RejectsInvalidTrailerFields) {
  ExpectDecodeError("0\r\nX: a\r\n b\r\n\r\n", "obs-fold");
  ExpectDecodeError("0\r\nX : a\r\n\r\n", "whitespace before colon");
  ExpectDecodeError("0\r\nNoColon\r\n\r\n", "field line without colon");
  ExpectDecodeError("0\r\n: a\r\n\r\n", "empty field name");
  ExpectDecodeError("0\r\nX(: a\r\n\r\n", "invalid field name");
  ExpectDecodeError(std::string("0\r\nX: a\0b\r\n\r\n", 13), "NUL byte");
  ExpectDecodeError("0\r\nX: a\rb\r\n\r\n", "bare CR");
  ExpectDecodeError("0\r\nX: a\n\r\n", "bare LF");
  ExpectDecodeError("0\r\n\n", "bare LF");
}

TEST(ChunkedDecoder, RejectsFramingFieldsInTrailers) {
  ExpectDecodeError("0\r\nContent-Length: 5\r\n\r\n", "framing field in trailers");
  ExpectDecodeError("0\r\ntransfer-encoding: chunked\r\n\r\n", "framing field in trailers");
  ExpectDecodeError("0\r\nHost: evil\r\n\r\n", "framing field in trailers");
}

TEST(ChunkedDecoder, TrailersExactlyAtLimitPass) {
  ChunkedDecoder::Limits limits;
  limits.max_trailer_bytes = 14;  // "A: 1\r\n" + "BB: 22\r\n"
  Decoded d = DecodeOk("0\r\nA: 1\r\nBB: 22\r\n\r\n", 0, limits);
  EXPECT_EQ(d.trailers.size(), 14u);
  EXPECT_EQ(DecodeOk("0\r\nA: 1\r\nBB: 22\r\n\r\n", 1, limits).trailers.size(), 14u);
}

TEST(ChunkedDecoder, RejectsTrailersOverLimit) {
  ChunkedDecoder::Limits limits;
  limits.max_trailer_bytes = 13;
  ExpectDecodeError("0\r\nA: 1\r\nBB: 22\r\n\r\n", "trailer section too large", limits);
}

TEST(ChunkedDecoder, RejectsEndlessTrailerLineEarly) {
  ChunkedDecoder::Limits limits;
  limits.max_trailer_bytes = 100;
  ChunkedDecoder dec(limits);
  const std::string in = "0\r\nX: " + std::string(200, 'a');
  ChunkedDecoder::Result r = dec.Feed(in.data(), in.size());
  EXPECT_EQ(r.kind, ChunkedDecoder::Result::kError);
  EXPECT_LE(r.consumed, 3u + 100u);
}

// ---- Splitting ----

// Every piece size from 1 to the whole input, and every single split point,
// must give the same data, trailers and consumed length as one-shot.
TEST(ChunkedDecoder, SplitAtEveryPosition) {
  const std::string body =
      "7;ext=\"a;b\"\r\nchunk-1\r\n"
      "1\r\nX\r\n"
      "1A ; name = value\r\nabcdefghijklmnopqrstuvwxyz\r\n"
      "0;last\r\nTrailer-A: 1\r\nTrailer-B: two words\r\n\r\n";
  const std::string input = body + "NEXT";
  const Decoded whole = DecodeOk(input);
  ASSERT_EQ(whole.data, "chunk-1Xabcdefghijklmnopqrstuvwxyz");
  ASSERT_EQ(whole.consumed, body.size());
  ASSERT_EQ(whole.trailers, "Trailer-A: 1\r\nTrailer-B: two words\r\n");
  for (size_t piece = 1; piece <= input.size(); ++piece) {
    Decoded d = DecodeOk(input, piece);
    EXPECT_EQ(d.data, whole.data) << "piece " << piece;
    EXPECT_EQ(d.trailers, whole.trailers) << "piece " << piece;
    EXPECT_EQ(d.consumed, whole.consumed) << "piece " << piece;
  }
  for (size_t split = 1; split < body.size(); ++split) {
    ChunkedDecoder dec;
    std::string data;
    size_t pos = 0;
    ChunkedDecoder::Result r;
    for (size_t end : {split, input.size()}) {
      while (pos < end) {
        r = dec.Feed(input.data() + pos, end - pos);
        pos += r.consumed;
        if (r.kind == ChunkedDecoder::Result::kData) {
          data.append(input, pos, r.data_length);
          pos += r.data_length;
        } else {
          break;
        }
      }
      if (r.kind == ChunkedDecoder::Result::kDone || r.kind == ChunkedDecoder::Result::kError) break;
    }
    EXPECT_EQ(r.kind, ChunkedDecoder::Result::kDone) << "split " << split;
    EXPECT_EQ(data, whole.data) << "split " << split;
    EXPECT_EQ(pos, body.size()) << "split " << split;
  }
}

TEST(ChunkedDecoder, ErrorsAtEveryPieceSize) {
  const std::string bad = "3;a=b\r\nabc\r\n4\r\nabcdX\r\n0\r\n\r\n";
  for (size_t piece = 1; piece <= bad.size(); ++piece) {
    Decoded d = Decode(bad, piece);
    EXPECT_EQ(d.kind, ChunkedDecoder::Result::kError) << piece;
    EXPECT_EQ(d.data, "abcabcd") << piece;
  }
}

}  // namespace
}  // namespace strata::http
