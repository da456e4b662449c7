// Tests for ip_allow.yaml: every address form, first-match semantics, ALL,
// deny rules, the built-in default, IPv4-mapped clients, the shipped file and
// each error with its line number.

#include "proxy/ip_allow.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>

#include <string>

namespace strata {
namespace {

// Rules parsed from `yaml`; the test fails if they do not parse.
IpAllow Rules(std::string_view yaml) {
  IpAllow a;
  Status st = IpAllow::Parse(yaml, "ip_allow.yaml", &a);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return a;
}

// The error text for `yaml`, which must not parse.
std::string Error(std::string_view yaml) {
  IpAllow a;
  Status st = IpAllow::Parse(yaml, "ip_allow.yaml", &a);
  EXPECT_FALSE(st.ok());
  return st.message();
}

// One rule allowing everything to `addrs` (a YAML value).
IpAllow AllowOnly(const std::string& addrs) {
  return Rules("ip_allow:\n  - apply: in\n    ip_addrs: " + addrs + "\n    action: allow\n    methods: ALL\n");
}

TEST(IpAllowTest, SingleAddresses) {
  IpAllow a = AllowOnly("[192.0.2.7, \"2001:db8::1\"]");
  EXPECT_TRUE(a.Allowed("192.0.2.7", "GET"));
  EXPECT_FALSE(a.Allowed("192.0.2.8", "GET"));
  EXPECT_FALSE(a.Allowed("192.0.2.6", "GET"));
  EXPECT_TRUE(a.Allowed("2001:db8::1", "GET"));
  EXPECT_TRUE(a.Allowed("2001:0db8:0:0::0001", "GET"));
  EXPECT_FALSE(a.Allowed("2001:db8::2", "GET"));
}

TEST(IpAllowTest, Cidr) {
  IpAllow a = AllowOnly("[10.1.0.0/16, 172.16.0.0/12, \"2001:db8:80::/41\", 198.51.100.9/32]");
  EXPECT_TRUE(a.Allowed("10.1.0.0", "GET"));
  EXPECT_TRUE(a.Allowed("10.1.255.255", "GET"));
  EXPECT_FALSE(a.Allowed("10.2.0.0", "GET"));
  EXPECT_FALSE(a.Allowed("10.0.255.255", "GET"));
  EXPECT_TRUE(a.Allowed("172.31.255.255", "GET"));
  EXPECT_FALSE(a.Allowed("172.32.0.0", "GET"));
  EXPECT_TRUE(a.Allowed("2001:db8:80::", "GET"));
  EXPECT_TRUE(a.Allowed("2001:db8:ff:ffff:ffff:ffff:ffff:ffff", "GET"));
  EXPECT_FALSE(a.Allowed("2001:db8:7f:ffff:ffff:ffff:ffff:ffff", "GET"));
  EXPECT_FALSE(a.Allowed("2001:db8:100::", "GET"));
  EXPECT_TRUE(a.Allowed("198.51.100.9", "GET"));
  EXPECT_FALSE(a.Allowed("198.51.100.10", "GET"));
}

TEST(IpAllowTest, CidrHostBitsAreCleared) {
  IpAllow a = AllowOnly("10.1.2.3/8");
  EXPECT_TRUE(a.Allowed("10.0.0.0", "GET"));
  EXPECT_TRUE(a.Allowed("10.255.255.255", "GET"));
  EXPECT_FALSE(a.Allowed("11.0.0.0", "GET"));
}

TEST(IpAllowTest, WholeFamilies) {
  IpAllow v4 = AllowOnly("0/0");
  EXPECT_TRUE(v4.Allowed("0.0.0.0", "GET"));
  EXPECT_TRUE(v4.Allowed("255.255.255.255", "GET"));
  EXPECT_FALSE(v4.Allowed("::2", "GET"));
  IpAllow v4b = AllowOnly("0.0.0.0/0");
  EXPECT_TRUE(v4b.Allowed("203.0.113.1", "GET"));
  IpAllow v6 = AllowOnly("::/0");
  EXPECT_TRUE(v6.Allowed("::", "GET"));
  EXPECT_TRUE(v6.Allowed("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "GET"));
  EXPECT_FALSE(v6.Allowed("203.0.113.1", "GET"));
}

TEST(IpAllowTest, Ranges) {
  IpAllow a = AllowOnly("[10.0.0.5-10.0.0.9, \"2001:db8::a-2001:db8::1:0\", 192.0.2.1-192.0.2.1]");
  EXPECT_FALSE(a.Allowed("10.0.0.4", "GET"));
  EXPECT_TRUE(a.Allowed("10.0.0.5", "GET"));
  EXPECT_TRUE(a.Allowed("10.0.0.9", "GET"));
  EXPECT_FALSE(a.Allowed("10.0.0.10", "GET"));
  EXPECT_TRUE(a.Allowed("2001:db8::ffff", "GET"));
  EXPECT_TRUE(a.Allowed("2001:db8::1:0", "GET"));
  EXPECT_FALSE(a.Allowed("2001:db8::9", "GET"));
  EXPECT_TRUE(a.Allowed("192.0.2.1", "GET"));
}

TEST(IpAllowTest, IpAddrsAsAScalarOrAList) {
  IpAllow a = Rules(R"(ip_allow:
  - apply: in
    ip_addrs:
      - 192.0.2.1
      - 192.0.2.3
    action: allow
    methods: GET
)");
  EXPECT_TRUE(a.Allowed("192.0.2.1", "GET"));
  EXPECT_FALSE(a.Allowed("192.0.2.2", "GET"));
  EXPECT_TRUE(a.Allowed("192.0.2.3", "GET"));
}

TEST(IpAllowTest, AllowListsMethodsAndDeniesTheRest) {
  IpAllow a = Rules(R"(ip_allow:
  - apply: in
    ip_addrs: 0/0
    action: allow
    methods: [GET, HEAD]
)");
  EXPECT_TRUE(a.Allowed("192.0.2.1", "GET"));
  EXPECT_TRUE(a.Allowed("192.0.2.1", "HEAD"));
  EXPECT_FALSE(a.Allowed("192.0.2.1", "POST"));
  EXPECT_FALSE(a.Allowed("192.0.2.1", "PURGE"));
}

TEST(IpAllowTest, DenyListsMethodsAndAllowsTheRest) {
  IpAllow a = Rules(R"(ip_allow:
  - apply: in
    ip_addrs: 0/0
    action: deny
    methods:
      - PURGE
      - PUSH
)");
  EXPECT_TRUE(a.Allowed("192.0.2.1", "GET"));
  EXPECT_TRUE(a.Allowed("192.0.2.1", "DELETE"));
  EXPECT_FALSE(a.Allowed("192.0.2.1", "PURGE"));
  EXPECT_FALSE(a.Allowed("192.0.2.1", "PUSH"));
}

TEST(IpAllowTest, AllAndMissingMethods) {
  IpAllow deny_all = Rules("ip_allow:\n  - {apply: in, ip_addrs: 0/0, action: deny, methods: ALL}\n");
  EXPECT_FALSE(deny_all.Allowed("192.0.2.1", "GET"));
  EXPECT_FALSE(deny_all.Allowed("192.0.2.1", "FOO"));
  // ALL inside a list means all; no methods key also means ALL (as in ATS).
  IpAllow all_in_list = Rules("ip_allow:\n  - {apply: in, ip_addrs: 0/0, action: allow, methods: [GET, ALL]}\n");
  EXPECT_TRUE(all_in_list.Allowed("192.0.2.1", "PURGE"));
  IpAllow no_methods = Rules("ip_allow:\n  - {apply: in, ip_addrs: 0/0, action: allow}\n");
  EXPECT_TRUE(no_methods.Allowed("192.0.2.1", "PURGE"));
  EXPECT_TRUE(no_methods.rules()[0].all_methods);
}

TEST(IpAllowTest, MethodsMatchCaseInsensitively) {
  IpAllow a = Rules("ip_allow:\n  - {apply: in, ip_addrs: 0/0, action: deny, methods: [purge]}\n");
  EXPECT_FALSE(a.Allowed("192.0.2.1", "PURGE"));
  EXPECT_FALSE(a.Allowed("192.0.2.1", "Purge"));
  EXPECT_TRUE(a.Allowed("192.0.2.1", "GET"));
}

TEST(IpAllowTest, FirstMatchingRuleDecides) {
  IpAllow a = Rules(R"(ip_allow:
  - apply: in
    ip_addrs: 10.0.0.1
    action: deny
    methods: ALL
  - apply: in
    ip_addrs: 10.0.0.0/8
    action: allow
    methods: [GET]
  - apply: in
    ip_addrs: 0/0
    action: allow
    methods: ALL
)");
  EXPECT_FALSE(a.Allowed("10.0.0.1", "GET"));   // rule 1, though rule 2 and 3 would allow
  EXPECT_TRUE(a.Allowed("10.0.0.2", "GET"));    // rule 2
  EXPECT_FALSE(a.Allowed("10.0.0.2", "POST"));  // rule 2 decides, rule 3 is not consulted
  EXPECT_TRUE(a.Allowed("192.0.2.1", "POST"));  // rule 3
}

TEST(IpAllowTest, NoMatchingRuleDenies) {
  IpAllow a = AllowOnly("10.0.0.0/8");
  EXPECT_FALSE(a.Allowed("192.0.2.1", "GET"));
  EXPECT_FALSE(a.Allowed("::1", "GET"));
  IpAllow none = Rules("ip_allow: []\n");
  EXPECT_FALSE(none.Allowed("127.0.0.1", "GET"));
}

TEST(IpAllowTest, OutRulesAreKeptButNotApplied) {
  IpAllow a = Rules(R"(ip_allow:
  - apply: out
    ip_addrs: 0/0
    action: allow
    methods: ALL
  - apply: in
    ip_addrs: 0/0
    action: allow
    methods: GET
)");
  ASSERT_EQ(a.rules().size(), 2u);
  EXPECT_EQ(a.rules()[0].apply, IpAllow::Apply::kOut);
  EXPECT_EQ(a.rules()[0].line, 2);
  EXPECT_EQ(a.rules()[1].line, 6);
  EXPECT_FALSE(a.Allowed("192.0.2.1", "POST"));  // the `out` rule is skipped
}

TEST(IpAllowTest, SetAllowAndSetDenySpellings) {
  IpAllow a = Rules(R"(ip_allow:
  - {apply: in, ip_addrs: 10.0.0.1, action: set_allow, methods: GET}
  - {apply: in, ip_addrs: 0/0, action: set_deny, methods: PURGE}
)");
  EXPECT_EQ(a.rules()[0].action, IpAllow::Action::kAllow);
  EXPECT_EQ(a.rules()[1].action, IpAllow::Action::kDeny);
  EXPECT_TRUE(a.Allowed("10.0.0.1", "GET"));
  EXPECT_FALSE(a.Allowed("10.0.0.1", "POST"));
  EXPECT_TRUE(a.Allowed("10.0.0.2", "POST"));
  EXPECT_FALSE(a.Allowed("10.0.0.2", "PURGE"));
}

TEST(IpAllowTest, SingleRuleMappingIsAccepted) {
  IpAllow a = Rules("ip_allow:\n  apply: in\n  ip_addrs: 0/0\n  action: allow\n  methods: GET\n");
  ASSERT_EQ(a.rules().size(), 1u);
  EXPECT_TRUE(a.Allowed("192.0.2.1", "GET"));
}

TEST(IpAllowTest, V4MappedClientsMatchV4Rules) {
  IpAllow a = Rules(R"(ip_allow:
  - {apply: in, ip_addrs: 192.0.2.0/24, action: allow, methods: ALL}
  - {apply: in, ip_addrs: "::/0", action: deny, methods: ALL}
)");
  EXPECT_TRUE(a.Allowed("::ffff:192.0.2.9", "GET"));
  EXPECT_FALSE(a.Allowed("::ffff:198.51.100.1", "GET"));  // falls through to no match, not to ::/0
  EXPECT_FALSE(a.Allowed("2001:db8::1", "GET"));

  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:192.0.2.9", &sin6.sin6_addr), 1);
  EXPECT_TRUE(a.Allowed(reinterpret_cast<const sockaddr*>(&sin6), "GET"));
}

TEST(IpAllowTest, SockaddrForms) {
  IpAllow a = Rules(R"(ip_allow:
  - {apply: in, ip_addrs: [192.0.2.1, "2001:db8::1"], action: allow, methods: ALL}
)");
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr), 1);
  EXPECT_TRUE(a.Allowed(reinterpret_cast<const sockaddr*>(&sin), "GET"));
  ASSERT_EQ(inet_pton(AF_INET, "192.0.2.2", &sin.sin_addr), 1);
  EXPECT_FALSE(a.Allowed(reinterpret_cast<const sockaddr*>(&sin), "GET"));
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr), 1);
  EXPECT_TRUE(a.Allowed(reinterpret_cast<const sockaddr*>(&sin6), "GET"));
  sockaddr unix_addr{};
  unix_addr.sa_family = AF_UNIX;
  EXPECT_FALSE(a.Allowed(&unix_addr, "GET"));
  EXPECT_FALSE(a.Allowed(static_cast<const sockaddr*>(nullptr), "GET"));
  EXPECT_FALSE(a.Allowed("not-an-address", "GET"));
  EXPECT_FALSE(a.Allowed("", "GET"));
}

