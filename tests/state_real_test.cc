// read_states() over Flink's own test snapshots in ../shared/testdata.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "flink_savepoint/json.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/state_internal.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using fsp::test::find_state;
using fsp::test::rows_matching;

std::vector<fsp::OperatorStates> read_all(const fs::path& metadata) {
  auto f = fsp::open_snapshot(metadata.string());
  EXPECT_TRUE(f.ok()) << metadata << ": " << (f.ok() ? "" : f.error().to_string());
  if (!f) return {};
  auto s = fsp::read_states(*f, {});
  EXPECT_TRUE(s.ok());
  if (!s) return {};
  return std::move(s.value());
}

constexpr const char* kSource1 = "69f32d314b97c6f7f9ed7873983167f2";
constexpr const char* kSource2 = "1f2b5df5a66154aca61fcb26193792be";
constexpr const char* kLong = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";

void expect_sources(const std::vector<fsp::OperatorStates>& ops, const std::string& label) {
  const fsp::StateInfo* s1 = find_state(ops, kSource1, "source-state");
  const fsp::StateInfo* s2 = find_state(ops, kSource2, "source-state");
  ASSERT_TRUE(s1 && s2) << label;
  EXPECT_EQ(s1->kind, "operator_list") << label;
  EXPECT_EQ(s1->distribution, "split") << label;
  EXPECT_EQ(s1->entries, 4) << label;
  EXPECT_EQ(s1->type, "String") << label;
  EXPECT_EQ(s2->kind, "operator_union") << label;
  EXPECT_EQ(s2->distribution, "union") << label;
  EXPECT_EQ(s2->entries, 4) << label;
}

}  // namespace

TEST(StateReal, StatefulUdfMigrationSnapshots) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("new-stateful-udf-migration-itcase-flink");
  ASSERT_GE(rows.size(), 70u);
  for (auto& row : rows) {
    SCOPED_TRACE(row.path);
    auto ops = read_all(shared / "testdata" / "flink-repo" / row.path);
    expect_sources(ops, row.path);
    for (const char* flatmap : {"d5c8b168c6cbfe8c507a10f88b325243", "dab25811652d3d4983a30c6e4afacb1c"}) {
      const fsp::StateInfo* s = find_state(ops, flatmap, "state-name");
      ASSERT_TRUE(s) << flatmap;
      EXPECT_EQ(s->kind, "value");
      EXPECT_EQ(s->value_serializer, kLong);
      EXPECT_EQ(s->type, "Long");
      if (s->backend != "changelog") {
        EXPECT_EQ(s->key_type, "Tuple1<Long>");
      }
      EXPECT_FALSE(s->ttl);
      if (s->backend != "rocksdb" && s->backend != "changelog") {
        EXPECT_EQ(s->entries, 4);
      }
    }
    for (const char* timely : {"4b818c7923a927796d24b727201ba34d", "41e91aae0bee218c44306cf7d21940ad"}) {
      const fsp::StateInfo* v = find_state(ops, timely, "state-name");
      ASSERT_TRUE(v) << timely;
      EXPECT_EQ(v->namespace_serializer, kLong);
      for (const char* t : {"_timer_state/event_timer", "_timer_state/processing_timer"}) {
        const fsp::StateInfo* s = find_state(ops, timely, t);
        if (!s) {
          // RocksDB before 1.13 kept heap timers in raw keyed state (not a proxy).
          int raw = 0;
          for (auto& op : ops)
            if (op.operator_id == timely) raw = op.raw_handles;
          EXPECT_EQ(row.state_backend, "rocksdb") << t;
          EXPECT_GT(raw, 0) << t;
          continue;
        }
        EXPECT_EQ(s->kind, "timers");
        EXPECT_EQ(s->type, "Timer<Tuple1<Long>, Long>");
        if (s->backend != "rocksdb" && s->backend != "changelog") {
        EXPECT_EQ(s->entries, 4);
      }
      }
    }
    for (auto& op : ops)
      for (auto& p : op.problems) ADD_FAILURE() << p;
  }
}

TEST(StateReal, StatefulBroadcastMigrationSnapshots) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("new-stateful-broadcast-udf-migration-itcase-flink");
  ASSERT_GE(rows.size(), 70u);
  for (auto& row : rows) {
    SCOPED_TRACE(row.path);
    auto ops = read_all(shared / "testdata" / "flink-repo" / row.path);
    expect_sources(ops, row.path);
    struct Expect {
      const char* op;
      const char* name;
      const char* type;
    };
    for (auto e : {Expect{"12d7d939fd56473cac7cff0603179a41", "broadcast-state-1", "Map<Long, Long>"},
                   Expect{"12d7d939fd56473cac7cff0603179a41", "broadcast-state-2", "Map<String, Long>"},
                   Expect{"56a26c4c54bda3adf3700194db4afe93", "broadcast-state-3", "Map<Long, String>"}}) {
      const fsp::StateInfo* s = find_state(ops, e.op, e.name);
      ASSERT_TRUE(s) << e.name;
      EXPECT_EQ(s->kind, "broadcast");
      EXPECT_EQ(s->distribution, "broadcast");
      EXPECT_EQ(s->entries, 4);
      EXPECT_EQ(s->type, e.type);
      ASSERT_EQ(s->subtask_entries.size(), 4u);
      for (auto n : s->subtask_entries) EXPECT_EQ(n, 4);
    }
    for (auto& op : ops)
      for (auto& p : op.problems) ADD_FAILURE() << p;
  }
}

