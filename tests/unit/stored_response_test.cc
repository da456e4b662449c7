#include "proxy/stored_response.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(StoredResponseTest, ResponseRoundTrip) {
  StoredResponse r;
  r.url = "http://origin.example/a?b=c";
  r.status = 200;
  r.reason = "OK";
  r.fields = {{"Content-Type", "text/plain"}, {"ETag", "\"v1\""}, {"Cache-Control", "max-age=60"}};
  r.request_time = 1700000000;
  r.response_time = 1700000001;
  r.vary = {"accept-encoding"};
  r.secondary_key = "gzip";
  StoredResponse back;
  ASSERT_TRUE(DecodeStoredResponse(EncodeStoredResponse(r), &back).ok());
  EXPECT_EQ(back.url, r.url);
  EXPECT_EQ(back.status, 200);
  EXPECT_EQ(back.fields, r.fields);
  EXPECT_EQ(back.response_time, r.response_time);
  EXPECT_EQ(back.vary, r.vary);
  EXPECT_EQ(back.secondary_key, "gzip");
  ASSERT_NE(back.Find("etag"), nullptr);
  EXPECT_EQ(*back.Find("etag"), "\"v1\"");
  EXPECT_EQ(back.Find("age"), nullptr);
}

TEST(StoredResponseTest, VariantsRoundTrip) {
  StoredResponse r;
  r.kind = StoredResponse::Kind::kVariants;
  r.url = "http://o/x";
  r.vary = {"accept-language"};
  r.variants = {"en", "fr"};
  StoredResponse back;
  ASSERT_TRUE(DecodeStoredResponse(EncodeStoredResponse(r), &back).ok());
  EXPECT_EQ(back.kind, StoredResponse::Kind::kVariants);
  EXPECT_EQ(back.variants, r.variants);
}

TEST(StoredResponseTest, EveryTruncationIsCorruption) {
  StoredResponse r;
  r.url = "http://o/x";
  r.status = 404;
  r.fields = {{"A", "b"}};
  std::string bytes = EncodeStoredResponse(r);
  for (size_t n = 0; n < bytes.size(); ++n) {
    StoredResponse back;
    EXPECT_EQ(DecodeStoredResponse(std::string_view(bytes).substr(0, n), &back).kind(), Status::Kind::kCorruption) << n;
  }
  StoredResponse back;
  EXPECT_EQ(DecodeStoredResponse(bytes + "x", &back).kind(), Status::Kind::kCorruption);
}

TEST(StoredResponseTest, VariantKeysDifferFromUrlKeys) {
  EXPECT_NE(UrlCacheKey("http://o/x"), VariantCacheKey("http://o/x", ""));
  EXPECT_NE(VariantCacheKey("http://o/x", "gzip"), VariantCacheKey("http://o/x", "br"));
  EXPECT_EQ(UrlCacheKey("http://o/x"), UrlCacheKey("http://o/x"));
}

}  // namespace
}  // namespace strata
