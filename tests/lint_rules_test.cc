// lint's rules over Flink's real files, each at its threshold: a rule that
// fires one unit above and not at the threshold, and the ids state-size,
// legacy-timers, channel-state, ttl and key-group-skew asserted by name.
// Files (../shared/testdata/flink-repo, GROUND_TRUTH.md 2.1): the StatefulJob
// migration savepoints and checkpoints (heap, RocksDB full and native, 1.8
// RocksDB with heap timers, 1.17 unaligned checkpoint) and the SQL restore
// test join-with-state-ttl-hint (TTL on the join states, none on the aggregate).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "flink_savepoint/lint.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;

const char* kResources = "testdata/flink-repo/flink-tests/src/test/resources/";
// StatefulJob operators (GROUND_TRUTH.md 2.1), by uid: the hash of each (flink-savepoint uid-hash).
const char* kSource1 = "69f32d314b97c6f7f9ed7873983167f2";   // CheckpointingSource1
const char* kFlatMap1 = "d5c8b168c6cbfe8c507a10f88b325243";  // CheckpointingKeyedStateFlatMap1
const char* kTimely1 = "4b818c7923a927796d24b727201ba34d";   // CheckpointingTimelyStatefulOperator1
const char* kSource2 = "1f2b5df5a66154aca61fcb26193792be";   // CheckpointingSource2
const char* kFlatMap2 = "dab25811652d3d4983a30c6e4afacb1c";  // CheckpointingKeyedStateFlatMap2
const char* kTimely2 = "41e91aae0bee218c44306cf7d21940ad";   // CheckpointingTimelyStatefulOperator2

SnapshotFile open(const fs::path& shared, const std::string& dir) {
  auto sf = open_snapshot((shared / kResources / dir).string());
  EXPECT_TRUE(sf.ok()) << dir << ": " << (sf.ok() ? "" : sf.error().to_string());
  return std::move(*sf);
}

// (operator id, state) of each finding of `check`, with its status.
std::map<std::pair<std::string, std::string>, std::string> findings(const LintReport& r, const std::string& check) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  for (const auto& f : r.findings)
    if (f.check == check) out[{f.operator_id, f.state}] = f.status;
  return out;
}

// A finding's evidence (a JSON object as text) as a document.
nlohmann::json evidence(const LintFinding* f) { return nlohmann::json::parse(f->evidence.empty() ? "{}" : f->evidence); }

const LintFinding* find(const LintReport& r, const std::string& check, const std::string& op) {
  for (const auto& f : r.findings)
    if (f.check == check && f.operator_id == op) return &f;
  return nullptr;
}

TEST(LintRules, TtlWarnsOnKeyedStatesWithoutTtlOnly) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open_snapshot((shared / "testdata/flink-repo/flink-table/flink-table-planner/src/test/resources/restore-tests/"
                                    "stream-exec-join_1/join-with-state-ttl-hint/savepoint")
                              .string());
  ASSERT_TRUE(sf.ok()) << sf.error().to_string();
  LintReport r = lint(*sf);
  ASSERT_TRUE(r.states_read) << r.states_note;
  // The join's left-records / right-records carry the STATE_TTL hint (TtlSerializer): no finding.
  // The two group aggregates' accState has no TTL: one warning each.
  using K = std::pair<std::string, std::string>;
  std::map<K, std::string> expected{{{"f74fe87c27c920e303a67e3b12c21710", "accState"}, "warn"},
                                    {{"2ddc4f196b6bc4f55fd181c3f02a674c", "accState"}, "warn"}};
  EXPECT_EQ(findings(r, "ttl"), expected);
  for (const auto& f : r.findings) {
    EXPECT_NE(f.state, "left-records") << f.check << ": " << f.message;
    EXPECT_NE(f.state, "right-records") << f.check << ": " << f.message;
    if (f.check == "ttl") {
      EXPECT_NE(f.message.find("no TTL"), std::string::npos) << f.message;
    }
  }
}

