// Commands over object stores and many snapshots: a real checkpoint uploaded
// to the s3rver test server reads the same as its local copy; relocate from
// s3:// to s3:// (through standard streams and directly) round-trips byte for
// byte; a directory of many snapshots gives one JSON line each; --latest
// picks the newest complete checkpoint.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/s3_file_system.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/snapshot_set.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/summary.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;

const char* kCheckpoint = "flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.17-rocksdb-checkpoint";

using test::store_env;
using test::unique_prefix;
using test::use_test_server_in_process;

// Copies a local directory below `prefix`; returns the bytes of its files other than _metadata.
uint64_t upload_dir(io::FileSystem& store, const fs::path& dir, const std::string& prefix) {
  uint64_t state_bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), dir).string();
    std::string bytes = test::read_file(e.path());
    auto w = store.create(prefix + "/" + rel, {});
    EXPECT_TRUE(w.ok());
    if (!w.ok()) continue;
    EXPECT_TRUE((*w)->append(bytes).ok());
    Status c = (*w)->commit();
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    if (rel != "_metadata") state_bytes += bytes.size();
  }
  return state_bytes;
}

std::shared_ptr<io::FileSystem> test_store(const std::string& endpoint) {
  io::S3Settings s;
  s.access_key_id = s.secret_access_key = "S3RVER";
  s.credentials_source = "test";
  s.endpoint = endpoint;
  return io::make_s3_file_system(s);
}

nlohmann::json without_paths(nlohmann::json j) {
  j.erase("metadata_path");
  return j;
}

TEST(StoreCli, InspectStatesFromTheStoreEqualsTheLocalCopy) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  fs::path local = shared / "testdata/flink-repo" / kCheckpoint;
  auto store = test_store(endpoint);
  std::string prefix = unique_prefix("fsp-test-a", "ckpt") + "/chk-1";
  uint64_t state_bytes = upload_dir(*store, local, prefix);
  EXPECT_GE(state_bytes, 234706u);  // the state files (the handles record 234706 bytes in 85 files)

  auto l = test::run_command(test::cli_path() + " inspect --states --json " + local.string());
  auto r = test::run_command(store_env(endpoint) + test::cli_path() + " inspect --states --json " + prefix + "/");
  ASSERT_EQ(l.exit_code, 0);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto lj = nlohmann::json::parse(l.out), rj = nlohmann::json::parse(r.out);
  EXPECT_EQ(rj["metadata_path"], prefix + "/_metadata");
  EXPECT_EQ(without_paths(lj), without_paths(rj));
  ASSERT_EQ(rj["operators"].size(), 8u);

  // In process: what was downloaded for --states, and for the headers alone.
  use_test_server_in_process(endpoint);
  for (bool statistics : {true, false}) {
    auto before = io::object_store_stats();
    auto sf = open_snapshot(prefix);
    ASSERT_TRUE(sf.ok()) << sf.error().to_string();
    StateReadOptions so;
    so.statistics = statistics;
    auto states = read_states(*sf, so);
    ASSERT_TRUE(states.ok()) << states.error().to_string();
    auto after = io::object_store_stats();
    uint64_t got = after.bytes_received - before.bytes_received;
    std::cout << "inspect --states" << (statistics ? "" : " --no-statistics") << " from s3: " << got
              << " bytes downloaded in " << after.requests - before.requests << " request(s); state files: " << state_bytes
              << " bytes; _metadata: " << sf->file_size << " bytes\n";
    EXPECT_GE(got, sf->file_size);
    // Fetched: the _metadata, the RocksDB meta data files (proxies, read
    // whole), the 16 KiB tails of the SSTs (these are ~1 KB: whole) and the
    // operator state files' proxies; never the MANIFEST, OPTIONS or CURRENT
    // files, nor the data after a proxy.
    EXPECT_LT(got, state_bytes / 4);
    if (!statistics) {
      EXPECT_LT(got, state_bytes / 8);
    }
  }

  // The command line says the same under FSP_STORE_STATS (on stderr).
  auto stats = test::run_command("FSP_STORE_STATS=1 " + store_env(endpoint) + test::cli_path() +
                                 " inspect --states --json " + prefix + "/ 2>&1 >/dev/null");
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  auto at = stats.out.find(" bytes received");
  ASSERT_NE(at, std::string::npos) << stats.out;
  auto from = stats.out.rfind(", ", at);
  ASSERT_NE(from, std::string::npos) << stats.out;
  uint64_t received = std::stoull(stats.out.substr(from + 2, at - from - 2));
  std::cout << stats.out;
  EXPECT_GT(received, 10946u);  // the _metadata at least
  EXPECT_LT(received, state_bytes / 4);
}

