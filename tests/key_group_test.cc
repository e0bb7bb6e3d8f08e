// Key-group assignment (KeyGroupRangeAssignment, Java hashCode of serialized
// keys) against the key groups Flink stored real keys under, and the
// canonical keyed-state stream reader/writer.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/keyed_state_stream.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state.h"
#include "formats/state/key_groups.h"
#include "test_support.h"

namespace fsp {
namespace {

TEST(KeyGroups, RangesFollowFlinksFormula) {
  // computeKeyGroupRangeForOperatorIndex(128, 3, i): 0-42, 43-85, 86-127.
  EXPECT_EQ(key_group_range_for_subtask(128, 3, 0).start, 0);
  EXPECT_EQ(key_group_range_for_subtask(128, 3, 0).end(), 42);
  EXPECT_EQ(key_group_range_for_subtask(128, 3, 1).start, 43);
  EXPECT_EQ(key_group_range_for_subtask(128, 3, 1).end(), 85);
  EXPECT_EQ(key_group_range_for_subtask(128, 3, 2).start, 86);
  EXPECT_EQ(key_group_range_for_subtask(128, 3, 2).end(), 127);
  EXPECT_EQ(key_group_range_for_subtask(4, 4, 3).start, 3);
  EXPECT_EQ(key_group_range_for_subtask(4, 4, 3).count, 1);
  for (int32_t maxp : {1, 4, 7, 128, 129, 1000, 32768})
    for (int32_t p : {1, 2, 3, 4})
      for (int32_t kg = 0; kg < maxp; kg += 1 + maxp / 50) {
        int32_t s = subtask_for_key_group(maxp, p, kg);
        KeyGroupRange r = key_group_range_for_subtask(maxp, p, s);
        EXPECT_TRUE(kg >= r.start && kg <= r.end()) << maxp << " " << p << " " << kg;
      }
  EXPECT_EQ(key_group_prefix_bytes(128), 1);
  EXPECT_EQ(key_group_prefix_bytes(129), 2);
  EXPECT_GE(flink_murmur_hash(INT32_MIN), 0);
}

TEST(KeyGroups, SnappyFramedRoundTrip) {
  std::string data;
  for (int i = 0; i < 200000; ++i) data.push_back(static_cast<char>(i % 7 == 0 ? i : 'a'));
  std::string framed = state::encode_snappy_framed(data);
  EXPECT_LT(framed.size(), data.size());
  auto back = state::decode_snappy_framed(framed, true);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->data, data);
}

struct Tally {
  int64_t keys = 0, timers = 0, snapshots = 0, handles = 0;
  std::map<std::string, int64_t> refused;  // key serializer class -> handles
  int64_t not_canonical = 0;               // handles whose data is not the canonical layout
  int64_t heap_keys = 0, heap_timers = 0, heap_handles = 0, heap_unwalked = 0;
};

// Heap-format key groups (HeapSnapshotStrategy; pre-1.13 heap savepoints):
// int key group, then per state short id, int count and the entries:
// namespace, key, value (timers: timestamp, key, namespace). Checks the key
// group of every key; false when a serializer cannot be skipped.
bool check_heap(std::string_view bytes, const KeyedHandle& h, const state::KeyedProxy& p, const JavaKeyHasher& hasher,
                int32_t max_parallelism, Tally& t, const std::filesystem::path& path) {
  for (size_t i = 0; i < h.offsets.size(); ++i) {
    int64_t o = h.offsets[i];
    int64_t e = i + 1 < h.offsets.size() ? h.offsets[i + 1] : static_cast<int64_t>(bytes.size());
    if (o <= 0 || o + 4 > e || e > static_cast<int64_t>(bytes.size())) return false;
    int32_t kg = h.range.start + static_cast<int32_t>(i);
    if (ByteReader(bytes.substr(o, 4)).i32() != kg) return false;
    std::string data(bytes.substr(o + 4, e - o - 4));
    if (p.compression) {
      auto d = state::decode_snappy_framed(data, true);
      if (!d) return false;
      data = std::move(d->data);
    }
    ByteReader r(data);
    while (r.ok() && !r.at_end()) {
      int16_t sid = r.i16();
      int32_t count = r.i32();
      if (!r.ok() || sid < 0 || static_cast<size_t>(sid) >= p.states.size() || count < 0) return false;
      const auto& m = p.states[sid];
      const state::SerializerNode* ns = m.serializer("NAMESPACE_SERIALIZER");
      const state::SerializerNode* val = m.serializer("VALUE_SERIALIZER");
      for (int32_t k = 0; k < count; ++k) {
        std::optional<int32_t> hash;
        if (m.backend_type == 3) {
          if (!val || val->children.size() != 2) return false;
          r.skip(8);
          hash = hasher.hash(r);
          if (!hash || !state::skip_value(val->children[1], r, 0)) return false;
          ++t.heap_timers;
        } else {
          if (!ns || !val || !state::skip_value(*ns, r, 0)) return false;
          hash = hasher.hash(r);
          if (!hash || !state::skip_value(*val, r, 0)) return false;
          ++t.heap_keys;
        }
        EXPECT_EQ(key_group_for_hash(*hash, max_parallelism), kg) << path << " state " << m.name;
      }
    }
    if (!r.ok()) return false;
  }
  return true;
}

// Every keyed entry and timer of one snapshot: the key group computed from the
// key equals the key group Flink stored it under (region and prefix). Also
// writes each stream back and expects the same bytes (uncompressed) or the
// same entries (compressed).
void check_snapshot(const std::filesystem::path& path, Tally& t) {
  auto file = open_snapshot(path.string());
  ASSERT_TRUE(file) << path << ": " << file.error().to_string();
  bool counted = false;
  for (auto& op : file->snapshot.operators) {
    for (auto& st : op.subtasks) {
      const KeyedHandle& h = st.managed_keyed;
      if (h.code != code::kSavepointKeyGroups && h.code != code::kKeyGroups) continue;
      auto rs = resolve_stream(h.delegate, file->directory, {});
      if (!rs) continue;
      int prefix = key_group_prefix_bytes(op.max_parallelism);
      auto stream = state::read_canonical_keyed_stream(rs->bytes, h.range, h.offsets, prefix);
      if (!stream) {
        // Heap-format key groups (pre-1.13 heap savepoints): not the canonical layout.
        EXPECT_NE(h.code, code::kSavepointKeyGroups) << path << ": " << stream.error().to_string();
        ++t.not_canonical;
        size_t bound = rs->bytes.size();
        for (size_t i = 0; i < h.offsets.size(); ++i)
          if (h.offsets[i] > 0 && static_cast<uint64_t>(h.offsets[i]) < bound) bound = h.offsets[i];
        auto proxy = state::decode_keyed_proxy(rs->bytes, bound);
        if (!proxy || !proxy->complete) {
          ++t.heap_unwalked;
          continue;
        }
        auto hasher = JavaKeyHasher::for_key_serializer(proxy->key_serializer);
        if (!hasher) {
          ++t.refused[proxy->key_serializer.class_name];
          continue;
        }
        if (check_heap(rs->bytes, h, *proxy, *hasher, op.max_parallelism, t, path)) ++t.heap_handles;
        else ++t.heap_unwalked;
        continue;
      }
      auto hasher = JavaKeyHasher::for_key_serializer(stream->proxy.key_serializer);
      if (!hasher) {
        if (!stream->entries.empty()) ++t.refused[stream->proxy.key_serializer.class_name];
        continue;
      }
      ++t.handles;
      if (!counted) ++t.snapshots;
      counted = true;
      for (auto& e : stream->entries) {
        bool timer = stream->proxy.states[e.state_id].backend_type == 3;
        ByteReader r(e.key);
        if (timer) r.skip(8);
        auto hash = hasher->hash(r);
        ASSERT_TRUE(hash) << path << ": " << r.error().to_string();
        int32_t kg = key_group_for_hash(*hash, op.max_parallelism);
        ASSERT_EQ(kg, e.key_group) << path << " operator " << op.id_hex() << " state "
                                   << stream->proxy.states[e.state_id].name;
        ASSERT_EQ(kg, e.prefix_group) << path;
        (timer ? t.timers : t.keys) += 1;
      }
      // Writing the entries back in stream order gives the same bytes.
      std::vector<std::vector<state::CanonicalEntryRef>> groups(static_cast<size_t>(h.range.count));
      for (auto& e : stream->entries) groups[e.key_group - h.range.start].push_back({e.state_id, e.key, e.value});
      auto written = state::write_canonical_keyed_stream(stream->proxy_bytes, stream->compressed, h.range, prefix, groups);
      ASSERT_TRUE(written);
      if (!stream->compressed) {
        EXPECT_EQ(written->bytes, rs->bytes) << path;
      } else {
        BeLongs offs;
        std::string raw;
        for (int64_t o : written->offsets)
          for (int b = 7; b >= 0; --b) raw.push_back(static_cast<char>(static_cast<uint64_t>(o) >> (8 * b)));
        offs.raw = raw;
        auto again = state::read_canonical_keyed_stream(written->bytes, h.range, offs, prefix);
        ASSERT_TRUE(again) << again.error().to_string();
        ASSERT_EQ(again->entries.size(), stream->entries.size());
        for (size_t i = 0; i < again->entries.size(); ++i) {
          EXPECT_EQ(again->entries[i].key, stream->entries[i].key);
          EXPECT_EQ(again->entries[i].value, stream->entries[i].value);
        }
      }
    }
  }
}

TEST(KeyGroups, EveryRealCanonicalKeyIsInTheGroupFlinkStoredItUnder) {
  FSP_REQUIRE_SHARED(shared);
  Tally t;
  int64_t sql_keys = 0, stateful_keys = 0, stateful_timers = 0;
  for (auto& row : test::manifest()) {
    if (row.kind.rfind("savepoint", 0) != 0 || row.savepoint_format != "canonical") continue;
    auto path = shared / "testdata" / "flink-repo" / row.path;
    int64_t before_keys = t.keys, before_timers = t.timers;
    check_snapshot(path, t);
    if (HasFatalFailure()) return;
    if (row.path.find("restore-tests") != std::string::npos) sql_keys += t.keys - before_keys + t.timers - before_timers;
    if (row.path.find("new-stateful-udf-migration-itcase") != std::string::npos) {
      stateful_keys += t.keys - before_keys;
      stateful_timers += t.timers - before_timers;
    }
  }
  std::cout << "[key groups] " << t.keys << " keyed entries and " << t.timers << " timers of " << t.handles
            << " handles in " << t.snapshots << " canonical savepoints in their Flink key group (SQL restore tests: "
            << sql_keys << ", StatefulJob: " << stateful_keys << " entries + " << stateful_timers << " timers); "
            << t.not_canonical << " heap-format handles, of which " << t.heap_handles << " checked ("
            << t.heap_keys << " entries, " << t.heap_timers << " timers) and " << t.heap_unwalked
            << " with values this test cannot skip\n";
  for (auto& [cls, n] : t.refused) std::cout << "[key groups] key serializer not hashed: " << cls << " (" << n << " handles)\n";
  EXPECT_GT(t.keys, 1000);
  EXPECT_GT(t.timers, 100);
  EXPECT_GT(sql_keys, 1000);
  EXPECT_GT(stateful_keys, 0);
  EXPECT_GT(stateful_timers, 0);
  EXPECT_GT(t.heap_keys, 0);
}

}  // namespace
}  // namespace fsp

