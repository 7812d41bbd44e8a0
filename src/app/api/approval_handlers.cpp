// Who may visit whom: GET/POST /approvals, POST /approvals/{id}/decision.
// Visitors must not learn about residents by probing: a visitor's request is answered 202 with
// the same body whether the resident exists, the pair is already pending, denied or blocked, or
// a request was just stored; a visitor's list holds only their approved approvals; and no
// staff e-mail (decidedBy) is ever shown to a visitor.
#include "app/api/handlers.hpp"

namespace parlor::app {

namespace {

json approval_json(ApiContext& ctx, long long id, const User& viewer) {
  soci::row row;
  ctx.db.sql()
      << "SELECT a.id, a.visitor_id, v.name, a.resident_id, r.name, a.status, a.reason, "
         "a.decided_by, "
         "a.decided_at, a.created_at FROM approvals a JOIN visitors v ON v.id = a.visitor_id "
         "JOIN residents r ON r.id = a.resident_id WHERE a.id = :id",
      soci::use(id), soci::into(row);
  if (!ctx.db.sql().got_data()) throw not_found("approval");
  json j{{"id", as_int(row, 0)},
         {"visitorId", as_int(row, 1)},
         {"visitorName", row.get<std::string>(2)},
         {"residentId", as_int(row, 3)},
         {"residentName", row.get<std::string>(4)},
         {"status", row.get<std::string>(5)},
         {"reason", row.get<std::string>(6)},
         {"decidedBy", row.get<std::string>(7)},
         {"decidedAt", iso_time(as_int(row, 8))},
         {"createdAt", iso_time(as_int(row, 9))}};
  if (!is_staff(viewer.role)) {
    j.erase("decidedBy");  // a staff e-mail
    if (j["status"] != "approved") j.erase("residentName");
  }
  return j;
}

long long store_request(ApiContext& ctx, const Call& call, long long visitor, long long resident) {
  long long now = unix_now(), id = 0;
  std::string pending = "pending";
  ctx.db.sql() << "INSERT INTO approvals (visitor_id, resident_id, status, created_at) VALUES "
                  "(:v, :r, :s, :t) RETURNING id",
      soci::use(visitor), soci::use(resident), soci::use(pending), soci::use(now), soci::into(id);
  ctx.audit(call.actor(), "approval.request", "approval:" + std::to_string(id));
  return id;
}

}  // namespace

MaybeResponse handle_approvals(ApiContext& ctx, const Call& call) {
  const auto& parts = call.parts;
  const User& u = call.user;
  const std::string& m = call.method();
  if (parts.empty() || parts[0] != "approvals") return std::nullopt;
  if (parts.size() == 1 && m == "GET") {
    if (!is_staff(u.role) && u.role != "visitor") throw forbidden();
    std::string status = call.req.query_param("status");
    json list = json::array();
    std::vector<long long> ids;
    std::string q = "SELECT id FROM approvals WHERE 1=1";
    if (!is_staff(u.role)) {
      q += " AND visitor_id = " + std::to_string(u.visitor_id) + " AND status = 'approved'";
    }
    soci::rowset<soci::row> rs =
        status.empty()
            ? (ctx.db.sql().prepare << q + " ORDER BY id")
            : (ctx.db.sql().prepare << q + " AND status = :s ORDER BY id", soci::use(status));
    for (const auto& row : rs) ids.push_back(as_int(row, 0));
    for (auto id : ids) list.push_back(approval_json(ctx, id, u));
    return json_reply(200, {{"approvals", list}});
  }
  if (parts.size() == 1 && m == "POST") {
    auto b = parse_body(call.req);
    long long resident = need_id(b, "residentId");
    long long visitor = u.role == "visitor" ? u.visitor_id : 0;
    if (is_staff(u.role)) visitor = need_id(b, "visitorId");
    if (!visitor) throw forbidden();
    int ok = 0;
    ctx.db.sql() << "SELECT COUNT(*) FROM residents WHERE id = :r", soci::use(resident),
        soci::into(ok);
    bool fresh = ok && ctx.approval_status(visitor, resident).empty();
    if (!is_staff(u.role)) {
      if (fresh) store_request(ctx, call, visitor, resident);
      return json_reply(202, {{"approval", {{"residentId", resident}, {"status", "pending"}}}});
    }
    if (!ok) throw not_found("resident");
    if (!fresh) throw conflict("an approval for this pair already exists");
    long long id = store_request(ctx, call, visitor, resident);
    return json_reply(201, {{"approval", approval_json(ctx, id, u)}});
  }
  if (parts.size() == 3 && parts[2] == "decision" && m == "POST") {
    call.require_staff();
    long long id = path_id(parts[1]);
    auto b = parse_body(call.req);
    auto status = need_string(b, "status", 20);
    if (status != "approved" && status != "denied" && status != "blocked") {
      throw bad_request("status must be approved, denied or blocked");
    }
    auto reason = need_string(b, "reason", 500, false);
    approval_json(ctx, id, u);  // 404 if missing
    long long now = unix_now();
    std::string actor = call.actor();
    ctx.db.sql() << "UPDATE approvals SET status = :s, reason = :r, decided_by = :a, decided_at = "
                    ":t WHERE id = :id",
        soci::use(status), soci::use(reason), soci::use(actor), soci::use(now), soci::use(id);
    ctx.audit(actor, "approval." + status, "approval:" + std::to_string(id), {{"reason", reason}});
    return json_reply(200, {{"approval", approval_json(ctx, id, u)}});
  }
  return std::nullopt;
}

}  // namespace parlor::app
