#include "proxy/admin_server.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "proxy/metrics_render.h"
#include "proxy/purge.h"
#include "proxy/server.h"
#include "proxy/settings.h"
#include "proxy/stored_response.h"

namespace strata {
namespace {

void Reply(evhttp_request* req, int code, const char* reason, const char* type, const std::string& body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", type);
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, body.data(), body.size());
  evhttp_send_reply(req, code, reason, out);
  evbuffer_free(out);
}

void ReplyText(evhttp_request* req, int code, const char* reason, const std::string& body) {
  Reply(req, code, reason, "text/plain; charset=utf-8", body);
}

void ReplyJson(evhttp_request* req, int code, const char* reason, const std::string& body) {
  Reply(req, code, reason, "application/json", body);
}

const char* StateName(OpenObject::State state) {
  switch (state) {
    case OpenObject::State::kWriting:
      return "writing";
    case OpenObject::State::kComplete:
      return "complete";
    case OpenObject::State::kAborted:
      return "aborted";
  }
  return "unknown";
}

// The value of `name` in a query string (percent-decoded); false when absent.
bool QueryValue(const std::string& query, const char* name, std::string* out) {
  evkeyvalq params;  // evhttp_parse_query_str initialises it
  if (evhttp_parse_query_str(query.c_str(), &params) != 0) return false;
  const char* value = evhttp_find_header(&params, name);
  bool found = value != nullptr;
  if (found) *out = value;
  evhttp_clear_headers(&params);
  return found;
}

struct Route {
  const char* path;
  bool post;  // POST only; otherwise GET and HEAD
};

constexpr Route kRoutes[] = {{"/metrics", false}, {"/stats", false}, {"/health", false}, {"/inflight", false},
                             {"/purges", false},  {"/reload", true}, {"/purge", true}};

}  // namespace

AdminServer::AdminServer(Server* server) : server_(server) {
  base_ = event_base_new();
  executor_ = std::make_unique<LoopExecutor>(base_);
  http_ = evhttp_new(base_);
  evhttp_set_gencb(http_, OnRequest, this);
  evhttp_set_max_body_size(http_, 64 * 1024);
  evhttp_set_max_headers_size(http_, 64 * 1024);
  evhttp_set_timeout(http_, 30);
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                        EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
}

AdminServer::~AdminServer() {
  Stop();
  evhttp_free(http_);
  executor_.reset();
  event_base_free(base_);
}

Status AdminServer::Listen(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  Status s = ParseListenAddress(address, &host, &port);
  if (!s.ok()) return Status::InvalidArgument("admin.listen: " + s.message());
  if (evhttp_bind_socket_with_handle(http_, host.c_str(), port) == nullptr) {
    return Status::IOError("cannot listen on admin address " + address + ": " + strerror(errno) +
                           " (set admin.listen or --admin; an empty value turns the admin API off)");
  }
  return Status::OK();
}

void AdminServer::Start() {
  thread_ = std::thread([this] { event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY); });
}

void AdminServer::Stop() {
  if (!thread_.joinable()) return;
  event_base_loopexit(base_, nullptr);
  thread_.join();
}

void AdminServer::OnRequest(evhttp_request* req, void* arg) { static_cast<AdminServer*>(arg)->Handle(req); }

void AdminServer::Handle(evhttp_request* req) {
  std::shared_ptr<const Config> config = server_->config();
  evhttp_connection* conn = evhttp_request_get_connection(req);
  const sockaddr* peer = conn != nullptr ? evhttp_connection_get_addr(conn) : nullptr;
  if (!config->ip_allow.Allowed(peer, "ADMIN")) {
    ReplyText(req, 403, "Forbidden", "Forbidden: ip_allow.yaml does not give this address the ADMIN method\n");
    return;
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(req);
  const char* raw_path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  const char* raw_query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
  std::string path = raw_path != nullptr ? raw_path : "";
  std::string query = raw_query != nullptr ? raw_query : "";

  const Route* route = nullptr;
  for (const Route& r : kRoutes) {
    if (path == r.path) route = &r;
  }
  if (route == nullptr) {
    ReplyText(req, 404, "Not Found",
              "Not Found. Endpoints: GET /metrics /stats /health /inflight /purges; POST /reload "
              "/purge?url=URL /purge?prefix=PREFIX\n");
    return;
  }
  evhttp_cmd_type method = evhttp_request_get_command(req);
  bool allowed = route->post ? method == EVHTTP_REQ_POST : (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD);
  if (!allowed) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", route->post ? "POST" : "GET, HEAD");
    ReplyText(req, 405, "Method Not Allowed",
              std::string("Method Not Allowed: use ") + (route->post ? "POST" : "GET") + "\n");
    return;
  }

  if (path == "/metrics") {
    Reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
          RenderPrometheus(server_->metrics().Snapshot(server_->cache())));
  } else if (path == "/stats") {
    ReplyJson(req, 200, "OK", RenderJson(server_->metrics().Snapshot(server_->cache())));
  } else if (path == "/health") {
    if (server_->draining()) {
      ReplyText(req, 503, "Service Unavailable", "draining\n");
    } else {
      ReplyText(req, 200, "OK", "ok\n");
    }
  } else if (path == "/inflight") {
    HandleInflight(req);
  } else if (path == "/purges") {
    HandlePurges(req);
  } else if (path == "/reload") {
    HandleReload(req);
  } else {
    HandlePurge(req, query);
  }
}

