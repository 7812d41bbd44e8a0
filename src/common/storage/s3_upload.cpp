#include "common/storage/s3_upload.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <thread>
#include <vector>

#include "common/http/http_client.hpp"

namespace parlor::storage {
namespace sigv4 {
namespace {

std::string to_hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

std::string hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Header values are signed trimmed, with inner runs of spaces collapsed to one.
std::string canonical_value(const std::string& value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

std::string uri_encode(const std::string& text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::string hex_sha256(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return to_hex(digest, sizeof digest);
}

std::string amz_date(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string authorization(const Request& request, const std::string& access_key,
                          const std::string& secret, const std::string& region,
                          const std::string& amz_date, const std::string& service) {
  std::map<std::string, std::string> headers;  // sorted by lower-case name
  for (const auto& [name, value] : request.headers) headers[lower(name)] = canonical_value(value);
  headers["host"] = request.host;
  std::string canonical_query;
  std::map<std::string, std::string> query;
  for (const auto& [name, value] : request.query) query[uri_encode(name, false)] = uri_encode(value, false);
  for (const auto& [name, value] : query) {
    if (!canonical_query.empty()) canonical_query += '&';
    canonical_query += name + "=" + value;
  }
  std::string canonical_headers, signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  std::string canonical_request = request.method + "\n" +
                                  (request.canonical_uri.empty() ? "/" : request.canonical_uri) + "\n" +
                                  canonical_query + "\n" + canonical_headers + "\n" + signed_headers +
                                  "\n" + request.payload_sha256;
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + hex_sha256(canonical_request);
  std::string key = hmac(hmac(hmac(hmac("AWS4" + secret, date), region), service), "aws4_request");
  std::string signature = hmac(key, string_to_sign);
  return "AWS4-HMAC-SHA256 Credential=" + access_key + "/" + scope + ", SignedHeaders=" +
         signed_headers + ", Signature=" +
         to_hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

}  // namespace sigv4

namespace {

struct Endpoint {
  std::string scheme = "https";
  std::string host;  // with the port when one is given
  std::string bare_host;
};

Endpoint parse_endpoint(const S3Target& t) {
  Endpoint e;
  std::string url = t.endpoint.empty() ? "https://s3." + t.region + ".amazonaws.com" : t.endpoint;
  auto sep = url.find("://");
  if (sep != std::string::npos) {
    e.scheme = url.substr(0, sep);
    url = url.substr(sep + 3);
  }
  url = url.substr(0, url.find('/'));
  e.host = url;
  e.bare_host = url;
  if (!url.empty() && url[0] == '[') {
    e.bare_host = url.substr(0, url.find(']') + 1);
  } else if (auto colon = url.rfind(':'); colon != std::string::npos) {
    e.bare_host = url.substr(0, colon);
  }
  return e;
}

bool looks_like_ip_or_local(const std::string& host) {
  if (host == "localhost" || (!host.empty() && host[0] == '[')) return true;
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

std::string xml_unescape(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&quot;", "\""}, {"&apos;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1))
      s.replace(at, std::string(from).size(), to);
  }
  return s;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string xml_field(const std::string& body, const std::string& name) {
  auto open = body.find("<" + name + ">");
  if (open == std::string::npos) return "";
  open += name.size() + 2;
  auto close = body.find("</" + name + ">", open);
  if (close == std::string::npos) return "";
  return xml_unescape(body.substr(open, close - open));
}

class S3Session {
 public:
  S3Session(const S3Target& target, const std::string& key, const S3UploadOptions& options)
      : t_(target), o_(options), http_(options.ca_file), endpoint_(parse_endpoint(target)) {
    bool path_style = t_.force_path_style ||
                      (!t_.endpoint.empty() && looks_like_ip_or_local(endpoint_.bare_host)) ||
                      t_.bucket.find('.') != std::string::npos;
    std::string encoded_key = sigv4::uri_encode(key, true);
    if (path_style) {
      host_ = endpoint_.host;
      path_ = "/" + sigv4::uri_encode(t_.bucket, false) + "/" + encoded_key;
    } else {
      host_ = t_.bucket + "." + endpoint_.host;
      path_ = "/" + encoded_key;
    }
  }

  std::string location() const { return endpoint_.scheme + "://" + host_ + path_; }
  int attempts() const { return attempts_; }

  // One signed request, retried while the failure may be passing. The last answer is returned.
  http::ClientResponse send(const std::string& method, const std::map<std::string, std::string>& query,
                            std::map<std::string, std::string> headers, const std::string& body) {
    http::ClientResponse response;
    auto backoff = o_.backoff;
    for (int attempt = 1; attempt <= std::max(1, o_.max_attempts); ++attempt) {
      ++attempts_;
      response = send_once(method, query, headers, body);
      bool passing = response.status == 0 || response.status >= 500 || response.status == 429 ||
                     // CompleteMultipartUpload can fail after its 200 has started (S3 documents it).
                     (response.status == 200 && response.body.find("<Error>") != std::string::npos);
      if (!passing) return response;
      if (attempt < o_.max_attempts) {
        std::this_thread::sleep_for(backoff);
        backoff *= 2;
      }
    }
    return response;
  }

 private:
  http::ClientResponse send_once(const std::string& method, const std::map<std::string, std::string>& query,
                                 std::map<std::string, std::string> headers, const std::string& body) {
    std::string date = sigv4::amz_date(std::chrono::system_clock::now());
    headers["x-amz-date"] = date;
    headers["x-amz-content-sha256"] = sigv4::hex_sha256(body);
    if (!t_.session_token.empty()) headers["x-amz-security-token"] = t_.session_token;
    sigv4::Request r{method, host_, path_, query, headers, headers["x-amz-content-sha256"]};
    headers["Authorization"] = sigv4::authorization(r, t_.access_key, t_.secret, t_.region, date);
    headers["Host"] = host_;
    std::string url = endpoint_.scheme + "://" + host_ + path_;
    std::string q;
    for (const auto& [name, value] : query) {
      q += q.empty() ? "?" : "&";
      q += sigv4::uri_encode(name, false) + "=" + sigv4::uri_encode(value, false);
    }
    return http_.request(method, url + q, headers, body, o_.request_timeout);
  }

  const S3Target& t_;
  const S3UploadOptions& o_;
  http::HttpClient http_;
  Endpoint endpoint_;
  std::string host_, path_;
  int attempts_ = 0;
};

std::string describe(const http::ClientResponse& r) {
  if (r.status == 0) return "transport error: " + r.error;
  std::string code = xml_field(r.body, "Code"), message = xml_field(r.body, "Message");
  std::string out = "HTTP " + std::to_string(r.status);
  if (!code.empty()) out += " " + code;
  if (!message.empty()) out += ": " + message;
  return out;
}

std::map<std::string, std::string> object_headers(const S3Target& t, const std::string& content_type) {
  std::map<std::string, std::string> h;
  if (!content_type.empty()) h["Content-Type"] = content_type;
  if (!t.content_disposition.empty()) h["Content-Disposition"] = t.content_disposition;
  for (const auto& [name, value] : t.metadata) h["x-amz-meta-" + name] = value;
  if (!t.tagging.empty()) h["x-amz-tagging"] = t.tagging;
  return h;
}

bool read_chunk(std::ifstream& in, uint64_t size, std::string& out) {
  out.resize(size);
  in.read(out.data(), static_cast<std::streamsize>(size));
  return static_cast<uint64_t>(in.gcount()) == size;
}

}  // namespace

S3UploadResult upload_file(const S3Target& target, const std::filesystem::path& file,
                           const std::string& key, const std::string& content_type,
                           const S3UploadOptions& options) {
  S3UploadResult result;
  try {
    if (target.bucket.empty()) {
      result.error = "no bucket is configured";
      return result;
    }
    std::error_code ec;
    uint64_t size = std::filesystem::file_size(file, ec);
    if (ec) {
      result.error = "cannot read " + file.string() + ": " + ec.message();
      return result;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      result.error = "cannot open " + file.string();
      return result;
    }
    S3Session s3(target, key, options);
    result.location = s3.location();
    result.size = size;
    std::string chunk;
    if (size < options.multipart_threshold) {
      if (!read_chunk(in, size, chunk)) {
        result.error = "short read from " + file.string();
        return result;
      }
      auto r = s3.send("PUT", {}, object_headers(target, content_type), chunk);
      result.attempts = s3.attempts();
      if (r.status != 200) {
        result.error = "PutObject failed: " + describe(r);
        return result;
      }
      result.etag = r.headers.count("etag") ? r.headers.at("etag") : "";
      result.ok = true;
      return result;
    }

    auto created = s3.send("POST", {{"uploads", ""}}, object_headers(target, content_type), "");
    std::string upload_id = created.status == 200 ? xml_field(created.body, "UploadId") : "";
    if (upload_id.empty()) {
      result.attempts = s3.attempts();
      result.error = "CreateMultipartUpload failed: " + describe(created);
      return result;
    }
    const uint64_t part_size = std::max<uint64_t>(options.part_size, 5ull << 20);
    std::vector<std::string> etags;
    std::string failure;
    for (uint64_t offset = 0; offset < size && failure.empty(); offset += part_size) {
      uint64_t n = std::min(part_size, size - offset);
      if (!read_chunk(in, n, chunk)) {
        failure = "short read from " + file.string();
        break;
      }
      std::string number = std::to_string(etags.size() + 1);
      auto r = s3.send("PUT", {{"partNumber", number}, {"uploadId", upload_id}}, {}, chunk);
      if (r.status != 200 || !r.headers.count("etag")) {
        failure = "UploadPart " + number + " failed: " + describe(r);
      } else {
        etags.push_back(r.headers.at("etag"));
      }
    }
    if (failure.empty()) {
      std::string body = "<CompleteMultipartUpload>";
      for (size_t i = 0; i < etags.size(); ++i) {
        body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
                xml_escape(etags[i]) + "</ETag></Part>";
      }
      body += "</CompleteMultipartUpload>";
      auto r = s3.send("POST", {{"uploadId", upload_id}}, {{"Content-Type", "application/xml"}}, body);
      if (r.status == 200 && r.body.find("<Error>") == std::string::npos) {
        result.etag = xml_field(r.body, "ETag");
        result.ok = true;
      } else {
        failure = "CompleteMultipartUpload failed: " + describe(r);
      }
    }
    if (!failure.empty()) {
      // Parts of an unfinished upload are billed until aborted.
      s3.send("DELETE", {{"uploadId", upload_id}}, {}, "");
      result.error = failure;
    }
    result.attempts = s3.attempts();
  } catch (const std::exception& e) {
    result.ok = false;
    result.error = std::string("upload failed: ") + e.what();
  }
  return result;
}

}  // namespace parlor::storage