TEST(StateReal, OperatorStateComplexKeyed) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("operatorstate/complexKeyed-flink");
  ASSERT_GE(rows.size(), 15u);
  for (auto& row : rows) {
    SCOPED_TRACE(row.path);
    auto ops = read_all(shared / "testdata" / "flink-repo" / row.path);
    std::set<std::string> names;
    for (auto& op : ops) {
      for (auto& s : op.states) names.insert(s.name);
      for (auto& p : op.problems) ADD_FAILURE() << p;
    }
    for (const char* n : {"window-contents", "count", "values", "_default_"}) EXPECT_TRUE(names.count(n)) << n;
    const fsp::StateInfo* d = find_state(ops, "adf090656b210b1609ad3203d4ee7329", "_default_");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->kind, "operator_list");
    EXPECT_EQ(d->entries, 4);  // "first<i>" on each of the 4 subtasks
  }
}

TEST(StateReal, TableStateProcessorApiSnapshots) {
  FSP_REQUIRE_SHARED(shared);
  auto base = shared / "testdata" / "flink-repo" / "flink-libraries/flink-state-processing-api/src/test/resources";
  auto ops = read_all(base / "table-state" / "_metadata");
  const char* keyed = "928f3b38bde6af749ed4cb45aa1237db";
  auto* pojo = find_state(ops, keyed, "KeyedPojoValue");
  ASSERT_TRUE(pojo);
  EXPECT_EQ(pojo->type, "Pojo<com.example.state.writer.job.schema.PojoData>{privateLong: Long, publicLong: Long}");
  auto* map = find_state(ops, keyed, "KeyedPrimitiveValueMap");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->kind, "map");
  EXPECT_EQ(map->type, "Map<String, Long>");
  EXPECT_EQ(map->user_key_serializer,
            "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot");
  auto* bc = find_state(ops, "413c1d6f88ee8627fe4b8bc533b4cf1b", "LongBroadcastState");
  ASSERT_TRUE(bc);
  EXPECT_EQ(bc->kind, "broadcast");
  auto nulls = read_all(base / "table-state-nulls" / "_metadata");
  auto* total = find_state(nulls, "822e0182dbd41c73140da582dee73178", "total");
  ASSERT_TRUE(total);
  EXPECT_EQ(total->entries, 5);  // keys 1..5, POJO values skipped field by field
  auto json = fsp::states_to_json(nulls.front());
  ASSERT_TRUE(json.is_array());
  for (const char* k : {"name", "kind", "key_serializer", "namespace_serializer", "value_serializer", "ttl", "entries",
                        "bytes", "type"})
    EXPECT_TRUE(json[0].contains(k)) << k;
}

TEST(StateReal, UnknownSerializerIsSkippedByResync) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("type-serializer-snapshot-migration-itcase-flink1.16");
  ASSERT_EQ(rows.size(), 6u);
  for (auto& row : rows) {
    SCOPED_TRACE(row.path);
    auto ops = read_all(shared / "testdata" / "flink-repo" / row.path);
    const fsp::StateInfo* t = nullptr;
    bool saw_unknown_problem = false;
    for (auto& op : ops) {
      for (auto& s : op.states)
        if (s.name == "testState") t = &s;
      for (auto& p : op.problems)
        if (p.find("unknown serializer: org.apache.flink.test.migration.TypeSerializerSnapshotMigrationITCase$TestSerializerSnapshot") == 0)
          saw_unknown_problem = true;
    }
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->serializers_decoded);
    EXPECT_EQ(t->kind, "value");
    EXPECT_TRUE(saw_unknown_problem);
    // The states after the unknown one are still there.
    bool source = false;
    for (auto& op : ops)
      for (auto& s : op.states) source |= s.name == "source-state";
    EXPECT_TRUE(source);
  }
}