// Checks the rules Default() and the shipped file must both give.
void ExpectDefaultPolicy(const IpAllow& a) {
  for (const char* method : {"GET", "HEAD", "POST", "PUT", "DELETE", "PUSH", "PURGE", "ADMIN"}) {
    EXPECT_TRUE(a.Allowed("127.0.0.1", method)) << method;
    EXPECT_TRUE(a.Allowed("::1", method)) << method;
    EXPECT_TRUE(a.Allowed("::ffff:127.0.0.1", method)) << method;
  }
  for (const char* client : {"192.0.2.1", "127.0.0.2", "10.0.0.1", "2001:db8::1", "::2", "::ffff:192.0.2.1"}) {
    EXPECT_TRUE(a.Allowed(client, "GET")) << client;
    EXPECT_TRUE(a.Allowed(client, "POST")) << client;
    EXPECT_TRUE(a.Allowed(client, "DELETE")) << client;
    EXPECT_FALSE(a.Allowed(client, "PURGE")) << client;
    EXPECT_FALSE(a.Allowed(client, "ADMIN")) << client;
  }
}

TEST(IpAllowTest, DefaultGivesPurgeOnlyToLoopback) {
  IpAllow a = IpAllow::Default();
  ASSERT_EQ(a.rules().size(), 4u);
  ExpectDefaultPolicy(a);
}

