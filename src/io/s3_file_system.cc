// s3:// and gs:// behind the file-system seam, through libcurl: requests
// signed by libcurl's SigV4 (CURLOPT_AWS_SIGV4), run on a curl multi handle
// with a bounded number of concurrent transfers, retried with backoff on
// throttling, 5xx and timeouts. Reads are ranged GETs; a write is one PUT,
// or a multipart upload above S3Settings::multipart_threshold.
// See docs/stores.md.
#include "flink_savepoint/s3_file_system.h"
#include "flink_savepoint/shared_library_internal.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace fsp::io {
namespace {

using Clock = std::chrono::steady_clock;

// libcurl is opened when a store is first used, not linked
// (shared_library_internal.h): loading it with the TLS, Kerberos, LDAP and SSH
// libraries it links cost every command about 6 ms at startup.
#define FSP_CURL_FUNCTIONS(X)                                                                              \
  X(curl_, global_init) X(curl_, multi_init) X(curl_, multi_setopt) X(curl_, multi_cleanup)                  \
  X(curl_, multi_add_handle) X(curl_, multi_remove_handle) X(curl_, multi_perform) X(curl_, multi_poll)      \
  X(curl_, multi_info_read) X(curl_, easy_init) X(curl_, easy_reset) X(curl_, easy_cleanup)                  \
  X(curl_, easy_setopt) X(curl_, easy_getinfo) X(curl_, easy_strerror) X(curl_, slist_append)                \
  X(curl_, slist_free_all) X(curl_, getdate)
struct CurlLibrary {
  FSP_CURL_FUNCTIONS(FSP_LIBRARY_MEMBER)
};

// Opens libcurl once per process: $FSP_LIBCURL when set (a path or a name),
// else the OpenSSL build's name, then the GnuTLS build's. A store exists only
// once it loaded.
const std::optional<Error>& load_curl() {
  return LibraryTable<CurlLibrary>::load(
      {"libcurl.so.4", "libcurl-gnutls.so.4"}, "FSP_LIBCURL",
      [](SharedLibrary& so, CurlLibrary& lib) { FSP_CURL_FUNCTIONS(FSP_LIBRARY_BIND) }, "libcurl", "s3:// and gs://",
      "install libcurl 7.75 or newer (Debian: apt-get install libcurl4), or set FSP_LIBCURL to its path");
}

const CurlLibrary& curl() { return LibraryTable<CurlLibrary>::get(); }

Status walk_xml(std::string_view x, const std::function<void(const std::string& path, std::string text)>& leaf);

std::atomic<uint64_t> g_requests{0}, g_retries{0}, g_received{0}, g_sent{0}, g_copies{0}, g_multipart{0}, g_aborts{0};

constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr uint64_t kChunk = 8u << 20;  // whole-object reads: ranged GETs of this size, in parallel
constexpr uint64_t kMaxCopyObject = 5ull << 30;  // CopyObject copies up to 5 GiB in one request
constexpr uint64_t kMaxParts = 10000;            // parts of one multipart upload

// --- URIs and URLs -----------------------------------------------------------------------

struct ObjectUri {
  std::string scheme, bucket, key;  // key without a leading '/'
};

Result<ObjectUri> parse_object_uri(std::string_view uri) {
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos) return Error::usage("'" + std::string(uri) + "' is not an object-store URI (scheme://bucket/key)");
  ObjectUri o;
  o.scheme = std::string(uri.substr(0, sep));
  for (auto& c : o.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = uri.substr(sep + 3);
  size_t slash = rest.find('/');
  o.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) o.key = std::string(rest.substr(slash + 1));
  if (o.bucket.empty()) return Error::usage("'" + std::string(uri) + "' names no bucket (expected " + o.scheme + "://BUCKET/KEY)");
  return o;
}

std::string uri_of(const ObjectUri& o, std::string_view key) { return o.scheme + "://" + o.bucket + "/" + std::string(key); }

// "s3://b/x/y" -> "s3://b/x" (for the `aws s3 ls` hints).
std::string parent_of(std::string_view uri) {
  while (uri.size() > 1 && uri.back() == '/') uri.remove_suffix(1);
  size_t slash = uri.rfind('/');
  if (slash == std::string_view::npos || (slash > 0 && uri[slash - 1] == '/')) return std::string(uri);
  return std::string(uri.substr(0, slash));
}

// AWS's URI encoding: every byte but A-Za-z0-9 - _ . ~ (and '/' in paths) as %XX.
std::string aws_encode(std::string_view s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) out += static_cast<char>(c);
    else out += '%', out += hex[c >> 4], out += hex[c & 15];
  }
  return out;
}

// Query parameters in the order SigV4's canonical request wants (sorted by name).
std::string query_string(std::map<std::string, std::string> params) {
  std::string q;
  for (const auto& [k, v] : params) q += (q.empty() ? "" : "&") + aws_encode(k, false) + "=" + aws_encode(v, false);
  return q;
}

// --- transfers on a curl multi handle ------------------------------------------------------

struct Transfer {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;
  std::string_view body;          // PUT
  uint64_t max_body = 0;          // abort when the response body grows beyond (0 = no limit)
  // response
  long status = 0;
  CURLcode code = CURLE_OK;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  std::string response;
  std::map<std::string, std::string> response_headers;  // lower-case names
  bool too_large = false;
  int attempts = 0;
  size_t upload_pos = 0;
  Clock::time_point not_before{};

  void reset_response() {
    status = 0;
    code = CURLE_OK;
    error_buffer[0] = 0;
    response.clear();
    response_headers.clear();
    too_large = false;
    upload_pos = 0;
  }
  std::string header(const std::string& name) const {
    auto it = response_headers.find(name);
    return it == response_headers.end() ? std::string() : it->second;
  }
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->max_body && t->response.size() + len > t->max_body) {
    t->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  t->response.append(data, len);
  g_received += len;
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->response_headers.clear();  // a new response (after 100 Continue)
  size_t colon = line.find(':');
  if (colon != std::string_view::npos && t->response_headers.size() < 256) {
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    t->response_headers[name] = std::string(v.substr(0, 4096));
  }
  return size * n;
}

