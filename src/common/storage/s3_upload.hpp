#pragma once
// Uploading a finished recording to an S3-compatible bucket (AWS S3, MinIO, Ceph radosgw, ...),
// as LiveKit's egress does for an `S3Upload` output: AWS Signature Version 4 over libcurl, one
// PutObject for small files and a multipart upload (CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload; AbortMultipartUpload when it cannot finish) for large ones, each
// request retried with backoff on transport errors, throttling and 5xx answers. The caller keeps
// its local file until upload() reports success.
//
// Threading: blocking; one call per thread at a time (it owns its HttpClient). Run it on a job
// thread, never on a media worker or an HTTP thread.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace parlor::storage {

// Where to put objects: EgressClient's S3Upload fields, or the facility's bucket from config.
struct S3Target {
  std::string access_key;
  std::string secret;
  std::string session_token;  // temporary credentials (x-amz-security-token)
  std::string region = "us-east-1";
  // "http(s)://host[:port]" of an S3-compatible server; empty = AWS (https://s3.<region>.amazonaws.com).
  std::string endpoint;
  std::string bucket;
  // Path-style URLs (<endpoint>/<bucket>/<key>) instead of virtual-hosted (<bucket>.<host>/<key>);
  // always used for a custom endpoint that is an IP address or localhost.
  bool force_path_style = false;
  std::string content_disposition;
  std::map<std::string, std::string> metadata;  // x-amz-meta-<name>
  std::string tagging;                          // x-amz-tagging, URL-encoded key=value&...
};

struct S3UploadOptions {
  uint64_t part_size = 8ull << 20;  // bytes per UploadPart (S3's minimum is 5 MiB but the last)
  uint64_t multipart_threshold = 16ull << 20;  // files this large or larger go multipart
  int max_attempts = 4;                        // per request
  std::chrono::milliseconds backoff{500};      // doubled after each failed attempt
  std::chrono::milliseconds request_timeout{std::chrono::minutes(2)};
  std::string ca_file;  // trusted CAs for an https endpoint; empty = the system's store
};

struct S3UploadResult {
  bool ok = false;
  std::string location;  // the object's URL
  std::string etag;
  uint64_t size = 0;
  int attempts = 0;      // HTTP requests made, retries included
  std::string error;     // why it failed (the last answer or transport error)
};

// Never throws: every failure, a missing file included, is in the result.
S3UploadResult upload_file(const S3Target& target, const std::filesystem::path& file,
                           const std::string& key, const std::string& content_type,
                           const S3UploadOptions& options = {});

// The parts of Signature Version 4 (exposed for tests against AWS's published examples).
namespace sigv4 {

struct Request {
  std::string method;
  std::string host;            // the Host header's value
  std::string canonical_uri;   // already URI-encoded path, "/" when empty
  std::map<std::string, std::string> query;    // decoded names and values
  std::map<std::string, std::string> headers;  // signed, besides host; names any case
  std::string payload_sha256;  // lower-case hex
};

std::string uri_encode(const std::string& text, bool keep_slash);
std::string hex_sha256(const std::string& data);
// "Authorization" header value for `request` at `amz_date` (YYYYMMDD'T'HHMMSS'Z').
std::string authorization(const Request& request, const std::string& access_key,
                          const std::string& secret, const std::string& region,
                          const std::string& amz_date, const std::string& service = "s3");
std::string amz_date(std::chrono::system_clock::time_point when);

}  // namespace sigv4
}  // namespace parlor::storage
