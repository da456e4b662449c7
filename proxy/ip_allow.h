// IpAllow: ip_allow.yaml, which says which clients may use which methods
// (ATS syntax). Strata enforces the `apply: in` rules, against the address of
// the client connection; `apply: out` rules are parsed and kept (checked like
// any other) but not enforced yet.
//
// File format (ATS 9/10):
//   ip_allow:                      a list of rules (a single rule mapping is
//     - apply: in                  also accepted, as ATS does)
//       ip_addrs: 10.0.0.0/8       one range or a list of them
//       action: allow              allow | deny (also set_allow | set_deny)
//       methods: [GET, HEAD]       one method or a list; ALL = every method
// Rule keys: `apply` (in|out), `ip_addrs` and `action` are required; `methods`
// is optional and defaults to ALL, as in ATS. Any other key is an error
// (ATS 10's `ip_categories` needs a categories file Strata does not have, so
// it is reported as unsupported).
// An address range is one of
//   a single address       192.0.2.1   2001:db8::1
//   CIDR                   10.0.0.0/8  2001:db8::/32   (host bits are cleared,
//                          as ATS does; `0/0` is ATS's spelling of 0.0.0.0/0)
//   two addresses, a-b     10.0.0.5-10.0.0.9 (inclusive, same family, a <= b)
// Method names must be tokens (RFC 9110 §5.6.2). They are matched ASCII
// case-insensitively: RFC 9110 methods are case-sensitive, but an access list
// where `deny: [PURGE]` let "purge" through would be a trap, and ATS matches
// its well-known methods the same way.
// `set_allow`/`set_deny` are ATS 10's names for the same two actions in
// remap.config ACL filters; they are accepted here as synonyms of allow/deny.
// `add_allow`/`add_deny` (additive, remap.config only) are rejected.
//
// ADMIN is not an HTTP method: the admin listener (proxy/admin_server.h)
// asks Allowed(client, "ADMIN") for every request it gets, so the same rules
// say who may use the admin API. Like any method, ADMIN is granted by ALL.
//
// Semantics (ATS's): rules are tried in file order and the first `in` rule
// whose ip_addrs contain the client address decides. `allow`: the listed
// methods are allowed, all others denied. `deny`: the listed methods are
// denied, all others allowed. No matching rule: everything is denied (so
// `ip_allow: []` denies every client). IPv4 rules also match IPv4-mapped IPv6
// clients (::ffff:a.b.c.d, what a dual-stack listener reports for an IPv4
// peer); IPv6 rules match other IPv6 addresses only.
//
// Errors: Parse reports every problem, one "file:line: problem" line each
// (YAML syntax, a missing top-level `ip_allow`, unknown keys, bad address,
// bad CIDR prefix, bad range, bad action or apply, bad method, missing
// required keys); on error *out is unchanged.
//
// Thread-safety: an IpAllow is built by one thread, then only read; Allowed
// is const and safe from any number of threads at once.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace strata {

class IpAllow {
 public:
  // An inclusive range of addresses of one family. IPv4 addresses use the
  // first 4 bytes of `lo`/`hi`; bytes are in network order, so ranges compare
  // with memcmp.
  struct AddrRange {
    int family = AF_INET;  // AF_INET or AF_INET6
    std::array<uint8_t, 16> lo{};
    std::array<uint8_t, 16> hi{};
  };

  enum class Apply { kIn, kOut };
  enum class Action { kAllow, kDeny };

  struct Rule {
    Apply apply = Apply::kIn;
    Action action = Action::kAllow;
    std::vector<AddrRange> ranges;
    bool all_methods = false;          // methods: ALL (or no methods key)
    std::vector<std::string> methods;  // as written, when !all_methods
    int line = 0;                      // where the rule starts in the file
  };

  // Reads and parses an ip_allow.yaml; NotFound when it cannot be opened.
  static Status Load(const std::string& path, IpAllow* out);

  // Parses ip_allow.yaml text; `file_name` prefixes the error lines.
  static Status Parse(std::string_view yaml, const std::string& file_name, IpAllow* out);

  // The rules used when the config directory has no ip_allow.yaml, the same
  // as the shipped etc/ip_allow.yaml: 127.0.0.1 and ::1 may use every method;
  // every other client (IPv4 or IPv6) every method except PURGE and ADMIN.
  static IpAllow Default();

  // Whether `client` (AF_INET or AF_INET6; anything else is denied) may use
  // `method`, by the `in` rules.
  bool Allowed(const sockaddr* client, std::string_view method) const;

  // The same for an address in text form ("192.0.2.1", "::1",
  // "::ffff:192.0.2.1"); text that is not an address is denied.
  bool Allowed(std::string_view ip_text, std::string_view method) const;

  const std::vector<Rule>& rules() const { return rules_; }

 private:
  // family AF_INET: addr holds 4 bytes; AF_INET6: 16 (never v4-mapped).
  bool AllowedAddr(int family, const uint8_t* addr, std::string_view method) const;

  std::vector<Rule> rules_;
};

}  // namespace strata