// The bytes received, from FSP_STORE_STATS's line on stderr ("..., N bytes received, ...").
uint64_t bytes_received(const std::string& err) {
  auto at = err.find(" bytes received");
  if (at == std::string::npos) return UINT64_MAX;
  auto from = err.rfind(", ", at);
  return from == std::string::npos ? UINT64_MAX : std::stoull(err.substr(from + 2, at - from - 2));
}

// Key-grouped heap files (ranged reads of the proxies with --no-statistics,
// whole files for the walk) and broadcast operator state (the proxy and 4
// bytes at each broadcast state's offset): the same JSON from the store as
// from the local copy, with and without statistics, for less than the state files.
TEST(StoreCli, HeapAndBroadcastStatesFromTheStoreEqualTheLocalCopy) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  auto store = test_store(endpoint);
  struct Case {
    const char* dir;
    uint64_t state_bytes;  // the state files (all but _metadata), as uploaded
    uint64_t max_with_statistics, max_without;  // bytes received: the _metadata and listings (~1.3 KB) included
    uint64_t min_saved;  // bytes fewer without the statistics
  };
  const Case cases[] = {
      // 16 key-grouped heap files (15,313 bytes; _metadata 3,142): read whole
      // for the walk (19,753 bytes received); without it the proxies only
      // (18,817), which here are most of each file (the values are a few Longs).
      {"new-stateful-udf-migration-itcase-flink1.17-hashmap-savepoint-native", 15313, 3142 + 15313 + 2048,
       3142 + 15313 + 2048 - 800, 800},
      // RocksDB meta data files (proxies, whole; the job has no SSTs) and 4
      // operator state files with 3 broadcast states each (proxy + 4 bytes per
      // broadcast state), beside 8 files of 13,682 bytes the reader never
      // fetches: 17,390 bytes received either way.
      {"new-stateful-broadcast-udf-migration-itcase-flink1.17-rocksdb-savepoint-native", 122818, 122818 / 6,
       122818 / 6, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dir);
    fs::path local = shared / "testdata/flink-repo/flink-tests/src/test/resources" / c.dir;
    std::string prefix = unique_prefix("fsp-test-a", "states") + "/sp";
    EXPECT_EQ(upload_dir(*store, local, prefix), c.state_bytes);
    uint64_t got[2] = {0, 0};
    for (int no_statistics = 0; no_statistics < 2; ++no_statistics) {
      std::string flags = no_statistics ? " inspect --states --no-statistics --json " : " inspect --states --json ";
      SCOPED_TRACE(flags);
      auto l = test::run_command(test::cli_path() + flags + local.string());
      fs::path err = fs::temp_directory_path() / ("fsp-stats-" + std::to_string(::getpid()));
      auto r = test::run_command("FSP_STORE_STATS=1 " + store_env(endpoint) + test::cli_path() + flags + prefix +
                                 "/ 2>" + err.string());
      std::string stats = test::read_file(err);
      fs::remove(err);
      ASSERT_EQ(l.exit_code, 0) << l.out;
      ASSERT_EQ(r.exit_code, 0) << r.out << stats;
      auto lj = nlohmann::json::parse(l.out), rj = nlohmann::json::parse(r.out);
      EXPECT_EQ(without_paths(lj), without_paths(rj));
      got[no_statistics] = bytes_received(stats);
      std::cout << c.dir << flags << "from s3: " << stats;
      EXPECT_LT(got[no_statistics], no_statistics ? c.max_without : c.max_with_statistics);
    }
    EXPECT_LE(got[1] + c.min_saved, got[0]);
  }
}

