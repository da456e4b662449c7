// Tests for RequestParser and ResponseParser: what they accept, every kind of
// input they must reject, incremental feeding and the body framing they report.

#include "proxy/http_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace strata::http {
namespace {

ParseStatus ParseRequest(RequestParser* p, std::string_view s) { return p->Parse(s.data(), s.size()); }

// Feeds `s` one more byte per call, the way a caller whose buffer grows by
// one byte at a time would. Returns the first non-kNeedMore status.
ParseStatus FeedByteAtATime(RequestParser* p, std::string_view s) {
  ParseStatus st = ParseStatus::kNeedMore;
  for (size_t n = 1; n <= s.size() && st == ParseStatus::kNeedMore; ++n) st = p->Parse(s.data(), n);
  return st;
}

ParseStatus FeedByteAtATime(ResponseParser* p, std::string_view s) {
  ParseStatus st = ParseStatus::kNeedMore;
  for (size_t n = 1; n <= s.size() && st == ParseStatus::kNeedMore; ++n) st = p->Parse(s.data(), n);
  return st;
}

// Asserts that a request is rejected, both one-shot and byte at a time.
void ExpectRequestError(std::string_view s, std::string_view why = {}) {
  RequestParser p;
  EXPECT_EQ(ParseRequest(&p, s), ParseStatus::kError) << s;
  ASSERT_NE(p.error(), nullptr);
  if (!why.empty()) {
    EXPECT_EQ(std::string_view(p.error()), why) << s;
  }
  RequestParser q;
  EXPECT_EQ(FeedByteAtATime(&q, s), ParseStatus::kError) << s;
}

void ExpectResponseError(std::string_view s, std::string_view why = {}) {
  ResponseParser p;
  EXPECT_EQ(p.Parse(s.data(), s.size()), ParseStatus::kError) << s;
  ASSERT_NE(p.error(), nullptr);
  if (!why.empty()) {
    EXPECT_EQ(std::string_view(p.error()), why) << s;
  }
}

const RequestHead& ParseOk(RequestParser* p, std::string_view s) {
  EXPECT_EQ(ParseRequest(p, s), ParseStatus::kDone) << s << " error: " << (p->error() ? p->error() : "");
  return p->head();
}

// ---- Accepted requests ----

TEST(RequestParser, ParsesSimpleGet) {
  RequestParser p;
  const std::string s = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
  const RequestHead& h = ParseOk(&p, s);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/index.html?q=1");
  EXPECT_EQ(h.version_major, 1);
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.host, "example.com");
  EXPECT_EQ(h.body, BodyKind::kNone);
  EXPECT_EQ(h.head_length, s.size());
  ASSERT_EQ(h.fields.size(), 2u);
  EXPECT_EQ(h.fields[0].name, "Host");
  EXPECT_EQ(h.fields[1].name, "User-Agent");
  EXPECT_EQ(h.fields[1].value, "t");
  EXPECT_FALSE(h.connection_close);
  EXPECT_FALSE(h.expect_continue);
  EXPECT_FALSE(h.has_transfer_encoding);
}