size_t on_upload(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = std::min(size * n, t->body.size() - t->upload_pos);
  std::memcpy(buffer, t->body.data() + t->upload_pos, len);
  t->upload_pos += len;
  g_sent += len;
  return len;
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > t->body.size()) return CURL_SEEKFUNC_FAIL;
  t->upload_pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool retryable(const Transfer& t) {
  switch (t.code) {
    case CURLE_OK: break;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
  if (t.status == 429 || t.status == 500 || t.status == 502 || t.status == 503 || t.status == 504) return true;
  if (t.status == 400 && t.response.find("<Code>RequestTimeout</Code>") != std::string::npos) return true;
  return false;
}

class Pool {
 public:
  explicit Pool(const S3Settings& s) : settings_(s) {
    static std::once_flag once;
    std::call_once(once, [] { curl().global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl().multi_init();
    curl().multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(s.max_connections));
  }
  ~Pool() {
    for (CURL* e : idle_) curl().easy_cleanup(e);
    curl().multi_cleanup(multi_);
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs every transfer to completion (retrying), at most max_connections at a time.
  void run(const std::vector<Transfer*>& transfers) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::deque<Transfer*> pending(transfers.begin(), transfers.end());
    std::map<CURL*, Transfer*> active;
    const auto start = Clock::now();
    const bool tty = isatty(2) != 0;
    bool progress_shown = false;
    size_t done = 0;
    uint64_t received_at_start = g_received;
    std::mt19937 rng(static_cast<unsigned>(Clock::now().time_since_epoch().count()));
    while (!pending.empty() || !active.empty()) {
      auto now = Clock::now();
      for (size_t i = pending.size(); i > 0 && static_cast<int>(active.size()) < settings_.max_connections; --i) {
        Transfer* t = pending.front();
        pending.pop_front();
        if (t->not_before > now) {
          pending.push_back(t);
          continue;
        }
        CURL* e = start_transfer(*t);
        active[e] = t;
      }
      int running = 0;
      curl().multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* m = curl().multi_info_read(multi_, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL* e = m->easy_handle;
        Transfer* t = active[e];
        active.erase(e);
        t->code = m->data.result;
        curl().easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->status);
        curl().multi_remove_handle(multi_, e);
        idle_.push_back(e);
        if (!t->too_large && retryable(*t) && t->attempts < settings_.max_attempts) {
          // Exponential backoff with jitter; Retry-After when the store sends one.
          long base_ms = std::min(200L << std::min(t->attempts - 1, 6), 10000L);
          long wait_ms = base_ms / 2 + static_cast<long>(rng() % static_cast<unsigned>(base_ms / 2 + 1));
          if (std::string ra = t->header("retry-after"); !ra.empty() && std::all_of(ra.begin(), ra.end(), ::isdigit) && ra.size() < 4)
            wait_ms = std::max(wait_ms, std::min(std::stol(ra) * 1000, 20000L));
          t->not_before = Clock::now() + std::chrono::milliseconds(wait_ms);
          t->reset_response();
          ++g_retries;
          pending.push_back(t);
        } else {
          ++done;
        }
      }
      if (tty && Clock::now() - start > std::chrono::seconds(1)) {
        std::cerr << "\r" << settings_.store << ": " << done << "/" << transfers.size() << " request(s), "
                  << (g_received - received_at_start) / 1024 << " KiB received" << std::flush;
        progress_shown = true;
      }
      if (pending.empty() && active.empty()) break;
      int timeout_ms = 200;
      if (active.empty() && !pending.empty()) {
        auto next = std::min_element(pending.begin(), pending.end(), [](auto* a, auto* b) { return a->not_before < b->not_before; });
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>((*next)->not_before - Clock::now()).count();
        if (wait > 0) {
          std::this_thread::sleep_for(std::chrono::milliseconds(wait));
          continue;
        }
      }
      curl().multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
    }
    if (progress_shown) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  CURL* start_transfer(Transfer& t) {
    CURL* e;
    if (!idle_.empty()) {
      e = idle_.back();
      idle_.pop_back();
      curl().easy_reset(e);
    } else {
      e = curl().easy_init();
    }
    ++t.attempts;
    ++g_requests;
    t.reset_response();
    curl().easy_setopt(e, CURLOPT_URL, t.url.c_str());
    curl().easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer);
    curl().easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl().easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl().easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl().easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl().easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(e, CURLOPT_CONNECTTIMEOUT, static_cast<long>(settings_.connect_timeout_s));
    curl().easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl().easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(settings_.low_speed_timeout_s));
    curl().easy_setopt(e, CURLOPT_USERAGENT, "flink-savepoint");
    curl().easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    std::string sigv4 = "aws:amz:" + settings_.region + ":s3";
    curl().easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());  // copied by libcurl
    curl().easy_setopt(e, CURLOPT_USERNAME, settings_.access_key_id.c_str());
    curl().easy_setopt(e, CURLOPT_PASSWORD, settings_.secret_access_key.c_str());
    if (t.method == "HEAD") {
      curl().easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (t.method == "PUT") {
      curl().easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl().easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
      curl().easy_setopt(e, CURLOPT_READDATA, &t);
      curl().easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
      curl().easy_setopt(e, CURLOPT_SEEKDATA, &t);
      curl().easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
    } else if (t.method == "POST") {
      curl().easy_setopt(e, CURLOPT_POST, 1L);
      curl().easy_setopt(e, CURLOPT_POSTFIELDS, t.body.data());
      curl().easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
      g_sent += t.body.size();
    } else if (t.method != "GET") {
      curl().easy_setopt(e, CURLOPT_CUSTOMREQUEST, t.method.c_str());
    }
    if (!settings_.connect_to.empty()) {
      connect_to_.reset();
      for (const auto& c : settings_.connect_to) connect_to_.append(c);
      curl().easy_setopt(e, CURLOPT_CONNECT_TO, connect_to_.list);
    }
    headers_[e].reset();
    auto& h = headers_[e];
    for (const auto& line : t.headers) h.append(line);
    if (!settings_.fixed_amz_date.empty()) h.append("x-amz-date: " + settings_.fixed_amz_date);
    if (!settings_.session_token.empty()) h.append("x-amz-security-token: " + settings_.session_token);
    curl().easy_setopt(e, CURLOPT_HTTPHEADER, h.list);
    curl().multi_add_handle(multi_, e);
    return e;
  }

  struct Slist {
    curl_slist* list = nullptr;
    void append(const std::string& s) { list = curl().slist_append(list, s.c_str()); }
    void reset() {
      curl().slist_free_all(list);
      list = nullptr;
    }
    ~Slist() { reset(); }
  };

  const S3Settings& settings_;
  CURLM* multi_;
  std::vector<CURL*> idle_;
  std::map<CURL*, Slist> headers_;
  Slist connect_to_;
  std::mutex mutex_;
};

