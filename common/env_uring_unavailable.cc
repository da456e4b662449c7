// Env::IoUring when Strata was built without liburing: the io_uring engine
// is simply not there, and selecting it is an error that says how to get it.
#include "common/env.h"

namespace strata {

Env* Env::IoUring(Status* status) {
  *status = Status::Unsupported(
      "io_uring support was not built: install liburing-dev (Debian/Ubuntu) and run configure again");
  return nullptr;
}

}  // namespace strata
