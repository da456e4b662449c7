// The access log file: reopen after a rename (SIGUSR1), rotation by size
// keeping N files, and whole lines from concurrent writers across rotations.
#include "proxy/access_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/test_support.h"

namespace strata {
namespace {

using test_support::TempDir;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

TEST(AccessLogTest, ReopenAfterRenameWritesToANewFile) {
  TempDir dir;
  const std::string path = dir.path() + "/access.log";
  AccessLog log;
  ASSERT_TRUE(log.Open(path).ok());
  log.Write("one\n");
  std::filesystem::rename(path, path + ".old");
  log.Write("two\n");  // still the renamed file, as a rotation tool expects
  ASSERT_TRUE(log.Reopen().ok());
  EXPECT_TRUE(Exists(path));
  log.Write("three\n");
  EXPECT_EQ(ReadAll(path + ".old"), "one\ntwo\n");
  EXPECT_EQ(ReadAll(path), "three\n");
}

TEST(AccessLogTest, RotatesBySizeKeepingNFiles) {
  TempDir dir;
  const std::string path = dir.path() + "/access.log";
  AccessLog log;
  ASSERT_TRUE(log.Open(path).ok());
  log.SetRotation(/*max_bytes=*/20, /*keep=*/2);
  const std::string line = "0123456789\n";  // 11 bytes: two lines fill a file
  for (int i = 0; i < 7; ++i) log.Write(std::to_string(i) + line);
  // 0,1 -> rotated (then dropped), 2,3 -> .2, 4,5 -> .1, 6 -> current.
  EXPECT_EQ(ReadLines(path + ".2"), (std::vector<std::string>{"20123456789", "30123456789"}));
  EXPECT_EQ(ReadLines(path + ".1"), (std::vector<std::string>{"40123456789", "50123456789"}));
  EXPECT_EQ(ReadLines(path), (std::vector<std::string>{"60123456789"}));
  EXPECT_FALSE(Exists(path + ".3"));
}

TEST(AccessLogTest, NoSizeLimitNeverRotates) {
  TempDir dir;
  const std::string path = dir.path() + "/access.log";
  AccessLog log;
  ASSERT_TRUE(log.Open(path).ok());
  for (int i = 0; i < 100; ++i) log.Write("a line of text\n");
  EXPECT_FALSE(Exists(path + ".1"));
  EXPECT_EQ(ReadLines(path).size(), 100u);
}

TEST(AccessLogTest, ExistingFileCountsTowardsTheLimit) {
  TempDir dir;
  const std::string path = dir.path() + "/access.log";
  std::ofstream(path) << std::string(50, 'x') << "\n";
  AccessLog log;
  ASSERT_TRUE(log.Open(path).ok());
  log.SetRotation(60, 3);
  log.Write("0123456789\n");  // 51 + 11 >= 60
  EXPECT_TRUE(Exists(path + ".1"));
  EXPECT_EQ(ReadAll(path), "");
}

// Writers on several threads (as the workers are) while the file rotates by
// size and is reopened: every line arrives exactly once and whole.
TEST(AccessLogTest, ConcurrentWritersLoseAndSplitNothing) {
  TempDir dir;
  const std::string path = dir.path() + "/access.log";
  AccessLog log;
  ASSERT_TRUE(log.Open(path).ok());
  constexpr int kThreads = 4, kBatches = 200, kLinesPerBatch = 5;
  log.SetRotation(4096, 1000);  // keep every rotated file: the test counts all lines
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&log, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::string batch;  // a buffer's flush: several whole lines in one write
        for (int l = 0; l < kLinesPerBatch; ++l) {
          batch += "thread=" + std::to_string(t) + " batch=" + std::to_string(b) + " line=" + std::to_string(l) +
                   " padding-padding-padding\n";
        }
        log.Write(batch);
      }
    });
  }
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(log.Reopen().ok());
  for (auto& th : threads) th.join();
  std::set<std::string> seen;
  size_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string text = ReadAll(entry.path().string());
    EXPECT_TRUE(text.empty() || text.back() == '\n') << entry.path();
    for (const std::string& line : ReadLines(entry.path().string())) {
      EXPECT_TRUE(line.rfind("thread=", 0) == 0 && line.ends_with(" padding-padding-padding")) << line;
      seen.insert(line);
      ++total;
    }
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kBatches * kLinesPerBatch));
  EXPECT_EQ(seen.size(), total);
  EXPECT_TRUE(Exists(path + ".1"));  // it did rotate meanwhile
}

TEST(AccessLogTest, BufferUsesTheFormatItIsGiven) {
  TempDir dir;
  const std::string path = dir.path() + "/access.log";
  AccessLog log;
  ASSERT_TRUE(log.Open(path).ok());
  AccessRecord r;
  r.client_ip = "10.1.2.3";
  r.status = 204;
  r.method = "GET";
  {
    AccessLogBuffer buffer(&log);
    buffer.Append(r);  // squid by default
    AccessFormat custom;
    ASSERT_TRUE(AccessFormat::Parse("%{client_ip} %{status}", &custom).ok());
    buffer.set_format(custom);
    buffer.Append(r);
  }  // flushed when destroyed
  const std::vector<std::string> lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("10.1.2.3 -/204 0 GET"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1], "10.1.2.3 204");
}

}  // namespace
}  // namespace strata
