// migrate over Flink's real savepoints: renames and drops change nothing but
// the named operators; max parallelism re-groups keyed state into the key
// groups Flink assigns, and back.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <fstream>
#include <set>
#include <unistd.h>

#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/keyed_state_stream.h"
#include "flink_savepoint/migrate.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

const char* kStateful = "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink";

Result<MigratePlan> migrate(const fs::path& src, const fs::path& out, const MigrateOptions& o0) {
  auto sf = open_snapshot(src.string());
  if (!sf) return sf.take_error();
  MigrateOptions o = o0;
  o.output_dir = out.string();
  auto plan = plan_migration(*sf, o);
  if (!plan) return plan.take_error();
  auto st = write_migration(*sf, *plan, out.string());
  if (!st) return st.take_error();
  return plan;
}

// The encoded bytes of each operator, by id: [file_offset, next operator or trailer).
std::map<std::string, std::string> operator_bytes(const fs::path& dir) {
  auto sf = open_snapshot(dir.string());
  EXPECT_TRUE(sf) << sf.error().to_string();
  std::map<std::string, std::string> out;
  if (!sf) return out;
  std::string all = test::read_file(sf->metadata_path);
  const auto& ops = sf->snapshot.operators;
  size_t end_all = all.size() - sf->snapshot.trailer.size();
  for (size_t i = 0; i < ops.size(); ++i) {
    size_t b = ops[i].file_offset, e = i + 1 < ops.size() ? ops[i + 1].file_offset : end_all;
    out[ops[i].id_hex()] = all.substr(b, e - b);
  }
  return out;
}

TEST(Migrate, RenameAndDropChangeNothingElse) {
  FSP_REQUIRE_SHARED(shared);
  for (std::string v : {"1.20-hashmap-savepoint", "1.20-rocksdb-savepoint", "2.0-hashmap-savepoint",
                        "2.3-rocksdb-savepoint", "1.8-savepoint"}) {
    SCOPED_TRACE(v);
    fs::path src = shared / (std::string(kStateful) + v);
    TempDir tmp;
    MigrateOptions o;
    o.rename_uid.emplace_back("CheckpointingKeyedStateFlatMap1", "flatmap-renamed");
    o.drop.push_back("CheckpointingSource2");
    auto plan = migrate(src, tmp.path / "out", o);
    ASSERT_TRUE(plan) << plan.error().to_string();
    auto before = operator_bytes(src);
    auto after = operator_bytes(tmp.path / "out");
    ASSERT_EQ(before.size(), 8u);
    ASSERT_EQ(after.size(), 7u);
    std::string renamed_old = hex(operator_id_from_uid("CheckpointingKeyedStateFlatMap1"));
    std::string renamed_new = hex(operator_id_from_uid("flatmap-renamed"));
    std::string dropped = hex(operator_id_from_uid("CheckpointingSource2"));
    EXPECT_EQ(renamed_old, "d5c8b168c6cbfe8c507a10f88b325243");
    EXPECT_EQ(after.count(renamed_old), 0u);
    EXPECT_EQ(after.count(dropped), 0u);
    ASSERT_EQ(after.count(renamed_new), 1u);
    int same = 0;
    for (auto& [id, bytes] : after) {
      if (id == renamed_new) continue;
      ASSERT_EQ(before.count(id), 1u) << id;
      EXPECT_EQ(bytes, before[id]) << "operator " << id << " changed";
      ++same;
    }
    EXPECT_EQ(same, 6);
    // The renamed operator keeps its state: the same bytes but for the id (and the v5+ uid).
    auto sf = open_snapshot((tmp.path / "out").string());
    ASSERT_TRUE(sf);
    for (auto& op : sf->snapshot.operators)
      if (op.id_hex() == renamed_new) {
        if (sf->snapshot.version >= 5) {
          EXPECT_EQ(op.uid, "flatmap-renamed");
        }
        EXPECT_EQ(op.parallelism, 4);
      }
    auto states = read_states(*sf);
    ASSERT_TRUE(states);
    const StateInfo* s = test::find_state(*states, renamed_new, "state-name");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->entries, 4);
    for (auto& op : *states) EXPECT_TRUE(op.problems.empty()) << op.operator_id << ": " << op.problems.front();
  }
}

