// Residents and visitors: GET/POST /residents, GET/POST /visitors. Creating either may also
// create the person's sign-in, in the same transaction.
#include "app/api/handlers.hpp"

namespace parlor::app {

MaybeResponse handle_residents(ApiContext& ctx, const Call& call) {
  if (!(call.parts.size() == 1 && call.parts[0] == "residents")) return std::nullopt;
  const User& u = call.user;
  if (call.method() == "GET") {
    json list = json::array();
    std::string q = "SELECT id, name, unit, status FROM residents ORDER BY name";
    if (!is_staff(u.role)) {
      if (u.role != "visitor") throw forbidden();
      q = "SELECT r.id, r.name, r.unit, r.status FROM residents r JOIN approvals a ON "
          "a.resident_id = r.id "
          "WHERE a.visitor_id = " +
          std::to_string(u.visitor_id) + " AND a.status = 'approved' ORDER BY r.name";
    }
    soci::rowset<soci::row> rs = ctx.db.sql().prepare << q;
    for (const auto& row : rs) {
      list.push_back({{"id", as_int(row, 0)},
                      {"name", row.get<std::string>(1)},
                      {"unit", row.get<std::string>(2)},
                      {"status", row.get<std::string>(3)}});
    }
    return json_reply(200, {{"residents", list}});
  }
  if (call.method() != "POST") return std::nullopt;
  call.require_staff();
  auto b = parse_body(call.req);
  auto name = need_string(b, "name");
  auto unit = need_string(b, "unit", 100, false);
  auto email = need_string(b, "email", 254, false);
  auto password = need_string(b, "password", 1024, false);
  long long id = ctx.db.transaction([&] {
    long long rid = ctx.create_resident(name, unit);
    if (!email.empty()) ctx.create_user(email, name, "resident", password, rid, 0);
    return rid;
  });
  ctx.audit(call.actor(), "resident.create", "resident:" + std::to_string(id));
  return json_reply(
      201, {{"resident", {{"id", id}, {"name", name}, {"unit", unit}, {"status", "active"}}}});
}

MaybeResponse handle_visitors(ApiContext& ctx, const Call& call) {
  if (!(call.parts.size() == 1 && call.parts[0] == "visitors")) return std::nullopt;
  call.require_staff();
  if (call.method() == "GET") {
    json list = json::array();
    soci::rowset<soci::row> rs =
        ctx.db.sql().prepare
        << "SELECT id, name, email, phone, relationship FROM visitors ORDER BY name";
    for (const auto& row : rs) {
      list.push_back({{"id", as_int(row, 0)},
                      {"name", row.get<std::string>(1)},
                      {"email", row.get<std::string>(2)},
                      {"phone", row.get<std::string>(3)},
                      {"relationship", row.get<std::string>(4)}});
    }
    return json_reply(200, {{"visitors", list}});
  }
  if (call.method() != "POST") return std::nullopt;
  auto b = parse_body(call.req);
  auto name = need_string(b, "name");
  auto email = need_string(b, "email", 254);
  auto phone = need_string(b, "phone", 40, false);
  auto rel = need_string(b, "relationship", 100, false);
  auto password = need_string(b, "password", 1024, false);
  long long id = ctx.db.transaction([&] {
    long long vid = ctx.create_visitor(name, email);
    ctx.db.sql() << "UPDATE visitors SET phone = :p, relationship = :r WHERE id = :id",
        soci::use(phone), soci::use(rel), soci::use(vid);
    if (!password.empty()) ctx.create_user(email, name, "visitor", password, 0, vid);
    return vid;
  });
  ctx.audit(call.actor(), "visitor.create", "visitor:" + std::to_string(id));
  return json_reply(
      201,
      {{"visitor",
        {{"id", id}, {"name", name}, {"email", email}, {"phone", phone}, {"relationship", rel}}}});
}

}  // namespace parlor::app