void AdminServer::HandleReload(evhttp_request* req) {
  if (server_->draining()) {
    ReplyText(req, 503, "Service Unavailable", "draining: reload refused\n");
    return;
  }
  std::string report;
  Status s = server_->Reload(&report);
  if (!report.empty() && report.back() != '\n') report += '\n';
  if (s.ok()) {
    ReplyText(req, 200, "OK", "reloaded\n" + report);
  } else if (s.kind() == Status::Kind::kInvalidArgument) {
    ReplyText(req, 400, "Bad Request", report.empty() ? s.message() + "\n" : report);
  } else {
    ReplyText(req, 500, "Internal Server Error", report.empty() ? s.ToString() + "\n" : report);
  }
}

std::string AdminServer::CacheUrl(const std::string& url) const {
  std::string_view rest = url;
  std::string_view scheme;
  if (rest.starts_with("http://")) {
    scheme = "http";
  } else if (rest.starts_with("https://")) {
    scheme = "https";
  } else {
    return "";
  }
  rest.remove_prefix(scheme.size() + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view host = rest.substr(0, end);
  std::string path = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (path.front() == '?') path = "/" + path;
  RemapResult result;
  if (server_->config()->remap.Map(scheme, host, path, &result) && result.kind == RemapResult::Kind::kMap) {
    return result.origin_url;
  }
  return url;
}

void AdminServer::HandlePurge(evhttp_request* req, const std::string& query) {
  std::string url;
  std::string prefix;
  bool by_url = QueryValue(query, "url", &url);
  bool by_prefix = QueryValue(query, "prefix", &prefix);
  if (by_url == by_prefix) {
    ReplyText(req, 400, "Bad Request", "Bad Request: want exactly one of url=URL or prefix=PREFIX\n");
    return;
  }
  Cache* cache = server_->cache();
  if (cache == nullptr) {
    ReplyText(req, 404, "Not Found", "Not Found: no cache is configured\n");
    return;
  }
  std::string target = CacheUrl(by_url ? url : prefix);
  if (target.empty()) {
    ReplyText(req, 400, "Bad Request", "Bad Request: want an absolute http:// or https:// URL\n");
    return;
  }
  if (by_prefix) {
    int64_t now = static_cast<int64_t>(time(nullptr));
    Status s = server_->purges()->Add(target, now);
    if (s.kind() == Status::Kind::kInvalidArgument) {
      ReplyText(req, 400, "Bad Request", "Bad Request: " + s.message() + "\n");
      return;
    }
    server_->metrics().server().purges_prefix.fetch_add(1, std::memory_order_relaxed);
    std::string body = "{\"prefix\":" + JsonString(target) + ",\"time\":" + std::to_string(now);
    if (!s.ok()) {
      // The purge holds until the next restart; the operator must know it
      // was not saved.
      LOG_ERROR("admin: purge of prefix %s applied but not saved: %s", target.c_str(), s.message().c_str());
      ReplyJson(req, 500, "Internal Server Error",
                body + ",\"saved\":false,\"error\":" + JsonString(s.message()) + "}\n");
      return;
    }
    LOG_INFO("admin: purged prefix %s", target.c_str());
    ReplyJson(req, 200, "OK", body + ",\"saved\":true}\n");
    return;
  }
  server_->metrics().server().purges_url.fetch_add(1, std::memory_order_relaxed);
  std::string key = UrlCacheKey(target).ToHex();
  PurgeUrl(cache, target, executor_.get(), [req, target, key](bool removed) {
    std::string body = "{\"url\":" + JsonString(target) + ",\"key\":" + JsonString(key) +
                       ",\"purged\":" + (removed ? "true" : "false") + "}\n";
    ReplyJson(req, removed ? 200 : 404, removed ? "OK" : "Not Found", body);
  });
}

void AdminServer::HandleInflight(evhttp_request* req) {
  Cache* cache = server_->cache();
  std::string body = "{\"objects\":[";
  bool first = true;
  for (size_t i = 0; cache != nullptr && i < cache->stripe_count(); ++i) {
    Stripe& stripe = cache->stripe(i);
    for (const std::shared_ptr<OpenObject>& object : stripe.open_dir().List()) {
      if (!first) body += ',';
      first = false;
      body += "\n{\"stripe\":" + std::to_string(stripe.id()) + ",\"key\":" + JsonString(object->key().ToHex()) +
              ",\"state\":" + JsonString(StateName(object->state())) +
              ",\"bytes_written\":" + std::to_string(object->bytes_written()) +
              ",\"followers\":" + std::to_string(object->follower_count()) + "}";
    }
  }
  body += "]}\n";
  ReplyJson(req, 200, "OK", body);
}

void AdminServer::HandlePurges(evhttp_request* req) {
  std::string body = "{\"prefixes\":[";
  PurgeList* purges = server_->purges();
  bool first = true;
  if (purges != nullptr) {
    for (const PurgeList::Record& r : purges->records()) {
      if (!first) body += ',';
      first = false;
      body += "\n{\"prefix\":" + JsonString(r.prefix) + ",\"time\":" + std::to_string(r.time) + "}";
    }
  }
  body += "]}\n";
  ReplyJson(req, 200, "OK", body);
}

}  // namespace strata