namespace fsp {
namespace {

TEST(KeyGroups, UnsupportedKeySerializersAreRefusedByClass) {
  state::SerializerNode pojo;
  pojo.class_name = "org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot";
  pojo.kind = "pojo";
  pojo.detail = "com.example.Key";
  auto h = JavaKeyHasher::for_key_serializer(pojo);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().kind, ErrorKind::kUsage);
  EXPECT_NE(h.error().message.find("PojoSerializerSnapshot"), std::string::npos) << h.error().message;
  state::SerializerNode user;
  user.class_name = "com.example.LongSerializer$LongSerializerSnapshot";  // not Flink's, whatever its name
  user.kind = "simple";
  EXPECT_FALSE(JavaKeyHasher::for_key_serializer(user));
  // A tuple with one unsupported field is refused as a whole, naming the field's class.
  state::SerializerNode tuple;
  tuple.class_name = "org.apache.flink.api.java.typeutils.runtime.TupleSerializerSnapshot";
  tuple.kind = "composite";
  state::SerializerNode lng;
  lng.class_name = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
  lng.kind = "simple";
  tuple.children = {lng, pojo};
  auto t = JavaKeyHasher::for_key_serializer(tuple);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("PojoSerializerSnapshot"), std::string::npos);
  tuple.children = {lng, lng};
  auto ok = JavaKeyHasher::for_key_serializer(tuple);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->type(), "Tuple2<Long, Long>");
  // Tuple2<Long, Long>(1, 2).hashCode() = 31 * 1 + 2; String "ab" = 31 * 'a' + 'b'.
  std::string bytes("\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x02", 16);
  ByteReader r(bytes);
  EXPECT_EQ(ok->hash(r), 33);
  state::SerializerNode str;
  str.class_name = "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot";
  str.kind = "simple";
  auto s = JavaKeyHasher::for_key_serializer(str);
  ASSERT_TRUE(s);
  std::string sb("\x03" "ab", 3);
  ByteReader rs(sb);
  EXPECT_EQ(s->hash(rs), 31 * 'a' + 'b');
  // A char above 0x7F: varint 0xE9 0x01 = U+00E9.
  std::string se("\x02\xE9\x01", 3);
  ByteReader re(se);
  EXPECT_EQ(s->hash(re), 0xE9);
}

}  // namespace
}  // namespace fsp
