// What strata-cache relies on besides cache_recovery_test's read-only open:
// a read-only open never creates or initialises a span, and the span lock
// refuses a second writer of a span while letting a reader in.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "cache/cache.h"
#include "tests/unit/test_support.h"

namespace strata {
namespace {

using test_support::TempDir;

CacheOptions Options(const TempDir& dir) {
  CacheOptions options;
  SpanConfig span;
  span.path = dir.path() + "/span0";
  span.size_bytes = 32 << 20;
  options.spans.push_back(span);
  options.layout.average_object_bytes = 4096;
  options.stripe.agg_buffer_bytes = 1 << 20;
  options.fragment_bytes = 256 << 10;
  options.ram_cache_bytes = 0;
  options.io_threads = 1;
  return options;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(CacheReadOnlyTest, NeverCreatesNorInitialisesASpan) {
  TempDir dir;
  CacheOptions options = Options(dir);
  options.read_only = true;
  std::unique_ptr<Cache> cache;
  EXPECT_FALSE(Cache::Open(options, &cache).ok());
  EXPECT_FALSE(std::ifstream(options.spans[0].path).good()) << "a read-only open created the span file";
  // A file of the right size that was never initialised is refused, untouched.
  { std::ofstream(options.spans[0].path, std::ios::binary) << std::string(32 << 20, '\0'); }
  Status s = Cache::Open(options, &cache);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("initialised"), std::string::npos) << s.ToString();
  EXPECT_EQ(FileBytes(options.spans[0].path), std::string(32 << 20, '\0'));
}

TEST(CacheReadOnlyTest, SecondWriterOfASpanIsRefusedButAReaderIsNot) {
  TempDir dir;
  CacheOptions options = Options(dir);
  std::unique_ptr<Cache> writer;
  ASSERT_TRUE(Cache::Open(options, &writer).ok());
  std::unique_ptr<Cache> second;
  Status s = Cache::Open(options, &second);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("in use by another process"), std::string::npos) << s.ToString();
  options.read_only = true;
  std::unique_ptr<Cache> reader;
  s = Cache::Open(options, &reader);
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Once the writer is gone, another writer may open the span.
  reader.reset();
  writer.reset();
  options.read_only = false;
  EXPECT_TRUE(Cache::Open(options, &second).ok());
}

}  // namespace
}  // namespace strata
