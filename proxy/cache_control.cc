#include "proxy/cache_control.h"

#include <algorithm>
#include <cctype>

namespace strata::http {
namespace {

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits a list on commas that are not inside a quoted-string.
template <typename Fn>
void ForEachQuotedListElement(std::string_view value, Fn&& fn) {
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size()) {
      char c = value[i];
      if (quoted) {
        if (c == '\\')
          ++i;  // quoted-pair: skip the escaped octet
        else if (c == '"')
          quoted = false;
        continue;
      }
      if (c == '"') quoted = true;
      if (c != ',') continue;
    }
    std::string_view element = TrimOws(value.substr(start, i - start));
    if (!element.empty()) fn(element);
    start = i + 1;
  }
}

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE, occupying all of
// `s`. Writes the unescaped content.
bool ParseQuotedString(std::string_view s, std::string* out) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  out->clear();
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return false;
    if (c == '\\') {
      if (++i + 1 >= s.size()) return false;
      c = s[i];
    }
    out->push_back(c);
  }
  return true;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  return true;
}

// The #field-name list of qualified no-cache / private.
std::vector<std::string> FieldNameList(std::string_view arg) {
  std::vector<std::string> names;
  ForEachListElement(arg, [&](std::string_view name) { names.push_back(Lower(name)); });
  return names;
}

void AddNames(std::vector<std::string>* to, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (std::find(to->begin(), to->end(), n) == to->end()) to->push_back(n);
}

// max-age and s-maxage: invalid or conflicting → invalid (stale), sticky.
void SetFreshness(std::optional<int64_t>* slot, bool* invalid, bool valid, int64_t v) {
  if (*invalid) return;
  if (!valid || (slot->has_value() && **slot != v)) {
    *invalid = true;
    slot->reset();
    return;
  }
  *slot = v;
}

void SetMin(std::optional<int64_t>* slot, int64_t v) { *slot = slot->has_value() ? std::min(**slot, v) : v; }
void SetMax(std::optional<int64_t>* slot, int64_t v) { *slot = slot->has_value() ? std::max(**slot, v) : v; }

// One directive, in the form shared by both syntaxes. `has_arg` false means
// no argument; `arg` is unquoted. `numeric_ok` tells whether `arg` holds a
// valid delta-seconds (`seconds`); `list_ok` whether it may be a field list.
struct Directive {
  std::string name;  // lowercase
  bool has_arg = false;
  std::string arg;
  bool malformed = false;  // element did not match the grammar
};

void Apply(const Directive& d, CacheControl* cc) {
  int64_t seconds = 0;
  bool numeric = !d.malformed && d.has_arg && ParseDeltaSeconds(d.arg, &seconds);
  const std::string& n = d.name;
  if (n == "max-age") {
    SetFreshness(&cc->max_age, &cc->max_age_invalid, numeric, seconds);
  } else if (n == "s-maxage") {
    SetFreshness(&cc->s_maxage, &cc->s_maxage_invalid, numeric, seconds);
  } else if (d.malformed) {
    return;
  } else if (n == "no-store") {
    cc->no_store = true;
  } else if (n == "no-cache" || n == "private") {
    std::vector<std::string> names = d.has_arg ? FieldNameList(d.arg) : std::vector<std::string>();
    bool is_no_cache = n == "no-cache";
    // An empty qualified list restricts nothing by its letter; the
    // unqualified meaning is the restrictive reading, so use it.
    if (names.empty())
      (is_no_cache ? cc->no_cache : cc->is_private) = true;
    else
      AddNames(is_no_cache ? &cc->no_cache_fields : &cc->private_fields, names);
  } else if (n == "must-revalidate") {
    cc->must_revalidate = true;
  } else if (n == "proxy-revalidate") {
    cc->proxy_revalidate = true;
  } else if (n == "no-transform") {
    cc->no_transform = true;
  } else if (n == "only-if-cached") {
    cc->only_if_cached = true;
  } else if (n == "public") {
    if (!d.has_arg) cc->is_public = true;
  } else if (n == "immutable") {
    if (!d.has_arg) cc->immutable = true;
  } else if (n == "must-understand") {
    if (!d.has_arg) cc->must_understand = true;
  } else if (n == "stale-while-revalidate") {
    if (numeric) SetMin(&cc->stale_while_revalidate, seconds);
  } else if (n == "stale-if-error") {
    if (numeric) SetMin(&cc->stale_if_error, seconds);
  } else if (n == "min-fresh") {
    if (numeric) SetMax(&cc->min_fresh, seconds);
  } else if (n == "max-stale") {
    if (!d.has_arg)
      cc->max_stale_any = true;
    else if (numeric)
      SetMin(&cc->max_stale, seconds);
  }
}

// ---- RFC 8941 Dictionary parsing, just enough for targeted fields. ----

struct SfValue {
  enum Kind { kBoolean, kInteger, kDecimal, kString, kToken, kBinary, kInnerList } kind = kBoolean;
  bool boolean = true;
  int64_t integer = 0;
  std::string text;
};

