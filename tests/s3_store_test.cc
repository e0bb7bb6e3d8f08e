// The s3:// / gs:// store: SigV4 signing pinned against AWS's published
// example, the ListObjectsV2 reader, credentials as the AWS tools take them,
// retries and error messages (a loopback listener that answers as told), and
// reads/writes against the s3rver test server (FSP_TEST_S3_ENDPOINT, started
// by scripts/test.sh).
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "flink_savepoint/rocksdb_sst.h"
#include "flink_savepoint/s3_file_system.h"
#include "test_support.h"

#if FSP_HAVE_ROCKSDB
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#endif

namespace fsp::io {
namespace {

namespace fs = std::filesystem;

// One HTTP request per connection, answered by `handler` (raw response text).
class Listener {
 public:
  explicit Listener(std::function<std::string(const std::string& request)> handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~Listener() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t body_needed = 0;
      bool have_headers = false;
      while (true) {
        if (have_headers && req.size() >= body_needed) break;
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        size_t end = req.find("\r\n\r\n");
        if (!have_headers && end != std::string::npos) {
          have_headers = true;
          body_needed = end + 4;
          std::string lower = req.substr(0, end);
          for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          size_t cl = lower.find("content-length: ");
          if (cl != std::string::npos) body_needed += std::strtoull(lower.c_str() + cl + 16, nullptr, 10);
          if (lower.find("expect: 100-continue") != std::string::npos) {
            const char* cont = "HTTP/1.1 100 Continue\r\n\r\n";
            (void)!::send(c, cont, std::strlen(cont), MSG_NOSIGNAL);
          }
        }
      }
      {
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back(req);
      }
      std::string resp = handler_(req);
      (void)!::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::function<std::string(const std::string&)> handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

std::string response(int status, const std::string& reason, const std::string& body, const std::string& extra = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra + "\r\n" + body;
}

std::string header_value(const std::string& request, const std::string& name) {
  std::string lower = request;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t at = lower.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  at += name.size() + 4;
  return request.substr(at, request.find("\r\n", at) - at);
}

S3Settings listener_settings(const Listener& l) {
  S3Settings s;
  s.access_key_id = "AKID";
  s.secret_access_key = "secret";
  s.credentials_source = "test";
  s.endpoint = "http://127.0.0.1:" + std::to_string(l.port());
  s.max_attempts = 3;
  return s;
}

// --- SigV4: libcurl's signature equals AWS's published one -----------------------------------

// AWS's "GET Object" example (Signature Version 4, header-based auth, S3 API
// reference): examplebucket, test.txt, Range bytes=0-9, 20130524T000000Z,
// us-east-1, the documentation's example key pair.
TEST(S3Signing, RangedGetEqualsAwsPublishedExample) {
  S3Settings s;
  s.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  s.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  s.credentials_source = "test";
  s.region = "us-east-1";
  s.endpoint = "http://s3.amazonaws.com";
  s.virtual_hosted = true;
  s.fixed_amz_date = "20130524T000000Z";
  // HEAD reports 100 bytes; read_at(0, 10) then sends the published request.
  Listener l2([](const std::string& req) {
    if (req.rfind("HEAD ", 0) == 0) return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n";
    return "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\nContent-Range: bytes 0-9/100\r\nConnection: close\r\n\r\n0123456789";
  });
  s.connect_to = {"examplebucket.s3.amazonaws.com:80:127.0.0.1:" + std::to_string(l2.port())};
  auto store2 = make_s3_file_system(s);
  auto f2 = store2->open("s3://examplebucket/test.txt");
  ASSERT_TRUE(f2.ok()) << f2.error().to_string();
  ASSERT_EQ((*f2)->size(), 100u);
  std::string out;
  Status st = (*f2)->read_at(0, 10, out);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(out, "0123456789");
  auto reqs = l2.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].substr(0, reqs[1].find("\r\n")), "GET /test.txt HTTP/1.1");
  EXPECT_EQ(header_value(reqs[1], "host"), "examplebucket.s3.amazonaws.com");
  EXPECT_EQ(header_value(reqs[1], "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// AWS's "PUT Object" example: libcurl signs with the payload hash the request
// states in x-amz-content-sha256 (the store relies on this for its PUTs,
// which state UNSIGNED-PAYLOAD).
TEST(S3Signing, LibcurlTakesThePayloadHashFromTheHeader) {
  Listener l([](const std::string&) { return response(200, "OK", ""); });
  CURL* e = curl_easy_init();
  ASSERT_NE(e, nullptr);
  std::string body = "Welcome to Amazon S3.";
  size_t pos = 0;
  struct Ctx {
    std::string* body;
    size_t* pos;
  } ctx{&body, &pos};
  curl_slist* h = nullptr;
  h = curl_slist_append(h, "Date: Fri, 24 May 2013 00:00:00 GMT");
  h = curl_slist_append(h, "x-amz-date: 20130524T000000Z");
  h = curl_slist_append(h, "x-amz-storage-class: REDUCED_REDUNDANCY");
  h = curl_slist_append(h, "x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  std::string connect = "examplebucket.s3.amazonaws.com:80:127.0.0.1:" + std::to_string(l.port());
  curl_slist* c = curl_slist_append(nullptr, connect.c_str());
  curl_easy_setopt(e, CURLOPT_URL, "http://examplebucket.s3.amazonaws.com/test%24file.text");
  curl_easy_setopt(e, CURLOPT_CONNECT_TO, c);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  curl_easy_setopt(e, CURLOPT_USERNAME, "AKIAIOSFODNN7EXAMPLE");
  curl_easy_setopt(e, CURLOPT_PASSWORD, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(e, CURLOPT_READDATA, &ctx);
  curl_easy_setopt(e, CURLOPT_READFUNCTION, +[](char* buf, size_t size, size_t n, void* u) -> size_t {
    auto* x = static_cast<Ctx*>(u);
    size_t len = std::min(size * n, x->body->size() - *x->pos);
    std::memcpy(buf, x->body->data() + *x->pos, len);
    *x->pos += len;
    return len;
  });
  CURLcode rc = curl_easy_perform(e);
  curl_slist_free_all(h);
  curl_slist_free_all(c);
  curl_easy_cleanup(e);
  ASSERT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  auto reqs = l.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(header_value(reqs[0], "authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_NE(reqs[0].find("\r\n\r\nWelcome to Amazon S3."), std::string::npos);
}

// --- ListObjectsV2 and error documents ---------------------------------------------------------

TEST(S3Xml, ListObjectsV2Page) {
  const char* xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>ckpt/</Prefix><KeyCount>3</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>ckpt/chk-1/_metadata</Key><LastModified>2009-10-12T17:50:30.250Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>ckpt/a&amp;b &#x41;&#66;</Key><Size>0</Size></Contents>
  <!-- a comment -->
  <CommonPrefixes><Prefix>ckpt/shared/</Prefix></CommonPrefixes>
  <StartAfter/>
</ListBucketResult>)";
  auto p = parse_list_objects_v2(xml);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  ASSERT_EQ(p->objects.size(), 2u);
  EXPECT_EQ(p->objects[0].key, "ckpt/chk-1/_metadata");
  EXPECT_EQ(p->objects[0].size, 434234u);
  EXPECT_EQ(p->objects[0].mtime_ms, 1255369830250);
  EXPECT_EQ(p->objects[1].key, "ckpt/a&b AB");
  ASSERT_EQ(p->common_prefixes.size(), 1u);
  EXPECT_EQ(p->common_prefixes[0], "ckpt/shared/");
  EXPECT_TRUE(p->truncated);
  EXPECT_EQ(p->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3Xml, MalformedListingsAreDataErrorsWithOffsets) {
  struct Case {
    const char* xml;
    const char* message;
    uint64_t offset;
  } cases[] = {
      {"<ListBucketResult><Contents><Key>k</Key></ListBucketResult>", "does not close <Contents>", 40},
      {"<ListBucketResult><Contents><Key>a&bogus;</Key>", "unknown entity", 34},
      {"<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents></ListBucketResult>", "is not a number", 0},
      {"<ListBucketResult><Key>&#0;</Key></ListBucketResult>", "out of range", 23},
      {"<Error><Code>NoSuchKey</Code></Error>", "not a ListBucketResult", 0},
      {"<ListBucketResult>", "ends inside <ListBucketResult>", 18},
      {"<ListBucketResult></ListBucketResult><x/>", "after the XML root", 37},
      // Fuzz finding: "</>" is closing and ends in '/' (read past the tag before the fix).
      {"<ListBucketResult></><Size>3</Size></ListBucketResult>", "XML tag without a name", 18},
  };
  for (const auto& c : cases) {
    auto p = parse_list_objects_v2(c.xml);
    ASSERT_FALSE(p.ok()) << c.xml;
    EXPECT_EQ(p.error().kind, ErrorKind::kData);
    EXPECT_NE(p.error().message.find(c.message), std::string::npos) << c.xml << ": " << p.error().message;
    ASSERT_TRUE(p.error().offset.has_value());
    EXPECT_EQ(*p.error().offset, c.offset) << c.xml;
  }
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  auto p = parse_list_objects_v2("<ListBucketResult>" + deep);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("deeper than 32"), std::string::npos);
}

TEST(S3Xml, ErrorDocument) {
  auto b = parse_store_error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region "
      "'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region><RequestId>1</RequestId></Error>");
  EXPECT_EQ(b.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(b.region, "eu-west-1");
  EXPECT_EQ(b.message, "the region 'us-east-1' is wrong; expecting 'eu-west-1'");
  EXPECT_EQ(parse_store_error("not xml <").code, "");
}

// --- credentials, region and endpoint as the AWS CLI takes them ----------------------------

struct Env {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* n) -> const char* {
      auto it = vars.find(n);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(S3Settings, EnvironmentWinsOverTheProfile) {
  fs::path home = fs::temp_directory_path() / ("fsp-s3-home-" + std::to_string(::getpid()));
  fs::create_directories(home / ".aws");
  std::ofstream(home / ".aws/credentials") << "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n"
                                            << "[prod]\naws_access_key_id=AKIDPROD\naws_secret_access_key=prodsecret\n"
                                            << "aws_session_token = tok\n";
  std::ofstream(home / ".aws/config") << "[default]\nregion = eu-central-1\n"
                                       << "[profile prod]\nregion = ap-south-1\ns3 =\n  endpoint_url = http://minio:9000\n"
                                       << "  addressing_style = virtual\n"
                                       << "[profile sso]\nsso_session = corp\nregion = us-west-2\n";
  Env env{{{"HOME", home.string()}}};
  S3Settings d = s3_settings_from_environment("s3", env.lookup());
  EXPECT_EQ(d.access_key_id, "AKIDFILE");
  EXPECT_EQ(d.secret_access_key, "filesecret");
  EXPECT_EQ(d.region, "eu-central-1");
  EXPECT_EQ(d.endpoint, "");
  EXPECT_EQ(d.credentials_error, "");

  env.vars["AWS_PROFILE"] = "prod";
  S3Settings p = s3_settings_from_environment("s3", env.lookup());
  EXPECT_EQ(p.access_key_id, "AKIDPROD");
  EXPECT_EQ(p.session_token, "tok");
  EXPECT_EQ(p.region, "ap-south-1");
  EXPECT_EQ(p.endpoint, "http://minio:9000");
  EXPECT_TRUE(p.virtual_hosted);

  env.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env.vars["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  env.vars["AWS_DEFAULT_REGION"] = "sa-east-1";
  env.vars["AWS_ENDPOINT_URL"] = "http://ceph:7480/";
  S3Settings e = s3_settings_from_environment("s3", env.lookup());
  EXPECT_EQ(e.access_key_id, "AKIDENV");
  EXPECT_EQ(e.session_token, "");
  EXPECT_EQ(e.region, "sa-east-1");
  EXPECT_EQ(e.endpoint, "http://ceph:7480");
  env.vars["AWS_REGION"] = "us-east-2";
  env.vars["AWS_ENDPOINT_URL_S3"] = "http://s3only:1";
  e = s3_settings_from_environment("s3", env.lookup());
  EXPECT_EQ(e.region, "us-east-2");
  EXPECT_EQ(e.endpoint, "http://s3only:1");

  Env sso{{{"HOME", home.string()}, {"AWS_PROFILE", "sso"}}};
  S3Settings s = s3_settings_from_environment("s3", sso.lookup());
  EXPECT_NE(s.credentials_error.find("profile sso's sso_session is not supported yet"), std::string::npos) << s.credentials_error;
  Env none{{{"HOME", home.string()}, {"AWS_PROFILE", "nope"}}};
  S3Settings n = s3_settings_from_environment("s3", none.lookup());
  EXPECT_NE(n.credentials_error.find("AWS_PROFILE=nope names no profile"), std::string::npos) << n.credentials_error;

  Env gs{{{"HOME", home.string()}, {"GS_ACCESS_KEY_ID", "GOOG1E"}, {"GS_SECRET_ACCESS_KEY", "gsecret"}}};
  S3Settings g = s3_settings_from_environment("gs", gs.lookup());
  EXPECT_EQ(g.access_key_id, "GOOG1E");
  EXPECT_EQ(g.region, "auto");
  EXPECT_EQ(g.endpoint, "https://storage.googleapis.com");
  EXPECT_EQ(s3_settings_from_environment("gs", none.lookup()).credentials_error.find("no HMAC key for gs://"), 0u);
  fs::remove_all(home);
}

// --- retries and messages ----------------------------------------------------------------

TEST(S3Errors, ThrottlingIsRetriedWithBackoff) {
  std::atomic<int> n{0};
  Listener l([&](const std::string&) {
    if (n++ < 2) return response(503, "Slow Down", "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
    return response(206, "Partial Content", "abc", "Content-Range: bytes 0-2/3\r\n");
  });
  auto store = make_s3_file_system(listener_settings(l));
  auto before = object_store_stats();
  auto b = store->read("s3://bucket/dir/_metadata");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ((*b)->bytes(), "abc");
  EXPECT_EQ(object_store_stats().retries - before.retries, 2u);
  EXPECT_EQ(l.requests().size(), 3u);
  // Path-style addressing when an endpoint is set.
  EXPECT_EQ(l.requests()[0].substr(0, l.requests()[0].find("\r\n")), "GET /bucket/dir/_metadata HTTP/1.1");
}

TEST(S3Errors, GivingUpSaysHowOften) {
  Listener l([&](const std::string&) { return response(500, "Internal Server Error", "<Error><Code>InternalError</Code></Error>"); });
  auto store = make_s3_file_system(listener_settings(l));
  auto b = store->read("s3://bucket/_metadata");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message, "s3://bucket/_metadata: the store answered (HTTP 500 InternalError) after 3 attempt(s)");
  EXPECT_NE(b.error().hint.find("AWS_MAX_ATTEMPTS"), std::string::npos);
  EXPECT_EQ(l.requests().size(), 3u);
}

TEST(S3Errors, WrongRegionNamesTheRightOne) {
  Listener l([&](const std::string& req) {
    if (req.rfind("HEAD ", 0) == 0) return response(301, "Moved Permanently", "", "x-amz-bucket-region: eu-west-1\r\n");
    return response(301, "Moved Permanently",
                    "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be "
                    "addressed using the specified endpoint.</Message></Error>",
                    "x-amz-bucket-region: eu-west-1\r\n");
  });
  auto store = make_s3_file_system(listener_settings(l));
  auto st = store->stat("s3://bucket/chk-1/_metadata");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("s3://bucket/chk-1/_metadata: the bucket is in another region than us-east-1"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(st.error().hint, "the bucket is in eu-west-1: set AWS_REGION=eu-west-1");
}

// FileSystem::copy: one PUT naming the source (S3: x-amz-copy-source, Cloud
// Storage: x-goog-copy-source), no body; an <Error> in a 200 answer is an
// error; objects above CopyObject's 5 GiB are left to the caller (false, no
// request); the local file system never copies server-side.
TEST(S3Copy, ServerSideCopyIsOnePutNamingTheSource) {
  Listener l([&](const std::string& req) {
    if (req.find("/bad-target") != std::string::npos)
      return response(200, "OK", "<Error><Code>InternalError</Code><Message>copy failed late</Message></Error>");
    return response(200, "OK", "<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>");
  });
  auto store = make_s3_file_system(listener_settings(l));
  auto done = store->copy("s3://src/job/shared/a b.sst", "s3://dst/moved/a b.sst", 1234);
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_TRUE(*done);
  ASSERT_EQ(l.requests().size(), 1u);
  const std::string req = l.requests()[0];
  EXPECT_EQ(req.substr(0, req.find("\r\n")), "PUT /dst/moved/a%20b.sst HTTP/1.1");
  EXPECT_EQ(header_value(req, "x-amz-copy-source"), "/src/job/shared/a%20b.sst");
  EXPECT_EQ(header_value(req, "content-length"), "0");
  EXPECT_EQ(header_value(req, "x-goog-copy-source"), "");

  auto late = store->copy("s3://src/x", "s3://dst/bad-target", 1);
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("s3://dst/bad-target (copying s3://src/x)"), std::string::npos) << late.error().message;
  EXPECT_NE(late.error().message.find("copy failed late"), std::string::npos) << late.error().message;

  auto big = store->copy("s3://src/x", "s3://dst/y", (5ull << 30) + 1);
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(*big);
  EXPECT_EQ(l.requests().size(), 2u);  // no request for it

  S3Settings gs = listener_settings(l);
  gs.store = "gs";
  auto gstore = make_s3_file_system(gs);
  ASSERT_TRUE(gstore->copy("gs://src/k", "gs://dst/k", 10).ok());
  ASSERT_EQ(l.requests().size(), 3u);
  EXPECT_EQ(header_value(l.requests()[2], "x-goog-copy-source"), "src/k");
  EXPECT_EQ(header_value(l.requests()[2], "x-amz-copy-source"), "");

  auto local = file_system_for("/tmp/x");
  ASSERT_TRUE(local.ok());
  auto no = (*local)->copy("/tmp/x", "/tmp/y", 1);
  ASSERT_TRUE(no.ok());
  EXPECT_FALSE(*no);
}

TEST(S3Errors, MissingCredentialsFailOnUseOnly) {
  S3Settings s;
  s.credentials_error = "no credentials for s3://: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
  auto store = make_s3_file_system(s);
  auto b = store->read("s3://bucket/_metadata");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().kind, ErrorKind::kUsage);
  EXPECT_EQ(b.error().message, s.credentials_error);
}

// --- against the s3rver test server --------------------------------------------------------


S3Settings server_settings(const std::string& endpoint) {
  S3Settings s;
  s.access_key_id = "S3RVER";
  s.secret_access_key = "S3RVER";
  s.credentials_source = "test";
  s.endpoint = endpoint;
  return s;
}

std::string unique_prefix(const std::string& name) {
  return "s3://fsp-test-a/" + name + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

Status put(FileSystem& fs, const std::string& uri, std::string_view bytes, WriteOptions o = {}) {
  auto w = fs.create(uri, o);
  if (!w) return w.error();
  if (Status s = (*w)->append(bytes); !s) return s;
  return (*w)->commit();
}

TEST(S3Server, PutReadRangesStatListRemove) {
  FSP_REQUIRE_S3(endpoint);
  auto store = make_s3_file_system(server_settings(endpoint));
  std::string base = unique_prefix("basic");
  std::string big(9u << 20, '\0');  // more than one 8 MiB chunk: read() fetches the rest in parallel
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) >> 7);
  ASSERT_TRUE(put(*store, base + "/chk-1/_metadata", "metadata bytes").ok());
  Status pb = put(*store, base + "/chk-1/big", big);
  ASSERT_TRUE(pb.ok()) << pb.error().to_string();
  ASSERT_TRUE(put(*store, base + "/shared/a b+c", "x").ok());

  auto r = store->read(base + "/chk-1/big");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE((*r)->bytes() == big);
  auto lim = store->read(base + "/chk-1/big", ReadOptions{1000});
  ASSERT_FALSE(lim.ok());
  EXPECT_NE(lim.error().message.find("more than the 1000 expected"), std::string::npos);

  auto f = store->open(base + "/chk-1/big");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  EXPECT_EQ((*f)->size(), big.size());
  std::string out;
  ASSERT_TRUE((*f)->read_at(1000, 16, out).ok());
  EXPECT_EQ(out, big.substr(1000, 16));
  ASSERT_TRUE((*f)->read_at(big.size() - 4, 100, out).ok());
  EXPECT_EQ(out, big.substr(big.size() - 4));

  auto st = store->stat(base + "/chk-1/_metadata");
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->size, 14u);
  EXPECT_FALSE(st->is_directory);
  EXPECT_GT(st->mtime_ms, 0);
  auto dir = store->stat(base + "/chk-1");
  ASSERT_TRUE(dir.ok()) << dir.error().to_string();
  EXPECT_TRUE(dir->is_directory);
  auto missing = store->stat(base + "/chk-2");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNoInput);

  auto top = store->list(base, false);
  ASSERT_TRUE(top.ok()) << top.error().to_string();
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].uri, base + "/chk-1");
  EXPECT_TRUE((*top)[0].is_directory);
  EXPECT_EQ((*top)[1].uri, base + "/shared");
  auto all = store->list(base + "/", true);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].uri, base + "/shared/a b+c");  // keys are URI-encoded in requests, decoded in listings
  EXPECT_EQ((*all)[0].size, 14u);  // chk-1/_metadata sorts before chk-1/big
  EXPECT_EQ((*all)[1].size, big.size());

