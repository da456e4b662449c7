// AdminClient: a small blocking HTTP/1.1 client for the daemon's admin
// listener (`--admin HOST:PORT`). One request per connection
// (Connection: close); the response body is read to its Content-Length,
// chunked end, or the close. Timeouts bound every step, so a wedged daemon
// cannot hang an operator's shell.
//
// The paths strata-cache uses: POST /purge?url=<percent-encoded URL> and
// GET /stats (JSON).
//
// Thread-safety: a plain value; one request at a time.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace strata::tool {

struct AdminResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
};

class AdminClient {
 public:
  // `address` is HOST:PORT ([v6]:PORT for IPv6).
  explicit AdminClient(std::string address, std::chrono::seconds timeout = std::chrono::seconds(10))
      : address_(std::move(address)), timeout_(timeout) {}

  // IOError when the listener cannot be reached or answers garbage.
  Status Request(const std::string& method, const std::string& target, AdminResponse* out) const;

 private:
  std::string address_;
  std::chrono::seconds timeout_;
};

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string PercentEncode(const std::string& s);

}  // namespace strata::tool