TEST(RequestParser, NeedsMoreUntilEmptyLine) {
  RequestParser p;
  EXPECT_EQ(ParseRequest(&p, "GET / HTTP/1.1\r\nHost: a\r\n"), ParseStatus::kNeedMore);
  EXPECT_EQ(ParseRequest(&p, "GET / HTTP/1.1\r\nHost: a\r\n\r"), ParseStatus::kNeedMore);
  EXPECT_EQ(ParseRequest(&p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::kDone);
}

TEST(RequestParser, FieldValuesTrimmedAndNamesKeepCase) {
  RequestParser p;
  const RequestHead& h = ParseOk(&p, "GET / HTTP/1.1\r\nhOsT:a\r\nX-A: \t v  a \t\r\nX-Empty:\r\nX-Sp:   \r\n\r\n");
  ASSERT_EQ(h.fields.size(), 4u);
  EXPECT_EQ(h.fields[0].name, "hOsT");
  EXPECT_EQ(h.fields[0].value, "a");
  EXPECT_EQ(h.fields[1].value, "v  a");
  EXPECT_EQ(h.fields[2].value, "");
  EXPECT_EQ(h.fields[3].value, "");
  EXPECT_EQ(h.host, "a");
}

TEST(RequestParser, ViewsPointIntoCallerBuffer) {
  RequestParser p;
  const std::string s = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  const RequestHead& h = ParseOk(&p, s);
  auto inside = [&](std::string_view v) { return v.data() >= s.data() && v.data() + v.size() <= s.data() + s.size(); };
  EXPECT_TRUE(inside(h.method));
  EXPECT_TRUE(inside(h.target));
  EXPECT_TRUE(inside(h.host));
  for (const Field& f : h.fields) {
    EXPECT_TRUE(inside(f.name));
    EXPECT_TRUE(inside(f.value));
  }
  EXPECT_EQ(h.method.data(), s.data());
}

TEST(RequestParser, PostWithContentLength) {
  RequestParser p;
  const std::string head = "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n";
  const std::string buf = head + "hello world";
  const RequestHead& h = ParseOk(&p, buf);
  EXPECT_EQ(h.body, BodyKind::kContentLength);
  EXPECT_EQ(h.content_length, 11u);
  EXPECT_EQ(h.head_length, head.size());
}

TEST(RequestParser, ContentLengthZeroIsContentLength) {
  RequestParser p;
  const RequestHead& h = ParseOk(&p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(h.body, BodyKind::kContentLength);
  EXPECT_EQ(h.content_length, 0u);
}

TEST(RequestParser, AcceptsContentLengthInt64Max) {
  RequestParser p;
  const RequestHead& h = ParseOk(&p, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
  EXPECT_EQ(h.content_length, 9223372036854775807u);
}

TEST(RequestParser, ChunkedRequest) {
  RequestParser p;
  const RequestHead& h = ParseOk(&p, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
  EXPECT_EQ(h.body, BodyKind::kChunked);
  EXPECT_TRUE(h.has_transfer_encoding);
}

TEST(RequestParser, TransferCodingsAcrossFieldsEndingInChunked) {
  RequestParser p;
  const RequestHead& h =
      ParseOk(&p, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(h.body, BodyKind::kChunked);
  RequestParser q;
  EXPECT_EQ(ParseOk(&q, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").body,
            BodyKind::kChunked);
}

TEST(RequestParser, Http10WithoutHostAccepted) {
  RequestParser p;
  const RequestHead& h = ParseOk(&p, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(h.version_minor, 0);
  EXPECT_FALSE(h.is_http11_or_later());
  EXPECT_EQ(h.host, "");
  EXPECT_TRUE(h.fields.empty());
}

TEST(RequestParser, EmptyHostAccepted) {
  RequestParser p;
  EXPECT_EQ(ParseOk(&p, "GET / HTTP/1.1\r\nHost:\r\n\r\n").host, "");
}

TEST(RequestParser, HostWithPortAndIpv6Accepted) {
  RequestParser p;
  EXPECT_EQ(ParseOk(&p, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").host, "[::1]:8080");
}

TEST(RequestParser, AbsoluteFormTarget) {
  RequestParser p;
  EXPECT_EQ(ParseOk(&p, "GET http://a.example/p?q HTTP/1.1\r\nHost: a.example\r\n\r\n").target, "http://a.example/p?q");
}

TEST(RequestParser, ConnectionTokens) {
  RequestParser p;
  const RequestHead& h =
      ParseOk(&p, "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\nconnection: Keep-Alive\r\n\r\n");
  EXPECT_TRUE(h.connection_close);
  EXPECT_TRUE(h.connection_keep_alive);
  p.Reset();
  const RequestHead& h2 = ParseOk(&p, "GET / HTTP/1.1\r\nHost: h\r\nConnection: closed, keep-alive-x\r\n\r\n");
  EXPECT_FALSE(h2.connection_close);
  EXPECT_FALSE(h2.connection_keep_alive);
}

TEST(RequestParser, ExpectContinue) {
  RequestParser p;
  EXPECT_TRUE(
      ParseOk(&p, "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n").expect_continue);
  p.Reset();
  EXPECT_FALSE(ParseOk(&p, "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n").expect_continue);
  p.Reset();
  EXPECT_FALSE(ParseOk(&p, "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expect_continue);  // must be ignored
}

TEST(RequestParser, SkipsLeadingEmptyLines) {
  RequestParser p;
  const std::string s = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const RequestHead& h = ParseOk(&p, s);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.head_length, s.size());
}

TEST(RequestParser, LeadingCrSplitFromItsLf) {
  RequestParser p;
  const std::string s = "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(p.Parse(s.data(), 1), ParseStatus::kNeedMore);
  EXPECT_EQ(p.Parse(s.data(), 2), ParseStatus::kNeedMore);
  EXPECT_EQ(p.Parse(s.data(), s.size()), ParseStatus::kDone);
  EXPECT_EQ(p.head().head_length, s.size());
}

TEST(RequestParser, PipelinedRequests) {
  const std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy";
  const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string buf = first + second;
  RequestParser p;
  ASSERT_EQ(ParseRequest(&p, buf), ParseStatus::kDone);
  EXPECT_EQ(p.head().target, "/a");
  const size_t next = p.head().head_length + p.head().content_length;
  EXPECT_EQ(next, first.size());
  p.Reset();
  ASSERT_EQ(p.Parse(buf.data() + next, buf.size() - next), ParseStatus::kDone);
  EXPECT_EQ(p.head().target, "/b");
  EXPECT_EQ(p.head().head_length, second.size());
}

TEST(RequestParser, ByteAtATimeMatchesOneShot) {
  const std::string requests[] = {
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
      "\r\nPOST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n0\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  };
  for (const std::string& s : requests) {
    RequestParser one, inc;
    ASSERT_EQ(ParseRequest(&one, s), ParseStatus::kDone) << s;
    ASSERT_EQ(FeedByteAtATime(&inc, s), ParseStatus::kDone) << s;
    const RequestHead &a = one.head(), &b = inc.head();
    EXPECT_EQ(a.head_length, b.head_length);
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.target, b.target);
    EXPECT_EQ(a.host, b.host);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.content_length, b.content_length);
    EXPECT_EQ(a.connection_close, b.connection_close);
    EXPECT_EQ(a.connection_keep_alive, b.connection_keep_alive);
    EXPECT_EQ(a.expect_continue, b.expect_continue);
    ASSERT_EQ(a.fields.size(), b.fields.size());
    for (size_t i = 0; i < a.fields.size(); ++i) {
      EXPECT_EQ(a.fields[i].name, b.fields[i].name);
      EXPECT_EQ(a.fields[i].value, b.fields[i].value);
    }
  }
}

// The parser keeps offsets, not pointers, so a caller may grow its buffer by
// reallocating between calls.
TEST(RequestParser, BufferMayMoveBetweenCalls) {
  const std::string s = "\r\nGET /m HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n";
  RequestParser p;
  ParseStatus st = ParseStatus::kNeedMore;
  std::string copy;
  for (size_t n = 1; n <= s.size() && st == ParseStatus::kNeedMore; ++n) {
    copy = std::string(s.substr(0, n));
    copy.shrink_to_fit();
    st = p.Parse(copy.data(), copy.size());
  }
  ASSERT_EQ(st, ParseStatus::kDone);
  EXPECT_EQ(p.head().target, "/m");
  EXPECT_EQ(p.head().head_length, s.size());
}

TEST(RequestParser, DoneAndErrorAreSticky) {
  RequestParser p;
  const std::string s = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(ParseRequest(&p, s), ParseStatus::kDone);
  EXPECT_EQ(ParseRequest(&p, s), ParseStatus::kDone);
  EXPECT_EQ(p.head().head_length, s.size());
  p.Reset();
  ASSERT_EQ(ParseRequest(&p, "GET / HTTP/1.1\n"), ParseStatus::kError);
  EXPECT_EQ(ParseRequest(&p, s), ParseStatus::kError);
  p.Reset();
  EXPECT_EQ(ParseRequest(&p, s), ParseStatus::kDone);
  EXPECT_EQ(p.error(), nullptr);
}

TEST(RequestParser, ResetKeepsFieldCapacityAndClearsHead) {
  RequestParser p;
  ParseOk(&p, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nConnection: close\r\nContent-Length: 4\r\n\r\n");
  const size_t cap = p.head().fields.capacity();
  p.Reset();
  EXPECT_TRUE(p.head().fields.empty());
  EXPECT_EQ(p.head().fields.capacity(), cap);
  EXPECT_FALSE(p.head().connection_close);
  EXPECT_EQ(p.head().content_length, 0u);
  EXPECT_EQ(p.head().head_length, 0u);
}

// ---- Limits ----

TEST(RequestParser, HeadExactlyAtLimitPasses) {
  const std::string s = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  ParseLimits limits;
  limits.max_head_bytes = s.size();
  RequestParser p(limits);
  EXPECT_EQ(ParseRequest(&p, s + "trailing body bytes"), ParseStatus::kDone);
  RequestParser q(limits);
  EXPECT_EQ(FeedByteAtATime(&q, s), ParseStatus::kDone);
}

TEST(RequestParser, RejectsHeadOneOverLimit) {
  const std::string s = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  ParseLimits limits;
  limits.max_head_bytes = s.size() - 1;
  RequestParser p(limits);
  EXPECT_EQ(ParseRequest(&p, s), ParseStatus::kError);
  EXPECT_STREQ(p.error(), "head too large");
}

TEST(RequestParser, RejectsOverLimitAsSoonAsBufferExceedsIt) {
  ParseLimits limits;
  limits.max_head_bytes = 32;
  RequestParser p(limits);
  const std::string s = "GET / HTTP/1.1\r\nX-Long: " + std::string(100, 'a');
  EXPECT_EQ(p.Parse(s.data(), 32), ParseStatus::kNeedMore);
  EXPECT_EQ(p.Parse(s.data(), 33), ParseStatus::kError);
  EXPECT_STREQ(p.error(), "head too large");
}

TEST(RequestParser, LeadingEmptyLinesCountTowardsLimit) {
  ParseLimits limits;
  limits.max_head_bytes = 64;
  RequestParser p(limits);
  std::string s;
  for (int i = 0; i < 40; ++i) s += "\r\n";
  EXPECT_EQ(ParseRequest(&p, s), ParseStatus::kError);
}

TEST(RequestParser, MaxFieldsExactlyPasses) {
  ParseLimits limits;
  limits.max_fields = 3;
  RequestParser p(limits);
  EXPECT_EQ(ParseRequest(&p, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n"), ParseStatus::kDone);
}

TEST(RequestParser, RejectsMoreThanMaxFields) {
  ParseLimits limits;
  limits.max_fields = 3;
  RequestParser p(limits);
  EXPECT_EQ(ParseRequest(&p, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), ParseStatus::kError);
  EXPECT_STREQ(p.error(), "too many fields");
}

// ---- Rejected requests: line endings and bytes ----

TEST(RequestParser, RejectsBareLfLineEnd) { ExpectRequestError("GET / HTTP/1.1\nHost: h\r\n\r\n", "bare LF"); }

TEST(RequestParser, RejectsBareLfEndingTheHead) { ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\n\n", "bare LF"); }

TEST(RequestParser, RejectsBareLfBeforeHeadIsComplete) {
  RequestParser p;
  EXPECT_EQ(ParseRequest(&p, "GET / HTTP/1.1\r\nHost: h\n"), ParseStatus::kError);
}

TEST(RequestParser, RejectsLeadingBareLf) { ExpectRequestError("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "bare LF"); }

TEST(RequestParser, RejectsLeadingBareCr) { ExpectRequestError("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", "bare CR"); }

TEST(RequestParser, RejectsBareCrInFieldValue) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", "bare CR");
}

TEST(RequestParser, RejectsBareCrBeforeCrlf) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", "bare CR");
}

TEST(RequestParser, RejectsBareCrInRequestLine) {
  ExpectRequestError("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", "bare CR");
}

TEST(RequestParser, RejectsNulInFieldValue) {
  using namespace std::string_literals;
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s, "NUL byte");
  ExpectRequestError("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"s, "NUL byte");
}

TEST(RequestParser, RejectsControlCharInFieldValue) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n", "control character");
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n", "control character");
}

TEST(RequestParser, AcceptsHtabAndObsTextInFieldValue) {
  RequestParser p;
  const RequestHead& h = ParseOk(&p, "GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\xc3\xa9\r\n\r\n");
  EXPECT_EQ(h.fields[1].value, "a\tb\xc3\xa9");
}

TEST(RequestParser, RejectsObsFold) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", "obs-fold");
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", "obs-fold");
}

TEST(RequestParser, RejectsObsFoldRightAfterRequestLine) {
  ExpectRequestError("GET / HTTP/1.1\r\n Host: h\r\n\r\n", "obs-fold");
}

TEST(RequestParser, RejectsWhitespaceBeforeColon) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "whitespace before colon");
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 5\r\n\r\n", "whitespace before colon");
}

TEST(RequestParser, RejectsNonTokenFieldName) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", "invalid field name");
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: 1\r\n\r\n", "invalid field name");
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX y: 1\r\n\r\n");
}

TEST(RequestParser, RejectsEmptyFieldName) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", "empty field name");
}

TEST(RequestParser, RejectsFieldLineWithoutColon) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", "field line without colon");
}

// ---- Rejected requests: request line ----

TEST(RequestParser, RejectsNonTokenMethod) {
  ExpectRequestError("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", "invalid method");
  ExpectRequestError("GE\x01T / HTTP/1.1\r\nHost: h\r\n\r\n", "control character");
}

TEST(RequestParser, RejectsEmptyMethod) { ExpectRequestError(" / HTTP/1.1\r\nHost: h\r\n\r\n", "empty method"); }

TEST(RequestParser, RejectsDoubleSpaceInRequestLine) {
  ExpectRequestError("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "empty request target");
  ExpectRequestError("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", "invalid HTTP version");
}

TEST(RequestParser, RejectsTrailingSpaceInRequestLine) {
  ExpectRequestError("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "invalid HTTP version");
}

TEST(RequestParser, RejectsHtabAsRequestLineSeparator) {
  ExpectRequestError("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n");
  ExpectRequestError("GET /\tHTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(RequestParser, RejectsSpaceInTarget) { ExpectRequestError("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"); }

TEST(RequestParser, RejectsControlCharInTarget) {
  ExpectRequestError("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", "control character");
}

TEST(RequestParser, RejectsRequestLineWithoutVersion) {
  ExpectRequestError("GET /\r\nHost: h\r\n\r\n", "malformed request line");
  ExpectRequestError("GET\r\nHost: h\r\n\r\n", "malformed request line");
}

TEST(RequestParser, RejectsMalformedVersion) {
  for (const char* v : {"HTTP/1", "HTTP/1.", "http/1.1", "HTTP/1.10", "HTTP/a.1", "HTTP/1,1", "HTTPS/1.1"}) {
    ExpectRequestError(std::string("GET / ") + v + "\r\nHost: h\r\n\r\n", "invalid HTTP version");
  }
}

TEST(RequestParser, RejectsHttp2AndOtherMajorVersions) {
  ExpectRequestError("GET / HTTP/2.0\r\nHost: h\r\n\r\n", "unsupported HTTP version");
  ExpectRequestError("GET / HTTP/0.9\r\nHost: h\r\n\r\n", "unsupported HTTP version");
  ExpectRequestError("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "unsupported HTTP version");
}

// ---- Rejected requests: framing and Host ----

TEST(RequestParser, RejectsRepeatedContentLengthEvenIfEqual) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
                     "repeated Content-Length");
}

TEST(RequestParser, RejectsContentLengthCommaList) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", "invalid Content-Length");
}

TEST(RequestParser, RejectsNonDigitContentLength) {
  for (const char* v : {"", "+5", "-1", "5a", "0x5", "5 5", "\xd9\xa5"}) {
    ExpectRequestError(std::string("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ") + v + "\r\n\r\n",
                       "invalid Content-Length");
  }
}

TEST(RequestParser, RejectsContentLengthOverflow) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n",
                     "invalid Content-Length");
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 184467440737095516160\r\n\r\n",
                     "invalid Content-Length");
}

TEST(RequestParser, RejectsTransferEncodingWithContentLength) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                     "Transfer-Encoding with Content-Length");
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                     "Transfer-Encoding with Content-Length");
}

TEST(RequestParser, RejectsRequestTransferEncodingNotEndingInChunked) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
                     "request Transfer-Encoding does not end in chunked");
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n",
                     "request Transfer-Encoding does not end in chunked");
}

