#include "proxy/socket_io.h"

#include <event2/buffer.h>
#include <sys/uio.h>

#include <algorithm>

namespace strata {

bool WriteSocketNow(bufferevent* bev) {
  evbuffer* out = bufferevent_get_output(bev);
  if (evbuffer_get_length(out) == 0) return true;
  // A socket bufferevent keeps its output's front frozen so that only its
  // write callback drains it; that callback thaws it the same way.
  evbuffer_unfreeze(out, /*at_front=*/1);
  int written = evbuffer_write_atmost(out, bufferevent_getfd(bev), kMaxSingleWrite);
  evbuffer_freeze(out, /*at_front=*/1);
  return written >= 0 && evbuffer_get_length(out) == 0;
}

size_t ReadSocketMore(bufferevent* bev, size_t max) {
  constexpr size_t kReadBytes = 64 * 1024;
  evbuffer* in = bufferevent_get_input(bev);
  evutil_socket_t fd = bufferevent_getfd(bev);
  size_t total = 0;
  // The input's end is frozen the way the output's front is (see above).
  evbuffer_unfreeze(in, /*at_front=*/0);
  while (total < max) {
    size_t want = std::min(max - total, kReadBytes);
    evbuffer_iovec vec[2];
    int n = evbuffer_reserve_space(in, static_cast<ev_ssize_t>(want), vec, 2);
    if (n <= 0) break;
    iovec iov[2];
    for (int i = 0; i < n; ++i) {
      iov[i].iov_base = vec[i].iov_base;
      iov[i].iov_len = std::min(vec[i].iov_len, want - (i == 0 ? 0 : iov[0].iov_len));
    }
    ssize_t got = readv(fd, iov, n);
    if (got <= 0) {
      evbuffer_commit_space(in, vec, 0);
      break;
    }
    size_t left = static_cast<size_t>(got);
    int used = 0;
    for (int i = 0; i < n && left > 0; ++i, ++used) {
      vec[i].iov_len = std::min(left, iov[i].iov_len);
      left -= vec[i].iov_len;
    }
    evbuffer_commit_space(in, vec, used);
    total += static_cast<size_t>(got);
    if (static_cast<size_t>(got) < want) break;  // the socket is drained
  }
  evbuffer_freeze(in, /*at_front=*/0);
  return total;
}

}  // namespace strata