class SfParser {
 public:
  explicit SfParser(std::string_view s) : s_(s) {}

  // RFC 8941 §4.2.2. Calls fn(key, value) per member in order.
  template <typename Fn>
  bool Dictionary(Fn&& fn) {
    SkipSp();
    if (AtEnd()) return false;  // empty: ignored by RFC 9213
    while (true) {
      std::string key;
      if (!Key(&key)) return false;
      SfValue value;
      if (Peek('=')) {
        ++pos_;
        if (!MemberValue(&value)) return false;
      } else if (!Parameters()) {
        return false;
      }
      fn(key, value);
      SkipOws();
      if (AtEnd()) return true;
      if (!Peek(',')) return false;
      ++pos_;
      SkipOws();
      if (AtEnd()) return false;  // trailing comma
    }
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;

  bool AtEnd() const { return pos_ >= s_.size(); }
  bool Peek(char c) const { return !AtEnd() && s_[pos_] == c; }
  void SkipSp() {
    while (Peek(' ')) ++pos_;
  }
  void SkipOws() {
    while (!AtEnd() && IsOws(s_[pos_])) ++pos_;
  }
  static bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsAlpha(char c) { return IsLcAlpha(c) || (c >= 'A' && c <= 'Z'); }

  // key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
  bool Key(std::string* key) {
    if (AtEnd() || !(IsLcAlpha(s_[pos_]) || s_[pos_] == '*')) return false;
    while (!AtEnd()) {
      char c = s_[pos_];
      if (!(IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '.' || c == '*')) break;
      key->push_back(c);
      ++pos_;
    }
    return true;
  }

  bool MemberValue(SfValue* v) {
    if (Peek('(')) {
      ++pos_;
      v->kind = SfValue::kInnerList;
      while (true) {
        SkipSp();
        if (Peek(')')) {
          ++pos_;
          return Parameters();
        }
        SfValue item;
        if (!BareItem(&item) || !Parameters()) return false;
        if (!Peek(' ') && !Peek(')')) return false;
      }
    }
    return BareItem(v) && Parameters();
  }

  bool Parameters() {
    while (Peek(';')) {
      ++pos_;
      SkipSp();
      std::string key;
      if (!Key(&key)) return false;
      SfValue ignored;  // RFC 9213 §2.1: parameters are ignored
      if (Peek('=')) {
        ++pos_;
        if (!BareItem(&ignored)) return false;
      }
    }
    return true;
  }

  bool BareItem(SfValue* v) {
    if (AtEnd()) return false;
    char c = s_[pos_];
    if (c == '-' || IsDigit(c)) return Number(v);
    if (c == '"') return String(v);
    if (c == '*' || IsAlpha(c)) return Token(v);
    if (c == ':') return Binary(v);
    if (c == '?') {
      if (pos_ + 1 >= s_.size() || (s_[pos_ + 1] != '0' && s_[pos_ + 1] != '1')) return false;
      v->kind = SfValue::kBoolean;
      v->boolean = s_[pos_ + 1] == '1';
      pos_ += 2;
      return true;
    }
    return false;
  }

  // RFC 8941 §4.2.4.
  bool Number(SfValue* v) {
    bool negative = Peek('-');
    if (negative) ++pos_;
    if (AtEnd() || !IsDigit(s_[pos_])) return false;
    int64_t integer = 0;
    size_t digits = 0, frac_digits = 0;
    bool decimal = false;
    while (!AtEnd()) {
      char c = s_[pos_];
      if (IsDigit(c)) {
        if (decimal)
          ++frac_digits;
        else
          integer = integer * 10 + (c - '0'), ++digits;
        if (decimal ? frac_digits > 3 : digits > 15) return false;
      } else if (c == '.' && !decimal) {
        if (digits > 12) return false;
        decimal = true;
      } else {
        break;
      }
      ++pos_;
    }
    if (decimal && frac_digits == 0) return false;
    v->kind = decimal ? SfValue::kDecimal : SfValue::kInteger;
    v->integer = negative ? -integer : integer;
    return true;
  }

  bool String(SfValue* v) {
    ++pos_;
    v->kind = SfValue::kString;
    while (!AtEnd()) {
      char c = s_[pos_++];
      if (c == '\\') {
        if (AtEnd() || (s_[pos_] != '"' && s_[pos_] != '\\')) return false;
        v->text.push_back(s_[pos_++]);
      } else if (c == '"') {
        return true;
      } else if (c < 0x20 || c > 0x7e) {
        return false;
      } else {
        v->text.push_back(c);
      }
    }
    return false;
  }

  bool Token(SfValue* v) {
    v->kind = SfValue::kToken;
    while (!AtEnd()) {
      char c = s_[pos_];
      if (!IsTokenChar(static_cast<unsigned char>(c)) && c != ':' && c != '/') break;
      v->text.push_back(c);
      ++pos_;
    }
    return true;
  }

  bool Binary(SfValue* v) {
    ++pos_;
    v->kind = SfValue::kBinary;
    while (!AtEnd()) {
      char c = s_[pos_++];
      if (c == ':') return true;
      if (!(IsAlpha(c) || IsDigit(c) || c == '+' || c == '/' || c == '=')) return false;
    }
    return false;
  }
};

// RFC 9213 §2.1: map SF types onto directive arguments; a value of the wrong
// type is not consumed (the directive is ignored).
void ApplyTargeted(const std::string& key, const SfValue& v, CacheControl* cc) {
  bool is_true = v.kind == SfValue::kBoolean && v.boolean;
  bool is_seconds = v.kind == SfValue::kInteger && v.integer >= 0;
  int64_t seconds = std::min(v.integer, kDeltaSecondsInfinity);
  if (key == "max-age" || key == "s-maxage" || key == "stale-while-revalidate" || key == "stale-if-error") {
    if (!is_seconds) return;
    if (key == "max-age")
      cc->max_age = seconds;
    else if (key == "s-maxage")
      cc->s_maxage = seconds;
    else if (key == "stale-while-revalidate")
      cc->stale_while_revalidate = seconds;
    else
      cc->stale_if_error = seconds;
  } else if (key == "no-cache" || key == "private") {
    bool is_no_cache = key == "no-cache";
    if (is_true) {
      (is_no_cache ? cc->no_cache : cc->is_private) = true;
    } else if (v.kind == SfValue::kString) {
      std::vector<std::string> names = FieldNameList(v.text);
      if (names.empty())
        (is_no_cache ? cc->no_cache : cc->is_private) = true;
      else
        AddNames(is_no_cache ? &cc->no_cache_fields : &cc->private_fields, names);
    }
  } else if (is_true) {
    if (key == "no-store")
      cc->no_store = true;
    else if (key == "public")
      cc->is_public = true;
    else if (key == "must-revalidate")
      cc->must_revalidate = true;
    else if (key == "proxy-revalidate")
      cc->proxy_revalidate = true;
    else if (key == "must-understand")
      cc->must_understand = true;
    else if (key == "no-transform")
      cc->no_transform = true;
    else if (key == "immutable")
      cc->immutable = true;
  }
}

}  // namespace

