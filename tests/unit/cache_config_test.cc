// Tests for storage.config, volume.config and --cache parsing: sizes, block
// devices, directories, and every error reported with its line number.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cache/storage_config.h"

namespace strata {
namespace {

// Pretends /dev/sd* are block devices and /srv/dir is a directory.
PathKind FakeProbe(const std::string& path) {
  if (path.rfind("/dev/sd", 0) == 0) return PathKind::kBlockDevice;
  if (path == "/srv/dir") return PathKind::kDirectory;
  if (path == "/dev/tty") return PathKind::kOther;
  return PathKind::kMissing;
}

TEST(CacheConfig, ParseSize) {
  uint64_t n = 0;
  ASSERT_TRUE(ParseSize("1048576", &n).ok());
  EXPECT_EQ(n, 1048576u);
  ASSERT_TRUE(ParseSize("512K", &n).ok());
  EXPECT_EQ(n, 512u << 10);
  ASSERT_TRUE(ParseSize("64m", &n).ok());
  EXPECT_EQ(n, 64u << 20);
  ASSERT_TRUE(ParseSize("10G", &n).ok());
  EXPECT_EQ(n, 10ull << 30);
  ASSERT_TRUE(ParseSize("2T", &n).ok());
  EXPECT_EQ(n, 2ull << 40);
  for (const char* bad : {"", "G", "0", "10X", "10GB", "-1", "1.5G", "99999999999999999999", "20000000T"}) {
    EXPECT_EQ(ParseSize(bad, &n).kind(), Status::Kind::kInvalidArgument) << bad;
  }
}

TEST(CacheConfig, StorageSpans) {
  std::vector<SpanConfig> spans;
  Status st = ParseStorageConfig("storage.config",
                                 "# comment\n"
                                 "\n"
                                 "/var/cache/a.db 10G   # trailing comment\n"
                                 "  /dev/sdb id=disk1 volume=2\n"
                                 "/srv/dir 64M\n"
                                 "/var/cache/b.db 16777216\n",
                                 FakeProbe, &spans);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(spans.size(), 4u);
  EXPECT_EQ(spans[0].path, "/var/cache/a.db");
  EXPECT_EQ(spans[0].size_bytes, 10ull << 30);
  EXPECT_FALSE(spans[0].is_block_device);
  EXPECT_EQ(spans[0].origin, "storage.config:3");
  EXPECT_EQ(spans[0].identity(), "/var/cache/a.db");
  EXPECT_EQ(spans[1].path, "/dev/sdb");
  EXPECT_TRUE(spans[1].is_block_device);
  EXPECT_EQ(spans[1].size_bytes, 0u);
  EXPECT_EQ(spans[1].volume, 2);
  EXPECT_EQ(spans[1].identity(), "disk1");
  EXPECT_EQ(spans[2].path, "/srv/dir/cache.db");
  EXPECT_EQ(spans[2].size_bytes, 64u << 20);
  EXPECT_EQ(spans[3].size_bytes, 16u << 20);
}

TEST(CacheConfig, StorageErrorsAllReportedWithLines) {
  std::vector<SpanConfig> spans;
  Status st = ParseStorageConfig("etc/storage.config",
                                 "/var/cache/nosize.db\n"           // 1: file without size
                                 "/dev/sdc 10G\n"                   // 2: device with size
                                 "/var/cache/a.db 10Q\n"            // 3: bad suffix
                                 "/var/cache/b.db 1G 2G\n"          // 4: two sizes
                                 "/var/cache/c.db 1G volume=300\n"  // 5
                                 "/var/cache/d.db 1G color=red\n"   // 6
                                 "/var/cache/e.db 1M\n"             // 7: below minimum
                                 "/var/cache/f.db 1G\n"             // 8: fine
                                 "/var/cache/f.db 2G\n"             // 9: duplicate path
                                 "/dev/tty\n"                       // 10: not a file
                                 "/srv/dir\n",                      // 11: directory needs size
                                 FakeProbe, &spans);
  ASSERT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  const std::string& m = st.message();
  for (int line : {1, 2, 3, 4, 5, 6, 7, 9, 10, 11}) {
    EXPECT_NE(m.find("etc/storage.config:" + std::to_string(line) + ": "), std::string::npos) << line << "\n" << m;
  }
  EXPECT_EQ(m.find("etc/storage.config:8:"), std::string::npos) << m;
  EXPECT_NE(m.find("needs a size"), std::string::npos);
  EXPECT_NE(m.find("used whole"), std::string::npos);
  EXPECT_NE(m.find("already a span (etc/storage.config:8)"), std::string::npos);
  EXPECT_TRUE(spans.empty());
}

TEST(CacheConfig, VolumeConfig) {
  std::vector<VolumeConfig> vols;
  Status st = ParseVolumeConfig("volume.config",
                                "volume=1 scheme=http size=60%\n"
                                "# a comment\n"
                                "volume=2 scheme=http size=512 avg_obj_size=64K fragment_size=512K\n"
                                "volume=3 scheme=http size=2G\n",
                                &vols);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(vols.size(), 3u);
  EXPECT_EQ(vols[0].percent, 60);
  EXPECT_EQ(vols[1].size_bytes, 512u << 20);  // a bare number is MB, as in ATS
  EXPECT_EQ(vols[1].avg_obj_size, 64u << 10);
  EXPECT_EQ(vols[1].fragment_size, 512u << 10);
  EXPECT_EQ(vols[2].size_bytes, 2ull << 30);

  ASSERT_TRUE(ParseVolumeConfig("volume.config", "# nothing\n", &vols).ok());
  ASSERT_EQ(vols.size(), 1u);
  EXPECT_EQ(vols[0].number, 1);
  EXPECT_EQ(vols[0].percent, 100);
}

TEST(CacheConfig, VolumeErrorsAllReportedWithLines) {
  std::vector<VolumeConfig> vols;
  Status st = ParseVolumeConfig("volume.config",
                                "volume=1 scheme=http size=60%\n"       // 1 fine
                                "volume=1 scheme=http size=10%\n"       // 2 duplicate
                                "volume=2 scheme=ftp size=10%\n"        // 3 scheme
                                "volume=3 scheme=http size=50%\n"       // 4 > 100%
                                "volume=0 scheme=http size=1G\n"        // 5 range
                                "scheme=http size=1G\n"                 // 6 missing volume
                                "volume=6 scheme=http size=101%\n"      // 7 percent range
                                "volume=7 scheme=http size=1G ram=x\n"  // 8 unknown
                                "volume=8 size=1G\n"                    // 9 missing scheme
                                "volume=9 scheme=http\n",               // 10 missing size
                                &vols);
  ASSERT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  const std::string& m = st.message();
  for (int line = 2; line <= 10; ++line) {
    EXPECT_NE(m.find("volume.config:" + std::to_string(line) + ": "), std::string::npos) << line << "\n" << m;
  }
  EXPECT_EQ(m.find("volume.config:1:"), std::string::npos) << m;
  EXPECT_NE(m.find("more than 100%"), std::string::npos);
}

TEST(CacheConfig, QuickStart) {
  SpanConfig span;
  ASSERT_TRUE(ParseQuickStartSpan("/var/cache/strata,1G", FakeProbe, &span).ok());
  EXPECT_EQ(span.path, "/var/cache/strata");
  EXPECT_EQ(span.size_bytes, 1ull << 30);
  EXPECT_EQ(span.origin, "--cache");
  ASSERT_TRUE(ParseQuickStartSpan("/dev/sdd", FakeProbe, &span).ok());
  EXPECT_TRUE(span.is_block_device);
  ASSERT_TRUE(ParseQuickStartSpan("/srv/dir,100M", FakeProbe, &span).ok());
  EXPECT_EQ(span.path, "/srv/dir/cache.db");
  for (const char* bad : {"/var/cache/strata", "/var/cache/strata,", ",1G", "/var/x,1Z", "/var/x,1M", "/dev/sdd,1G"}) {
    Status st = ParseQuickStartSpan(bad, FakeProbe, &span);
    EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument) << bad;
    EXPECT_EQ(st.message().rfind("--cache ", 0), 0u) << st.message();
  }
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "strata_cache_config_XXXXXX").string();
    path_ = mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name, std::ios::binary) << text;
    return path_ + "/" + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(CacheConfig, LoadFilesAndCrossCheckVolumes) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string storage =
      dir.Write("storage.config", dir.path() + "/a.db 64M\n" + dir.path() + "/b.db 64M volume=2\n");
  CacheConfig config;
  // No volume.config: one volume of 100%, so volume=2 is undefined.
  Status st = LoadCacheConfig(storage, dir.path() + "/volume.config", &config);
  ASSERT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find("storage.config:2: volume=2 is not defined"), std::string::npos) << st.message();

  const std::string volumes =
      dir.Write("volume.config", "volume=1 scheme=http size=50%\nvolume=2 scheme=http size=50%\n");
  st = LoadCacheConfig(storage, volumes, &config);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(config.spans.size(), 2u);
  EXPECT_EQ(config.volumes.size(), 2u);

  st = LoadCacheConfig(dir.path() + "/missing.config", volumes, &config);
  EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find("cannot open"), std::string::npos);
}

TEST(CacheConfig, ShippedStorageConfigParses) {
  std::ifstream in("etc/storage.config");
  if (!in) GTEST_SKIP() << "run from the source tree";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<SpanConfig> spans;
  Status st = ParseStorageConfig("etc/storage.config", text, FakeProbe, &spans);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

}  // namespace
}  // namespace strata