  ASSERT_TRUE(store->remove(base + "/shared/a b+c").ok());
  EXPECT_FALSE(store->stat(base + "/shared/a b+c").ok());
}

TEST(S3Server, ListingFollowsContinuationTokens) {
  FSP_REQUIRE_S3(endpoint);
  auto store = make_s3_file_system(server_settings(endpoint));
  std::string base = unique_prefix("pages");
  // s3rver pages by 1000 keys: 1005 objects take two pages.
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      auto s = make_s3_file_system(server_settings(endpoint));
      for (int i = w; i < 1005; i += 4)
        if (!put(*s, base + "/f" + std::to_string(10000 + i), "").ok()) ++failures;
    });
  for (auto& t : workers) t.join();
  ASSERT_EQ(failures.load(), 0);
  auto before = object_store_stats();
  auto l = store->list(base, false);
  ASSERT_TRUE(l.ok()) << l.error().to_string();
  EXPECT_EQ(l->size(), 1005u);
  EXPECT_EQ(l->back().uri, base + "/f11004");
  EXPECT_EQ(object_store_stats().requests - before.requests, 2u);
}

TEST(S3Server, WriteKeepsTheOldObjectAsBackupAndVerifiesFirst) {
  FSP_REQUIRE_S3(endpoint);
  auto store = make_s3_file_system(server_settings(endpoint));
  std::string uri = unique_prefix("write") + "/_metadata";
  ASSERT_TRUE(put(*store, uri, "old").ok());
  Status refused = put(*store, uri, "new");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kCantCreate);
  WriteOptions bad;
  bad.overwrite = true;
  bad.backup_uri = uri + ".bak";
  bad.verify = [](std::string_view b) -> Status {
    if (b != "good") return Error::data("verification failed");
    return {};
  };
  Status v = put(*store, uri, "new", bad);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message, "verification failed");
  EXPECT_EQ((*store->read(uri))->bytes(), "old");
  EXPECT_FALSE(store->stat(uri + ".bak").ok());
  Status ok = put(*store, uri, "good", bad);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ((*store->read(uri))->bytes(), "good");
  EXPECT_EQ((*store->read(uri + ".bak"))->bytes(), "old");
}