TEST(RequestParser, RejectsChunkedTwice) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                     "chunked applied more than once");
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                     "chunked applied more than once");
}

TEST(RequestParser, RejectsChunkedNotLast) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                     "chunked is not the final coding");
}

TEST(RequestParser, RejectsChunkedWithParameters) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
                     "invalid Transfer-Encoding");
}

TEST(RequestParser, RejectsEmptyTransferEncoding) {
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", "empty Transfer-Encoding");
  ExpectRequestError("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\n\r\n", "empty Transfer-Encoding");
}

TEST(RequestParser, RejectsTransferEncodingInHttp10) {
  ExpectRequestError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in HTTP/1.0");
}

TEST(RequestParser, RejectsMoreThanOneHost) {
  ExpectRequestError("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "more than one Host");
  ExpectRequestError("GET / HTTP/1.0\r\nhost: a\r\nHOST: b\r\n\r\n", "more than one Host");
}

TEST(RequestParser, RejectsMissingHostInHttp11) {
  ExpectRequestError("GET / HTTP/1.1\r\nX: y\r\n\r\n", "missing Host");
}

TEST(RequestParser, RejectsInvalidHost) {
  for (const char* v : {"a b", "a/b", "user@a", "a\\b", "a?b", "a#b"}) {
    ExpectRequestError(std::string("GET / HTTP/1.1\r\nHost: ") + v + "\r\n\r\n", "invalid Host");
  }
}

// ---- Responses ----

const ResponseHead& ParseResponseOk(ResponseParser* p, std::string_view s) {
  EXPECT_EQ(p->Parse(s.data(), s.size()), ParseStatus::kDone) << s << " error: " << (p->error() ? p->error() : "");
  return p->head();
}

TEST(ResponseParser, ParsesSimpleResponse) {
  ResponseParser p;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n";
  const std::string buf = head + "hello";  // the views point into it
  const ResponseHead& h = ParseResponseOk(&p, buf);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.reason, "OK");
  EXPECT_EQ(h.body, BodyKind::kContentLength);
  EXPECT_EQ(h.content_length, 5u);
  EXPECT_EQ(h.head_length, head.size());
  EXPECT_TRUE(h.connection_close);
  ASSERT_EQ(h.fields.size(), 2u);
}

