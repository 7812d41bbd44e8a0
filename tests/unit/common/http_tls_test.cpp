// The HTTP server with TLS on (issue 15): HTTPS answers carry HSTS and Request::secure; a
// plain-HTTP client and a stalled handshake are cut off and counted while others are served;
// replaced certificate files reach new connections. Real sockets on loopback, a real TLS client.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/http/http_server.hpp"
#include "common/http/tls_context.hpp"
#include "common/test_certs.hpp"

namespace parlor::http {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

struct Answer {
  int status = 0;
  std::string body, hsts, fingerprint;
};

std::string sha256_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    if (i) out += ':';
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xF];
  }
  return out;
}

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("parlor_http_tls_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    first_ = make_self_signed("first");
    second_ = make_self_signed("second");
    install(first_);
    TlsOptions t;
    t.cert_file = (dir_ / "cert.pem").string();
    t.key_file = (dir_ / "key.pem").string();
    t.reload_interval = std::chrono::milliseconds(50);
    t.handshake_timeout = std::chrono::seconds(1);
    tls_ = std::make_shared<TlsContext>(t);
    router_.add("GET", "/scheme", [](const Request& r) {
      return Response::text(200, r.secure ? "secure" : "plain");
    });
    ServerOptions o;
    o.tls = tls_;
    o.log = [](bool, const std::string&) {};
    server_ = std::make_unique<Server>(io_, router_, o);
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    asio::post(io_, [this] { server_->stop(); });
    io_.stop();
    thread_.join();
    server_.reset();
    fs::remove_all(dir_);
  }

  void install(const Pem& pem) {
    for (auto [name, text] : {std::pair{"key.pem", pem.key}, std::pair{"cert.pem", pem.cert}}) {
      auto path = dir_ / name;
      std::ofstream(path.string() + ".new", std::ios::binary | std::ios::trunc) << text;
      fs::rename(path.string() + ".new", path);
    }
  }

  // One HTTPS GET on a new connection, trusting both test certificates.
  Answer get(const std::string& target) {
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.add_certificate_authority(asio::buffer(first_.cert));
    ctx.add_certificate_authority(asio::buffer(second_.cert));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<tcp::socket> s(io, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    s.handshake(asio::ssl::stream_base::client);
    Answer a;
    X509* peer = SSL_get1_peer_certificate(s.native_handle());
    a.fingerprint = sha256_of(peer);
    X509_free(peer);
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "localhost");
    bhttp::write(s, req);
    boost::beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(s, buffer, res);
    a.status = static_cast<int>(res.result_int());
    a.body = res.body();
    a.hsts = std::string(res[bhttp::field::strict_transport_security]);
    return a;
  }

  // A raw TCP connection with a receive timeout, so a read that never ends fails the test.
  tcp::socket raw(asio::io_context& io) {
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    timeval tv{10, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return s;
  }

  // Reads until the server closes; what it sent.
  static std::string read_to_close(tcp::socket& s, boost::system::error_code& last) {
    std::string got;
    char buf[4096];
    for (;;) {
      size_t n = s.read_some(asio::buffer(buf), last);
      got.append(buf, n);
      if (last) return got;
    }
  }

  fs::path dir_;
  Pem first_, second_;
  std::shared_ptr<TlsContext> tls_;
  asio::io_context io_;
  Router router_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

TEST_F(HttpTlsTest, ServesHttpsWithHstsAndMarksRequestsSecure) {
  Answer a = get("/scheme");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "secure");
  EXPECT_EQ(a.hsts, "max-age=31536000");
  EXPECT_EQ(a.fingerprint, tls_->fingerprint());
}

TEST_F(HttpTlsTest, PlainHttpIsClosedAndCountedAndOthersGoOn) {
  asio::io_context io;
  auto s = raw(io);
  asio::write(s, asio::buffer(std::string("GET /scheme HTTP/1.1\r\nHost: x\r\n\r\n")));
  boost::system::error_code ec;
  std::string got = read_to_close(s, ec);
  EXPECT_NE(ec, asio::error::would_block) << "the server kept a plain-HTTP client waiting";
  EXPECT_EQ(got.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(tls_->handshake_failures(), 1u);
  EXPECT_EQ(get("/scheme").body, "secure");
}

TEST_F(HttpTlsTest, AStalledHandshakeIsCutOffWhileOthersAreServed) {
  asio::io_context io;
  auto s = raw(io);
  // A record header promising a ClientHello that never comes.
  const unsigned char partial[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  asio::write(s, asio::buffer(partial));
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(get("/scheme").body, "secure");  // not held up by the stalled one
  boost::system::error_code ec;
  read_to_close(s, ec);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_NE(ec, asio::error::would_block) << "the stalled handshake was never cut off";
  EXPECT_LT(took, std::chrono::seconds(8));  // handshake_timeout is 1 s
  // Counted by the handshake's completion, which may run just after the socket closed.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (tls_->handshake_failures() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(tls_->handshake_failures(), 1u);
}

TEST_F(HttpTlsTest, ReplacedFilesReachNewConnections) {
  std::string before = get("/scheme").fingerprint;
  install(second_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string now = before;
  while (now == before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll with a deadline
    now = get("/scheme").fingerprint;
  }
  EXPECT_NE(now, before);
  EXPECT_EQ(now, certificate_fingerprint((dir_ / "cert.pem").string()));
  EXPECT_GE(tls_->reloads(), 1u);
}

}  // namespace
}  // namespace parlor::http
