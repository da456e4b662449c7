#include "common/status.h"

namespace strata {

std::string Status::ToString() const {
  const char* name = "ok";
  switch (kind_) {
    case Kind::kOk:
      return "ok";
    case Kind::kNotFound:
      name = "not found";
      break;
    case Kind::kInvalidArgument:
      name = "invalid argument";
      break;
    case Kind::kCorruption:
      name = "corruption";
      break;
    case Kind::kIOError:
      name = "I/O error";
      break;
    case Kind::kBusy:
      name = "busy";
      break;
    case Kind::kUnsupported:
      name = "unsupported";
      break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace strata