// --- errors ------------------------------------------------------------------------------

std::string store_variables(const S3Settings& s) {
  return s.store == "gs" ? "GS_ACCESS_KEY_ID / GS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE";
}

// What went wrong with a finished transfer, naming the URI and what to do.
Error transfer_error(const Transfer& t, const std::string& uri, const S3Settings& s) {
  if (t.code != CURLE_OK && !t.too_large) {
    Error e = Error::io(uri + ": " + (t.error_buffer[0] ? std::string(t.error_buffer) : curl().easy_strerror(t.code)) +
                        " (after " + std::to_string(t.attempts) + " attempt(s))");
    e.hint = s.endpoint.empty() ? "check the network and the region (" + s.region + ", from " + s.region_source + ")"
                                : "check that the store at " + s.endpoint + " is reachable (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3)";
    if (s.store == "gs" && !s.endpoint.empty()) e.hint = "check that the store at " + s.endpoint + " is reachable (GS_ENDPOINT_URL)";
    return e;
  }
  StoreErrorBody body = parse_store_error(t.response);
  std::string detail = " (HTTP " + std::to_string(t.status) + (body.code.empty() ? "" : " " + body.code) +
                       (body.message.empty() ? "" : ": " + body.message) + ")";
  std::string bucket_region = !t.header("x-amz-bucket-region").empty() ? t.header("x-amz-bucket-region") : body.region;
  if (t.status == 301 || body.code == "PermanentRedirect" || body.code == "AuthorizationHeaderMalformed" ||
      (t.status == 400 && !bucket_region.empty() && bucket_region != s.region)) {
    Error e = Error::io(uri + ": the bucket is in another region than " + s.region + detail);
    e.hint = bucket_region.empty() ? "set AWS_REGION to the bucket's region (now " + s.region + ", from " + s.region_source + ")"
                                   : "the bucket is in " + bucket_region + ": set AWS_REGION=" + bucket_region;
    return e;
  }
  if (t.status == 403) {
    Error e = Error::io(uri + ": access denied" + detail);
    if (body.code == "InvalidAccessKeyId")
      e.hint = "the store does not know the access key id '" + s.access_key_id + "' (from " + s.credentials_source +
               "): check " + store_variables(s);
    else if (body.code == "SignatureDoesNotMatch")
      e.hint = "the secret key does not match the access key id '" + s.access_key_id + "' (from " + s.credentials_source + ")";
    else if (body.code == "RequestTimeTooSkewed")
      e.hint = "the system clock is off: fix the time (e.g. with NTP)";
    else if (body.code == "ExpiredToken" || body.code == "InvalidToken")
      e.hint = "the session token has expired: get fresh credentials (AWS_SESSION_TOKEN)";
    else
      e.hint = "check the credentials (" + store_variables(s) + "; now from " + s.credentials_source +
               ") and that their policy allows reading (s3:GetObject, s3:ListBucket) or writing (s3:PutObject) here";
    return e;
  }
  if (t.status == 404) {
    if (body.code == "NoSuchBucket") {
      Error e = Error::no_input(uri + ": no such bucket" + detail);
      e.hint = "check the bucket name" + std::string(s.endpoint.empty() ? " and the region (" + s.region + ")" : " and the endpoint (" + s.endpoint + ")");
      return e;
    }
    Error e = Error::no_input(uri + ": no such object" + detail);
    e.hint = "check the path: give the snapshot directory or its _metadata (list it with `aws s3 ls " + parent_of(uri) + "/`)";
    return e;
  }
  if (t.too_large) return Error::io(uri + ": larger than " + std::to_string(t.max_body) + " bytes, more than the reader expects");
  Error e = Error::io(uri + ": the store answered" + detail + " after " + std::to_string(t.attempts) + " attempt(s)");
  if (retryable(t)) e.hint = "the store is throttling or failing: retry later, or raise AWS_MAX_ATTEMPTS (now " + std::to_string(s.max_attempts) + ")";
  return e;
}

// --- the store ---------------------------------------------------------------------------

class S3FileSystem;

class S3Buffer : public Buffer {
 public:
  explicit S3Buffer(std::string b) : bytes_(std::move(b)) {}
  std::string_view bytes() const override { return bytes_; }

 private:
  std::string bytes_;
};

class S3FileSystem : public FileSystem, public std::enable_shared_from_this<S3FileSystem> {
 public:
  explicit S3FileSystem(S3Settings s) : settings_(std::move(s)), pool_(settings_) {}

  std::vector<std::string> schemes() const override { return store_schemes(settings_.store); }

  const S3Settings& settings() const { return settings_; }

  // The URL of an object (or of the bucket for key ""), with an optional query.
  std::string url(const ObjectUri& o, std::string_view key, const std::string& query = {}) const {
    std::string base = settings_.endpoint.empty() ? "https://s3." + settings_.region + ".amazonaws.com" : settings_.endpoint;
    bool virtual_hosted = settings_.endpoint.empty() ? o.bucket.find('.') == std::string::npos : settings_.virtual_hosted;
    std::string u;
    if (virtual_hosted) {
      size_t host = base.find("://");
      host = host == std::string::npos ? 0 : host + 3;
      u = base.substr(0, host) + o.bucket + "." + base.substr(host) + "/" + aws_encode(key, true);
    } else {
      u = base + "/" + o.bucket + "/" + aws_encode(key, true);
      if (key.empty()) u.pop_back();  // path-style bucket URL: /bucket?list-type=2
    }
    if (!query.empty()) u += "?" + query;
    return u;
  }

