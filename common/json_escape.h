// JSON strings (RFC 8259), written the one way every part of Strata writes
// them: the access log's json format, the admin API's /stats and the
// strata-cache tool's --json output.
//
// Quotes, backslashes and control characters are escaped; valid UTF-8 is
// copied as is; a byte that is not part of valid UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF) is written as \u00XX, so the
// output is always valid JSON whatever bytes a client or origin sent.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace strata {

// `value` as the inside of a JSON string (no quotes added).
void AppendJsonEscaped(std::string_view value, std::string* out);

// `value` as a quoted JSON string.
std::string JsonString(std::string_view value);

}  // namespace strata