TEST(S3Server, UnknownAccessKeyGivesTheCredentialsMessage) {
  FSP_REQUIRE_S3(endpoint);
  S3Settings s = server_settings(endpoint);
  s.access_key_id = "AKIDUNKNOWN";
  s.credentials_source = "AWS_ACCESS_KEY_ID";
  auto store = make_s3_file_system(s);
  auto r = store->read("s3://fsp-test-a/x/_metadata");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.substr(0, 60), "s3://fsp-test-a/x/_metadata: access denied (HTTP 403 Invalid");
  EXPECT_EQ(r.error().hint,
            "the store does not know the access key id 'AKIDUNKNOWN' (from AWS_ACCESS_KEY_ID): check AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY or AWS_PROFILE");
  auto st = store->stat("s3://fsp-test-a/x/_metadata");  // HEAD has no body: asked again as a GET
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("InvalidAccessKeyId"), std::string::npos) << st.error().message;
}

TEST(S3Server, MissingObjectAndBucketSayWhatToCheck) {
  FSP_REQUIRE_S3(endpoint);
  auto store = make_s3_file_system(server_settings(endpoint));
  auto r = store->read("s3://fsp-test-a/no/such/_metadata");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNoInput);
  EXPECT_EQ(r.error().message.substr(0, 52), "s3://fsp-test-a/no/such/_metadata: no such object (H");
  EXPECT_NE(r.error().hint.find("aws s3 ls s3://fsp-test-a/no/such/"), std::string::npos) << r.error().hint;
  auto b = store->read("s3://fsp-no-such-bucket/_metadata");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("no such bucket"), std::string::npos) << b.error().message;
}