TEST(Migrate, RefusesANewIdThatExistsAndUnknownOperators) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / (std::string(kStateful) + "1.20-hashmap-savepoint");
  TempDir tmp;
  MigrateOptions o;
  o.rename_uid.emplace_back("CheckpointingSource1", "CheckpointingSource2");
  auto plan = migrate(src, tmp.path / "out", o);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("already has"), std::string::npos) << plan.error().message;
  EXPECT_FALSE(fs::exists(tmp.path / "out"));
  MigrateOptions d;
  d.drop.push_back("no-such-uid");
  plan = migrate(src, tmp.path / "out", d);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("no operator with uid 'no-such-uid'"), std::string::npos);
  MigrateOptions m;
  m.max_parallelism = 2;  // below parallelism 4
  plan = migrate(src, tmp.path / "out", m);
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("below its parallelism 4"), std::string::npos) << plan.error().message;
  // The output must be new.
  fs::create_directories(tmp.path / "exists");
  MigrateOptions r;
  r.drop.push_back("CheckpointingSource2");
  plan = migrate(src, tmp.path / "exists", r);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().kind, ErrorKind::kCantCreate);
}

TEST(Migrate, NativeSavepointsAndCheckpointsAreRefusedWithTheHint) {
  FSP_REQUIRE_SHARED(shared);
  for (std::string v : {"1.20-rocksdb-savepoint-native", "1.20-hashmap-savepoint-native", "1.20-rocksdb-checkpoint",
                        "1.20-hashmap-checkpoint"}) {
    SCOPED_TRACE(v);
    TempDir tmp;
    MigrateOptions o;
    o.max_parallelism = 128;
    auto plan = migrate(shared / (std::string(kStateful) + v), tmp.path / "out", o);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().kind, ErrorKind::kUsage);
    EXPECT_NE(plan.error().hint.find("flink stop --type canonical"), std::string::npos) << plan.error().to_string();
    EXPECT_FALSE(fs::exists(tmp.path / "out"));
  }
}

// Per keyed operator and state: the (key, value) byte pairs, and the key group each sits in.
struct Entries {
  std::map<std::string, std::multiset<std::pair<std::string, std::string>>> by_state;
  std::map<std::string, std::map<int32_t, std::multiset<std::pair<std::string, std::string>>>> by_state_group;
  int64_t count = 0;
};

std::map<std::string, Entries> keyed_entries(const fs::path& dir) {
  std::map<std::string, Entries> out;
  auto sf = open_snapshot(dir.string());
  EXPECT_TRUE(sf);
  if (!sf) return out;
  for (auto& op : sf->snapshot.operators) {
    for (auto& st : op.subtasks) {
      const KeyedHandle& h = st.managed_keyed;
      if (h.is_null()) continue;
      auto rs = resolve_stream(h.delegate, sf->directory, {});
      EXPECT_TRUE(rs);
      if (!rs) continue;
      KeyGroupRange want = key_group_range_for_subtask(op.max_parallelism, op.parallelism, st.index);
      EXPECT_EQ(h.range.start, want.start);
      EXPECT_EQ(h.range.count, want.count);
      auto stream = state::read_canonical_keyed_stream(rs->bytes, h.range, h.offsets,
                                                       key_group_prefix_bytes(op.max_parallelism));
      EXPECT_TRUE(stream) << stream.error().to_string();
      if (!stream) continue;
      auto hasher = JavaKeyHasher::for_key_serializer(stream->proxy.key_serializer);
      EXPECT_TRUE(hasher);
      Entries& e = out[op.id_hex()];
      for (auto& en : stream->entries) {
        const auto& m = stream->proxy.states[en.state_id];
        ByteReader r(en.key);
        if (m.backend_type == 3) r.skip(8);
        auto hash = hasher->hash(r);
        EXPECT_TRUE(hash);
        EXPECT_EQ(key_group_for_hash(*hash, op.max_parallelism), en.key_group);
        EXPECT_EQ(en.prefix_group, en.key_group);
        e.by_state[m.name].emplace(en.key, en.value);
        e.by_state_group[m.name][en.key_group].emplace(en.key, en.value);
        ++e.count;
      }
    }
  }
  return out;
}

