// Tests for Range evaluation (RFC 9110 §14): the §14.1.2 examples, invalid
// and ignored fields, unsatisfiable ranges, coalescing, zero-length
// representations, the range cap and multipart/byteranges plans.

#include "proxy/http_range.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace strata::http {
namespace {

using Kind = RangeDecision::Kind;

// "full", "416", or the ranges as "a-b,c-d".
std::string Eval(std::string_view value, uint64_t length, bool if_range_ok = true) {
  RangeDecision d = EvaluateRange(value, length, if_range_ok);
  if (d.kind == Kind::kFull) {
    EXPECT_TRUE(d.ranges.empty());
    return "full";
  }
  if (d.kind == Kind::kUnsatisfiable) {
    EXPECT_TRUE(d.ranges.empty());
    return "416";
  }
  std::string out;
  for (const ByteRange& r : d.ranges) {
    out += (out.empty() ? "" : ",") + std::to_string(r.first) + "-" + std::to_string(r.last);
  }
  return out;
}

// RFC 9110 §14.1.2, for a representation of 10000 bytes.
TEST(HttpRangeTest, Rfc9110Examples) {
  EXPECT_EQ(Eval("bytes=0-499", 10000), "0-499");              // the first 500 bytes
  EXPECT_EQ(Eval("bytes=500-999", 10000), "500-999");          // the second 500 bytes
  EXPECT_EQ(Eval("bytes=-500", 10000), "9500-9999");           // the final 500 bytes
  EXPECT_EQ(Eval("bytes=9500-", 10000), "9500-9999");          // the final 500 bytes
  EXPECT_EQ(Eval("bytes=0-0,-1", 10000), "0-0,9999-9999");     // first and last bytes only
  EXPECT_EQ(Eval("bytes=500-600,601-999", 10000), "500-999");  // adjacent: coalesced
  EXPECT_EQ(Eval("bytes=500-700,601-999", 10000), "500-999");  // overlapping: coalesced
}

TEST(HttpRangeTest, SingleRangeForms) {
  EXPECT_EQ(Eval("bytes=0-", 100), "0-99");
  EXPECT_EQ(Eval("bytes=0-99", 100), "0-99");
  EXPECT_EQ(Eval("bytes=99-99", 100), "99-99");
  EXPECT_EQ(Eval("bytes=10-1000", 100), "10-99");  // last-pos past the end is clamped
  EXPECT_EQ(Eval("bytes=-1", 100), "99-99");
  EXPECT_EQ(Eval("bytes=-100", 100), "0-99");
  EXPECT_EQ(Eval("bytes=-101", 100), "0-99");  // suffix longer than the representation: all of it
  EXPECT_EQ(Eval("bytes=-99999999999999999999999", 100), "0-99");
  EXPECT_EQ(Eval("bytes=5-99999999999999999999999", 100), "5-99");  // overflowing last-pos saturates
  EXPECT_EQ(Eval("bytes=007-010", 100), "7-10");                    // leading zeros are digits
}

TEST(HttpRangeTest, UnitIsCaseInsensitive) {
  EXPECT_EQ(Eval("BYTES=0-1", 100), "0-1");
  EXPECT_EQ(Eval("Bytes=0-1", 100), "0-1");
}

TEST(HttpRangeTest, WhitespaceAndEmptyListElements) {
  EXPECT_EQ(Eval("bytes=0-1, 5-6", 100), "0-1,5-6");
  EXPECT_EQ(Eval("bytes=0-1 ,\t5-6", 100), "0-1,5-6");
  EXPECT_EQ(Eval("bytes=,0-1,,5-6,", 100), "0-1,5-6");
  EXPECT_EQ(Eval("bytes= 0-1", 100), "0-1");  // OWS before the first element: lenient
}

TEST(HttpRangeTest, InvalidRangeIsIgnored) {
  for (const char* value : {
           "",               // absent
           "bytes",          // no '='
           "bytes=",         // no range-spec
           "bytes=,",        // only empty elements
           "bytes=-",        // neither first-pos nor suffix-length
           "bytes=abc",      // other-range is not valid for bytes
           "bytes=1",        // no '-'
           "bytes=5-4",      // last-pos < first-pos
           "bytes=0-1,5-4",  // one invalid spec makes the whole field invalid
           "bytes=0 -1",     // whitespace inside a range-spec
           "bytes=0- 1",
           "bytes=+1-2",
           "bytes=0x10-20",
           "bytes=1-2-3",
           "bytes=--1",
           "bytes =0-1",  // no OWS around '='
           "=0-1",
       }) {
    EXPECT_EQ(Eval(value, 100), "full") << value;
  }
}

TEST(HttpRangeTest, OtherUnitsAreIgnored) {
  EXPECT_EQ(Eval("items=0-1", 100), "full");
  EXPECT_EQ(Eval("none=0-1", 100), "full");
  EXPECT_EQ(Eval("byte=0-1", 100), "full");
  EXPECT_EQ(Eval("bytesx=0-1", 100), "full");
}

TEST(HttpRangeTest, FailedIfRangeServesFull) {
  EXPECT_EQ(Eval("bytes=0-1", 100, /*if_range_ok=*/false), "full");
  EXPECT_EQ(Eval("bytes=500-", 100, /*if_range_ok=*/false), "full");  // not 416 either
}

TEST(HttpRangeTest, Unsatisfiable) {
  EXPECT_EQ(Eval("bytes=100-", 100), "416");
  EXPECT_EQ(Eval("bytes=100-200", 100), "416");
  EXPECT_EQ(Eval("bytes=-0", 100), "416");
  EXPECT_EQ(Eval("bytes=100-,-0,500-600", 100), "416");
  EXPECT_EQ(Eval("bytes=99999999999999999999999-", 100), "416");  // overflowing first-pos
  EXPECT_EQ(UnsatisfiedContentRange(100), "bytes */100");
}

TEST(HttpRangeTest, UnsatisfiableSpecsAreDropped) {
  EXPECT_EQ(Eval("bytes=200-300,0-9", 100), "0-9");
  EXPECT_EQ(Eval("bytes=-0,90-", 100), "90-99");
}

// §14.1.1: with zero length only a non-zero suffix-range is satisfiable; it
// selects the whole (empty) representation, which is served as a 200.
TEST(HttpRangeTest, ZeroLengthRepresentation) {
  EXPECT_EQ(Eval("bytes=0-", 0), "416");
  EXPECT_EQ(Eval("bytes=0-0", 0), "416");
  EXPECT_EQ(Eval("bytes=-0", 0), "416");
  EXPECT_EQ(Eval("bytes=-1", 0), "full");
  EXPECT_EQ(Eval("bytes=0-5,-5", 0), "full");
  EXPECT_EQ(UnsatisfiedContentRange(0), "bytes */0");
}

TEST(HttpRangeTest, CoalescingKeepsRequestOrder) {
  // Disjoint ranges keep the order they were asked in (§14.6).
  EXPECT_EQ(Eval("bytes=50-59,0-9", 100), "50-59,0-9");
  EXPECT_EQ(Eval("bytes=-10,0-9", 100), "90-99,0-9");
  // A merged range takes the place of its first range-spec.
  EXPECT_EQ(Eval("bytes=80-89,10-19,20-29,85-95", 100), "80-95,10-29");
  EXPECT_EQ(Eval("bytes=30-39,0-9,5-35", 100), "0-39");
  // Contained, duplicate and adjacent-through-suffix ranges.
  EXPECT_EQ(Eval("bytes=0-99,10-20", 100), "0-99");
  EXPECT_EQ(Eval("bytes=5-6,5-6", 100), "5-6");
  EXPECT_EQ(Eval("bytes=0-89,-10", 100), "0-99");
  // A gap of one byte is not coalesced.
  EXPECT_EQ(Eval("bytes=0-9,11-20", 100), "0-9,11-20");
}

TEST(HttpRangeTest, TooManyRangesAreIgnored) {
  std::string value = "bytes=";
  for (size_t i = 0; i < kMaxRangeSpecs; ++i)
    value += (i ? "," : "") + std::to_string(2 * i) + "-" + std::to_string(2 * i);
  RangeDecision d = EvaluateRange(value, 1000);
  ASSERT_EQ(d.kind, Kind::kPartial);
  EXPECT_EQ(d.ranges.size(), kMaxRangeSpecs);
  value += ",900-901";
  EXPECT_EQ(Eval(value, 1000), "full");
  // The cap counts range-specs as sent, even ones that would coalesce.
  std::string same = "bytes=0-0";
  for (size_t i = 0; i < kMaxRangeSpecs; ++i) same += ",0-0";
  EXPECT_EQ(Eval(same, 1000), "full");
}

TEST(HttpRangeTest, ContentRangeValue) {
  EXPECT_EQ(ContentRangeValue({0, 499}, 10000), "bytes 0-499/10000");
  EXPECT_EQ(ContentRangeValue({9999, 9999}, 10000), "bytes 9999-9999/10000");
  EXPECT_EQ((ByteRange{5, 9}.length()), 5u);
}

TEST(HttpRangeTest, BoundaryIsAFreshToken) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string b = MakeBoundary();
    ASSERT_EQ(b.size(), 32u);
    for (char c : b) ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << b;
    seen.insert(b);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

// Builds the body the way a streaming sender would.
std::string Body(const MultipartPlan& plan, const std::string& representation) {
  std::string body;
  for (const auto& part : plan.parts) {
    body += part.header;
    body += representation.substr(part.range.first, part.range.length());
  }
  return body + plan.closing;
}

TEST(HttpRangeTest, MultipartPlan) {
  std::string rep;
  for (int i = 0; i < 10000; ++i) rep += static_cast<char>('a' + i % 26);
  RangeDecision d = EvaluateRange("bytes=0-0,-1", rep.size());
  ASSERT_EQ(d.kind, Kind::kPartial);
  MultipartPlan plan = PlanMultipart(d.ranges, rep.size(), "text/plain", "THIS_STRING_SEPARATES");
  EXPECT_EQ(plan.content_type, "multipart/byteranges; boundary=THIS_STRING_SEPARATES");
  ASSERT_EQ(plan.parts.size(), 2u);
  EXPECT_EQ(plan.parts[0].header,
            "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-0/10000\r\n\r\n");
  EXPECT_EQ(plan.parts[1].header,
            "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 9999-9999/10000\r\n\r\n");
  EXPECT_EQ(plan.closing, "\r\n--THIS_STRING_SEPARATES--\r\n");
  const std::string body = Body(plan, rep);
  EXPECT_EQ(plan.content_length, body.size());
  EXPECT_EQ(body,
            "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-0/10000\r\n\r\na"
            "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: text/plain\r\nContent-Range: bytes 9999-9999/10000\r\n\r\n" +
                std::string(1, rep[9999]) + "\r\n--THIS_STRING_SEPARATES--\r\n");
}

TEST(HttpRangeTest, MultipartLengthIsTheSumOfItsPieces) {
  const std::string rep(123457, 'x');
  for (const char* value : {"bytes=0-0,-1", "bytes=1-2,4-8,16-32,-64", "bytes=100000-,0-99999", "bytes=5-5,7-7,9-"}) {
    RangeDecision d = EvaluateRange(value, rep.size());
    ASSERT_EQ(d.kind, Kind::kPartial) << value;
    for (const char* type : {"", "application/octet-stream"}) {
      MultipartPlan plan = PlanMultipart(d.ranges, rep.size(), type, MakeBoundary());
      uint64_t sum = plan.closing.size();
      for (const auto& part : plan.parts) {
        sum += part.header.size() + part.range.length();
        EXPECT_EQ(part.header.find("Content-Type") != std::string::npos, *type != '\0');
      }
      EXPECT_EQ(plan.content_length, sum) << value;
      EXPECT_EQ(plan.content_length, Body(plan, rep).size()) << value;
    }
  }
}

}  // namespace
}  // namespace strata::http
