// The snapshot summary's state backend (what `inspect` prints and `check`
// relies on) over Flink's real files: one file per branch of the inference,
// read through `inspect --json` (summary.backend). Files: the StatefulJob
// migration snapshots of ../shared/testdata/flink-repo (GROUND_TRUTH.md 2.1),
// whose directory names say the backend Flink's test used.
#include <algorithm>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/summary.h"
#include "flink_savepoint/summary_internal.h"
#include "test_support.h"

namespace fsp {
namespace {

nlohmann::json inspect_json(const std::filesystem::path& p) {
  auto r = test::run_command(test::cli_path() + " inspect --json '" + p.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << p << ": " << r.out;
  return nlohmann::json::parse(r.out, nullptr, false);
}

// A canonical savepoint whose keyed handles are plain KeyGroupsStateHandles
// (no real file in ../shared has them: the 1.16 canonical savepoint's code-7
// handles re-encoded as code 3) is still "any (canonical)", not heap.
TEST(SummaryReal, CanonicalSavepointWithPlainKeyGroupHandlesIsCanonical) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open_snapshot((shared / "testdata/flink-repo/flink-tests/src/test/resources" /
                           "new-stateful-udf-migration-itcase-flink1.16-hashmap-savepoint").string());
  ASSERT_TRUE(sf.ok()) << sf.error().to_string();
  size_t changed = 0;
  for (auto& op : sf->snapshot.operators)
    for (auto& st : op.subtasks)
      if (st.managed_keyed.code == code::kSavepointKeyGroups) {
        st.managed_keyed.code = code::kKeyGroups;
        ++changed;
      }
  ASSERT_GT(changed, 0u);
  auto bytes = encode_metadata(sf->snapshot);
  ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
  auto s = decode_metadata(*bytes);
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  SnapshotSummary sum = summarize(*s, false);
  EXPECT_EQ(sum.kind, SnapshotKind::kSavepoint);
  EXPECT_EQ(sum.snapshot_format, SnapshotFormat::kCanonical);
  EXPECT_EQ(sum.backend, "any (canonical)") << sum.backend_reason;
  EXPECT_EQ(sum.backend_reason, "KeyGroupsStateHandle in a canonical savepoint (written before 1.13)");
}

TEST(SummaryReal, BackendOfEachKindOfSnapshot) {
  FSP_REQUIRE_SHARED(shared);
  const std::vector<std::pair<std::string, std::string>> cases = {
      // v4+ KeyGroupsStateHandle: heap; RocksDB writes incremental handles since 1.16.
      {"new-stateful-udf-migration-itcase-flink1.16-hashmap-savepoint-native", "hashmap"},
      {"new-stateful-udf-migration-itcase-flink1.16-hashmap-checkpoint", "hashmap"},
      {"new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint-native", "hashmap"},
      {"type-serializer-snapshot-migration-itcase-flink1.16-hashmap-checkpoint", "hashmap"},
      {"new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint-native", "hashmap"},
      {"new-stateful-udf-migration-itcase-flink2.3-hashmap-checkpoint", "hashmap"},
      // v3 (Flink 1.11-1.15): the same handle is heap or a RocksDB full snapshot.
      {"new-stateful-udf-migration-itcase-flink1.15-hashmap-checkpoint", "heap-or-rocksdb-full"},
      {"new-stateful-udf-migration-itcase-flink1.15-rocksdb-checkpoint", "heap-or-rocksdb-full"},
      {"new-stateful-udf-migration-itcase-flink1.12-savepoint", "heap-or-rocksdb-full"},
      // IncrementalRemoteKeyedStateHandle.
      {"new-stateful-udf-migration-itcase-flink1.16-rocksdb-savepoint-native", "rocksdb"},
      {"new-stateful-udf-migration-itcase-flink2.3-rocksdb-checkpoint", "rocksdb"},
      // A changelog checkpoint wrapping nothing materialized yet.
      {"new-stateful-udf-migration-itcase-flink1.17-hashmap-checkpoint", "changelog+none"},
      // Canonical savepoint.
      {"new-stateful-udf-migration-itcase-flink1.16-hashmap-savepoint", "any (canonical)"},
      // No keyed state at all.
      {"operatorstate/nonKeyed-flink1.20", "none"},
  };
  for (const auto& [dir, backend] : cases) {
    auto p = shared / "testdata/flink-repo/flink-tests/src/test/resources" / dir;
    auto j = inspect_json(p);
    ASSERT_FALSE(j.is_discarded()) << dir;
    EXPECT_EQ(j["summary"]["backend"], backend) << dir << ": " << j["summary"]["backend_reason"];
  }
}

// Every v4+ heap snapshot of the corpus (directory says hashmap, not a canonical
// savepoint, with keyed handles): "hashmap", never the v3 ambiguity.
TEST(SummaryReal, EveryV4HeapSnapshotIsHashmap) {
  FSP_REQUIRE_SHARED(shared);
  size_t n = 0;
  for (const auto& row : test::manifest()) {
    if (row.metadata_version < 4 || row.path.find("-hashmap-") == std::string::npos) continue;
    if (row.path.find("-hashmap-savepoint/") != std::string::npos) continue;  // canonical
    auto j = inspect_json(shared / "testdata/flink-repo" / row.path);
    ASSERT_FALSE(j.is_discarded()) << row.path;
    std::string b = j["summary"]["backend"];
    if (b == "none" || b.rfind("changelog+", 0) == 0) continue;  // no materialized keyed handle
    EXPECT_EQ(b, "hashmap") << row.path;
    ++n;
  }
  EXPECT_GE(n, 30u);
}

// The file count without the list (distinct path hashes, what `inspect`'s
// table prints) agrees with the exact list (`--json`) on every file of the
// corpus, and on a real RocksDB checkpoint grown to 9,082 files (several
// buckets of the count), 3,000 of them named twice.
TEST(SummaryReal, FileCountWithoutTheListIsTheListsSize) {
  FSP_REQUIRE_SHARED(shared);
  size_t n = 0, with_files = 0;
  for (const auto& row : test::manifest()) {
    auto sf = open_snapshot((shared / "testdata/flink-repo" / row.path).string());
    ASSERT_TRUE(sf.ok()) << row.path << ": " << sf.error().to_string();
    SnapshotSummary count = summarize(sf->snapshot, false), listed = summarize(sf->snapshot, true);
    EXPECT_EQ(count.file_count, static_cast<int64_t>(listed.files.size())) << row.path;
    EXPECT_EQ(count.file_count, listed.file_count) << row.path;
    with_files += count.file_count > 0;
    ++n;
  }
  EXPECT_GE(n, 480u);
  EXPECT_GE(with_files, 120u);

  auto sf = open_snapshot((shared / "testdata/flink-repo/flink-tests/src/test/resources" /
                           "new-stateful-udf-migration-itcase-flink1.16-rocksdb-checkpoint").string());
  ASSERT_TRUE(sf.ok()) << sf.error().to_string();
  ASSERT_EQ(summarize(sf->snapshot, false).file_count, 82);
  KeyedHandle* k = nullptr;
  for (auto& op : sf->snapshot.operators)
    for (auto& st : op.subtasks)
      if (!k && st.managed_keyed.code == code::kIncrementalV2) k = &st.managed_keyed;
  ASSERT_NE(k, nullptr);
  std::vector<std::string> paths;
  for (int i = 0; i < 9000; ++i) paths.push_back("s3://bucket/job/shared/" + std::to_string(i % 6000) + ".sst");
  for (int i = 0; i < 3000; ++i) paths.push_back("s3://bucket/job/shared/" + std::to_string(i) + ".sst");
  auto add_shared = [&](const std::vector<std::string>& ps, Str local) {
    for (const auto& p : ps) {
      NamedHandle h;
      h.local_path = local;
      h.handle.code = code::kFile;
      h.handle.state_size = 1;
      h.handle.path = p;
      k->shared_state.push_back(std::move(h));
    }
  };
  add_shared(paths, "000001.sst");
  SnapshotSummary count = summarize(sf->snapshot, false), listed = summarize(sf->snapshot, true);
  EXPECT_EQ(count.file_count, 82 + 6000);
  EXPECT_EQ(listed.file_count, 82 + 6000);
  EXPECT_EQ(listed.files.size(), 82u + 6000u);

  // 4,000 more paths of one length that end in the same 16 bytes (one group:
  // the count has to read them), 1,000 of them twice: 4,000 more files.
  std::vector<std::string> same_tail;
  for (int i = 0; i < 5000; ++i) {
    std::string dir = std::to_string(1000 + i % 4000);
    same_tail.push_back("s3://bucket/job-" + dir + "/shared/0123456789abcdef");
  }
  add_shared(same_tail, "000002.sst");
  EXPECT_EQ(k->shared_state.back().handle.path.group(), HandlePath(same_tail[0]).group());
  count = summarize(sf->snapshot, false);
  listed = summarize(sf->snapshot, true);
  EXPECT_EQ(count.file_count, 82 + 6000 + 4000);
  EXPECT_EQ(listed.file_count, 82 + 6000 + 4000);
}

// The distinct count of values, in the shapes that reach each of its paths:
// none, one bucket, many buckets, the value 0 (the free-slot mark), and values
// crafted to share their bucket and their slot bits (without the probe budget
// this one would take ~10^10 probes; with it, the bucket is sorted).
TEST(SummaryCount, DistinctValuesInEveryShape) {
  using detail::count_distinct;
  EXPECT_EQ(count_distinct({}), 0);
  EXPECT_EQ(count_distinct({0}), 1);
  EXPECT_EQ(count_distinct({0, 0, 7, 7, 7}), 2);
  std::vector<uint64_t> v;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 50000; ++i) {  // xorshift64: distinct, spread over every bucket
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v.push_back(x);
  }
  for (int i = 0; i < 50000; i += 5) v.push_back(v[static_cast<size_t>(i)]);
  v.push_back(0);
  v.push_back(0);
  EXPECT_EQ(count_distinct(v), 50001);
  std::vector<uint64_t> crafted;
  for (uint64_t i = 0; i < 100000; ++i) crafted.push_back((uint64_t{0xABC} << 52) | (i << 20) | 0x12345);
  for (uint64_t i = 0; i < 100000; i += 2) crafted.push_back((uint64_t{0xABC} << 52) | (i << 20) | 0x12345);
  EXPECT_EQ(count_distinct(crafted), 100000);

  // The values met more than once, from the hashed buckets and from a sorted one.
  auto repeats = [](const std::vector<uint64_t>& values) {
    std::vector<uint64_t> r;
    int64_t n = count_distinct(values, &r);
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    return std::make_pair(n, r);
  };
  EXPECT_EQ(repeats({5, 0, 7, 5, 0, 5, 9}), std::make_pair(int64_t{4}, std::vector<uint64_t>{0, 5}));
  EXPECT_EQ(repeats({1, 2, 3}), std::make_pair(int64_t{3}, std::vector<uint64_t>{}));
  auto [n, r] = repeats(crafted);
  EXPECT_EQ(n, 100000);
  ASSERT_EQ(r.size(), 50000u);
  EXPECT_EQ(r[1], (uint64_t{0xABC} << 52) | (uint64_t{2} << 20) | 0x12345);
}

}  // namespace
}  // namespace fsp