TEST(StateReal, PreFlink18SnapshotsAreUnsupportedWithReason) {
  FSP_REQUIRE_SHARED(shared);
  auto base = shared / "testdata" / "flink-repo" / "flink-end-to-end-tests/flink-state-evolution-test/savepoints";
  for (const char* v : {"1.6", "1.7"}) {
    auto ops = read_all(base / v / "_metadata");
    int unsupported = 0;
    for (auto& op : ops) {
      unsupported += op.handles_unsupported;
      EXPECT_EQ(op.handles_failed, 0) << v;
      for (auto& p : op.problems)
        if (p.rfind("unsupported:", 0) == 0) {
          EXPECT_NE(p.find("1.17"), std::string::npos) << p;
        }
    }
    EXPECT_GE(unsupported, 1) << v;
  }
}

// Every _metadata in the manifest: each state handle is read, unsupported with a
// reason, or missing. Nothing crashes and nothing fails unexplained.
TEST(StateReal, WalkAllManifestFiles) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = fsp::test::manifest();
  ASSERT_GT(rows.size(), 400u);
  int files = 0, files_clean = 0, read = 0, unsupported = 0, missing = 0, failed = 0, states = 0;
  std::map<std::string, std::pair<int, int>> classes;  // class -> (met, fully decoded)
  std::map<std::string, int> problem_kinds;
  for (auto& row : rows) {
    auto path = shared / "testdata" / "flink-repo" / row.path;
    auto f = fsp::open_snapshot(path.string());
    ASSERT_TRUE(f.ok()) << row.path;
    auto s = fsp::read_states(*f, {});
    ASSERT_TRUE(s.ok()) << row.path;
    ++files;
    bool clean = true;
    for (auto& op : *s) {
      read += op.handles_read;
      unsupported += op.handles_unsupported;
      missing += op.handles_missing;
      failed += op.handles_failed;
      states += static_cast<int>(op.states.size());
      for (auto& p : op.problems) {
        std::string kind = p.substr(0, p.find(':'));
        ++problem_kinds[kind];
        EXPECT_TRUE(kind == "missing" || kind == "unsupported" || kind == "unknown serializer") << row.path << ": " << p;
        clean = false;
      }
      EXPECT_EQ(op.handles_failed, 0) << row.path;
    }
    files_clean += clean;
    // Serializer survey: decode every proxy again at the class level.
    for (auto& op : *s)
      for (auto& st : op.states)
        for (auto& c : st.serializer_classes) {
          auto& e = classes[c];
          ++e.first;
          if (st.serializers_decoded) ++e.second;
        }
  }
  int fully = 0;
  for (auto& [c, e] : classes) fully += e.second > 0;
  std::cout << "[state walk] files=" << files << " without problems=" << files_clean << " handles: read=" << read
            << " unsupported=" << unsupported << " missing=" << missing << " failed=" << failed
            << " states=" << states << "\n[state walk] serializer snapshot classes met=" << classes.size()
            << " decoded (in some fully decoded tree)=" << fully << "\n";
  for (auto& [c, e] : classes)
    if (e.second == 0) std::cout << "[state walk]   not fully decoded: " << c << " (" << e.first << ")\n";
  for (auto& [k, n] : problem_kinds) std::cout << "[state walk] problems " << k << ": " << n << "\n";
  EXPECT_EQ(failed, 0);
  // The figures of the whole test corpus (see docs/states.md): a change that
  // reads fewer handles or states, or breaks a clean file, shows up here.
  EXPECT_EQ(files, 489);
  EXPECT_EQ(read, 4053);
  EXPECT_EQ(unsupported, 2);
  EXPECT_EQ(missing, 0);
  // 3643 states and 38 of 43 classes fully decoded before the pre-1.8
  // layouts were read; the 1.6 savepoint's 3 states and its config snapshot
  // classes came with them. Only the test's own TestSerializerSnapshot is left.
  EXPECT_EQ(states, 3646);
  EXPECT_EQ(files_clean, 481);
  EXPECT_EQ(classes.size(), 44u);
  EXPECT_EQ(fully, 43);
}

// The synthetic checkpoints of flink-written point at files that do not exist:
// they must come out as missing, never as a crash.
TEST(StateReal, FlinkWrittenHandlesAreMissingOrRead) {
  FSP_REQUIRE_SHARED(shared);
  for (const char* v : {"v3", "v4", "v5", "v6"}) {
    auto path = shared / "testdata" / "flink-written" / v / "_metadata";
    ASSERT_TRUE(fs::exists(path)) << path << " is missing: ../shared/testdata/flink-written is incomplete";
    auto f = fsp::open_snapshot(path.string());
    ASSERT_TRUE(f.ok()) << v;
    auto s = fsp::read_states(*f, {});
    ASSERT_TRUE(s.ok());
    int missing = 0;
    for (auto& op : *s) {
      missing += op.handles_missing;
      for (auto& p : op.problems) EXPECT_FALSE(p.empty());
    }
    EXPECT_GT(missing, 0) << v;
  }
}