TEST(StoreCli, RelocateBetweenBucketsRoundTripsThroughStreamsAndDirectly) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  fs::path local = shared / "testdata/flink-repo" / kCheckpoint / "_metadata";
  std::string original = test::read_file(local);
  auto store = test_store(endpoint);
  std::string a = unique_prefix("fsp-test-a", "reloc"), b = unique_prefix("fsp-test-b", "reloc");
  upload_dir(*store, local.parent_path(), a);
  const std::string cli = store_env(endpoint) + test::cli_path();

  // Relative handles only: nothing to rewrite (--allow-no-match), the same bytes come out.
  fs::path out = fs::temp_directory_path() / ("fsp-reloc-" + std::to_string(::getpid()));
  auto piped = test::run_command(cli + " relocate - --from s3://fsp-test-a/ --to s3://fsp-test-b/ --allow-no-match --output - < " +
                                 local.string() + " > " + out.string());
  ASSERT_EQ(piped.exit_code, 0) << piped.out;
  EXPECT_EQ(test::read_file(out), original);  // relative handles: nothing to rewrite, same bytes
  auto direct = test::run_command(cli + " relocate " + a + " --from /x/ --to /y/ --allow-no-match --output " + b + "/_metadata");
  ASSERT_EQ(direct.exit_code, 0) << direct.out;
  auto back = store->read(b + "/_metadata");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE((*back)->bytes() == original);
  fs::remove(out);
}

// flink-written/v4 holds absolute file:/abs/... handles: a -> b rewrites them
// to s3://fsp-test-b/moved/ (standard input to standard output, uploaded
// through stdin), b -> a rewrites them back, store to store: the original bytes.
TEST(StoreCli, RelocateRewritesAbsolutePathsAcrossBucketsAndBack) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  fs::path src = shared / "testdata/flink-written/v4/_metadata";
  std::string original = test::read_file(src);
  auto store = test_store(endpoint);
  std::string a = unique_prefix("fsp-test-a", "abs"), b = unique_prefix("fsp-test-b", "abs");
  upload_dir(*store, src.parent_path(), a);
  fs::path moved_file = fs::temp_directory_path() / ("fsp-moved-" + std::to_string(::getpid()));
  const std::string cli = store_env(endpoint) + test::cli_path();
  // aws s3 cp s3://a/_metadata - | relocate - ... --output - | aws s3 cp - s3://b/_metadata, with our own reads and writes:
  auto p1 = test::run_command(cli + " relocate " + a + "/_metadata --from file:/abs/ --to s3://fsp-test-b/moved/ --output - | " + cli +
                              " relocate - --from s3://nowhere/ --to s3://x/ --allow-no-match --output " + b + "/_metadata");
  ASSERT_EQ(p1.exit_code, 0) << p1.out;
  auto moved = store->read(b + "/_metadata");
  ASSERT_TRUE(moved.ok()) << moved.error().to_string();
  std::string moved_bytes((*moved)->bytes());
  EXPECT_NE(moved_bytes, original);
  EXPECT_NE(moved_bytes.find("s3://fsp-test-b/moved/dstl/log-1"), std::string::npos);
  EXPECT_EQ(moved_bytes.find("file:/abs/"), std::string::npos);
  // b -> a, store to store: the original bytes again (the old object kept as _metadata.bak).
  auto p2 = test::run_command(cli + " relocate " + b + " --from s3://fsp-test-b/moved/ --to file:/abs/ --force --output " + a + "/_metadata");
  ASSERT_EQ(p2.exit_code, 0) << p2.out;
  auto back = store->read(a + "/_metadata");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE((*back)->bytes() == original);
  EXPECT_TRUE((*store->read(a + "/_metadata.bak"))->bytes() == original);
  // And through the standard streams only.
  auto p3 = test::run_command(cli + " relocate " + b + "/_metadata --from s3://fsp-test-b/moved/ --to file:/abs/ --output - > " +
                              moved_file.string());
  EXPECT_EQ(p3.exit_code, 0);
  EXPECT_EQ(test::read_file(moved_file), original) << p3.out;
  fs::remove(moved_file);
}

