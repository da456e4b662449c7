// Reading and writing a socket bufferevent's buffers from the current
// callback, where libevent's own I/O costs system calls for nothing.
//
// Writing: libevent writes a socket bufferevent's output only after the loop
// has reported the socket writable: an epoll_ctl to ask, an epoll_wait to
// hear, and one more epoll_ctl to stop asking. A response or a request head
// almost always fits the socket buffer, so writing it at once saves all three.
//
// Reading: libevent 2.1 reads at most 4 KB per read (EVBUFFER_MAX_READ), with
// an ioctl(FIONREAD) before each, and runs the read callback after each: a
// 16 KB response from an origin took 4 reads, 4 ioctls, 4 callbacks and so
// 4 writes to the client.
#pragma once

#include <event2/bufferevent.h>

#include <cstddef>

namespace strata {

// The most one write takes from an output buffer. libevent's default, 16 KB,
// splits a 16 KB response in two writes.
constexpr ev_ssize_t kMaxSingleWrite = 1 << 20;

// Writes as much of bev's output as the socket takes. True when nothing is
// left; false when bytes are left or the write failed, in which case the
// caller enables EV_WRITE and libevent's own write finishes the job (or
// reports the error through the event callback, as it would have anyway).
bool WriteSocketNow(bufferevent* bev);

// After the bufferevent's own read, reads what else the socket has now, up to
// `max` more bytes, into bev's input, in large reads. Returns the bytes read.
// End of file and errors are left to the bufferevent's next read, which
// reports them through the event callback as always.
size_t ReadSocketMore(bufferevent* bev, size_t max);

}  // namespace strata
