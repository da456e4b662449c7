// Line-oriented helpers for the configuration files.
#pragma once

#include <string_view>

namespace strata {

// Calls fn(line_number, line) for each line of text (numbered from 1, a
// trailing CR removed, so CRLF files read like LF files).
template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(++line_no, line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace strata