TEST(LintRules, TtlOnStatefulJobValueStates) {
  FSP_REQUIRE_SHARED(shared);
  SnapshotFile sf = open(shared, "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint-native");
  LintReport r = lint(sf);
  ASSERT_TRUE(r.states_read) << r.states_note;
  auto ttl = findings(r, "ttl");
  // state-name (ValueState<Long>, no TTL) in the four keyed operators; timers and operator state never.
  for (const char* op : {kFlatMap1, kTimely1, kFlatMap2, kTimely2}) {
    EXPECT_EQ(ttl[std::make_pair(std::string(op), std::string("state-name"))], "warn") << op;
  }
  EXPECT_EQ(ttl.size(), 4u);
}

TEST(LintRules, StateSizeOnTheHeapAboveTheThreshold) {
  FSP_REQUIRE_SHARED(shared);
  SnapshotFile sf = open(shared, "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint-native");
  LintOptions o;
  o.read_states = false;
  EXPECT_TRUE(findings(lint(sf, o), "state-size").empty()) << "1 GiB default";
  o.large_heap_state_bytes = 0;
  LintReport r = lint(sf, o);
  auto sizes = findings(r, "state-size");
  ASSERT_EQ(sizes.size(), 4u);  // the four keyed operators
  const LintFinding* f = find(r, "state-size", kTimely1);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status, "warn");
  EXPECT_EQ(evidence(f)["backend"], "hashmap");
  const int64_t bytes = evidence(f)["keyed_state_bytes"].get<int64_t>();
  EXPECT_GT(bytes, 0);
  // FLINK_DECODING.jsonl: Timely1's four KeyGroupsStateHandles hold 1161 + 1508 + 1580 + 1508 bytes.
  EXPECT_EQ(bytes, 5757);
  EXPECT_NE(f->message.find("large keyed state (" + std::to_string(bytes) + " bytes) on the heap"), std::string::npos)
      << f->message;
  // At the threshold: no finding; one byte below it: a finding.
  o.large_heap_state_bytes = bytes;
  EXPECT_EQ(find(lint(sf, o), "state-size", kTimely1), nullptr);
  o.large_heap_state_bytes = bytes - 1;
  EXPECT_NE(find(lint(sf, o), "state-size", kTimely1), nullptr);
}

TEST(LintRules, StateSizeOfFullRocksDbCheckpointsOnly) {
  FSP_REQUIRE_SHARED(shared);
  LintOptions o;
  o.read_states = false;
  o.large_full_snapshot_bytes = 0;
  // A RocksDB checkpoint whose incremental handles hold every file privately (non-incremental since 1.16).
  SnapshotFile cp = open(shared, "new-stateful-udf-migration-itcase-flink2.0-rocksdb-checkpoint");
  LintReport r = lint(cp, o);
  const LintFinding* f = find(r, "state-size", kFlatMap1);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status, "warn");
  EXPECT_EQ(evidence(f)["backend"], "rocksdb");
  EXPECT_NE(f->message.find("full (non-incremental) RocksDB checkpoints"), std::string::npos) << f->message;
  EXPECT_NE(f->fix.find("execution.checkpointing.incremental"), std::string::npos) << f->fix;
  EXPECT_EQ(findings(r, "state-size").size(), 4u);
  const int64_t bytes = evidence(f)["keyed_state_bytes"].get<int64_t>();
  // FLINK_DECODING.jsonl: FlatMap1's three IncrementalRemoteKeyedStateHandles hold 13775 + 13783 + 13772 bytes.
  EXPECT_EQ(bytes, 41330);
  o.large_full_snapshot_bytes = bytes;
  EXPECT_EQ(find(lint(cp, o), "state-size", kFlatMap1), nullptr);
  o.large_full_snapshot_bytes = bytes - 1;
  EXPECT_NE(find(lint(cp, o), "state-size", kFlatMap1), nullptr);
  // The native savepoint of the same job is not a checkpoint: no advice about checkpoints.
  o.large_full_snapshot_bytes = 0;
  SnapshotFile sp = open(shared, "new-stateful-udf-migration-itcase-flink2.0-rocksdb-savepoint-native");
  EXPECT_TRUE(findings(lint(sp, o), "state-size").empty());
}

