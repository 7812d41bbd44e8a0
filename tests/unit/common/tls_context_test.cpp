#include "common/http/tls_context.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/errors.hpp"
#include "common/test_certs.hpp"

namespace parlor::http {
namespace {

namespace fs = std::filesystem;

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("parlor_tls_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    options_.cert_file = (dir_ / "cert.pem").string();
    options_.key_file = (dir_ / "key.pem").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Replaces a file the way deploy tools do: write aside, then rename over it.
  void replace(const std::string& path, const std::string& text) {
    std::string tmp = path + ".new";
    std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
    ::chmod(tmp.c_str(), 0600);
    fs::rename(tmp, path);
  }
  void install(const Pem& pem) {
    replace(options_.key_file, pem.key);
    replace(options_.cert_file, pem.cert);
  }

  fs::path dir_;
  TlsOptions options_;
};

TEST(TlsReloadDecision, ReloadsOnlyWhenBothFilesExistAndOneChanged) {
  FileStamp cert{100, 10, 1}, key{200, 20, 2};
  EXPECT_FALSE(should_reload(cert, key, cert, key));
  FileStamp touched = cert;
  touched.mtime_ns = 101;
  EXPECT_TRUE(should_reload(cert, key, touched, key));  // rewritten in place
  FileStamp renamed = key;
  renamed.inode = 3;
  EXPECT_TRUE(should_reload(cert, key, cert, renamed));  // replaced by rename
  FileStamp grown = key;
  grown.size = 21;
  EXPECT_TRUE(should_reload(cert, key, cert, grown));
  // Mid-replace, one of the files is missing: wait for the next check.
  EXPECT_FALSE(should_reload(cert, key, std::nullopt, renamed));
  EXPECT_FALSE(should_reload(cert, key, touched, std::nullopt));
}

TEST_F(TlsContextTest, LoadsAndReportsTheFingerprint) {
  install(make_self_signed("first"));
  TlsContext tls(options_);
  ASSERT_NE(tls.current(), nullptr);
  EXPECT_EQ(tls.fingerprint(), certificate_fingerprint(options_.cert_file));
  EXPECT_EQ(tls.fingerprint().size(), 32u * 3 - 1);  // "AB:CD:..." for 32 bytes
  EXPECT_EQ(tls.reload_if_changed().outcome, TlsContext::Reload::kUnchanged);
  EXPECT_EQ(tls.reloads(), 0u);
}

TEST_F(TlsContextTest, MissingMismatchedOrGarbageFilesAreClearErrors) {
  EXPECT_THROW(TlsContext{options_}, BadInput);  // neither file exists
  Pem a = make_self_signed("a"), b = make_self_signed("b");
  replace(options_.cert_file, a.cert);
  replace(options_.key_file, b.key);
  try {
    TlsContext tls(options_);
    FAIL() << "a key that is not the certificate's was accepted";
  } catch (const BadInput& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
  replace(options_.cert_file, "not a certificate\n");
  replace(options_.key_file, a.key);
  EXPECT_THROW(TlsContext{options_}, BadInput);
}

TEST_F(TlsContextTest, AChangedPairIsSwappedInAndABadOneKeepsTheOld) {
  install(make_self_signed("first"));
  TlsContext tls(options_);
  auto first = tls.current();
  std::string first_print = tls.fingerprint();

  install(make_self_signed("second"));
  auto result = tls.reload_if_changed();
  EXPECT_EQ(result.outcome, TlsContext::Reload::kReloaded) << result.message;
  EXPECT_NE(tls.current(), first);  // new connections get the new context
  EXPECT_NE(tls.fingerprint(), first_print);
  EXPECT_EQ(tls.fingerprint(), certificate_fingerprint(options_.cert_file));
  EXPECT_EQ(tls.reloads(), 1u);
  auto second = tls.current();

  // A half-written certificate: the old context stays, the failure is said once.
  replace(options_.cert_file, "-----BEGIN CERTIFICATE-----\nMIIB\n");
  result = tls.reload_if_changed();
  EXPECT_EQ(result.outcome, TlsContext::Reload::kFailed);
  EXPECT_NE(result.message.find("previous certificate"), std::string::npos) << result.message;
  EXPECT_EQ(tls.current(), second);
  EXPECT_EQ(tls.reload_failures(), 1u);
  EXPECT_EQ(tls.reload_if_changed().outcome, TlsContext::Reload::kUnchanged);
  EXPECT_EQ(tls.reload_failures(), 1u);

  // Fixed: loaded at the next check.
  install(make_self_signed("third"));
  EXPECT_EQ(tls.reload_if_changed().outcome, TlsContext::Reload::kReloaded);
  EXPECT_NE(tls.current(), second);
  EXPECT_EQ(tls.reloads(), 2u);
}

TEST_F(TlsContextTest, WarnsAboutAKeyOthersCanRead) {
  install(make_self_signed("perm"));
  TlsContext tls(options_);
  EXPECT_EQ(tls.key_permission_warning(), "");
  ::chmod(options_.key_file.c_str(), 0644);
  EXPECT_NE(tls.key_permission_warning().find("mode 644"), std::string::npos);
}

TEST_F(TlsContextTest, OnlyTls12AndNewer) {
  install(make_self_signed("proto"));
  TlsContext tls(options_);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(tls.current()->native_handle()), TLS1_2_VERSION);
}

}  // namespace
}  // namespace parlor::http