// Above the threshold a write is a multipart upload: the parts (here 100 KiB
// each, 11 of them) go through the pool and the object appears complete; at
// the threshold it is one PUT.
TEST(S3Server, MultipartUploadRoundTripsByteForByte) {
  FSP_REQUIRE_S3(endpoint);
  S3Settings s = server_settings(endpoint);
  s.multipart_threshold = 256 << 10;
  s.part_size = 100 << 10;
  auto store = make_s3_file_system(s);
  std::string base = unique_prefix("multipart");
  std::string big((1u << 20) + 12345, '\0');
  uint32_t x = 12345;
  for (auto& c : big) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  auto before = object_store_stats();
  Status p = put(*store, base + "/big", big);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  auto after = object_store_stats();
  EXPECT_EQ(after.multipart_uploads - before.multipart_uploads, 1u);
  EXPECT_EQ(after.multipart_aborts - before.multipart_aborts, 0u);
  // HEAD (does it exist?), CreateMultipartUpload, 11 UploadParts, CompleteMultipartUpload.
  EXPECT_EQ(after.requests - before.requests, 14u);
  EXPECT_GE(after.bytes_sent - before.bytes_sent, big.size());
  auto r = store->read(base + "/big");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*r)->bytes().size(), big.size());
  EXPECT_TRUE((*r)->bytes() == big);

  std::string at_threshold(256 << 10, 'x');
  before = object_store_stats();
  ASSERT_TRUE(put(*store, base + "/at-threshold", at_threshold).ok());
  EXPECT_EQ(object_store_stats().multipart_uploads - before.multipart_uploads, 0u);
  EXPECT_EQ((*store->read(base + "/at-threshold"))->bytes(), at_threshold);
}