TEST(IpAllowTest, ShippedFileParsesAndMatchesDefault) {
  const char* srcdir = getenv("STRATA_SRCDIR");
  if (srcdir == nullptr || *srcdir == '\0') GTEST_SKIP() << "STRATA_SRCDIR is not set";
  IpAllow a;
  Status st = IpAllow::Load(std::string(srcdir) + "/etc/ip_allow.yaml", &a);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ExpectDefaultPolicy(a);
}

TEST(IpAllowTest, LoadMissingFileIsNotFound) {
  IpAllow a;
  Status st = IpAllow::Load("/nonexistent/ip_allow.yaml", &a);
  EXPECT_EQ(st.kind(), Status::Kind::kNotFound);
}

TEST(IpAllowTest, ErrorLeavesOutUnchanged) {
  IpAllow a = AllowOnly("192.0.2.1");
  Status st = IpAllow::Parse("ip_allow:\n  - {apply: in, ip_addrs: bogus, action: allow}\n", "f", &a);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(a.Allowed("192.0.2.1", "GET"));
}

// Each error, with the line it is reported on.
TEST(IpAllowTest, Errors) {
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0.300\n    action: allow\n"),
            "ip_allow.yaml:3: bad address '10.0.0.300'");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs:\n      - 10.0.0.1\n      - fe80::1::2\n    action: allow\n"),
            "ip_allow.yaml:5: bad address 'fe80::1::2'");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0.0/33\n    action: allow\n"),
            "ip_allow.yaml:3: bad CIDR '10.0.0.0/33': prefix length must be 0-32");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: \"2001:db8::/129\"\n    action: allow\n"),
            "ip_allow.yaml:3: bad CIDR '2001:db8::/129': prefix length must be 0-128");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0.0/\n    action: allow\n"),
            "ip_allow.yaml:3: bad CIDR '10.0.0.0/': prefix length must be 0-32");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0.0/x8\n    action: allow\n"),
            "ip_allow.yaml:3: bad CIDR '10.0.0.0/x8': prefix length must be 0-32");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0/8\n    action: allow\n"),
            "ip_allow.yaml:3: bad address in CIDR '10.0.0/8'");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0.9-10.0.0.5\n    action: allow\n"),
            "ip_allow.yaml:3: bad address range '10.0.0.9-10.0.0.5': first address is above the last");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0.1-::1\n    action: allow\n"),
            "ip_allow.yaml:3: bad address range '10.0.0.1-::1': mixes IPv4 and IPv6");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 10.0.0.1-\n    action: allow\n"),
            "ip_allow.yaml:3: bad address range '10.0.0.1-'");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 0/0\n    action: permit\n"),
            "ip_allow.yaml:4: bad action 'permit': expected allow or deny (or set_allow, set_deny)");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 0/0\n    action: add_allow\n"),
            "ip_allow.yaml:4: bad action 'add_allow': expected allow or deny (or set_allow, set_deny)");
  EXPECT_EQ(Error("ip_allow:\n  - apply: sideways\n    ip_addrs: 0/0\n    action: allow\n"),
            "ip_allow.yaml:2: bad apply 'sideways': expected in or out");
  EXPECT_EQ(
      Error("ip_allow:\n  - apply: in\n    ip_addrs: 0/0\n    action: allow\n    methods: [GET, \"BAD METHOD\"]\n"),
      "ip_allow.yaml:5: bad method 'BAD METHOD': not a token");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 0/0\n    action: allow\n    method: GET\n"),
            "ip_allow.yaml:5: unknown key 'method' (expected apply, ip_addrs, action, methods)");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_categories: ACME\n    action: allow\n"),
            "ip_allow.yaml:3: 'ip_categories' is not supported; list the addresses in ip_addrs\n"
            "ip_allow.yaml:2: rule has no 'ip_addrs'");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    action: allow\n    methods: ALL\n"),
            "ip_allow.yaml:2: rule has no 'ip_addrs'");
  EXPECT_EQ(Error("ip_allow:\n  - ip_addrs: 0/0\n    action: allow\n"),
            "ip_allow.yaml:2: rule has no 'apply' (in or out)");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 0/0\n"),
            "ip_allow.yaml:2: rule has no 'action' (allow or deny)");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: []\n    action: allow\n"),
            "ip_allow.yaml:3: 'ip_addrs' is an empty list");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: {a: b}\n    action: allow\n"),
            "ip_allow.yaml:3: 'ip_addrs' must be a string or a list of strings");
  EXPECT_EQ(Error("ip_allow:\n  - apply: in\n    ip_addrs: 0/0\n    apply: out\n    action: allow\n"),
            "ip_allow.yaml:4: duplicate key 'apply'");
  EXPECT_EQ(Error("ip_allow:\n  - just a string\n"),
            "ip_allow.yaml:2: a rule must be a mapping of apply, ip_addrs, action and methods");
  EXPECT_EQ(Error("ip_allow: 7\n"), "ip_allow.yaml:1: 'ip_allow' must be a list of rules");
  EXPECT_EQ(Error("ip_allow:\n"), "ip_allow.yaml:1: 'ip_allow' must be a list of rules");
  EXPECT_EQ(Error("rules: []\n"),
            "ip_allow.yaml:1: unknown top-level key 'rules' (expected ip_allow)\n"
            "ip_allow.yaml:1: expected a top-level 'ip_allow' list");
  EXPECT_EQ(Error(""), "ip_allow.yaml:1: expected a top-level 'ip_allow' list");
  EXPECT_EQ(Error("# only a comment\n"), "ip_allow.yaml:1: expected a top-level 'ip_allow' list");
  EXPECT_EQ(Error("- a\n- b\n"), "ip_allow.yaml:1: expected a top-level 'ip_allow' list");
}

TEST(IpAllowTest, YamlSyntaxErrorHasLine) {
  const std::string e = Error("ip_allow:\n  - apply: in\n    ip_addrs: [0/0\n    action: allow\n");
  EXPECT_EQ(e.rfind("ip_allow.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
}

TEST(IpAllowTest, EveryProblemIsReported) {
  const std::string e = Error(R"(ip_allow:
  - apply: in
    ip_addrs: 1.2.3.4.5
    action: allow
  - apply: in
    ip_addrs: 0/0
    action: nope
  - apply: in
    ip_addrs: 0/0
    action: allow
    colour: blue
)");
  EXPECT_EQ(e,
            "ip_allow.yaml:3: bad address '1.2.3.4.5'\n"
            "ip_allow.yaml:7: bad action 'nope': expected allow or deny (or set_allow, set_deny)\n"
            "ip_allow.yaml:11: unknown key 'colour' (expected apply, ip_addrs, action, methods)");
}

}  // namespace
}  // namespace strata