  Transfer request(std::string method, const ObjectUri& o, std::string_view key, const std::string& query = {}) const {
    Transfer t;
    t.method = std::move(method);
    t.url = url(o, key, query);
    const bool body = t.method == "PUT" || t.method == "POST";
    t.headers.push_back(std::string("x-amz-content-sha256: ") + (body ? "UNSIGNED-PAYLOAD" : kEmptySha256));
    return t;
  }

  Status ready() const {
    if (!settings_.credentials_error.empty()) {
      Error e = Error::usage(settings_.credentials_error);
      e.hint = "see docs/stores.md; or stream the file through standard input (aws s3 cp URI - | flink-savepoint inspect -)";
      return e;
    }
    return {};
  }

  void run(Transfer& t) { pool_.run({&t}); }
  void run(const std::vector<Transfer*>& ts) { pool_.run(ts); }

  // HEAD an object: nullopt when absent (404). Errors other than 404 are
  // asked again as a one-byte GET, whose body says what is wrong.
  Result<std::optional<FileInfo>> head(const std::string& uri, const ObjectUri& o) {
    Transfer t = request("HEAD", o, o.key);
    run(t);
    if (t.code == CURLE_OK && t.status / 100 == 2) {
      FileInfo fi;
      fi.uri = uri;
      std::string len = t.header("content-length");
      fi.size = len.empty() ? 0 : std::strtoull(len.c_str(), nullptr, 10);
      fi.mtime_ms = parse_http_date_ms(t.header("last-modified"));
      return std::optional<FileInfo>(fi);
    }
    if (t.code == CURLE_OK && t.status == 404) return std::optional<FileInfo>();
    if (t.code == CURLE_OK) {
      Transfer g = request("GET", o, o.key);
      g.headers.push_back("Range: bytes=0-0");
      g.max_body = 1 << 20;
      run(g);
      if (g.status != 0 && g.status / 100 != 2) {
        if (g.header("x-amz-bucket-region").empty() && !t.header("x-amz-bucket-region").empty())
          g.response_headers["x-amz-bucket-region"] = t.header("x-amz-bucket-region");
        return transfer_error(g, uri, settings_);
      }
    }
    return transfer_error(t, uri, settings_);
  }

  static int64_t parse_http_date_ms(const std::string& s) {
    if (s.empty()) return 0;
    time_t t = curl().getdate(s.c_str(), nullptr);
    return t < 0 ? 0 : static_cast<int64_t>(t) * 1000;
  }

  // ListObjectsV2 pages under `prefix` (with delimiter '/' unless recursive).
  Result<ListObjectsPage> list_all(const std::string& uri, const ObjectUri& o, const std::string& prefix, bool recursive,
                                   int max_keys = 0) {
    ListObjectsPage all;
    std::string token;
    for (int page = 0;; ++page) {
      std::map<std::string, std::string> q{{"list-type", "2"}, {"prefix", prefix}};
      if (!recursive) q["delimiter"] = "/";
      if (!token.empty()) q["continuation-token"] = token;
      if (max_keys) q["max-keys"] = std::to_string(max_keys);
      Transfer t = request("GET", o, "", query_string(q));
      t.max_body = 64u << 20;
      run(t);
      if (t.code != CURLE_OK || t.status != 200) return transfer_error(t, uri, settings_);
      auto p = parse_list_objects_v2(t.response);
      if (!p) {
        Error e = p.take_error();
        e.message = uri + ": unreadable listing from the store: " + e.message;
        return e;
      }
      for (auto& obj : p->objects) all.objects.push_back(std::move(obj));
      for (auto& cp : p->common_prefixes) all.common_prefixes.push_back(std::move(cp));
      if (max_keys || !p->truncated) break;
      if (p->next_continuation_token.empty() || p->next_continuation_token == token)
        return Error::io(uri + ": the store's listing is truncated but gives no new continuation token");
      token = p->next_continuation_token;
      if (page > 1000000) return Error::io(uri + ": more than a million listing pages");
    }
    return all;
  }

  Result<FileInfo> stat(const std::string& uri) override {
    if (Status r = ready(); !r) return r.take_error();
    auto o = parse_object_uri(uri);
    if (!o) return o.error();
    FileInfo dir;
    dir.uri = uri;
    while (dir.uri.size() > o->scheme.size() + 3 + o->bucket.size() && dir.uri.back() == '/') dir.uri.pop_back();
    dir.is_directory = true;
    dir.is_regular = false;
    std::string key = o->key;
    if (!key.empty() && key.back() != '/') {
      auto h = head(uri, *o);
      if (!h) return h.error();
      if (*h) return **h;
    }
    while (!key.empty() && key.back() == '/') key.pop_back();
    auto l = list_all(uri, *o, key.empty() ? "" : key + "/", false, 1);
    if (!l) return l.error();
    if (key.empty() || !l->objects.empty() || !l->common_prefixes.empty()) return dir;
    Error e = Error::no_input(uri + ": no such object or prefix");
    e.hint = "check the path (list it with `aws s3 ls " + parent_of(uri) + "/`)";
    return e;
  }

