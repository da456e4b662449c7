// Tests for the settings table: defaults, every value type and unit, ranges,
// records.yaml loading with its error reports, --set, and the generated docs.

#include "proxy/settings.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace strata {
namespace {

using std::chrono::milliseconds;

// A fresh directory under $TMPDIR, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "strata_settings_XXXXXX").string();
    path_ = mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  // Writes `text` to NAME in the directory and returns the file's path.
  std::string Write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The message of a failed --set, or "" when it worked.
std::string SetError(std::string_view name, std::string_view value, Settings* s) {
  Status st = ParseSettingValue(name, value, s);
  return st.ok() ? "" : st.message();
}

size_t CountLines(const std::string& s) { return s.empty() ? 0 : std::count(s.begin(), s.end(), '\n') + 1; }

TEST(SettingsTest, DefaultsMatchTheSpecification) {
  Settings s = DefaultSettings();
  EXPECT_TRUE(s.listen.empty());
  EXPECT_EQ(s.threads, 0);
  EXPECT_EQ(s.shutdown_grace, milliseconds(30000));
  EXPECT_EQ(s.max_request_head, 64u * 1024);
  EXPECT_EQ(s.max_fields, 100);
  EXPECT_EQ(s.buffer_high_water, 64u * 1024);
  EXPECT_FALSE(s.preserve_host);
  EXPECT_EQ(s.via_name, "strata");
  EXPECT_TRUE(s.insert_x_forwarded_for);
  EXPECT_EQ(s.client_head_timeout, milliseconds(10000));
  EXPECT_EQ(s.client_keepalive_timeout, milliseconds(30000));
  EXPECT_EQ(s.origin_connect_timeout, milliseconds(5000));
  EXPECT_EQ(s.origin_first_byte_timeout, milliseconds(30000));
  EXPECT_EQ(s.transfer_idle_timeout, milliseconds(30000));
  EXPECT_EQ(s.origin_max_idle_per_origin, 128);
  EXPECT_EQ(s.origin_idle_timeout, milliseconds(30000));
  EXPECT_EQ(s.origin_retries, 1);
  EXPECT_TRUE(s.access_log_enabled);
  EXPECT_EQ(s.access_log_path, "");
  EXPECT_EQ(s.access_log_format, "squid");
  EXPECT_EQ(s.error_log_path, "");
  EXPECT_EQ(s.error_log_level, "info");
  EXPECT_EQ(s.log_dir, "");
}

TEST(SettingsTest, TableIsConsistent) {
  std::set<std::string_view> names;
  Settings s;
  for (const SettingDef& def : AllSettings()) {
    EXPECT_TRUE(names.insert(def.name).second) << "duplicate " << def.name;
    EXPECT_EQ(FindSetting(def.name), &def);
    EXPECT_FALSE(def.help.empty()) << def.name;
    // Every default parses and is within its own range.
    EXPECT_EQ(SetError(def.name, def.default_text, &s), "") << def.name;
    const SettingType t = def.type();
    if (t == SettingType::kInt || t == SettingType::kSize || t == SettingType::kDuration) {
      EXPECT_LT(def.min, def.max) << def.name << " has no range";
    }
  }
  EXPECT_EQ(names.size(), 41u);
  EXPECT_EQ(FindSetting("http.nope"), nullptr);
  EXPECT_EQ(FindSetting("http"), nullptr);
  EXPECT_FALSE(FindSetting("server.listen")->reloadable);
  EXPECT_FALSE(FindSetting("server.threads")->reloadable);
  EXPECT_TRUE(FindSetting("http.max_fields")->reloadable);
}

TEST(SettingsTest, Int) {
  Settings s = DefaultSettings();
  EXPECT_EQ(SetError("http.max_fields", "200", &s), "");
  EXPECT_EQ(s.max_fields, 200);
  EXPECT_EQ(SetError("http.max_fields", " 300 ", &s), "");
  EXPECT_EQ(s.max_fields, 300);
  for (const char* bad : {"abc", "1.5", "", "12x", "0x10", "99999999999999999999"}) {
    EXPECT_NE(SetError("http.max_fields", bad, &s), "") << bad;
  }
  EXPECT_EQ(s.max_fields, 300);  // failures leave the value alone
}

TEST(SettingsTest, IntRange) {
  Settings s = DefaultSettings();
  EXPECT_EQ(SetError("http.max_fields", "8", &s), "");
  EXPECT_EQ(SetError("http.max_fields", "10000", &s), "");
  EXPECT_EQ(SetError("http.max_fields", "7", &s), "http.max_fields: '7' is out of range 8..10000");
  EXPECT_NE(SetError("http.max_fields", "10001", &s), "");
  EXPECT_NE(SetError("http.max_fields", "-1", &s), "");
  EXPECT_NE(SetError("server.threads", "257", &s), "");
  EXPECT_EQ(SetError("server.threads", "256", &s), "");
  EXPECT_NE(SetError("origin.retries", "6", &s), "");
  EXPECT_NE(SetError("origin.max_idle_per_origin", "10001", &s), "");
  EXPECT_EQ(SetError("origin.max_idle_per_origin", "0", &s), "");
}

TEST(SettingsTest, SizeUnits) {
  Settings s = DefaultSettings();
  EXPECT_EQ(SetError("http.max_request_head", "1K", &s), "");
  EXPECT_EQ(s.max_request_head, 1024u);
  EXPECT_EQ(SetError("http.max_request_head", "1M", &s), "");
  EXPECT_EQ(s.max_request_head, 1024u * 1024);
  EXPECT_EQ(SetError("http.max_request_head", "32k", &s), "");
  EXPECT_EQ(s.max_request_head, 32u * 1024);
  EXPECT_EQ(SetError("http.max_request_head", "5000", &s), "");
  EXPECT_EQ(s.max_request_head, 5000u);
  EXPECT_EQ(SetError("http.buffer_high_water", "16M", &s), "");
  EXPECT_EQ(s.buffer_high_water, 16u * 1024 * 1024);
  for (const char* bad : {"64Q", "K", "-1", "1.5K", "64 K B", "64KB", ""}) {
    EXPECT_NE(SetError("http.max_request_head", bad, &s), "") << bad;
  }
  EXPECT_EQ(SetError("http.max_request_head", "1023", &s), "http.max_request_head: '1023' is out of range 1K..1M");
  EXPECT_NE(SetError("http.max_request_head", "1025K", &s), "");
  EXPECT_NE(SetError("http.max_request_head", "2G", &s), "");
  EXPECT_NE(SetError("http.max_request_head", "99999999999T", &s), "");  // overflow
  EXPECT_NE(SetError("http.buffer_high_water", "4095", &s), "");
}

TEST(SettingsTest, DurationUnits) {
  Settings s = DefaultSettings();
  struct Case {
    const char* text;
    int64_t ms;
  };
  for (Case c : {Case{"30s", 30000}, Case{"500ms", 500}, Case{"2m", 120000}, Case{"1h", 3600000}, Case{"45", 45000},
                 Case{"1d", 86400000}, Case{"250MS", 250}, Case{"1ms", 1}}) {
    EXPECT_EQ(SetError("timeouts.origin_first_byte", c.text, &s), "") << c.text;
    EXPECT_EQ(s.origin_first_byte_timeout, milliseconds(c.ms)) << c.text;
  }
  for (const char* bad : {"10x", "s", "1.5s", "-1s", "", "1 h m", "99999999999999999d"}) {
    EXPECT_NE(SetError("timeouts.origin_first_byte", bad, &s), "") << bad;
  }
  EXPECT_EQ(SetError("timeouts.client_head", "0", &s), "timeouts.client_head: '0' is out of range 1ms..1d");
  EXPECT_NE(SetError("timeouts.client_head", "2d", &s), "");
  EXPECT_EQ(SetError("server.shutdown_grace", "0", &s), "");  // 0 = do not wait
  EXPECT_NE(SetError("server.shutdown_grace", "61m", &s), "");
}

TEST(SettingsTest, Bool) {
  Settings s = DefaultSettings();
  for (const char* yes : {"true", "TRUE", "yes", "on", "1"}) {
    s.preserve_host = false;
    EXPECT_EQ(SetError("http.preserve_host", yes, &s), "") << yes;
    EXPECT_TRUE(s.preserve_host) << yes;
  }
  for (const char* no : {"false", "False", "no", "off", "0"}) {
    s.preserve_host = true;
    EXPECT_EQ(SetError("http.preserve_host", no, &s), "") << no;
    EXPECT_FALSE(s.preserve_host) << no;
  }
  EXPECT_EQ(SetError("http.preserve_host", "maybe", &s), "http.preserve_host: 'maybe' is not a bool (true or false)");
}

TEST(SettingsTest, StringsAndAllowedValues) {
  Settings s = DefaultSettings();
  EXPECT_EQ(SetError("log.error.level", "debug", &s), "");
  EXPECT_EQ(s.error_log_level, "debug");
  EXPECT_EQ(SetError("log.error.level", "verbose", &s),
            "log.error.level: 'verbose' is not one of: debug, info, warning, error");
  EXPECT_EQ(SetError("log.access.format", "squid", &s), "");
  EXPECT_EQ(SetError("log.access.format", "json", &s), "");
  EXPECT_EQ(SetError("log.access.format", "%{time} %{status}", &s), "");
  EXPECT_EQ(s.access_log_format, "%{time} %{status}");
  EXPECT_NE(SetError("log.access.format", "jsonl", &s).find("is not squid, combined, json"), std::string::npos);
  EXPECT_EQ(SetError("log.access.path", "/var/log/x.log", &s), "");
  EXPECT_EQ(s.access_log_path, "/var/log/x.log");
  EXPECT_EQ(SetError("log.access.path", "", &s), "");
  EXPECT_EQ(s.access_log_path, "");
  EXPECT_EQ(SetError("http.via_name", "edge-1", &s), "");
  EXPECT_EQ(s.via_name, "edge-1");
  EXPECT_NE(SetError("http.via_name", "my proxy", &s), "");
  EXPECT_NE(SetError("http.via_name", "a,b", &s), "");
  EXPECT_NE(SetError("http.via_name", "", &s), "");
}

TEST(SettingsTest, ListenList) {
  Settings s = DefaultSettings();
  EXPECT_EQ(SetError("server.listen", "127.0.0.1:8080, [::1]:8080 localhost:80", &s), "");
  EXPECT_EQ(s.listen, (std::vector<std::string>{"127.0.0.1:8080", "[::1]:8080", "localhost:80"}));
  EXPECT_EQ(SetError("server.listen", "0.0.0.0:1", &s), "");  // replaces, does not append
  EXPECT_EQ(s.listen, std::vector<std::string>{"0.0.0.0:1"});
  EXPECT_EQ(SetError("server.listen", "", &s), "");
  EXPECT_TRUE(s.listen.empty());
  for (const char* bad : {"8080", "a:0", "a:65536", "a:http", ":80", "[::1]", "::1:80", "[xyz]:80", "a/b:80", "a:"}) {
    EXPECT_NE(SetError("server.listen", bad, &s), "") << bad;
  }
}

TEST(SettingsTest, ParseListenAddress) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(ParseListenAddress("[::1]:8080", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:65535", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 65535);
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:0", &host, &port).ok());
}

TEST(SettingsTest, UnknownSettingOnCommandLine) {
  Settings s = DefaultSettings();
  EXPECT_EQ(SetError("http.max_feilds", "1", &s), "unknown setting 'http.max_feilds'");
  EXPECT_EQ(SetError("http", "1", &s), "unknown setting 'http'");
  EXPECT_EQ(s, DefaultSettings());
}

TEST(SettingsTest, FormatRoundTrips) {
  Settings s = DefaultSettings();
  ASSERT_EQ(SetError("server.listen", "127.0.0.1:80,[::1]:81", &s), "");
  ASSERT_EQ(SetError("http.max_request_head", "5000", &s), "");
  ASSERT_EQ(SetError("timeouts.client_head", "1500ms", &s), "");
  ASSERT_EQ(SetError("server.shutdown_grace", "0", &s), "");
  ASSERT_EQ(SetError("http.buffer_high_water", "2M", &s), "");
  EXPECT_EQ(FormatSettingValue(*FindSetting("http.buffer_high_water"), s), "2M");
  EXPECT_EQ(FormatSettingValue(*FindSetting("timeouts.client_head"), s), "1500ms");
  EXPECT_EQ(FormatSettingValue(*FindSetting("timeouts.client_keepalive"), s), "30s");
  EXPECT_EQ(FormatSettingValue(*FindSetting("server.listen"), s), "127.0.0.1:80, [::1]:81");
  Settings copy = DefaultSettings();
  for (const SettingDef& def : AllSettings()) {
    EXPECT_EQ(SetError(def.name, FormatSettingValue(def, s), &copy), "") << def.name;
  }
  EXPECT_EQ(copy, s);
}

TEST(SettingsTest, ChangedSettings) {
  Settings a = DefaultSettings();
  Settings b = a;
  EXPECT_TRUE(ChangedSettings(a, b).empty());
  b.threads = 4;
  b.max_fields = 50;
  auto changed = ChangedSettings(a, b);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0]->name, "server.threads");
  EXPECT_FALSE(changed[0]->reloadable);
  EXPECT_EQ(changed[1]->name, "http.max_fields");
  EXPECT_TRUE(changed[1]->reloadable);
}

