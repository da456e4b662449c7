#include "tools/admin_client.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace strata::tool {
namespace {

bool SplitAddress(const std::string& address, std::string* host, std::string* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  return true;
}

// Decodes a chunked body; false if it is malformed or incomplete.
bool Unchunk(const std::string& in, std::string* out) {
  size_t pos = 0;
  for (;;) {
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    char* end = nullptr;
    unsigned long size = strtoul(in.c_str() + pos, &end, 16);
    if (end == in.c_str() + pos) return false;
    pos = eol + 2;
    if (size == 0) return true;
    if (pos + size + 2 > in.size()) return false;
    out->append(in, pos, size);
    pos += size + 2;
  }
}

}  // namespace

std::string PercentEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status AdminClient::Request(const std::string& method, const std::string& target, AdminResponse* out) const {
  std::string host, port;
  if (!SplitAddress(address_, &host, &port)) return Status::InvalidArgument("--admin wants HOST:PORT, got " + address_);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return Status::IOError("admin " + address_ + ": " + gai_strerror(rc));
  int fd = -1;
  std::string why;
  timeval tv{static_cast<time_t>(timeout_.count()), 0};
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_SNDTIMEO also bounds connect(2) on Linux.
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      why = strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return Status::IOError("cannot connect to the admin listener " + address_ + ": " + why);

  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + address_ +
                        "\r\nContent-Length: 0\r\nConnection: close\r\nUser-Agent: strata-cache\r\n\r\n";
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      close(fd);
      return Status::IOError("admin " + address_ + ": send: " + strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Status::IOError("admin " + address_ + ": " +
                             (err == EAGAIN ? std::string("no answer within the timeout") : strerror(err)));
    }
    if (n == 0) break;
    response.append(buf, static_cast<size_t>(n));
    if (response.size() > (64u << 20)) break;
  }
  close(fd);

  size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos || response.compare(0, 5, "HTTP/") != 0) {
    return Status::IOError("admin " + address_ + ": not an HTTP response");
  }
  size_t sp = response.find(' ');
  out->status = atoi(response.c_str() + sp + 1);
  bool chunked = false;
  size_t content_length = std::string::npos;
  size_t line = response.find("\r\n") + 2;
  while (line < head_end) {
    size_t eol = response.find("\r\n", line);
    std::string field = response.substr(line, eol - line);
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      std::string name = field.substr(0, colon);
      std::string value = field.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
      if (name == "content-length") content_length = strtoul(value.c_str(), nullptr, 10);
      out->fields.emplace_back(name, value);
    }
    line = eol + 2;
  }
  std::string body = response.substr(head_end + 4);
  if (chunked) {
    if (!Unchunk(body, &out->body)) return Status::IOError("admin " + address_ + ": bad chunked body");
  } else {
    out->body = content_length == std::string::npos ? body : body.substr(0, content_length);
  }
  return Status::OK();
}

}  // namespace strata::tool