bool ParseDeltaSeconds(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
    if (v > kDeltaSecondsInfinity) v = kDeltaSecondsInfinity;  // §1.2.2; also stops overflow
  }
  *out = v;
  return true;
}

void ParseCacheControlValue(std::string_view value, CacheControl* cc) {
  cc->present = true;
  ForEachQuotedListElement(value, [&](std::string_view element) {
    size_t name_end = 0;
    while (name_end < element.size() && IsTokenChar(static_cast<unsigned char>(element[name_end]))) ++name_end;
    if (name_end == 0) return;  // not a directive at all
    Directive d;
    d.name = Lower(element.substr(0, name_end));
    std::string_view rest = element.substr(name_end);
    if (!rest.empty()) {
      if (rest.front() != '=') {
        d.malformed = true;  // e.g. "max-age =5"
      } else {
        d.has_arg = true;
        rest.remove_prefix(1);
        if (!rest.empty() && rest.front() == '"')
          d.malformed = !ParseQuotedString(rest, &d.arg);
        else if (IsToken(rest))
          d.arg = std::string(rest);
        else
          d.malformed = true;  // "max-age= 5", "max-age=5 6", "max-age=", ...
      }
    }
    Apply(d, cc);
  });
}

CacheControl ParseCacheControl(std::span<const Field> fields, std::string_view name) {
  CacheControl cc;
  for (const Field& f : fields)
    if (EqualsIgnoreCase(f.name, name)) ParseCacheControlValue(f.value, &cc);
  return cc;
}

bool ParseTargetedCacheControl(std::span<const Field> fields, std::string_view name, CacheControl* out) {
  std::string combined;
  bool found = false;
  for (const Field& f : fields) {
    if (!EqualsIgnoreCase(f.name, name)) continue;
    if (found) combined += ", ";
    combined += f.value;
    found = true;
  }
  if (!found) return false;
  std::vector<std::pair<std::string, SfValue>> members;
  SfParser parser(TrimOws(combined));
  bool ok = parser.Dictionary([&](std::string key, SfValue value) {
    // RFC 8941: a repeated key overwrites the earlier value.
    for (auto& m : members) {
      if (m.first == key) {
        m.second = std::move(value);
        return;
      }
    }
    members.emplace_back(std::move(key), std::move(value));
  });
  if (!ok) return false;
  CacheControl cc;
  cc.present = true;
  for (const auto& [key, value] : members) ApplyTargeted(key, value, &cc);
  *out = std::move(cc);
  return true;
}

CacheControl EffectiveResponseCacheControl(std::span<const Field> fields, bool* targeted) {
  CacheControl cc;
  bool used = ParseTargetedCacheControl(fields, kStrataCacheControl, &cc) ||
              ParseTargetedCacheControl(fields, kCdnCacheControl, &cc);
  if (targeted) *targeted = used;
  return used ? cc : ParseCacheControl(fields);
}

}  // namespace strata::http
