#include "tools/json.h"

#include <cstdio>

#include "common/json_escape.h"

namespace strata::tool {
namespace {

void Quote(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

void Newline(std::string* out, int indent, int depth) {
  if (indent < 0) return;
  out->push_back('\n');
  out->append(static_cast<size_t>(indent * depth), ' ');
}

// Text of a value inside a table cell or a "key: value" line: scalars as
// they read, arrays of scalars joined, anything else compact JSON.
// Control characters (a Vary secondary key holds newlines) would break the
// layout: they are shown escaped.
std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string CellText(const Json& v) {
  if (v.is_scalar()) return Printable(v.ScalarText());
  if (v.type() == Json::Type::kArray) {
    bool flat = true;
    for (const Json& item : v.items()) flat = flat && item.is_scalar();
    if (flat) {
      if (v.empty()) return "-";
      std::string joined;
      for (const Json& item : v.items()) joined += (joined.empty() ? "" : ", ") + Printable(item.ScalarText());
      return joined;
    }
  }
  return v.Dump(-1);
}

bool IsFlat(const Json& v) {
  if (v.is_scalar()) return true;
  if (v.type() != Json::Type::kArray) return false;
  for (const Json& item : v.items()) {
    if (!item.is_scalar()) return false;
  }
  return true;
}

bool IsObjectList(const Json& v) {
  if (v.type() != Json::Type::kArray || v.empty()) return false;
  for (const Json& item : v.items()) {
    if (item.type() != Json::Type::kObject) return false;
  }
  return true;
}

// Objects whose members are all flat: one table row each.
bool IsTable(const Json& v) {
  if (!IsObjectList(v)) return false;
  for (const Json& item : v.items()) {
    for (const auto& [key, value] : item.members()) {
      if (!IsFlat(value)) return false;
    }
  }
  return true;
}

bool IsNumber(const Json& v) {
  return v.type() == Json::Type::kInt || v.type() == Json::Type::kUint || v.type() == Json::Type::kDouble;
}

void RenderTable(const Json& rows, const std::string& pad, std::string* out) {
  std::vector<std::string> columns;
  for (const Json& row : rows.items()) {
    for (const auto& [key, value] : row.members()) {
      bool known = false;
      for (const std::string& c : columns) known = known || c == key;
      if (!known) columns.push_back(key);
    }
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<std::vector<bool>> right;
  std::vector<size_t> width(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) width[c] = columns[c].size();
  for (const Json& row : rows.items()) {
    cells.emplace_back();
    right.emplace_back();
    for (size_t c = 0; c < columns.size(); ++c) {
      const Json* v = row.Get(columns[c]);
      cells.back().push_back(v == nullptr ? "-" : CellText(*v));
      right.back().push_back(v != nullptr && IsNumber(*v));
      width[c] = std::max(width[c], cells.back().back().size());
    }
  }
  auto emit = [&](const std::vector<std::string>& line, const std::vector<bool>* align) {
    std::string text = pad;
    for (size_t c = 0; c < line.size(); ++c) {
      std::string fill(width[c] - std::min(width[c], line[c].size()), ' ');
      bool r = align != nullptr && (*align)[c];
      text += r ? fill + line[c] : line[c] + (c + 1 < line.size() ? fill : "");
      if (c + 1 < line.size()) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out->append(text).push_back('\n');
  };
  emit(columns, nullptr);
  for (size_t r = 0; r < cells.size(); ++r) emit(cells[r], &right[r]);
}

void RenderObject(const Json& object, int depth, std::string* out) {
  std::string pad(static_cast<size_t>(depth) * 2, ' ');
  size_t key_width = 0;
  for (const auto& [key, value] : object.members()) {
    if (!IsObjectList(value) && value.type() != Json::Type::kObject) key_width = std::max(key_width, key.size());
  }
  for (const auto& [key, value] : object.members()) {
    if (value.type() == Json::Type::kObject) {
      out->append(pad + key + ":\n");
      RenderObject(value, depth + 1, out);
    } else if (IsObjectList(value) && !IsTable(value)) {
      // Rows too rich for a table: one section per item.
      for (size_t i = 0; i < value.size(); ++i) {
        out->append(pad + key + "[" + std::to_string(i) + "]:\n");
        RenderObject(value.items()[i], depth + 1, out);
      }
    } else if (IsTable(value)) {
      out->append(pad + key + ":\n");
      RenderTable(value, pad + "  ", out);
    } else {
      out->append(pad + key + ":" + std::string(key_width - key.size() + 1, ' ') + CellText(value) + "\n");
    }
  }
}

}  // namespace

Json& Json::Set(std::string_view key, Json value) {
  type_ = Type::kObject;
  for (auto& [k, v] : members_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  members_.emplace_back(std::string(key), std::move(value));
  return *this;
}

Json& Json::Push(Json value) {
  type_ = Type::kArray;
  items_.push_back(std::move(value));
  return *this;
}

const Json* Json::Get(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Json::ScalarText() const {
  switch (type_) {
    case Type::kNull:
      return "-";
    case Type::kBool:
      return bool_ ? "yes" : "no";
    case Type::kString:
      return string_;
    default:
      return Dump(-1);
  }
}

std::string Json::Dump(int indent) const {
  std::string out;
  DumpTo(&out, indent, 0);
  return out;
}

void Json::DumpTo(std::string* out, int indent, int depth) const {
  char buf[32];
  switch (type_) {
    case Type::kNull:
      out->append("null");
      return;
    case Type::kBool:
      out->append(bool_ ? "true" : "false");
      return;
    case Type::kInt:
      out->append(std::to_string(int_));
      return;
    case Type::kUint:
      out->append(std::to_string(uint_));
      return;
    case Type::kDouble:
      snprintf(buf, sizeof(buf), "%.2f", double_);
      out->append(buf);
      return;
    case Type::kString:
      Quote(string_, out);
      return;
    case Type::kArray:
      out->push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i > 0) out->push_back(',');
        Newline(out, indent, depth + 1);
        items_[i].DumpTo(out, indent, depth + 1);
      }
      if (!items_.empty()) Newline(out, indent, depth);
      out->push_back(']');
      return;
    case Type::kObject:
      out->push_back('{');
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i > 0) out->push_back(',');
        Newline(out, indent, depth + 1);
        Quote(members_[i].first, out);
        out->append(indent < 0 ? ":" : ": ");
        members_[i].second.DumpTo(out, indent, depth + 1);
      }
      if (!members_.empty()) Newline(out, indent, depth);
      out->push_back('}');
      return;
  }
}

std::string RenderText(const Json& value) {
  std::string out;
  if (value.type() == Json::Type::kObject) {
    RenderObject(value, 0, &out);
  } else if (IsTable(value)) {
    RenderTable(value, "", &out);
  } else {
    out = CellText(value) + "\n";
  }
  return out;
}

}  // namespace strata::tool
