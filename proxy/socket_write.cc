#include "proxy/socket_write.h"

#include <event2/buffer.h>

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

}  // namespace strata
