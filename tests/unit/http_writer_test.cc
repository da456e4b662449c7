// Tests for the heads Strata sends: forwarding rules of RFC 9110 §7.6.
#include "proxy/http_writer.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/http_parser.h"
#include "proxy/remap.h"

namespace strata::http {
namespace {

RequestHead ParseRequest(const std::string& text, RequestParser* parser) {
  EXPECT_EQ(parser->Parse(text.data(), text.size()), ParseStatus::kDone) << parser->error();
  return parser->head();
}

std::string OriginHead(const std::string& request, OutFraming framing = {}) {
  RequestParser parser;
  RequestHead head = ParseRequest(request, &parser);
  OriginRequestParams params;
  params.path = "/o/path";
  params.host_header = "origin.example:8080";
  params.body = framing;
  params.via_name = "strata";
  params.client_ip = "192.0.2.7";
  std::string out;
  AppendOriginRequestHead(head, params, &out);
  return out;
}

TEST(HttpWriterTest, OriginRequestRewritesTargetAndHost) {
  std::string out = OriginHead("GET /x HTTP/1.1\r\nHost: public.example\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(out.rfind("GET /o/path HTTP/1.1\r\nHost: origin.example:8080\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Accept: */*\r\n"), std::string::npos);
  EXPECT_EQ(out.find("public.example"), std::string::npos);
  EXPECT_NE(out.find("Via: 1.1 strata\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Forwarded-For: 192.0.2.7\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(HttpWriterTest, OriginRequestDropsHopByHopAndConnectionListedFields) {
  std::string out = OriginHead(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: timeout=5\r\n"
      "X-Secret: 1\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Connection: close\r\nX-Kept: yes\r\n\r\n");
  EXPECT_EQ(out.find("Connection:"), std::string::npos) << out;
  EXPECT_EQ(out.find("Keep-Alive"), std::string::npos);
  EXPECT_EQ(out.find("X-Secret"), std::string::npos);
  EXPECT_EQ(out.find("TE:"), std::string::npos);
  EXPECT_EQ(out.find("Upgrade"), std::string::npos);
  EXPECT_NE(out.find("X-Kept: yes\r\n"), std::string::npos);
}

TEST(HttpWriterTest, OriginRequestMergesXForwardedFor) {
  std::string out =
      OriginHead("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n\r\n");
  EXPECT_NE(out.find("X-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.7\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("X-Forwarded-For: 10.0.0.1\r\n"), std::string::npos);
}

TEST(HttpWriterTest, OriginRequestRebuildsFramingAndDropsExpect) {
  std::string out =
      OriginHead("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
                 {OutFraming::Kind::kChunked, 0});
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Expect"), std::string::npos);
  out = OriginHead("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", {OutFraming::Kind::kContentLength, 12});
  EXPECT_NE(out.find("Content-Length: 12\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos);
}

TEST(HttpWriterTest, OriginRequestViaCarriesTheClientVersion) {
  std::string out = OriginHead("GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(out.find("Via: 1.0 strata\r\n"), std::string::npos) << out;
}

std::string ClientHead(const std::string& response, const ClientResponseParams& params) {
  ResponseParser parser;
  parser.Reset(false);
  EXPECT_EQ(parser.Parse(response.data(), response.size()), ParseStatus::kDone) << parser.error();
  std::string out;
  AppendClientResponseHead(parser.head(), params, &out);
  return out;
}

TEST(HttpWriterTest, ClientResponseReframesUnknownLengthAsChunked) {
  ClientResponseParams params;
  params.body = {OutFraming::Kind::kChunked, 0};
  params.via_name = "strata";
  std::string out = ClientHead("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n", params);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Via: 1.1 strata\r\n"), std::string::npos);
  EXPECT_EQ(out.find("Connection"), std::string::npos);  // the origin's close is hop-by-hop
}

TEST(HttpWriterTest, ClientResponseKeepsContentLengthOfBodilessResponses) {
  ClientResponseParams params;
  params.via_name = "strata";
  std::string out = ClientHead("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n", params);
  EXPECT_NE(out.find("Content-Length: 1234\r\n"), std::string::npos) << out;
}

TEST(HttpWriterTest, ClientResponseAnnouncesCloseAndHttp10KeepAlive) {
  ClientResponseParams params;
  params.via_name = "strata";
  params.body = {OutFraming::Kind::kContentLength, 0};
  params.close = true;
  std::string out = ClientHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", params);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  params.close = false;
  params.client_is_http10 = true;
  out = ClientHead("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", params);
  EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(HttpWriterTest, ClientResponseReverseMapsLocation) {
  RemapTable remap;
  ASSERT_TRUE(remap.Parse("reverse_map http://origin.example/ http://www.example/\n", "remap.config").ok());
  ClientResponseParams params;
  params.via_name = "strata";
  params.reverse_map = &remap;
  params.body = {OutFraming::Kind::kContentLength, 0};
  std::string out =
      ClientHead("HTTP/1.1 302 Found\r\nLocation: http://origin.example/a/b\r\nContent-Length: 0\r\n\r\n", params);
  EXPECT_NE(out.find("Location: http://www.example/a/b\r\n"), std::string::npos) << out;
}

TEST(HttpWriterTest, LocalResponseIsCompleteAndClosesWhenAsked) {
  std::string out;
  AppendLocalResponse(404, "nope\n", true, false, "", &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 9), "\r\n\r\nnope\n");
  out.clear();
  AppendLocalResponse(301, "moved\n", false, true, "http://x/", &out);
  EXPECT_NE(out.find("Location: http://x/\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");  // HEAD: no body
}

TEST(HttpWriterTest, HopByHopFieldNames) {
  for (const char* name : {"Connection", "keep-alive", "TE", "Transfer-Encoding", "Upgrade", "Proxy-Connection"}) {
    EXPECT_TRUE(IsHopByHopField(name)) << name;
  }
  for (const char* name : {"Content-Length", "Trailer", "Via", "Host", "Te-x"}) {
    EXPECT_FALSE(IsHopByHopField(name)) << name;
  }
}

}  // namespace
}  // namespace strata::http
