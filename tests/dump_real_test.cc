// dump_states() over Flink's own test snapshots in ../shared/testdata: the
// values GROUND_TRUTH.md says the jobs wrote, key groups as Flink assigns
// them, and entry counts equal to inspect --states' statistics.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/iostreams/device/file.hpp>
#include <boost/iostreams/filter/zstd.hpp>
#include <boost/iostreams/filtering_stream.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "flink_savepoint/dump.h"
#include "flink_savepoint/dump_json.h"
#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/state_value.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using fsp::DumpRecord;
using fsp::test::rows_matching;

struct Dumped {
  std::vector<DumpRecord> records;
  std::vector<std::string> problems;
  fsp::DumpCounts counts;
  int32_t max_parallelism = 0;
};

Dumped dump(const fs::path& metadata, fsp::DumpOptions o = {}) {
  Dumped d;
  auto f = fsp::open_snapshot(metadata.string());
  EXPECT_TRUE(f.ok()) << metadata;
  if (!f) return d;
  if (!f->snapshot.operators.empty()) d.max_parallelism = f->snapshot.operators[0].max_parallelism;
  auto c = fsp::dump_states(
      *f, o,
      [&](const DumpRecord& r) {
        d.records.push_back(r);
        return true;
      },
      [&](const std::string& p) { d.problems.push_back(p); });
  EXPECT_TRUE(c.ok());
  if (c) d.counts = *c;
  return d;
}

std::string json(const fsp::state::Value& v) {
  std::string s;
  fsp::append_value_json(v, s);
  return s;
}

// Flink's key group of a Tuple1<Long>(k) key under max parallelism mp.
int32_t tuple1_long_key_group(int64_t k, int32_t mp) {
  int32_t h = static_cast<int32_t>(static_cast<uint64_t>(k) ^ (static_cast<uint64_t>(k) >> 32));
  return fsp::key_group_for_hash(h, mp);
}

// KeyGroupRangeAssignment.assignToKeyGroup(Long k, mp) written out by hand (MathUtils.murmurHash of
// Long.hashCode, modulo mp), so that the library's hash is checked against numbers it did not produce.
constexpr int32_t kKeyGroupOfLongMp4[] = {2, 2, 3, 1};                                  // keys 0..3, mp 4
constexpr int32_t kKeyGroupOfLongMp128[] = {94, 86, 127, 113, 7, 126, 18, 113, 15, 51};  // keys 0..9, mp 128

std::vector<const DumpRecord*> select(const Dumped& d, const std::string& op, const std::string& state) {
  std::vector<const DumpRecord*> out;
  for (auto& r : d.records)
    if (r.operator_id == op && r.state == state) out.push_back(&r);
  return out;
}

// A key printed as its raw bytes ({"$base64": the 8 bytes of a Long 0..3}): the number, or -1.
int64_t raw_long_key(const fsp::state::Value& key) {
  const auto* b = key.get("$base64");
  if (!b) return -1;
  static const char* kLongs[] = {"AAAAAAAAAAA=", "AAAAAAAAAAE=", "AAAAAAAAAAI=", "AAAAAAAAAAM="};
  std::string text = json(*b);
  for (int64_t k = 0; k < 4; ++k)
    if (text == "\"" + std::string(kLongs[k]) + "\"") return k;
  return -1;
}

constexpr const char* kSource1 = "69f32d314b97c6f7f9ed7873983167f2";
constexpr const char* kSource2 = "1f2b5df5a66154aca61fcb26193792be";

void expect_sources(const Dumped& d) {
  for (const char* src : {kSource1, kSource2}) {
    std::multiset<std::string> got;
    for (auto* r : select(d, src, "source-state")) {
      EXPECT_EQ(r->kind, src == kSource1 ? "operator_list" : "operator_union");
      got.insert(json(r->value));
    }
    EXPECT_EQ(got, (std::multiset<std::string>{"\"Here be dragons!\"", "\"Here be more dragons!\"",
                                               "\"Here be yet more dragons!\"", "\"Here be the mostest dragons!\""}))
        << src;
  }
}

}  // namespace