  Result<std::vector<FileInfo>> list(const std::string& uri, bool recursive) override {
    if (Status r = ready(); !r) return r.take_error();
    auto o = parse_object_uri(uri);
    if (!o) return o.error();
    std::string key = o->key;
    while (!key.empty() && key.back() == '/') key.pop_back();
    std::string prefix = key.empty() ? "" : key + "/";
    auto l = list_all(uri, *o, prefix, recursive);
    if (!l) return l.error();
    std::vector<FileInfo> out;
    for (const auto& cp : l->common_prefixes) {
      FileInfo fi;
      std::string k = cp;
      while (!k.empty() && k.back() == '/') k.pop_back();
      fi.uri = uri_of(*o, k);
      fi.is_directory = true;
      fi.is_regular = false;
      out.push_back(std::move(fi));
    }
    for (const auto& obj : l->objects) {
      if (obj.key.empty() || obj.key.back() == '/') continue;  // "directory" marker objects
      FileInfo fi;
      fi.uri = uri_of(*o, obj.key);
      fi.size = obj.size;
      fi.mtime_ms = obj.mtime_ms;
      out.push_back(std::move(fi));
    }
    if (out.empty() && !key.empty()) {
      // An object rather than a prefix, or nothing at all: say which.
      auto st = stat(uri);
      if (!st) return st.error();
    }
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.uri < b.uri; });
    return out;
  }

  // Ranged GETs of [offset, offset+length) in chunks, concurrently; `etag`
  // (when known) makes every chunk come from the same version of the object.
  Result<std::string> get_range(const std::string& uri, const ObjectUri& o, uint64_t offset, uint64_t length,
                                const std::string& etag) {
    std::vector<Transfer> ts;
    for (uint64_t at = offset; at < offset + length; at += kChunk) {
      uint64_t n = std::min(kChunk, offset + length - at);
      Transfer t = request("GET", o, o.key);
      t.headers.push_back("Range: bytes=" + std::to_string(at) + "-" + std::to_string(at + n - 1));
      if (!etag.empty()) t.headers.push_back("If-Match: " + etag);
      t.max_body = n;
      ts.push_back(std::move(t));
    }
    std::vector<Transfer*> ptrs;
    for (auto& t : ts) ptrs.push_back(&t);
    run(ptrs);
    std::string out;
    out.reserve(length);
    for (auto& t : ts) {
      if (t.status == 412) return Error::io(uri + ": the object changed while it was read; run the command again");
      if (t.code != CURLE_OK || (t.status != 206 && t.status != 200)) return transfer_error(t, uri, settings_);
      out += t.response;
    }
    return out;
  }

  Result<std::shared_ptr<const Buffer>> read(const std::string& uri, const ReadOptions& options) override {
    if (Status r = ready(); !r) return r.take_error();
    auto o = parse_object_uri(uri);
    if (!o) return o.error();
    if (o->key.empty() || o->key.back() == '/') return Error::usage(uri + ": a prefix, not an object");
    // The first chunk says the size (Content-Range); the rest follow in parallel.
    Transfer t = request("GET", *o, o->key);
    uint64_t first = options.max_bytes ? std::min<uint64_t>(kChunk, options.max_bytes + 1) : kChunk;
    t.headers.push_back("Range: bytes=0-" + std::to_string(first - 1));
    t.max_body = first;
    run(t);
    if (t.status == 416) return std::shared_ptr<const Buffer>(std::make_shared<S3Buffer>(std::string()));  // empty object
    if (t.code != CURLE_OK || (t.status != 206 && t.status != 200)) {
      if (t.status == 0 || t.status / 100 == 2) return transfer_error(t, uri, settings_);
      return transfer_error(t, uri, settings_);
    }
    uint64_t total = t.response.size();
    if (t.status == 206) {
      std::string cr = t.header("content-range");  // bytes 0-N/TOTAL
      size_t slash = cr.rfind('/');
      if (slash != std::string::npos && cr.substr(slash + 1) != "*") total = std::strtoull(cr.c_str() + slash + 1, nullptr, 10);
    }
    if (options.max_bytes && total > options.max_bytes)
      return Error::data(uri + ": " + std::to_string(total) + " bytes, more than the " + std::to_string(options.max_bytes) + " expected");
    std::string bytes = std::move(t.response);
    if (total > bytes.size()) {
      auto rest = get_range(uri, *o, bytes.size(), total - bytes.size(), t.header("etag"));
      if (!rest) return rest.error();
      bytes += *rest;
    }
    return std::shared_ptr<const Buffer>(std::make_shared<S3Buffer>(std::move(bytes)));
  }

  Result<std::unique_ptr<RandomAccessFile>> open(const std::string& uri) override;
  Result<std::unique_ptr<WritableFile>> create(const std::string& uri, const WriteOptions& options) override;

  Status remove(const std::string& uri) override {
    if (Status r = ready(); !r) return r;
    auto o = parse_object_uri(uri);
    if (!o) return o.error();
    Transfer t = request("DELETE", *o, o->key);
    run(t);
    if (t.code != CURLE_OK || (t.status / 100 != 2 && t.status != 404)) return transfer_error(t, uri, settings_);
    return {};
  }

  // Server-side copy (CopyObject, PUT with x-amz-copy-source; gs: x-goog-copy-source): the old
  // target kept as the backup, and copy() below.
  Status copy_object(const std::string& from_uri, const ObjectUri& from, const std::string& to_uri, const ObjectUri& to) {
    Transfer t = request("PUT", to, to.key);
    // Cloud Storage's XML API names the source in its own header (bucket/object).
    if (settings_.store == "gs") t.headers.push_back("x-goog-copy-source: " + from.bucket + "/" + aws_encode(from.key, true));
    else t.headers.push_back("x-amz-copy-source: /" + from.bucket + "/" + aws_encode(from.key, true));
    run(t);
    if (t.code != CURLE_OK || t.status != 200 || t.response.find("<Error>") != std::string::npos)
      return transfer_error(t, to_uri + " (copying " + from_uri + ")", settings_);
    ++g_copies;
    return {};
  }

  // Within this store (one endpoint, one set of credentials; any bucket):
  // CopyObject, so the bytes never leave the store. Objects above CopyObject's
  // 5 GiB limit are left to the caller's read and write.
  Result<bool> copy(const std::string& from_uri, const std::string& to_uri, uint64_t size) override {
    if (size > kMaxCopyObject) return false;
    if (Status r = ready(); !r) return r.take_error();
    auto from = parse_object_uri(from_uri);
    if (!from) return from.take_error();
    auto to = parse_object_uri(to_uri);
    if (!to) return to.take_error();
    if (from->key.empty() || to->key.empty() || to->key.back() == '/') return Error::usage(to_uri + ": names a prefix, not an object to write");
    if (Status c = copy_object(from_uri, *from, to_uri, *to); !c) return c.take_error();
    return true;
  }

  // One PUT, or a multipart upload above the threshold.
  Status put(const std::string& uri, const ObjectUri& o, std::string_view bytes) {
    if (settings_.multipart_threshold > 0 && bytes.size() > settings_.multipart_threshold)
      return put_multipart(uri, o, bytes);
    Transfer t = request("PUT", o, o.key);
    t.body = bytes;
    run(t);
    if (t.code != CURLE_OK || t.status / 100 != 2) return transfer_error(t, uri, settings_);
    return {};
  }

  // CreateMultipartUpload, the parts through the pool (at most
  // max_connections at a time, each retried on its own), then
  // CompleteMultipartUpload. The object appears only on completion. Any
  // failure aborts the upload (AbortMultipartUpload), so that no parts are
  // left behind to be billed; when the abort fails too, the error says how
  // to remove the upload by hand.
  Status put_multipart(const std::string& uri, const ObjectUri& o, std::string_view bytes) {
    uint64_t part_size = std::max<uint64_t>(settings_.part_size, 1);
    if ((bytes.size() + part_size - 1) / part_size > kMaxParts) part_size = (bytes.size() + kMaxParts - 1) / kMaxParts;
    Transfer create = request("POST", o, o.key, "uploads=");
    create.headers.push_back("Content-Type:");  // none, as for a PUT
    create.max_body = 1 << 20;
    run(create);
    if (create.code != CURLE_OK || create.status != 200 || create.response.find("<Error>") != std::string::npos)
      return transfer_error(create, uri + " (starting a multipart upload)", settings_);
    std::string upload_id;
    (void)walk_xml(create.response, [&](const std::string& path, std::string text) {
      if (path == "InitiateMultipartUploadResult/UploadId") upload_id = std::move(text);
    });
    if (upload_id.empty()) return Error::io(uri + ": the store started a multipart upload but named no UploadId");
    ++g_multipart;

    std::vector<Transfer> parts;
    for (uint64_t at = 0, n = 1; at < bytes.size(); at += part_size, ++n) {
      std::map<std::string, std::string> q{{"partNumber", std::to_string(n)}, {"uploadId", upload_id}};
      // Tests only: this part goes to a bucket that does not exist, so that it fails.
      ObjectUri target = o;
      if (settings_.fail_part_for_tests == static_cast<int>(n)) target.bucket += "-no-such-bucket";
      Transfer t = request("PUT", target, o.key, query_string(q));
      t.body = bytes.substr(at, std::min<uint64_t>(part_size, bytes.size() - at));
      t.max_body = 1 << 20;
      parts.push_back(std::move(t));
    }
    std::vector<Transfer*> ptrs;
    for (auto& t : parts) ptrs.push_back(&t);
    run(ptrs);
    std::string complete_xml = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < parts.size(); ++i) {
      const Transfer& t = parts[i];
      std::string etag = t.header("etag");
      if (t.code != CURLE_OK || t.status != 200 || etag.empty()) {
        Error e = t.code == CURLE_OK && t.status == 200 ? Error::io(uri + ": the store gave part " + std::to_string(i + 1) + " no ETag")
                                                        : transfer_error(t, uri + " (part " + std::to_string(i + 1) + " of " +
                                                                                std::to_string(parts.size()) + ")", settings_);
        return abort_multipart(o, upload_id, std::move(e));
      }
      std::string quoted;
      for (char c : etag) quoted += c == '"' ? std::string("&quot;") : c == '&' ? std::string("&amp;") : c == '<' ? std::string("&lt;") : std::string(1, c);
      complete_xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + quoted + "</ETag></Part>";
    }
    complete_xml += "</CompleteMultipartUpload>";
    Transfer done = request("POST", o, o.key, query_string({{"uploadId", upload_id}}));
    done.headers.push_back("Content-Type: application/xml");
    done.body = complete_xml;
    done.max_body = 1 << 20;
    run(done);
    // CompleteMultipartUpload may answer 200 with an <Error> document.
    if (done.code != CURLE_OK || done.status != 200 || done.response.find("<Error>") != std::string::npos)
      return abort_multipart(o, upload_id, transfer_error(done, uri + " (completing a multipart upload)", settings_));
    return {};
  }

  Status abort_multipart(const ObjectUri& o, const std::string& upload_id, Error cause) {
    Transfer t = request("DELETE", o, o.key, query_string({{"uploadId", upload_id}}));
    t.max_body = 1 << 20;
    run(t);
    ++g_aborts;
    if (t.code == CURLE_OK && (t.status == 204 || t.status == 200 || t.status == 404)) {
      cause.message += "; the multipart upload was aborted, nothing was written";
      return cause;
    }
    cause.message += "; aborting the multipart upload failed too (HTTP " + std::to_string(t.status) + ")";
    cause.hint = "remove its parts: aws s3api abort-multipart-upload --bucket " + o.bucket + " --key " + o.key +
                 " --upload-id " + upload_id + (cause.hint.empty() ? "" : "; " + cause.hint);
    return cause;
  }

 private:
  S3Settings settings_;
  Pool pool_;
};

