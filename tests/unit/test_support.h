// Small helpers shared by the cache engine's tests: a temporary directory
// removed with everything in it, and deterministic pseudo-random bytes.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace strata::test_support {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/strata_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// n bytes that depend only on `seed`.
inline std::string Bytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng());
  return s;
}

}  // namespace strata::test_support