TEST(ResponseParser, ReasonPhraseMayBeEmptyOrHaveSpaces) {
  ResponseParser p;
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").reason, "");
  p.Reset(false);
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").reason, "");
  p.Reset(false);
  const ResponseHead& h = ParseResponseOk(&p, "HTTP/1.0 404 Not  Found \t\r\n\r\n");
  EXPECT_EQ(h.reason, "Not  Found \t");
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(h.version_minor, 0);
}

TEST(ResponseParser, StatusRangeIs100To999) {
  ResponseParser p;
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 999 Odd\r\n\r\n").status, 999);
  p.Reset(false);
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 100 Continue\r\n\r\n").status, 100);
}

TEST(ResponseParser, RejectsBadStatusCode) {
  for (const char* s : {"HTTP/1.1 099 X\r\n\r\n", "HTTP/1.1 20 X\r\n\r\n", "HTTP/1.1 2000 X\r\n\r\n",
                        "HTTP/1.1 20a X\r\n\r\n", "HTTP/1.1 -20 X\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n"}) {
    ExpectResponseError(s, "invalid status code");
  }
}

TEST(ResponseParser, RejectsMalformedStatusLine) {
  ExpectResponseError("HTTP/1.1  200 OK\r\n\r\n");
  ExpectResponseError("HTTP/1.1\r\n\r\n", "malformed status line");
  ExpectResponseError("HTTP/1.1 20\r\n\r\n", "malformed status line");
  ExpectResponseError("ICY 200 OK\r\n\r\n", "malformed status line");
}