class S3RandomAccessFile : public RandomAccessFile {
 public:
  S3RandomAccessFile(S3FileSystem& fs, std::string uri, ObjectUri o, uint64_t size, std::string etag)
      : fs_(fs), uri_(std::move(uri)), o_(std::move(o)), size_(size), etag_(std::move(etag)) {}
  const std::string& uri() const override { return uri_; }
  uint64_t size() const override { return size_; }
  Status read_at(uint64_t offset, uint64_t length, std::string& out) override {
    out.clear();
    if (offset >= size_ || length == 0) return {};
    length = std::min(length, size_ - offset);
    auto r = fs_.get_range(uri_, o_, offset, length, etag_);
    if (!r) return r.take_error();
    if (r->size() != length)
      return Error::io(uri_ + ": the store returned " + std::to_string(r->size()) + " bytes for a range of " + std::to_string(length));
    out = std::move(*r);
    return {};
  }

 private:
  S3FileSystem& fs_;
  std::string uri_;
  ObjectUri o_;
  uint64_t size_;
  std::string etag_;
};

Result<std::unique_ptr<RandomAccessFile>> S3FileSystem::open(const std::string& uri) {
  if (Status r = ready(); !r) return r.take_error();
  auto o = parse_object_uri(uri);
  if (!o) return o.error();
  Transfer t = request("HEAD", *o, o->key);
  run(t);
  if (t.code != CURLE_OK || t.status != 200) {
    auto h = head(uri, *o);  // the error, explained
    if (!h) return h.error();
    if (!*h) return transfer_error(t, uri, settings_);
  }
  uint64_t size = std::strtoull(t.header("content-length").c_str(), nullptr, 10);
  return std::unique_ptr<RandomAccessFile>(new S3RandomAccessFile(*this, uri, *o, size, t.header("etag")));
}