TEST(RecordsYamlTest, MissingEmptyAndBareFilesAreFine) {
  TempDir dir;
  Settings s = DefaultSettings();
  s.max_fields = 77;
  EXPECT_TRUE(LoadRecordsYaml(dir.path() + "/nope.yaml", &s).ok());
  EXPECT_TRUE(LoadRecordsYaml(dir.Write("empty.yaml", ""), &s).ok());
  EXPECT_TRUE(LoadRecordsYaml(dir.Write("comments.yaml", "# nothing\n"), &s).ok());
  EXPECT_TRUE(LoadRecordsYaml(dir.Write("bare.yaml", "records:\n"), &s).ok());
  EXPECT_TRUE(LoadRecordsYaml(dir.Write("sections.yaml", "records:\n  http:\n  server:\n"), &s).ok());
  EXPECT_EQ(s.max_fields, 77);  // starts from the current values
}

TEST(RecordsYamlTest, NestedValuesOfEveryType) {
  TempDir dir;
  const std::string path = dir.Write("records.yaml",
                                     "records:\n"
                                     "  server:\n"
                                     "    listen:\n"
                                     "      - 127.0.0.1:8080\n"
                                     "      - \"[::1]:8080\"\n"
                                     "    threads: 4\n"
                                     "    shutdown_grace: 5s\n"
                                     "  http:\n"
                                     "    max_request_head: 32K\n"
                                     "    preserve_host: true\n"
                                     "    via_name: edge\n"
                                     "  timeouts:\n"
                                     "    client_head: 500ms\n"
                                     "    origin_connect: 2\n"
                                     "  log:\n"
                                     "    access:\n"
                                     "      path: \"-\"\n"
                                     "    error:\n"
                                     "      level: warning\n");
  Settings s = DefaultSettings();
  s.origin_retries = 3;  // not in the file: must survive
  Status st = LoadRecordsYaml(path, &s);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(s.listen, (std::vector<std::string>{"127.0.0.1:8080", "[::1]:8080"}));
  EXPECT_EQ(s.threads, 4);
  EXPECT_EQ(s.shutdown_grace, milliseconds(5000));
  EXPECT_EQ(s.max_request_head, 32u * 1024);
  EXPECT_TRUE(s.preserve_host);
  EXPECT_EQ(s.via_name, "edge");
  EXPECT_EQ(s.client_head_timeout, milliseconds(500));
  EXPECT_EQ(s.origin_connect_timeout, milliseconds(2000));
  EXPECT_EQ(s.access_log_path, "-");
  EXPECT_EQ(s.error_log_level, "warning");
  EXPECT_EQ(s.origin_retries, 3);
}

