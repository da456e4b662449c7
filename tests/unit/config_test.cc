// Tests for LoadConfig and CheckConfigDir: files and command-line overrides
// together, errors gathered from everywhere, and the shipped etc/ files.

#include "proxy/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace strata {
namespace {

using std::chrono::milliseconds;

// A fresh config directory under $TMPDIR, removed at the end.
class ConfigDir {
 public:
  ConfigDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "strata_config_XXXXXX").string();
    path_ = mkdtemp(templ.data()) ? templ : "";
  }
  ~ConfigDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name, std::ios::binary) << text;
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

size_t CountLines(const std::string& s) { return s.empty() ? 0 : std::count(s.begin(), s.end(), '\n') + 1; }

std::string MapUrl(const Config& c, std::string_view host, std::string_view path) {
  RemapResult r;
  return c.remap.Map("http", host, path, &r) ? r.origin_url : "404";
}

TEST(ConfigTest, NoDirectoryMeansDefaultsAndOverrides) {
  ConfigOverrides o;
  o.listen = {"127.0.0.1:8080"};
  o.origin_url = "http://127.0.0.1:9000";
  Config c;
  Status st = LoadConfig("", o, &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  Settings expected = DefaultSettings();
  expected.listen = {"127.0.0.1:8080"};
  EXPECT_EQ(c.settings, expected);
  EXPECT_EQ(c.remap.size(), 1u);
  EXPECT_EQ(MapUrl(c, "anything", "/x"), "http://127.0.0.1:9000/x");
}

TEST(ConfigTest, EmptyDirectoryIsValidAndMapsNothing) {
  ConfigDir dir;
  Config c;
  Status st = LoadConfig(dir.path(), {}, &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.dir, dir.path());
  EXPECT_EQ(c.settings, DefaultSettings());
  EXPECT_EQ(c.remap.size(), 0u);  // every request gets 404; not an error
  EXPECT_EQ(MapUrl(c, "a", "/"), "404");
  std::string report = "stale";
  EXPECT_TRUE(CheckConfigDir(dir.path(), &report).ok());
  EXPECT_EQ(report, "");
}

TEST(ConfigTest, FilesAndOverridesInOrder) {
  ConfigDir dir;
  dir.Write("records.yaml",
            "records:\n"
            "  server:\n"
            "    listen: [\"127.0.0.1:8080\"]\n"
            "  http:\n"
            "    max_fields: 200\n"
            "    via_name: fromfile\n");
  dir.Write("remap.config",
            "map http://www.example/ http://origin/\n"
            "map / http://file-catchall/\n");
  ConfigOverrides o;
  o.sets = {{"http.max_fields", "300"}, {"timeouts.client_head", "2s"}};
  o.listen = {"127.0.0.1:8080", "[::1]:8080"};  // the first is already there
  o.origin_url = "http://cmdline-origin:9000";
  Config c;
  Status st = LoadConfig(dir.path(), o, &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.settings.max_fields, 300);  // --set beats the file
  EXPECT_EQ(c.settings.via_name, "fromfile");
  EXPECT_EQ(c.settings.client_head_timeout, milliseconds(2000));
  EXPECT_EQ(c.settings.listen, (std::vector<std::string>{"127.0.0.1:8080", "[::1]:8080"}));
  EXPECT_EQ(c.remap.size(), 3u);
  EXPECT_EQ(MapUrl(c, "www.example", "/a"), "http://origin/a");
  EXPECT_EQ(MapUrl(c, "other", "/a"), "http://file-catchall/a");  // the file's catch-all comes first
}

TEST(ConfigTest, OriginAloneServesEveryHost) {
  ConfigDir dir;
  dir.Write("remap.config", "# nothing but comments\n");
  ConfigOverrides o;
  o.origin_url = "http://127.0.0.1:9000/";
  Config c;
  ASSERT_TRUE(LoadConfig(dir.path(), o, &c).ok());
  EXPECT_EQ(MapUrl(c, "a.example", "/p?q"), "http://127.0.0.1:9000/p?q");
}

TEST(ConfigTest, AllErrorsFromAllSourcesTogether) {
  ConfigDir dir;
  dir.Write("records.yaml",
            "records:\n"
            "  http:\n"
            "    max_fields: 1\n"
            "    nope: 2\n");
  dir.Write("remap.config",
            "map http://a/ http://b/\n"
            "map http://a/\n");
  ConfigOverrides o;
  o.sets = {{"http.unknown", "1"}, {"server.threads", "-1"}};
  o.listen = {"nonsense"};
  o.origin_url = "ftp://x/";
  Config c;
  c.settings.via_name = "untouched";
  Status st = LoadConfig(dir.path(), o, &c);
  ASSERT_FALSE(st.ok());
  const std::string& m = st.message();
  EXPECT_EQ(CountLines(m), 7u) << m;
  EXPECT_NE(m.find(dir.File("records.yaml") + ":3: http.max_fields: '1' is out of range"), std::string::npos) << m;
  EXPECT_NE(m.find(dir.File("records.yaml") + ":4: unknown setting 'http.nope'"), std::string::npos) << m;
  EXPECT_NE(m.find(dir.File("remap.config") + ":2: expected 'map FROM TO'"), std::string::npos) << m;
  EXPECT_NE(m.find("--set unknown setting 'http.unknown'"), std::string::npos) << m;
  EXPECT_NE(m.find("--set server.threads: '-1' is out of range 0..256"), std::string::npos) << m;
  EXPECT_NE(m.find("--listen 'nonsense' is not HOST:PORT"), std::string::npos) << m;
  EXPECT_NE(m.find("--origin 'ftp://x/': unsupported scheme 'ftp'"), std::string::npos) << m;
  EXPECT_EQ(c.settings.via_name, "untouched");  // *out unchanged on error
}

TEST(ConfigTest, MissingDirectoryLoadsButFailsTheCheck) {
  ConfigDir dir;
  const std::string missing = dir.path() + "/nope";
  Config c;
  ConfigOverrides o;
  o.origin_url = "http://127.0.0.1:9000";
  Status st = LoadConfig(missing, o, &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.settings, DefaultSettings());
  EXPECT_EQ(c.remap.size(), 1u);
  std::string report;
  EXPECT_FALSE(CheckConfigDir(missing, &report).ok());
  EXPECT_EQ(report, missing + ": no such config directory");
}

TEST(ConfigTest, CheckConfigDirReportsEveryFile) {
  ConfigDir dir;
  dir.Write("records.yaml", "records:\n  server:\n    threads: many\n");
  dir.Write("remap.config", "map http://a/ http://b/\nredirect http://a/\n");
  dir.Write("ip_allow.yaml", "ip_allow:\n  - apply: in\n    ip_addrs: [127.0.0.1\n");
  dir.Write("storage.config", "# comment\n/var/cache/strata 10G\n/x 10Q volume=1\n");
  std::string report;
  Status st = CheckConfigDir(dir.path(), &report);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), report);
  EXPECT_EQ(CountLines(report), 4u) << report;
  EXPECT_NE(report.find(dir.File("records.yaml") + ":3: server.threads: 'many' is not an integer"), std::string::npos)
      << report;
  EXPECT_NE(report.find(dir.File("remap.config") + ":2: expected 'redirect FROM TO'"), std::string::npos) << report;
  EXPECT_NE(report.find(dir.File("ip_allow.yaml") + ":"), std::string::npos) << report;
  EXPECT_NE(report.find(dir.File("storage.config") + ":3: '10Q': unknown size suffix"), std::string::npos) << report;
}