// The new bytes stay in memory until commit(): verify them there, keep the
// old object as the backup (server-side copy), then one PUT (atomic in S3).
class S3WritableFile : public WritableFile {
 public:
  S3WritableFile(S3FileSystem& fs, std::string uri, ObjectUri o, WriteOptions options)
      : fs_(fs), uri_(std::move(uri)), o_(std::move(o)), options_(std::move(options)) {}
  Status append(std::string_view bytes) override {
    if (committed_) return Error::io(uri_ + ": append after commit");
    bytes_.append(bytes);
    return {};
  }
  Status commit() override {
    if (committed_) return Error::io(uri_ + ": committed twice");
    if (options_.verify)
      if (Status v = options_.verify(bytes_); !v) return v;
    auto existing = fs_.head(uri_, o_);
    if (!existing) return existing.error();
    if (*existing && !options_.overwrite) return Error::cant_create("'" + uri_ + "' already exists; add --force to replace it");
    if (*existing && !options_.backup_uri.empty()) {
      auto b = parse_object_uri(options_.backup_uri);
      if (!b) return b.error();
      if (Status c = fs_.copy_object(uri_, o_, options_.backup_uri, *b); !c) return c;
    }
    if (Status p = fs_.put(uri_, o_, bytes_); !p) return p;
    committed_ = true;
    return {};
  }

 private:
  S3FileSystem& fs_;
  std::string uri_;
  ObjectUri o_;
  WriteOptions options_;
  std::string bytes_;
  bool committed_ = false;
};

Result<std::unique_ptr<WritableFile>> S3FileSystem::create(const std::string& uri, const WriteOptions& options) {
  if (Status r = ready(); !r) return r.take_error();
  auto o = parse_object_uri(uri);
  if (!o) return o.error();
  if (o->key.empty() || o->key.back() == '/') return Error::usage(uri + ": names a prefix, not an object to write");
  return std::unique_ptr<WritableFile>(new S3WritableFile(*this, uri, *o, options));
}

// --- XML -----------------------------------------------------------------------------------
// S3's responses are small, flat XML documents; this reader walks their
// elements and hands each leaf's decoded text to a callback with its path
// ("ListBucketResult/Contents/Key"). Bounded depth; errors carry the offset.

Status walk_xml(std::string_view x, const std::function<void(const std::string& path, std::string text)>& leaf) {
  std::vector<std::string> stack;
  std::string text;
  bool has_child = false;
  size_t i = 0;
  auto decode = [&](std::string_view raw, size_t at) -> Result<std::string> {
    std::string out;
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] != '&') {
        out += raw[k];
        continue;
      }
      size_t semi = raw.find(';', k);
      if (semi == std::string_view::npos || semi - k > 12) return Error::data("unterminated character reference in XML", at + k);
      std::string_view ent = raw.substr(k + 1, semi - k - 1);
      if (ent == "amp") out += '&';
      else if (ent == "lt") out += '<';
      else if (ent == "gt") out += '>';
      else if (ent == "quot") out += '"';
      else if (ent == "apos") out += '\'';
      else if (ent.size() > 1 && ent[0] == '#') {
        bool hex = ent[1] == 'x' || ent[1] == 'X';
        std::string digits(ent.substr(hex ? 2 : 1));
        if (digits.empty() || digits.size() > 8 ||
            !std::all_of(digits.begin(), digits.end(), [&](char c) { return hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c)); }))
          return Error::data("bad numeric character reference in XML", at + k);
        unsigned long cp = std::stoul(digits, nullptr, hex ? 16 : 10);
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return Error::data("character reference out of range in XML", at + k);
        if (cp < 0x80) out += static_cast<char>(cp);
        else if (cp < 0x800) out += static_cast<char>(0xC0 | (cp >> 6)), out += static_cast<char>(0x80 | (cp & 0x3F));
        else if (cp < 0x10000)
          out += static_cast<char>(0xE0 | (cp >> 12)), out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), out += static_cast<char>(0x80 | (cp & 0x3F));
        else
          out += static_cast<char>(0xF0 | (cp >> 18)), out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        return Error::data("unknown entity '&" + std::string(ent) + ";' in XML", at + k);
      }
      k = semi;
    }
    return out;
  };
  auto path = [&] {
    std::string p;
    for (const auto& s : stack) p += (p.empty() ? "" : "/") + s;
    return p;
  };
  while (i < x.size()) {
    size_t lt = x.find('<', i);
    if (lt == std::string_view::npos) lt = x.size();
    if (lt > i) {
      if (stack.empty()) {
        if (x.substr(i, lt - i).find_first_not_of(" \t\r\n") != std::string_view::npos) return Error::data("text outside the XML root element", i);
      } else {
        auto d = decode(x.substr(i, lt - i), i);
        if (!d) return d.error();
        text += *d;
      }
    }
    if (lt >= x.size()) break;
    if (x.substr(lt, 4) == "<!--") {
      size_t end = x.find("-->", lt + 4);
      if (end == std::string_view::npos) return Error::data("unterminated XML comment", lt);
      i = end + 3;
      continue;
    }
    if (x.substr(lt, 9) == "<![CDATA[") {
      size_t end = x.find("]]>", lt + 9);
      if (end == std::string_view::npos) return Error::data("unterminated CDATA section", lt);
      if (stack.empty()) return Error::data("CDATA outside the XML root element", lt);
      text.append(x.substr(lt + 9, end - lt - 9));
      i = end + 3;
      continue;
    }
    if (x.substr(lt, 2) == "<?" || x.substr(lt, 2) == "<!") {
      size_t end = x.find('>', lt);
      if (end == std::string_view::npos) return Error::data("unterminated XML declaration", lt);
      i = end + 1;
      continue;
    }
    size_t gt = x.find('>', lt);
    if (gt == std::string_view::npos) return Error::data("unterminated XML tag", lt);
    std::string_view tag = x.substr(lt + 1, gt - lt - 1);
    bool closing = !tag.empty() && tag[0] == '/';
    bool self_closing = !closing && !tag.empty() && tag.back() == '/';
    if (closing) tag.remove_prefix(1);
    if (self_closing) tag.remove_suffix(1);
    size_t name_end = tag.find_first_of(" \t\r\n");
    std::string name(tag.substr(0, name_end));
    if (name.empty()) return Error::data("XML tag without a name", lt);
    if (closing) {
      if (stack.empty() || stack.back() != name)
        return Error::data("XML end tag </" + name + "> does not close <" + (stack.empty() ? std::string() : stack.back()) + ">", lt);
      if (!has_child) leaf(path(), std::move(text));
      text.clear();
      stack.pop_back();
      has_child = true;
    } else {
      if (stack.size() >= 32) return Error::data("XML nested deeper than 32 elements", lt);
      if (stack.empty() && !path().empty()) return Error::data("a second XML root element", lt);
      stack.push_back(name);
      text.clear();
      has_child = false;
      if (self_closing) {
        leaf(path(), std::string());
        stack.pop_back();
        has_child = true;
      }
    }
    i = gt + 1;
    if (stack.empty() && closing) {
      // The root closed: only white space, comments or processing instructions may follow.
      while (i < x.size() && std::isspace(static_cast<unsigned char>(x[i]))) ++i;
      if (i < x.size() && x.substr(i, 4) != "<!--" && x.substr(i, 2) != "<?") return Error::data("content after the XML root element", i);
    }
  }
  if (!stack.empty()) return Error::data("XML ends inside <" + stack.back() + ">", x.size());
  return {};
}

}  // namespace

