// Signature Version 4 against the worked examples in AWS's S3 documentation ("Signature
// Calculations for the Authorization Header: Transferring Payload in a Single Chunk"), which use
// the documentation's example credentials. The uploads themselves are tested against a real
// S3-compatible server in tests/integration/egress_s3.test.js.
#include "common/storage/s3_upload.hpp"

#include <gtest/gtest.h>

namespace parlor::storage {
namespace {

constexpr const char* kKey = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string signature_of(const std::string& authorization) {
  auto at = authorization.find("Signature=");
  return at == std::string::npos ? "" : authorization.substr(at + 10);
}

TEST(SigV4, GetObjectExample) {
  sigv4::Request r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt", {},
                   {{"Range", "bytes=0-9"}, {"x-amz-content-sha256", kEmpty},
                    {"x-amz-date", "20130524T000000Z"}},
                   kEmpty};
  std::string auth = sigv4::authorization(r, kKey, kSecret, "us-east-1", "20130524T000000Z");
  EXPECT_NE(auth.find("Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"), std::string::npos);
  EXPECT_NE(auth.find("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"), std::string::npos);
  EXPECT_EQ(signature_of(auth), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObjectExample) {
  std::string body = "Welcome to Amazon S3.";
  std::string hash = sigv4::hex_sha256(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  sigv4::Request r{"PUT", "examplebucket.s3.amazonaws.com", "/" + sigv4::uri_encode("test$file.text", true), {},
                   {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-content-sha256", hash},
                    {"x-amz-date", "20130524T000000Z"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                   hash};
  EXPECT_EQ(r.canonical_uri, "/test%24file.text");
  EXPECT_EQ(signature_of(sigv4::authorization(r, kKey, kSecret, "us-east-1", "20130524T000000Z")),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, QueryParametersAreSortedAndEncoded) {
  sigv4::Request r{"GET", "examplebucket.s3.amazonaws.com", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                   {{"x-amz-content-sha256", kEmpty}, {"x-amz-date", "20130524T000000Z"}}, kEmpty};
  EXPECT_EQ(signature_of(sigv4::authorization(r, kKey, kSecret, "us-east-1", "20130524T000000Z")),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  sigv4::Request lifecycle{"GET", "examplebucket.s3.amazonaws.com", "/", {{"lifecycle", ""}},
                           {{"x-amz-content-sha256", kEmpty}, {"x-amz-date", "20130524T000000Z"}}, kEmpty};
  EXPECT_EQ(signature_of(sigv4::authorization(lifecycle, kKey, kSecret, "us-east-1", "20130524T000000Z")),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(sigv4::uri_encode("visit 7/a+b~c.mp4", true), "visit%207/a%2Bb~c.mp4");
  EXPECT_EQ(sigv4::uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(sigv4::amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1369353600))),
            "20130524T000000Z");
}

TEST(S3Upload, FailuresAreReportedNotThrown) {
  S3Target t;
  t.bucket = "b";
  t.endpoint = "http://127.0.0.1:1";
  auto missing = upload_file(t, "/nonexistent/file.mp4", "k", "video/mp4");
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.error.find("cannot read"), std::string::npos);
  S3Target no_bucket;
  EXPECT_EQ(upload_file(no_bucket, "/etc/hostname", "k", "").error, "no bucket is configured");
}

}  // namespace
}  // namespace parlor::storage