TEST(LintRules, LargeMaxParallelismAboveTheThreshold) {
  FSP_REQUIRE_SHARED(shared);
  SnapshotFile sf = open(shared, "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint-native");
  LintOptions o;
  o.read_states = false;
  // The sources: parallelism 1, explicit max parallelism 4 (not Flink's derived 128). Without keyed
  // state a passing max-parallelism check is not listed.
  for (const char* op : {kSource1, kSource2}) EXPECT_EQ(find(lint(sf, o), "max-parallelism", op), nullptr) << op;
  o.large_max_parallelism = 4;
  EXPECT_EQ(find(lint(sf, o), "max-parallelism", kSource1), nullptr);
  o.large_max_parallelism = 3;
  LintReport r = lint(sf, o);
  for (const char* op : {kSource1, kSource2}) {
    const LintFinding* f = find(r, "max-parallelism", op);
    ASSERT_NE(f, nullptr) << op;
    EXPECT_EQ(f->status, "warn");
    EXPECT_NE(f->message.find("very large max parallelism 4"), std::string::npos) << f->message;
  }
  // The keyed operators: max parallelism 4 equals their parallelism; that warning wins.
  ASSERT_NE(find(r, "max-parallelism", kFlatMap1), nullptr);
  EXPECT_NE(find(r, "max-parallelism", kFlatMap1)->message.find("equals the parallelism"), std::string::npos);
}

TEST(LintRules, LegacyTimersInRawKeyedState) {
  FSP_REQUIRE_SHARED(shared);
  // Flink 1.8 RocksDB savepoint: heap timers were written into raw keyed state.
  SnapshotFile sf = open(shared, "new-stateful-udf-migration-itcase-flink1.8-rocksdb-savepoint");
  LintOptions o;
  o.read_states = false;
  auto t = findings(lint(sf, o), "legacy-timers");
  using K = std::pair<std::string, std::string>;
  std::map<K, std::string> expected{{{kFlatMap1, ""}, "warn"}, {{kTimely1, ""}, "warn"}, {{kFlatMap2, ""}, "warn"},
                                    {{kTimely2, ""}, "warn"}};
  EXPECT_EQ(t, expected);
  // The heap savepoint of the same version: timers in managed keyed state.
  SnapshotFile heap = open(shared, "new-stateful-udf-migration-itcase-flink1.8-savepoint");
  EXPECT_TRUE(findings(lint(heap, o), "legacy-timers").empty());
}

TEST(LintRules, ChannelStateOfAnUnalignedCheckpoint) {
  FSP_REQUIRE_SHARED(shared);
  SnapshotFile sf = open(shared, "new-stateful-udf-migration-itcase-flink1.17-rocksdb-checkpoint");
  LintOptions o;
  o.read_states = false;
  LintReport r = lint(sf, o);
  using K = std::pair<std::string, std::string>;
  std::map<K, std::string> expected{{{kSource1, ""}, "info"}, {{kFlatMap1, ""}, "info"}, {{kFlatMap2, ""}, "info"},
                                    {{kSource2, ""}, "info"}};
  EXPECT_EQ(findings(r, "channel-state"), expected);
  ASSERT_NE(find(r, "channel-state", kSource1), nullptr);
  EXPECT_NE(find(r, "channel-state", kSource1)->message.find("unaligned-checkpoint channel state"), std::string::npos);
  // Savepoints are aligned.
  SnapshotFile sp = open(shared, "new-stateful-udf-migration-itcase-flink1.17-rocksdb-savepoint-native");
  EXPECT_TRUE(findings(lint(sp, o), "channel-state").empty());
}

