// DecodedResponseCache: a stored response decoded once per stored Doc.
#include "proxy/decoded_response.h"

#include <gtest/gtest.h>

#include <memory>

namespace strata {
namespace {

StoredResponse Response(const std::string& cache_control) {
  StoredResponse r;
  r.url = "http://origin.example/a";
  r.status = 200;
  r.fields = {{"Content-Type", "text/plain"}, {"Cache-Control", cache_control}, {"Age", "5"}};
  r.request_time = 1700000000;
  r.response_time = 1700000001;
  return r;
}

// An object as a lookup returns it: the metadata, and the Doc it came from.
ObjectInfo Object(const StoredResponse& response) {
  ObjectInfo info;
  info.key = CacheKey::Hash(response.url);
  info.metadata = EncodeStoredResponse(response);
  info.first_doc = std::make_shared<const std::string>("doc bytes");
  return info;
}

TEST(DecodedResponseTest, TheSameDocIsDecodedOnce) {
  DecodedResponseCache cache;
  http::PolicyOptions options;
  ObjectInfo info = Object(Response("max-age=60"));
  std::shared_ptr<const DecodedResponse> first, second;
  ASSERT_TRUE(cache.Get(info, options, &first).ok());
  ASSERT_TRUE(cache.Get(info, options, &second).ok());
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(first->response.url, "http://origin.example/a");
  ASSERT_EQ(first->views.size(), 3u);
  EXPECT_EQ(first->views[1].value, "max-age=60");
  EXPECT_EQ(first->facts.lifetime, 60);
  // A full head carries the stored fields but Age, which the hit sets.
  EXPECT_EQ(first->full_head_fields, "Content-Type: text/plain\r\nCache-Control: max-age=60\r\n");
}

TEST(DecodedResponseTest, ANewDocForTheSameKeyIsDecodedAgain) {
  DecodedResponseCache cache;
  http::PolicyOptions options;
  ObjectInfo old_version = Object(Response("max-age=60"));
  std::shared_ptr<const DecodedResponse> decoded;
  ASSERT_TRUE(cache.Get(old_version, options, &decoded).ok());
  // A 304 refresh or a new fill writes a new first Doc: new bytes, same key.
  ObjectInfo new_version = Object(Response("max-age=900"));
  ASSERT_TRUE(cache.Get(new_version, options, &decoded).ok());
  EXPECT_EQ(decoded->facts.lifetime, 900);
  // Even if the new Doc's buffer reuses the old one's address, a freed Doc
  // never matches: the table holds the old one's control block.
  old_version.first_doc.reset();
  ObjectInfo again = Object(Response("max-age=30"));
  ASSERT_TRUE(cache.Get(again, options, &decoded).ok());
  EXPECT_EQ(decoded->facts.lifetime, 30);
}

TEST(DecodedResponseTest, OtherOptionsRecomputeTheFacts) {
  DecodedResponseCache cache;
  StoredResponse r = Response("max-age=60");
  r.fields.push_back({"Strata-Cache-Control", "max-age=5"});
  ObjectInfo info = Object(r);
  http::PolicyOptions targeted;
  http::PolicyOptions plain;
  plain.use_targeted_cache_control = false;
  std::shared_ptr<const DecodedResponse> decoded;
  ASSERT_TRUE(cache.Get(info, targeted, &decoded).ok());
  EXPECT_EQ(decoded->facts.lifetime, 5);
  ASSERT_TRUE(cache.Get(info, plain, &decoded).ok());  // after a reload, say
  EXPECT_EQ(decoded->facts.lifetime, 60);
}

TEST(DecodedResponseTest, UndecodableMetadataIsAnError) {
  DecodedResponseCache cache;
  ObjectInfo info = Object(Response("max-age=60"));
  info.metadata = "garbage";
  std::shared_ptr<const DecodedResponse> decoded;
  EXPECT_FALSE(cache.Get(info, http::PolicyOptions(), &decoded).ok());
}

}  // namespace
}  // namespace strata