// A part that fails (sent to a bucket that does not exist) fails the write:
// the upload is aborted, nothing appears under the target, the old object stays.
TEST(S3Server, MultipartUploadWithAFailedPartAbortsAndWritesNothing) {
  FSP_REQUIRE_S3(endpoint);
  S3Settings s = server_settings(endpoint);
  s.multipart_threshold = 64 << 10;
  s.part_size = 64 << 10;
  s.fail_part_for_tests = 3;
  auto store = make_s3_file_system(s);
  std::string base = unique_prefix("multipart-fail");
  std::string big(300 << 10, 'y');
  auto before = object_store_stats();
  Status p = put(*store, base + "/new", big);
  ASSERT_FALSE(p.ok());
  auto after = object_store_stats();
  EXPECT_EQ(after.multipart_uploads - before.multipart_uploads, 1u);
  EXPECT_EQ(after.multipart_aborts - before.multipart_aborts, 1u);
  EXPECT_NE(p.error().message.find(base + "/new (part 3 of 5): no such bucket"), std::string::npos) << p.error().message;
  // s3rver 3.7 has no AbortMultipartUpload (405 MethodNotAllowed): the error
  // says so and how to remove the parts by hand (S3 answers 204: "was aborted").
  EXPECT_NE(p.error().message.find("; aborting the multipart upload failed too (HTTP 405)"), std::string::npos)
      << p.error().message;
  EXPECT_EQ(p.error().hint.rfind("remove its parts: aws s3api abort-multipart-upload --bucket fsp-test-a --key ", 0), 0u)
      << p.error().hint;
  auto st = store->stat(base + "/new");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kNoInput);

  // Replacing an object: a failed upload leaves the old bytes in place.
  ASSERT_TRUE(put(*make_s3_file_system(server_settings(endpoint)), base + "/old", "old bytes").ok());
  WriteOptions o;
  o.overwrite = true;
  ASSERT_FALSE(put(*store, base + "/old", big, o).ok());
  EXPECT_EQ((*store->read(base + "/old"))->bytes(), "old bytes");
}