TEST(DumpReal, StatefulUdfMigrationSnapshots) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("new-stateful-udf-migration-itcase-flink");
  ASSERT_GE(rows.size(), 70u);
  for (auto& row : rows) {
    SCOPED_TRACE(row.path);
    Dumped d = dump(shared / "testdata" / "flink-repo" / row.path);
    // The 1.17 hashmap checkpoint keeps its keyed state only in changelog
    // increments, which do not name the key serializer: where no timer state
    // shows it (the two flat maps), keys are their raw bytes.
    bool changelog_only = row.path.find("flink1.17-hashmap-checkpoint") != std::string::npos;
    for (auto& p : d.problems) ADD_FAILURE() << p;
    EXPECT_EQ(d.counts.undecoded, changelog_only ? 8 : 0);
    expect_sources(d);
    for (const char* flatmap : {"d5c8b168c6cbfe8c507a10f88b325243", "dab25811652d3d4983a30c6e4afacb1c"}) {
      auto recs = select(d, flatmap, "state-name");
      ASSERT_EQ(recs.size(), 4u) << flatmap;
      std::set<int64_t> keys;
      for (auto* r : recs) {
        EXPECT_EQ(r->kind, "value");
        int64_t k = changelog_only ? raw_long_key(r->key) : -1;
        if (!changelog_only) {
          const auto* f0 = r->key.get("f0");
          ASSERT_TRUE(f0);
          k = f0->i;
        }
        EXPECT_EQ(r->value.type, fsp::state::Value::Type::kInt);
        EXPECT_EQ(r->value.i, k);  // key (k) -> k
        EXPECT_TRUE(r->ns.is_null());  // VoidNamespace
        EXPECT_EQ(r->key_group, tuple1_long_key_group(k, 4));
        ASSERT_TRUE(k >= 0 && k < 4) << k;
        EXPECT_EQ(r->key_group, kKeyGroupOfLongMp4[k]) << k;
        keys.insert(k);
      }
      EXPECT_EQ(keys, (std::set<int64_t>{0, 1, 2, 3}));
    }
    for (const char* timely : {"4b818c7923a927796d24b727201ba34d", "41e91aae0bee218c44306cf7d21940ad"}) {
      auto recs = select(d, timely, "state-name");
      ASSERT_EQ(recs.size(), 4u) << timely;
      for (auto* r : recs) {
        const auto* f0 = r->key.get("f0");
        ASSERT_TRUE(f0);
        EXPECT_EQ(r->value.i, f0->i);
        EXPECT_EQ(r->ns.i, f0->i);  // Long namespace = the key's f0
        EXPECT_EQ(r->key_group, tuple1_long_key_group(f0->i, 4));
        ASSERT_TRUE(f0->i >= 0 && f0->i < 4) << f0->i;
        EXPECT_EQ(r->key_group, kKeyGroupOfLongMp4[f0->i]) << f0->i;
      }
      for (const char* t : {"_timer_state/event_timer", "_timer_state/processing_timer"}) {
        auto timers = select(d, timely, t);
        ASSERT_EQ(timers.size(), 4u) << t;
        std::set<int64_t> keys;
        for (auto* r : timers) {
          EXPECT_EQ(r->kind, "timer");
          EXPECT_TRUE(r->has_timestamp);
          const auto* f0 = r->key.get("f0");
          ASSERT_TRUE(f0);
          keys.insert(f0->i);
          EXPECT_EQ(r->ns.i, f0->i);
          EXPECT_EQ(r->key_group, tuple1_long_key_group(f0->i, 4));
          ASSERT_TRUE(f0->i >= 0 && f0->i < 4) << f0->i;
          EXPECT_EQ(r->key_group, kKeyGroupOfLongMp4[f0->i]) << f0->i;
        }
        EXPECT_EQ(keys, (std::set<int64_t>{0, 1, 2, 3})) << t;
      }
    }
  }
}

TEST(DumpReal, StatefulBroadcastMigrationSnapshots) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("new-stateful-broadcast-udf-migration-itcase-flink");
  ASSERT_GE(rows.size(), 70u);
  for (auto& row : rows) {
    SCOPED_TRACE(row.path);
    Dumped d = dump(shared / "testdata" / "flink-repo" / row.path);
    for (auto& p : d.problems) ADD_FAILURE() << p;
    EXPECT_EQ(d.counts.undecoded, 0);
    expect_sources(d);
    struct Expect {
      const char* op;
      const char* name;
      std::set<std::string> entries;
    };
    for (const auto& e :
         {Expect{"12d7d939fd56473cac7cff0603179a41", "broadcast-state-1", {"0=0", "1=1", "2=2", "3=3"}},
          Expect{"12d7d939fd56473cac7cff0603179a41", "broadcast-state-2",
                 {"\"0\"=0", "\"1\"=1", "\"2\"=2", "\"3\"=3"}},
          Expect{"56a26c4c54bda3adf3700194db4afe93", "broadcast-state-3",
                 {"0=\"0\"", "1=\"1\"", "2=\"2\"", "3=\"3\""}}}) {
      std::map<int32_t, std::set<std::string>> per_subtask;
      for (auto* r : select(d, e.op, e.name)) {
        EXPECT_EQ(r->kind, "broadcast");
        EXPECT_TRUE(r->has_user_key);
        per_subtask[r->subtask].insert(json(r->user_key) + "=" + json(r->value));
      }
      ASSERT_EQ(per_subtask.size(), 4u) << e.name;  // every subtask holds a full copy
      for (auto& [st, entries] : per_subtask) EXPECT_EQ(entries, e.entries) << e.name << " subtask " << st;
    }
  }
}