TEST(LintRules, KeyGroupSkewAtTheRatioAndSizeThresholds) {
  FSP_REQUIRE_SHARED(shared);
  SnapshotFile sf = open(shared, "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint-native");
  // FlatMap1's state-name: 86 bytes in 3 key groups, the largest 40 bytes: 1.395x the mean.
  EXPECT_TRUE(findings(lint(sf), "key-group-skew").empty()) << "defaults: 4x, 64 KiB";
  LintOptions o;
  o.skew_min_bytes = 86;
  o.skew_ratio = 1.39;
  LintReport r = lint(sf, o);
  auto skew = findings(r, "key-group-skew");
  EXPECT_EQ(skew[std::make_pair(std::string(kFlatMap1), std::string("state-name"))], "warn");
  const LintFinding* f = find(r, "key-group-skew", kFlatMap1);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("largest key group holds 1.395x the mean"), std::string::npos) << f->message;
  EXPECT_EQ(evidence(f)["max_key_group_bytes"], 40);
  EXPECT_EQ(evidence(f)["key_groups_with_data"], 3);
  o.skew_ratio = 1.40;  // 1.395 is not above
  EXPECT_EQ(find(lint(sf, o), "key-group-skew", kFlatMap1), nullptr);
  o.skew_ratio = 40.0 / (86.0 / 3.0);  // exactly the ratio (largest / mean): not above it either
  EXPECT_EQ(find(lint(sf, o), "key-group-skew", kFlatMap1), nullptr);
  o.skew_ratio = 1.39;
  o.skew_min_bytes = 87;  // 86 bytes are below
  EXPECT_EQ(find(lint(sf, o), "key-group-skew", kFlatMap1), nullptr);
}

TEST(LintRules, JavaSerializerOnARealOperatorState) {
  FSP_REQUIRE_SHARED(shared);
  // complexKeyed: the window operator's _default_ state uses Java serialization (GROUND_TRUTH.md).
  SnapshotFile sf = open(shared, "operatorstate/complexKeyed-flink1.20");
  LintReport r = lint(sf);
  ASSERT_TRUE(r.states_read) << r.states_note;
  int java = 0;
  for (const auto& f : r.findings) {
    if (f.check != "serializer") continue;
    EXPECT_EQ(f.status, "warn");
    EXPECT_EQ(f.state, "_default_");
    EXPECT_NE(f.message.find("uses Java serialization"), std::string::npos) << f.message;
    ++java;
  }
  EXPECT_EQ(java, 2);
}

TEST(LintCli, JsonCarriesFindingsCountsAndExitCode) {
  FSP_REQUIRE_SHARED(shared);
  const fs::path dir = shared / kResources / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint-native";
  auto r = test::run_command(test::cli_path() + " lint --json --large-heap-state 0 --skew-ratio 1.39 '" + dir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["snapshot"], (dir / "_metadata").string());
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["states_read"], true);
  EXPECT_EQ(j["fails"], 0);
  std::map<std::string, int> by_check;
  int warns = 0;
  for (const auto& f : j["findings"]) {
    by_check[f["check"].get<std::string>()]++;
    warns += f["status"] == "warn";
    for (const char* k : {"check", "status", "message", "fix", "evidence", "operator_id", "uid", "name", "state"})
      EXPECT_TRUE(f.contains(k)) << k << " in " << f.dump();
  }
  EXPECT_EQ(j["warns"], warns);
  EXPECT_EQ(by_check["state-size"], 4);
  EXPECT_EQ(by_check["ttl"], 4);
  EXPECT_EQ(by_check["key-group-skew"], 0);  // 1.39 is low enough, but these states are below the 64 KiB minimum
  // --no-states: metadata-only checks, and the note says why.
  auto n = test::run_command(test::cli_path() + " lint --json --no-states '" + dir.string() + "'");
  ASSERT_EQ(n.exit_code, 0) << n.out;
  auto jn = nlohmann::json::parse(n.out);
  EXPECT_EQ(jn["states_read"], false);
  EXPECT_EQ(jn["states_note"], "state files not read (--no-states)");
  for (const auto& f : jn["findings"]) EXPECT_NE(f["check"], "ttl");
}

}  // namespace
}  // namespace fsp
