#include "load/janus_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "common/errors.hpp"

namespace parlor::load {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
// Janus holds a long poll up to 30 s when nothing happens.
constexpr auto kRequestTimeout = std::chrono::seconds(40);
}  // namespace

JanusClient::JanusClient(const std::string& url) {
  if (url.rfind("http://", 0) != 0) throw BadInput("--janus must be http://host:port/path: " + url);
  std::string rest = url.substr(7);
  auto slash = rest.find('/');
  base_ = slash == std::string::npos ? "/janus" : rest.substr(slash);
  if (!base_.empty() && base_.back() == '/') base_.pop_back();
  rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
}

std::string JanusClient::request(bool post, const std::string& target, const std::string& body) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  stream.expires_after(kRequestTimeout);
  stream.connect(resolver.resolve(host_, port_));
  http::request<http::string_body> req{post ? http::verb::post : http::verb::get, target, 11};
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::content_type, "application/json");
  if (post) req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  if (res.result() != http::status::ok)
    throw InternalError("Janus HTTP " + std::to_string(res.result_int()) + ": " + res.body());
  return res.body();
}

nlohmann::json JanusClient::post(const std::string& path, nlohmann::json body) {
  {
    std::lock_guard lock(mutex_);
    body["transaction"] = "t" + std::to_string(next_transaction_++);
  }
  auto reply = nlohmann::json::parse(request(true, base_ + path, body.dump()));
  if (reply.value("janus", "") == "error") {
    throw InternalError("Janus: " + reply["error"].value("reason", std::string("error")));
  }
  return reply;
}

nlohmann::json JanusClient::create_session() {
  auto r = post("", {{"janus", "create"}});
  session_ = r["data"]["id"].get<uint64_t>();
  return r;
}

uint64_t JanusClient::attach(const std::string& plugin) {
  auto r = post("/" + std::to_string(session_), {{"janus", "attach"}, {"plugin", plugin}});
  return r["data"]["id"].get<uint64_t>();
}

nlohmann::json JanusClient::message(uint64_t handle, const nlohmann::json& body,
                                    const nlohmann::json& jsep) {
  nlohmann::json m{{"janus", "message"}, {"body", body}};
  if (!jsep.is_null()) m["jsep"] = jsep;
  auto r = post("/" + std::to_string(session_) + "/" + std::to_string(handle), m);
  // A synchronous plugin error ("success" with an error in plugindata).
  if (r.contains("plugindata") && r["plugindata"]["data"].contains("error")) {
    throw InternalError("Janus videoroom: " + r["plugindata"]["data"]["error"].get<std::string>());
  }
  return r;
}

void JanusClient::trickle(uint64_t handle, const std::string& candidate) {
  std::string path = "/" + std::to_string(session_) + "/" + std::to_string(handle);
  if (!candidate.empty()) {
    post(path, {{"janus", "trickle"},
                {"candidate", {{"candidate", candidate}, {"sdpMid", "0"}, {"sdpMLineIndex", 0}}}});
  }
  post(path, {{"janus", "trickle"}, {"candidate", {{"completed", true}}}});
}

void JanusClient::keepalive() {
  post("/" + std::to_string(session_), {{"janus", "keepalive"}});
}

void JanusClient::destroy() {
  if (session_) post("/" + std::to_string(session_), {{"janus", "destroy"}});
  session_ = 0;
}

nlohmann::json JanusClient::wait_event(uint64_t handle,
                                       const std::function<bool(const nlohmann::json&)>& match,
                                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto it = events_.begin(); it != events_.end(); ++it) {
      if (it->value("sender", uint64_t{0}) != handle) continue;
      const auto& e = *it;
      if (e.contains("plugindata") && e["plugindata"]["data"].contains("error")) {
        std::string error = e["plugindata"]["data"]["error"].get<std::string>();
        events_.erase(it);
        throw InternalError("Janus videoroom: " + error);
      }
      if (match(e)) {
        auto found = e;
        events_.erase(it);
        return found;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw InternalError("Janus: no expected event for handle " + std::to_string(handle));
    }
    auto got = nlohmann::json::parse(
        request(false, base_ + "/" + std::to_string(session_) + "?maxev=20", ""));
    // Events, webrtcup, media, hangup...: everything addressed to a handle.
    if (got.is_array()) {
      for (auto& e : got) {
        if (e.contains("sender")) events_.push_back(e);
      }
    } else if (got.contains("sender")) {
      events_.push_back(got);
    }
    // Bounded: events nobody asks for (other plugins' notifications) are dropped oldest first.
    while (events_.size() > 1000) events_.pop_front();
  }
}

}  // namespace parlor::load