TEST(DumpReal, TableStateValues) {
  FSP_REQUIRE_SHARED(shared);
  auto base = shared / "testdata" / "flink-repo" / "flink-libraries/flink-state-processing-api/src/test/resources";
  const char* keyed = "928f3b38bde6af749ed4cb45aa1237db";
  Dumped d = dump(base / "table-state" / "_metadata", [&] {
    fsp::DumpOptions o;
    o.operator_filter = "keyed-state-process-uid";
    return o;
  }());
  for (auto& p : d.problems) ADD_FAILURE() << p;
  std::map<std::string, std::map<int64_t, std::set<std::string>>> by_state;  // state -> key -> values
  for (auto& r : d.records) {
    ASSERT_EQ(r.operator_id, keyed);
    ASSERT_EQ(r.key.type, fsp::state::Value::Type::kInt) << r.state;
    EXPECT_EQ(r.key_group, fsp::key_group_for_hash(
                               static_cast<int32_t>(static_cast<uint64_t>(r.key.i) ^ (static_cast<uint64_t>(r.key.i) >> 32)),
                               128));
    ASSERT_TRUE(r.key.i >= 0 && r.key.i < 10) << r.state << " key " << r.key.i;
    EXPECT_EQ(r.key_group, kKeyGroupOfLongMp128[r.key.i]) << r.state << " key " << r.key.i;
    std::string v = json(r.value);
    if (r.has_user_key) v = json(r.user_key) + "=" + v;
    by_state[r.state][r.key.i].insert(v);
  }
  for (int64_t k = 0; k < 10; ++k) {
    std::string ks = std::to_string(k);
    EXPECT_EQ(by_state["KeyedPrimitiveValue"][k], std::set<std::string>{"1"}) << k;
    EXPECT_EQ(by_state["KeyedPojoValue"][k], std::set<std::string>{"{\"privateLong\":1,\"publicLong\":1}"}) << k;
    EXPECT_EQ(by_state["KeyedPrimitiveValueList"][k], std::set<std::string>{"[" + ks + "]"}) << k;
    EXPECT_EQ(by_state["KeyedPrimitiveValueMap"][k], std::set<std::string>{"\"" + ks + "\"=" + ks}) << k;
  }

  // Avro records (generic and specific) through the writer schema in the snapshot.
  Dumped a = dump(base / "table-state-avro" / "_metadata", [&] {
    fsp::DumpOptions o;
    o.operator_filter = "keyed-state-process-uid";
    return o;
  }());
  for (auto& p : a.problems) ADD_FAILURE() << p;
  EXPECT_EQ(a.counts.undecoded, 0);
  std::map<std::string, std::map<int64_t, std::string>> avro;
  for (auto& r : a.records) avro[r.state][r.key.i] = json(r.value);
  for (const char* s : {"KeyedSpecificAvroValue", "KeyedGenericAvroValue"}) {
    ASSERT_EQ(avro[s].size(), 10u) << s;
    for (auto& [k, v] : avro[s]) EXPECT_EQ(v, "{\"longData\":1}") << s << " key " << k;
  }

  Dumped n = dump(base / "table-state-nulls" / "_metadata", [&] {
    fsp::DumpOptions o;
    o.state_filter = "total";
    return o;
  }());
  for (auto& p : n.problems) ADD_FAILURE() << p;
  std::map<int64_t, std::string> totals;
  for (auto& r : n.records) totals[r.key.i] = json(r.value);
  std::map<int64_t, std::string> want;
  ASSERT_EQ(totals.size(), 5u);
  // POJO (1,1), (null,null), (null,null), (4,4), (5,5) for keys 1..5: the field names come from the snapshot.
  for (auto& [k, v] : totals) {
    SCOPED_TRACE(k);
    EXPECT_NE(v.find(k == 2 || k == 3 ? "null" : std::to_string(k)), std::string::npos) << v;
    EXPECT_EQ(v.front(), '{');
  }
}