TEST(RecordsYamlTest, DottedKeysAndScalarListsAndNulls) {
  TempDir dir;
  const std::string path = dir.Write("records.yaml",
                                     "records:\n"
                                     "  http.max_fields: 200\n"
                                     "  server:\n"
                                     "    listen: 127.0.0.1:1 127.0.0.1:2\n"
                                     "  log:\n"
                                     "    dir:\n");
  Settings s = DefaultSettings();
  s.log_dir = "/x";
  Status st = LoadRecordsYaml(path, &s);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(s.max_fields, 200);
  EXPECT_EQ(s.listen, (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));
  EXPECT_EQ(s.log_dir, "");
}

TEST(RecordsYamlTest, UnknownSettingReportsItsLine) {
  TempDir dir;
  const std::string path = dir.Write("records.yaml",
                                     "# comment\n"
                                     "records:\n"
                                     "  http:\n"
                                     "    max_feilds: 200\n");
  Settings s = DefaultSettings();
  Status st = LoadRecordsYaml(path, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(st.message(), path + ":4: unknown setting 'http.max_feilds'");
}

TEST(RecordsYamlTest, ReportsEveryProblemAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.Write("records.yaml",
                                     "records:\n"
                                     "  server:\n"
                                     "    threads: lots\n"         // 3: not an int
                                     "    listen: [\"a:1\", b]\n"  // 4: bad list item
                                     "  http:\n"
                                     "    max_fields: 5\n"          // 6: out of range
                                     "    max_request_head: 64K\n"  // fine, but not applied
                                     "    via_name: [a]\n"          // 8: wrong type
                                     "  bogus:\n"                   // 9: unknown section
                                     "    x: 1\n"
                                     "  timeouts:\n"
                                     "    client_head:\n"     // 12: missing value
                                     "    client_head: 5s\n"  // 13: set twice
                                     "  log:\n"
                                     "    error: {level: loud}\n");  // 15: not allowed
  Settings s = DefaultSettings();
  s.max_request_head = 2048;
  Status st = LoadRecordsYaml(path, &s);
  ASSERT_FALSE(st.ok());
  const std::string& m = st.message();
  EXPECT_EQ(CountLines(m), 8u) << m;
  EXPECT_NE(m.find(path + ":3: server.threads: 'lots' is not an integer"), std::string::npos) << m;
  EXPECT_NE(m.find(path + ":4: server.listen: 'b' is not HOST:PORT"), std::string::npos) << m;
  EXPECT_NE(m.find(path + ":6: http.max_fields: '5' is out of range 8..10000"), std::string::npos) << m;
  EXPECT_NE(m.find(path + ":8: http.via_name: expected a string, not a list"), std::string::npos) << m;
  EXPECT_NE(m.find(path + ":9: unknown setting 'bogus'"), std::string::npos) << m;
  EXPECT_NE(m.find(path + ":12: timeouts.client_head: missing value"), std::string::npos) << m;
  EXPECT_NE(m.find(path + ":13: timeouts.client_head: set twice (first at line 12)"), std::string::npos) << m;
  EXPECT_NE(m.find(path + ":15: log.error.level: 'loud' is not one of"), std::string::npos) << m;
  EXPECT_EQ(s.max_request_head, 2048u);  // nothing applied
}

TEST(RecordsYamlTest, StructureErrors) {
  TempDir dir;
  Settings s = DefaultSettings();
  Status st = LoadRecordsYaml(dir.Write("a.yaml", "records:\n  http: 5\n"), &s);
  EXPECT_EQ(st.message(), dir.path() + "/a.yaml:2: http must be a map");
  st = LoadRecordsYaml(dir.Write("b.yaml", "recs:\n  http: {}\n"), &s);
  EXPECT_EQ(st.message(), dir.path() + "/b.yaml:1: unknown top-level key 'recs' (settings go under 'records:')");
  st = LoadRecordsYaml(dir.Write("c.yaml", "- a\n- b\n"), &s);
  EXPECT_FALSE(st.ok());
  st = LoadRecordsYaml(dir.Write("d.yaml", "records:\n  http:\n    max_fields: [1\n"), &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir.path() + "/d.yaml:"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("YAML syntax error"), std::string::npos) << st.message();
  st = LoadRecordsYaml(dir.path(), &s);  // a directory
  EXPECT_EQ(st.kind(), Status::Kind::kIOError);
  EXPECT_EQ(s, DefaultSettings());
}

TEST(SettingsDocsTest, MarkdownListsEverySetting) {
  const std::string md = SettingsMarkdown();
  EXPECT_EQ(md.rfind("| Setting | Type | Default |", 0), 0u);
  for (const SettingDef& def : AllSettings()) {
    EXPECT_NE(md.find("| `" + std::string(def.name) + "` |"), std::string::npos) << def.name;
  }
  EXPECT_NE(md.find("| `http.max_request_head` | size | `64K` | 1K..1M | reload |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `server.threads` | int | `0` | 0..256 | restart |"), std::string::npos) << md;
  EXPECT_EQ(md.find('<'), std::string::npos);           // escaped for Markdown renderers
  EXPECT_EQ(CountLines(md), AllSettings().size() + 3);  // header, rule, rows, final newline
}

TEST(SettingsDocsTest, GeneratedRecordsYamlLoadsToTheDefaults) {
  TempDir dir;
  const std::string path = dir.Write("records.yaml", SettingsRecordsYaml());
  Settings s = DefaultSettings();
  s.threads = 9;
  s.listen = {"1.2.3.4:5"};
  s.log_dir = "/elsewhere";
  Status st = LoadRecordsYaml(path, &s);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(s, DefaultSettings());
}

}  // namespace
}  // namespace strata
