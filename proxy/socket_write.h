// Writing a socket bufferevent's output now, from the current callback.
//
// libevent writes a socket bufferevent's output only after the loop has
// reported the socket writable: an epoll_ctl to ask, an epoll_wait to hear,
// and one more epoll_ctl to stop asking. A response or a request head almost
// always fits the socket buffer, so writing it at once saves all three.
#pragma once

#include <event2/bufferevent.h>

namespace strata {

// The most one write takes from an output buffer. libevent's default, 16 KB,
// splits a 16 KB response in two writes.
constexpr ev_ssize_t kMaxSingleWrite = 1 << 20;

// Writes as much of bev's output as the socket takes. True when nothing is
// left; false when bytes are left or the write failed, in which case the
// caller enables EV_WRITE and libevent's own write finishes the job (or
// reports the error through the event callback, as it would have anyway).
bool WriteSocketNow(bufferevent* bev);

}  // namespace strata