// For every real snapshot: keyed entries read by dump == inspect --states' entry statistics.
TEST(DumpReal, EntryCountsMatchInspectStatistics) {
  FSP_REQUIRE_SHARED(shared);
  int64_t compared = 0, undecoded = 0, files = 0;
  std::map<std::string, int64_t> undecoded_by_serializer;
  for (auto& row : fsp::test::manifest()) {
    auto path = shared / "testdata" / "flink-repo" / row.path;
    auto f = fsp::open_snapshot(path.string());
    ASSERT_TRUE(f.ok()) << row.path << ": " << f.error().to_string();  // Flink's loader read every one of them
    auto st = fsp::read_states(*f, {});
    ASSERT_TRUE(st.ok());
    std::map<std::string, int64_t> got;
    auto c = fsp::dump_states(
        *f, {},
        [&](const DumpRecord& r) {
          if (r.value.type == fsp::state::Value::Type::kObject && r.value.get("$base64"))
            ++undecoded_by_serializer[json(*r.value.get("$serializer"))];
          return true;
        },
        [](const std::string&) {});
    ASSERT_TRUE(c.ok());
    ++files;
    undecoded += c->undecoded;
    for (auto& op : *st)
      for (auto& s : op.states) {
        if (s.entries < 0 || s.kind == "broadcast" || s.kind.rfind("operator", 0) == 0 || s.kind == "unknown") continue;
        SCOPED_TRACE(row.path + " " + op.operator_id + " " + s.name);
        auto it = c->entries_by_state.find(op.operator_id + "/" + s.name);
        EXPECT_EQ(it == c->entries_by_state.end() ? 0 : it->second, s.entries);
        ++compared;
      }
  }
  std::cout << "[dump] " << files << " snapshots, " << compared << " keyed states compared, " << undecoded
            << " values printed as $base64\n";
  for (auto& [s, n] : undecoded_by_serializer) std::cout << "[dump]   " << n << " x " << s << "\n";
  EXPECT_GT(compared, 1000);
}

// The changelog-only checkpoint: the in-memory increments replayed give the
// entries inspect --states counts (4 per state), the values and timers of
// the other StatefulJob snapshots, and --key works where a timer state names
// the key serializer.
TEST(DumpReal, ChangelogOnlyCheckpointReplaysItsIncrements) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("new-stateful-udf-migration-itcase-flink1.17-hashmap-checkpoint");
  ASSERT_EQ(rows.size(), 1u);
  auto path = shared / "testdata" / "flink-repo" / rows[0].path;
  auto f = fsp::open_snapshot(path.string());
  ASSERT_TRUE(f.ok());
  auto st = fsp::read_states(*f, {});
  ASSERT_TRUE(st.ok());
  Dumped d = dump(path);
  for (auto& p : d.problems) ADD_FAILURE() << p;
  std::map<std::string, int64_t> inspect_entries;
  for (auto& op : *st)
    for (auto& s : op.states)
      if (s.kind == "value" || s.kind == "timers") inspect_entries[op.operator_id + "/" + s.name] = s.entries;
  EXPECT_EQ(inspect_entries.size(), 8u);  // state-name of the 2 flat maps; state-name and 2 timer states of the 2 timely ops
  for (auto& [k, n] : inspect_entries) {
    SCOPED_TRACE(k);
    EXPECT_EQ(n, 4);
    auto it = d.counts.entries_by_state.find(k);
    ASSERT_NE(it, d.counts.entries_by_state.end());
    EXPECT_EQ(it->second, n);
  }
  EXPECT_EQ(d.counts.keyed_entries, 32);
  EXPECT_EQ(d.counts.timers, 16);
  EXPECT_EQ(d.counts.undecoded, 8);  // the flat maps' keys
  // Event timers at Long.MIN_VALUE + 10, processing timers at the job's wall clock (April 2023).
  for (auto* r : select(d, "41e91aae0bee218c44306cf7d21940ad", "_timer_state/event_timer"))
    EXPECT_EQ(r->timestamp, std::numeric_limits<int64_t>::min() + 10);
  for (auto* r : select(d, "41e91aae0bee218c44306cf7d21940ad", "_timer_state/processing_timer"))
    EXPECT_GT(r->timestamp, 1681368000000);

  fsp::DumpOptions o;
  o.key = "2";
  o.operator_filter = "41e91aae0bee218c44306cf7d21940ad";
  Dumped k = dump(path, o);
  ASSERT_EQ(k.records.size(), 3u);  // state-name and one timer of each kind
  for (auto& r : k.records) {
    EXPECT_EQ(json(r.key), "{\"f0\":2}");
    EXPECT_EQ(r.key_group, kKeyGroupOfLongMp4[2]);
  }
  o.operator_filter = "d5c8b168c6cbfe8c507a10f88b325243";  // no timer state: --key cannot be matched
  Dumped u = dump(path, o);
  EXPECT_TRUE(u.records.empty());
  ASSERT_EQ(u.problems.size(), 3u);  // one per subtask
  EXPECT_NE(u.problems[0].find("unsupported: --key"), std::string::npos) << u.problems[0];
}