#if FSP_HAVE_ROCKSDB
// The table properties of an SST on the store are read through ranged GETs:
// the 16 KiB tail (footer, meta index, properties) and the index block, not
// the data blocks. No SST of ../shared is larger than 1.2 KB (read whole in
// the one tail request), so this one is written here by librocksdb.
TEST(S3Server, SstPropertiesReadOnlyTheTailOfTheFile) {
  FSP_REQUIRE_S3(endpoint);
  test::TempDir tmp;
  std::string local = (tmp.path / "big.sst").string();
  {
    rocksdb::Options options;
    options.compression = rocksdb::kNoCompression;
    rocksdb::SstFileWriter w(rocksdb::EnvOptions(), options);
    ASSERT_TRUE(w.Open(local).ok());
    char key[32];
    std::string value(100, 'v');
    for (int i = 0; i < 30000; ++i) {
      std::snprintf(key, sizeof key, "key-%08d", i);
      ASSERT_TRUE(w.Put(key, value).ok());
    }
    ASSERT_TRUE(w.Finish().ok());
  }
  std::string bytes = test::read_file(local);
  ASSERT_GT(bytes.size(), 3u << 20);
  auto store = make_s3_file_system(server_settings(endpoint));
  test::use_test_server_in_process(endpoint);  // rocksdb_sst::read_file finds s3:// through the registry
  std::string uri = unique_prefix("sst") + "/000042.sst";
  ASSERT_TRUE(put(*store, uri, bytes).ok());

  auto l = rocksdb_sst::read_file(local);
  ASSERT_TRUE(l.ok()) << l.error().to_string();
  auto before = object_store_stats();
  auto r = rocksdb_sst::read_file(uri);
  auto after = object_store_stats();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->entries, 30000);
  EXPECT_EQ(r->entries, l->entries);
  EXPECT_EQ(r->raw_key_bytes, l->raw_key_bytes);
  EXPECT_EQ(r->raw_value_bytes, 3000000);
  EXPECT_EQ(r->data_bytes, l->data_bytes);
  EXPECT_EQ(r->file_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(r->column_family, l->column_family);
  uint64_t got = after.bytes_received - before.bytes_received;
  std::cout << "SST properties from s3: " << got << " of " << bytes.size() << " bytes in "
            << after.requests - before.requests << " request(s)\n";
  EXPECT_LT(got, bytes.size() / 20);  // under 5% of the file
  EXPECT_LE(after.requests - before.requests, 4u);

  auto missing = rocksdb_sst::read_file(uri + ".gone");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNoInput);
  EXPECT_EQ(missing.error().message.substr(0, 15), "SST file s3://f");
}
#endif

}  // namespace
}  // namespace fsp::io