TEST(ResponseParser, RejectsUnsupportedVersion) {
  ExpectResponseError("HTTP/2.0 200 OK\r\n\r\n", "unsupported HTTP version");
}

TEST(ResponseParser, RejectsControlCharInReason) {
  ExpectResponseError("HTTP/1.1 200 O\x01K\r\n\r\n", "control character");
  ExpectResponseError("HTTP/1.1 200 O\rK\r\n\r\n", "bare CR");
}

TEST(ResponseParser, RejectsLeadingEmptyLine) {
  ExpectResponseError("\r\nHTTP/1.1 200 OK\r\n\r\n", "malformed status line");
}

TEST(ResponseParser, HeadRequestHasNoBody) {
  ResponseParser p;
  p.Reset(true);
  const ResponseHead& h = ParseResponseOk(&p, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
  EXPECT_EQ(h.body, BodyKind::kNone);
  EXPECT_EQ(h.content_length, 100u);  // still reported, for the client's HEAD response
  p.Reset(true);
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").body, BodyKind::kNone);
}

TEST(ResponseParser, NoBodyStatuses) {
  for (const char* s :
       {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"}) {
    ResponseParser p;
    EXPECT_EQ(ParseResponseOk(&p, s).body, BodyKind::kNone) << s;
  }
}

TEST(ResponseParser, ChunkedResponse) {
  ResponseParser p;
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").body,
            BodyKind::kChunked);
}

TEST(ResponseParser, UntilCloseWithoutFraming) {
  ResponseParser p;
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 200 OK\r\n\r\n").body, BodyKind::kUntilClose);
  p.Reset(false);
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.0 500 Oops\r\nServer: x\r\n\r\n").body, BodyKind::kUntilClose);
}

TEST(ResponseParser, NonChunkedTransferEncodingIsUntilClose) {
  ResponseParser p;
  const ResponseHead& h = ParseResponseOk(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(h.body, BodyKind::kUntilClose);
  EXPECT_TRUE(h.has_transfer_encoding);
}

TEST(ResponseParser, RejectsTransferEncodingWithContentLength) {
  ExpectResponseError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                      "Transfer-Encoding with Content-Length");
}

TEST(ResponseParser, RejectsChunkedNotLast) {
  ExpectResponseError("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "chunked is not the final coding");
}

TEST(ResponseParser, RejectsTransferEncodingInHttp10) {
  ExpectResponseError("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding in HTTP/1.0");
}

TEST(ResponseParser, RejectsRepeatedContentLength) {
  ExpectResponseError("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", "repeated Content-Length");
}

TEST(ResponseParser, RejectsObsFoldAndBareLf) {
  ExpectResponseError("HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\r\n", "obs-fold");
  ExpectResponseError("HTTP/1.1 200 OK\nX: a\r\n\r\n", "bare LF");
}

TEST(ResponseParser, HostRulesApplyToRequestsOnly) {
  ResponseParser p;
  EXPECT_EQ(ParseResponseOk(&p, "HTTP/1.1 200 OK\r\nHost: a b\r\nHost: c\r\nContent-Length: 0\r\n\r\n").status, 200);
}

TEST(ResponseParser, InterimThenFinalResponse) {
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string final_head = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n";
  const std::string buf = interim + final_head + "ok";
  ResponseParser p;
  ASSERT_EQ(p.Parse(buf.data(), buf.size()), ParseStatus::kDone);
  EXPECT_EQ(p.head().status, 100);
  const size_t off = p.head().head_length;
  EXPECT_EQ(off, interim.size());
  p.Reset(false);
  ASSERT_EQ(p.Parse(buf.data() + off, buf.size() - off), ParseStatus::kDone);
  EXPECT_EQ(p.head().status, 201);
  EXPECT_EQ(p.head().body, BodyKind::kContentLength);
  EXPECT_EQ(p.head().head_length, final_head.size());
}

TEST(ResponseParser, ByteAtATimeMatchesOneShot) {
  const std::string responses[] = {
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.1 204\r\nConnection: keep-alive\r\n\r\n",
      "HTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      "HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n",
  };
  for (bool was_head : {false, true}) {
    for (const std::string& s : responses) {
      ResponseParser one, inc;
      one.Reset(was_head);
      inc.Reset(was_head);
      ASSERT_EQ(one.Parse(s.data(), s.size()), ParseStatus::kDone) << s;
      ASSERT_EQ(FeedByteAtATime(&inc, s), ParseStatus::kDone) << s;
      EXPECT_EQ(one.head().head_length, inc.head().head_length);
      EXPECT_EQ(one.head().status, inc.head().status);
      EXPECT_EQ(one.head().reason, inc.head().reason);
      EXPECT_EQ(one.head().body, inc.head().body);
      EXPECT_EQ(one.head().fields.size(), inc.head().fields.size());
      if (was_head) {
        EXPECT_EQ(inc.head().body, BodyKind::kNone);
      }
    }
  }
}

TEST(ResponseParser, RespectsLimits) {
  ParseLimits limits;
  limits.max_head_bytes = 20;
  limits.max_fields = 1;
  ResponseParser p(limits);
  const std::string ok = "HTTP/1.1 200\r\nA: b\r\n\r\n";  // 22 bytes
  EXPECT_EQ(p.Parse(ok.data(), ok.size()), ParseStatus::kError);
  EXPECT_STREQ(p.error(), "head too large");
  limits.max_head_bytes = 22;
  ResponseParser q(limits);
  EXPECT_EQ(q.Parse(ok.data(), ok.size()), ParseStatus::kDone);
  const std::string two = "HTTP/1.1 200\r\nA: b\r\nC: d\r\n\r\n";
  limits.max_head_bytes = 1000;
  ResponseParser r(limits);
  EXPECT_EQ(r.Parse(two.data(), two.size()), ParseStatus::kError);
  EXPECT_STREQ(r.error(), "too many fields");
}

// ---- Helpers ----

TEST(FieldHelpers, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(EqualsIgnoreCase("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));  // differ only in bit 0x20 but are not letters
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
}

TEST(FieldHelpers, HasToken) {
  EXPECT_TRUE(HasToken("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(HasToken(" \tclose\t ", "close"));
  EXPECT_FALSE(HasToken("closed", "close"));
  EXPECT_FALSE(HasToken("", "close"));
  EXPECT_FALSE(HasToken(",,", "close"));
}

TEST(FieldHelpers, ForEachListElementSkipsEmptyElements) {
  std::string joined;
  ForEachListElement(" a ,, b,c ,", [&](std::string_view e) { joined.append(e).append("|"); });
  EXPECT_EQ(joined, "a|b|c|");
}

TEST(FieldHelpers, IsTokenChar) {
  for (char c : std::string_view("!#$%&'*+-.^_`|~09azAZ")) EXPECT_TRUE(IsTokenChar(c)) << c;
  for (char c : std::string_view("\"(),/:;<=>?@[\\]{} \t\x7f")) EXPECT_FALSE(IsTokenChar(c)) << c;
  EXPECT_FALSE(IsTokenChar(0));
  EXPECT_FALSE(IsTokenChar(0x80));
}

}  // namespace
}  // namespace strata::http
