// Status: the result of an operation that can fail, carried as a value.
//
// Errors cross module boundaries as Status values, never as exceptions. A
// Status is either OK or one of a few named kinds with a human-readable
// message; config errors put "file:line: problem" in the message.
//
// Thread-safety: a Status is a plain value; copy it freely.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace strata {

class Status {
 public:
  enum class Kind { kOk, kNotFound, kInvalidArgument, kCorruption, kIOError, kBusy, kUnsupported };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Kind::kNotFound, std::move(msg)); }
  static Status InvalidArgument(std::string msg) { return Status(Kind::kInvalidArgument, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Kind::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Kind::kIOError, std::move(msg)); }
  static Status Busy(std::string msg) { return Status(Kind::kBusy, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Kind::kUnsupported, std::move(msg)); }

  bool ok() const { return kind_ == Kind::kOk; }
  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  // "ok", or "<kind>: <message>".
  std::string ToString() const;

 private:
  Status(Kind kind, std::string msg) : kind_(kind), message_(std::move(msg)) {}

  Kind kind_ = Kind::kOk;
  std::string message_;
};

}  // namespace strata
