// Object stores behind the file-system seam: s3:// (and Flink's s3a://,
// s3n://, s3p://) and gs:// through libcurl, signed with libcurl's AWS SigV4
// (CURLOPT_AWS_SIGV4). gs:// uses Cloud Storage's S3-compatible XML API with
// HMAC keys. Credentials, region and endpoint are read the way the AWS tools
// read them (docs/stores.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/result.h"

namespace fsp::io {

// How one store is reached: resolved from the environment once, on first use.
struct S3Settings {
  std::string store = "s3";            // "s3" or "gs": names the variables in messages
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;           // AWS_SESSION_TOKEN (sent as x-amz-security-token)
  std::string credentials_source;      // e.g. "AWS_ACCESS_KEY_ID", "profile prod in ~/.aws/credentials"
  std::string region = "us-east-1";
  std::string region_source;           // where the region came from ("default" when nobody said)
  // Empty: AWS (https://s3.<region>.amazonaws.com, virtual-hosted addressing).
  // Set (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / endpoint_url, GS_ENDPOINT_URL):
  // path-style addressing unless virtual_hosted is set.
  std::string endpoint;
  bool virtual_hosted = false;         // bucket as a sub-domain of the endpoint's host
  int max_connections = 8;             // FSP_S3_MAX_CONNECTIONS: concurrent requests
  int max_attempts = 5;                // AWS_MAX_ATTEMPTS: tries per request (throttling, 5xx, timeouts)
  int connect_timeout_s = 10;
  int low_speed_timeout_s = 30;        // abort a request that moves < 1 byte/s for this long
  // Writes above multipart_threshold bytes (FSP_S3_MULTIPART_THRESHOLD_MIB, 16)
  // are multipart uploads of part_size bytes each (FSP_S3_PART_SIZE_MIB, 8; more
  // when 10,000 parts would not hold the object). 0: always one PUT (up to 5 GiB).
  uint64_t multipart_threshold = 16ull << 20;
  uint64_t part_size = 8ull << 20;
  // Set when no credentials were found (or only unsupported kinds): every
  // request fails with it, so commands that never touch the store are unaffected.
  std::string credentials_error;
  // Tests only: a fixed x-amz-date (yyyymmddThhmmssZ) and CURLOPT_CONNECT_TO entries.
  std::string fixed_amz_date;
  std::vector<std::string> connect_to;
  int fail_part_for_tests = 0;         // tests only: part N of a multipart upload is sent to a missing bucket
};

// Variables as the AWS CLI takes them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_PROFILE (~/.aws/credentials, ~/.aws/config or
// AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE), AWS_REGION,
// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS.
// For store "gs": GS_ACCESS_KEY_ID, GS_SECRET_ACCESS_KEY, GS_ENDPOINT_URL
// (default https://storage.googleapis.com), region "auto".
// `env` looks a variable up (default: getenv); `home` is $HOME.
using EnvLookup = std::function<const char*(const char*)>;
S3Settings s3_settings_from_environment(std::string_view store, const EnvLookup& env = {});

// Counters over every request this process made to object stores.
struct TransferStats {
  uint64_t requests = 0;
  uint64_t retries = 0;
  uint64_t bytes_received = 0;  // response bodies
  uint64_t bytes_sent = 0;      // request bodies
  uint64_t server_side_copies = 0;  // CopyObject requests that succeeded (backups, FileSystem::copy)
  uint64_t multipart_uploads = 0;   // multipart uploads started
  uint64_t multipart_aborts = 0;    // AbortMultipartUpload requests sent (after a failed part or completion)
};
TransferStats object_store_stats();

// A store for the schemes s3, s3a, s3n, s3p (settings_s3) or gs (settings_gs).
std::shared_ptr<FileSystem> make_s3_file_system(S3Settings settings);
// The URI schemes a store answers: {"gs"} for "gs", else s3, s3a, s3n and s3p.
std::vector<std::string> store_schemes(std::string_view store);
// Registers s3://, s3a://, s3n://, s3p:// and gs://, with settings read from
// the environment on first use. Idempotent.
void register_object_stores();

// --- parsing of the store's XML (exposed for tests and the fuzzer) -----------
struct ListedObject {
  std::string key;
  uint64_t size = 0;
  int64_t mtime_ms = 0;
};
struct ListObjectsPage {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};
// A ListObjectsV2 response (ListBucketResult). Data errors name the byte offset.
Result<ListObjectsPage> parse_list_objects_v2(std::string_view xml);

struct StoreErrorBody {
  std::string code, message, region, endpoint;
};
// An S3 <Error> document; fields stay empty when absent or unreadable.
StoreErrorBody parse_store_error(std::string_view xml);

// "2009-10-12T17:50:30.000Z" -> ms since the epoch (0 when unreadable).
int64_t parse_iso8601_ms(std::string_view text);

}  // namespace fsp::io