TEST(Migrate, MaxParallelism4To128AndBack) {
  FSP_REQUIRE_SHARED(shared);
  for (std::string v : {"1.20-hashmap-savepoint", "1.20-rocksdb-savepoint"}) {
    SCOPED_TRACE(v);
    fs::path src = shared / (std::string(kStateful) + v);
    TempDir tmp;
    MigrateOptions o;
    o.max_parallelism = 128;
    auto plan = migrate(src, tmp.path / "128", o);
    ASSERT_TRUE(plan) << plan.error().to_string() << " " << plan.error().hint;
    int64_t moved = 0;
    for (auto& c : plan->changes) moved += c.entries;
    auto sf = open_snapshot((tmp.path / "128").string());
    ASSERT_TRUE(sf);
    for (auto& op : sf->snapshot.operators) EXPECT_EQ(op.max_parallelism, 128) << op.id_hex();
    auto states = read_states(*sf);
    ASSERT_TRUE(states);
    for (auto& op : *states) EXPECT_TRUE(op.problems.empty()) << op.operator_id << ": " << op.problems.front();
    const StateInfo* s = test::find_state(*states, "d5c8b168c6cbfe8c507a10f88b325243", "state-name");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->entries, 4);

    auto a = keyed_entries(src), b = keyed_entries(tmp.path / "128");
    ASSERT_EQ(a.size(), 4u);  // two flat maps, two timely operators
    ASSERT_EQ(a.size(), b.size());
    int64_t total = 0;
    for (auto& [id, e] : a) {
      ASSERT_EQ(b.count(id), 1u);
      EXPECT_EQ(b[id].by_state, e.by_state) << id;
      EXPECT_GT(e.count, 0);
      total += e.count;
    }
    EXPECT_EQ(total, moved);
    // Flink's key groups of the Long keys 0..3 at max parallelism 128 (MathUtils.murmurHash of
    // Long.hashCode, by hand): the migrated flat map's four entries sit exactly there.
    const int32_t kGroupOfKey128[] = {94, 86, 127, 113};
    const auto& groups = b["d5c8b168c6cbfe8c507a10f88b325243"].by_state_group["state-name"];
    std::set<int32_t> got_groups;
    for (auto& [kg, entries] : groups) {
      got_groups.insert(kg);
      for (auto& [key, value] : entries) {
        ASSERT_GE(key.size(), 8u);
        ByteReader kr(key);
        int64_t k = kr.i64();
        ASSERT_TRUE(k >= 0 && k < 4) << k;
        EXPECT_EQ(kg, kGroupOfKey128[k]) << "key " << k;
      }
    }
    EXPECT_EQ(got_groups, (std::set<int32_t>{86, 94, 113, 127}));

    MigrateOptions back;
    back.max_parallelism = 4;
    auto plan2 = migrate(tmp.path / "128", tmp.path / "4", back);
    ASSERT_TRUE(plan2) << plan2.error().to_string();
    auto c = keyed_entries(tmp.path / "4");
    for (auto& [id, e] : a) EXPECT_EQ(c[id].by_state_group, e.by_state_group) << id;
    // Entries in RocksDB's order come back byte for byte, wherever the
    // source subtask registered every state (the new handles all carry the
    // proxy that lists them all; some RocksDB subtasks list fewer).
    auto src_sf = open_snapshot(src.string());
    auto back_sf = open_snapshot((tmp.path / "4").string());
    ASSERT_TRUE(src_sf && back_sf);
    int identical = 0, compared = 0;
    for (size_t i = 0; i < src_sf->snapshot.operators.size(); ++i) {
      auto& so = src_sf->snapshot.operators[i];
      auto& bo = back_sf->snapshot.operators[i];
      ASSERT_EQ(so.id, bo.id);
      for (auto& ss : so.subtasks) {
        if (ss.managed_keyed.is_null()) continue;
        const SubtaskState* bs = nullptr;
        for (auto& b : bo.subtasks)
          if (b.index == ss.index) bs = &b;
        ASSERT_NE(bs, nullptr);
        auto x = resolve_stream(ss.managed_keyed.delegate, src_sf->directory, {});
        auto y = resolve_stream(bs->managed_keyed.delegate, back_sf->directory, {});
        ASSERT_TRUE(x && y);
        auto xs = state::read_canonical_keyed_stream(x->bytes, ss.managed_keyed.range, ss.managed_keyed.offsets, 1);
        auto ys = state::read_canonical_keyed_stream(y->bytes, bs->managed_keyed.range, bs->managed_keyed.offsets, 1);
        ASSERT_TRUE(xs && ys);
        if (xs->proxy_bytes != ys->proxy_bytes) continue;
        ++compared;
        if (v.find("rocksdb") != std::string::npos) {
          EXPECT_EQ(x->bytes, y->bytes) << so.id_hex() << " subtask " << ss.index;
          identical += x->bytes == y->bytes;
        }
      }
    }
    EXPECT_GT(compared, 0);
    if (v.find("rocksdb") != std::string::npos) {
      EXPECT_GT(identical, 0);
    }
  }
}

