// Tests for purge-by-prefix records: matching by prefix and store time,
// compaction, persistence across a reload of the file, and bad files.

#include "proxy/purge.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace strata {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "strata_purge_XXXXXX").string();
    path_ = mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(PurgeListTest, PurgesWhatWasStoredUpToThePurgeUnderThePrefix) {
  PurgeList list("");
  EXPECT_FALSE(list.Purged("http://o/a/1", 100));
  ASSERT_TRUE(list.Add("http://o/a/", 1000).ok());
  EXPECT_TRUE(list.Purged("http://o/a/1", 999));
  EXPECT_TRUE(list.Purged("http://o/a/1", 1000));   // the same second counts as before
  EXPECT_FALSE(list.Purged("http://o/a/1", 1001));  // stored after the purge
  EXPECT_FALSE(list.Purged("http://o/b/1", 10));    // another prefix
  EXPECT_FALSE(list.Purged("http://o/a", 10));      // shorter than the prefix
}

TEST(PurgeListTest, ANewPrefixReplacesTheOlderOnesItCovers) {
  PurgeList list("");
  ASSERT_TRUE(list.Add("http://o/a/x/", 10).ok());
  ASSERT_TRUE(list.Add("http://o/b/", 20).ok());
  ASSERT_TRUE(list.Add("http://o/a/", 30).ok());
  std::vector<PurgeList::Record> records = list.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].prefix, "http://o/b/");
  EXPECT_EQ(records[1].prefix, "http://o/a/");
  EXPECT_EQ(records[1].time, 30);
  EXPECT_TRUE(list.Purged("http://o/a/x/1", 25));
}

TEST(PurgeListTest, RejectsPrefixesThatCannotBeSaved) {
  PurgeList list("");
  EXPECT_EQ(list.Add("", 1).kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(list.Add("http://o/a b", 1).kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(list.Add("http://o/\n", 1).kind(), Status::Kind::kInvalidArgument);
  EXPECT_TRUE(list.records().empty());
}

TEST(PurgeListTest, RecordsSurviveARestart) {
  TempDir dir;
  const std::string path = dir.path() + "/purges";
  {
    PurgeList list(path);
    ASSERT_TRUE(list.Load().ok());  // no file yet
    ASSERT_TRUE(list.Add("http://o/a/", 1000).ok());
    ASSERT_TRUE(list.Add("http://o/b/", 2000).ok());
  }
  PurgeList again(path);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_EQ(again.records().size(), 2u);
  EXPECT_TRUE(again.Purged("http://o/b/1", 2000));
  EXPECT_FALSE(again.Purged("http://o/a/1", 1001));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(PurgeListTest, ABadFileNamesTheLineAndLoadsNothing) {
  TempDir dir;
  const std::string path = dir.path() + "/purges";
  std::ofstream(path) << "# strata purge records 1\n10 http://o/a/\nsoon http://o/b/\n";
  PurgeList list(path);
  Status st = list.Load();
  EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(st.message(), path + ":3: bad time 'soon'");
  EXPECT_TRUE(list.records().empty());

  std::ofstream(path) << "10\n";
  st = list.Load();
  EXPECT_EQ(st.message(), path + ":1: want '<unix seconds> <url prefix>'");
}

TEST(PurgeListTest, AnUnsavablePurgeStillAppliesAndSaysSo) {
  TempDir dir;
  PurgeList list(dir.path() + "/missing/dir/purges");
  Status st = list.Add("http://o/a/", 100);
  EXPECT_EQ(st.kind(), Status::Kind::kIOError);
  EXPECT_NE(st.message().find("cannot"), std::string::npos) << st.message();
  EXPECT_TRUE(list.Purged("http://o/a/1", 50));
}

}  // namespace
}  // namespace strata
