// Reload decisions: restart-only settings, spans and volumes keep their
// running values and are named; everything else takes the new value.
#include "proxy/reload.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

Config Running() {
  Config c;
  c.settings.threads = 2;
  c.settings.listen = {"127.0.0.1:8080"};
  SpanConfig span;
  span.path = "/var/cache/strata/cache.db";
  span.size_bytes = 256u << 20;
  span.origin = "storage.config:3";
  c.cache_spans = {span};
  VolumeConfig volume;
  volume.percent = 100;
  volume.origin = "volume.config (default)";
  c.cache_volumes = {volume};
  return c;
}

TEST(ReloadTest, NothingChangedNothingReported) {
  Config running = Running();
  Config fresh = Running();
  EXPECT_TRUE(KeepRestartOnlyParts(running, &fresh).empty());
}

TEST(ReloadTest, ReloadableSettingsTakeTheNewValue) {
  Config running = Running();
  Config fresh = Running();
  fresh.settings.max_fields = 50;
  fresh.settings.error_log_level = "debug";
  fresh.settings.access_log_format = "json";
  EXPECT_TRUE(KeepRestartOnlyParts(running, &fresh).empty());
  EXPECT_EQ(fresh.settings.max_fields, 50);
  EXPECT_EQ(fresh.settings.error_log_level, "debug");
  EXPECT_EQ(fresh.settings.access_log_format, "json");
}

TEST(ReloadTest, RestartOnlySettingsKeepTheRunningValue) {
  Config running = Running();
  Config fresh = Running();
  fresh.settings.threads = 8;
  fresh.settings.listen = {"127.0.0.1:9090"};
  fresh.settings.max_fields = 50;
  const auto kept = KeepRestartOnlyParts(running, &fresh);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0],
            "server.listen: needs a restart to change from 127.0.0.1:8080 to 127.0.0.1:9090; keeping "
            "127.0.0.1:8080");
  EXPECT_EQ(kept[1], "server.threads: needs a restart to change from 2 to 8; keeping 2");
  EXPECT_EQ(fresh.settings.threads, 2);
  EXPECT_EQ(fresh.settings.listen, running.settings.listen);
  EXPECT_EQ(fresh.settings.max_fields, 50);  // the rest still applies
}

TEST(ReloadTest, SpanAndVolumeChangesNeedARestart) {
  Config running = Running();
  Config fresh = Running();
  fresh.cache_spans[0].size_bytes = 512u << 20;
  fresh.cache_volumes[0].percent = 50;
  const auto kept = KeepRestartOnlyParts(running, &fresh);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_NE(kept[0].find("storage.config"), std::string::npos);
  EXPECT_NE(kept[1].find("volume.config"), std::string::npos);
  EXPECT_EQ(fresh.cache_spans[0].size_bytes, 256u << 20);
  EXPECT_EQ(fresh.cache_volumes[0].percent, 100);
}

TEST(ReloadTest, MovingALineIsNotAChange) {
  Config running = Running();
  Config fresh = Running();
  fresh.cache_spans[0].origin = "storage.config:9";  // a comment added above it
  fresh.cache_volumes[0].origin = "volume.config:4";
  EXPECT_TRUE(KeepRestartOnlyParts(running, &fresh).empty());
}

}  // namespace
}  // namespace strata