TEST(StoreCli, RelocateWithoutAnyMatchFails) {
  fs::path dir = fs::temp_directory_path() / ("fsp-nomatch-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_EQ(test::run_command(std::string(FSP_MAKE_SAMPLE_PATH) + " " + dir.string() + " >/dev/null").exit_code, 0);
  auto r = test::run_command(test::cli_path() + " relocate " + dir.string() + " --from hdfs:///nowhere/ --to s3://b/ --output " +
                             (dir / "out").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("no --from prefix matched any path"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / "out"));
  auto ok = test::run_command(test::cli_path() + " relocate " + dir.string() + " --from hdfs:///nowhere/ --to s3://b/ --allow-no-match --output " +
                              (dir / "out").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(test::read_file(dir / "out"), test::read_file(dir / "_metadata"));
  fs::remove_all(dir);
}

// libcurl is opened when a store is first used: a command on a local file
// never loads it, nor libarchive (the dynamic loader's trace names every
// library it maps), and
// when it cannot be loaded a store path fails with exit 74, the reason and a
// hint, in text and in JSON, instead of a crash or a silent success.
TEST(StoreCli, LibcurlIsLoadedOnlyForStorePaths) {
  fs::path dir = fs::temp_directory_path() / ("fsp-nocurl-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_EQ(test::run_command(std::string(FSP_MAKE_SAMPLE_PATH) + " " + dir.string() + " >/dev/null").exit_code, 0);
  auto local = test::run_command("LD_DEBUG=files " + test::cli_path() + " inspect " + dir.string() + " 2>&1");
  EXPECT_EQ(local.exit_code, 0) << local.out;
  EXPECT_NE(local.out.find("libstdc++"), std::string::npos) << "no loader trace: " << local.out;
  EXPECT_EQ(local.out.find("libcurl"), std::string::npos) << local.out;
  EXPECT_EQ(local.out.find("libarchive"), std::string::npos) << local.out;

  auto missing = test::run_command("FSP_LIBCURL=/nonexistent/libcurl.so.4 " + test::cli_path() + " inspect s3://bucket/job/chk-1 2>&1");
  EXPECT_EQ(missing.exit_code, 74) << missing.out;
  EXPECT_NE(missing.out.find("error: s3:// and gs:// need libcurl, which could not be loaded: /nonexistent/libcurl.so.4"),
            std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("hint: install libcurl 7.75 or newer"), std::string::npos) << missing.out;

  auto not_curl = test::run_command("FSP_LIBCURL=libc.so.6 " + test::cli_path() + " inspect --json gs://bucket/job/chk-1 2>&1");
  EXPECT_EQ(not_curl.exit_code, 74) << not_curl.out;
  auto j = nlohmann::json::parse(not_curl.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << not_curl.out;
  EXPECT_EQ(j["error"]["exit_code"], 74);
  EXPECT_NE(j["error"]["message"].get<std::string>().find("is too old or not libcurl: it lacks curl_global_init"), std::string::npos) << not_curl.out;
  fs::remove_all(dir);
}

TEST(ManySnapshots, InspectJsonOverAllTestdataGivesOneLineEach) {
  FSP_REQUIRE_SHARED(shared);
  fs::path root = shared / "testdata";
  size_t expected = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() == "_metadata") ++expected;
  ASSERT_GT(expected, 480u);
  auto r = test::run_command(test::cli_path() + " inspect --json " + root.string() + " 2>/dev/null");
  std::istringstream lines(r.out);
  std::string line;
  size_t n = 0, errors = 0;
  std::set<std::string> seen;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);  // throws (fails) on anything but one object per line
    ++n;
    EXPECT_EQ(j["schema_version"], 1);
    if (j.contains("error")) {
      ++errors;
      seen.insert(j["snapshot"].get<std::string>());
    } else {
      seen.insert(j["metadata_path"].get<std::string>());
    }
  }
  EXPECT_EQ(n, expected);
  EXPECT_EQ(seen.size(), expected);
  // Every real file decodes (the decoder agrees with Flink's loader on all of them).
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(r.exit_code, 0);
  // Text: one row per snapshot, plus the header.
  auto t = test::run_command(test::cli_path() + " inspect " + (root / "flink-written").string());
  EXPECT_EQ(t.exit_code, 0);
  EXPECT_EQ(std::count(t.out.begin(), t.out.end(), '\n'), 5) << t.out;
}

// chk-3, chk-12 complete, chk-20 still being written: --latest takes chk-12
// (numerically highest with a _metadata, not chk-3 as text would sort).
TEST(ManySnapshots, LatestPicksTheNewestCompleteCheckpoint) {
  FSP_REQUIRE_SHARED(shared);
  fs::path job = fs::temp_directory_path() / ("fsp-latest-" + std::to_string(::getpid())) / "0f7a1b2c";
  fs::remove_all(job.parent_path());
  fs::path v3 = shared / "testdata/flink-written/v3/_metadata", v4 = shared / "testdata/flink-written/v4/_metadata";
  fs::create_directories(job / "chk-3");
  fs::create_directories(job / "chk-12");
  fs::create_directories(job / "chk-20");
  fs::create_directories(job / "shared");
  fs::copy_file(v3, job / "chk-3/_metadata");
  fs::copy_file(v4, job / "chk-12/_metadata");
  std::ofstream(job / "chk-20/partial") << "x";
  auto expected = open_snapshot(v4.string());
  ASSERT_TRUE(expected.ok());
  auto r = test::run_command(test::cli_path() + " inspect --json --latest " + job.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["metadata_path"], (job / "chk-12/_metadata").string());
  EXPECT_EQ(j["checkpoint_id"], expected->snapshot.checkpoint_id);
  auto set = expand_snapshot_args({job.string()});
  ASSERT_TRUE(set.ok());
  ASSERT_EQ(set->snapshots.size(), 2u);
  EXPECT_EQ(set->snapshots[0], (job / "chk-3/_metadata").string());  // numeric order
  EXPECT_EQ(set->snapshots[1], (job / "chk-12/_metadata").string());
  auto none = test::run_command(test::cli_path() + " inspect --latest " + (job / "shared").string() + " 2>&1");
  EXPECT_EQ(none.exit_code, 66);
  EXPECT_NE(none.out.find("no complete checkpoint under"), std::string::npos) << none.out;
  auto lint = test::run_command(test::cli_path() + " lint --json --no-states " + job.string());
  EXPECT_EQ(std::count(lint.out.begin(), lint.out.end(), '\n'), 2) << lint.out;
  fs::remove_all(job.parent_path());
}

TEST(ManySnapshots, LatestOnAStorePrefix) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  auto store = test_store(endpoint);
  std::string job = unique_prefix("fsp-test-a", "job");
  for (auto [chk, src] : {std::pair{"chk-9", "v3"}, std::pair{"chk-10", "v5"}}) {
    auto w = store->create(job + "/" + chk + "/_metadata", {});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->append(test::read_file(shared / "testdata/flink-written" / src / "_metadata")).ok());
    ASSERT_TRUE((*w)->commit().ok());
  }
  auto w = store->create(job + "/chk-11/x", {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->commit().ok());
  auto r = test::run_command(store_env(endpoint) + test::cli_path() + " inspect --json --latest " + job);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["metadata_path"], job + "/chk-10/_metadata");
  auto all = test::run_command(store_env(endpoint) + test::cli_path() + " inspect --json " + job);
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 2) << all.out;
}

}  // namespace
}  // namespace fsp
