// Shared helpers for tests that read Flink's real files from ../shared.
#pragma once

#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__)
#define FSP_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FSP_TEST_ASAN 1
#endif
#endif

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/result.h"

#ifndef FSP_SOURCE_DIR
#define FSP_SOURCE_DIR (::fsp::test::source_dir_path())
#define FSP_MAKE_SAMPLE_PATH (::fsp::test::make_sample_program())
#define FSP_FAULT_INJECT_PATH (::fsp::test::fault_inject_library())
#endif

namespace fsp::test {

// Where the checkout and the built programs are. Only test_support.cc is
// compiled with these paths; elsewhere the macros below call these functions.
const char* source_dir_path();
const char* make_sample_program();
const char* fault_inject_library();

// ../shared (or $FSP_SHARED_DIR), if present.
std::optional<std::filesystem::path> shared_dir();

// True when running under CI (CI=true): missing test data is then a failure.
bool in_ci();

// An error test asserts what kind of error and what it says, never only !ok():
// EXPECT_TRUE(test::is_error(r, ErrorKind::kData, {"long string length"})).
template <class R>
::testing::AssertionResult is_error(const R& r, ErrorKind kind, std::initializer_list<std::string_view> words) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded, expected an error";
  const auto& e = r.error();
  if (e.kind != kind)
    return ::testing::AssertionFailure() << "error kind " << static_cast<int>(e.kind) << ", expected "
                                         << static_cast<int>(kind) << ": " << e.to_string();
  for (std::string_view w : words)
    if (e.to_string().find(w) == std::string::npos)
      return ::testing::AssertionFailure() << "the error does not say \"" << w << "\": " << e.to_string();
  return ::testing::AssertionSuccess() << e.to_string();
}

// The S3 test server (s3rver, started by scripts/test.sh) from
// $FSP_TEST_S3_ENDPOINT, if set.
std::optional<std::string> s3_test_endpoint();

// In a test body: `FSP_REQUIRE_S3(endpoint);` declares `endpoint`, or skips
// the test without a server (fails it under CI=true).
#define FSP_REQUIRE_S3(endpoint)                                                                       \
  auto endpoint##_opt = ::fsp::test::s3_test_endpoint();                                               \
  if (!endpoint##_opt) {                                                                               \
    if (::fsp::test::in_ci()) FAIL() << "FSP_TEST_S3_ENDPOINT is unset, and CI=true requires the S3 test server"; \
    GTEST_SKIP() << "FSP_TEST_S3_ENDPOINT is unset (scripts/test.sh starts s3rver): skipping store tests"; \
  }                                                                                                    \
  const std::string endpoint = *endpoint##_opt

// `env ...` with the test server's credentials, endpoint and region, for a CLI
// command line; and the same set in this process with the object stores
// registered, for in-process store calls.
std::string store_env(const std::string& endpoint);
void use_test_server_in_process(const std::string& endpoint);
// s3://BUCKET/NAME-<pid>-<clock>: a prefix no other run uses.
std::string unique_prefix(const std::string& bucket, const std::string& name);

// Path of the CLI binary built with the tests.
std::string cli_path();

// Runs a shell command, capturing stdout (and its exit status).
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult run_command(const std::string& command);

// Runs the CLI with `args` (each already shell_quote()d), stderr merged into stdout.
CommandResult run_cli(const std::string& args);

// `s` as one single-quoted shell word.
std::string shell_quote(std::string_view s);

std::string read_file(const std::filesystem::path& p);

// Writes `bytes` to `p` (creating its directory), replacing what was there.
void write_file(const std::filesystem::path& p, std::string_view bytes);

// A fresh directory under the system temp dir (fsp-test-XXXXXX), removed with
// everything in it at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// A chainable builder of bytes as Flink's DataOutputView writes them
// (big-endian; utf: a u16 length and the bytes), for hand-built inputs.
struct JavaBytes {
  std::string b;
  JavaBytes& i32(int32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((static_cast<uint32_t>(v) >> s) & 0xFF));
    return *this;
  }
  JavaBytes& i64(int64_t v) {
    i32(static_cast<int32_t>(static_cast<uint64_t>(v) >> 32));
    return i32(static_cast<int32_t>(v));
  }
  JavaBytes& i16(int16_t v) {
    b.push_back(static_cast<char>((v >> 8) & 0xFF));
    b.push_back(static_cast<char>(v & 0xFF));
    return *this;
  }
  JavaBytes& u8(uint8_t v) {
    b.push_back(static_cast<char>(v));
    return *this;
  }
  JavaBytes& utf(std::string_view s) {
    i16(static_cast<int16_t>(s.size()));
    b.append(s);
    return *this;
  }
  JavaBytes& raw(std::string_view s) {
    b.append(s);
    return *this;
  }
};

// Bytes as Flink's DataOutputView writes them (big-endian; modified UTF-8 with a u16 length).
std::string be_utf(std::string_view s);
std::string be_i32(int32_t v);
std::string be_i64(int64_t v);

// A copy of testdata/sample-savepoint (in fsp-<tag>-<pid> under the temp dir) whose keyed state
// "order-count" has `value_snapshot` (a versioned serializer snapshot) as its value serializer; the
// key-group offsets in _metadata move by the size difference. `version`: the metadata version written
// (the sample's own when absent).
std::filesystem::path sample_with_value_serializer(const std::string& tag, const std::string& value_snapshot,
                                                   std::optional<int32_t> version = std::nullopt);

// Rows of ../shared/testdata/flink-repo/MANIFEST.tsv: path (relative to flink-repo) and columns by name.
struct ManifestRow {
  std::string path;
  std::string flink_version, state_backend, kind, savepoint_format;
  int metadata_version = 0;
  long long checkpoint_id = 0;
  int num_operators = -1;
};
std::vector<ManifestRow> manifest();

// The manifest rows whose path contains `needle`.
std::vector<ManifestRow> rows_matching(const std::string& needle);

}  // namespace fsp::test

namespace fsp {
struct OperatorStates;
struct StateInfo;
namespace test {
// The state `name` of operator `op_id` (hex) in read_states output, or null.
const StateInfo* find_state(const std::vector<OperatorStates>& ops, const std::string& op_id, const std::string& name);
}  // namespace test
}  // namespace fsp

// Skips the test when ../shared is missing (fails under CI=true). Defines `shared`.
#define FSP_REQUIRE_SHARED(shared)                                                            \
  auto shared##_opt = ::fsp::test::shared_dir();                                              \
  if (!shared##_opt) {                                                                        \
    if (::fsp::test::in_ci()) FAIL() << "../shared/testdata is missing, and CI=true requires it"; \
    GTEST_SKIP() << "../shared/testdata is absent: skipping tests over Flink's real files";   \
  }                                                                                           \
  const std::filesystem::path shared = *shared##_opt