TEST(Migrate, MaxParallelismAbove128UsesTwoBytePrefixes) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / (std::string(kStateful) + "2.3-rocksdb-savepoint");
  TempDir tmp;
  MigrateOptions o;
  o.operator_max_parallelism.emplace_back("CheckpointingTimelyStatefulOperator1", 1000);
  auto plan = migrate(src, tmp.path / "out", o);
  ASSERT_TRUE(plan) << plan.error().to_string();
  ASSERT_EQ(plan->changes.size(), 1u);
  EXPECT_GT(plan->changes[0].timers, 0);
  auto a = keyed_entries(src), b = keyed_entries(tmp.path / "out");
  std::string id = hex(operator_id_from_uid("CheckpointingTimelyStatefulOperator1"));
  EXPECT_EQ(a[id].by_state, b[id].by_state);
  auto sf = open_snapshot((tmp.path / "out").string());
  ASSERT_TRUE(sf);
  for (auto& op : sf->snapshot.operators) EXPECT_EQ(op.max_parallelism, op.id_hex() == id ? 1000 : 4);
}

TEST(Migrate, CliDryRunWritesNothing) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / (std::string(kStateful) + "1.20-rocksdb-savepoint");
  TempDir tmp;
  auto r = test::run_command(test::cli_path() + " migrate '" + src.string() + "' --output '" +
                             (tmp.path / "out").string() + "' --max-parallelism 128 --dry-run --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(fs::exists(tmp.path / "out"));
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["dry_run"].get<bool>());
  int keyed = 0;
  for (auto& c : j["changes"])
    if (c["keyed_state_rewritten"].get<bool>()) ++keyed;
  EXPECT_EQ(keyed, 4);
  r = test::run_command(test::cli_path() + " migrate '" + src.string() + "' --output '" + (tmp.path / "out").string() +
                        "' --rename-uid CheckpointingSource1=CheckpointingSource2 2>&1");
  EXPECT_EQ(r.exit_code, 64) << r.out;
}

}  // namespace
}  // namespace fsp

