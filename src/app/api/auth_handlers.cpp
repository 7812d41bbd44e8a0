// Sign-in, sessions and the public configuration: POST /auth/login, GET /auth/me,
// POST /auth/logout, GET /config. Sessions are an HttpOnly cookie plus a CSRF token that every
// state-changing request must echo in X-CSRF-Token.
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
  if (!(parts.size() == 2 && parts[0] == "auth" && parts[1] == "login")) return std::nullopt;
  if (m != "POST") throw method_not_allowed("POST");
  auto body = parse_body(req);
  auto email = need_string(body, "email", 254);
  auto password = need_string(body, "password", 1024);
  int64_t minute = unix_now() / 60;
  auto& slot = ctx.login_attempts[email + "|" + req.remote_address];
  if (slot.first != minute) slot = {minute, 0};
  if (++slot.second > ctx.settings.login_attempts_per_minute) {
    return error_reply(429, "too_many_requests", "too many sign-in attempts; wait a minute");
  }
  User u;
  std::string hash;
  soci::indicator ri, vi;
  long long rid = 0, vid = 0;
  ctx.db.sql() << "SELECT id, email, name, role, password_hash, resident_id, visitor_id FROM users "
                  "WHERE email = :e",
      soci::use(email), soci::into(u.id), soci::into(u.email), soci::into(u.name),
      soci::into(u.role), soci::into(hash), soci::into(rid, ri), soci::into(vid, vi);
  if (!ctx.db.sql().got_data() || !verify_password(hash, password)) {
    return error_reply(401, "unauthenticated", "wrong email or password");
  }
  u.resident_id = ri == soci::i_ok ? rid : 0;
  u.visitor_id = vi == soci::i_ok ? vid : 0;
  std::string token = random_token(), csrf = random_token();
  long long expires = unix_now() + ctx.settings.session_ttl.count();
  ctx.db.sql() << "INSERT INTO sessions (token, user_id, csrf, expires_at) VALUES (:a, :b, :c, :d)",
      soci::use(token), soci::use(u.id), soci::use(csrf), soci::use(expires);
  ctx.audit(u.email, "auth.login", "user:" + std::to_string(u.id));
  auto res = json_reply(200, {{"user", u.to_json()}, {"csrfToken", csrf}});
  res.with_header("Set-Cookie", "parlor_session=" + token +
                                    "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                    std::to_string(ctx.settings.session_ttl.count()) +
                                    (ctx.settings.secure_cookies ? "; Secure" : ""));
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
    res.with_header("Set-Cookie", "parlor_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return res;
  }
  return std::nullopt;
}

}  // namespace parlor::app