TEST(DumpReal, KeyFilterReadsOnlyItsKeyGroup) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint");
  ASSERT_FALSE(rows.empty());
  auto path = shared / "testdata" / "flink-repo" / rows[0].path;
  for (const char* key : {"2", "{\"f0\":2}", "[2]"}) {
    fsp::DumpOptions o;
    o.key = key;
    o.operator_filter = "d5c8b168c6cbfe8c507a10f88b325243";
    Dumped d = dump(path, o);
    ASSERT_EQ(d.records.size(), 1u) << key;
    EXPECT_EQ(json(d.records[0].key), "{\"f0\":2}");
    EXPECT_EQ(d.records[0].key_group, tuple1_long_key_group(2, 4));
    EXPECT_EQ(d.records[0].key_group, kKeyGroupOfLongMp4[2]);
    EXPECT_EQ(d.records[0].value.i, 2);
  }
  fsp::DumpOptions o;
  o.key = "\"not a long\"";
  auto f = fsp::open_snapshot(path.string());
  ASSERT_TRUE(f.ok());
  auto c = fsp::dump_states(*f, o, [](const DumpRecord&) { return true; }, [](const std::string&) {});
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(fsp::test::is_error(c, fsp::ErrorKind::kUsage, {"--key \"not a long\" is not a value of the key type"}));
}

// The CLI: JSON Lines on stdout, -o FILE.zst through the zstd filter (read back with Boost's decompressor).
TEST(DumpReal, CliWritesJsonLinesAndZstd) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = rows_matching("new-stateful-broadcast-udf-migration-itcase-flink2.0-hashmap-savepoint-native");
  ASSERT_FALSE(rows.empty());
  std::string snap = (shared / "testdata" / "flink-repo" / rows[0].path).string();
  auto plain = fsp::test::run_command(fsp::test::cli_path() + " dump " + snap + " --state broadcast-state-2 2>/dev/null");
  ASSERT_EQ(plain.exit_code, 0);
  size_t lines = 0;
  std::multiset<std::string> keys;
  std::istringstream in(plain.out);
  for (std::string line; std::getline(in, line); ++lines) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["state"], "broadcast-state-2");
    EXPECT_EQ(j["kind"], "broadcast");
    EXPECT_EQ(j["key"].get<std::string>(), std::to_string(j["value"].get<int64_t>()));
    keys.insert(j["key"].get<std::string>());
  }
  EXPECT_EQ(lines, 16u);  // 4 entries x 4 subtasks
  // GROUND_TRUTH.md: broadcast-state-2 holds "0"=0 .. "3"=3, a full copy in each of the 4 subtasks.
  EXPECT_EQ(keys, (std::multiset<std::string>{"0", "0", "0", "0", "1", "1", "1", "1", "2", "2", "2", "2", "3", "3", "3", "3"}));
  fsp::test::TempDir dir;
  auto zst = dir.path / "out.jsonl.zst";
  auto z = fsp::test::run_command(fsp::test::cli_path() + " dump " + snap + " --state broadcast-state-2 -o " +
                                  zst.string() + " 2>/dev/null");
  ASSERT_EQ(z.exit_code, 0);
  boost::iostreams::filtering_istream zin;
  zin.push(boost::iostreams::zstd_decompressor());
  zin.push(boost::iostreams::file_source(zst.string(), std::ios::binary));
  std::string unpacked((std::istreambuf_iterator<char>(zin)), std::istreambuf_iterator<char>());
  EXPECT_EQ(unpacked, plain.out);
  EXPECT_NE(fsp::test::read_file(zst).substr(0, 4), plain.out.substr(0, 4));  // compressed: zstd magic
  auto bad = fsp::test::run_command(fsp::test::cli_path() + " dump " + snap + " --key '{\"no\":1}' 2>&1");
  EXPECT_EQ(bad.exit_code, 64) << bad.out;
}
