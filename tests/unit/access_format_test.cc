// Access log formats: the named formats, custom %{field} templates and their
// errors, and JSON escaping that keeps every line valid JSON.
#include "proxy/access_format.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "common/json_escape.h"

namespace strata {
namespace {

AccessRecord SampleRecord() {
  AccessRecord r;
  r.start_time = 1763712000.123;
  r.elapsed_ms = 4;
  r.client_ip = "127.0.0.1";
  r.cache_result = "TCP_MISS";
  r.status = 200;
  r.bytes_to_client = 1318;
  r.method = "GET";
  r.url = "http://127.0.0.1:9000/hello";
  r.target = "/hello";
  r.protocol = "HTTP/1.1";
  r.origin_host = "127.0.0.1";
  r.content_type = "text/plain";
  r.origin_status = 200;
  r.user_agent = "curl/8.0";
  return r;
}

std::string Line(const std::string& spec, const AccessRecord& r) {
  AccessFormat format;
  Status st = AccessFormat::Parse(spec, &format);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::string out;
  format.Format(r, &out);
  return out;
}

std::string Escaped(std::string_view s) {
  std::string out;
  AppendJsonEscaped(s, &out);
  return out;
}

TEST(AccessFormatTest, DefaultIsSquid) {
  std::string out;
  AccessFormat().Format(SampleRecord(), &out);
  EXPECT_EQ(out,
            "1763712000.123      4 127.0.0.1 TCP_MISS/200 1318 GET http://127.0.0.1:9000/hello - DIRECT/127.0.0.1 "
            "text/plain 200");
  EXPECT_EQ(Line("squid", SampleRecord()), out);
}

TEST(AccessFormatTest, SquidKeepsElevenFieldsWhateverTheValues) {
  AccessRecord r = SampleRecord();
  r.url = "http://h/a b\tc\r\nd";
  r.content_type = "";
  r.origin_host = "";
  r.origin_status = 0;
  const std::string line = Line("squid", r);
  EXPECT_NE(line.find("http://h/a_b_c__d"), std::string::npos) << line;
  EXPECT_NE(line.find(" NONE/- - -"), std::string::npos) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), ' ') - 5, 10) << line;  // "%6llu" pads the elapsed field
}

TEST(AccessFormatTest, CombinedIsApacheCombined) {
  AccessRecord r = SampleRecord();
  r.referer = "http://ref/";
  r.user_agent = "a \"quoted\" \\ agent\x01\xe9";
  const std::string line = Line("combined", r);
  const std::regex combined(
      R"re(^(\S+) (\S+) (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$)re");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, combined)) << line;
  EXPECT_EQ(m[1], "127.0.0.1");
  EXPECT_EQ(m[5], "GET /hello HTTP/1.1");
  EXPECT_EQ(m[6], "200");
  EXPECT_EQ(m[7], "1318");
  EXPECT_EQ(m[8], "http://ref/");
  EXPECT_EQ(m[9], R"(a \"quoted\" \\ agent\x01\xe9)");

  AccessRecord bad;  // a request that did not parse
  bad.client_ip = "10.0.0.1";
  bad.status = 400;
  const std::string bad_line = Line("combined", bad);
  ASSERT_TRUE(std::regex_match(bad_line, m, combined)) << bad_line;
  EXPECT_EQ(m[5], "-");
  EXPECT_EQ(m[7], "-");
  EXPECT_EQ(m[8], "-");
}

TEST(AccessFormatTest, JsonHasEveryFieldWithNullsForAbsentOnes) {
  AccessRecord r = SampleRecord();
  r.origin_status = 0;
  r.cache_result = "-";
  EXPECT_EQ(Line("json", r),
            "{\"time\":1763712000.123,\"elapsed_ms\":4,\"client_ip\":\"127.0.0.1\",\"cache_result\":null,"
            "\"status\":200,\"bytes\":1318,\"method\":\"GET\",\"url\":\"http://127.0.0.1:9000/hello\","
            "\"target\":\"/hello\",\"protocol\":\"HTTP/1.1\",\"origin_host\":\"127.0.0.1\","
            "\"content_type\":\"text/plain\",\"origin_status\":null,\"referer\":null,\"user_agent\":\"curl/8.0\"}");
}

TEST(AccessFormatTest, JsonEscaping) {
  EXPECT_EQ(Escaped("plain"), "plain");
  EXPECT_EQ(Escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(Escaped("\n\r\t"), "\\n\\r\\t");
  EXPECT_EQ(Escaped(std::string("\x00\x01\x1f", 3)), "\\u0000\\u0001\\u001f");
  EXPECT_EQ(Escaped("\x7f"), "\x7f");                // DEL is allowed in JSON
  EXPECT_EQ(Escaped("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 passes
  EXPECT_EQ(Escaped("\xe2\x82\xac \xf0\x9f\x98\x80"), "\xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(Escaped("caf\xe9"), "caf\\u00e9");                             // Latin-1 byte: not UTF-8
  EXPECT_EQ(Escaped("\xc0\x80"), "\\u00c0\\u0080");                        // overlong NUL
  EXPECT_EQ(Escaped("\xed\xa0\x80"), "\\u00ed\\u00a0\\u0080");             // a surrogate
  EXPECT_EQ(Escaped("\xf4\x90\x80\x80"), "\\u00f4\\u0090\\u0080\\u0080");  // above U+10FFFF
  EXPECT_EQ(Escaped("\xe2\x82"), "\\u00e2\\u0082");                        // truncated sequence
}

TEST(AccessFormatTest, CustomFields) {
  AccessRecord r = SampleRecord();
  r.referer = "";
  EXPECT_EQ(Line("%{client_ip} %{method} %{status} %{bytes} %{referer} 100%%", r), "127.0.0.1 GET 200 1318 - 100%");
  EXPECT_EQ(Line("[%{cache_result}/%{origin_status}] %{target} %{protocol} %{elapsed_ms}ms", r),
            "[TCP_MISS/200] /hello HTTP/1.1 4ms");
  EXPECT_EQ(Line("%{time}|%{time_iso}", r), "1763712000.123|2025-11-21T08:00:00.123Z");
  EXPECT_TRUE(std::regex_match(Line("%{time_clf}", r), std::regex(R"(\d{2}/Nov/2025:\d{2}:\d{2}:00 [+-]\d{4})")))
      << Line("%{time_clf}", r);
  r.user_agent = "Mozilla/5.0 (X11; Linux)";
  EXPECT_EQ(Line("%{user_agent}", r), "Mozilla/5.0_(X11;_Linux)");
}

TEST(AccessFormatTest, CustomFormatErrors) {
  AccessFormat f;
  Status st = AccessFormat::Parse("%{time} %{nope}", &f);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("unknown access log field %{nope}"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("client_ip"), std::string::npos) << st.message();  // lists the known ones
  EXPECT_FALSE(AccessFormat::Parse("%{time} 50%", &f).ok());
  EXPECT_FALSE(AccessFormat::Parse("%{time", &f).ok());
  EXPECT_FALSE(AccessFormat::Parse("%time", &f).ok());
  st = AccessFormat::Parse("squidd", &f);  // a typo of a name, no field at all
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("is not squid, combined, json"), std::string::npos) << st.message();
  EXPECT_FALSE(AccessFormat::Parse("", &f).ok());
  EXPECT_TRUE(AccessFormat::Parse("%%%{status}%%", &f).ok());
}

}  // namespace
}  // namespace strata