TEST(ConfigTest, CheckConfigDirAcceptsAGoodDirectory) {
  ConfigDir dir;
  dir.Write("records.yaml", "records:\n  server:\n    threads: 2\n");
  dir.Write("remap.config", "map / http://127.0.0.1:9000/\n");
  dir.Write("ip_allow.yaml", "ip_allow:\n  - apply: in\n    ip_addrs: 0/0\n    action: allow\n    methods: ALL\n");
  dir.Write("storage.config", "/var/cache/strata.db 512M\n");
  std::string report;
  Status st = CheckConfigDir(dir.path(), &report);
  EXPECT_TRUE(st.ok()) << report;
  EXPECT_EQ(report, "");
  dir.Write("ip_allow.yaml", "allow: everyone\n");
  EXPECT_FALSE(CheckConfigDir(dir.path(), &report).ok());
  EXPECT_NE(report.find(dir.File("ip_allow.yaml") + ":1: unknown top-level key 'allow'"), std::string::npos) << report;
}

TEST(ConfigTest, VolumesAndParentConfig) {
  ConfigDir dir;
  dir.Write("storage.config", "a.db 64M volume=2\n");
  dir.Write("volume.config", "# two volumes\nvolume=1 scheme=http size=50%\nvolume=2 scheme=http size=50%\n");
  dir.Write("parent.config", "# nothing yet\n\n   # indented comment\n");
  Config c;
  Status st = LoadConfig(dir.path(), {}, &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(c.cache_volumes.size(), 2u);
  EXPECT_EQ(c.cache_volumes[1].number, 2);

  dir.Write("volume.config", "volume=1 scheme=http size=100%\n");
  std::string report;
  EXPECT_FALSE(CheckConfigDir(dir.path(), &report).ok());
  EXPECT_NE(report.find(dir.File("storage.config") + ":1: volume=2 is not defined in " + dir.File("volume.config")),
            std::string::npos)
      << report;

  dir.Write("storage.config", "a.db 64M\n");
  dir.Write("parent.config", "# ok\ndest_domain=. parent=\"p:8080\"\n");
  EXPECT_FALSE(CheckConfigDir(dir.path(), &report).ok());
  EXPECT_NE(report.find(dir.File("parent.config") + ":2: parent selection is not implemented yet"), std::string::npos)
      << report;
  EXPECT_FALSE(LoadConfig(dir.path(), {}, &c).ok());  // the daemon refuses it too
}

// The files shipped in etc/ must pass --check-config and load to the defaults.
TEST(ConfigTest, ShippedConfigFiles) {
  const char* srcdir = getenv("STRATA_SRCDIR");
  if (srcdir == nullptr || *srcdir == '\0') GTEST_SKIP() << "STRATA_SRCDIR is not set";
  const std::string etc = std::string(srcdir) + "/etc";
  std::string report;
  Status st = CheckConfigDir(etc, &report);
  EXPECT_TRUE(st.ok()) << report;
  Config c;
  st = LoadConfig(etc, {}, &c);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(c.settings, DefaultSettings());
  EXPECT_EQ(c.remap.size(), 0u);  // every example rule is commented out
  // Every setting appears in the shipped records.yaml, so none is undocumented there.
  std::ifstream in(etc + "/records.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const SettingDef& def : AllSettings()) {
    const std::string leaf(def.name.substr(def.name.rfind('.') + 1));
    EXPECT_NE(text.find(" " + leaf + ": "), std::string::npos) << def.name;
  }
}

// The commented examples in etc/remap.config are valid rules once uncommented.
TEST(ConfigTest, ShippedRemapExamplesParse) {
  const char* srcdir = getenv("STRATA_SRCDIR");
  if (srcdir == nullptr || *srcdir == '\0') GTEST_SKIP() << "STRATA_SRCDIR is not set";
  std::ifstream in(std::string(srcdir) + "/etc/remap.config");
  std::string examples;
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    for (const char* d : {"# map ", "# reverse_map ", "# redirect ", "# redirect_temporary ", "# regex_map "}) {
      if (line.rfind(d, 0) == 0) {
        examples += line.substr(2) + "\n";
        ++count;
      }
    }
  }
  EXPECT_GE(count, 5);
  RemapTable t;
  Status st = t.Parse(examples, "etc/remap.config examples");
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(t.size(), static_cast<size_t>(count));
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

// docs/CONFIG.md is generated by `strata --settings-doc`; it must not drift
// from the settings table.
TEST(ConfigDocsTest, ConfigMarkdownMatchesTheSettingsTable) {
  const char* srcdir = getenv("STRATA_SRCDIR");
  if (srcdir == nullptr) GTEST_SKIP() << "STRATA_SRCDIR not set";
  std::ifstream file(std::string(srcdir) + "/docs/CONFIG.md");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_NE(text.str().find(SettingsMarkdown()), std::string::npos)
      << "regenerate the table: build/proxy/strata --settings-doc";
}

}  // namespace
}  // namespace strata