Result<ListObjectsPage> parse_list_objects_v2(std::string_view xml) {
  ListObjectsPage page;
  bool root_ok = false;
  std::string bad_size;
  Status st = walk_xml(xml, [&](const std::string& path, std::string text) {
    if (path.rfind("ListBucketResult", 0) == 0) root_ok = true;
    if (path == "ListBucketResult/Contents/Key") page.objects.push_back({std::move(text), 0, 0});
    else if (path == "ListBucketResult/Contents/Size" && !page.objects.empty()) {
      if (text.empty() || text.size() > 19 || !std::all_of(text.begin(), text.end(), ::isdigit)) bad_size = text;
      else page.objects.back().size = std::stoull(text);
    } else if (path == "ListBucketResult/Contents/LastModified" && !page.objects.empty())
      page.objects.back().mtime_ms = parse_iso8601_ms(text);
    else if (path == "ListBucketResult/CommonPrefixes/Prefix") page.common_prefixes.push_back(std::move(text));
    else if (path == "ListBucketResult/IsTruncated") page.truncated = text == "true";
    else if (path == "ListBucketResult/NextContinuationToken") page.next_continuation_token = std::move(text);
  });
  if (!st) return st.error();
  if (!root_ok) return Error::data("not a ListBucketResult document", 0);
  if (!bad_size.empty()) return Error::data("object size '" + bad_size.substr(0, 40) + "' is not a number", 0);
  return page;
}

StoreErrorBody parse_store_error(std::string_view xml) {
  StoreErrorBody b;
  (void)walk_xml(xml, [&](const std::string& path, std::string text) {
    if (path == "Error/Code") b.code = text.substr(0, 200);
    else if (path == "Error/Message") b.message = text.substr(0, 500);
    else if (path == "Error/Region") b.region = text.substr(0, 100);
    else if (path == "Error/Endpoint") b.endpoint = text.substr(0, 300);
  });
  return b;
}

int64_t parse_iso8601_ms(std::string_view s) {
  // yyyy-mm-ddThh:mm:ss[.fff]Z
  if (s.size() < 20) return 0;
  std::tm tm{};
  auto num = [&](size_t at, size_t n, int& out) {
    out = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
      out = out * 10 + (s[k] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) || s[10] != 'T' || !num(11, 2, h) ||
      s[13] != ':' || !num(14, 2, mi) || s[16] != ':' || !num(17, 2, se))
    return 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  if (s[19] == '.') {
    int frac = 0, digits = 0;
    for (size_t k = 20; k < s.size() && std::isdigit(static_cast<unsigned char>(s[k])) && digits < 3; ++k, ++digits) frac = frac * 10 + (s[k] - '0');
    while (digits++ < 3) frac *= 10;
    ms += frac;
  }
  return ms;
}

TransferStats object_store_stats() {
  return {g_requests.load(), g_retries.load(), g_received.load(), g_sent.load(), g_copies.load(), g_multipart.load(), g_aborts.load()};
}

namespace {

// What stands for a store when libcurl cannot be loaded: every call says why.
class UnavailableStore : public FileSystem {
 public:
  UnavailableStore(std::vector<std::string> schemes, Error why) : schemes_(std::move(schemes)), why_(std::move(why)) {}
  std::vector<std::string> schemes() const override { return schemes_; }
  Result<FileInfo> stat(const std::string&) override { return why_; }
  Result<std::vector<FileInfo>> list(const std::string&, bool) override { return why_; }
  Result<std::shared_ptr<const Buffer>> read(const std::string&, const ReadOptions&) override { return why_; }
  Result<std::unique_ptr<RandomAccessFile>> open(const std::string&) override { return why_; }
  Result<std::unique_ptr<WritableFile>> create(const std::string&, const WriteOptions&) override { return why_; }
  Status remove(const std::string&) override { return why_; }
  Result<bool> copy(const std::string&, const std::string&, uint64_t) override { return why_; }

 private:
  std::vector<std::string> schemes_;
  Error why_;
};

}  // namespace

std::shared_ptr<FileSystem> make_s3_file_system(S3Settings settings) {
  if (const auto& failed = load_curl()) {
    return std::make_shared<UnavailableStore>(store_schemes(settings.store), *failed);
  }
  return std::make_shared<S3FileSystem>(std::move(settings));
}

std::vector<std::string> store_schemes(std::string_view store) {
  if (store == "gs") return {"gs"};
  return {"s3", "s3a", "s3n", "s3p"};
}

}  // namespace fsp::io
