// Json: the one result model of strata-cache. Every command builds a Json
// value; `--json` prints it as JSON, otherwise RenderText prints the same
// value for humans (objects as aligned "key: value" lines, arrays of objects
// as tables), so the two outputs never say different things.
//
// Objects keep their keys in insertion order. Strings are bytes; Dump
// escapes what JSON requires and writes bytes that are not valid UTF-8 as
// \u00XX (Latin-1), so the output is always valid JSON.
//
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::tool {

class Json {
 public:
  enum class Type { kNull, kBool, kInt, kUint, kDouble, kString, kArray, kObject };

  Json() = default;
  Json(bool v) : type_(Type::kBool), bool_(v) {}
  Json(int v) : type_(Type::kInt), int_(v) {}
  Json(long v) : type_(Type::kInt), int_(v) {}
  Json(long long v) : type_(Type::kInt), int_(v) {}
  Json(unsigned v) : type_(Type::kUint), uint_(v) {}
  Json(unsigned long v) : type_(Type::kUint), uint_(v) {}
  Json(unsigned long long v) : type_(Type::kUint), uint_(v) {}
  Json(double v) : type_(Type::kDouble), double_(v) {}
  Json(const char* v) : type_(Type::kString), string_(v) {}
  Json(std::string v) : type_(Type::kString), string_(std::move(v)) {}
  Json(std::string_view v) : type_(Type::kString), string_(v) {}

  static Json Array() { return Json(Type::kArray); }
  static Json Object() { return Json(Type::kObject); }

  Type type() const { return type_; }
  bool is_scalar() const { return type_ != Type::kArray && type_ != Type::kObject; }

  // Object: appends (or replaces) key. Returns *this for chaining.
  Json& Set(std::string_view key, Json value);
  // Array: appends.
  Json& Push(Json value);

  // Object member, or nullptr.
  const Json* Get(std::string_view key) const;
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }
  const std::vector<Json>& items() const { return items_; }
  size_t size() const { return type_ == Type::kArray ? items_.size() : members_.size(); }
  bool empty() const { return size() == 0; }

  // Compact JSON (indent < 0) or pretty-printed with `indent` spaces.
  std::string Dump(int indent = 2) const;
  // A scalar as a human reads it: strings unquoted, null as "-".
  std::string ScalarText() const;

 private:
  explicit Json(Type type) : type_(type) {}
  void DumpTo(std::string* out, int indent, int depth) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  uint64_t uint_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// The human form of `value` (normally an object): scalars as "key: value"
// lines with aligned values, nested objects as indented sections, arrays of
// objects as tables whose columns are the union of the rows' keys, arrays of
// scalars joined with ", ".
std::string RenderText(const Json& value);

}  // namespace strata::tool
