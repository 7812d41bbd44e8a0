// Sign-in, sessions and the public configuration: POST /auth/login, GET /auth/me,
// POST /auth/logout, GET /config. Sign-in is split around the password check, which AppApi runs
// outside its lock: begin_login (throttle, account lookup), then finish_login. The session
// cookie is Secure when the settings force it or a trusted proxy says the client used HTTPS.
// Sessions are an HttpOnly cookie plus a CSRF token that every state-changing request must echo
// in X-CSRF-Token.
#include "app/api/handlers.hpp"
#include "app/auth/passwords.hpp"

namespace parlor::app {

namespace {
constexpr size_t kMaxSessionTokenLength = 128;  // random_token() makes 43; anything longer is junk
}

MaybeResponse handle_public(ApiContext& ctx, const http::Request& req,
                            const std::vector<std::string>& parts) {
  const std::string& m = req.method;
  if (parts.size() == 1 && parts[0] == "config" && m == "GET") {
    return json_reply(
        200,
        {{"facility", {{"name", ctx.settings.facility_name}, {"timeZone", ctx.settings.time_zone}}},
         {"videoProvider", ctx.video.name()},
         {"livekitUrl", ctx.settings.livekit_url}});
  }
  return std::nullopt;
}

bool is_login(const std::vector<std::string>& parts) {
  return parts.size() == 2 && parts[0] == "auth" && parts[1] == "login";
}

std::variant<LoginAttempt, http::Response> begin_login(ApiContext& ctx, const http::Request& req) {
  if (req.method != "POST") throw method_not_allowed("POST");
  auto body = parse_body(req);
  LoginAttempt a;
  a.email = need_string(body, "email", 254);
  a.password = need_string(body, "password", 1024);
  std::string account = a.email;
  for (auto& c : account) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (int64_t wait = ctx.login_attempt(account, unix_now())) {
    auto res = error_reply(429, "too_many_requests", "too many sign-in attempts; try again later");
    res.with_header("Retry-After", std::to_string(wait));
    return res;
  }
  soci::indicator ri, vi;
  long long rid = 0, vid = 0;
  User& u = a.user;
  ctx.db.sql() << "SELECT id, email, name, role, password_hash, resident_id, visitor_id FROM users "
                  "WHERE email = :e",
      soci::use(a.email), soci::into(u.id), soci::into(u.email), soci::into(u.name),
      soci::into(u.role), soci::into(a.hash), soci::into(rid, ri), soci::into(vid, vi);
  a.found = ctx.db.sql().got_data();
  u.resident_id = ri == soci::i_ok ? rid : 0;
  u.visitor_id = vi == soci::i_ok ? vid : 0;
  return a;
}

bool secure_request(const AppSettings& settings, const http::Request& req) {
  if (settings.secure_cookies) return true;
  if (req.secure) return true;  // arrived over this server's own TLS listener
  if (!settings.trust_proxy) return false;
  // The first entry is what the client used when several proxies appended theirs.
  std::string proto = req.header("x-forwarded-proto");
  proto = proto.substr(0, proto.find(','));
  proto.erase(0, proto.find_first_not_of(" \t"));
  proto.erase(proto.find_last_not_of(" \t") + 1);
  for (auto& c : proto) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return proto == "https";
}

std::string session_cookie(const AppSettings& settings, const http::Request& req,
                           const std::string& token, long long max_age) {
  return "parlor_session=" + token +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) +
         (secure_request(settings, req) ? "; Secure" : "");
}

http::Response finish_login(ApiContext& ctx, const http::Request& req, const LoginAttempt& a,
                            bool verified) {
  if (!a.found || !verified) return error_reply(401, "unauthenticated", "wrong email or password");
  const User& u = a.user;
  std::string token = random_token(), csrf = random_token();
  long long user_id = u.id;
  long long expires = unix_now() + ctx.settings.session_ttl.count();
  ctx.db.sql() << "INSERT INTO sessions (token, user_id, csrf, expires_at) VALUES (:a, :b, :c, :d)",
      soci::use(token), soci::use(user_id), soci::use(csrf), soci::use(expires);
  ctx.audit(u.email, "auth.login", "user:" + std::to_string(u.id));
  auto res = json_reply(200, {{"user", u.to_json()}, {"csrfToken", csrf}});
  res.with_header("Set-Cookie",
                  session_cookie(ctx.settings, req, token, ctx.settings.session_ttl.count()));
  return res;
}

std::variant<User, http::Response> authenticate(ApiContext& ctx, const http::Request& req) {
  User u;
  std::string token = cookie_value(req, "parlor_session");
  if (token.empty() || token.size() > kMaxSessionTokenLength) {
    return error_reply(401, "unauthenticated", "please sign in");
  }
  long long expires = 0, rid = 0, vid = 0;
  soci::indicator ri, vi;
  ctx.db.sql()
      << "SELECT u.id, u.email, u.name, u.role, u.resident_id, u.visitor_id, s.csrf, s.expires_at "
         "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token = :t",
      soci::use(token), soci::into(u.id), soci::into(u.email), soci::into(u.name),
      soci::into(u.role), soci::into(rid, ri), soci::into(vid, vi), soci::into(u.csrf),
      soci::into(expires);
  if (!ctx.db.sql().got_data() || expires < unix_now()) {
    return error_reply(401, "unauthenticated", "your session has expired; please sign in again");
  }
  u.resident_id = ri == soci::i_ok ? rid : 0;
  u.visitor_id = vi == soci::i_ok ? vid : 0;
  if (req.method != "GET" && req.method != "HEAD" && req.header("x-csrf-token") != u.csrf) {
    return error_reply(403, "forbidden", "missing or wrong X-CSRF-Token header");
  }
  return u;
}

MaybeResponse handle_session(ApiContext& ctx, const Call& call) {
  const auto& parts = call.parts;
  if (!(parts.size() == 2 && parts[0] == "auth")) return std::nullopt;
  if (parts[1] == "me" && call.method() == "GET") {
    return json_reply(200, {{"user", call.user.to_json()}, {"csrfToken", call.user.csrf}});
  }
  if (parts[1] == "logout" && call.method() == "POST") {
    std::string token = cookie_value(call.req, "parlor_session");
    ctx.db.sql() << "DELETE FROM sessions WHERE token = :t", soci::use(token);
    auto res = json_reply(200, json::object());
    res.with_header("Set-Cookie", session_cookie(ctx.settings, call.req, "", 0));
    return res;
  }
  return std::nullopt;
}

}  // namespace parlor::app