namespace fsp {
namespace {

// `flink-savepoint <args>` with `snapshot` and `more` (quoted here), stdout and stderr.
test::CommandResult cli(const std::string& command, const fs::path& snapshot, const std::string& more) {
  return test::run_cli(command + " " + test::shell_quote(snapshot.string()) + " " + more);
}

// check against a manifest with "max_parallelism": 128: incompatible with the
// source (max parallelism 4), compatible once migrated.
TEST(Migrate, CheckIsCompatibleAfterMigratingTo128) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / (std::string(kStateful) + "1.20-rocksdb-savepoint");
  TempDir tmp;
  std::ofstream(tmp.path / "job.json") << R"({"max_parallelism": 128, "flink_version": "1.20", "state_backend": "rocksdb",
 "operators": [
  {"uid": "CheckpointingSource1", "parallelism": 1}, {"uid": "CheckpointingKeyedStateFlatMap1", "parallelism": 4},
  {"uid": "CheckpointingTimelyStatefulOperator1", "parallelism": 4}, {"uid": "CheckpointingSource2", "parallelism": 1},
  {"uid": "CheckpointingKeyedStateFlatMap2", "parallelism": 4}, {"uid": "CheckpointingTimelyStatefulOperator2", "parallelism": 4},
  {"operator_id": "06d8049845c382d79d17d43c9ef349f7", "parallelism": 4},
  {"operator_id": "330bf7ad4176e7c36829a4bf9459db07", "parallelism": 4}]})";
  const std::string job = "--job " + test::shell_quote((tmp.path / "job.json").string());
  auto before = cli("check", src, job);
  EXPECT_EQ(before.exit_code, 1) << before.out;
  auto m = cli("migrate", src, "--output " + test::shell_quote((tmp.path / "out").string()) + " --max-parallelism 128");
  ASSERT_EQ(m.exit_code, 0) << m.out;
  EXPECT_NE(m.out.find("read back and checked"), std::string::npos);
  auto after = cli("check", tmp.path / "out", job);
  EXPECT_EQ(after.exit_code, 0) << after.out;
  EXPECT_NE(after.out.find("verdict: compatible"), std::string::npos) << after.out;
  auto ins = test::run_command(test::cli_path() + " inspect '" + (tmp.path / "out").string() + "' --json");
  ASSERT_EQ(ins.exit_code, 0);
  auto j = nlohmann::json::parse(ins.out);
  for (auto& op : j["operators"]) EXPECT_EQ(op["max_parallelism"].get<int>(), 128);
}

// --rename-uid and --drop: check against the correspondingly edited manifest is compatible.
TEST(Migrate, CheckIsCompatibleAfterRenameAndDrop) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / (std::string(kStateful) + "1.20-hashmap-savepoint");
  TempDir tmp;
  std::ofstream(tmp.path / "job.json") << R"({"flink_version": "1.20", "state_backend": "hashmap",
 "operators": [
  {"uid": "CheckpointingSource1", "parallelism": 1}, {"uid": "flatmap-renamed", "parallelism": 4},
  {"uid": "CheckpointingTimelyStatefulOperator1", "parallelism": 4},
  {"uid": "CheckpointingKeyedStateFlatMap2", "parallelism": 4}, {"uid": "CheckpointingTimelyStatefulOperator2", "parallelism": 4},
  {"operator_id": "06d8049845c382d79d17d43c9ef349f7", "parallelism": 4},
  {"operator_id": "330bf7ad4176e7c36829a4bf9459db07", "parallelism": 4}]})";
  const std::string job = "--job " + test::shell_quote((tmp.path / "job.json").string());
  auto before = cli("check", src, job);
  EXPECT_EQ(before.exit_code, 1) << before.out;
  auto m = cli("migrate", src,
               "--output " + test::shell_quote((tmp.path / "out").string()) +
                   " --rename-uid CheckpointingKeyedStateFlatMap1=flatmap-renamed --drop CheckpointingSource2");
  ASSERT_EQ(m.exit_code, 0) << m.out;
  auto after = cli("check", tmp.path / "out", job);
  EXPECT_EQ(after.exit_code, 0) << after.out;
  EXPECT_NE(after.out.find("verdict: compatible"), std::string::npos) << after.out;
}

}  // namespace
}  // namespace fsp
