// The in-memory changelog replay (formats/state/changelog_replay.cc) over
// the real increments of Flink 1.17's changelog-only hashmap checkpoint, and
// those increments with hand-made changes appended: CLEAR, REMOVE_ELEMENT,
// a poll, an unknown state id, a truncated record, a materialized part.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "flink_savepoint/changelog_replay.h"
#include "flink_savepoint/snapshot_file.h"
#include "test_support.h"

namespace {

using fsp::KeyedHandle;
using fsp::state::ChangelogReplay;

constexpr const char* kTimely = "41e91aae0bee218c44306cf7d21940ad";

struct Fixture {
  std::optional<fsp::SnapshotFile> file;
  KeyedHandle handle;  // operator kTimely, subtask 2 (key group 2: keys 0 and 1)
  std::deque<std::string> storage;

  void add(int32_t kg, std::string bytes) {
    storage.push_back(std::move(bytes));
    handle.non_materialized.back().changes.push_back({kg, storage.back()});
  }
  // The first data record whose op byte is `op`, as written.
  std::string record(uint8_t op) const {
    for (auto& c : handle.non_materialized.back().changes)
      if (c.key_group >= 0 && !c.data.empty() && static_cast<uint8_t>(c.data[0]) == op) return std::string(c.data);
    return {};
  }
};

bool load(const std::filesystem::path& shared, Fixture& fx) {
  auto rows = fsp::test::rows_matching("new-stateful-udf-migration-itcase-flink1.17-hashmap-checkpoint");
  if (rows.size() != 1) return false;
  auto f = fsp::open_snapshot((shared / "testdata" / "flink-repo" / rows[0].path).string());
  if (!f) return false;
  fx.file.emplace(std::move(*f));
  for (auto& op : fx.file->snapshot.operators)
    if (op.id_hex() == kTimely)
      for (auto& st : op.subtasks)
        if (st.index == 2) fx.handle = st.managed_keyed;
  return fx.handle.non_materialized.size() == 1;
}

size_t entries_of(const ChangelogReplay& r, const std::string& name) {
  for (auto& s : r.states)
    if (s.meta.name == name) return s.unsupported.empty() ? s.entries.size() : SIZE_MAX;
  return 0;
}

std::string be_long(int64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[7 - i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xFF);
  return s;
}

namespace {

// A METADATA record (op 8, meta info version 6) of a key/value state with a
// Long namespace, the given KEYED_STATE_TYPE and value serializer, then the
// state id and backend state type 0, as the changelog writes them.
std::string kv_metadata(const std::string& name, const std::string& kind, int16_t id,
                        const std::function<void(fsp::test::JavaBytes&)>& value) {
  const char* kLong = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
  fsp::test::JavaBytes w;
  w.u8(8).i32(6).utf(name).i32(0).i32(1).utf("KEYED_STATE_TYPE").utf(kind).i32(2);
  w.utf("NAMESPACE_SERIALIZER").i32(2).utf(kLong).i32(3);
  w.utf("VALUE_SERIALIZER").i32(2);
  value(w);
  w.i16(id).u8(0);
  return w.b;
}

void composite(fsp::test::JavaBytes& w, const char* cls, int n) {
  const char* kLong = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
  w.utf(cls).i32(3).i32(911108).i32(1).i32(1333245).i32(1).i32(n);
  for (int i = 0; i < n; ++i) w.utf(kLong).i32(3);
}

std::string i32(int32_t v) {
  fsp::test::JavaBytes w;
  w.i32(v);
  return w.b;
}

}  // namespace

TEST(ChangelogReplay, RealIncrementsGiveTheEntriesOfKeyGroupTwo) {
  FSP_REQUIRE_SHARED(shared);
  Fixture fx;
  ASSERT_TRUE(load(shared, fx));
  auto r = fsp::state::replay_changelog(fx.handle);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->states.size(), 3u);
  EXPECT_EQ(r->states[0].meta.name, "state-name");
  EXPECT_FALSE(r->states[0].priority_queue);
  EXPECT_TRUE(r->states[1].priority_queue);
  EXPECT_TRUE(r->states[2].priority_queue);
  ASSERT_TRUE(r->key_serializer.has_value());  // from the TimerSerializer
  EXPECT_EQ(r->key_serializer->readable(), "Tuple1<Long>");
  for (auto& s : r->states) {
    SCOPED_TRACE(s.meta.name);
    ASSERT_EQ(s.entries.size(), 2u);
    for (auto& e : s.entries) EXPECT_EQ(e.key_group, 2);
  }
  // state-name: key (k) -> k with namespace k, in key order.
  auto& v = r->states[0].entries;
  EXPECT_EQ(v[0].key, be_long(0));
  EXPECT_EQ(v[0].ns, be_long(0));
  EXPECT_EQ(v[0].value, be_long(0));
  EXPECT_EQ(v[1].key, be_long(1));
  EXPECT_EQ(v[1].value, be_long(1));
}

TEST(ChangelogReplay, ClearAndRemoveElementApplyAPollIsUnsupported) {
  FSP_REQUIRE_SHARED(shared);
  Fixture fx;
  ASSERT_TRUE(load(shared, fx));
  auto before = fsp::state::replay_changelog(fx.handle);
  ASSERT_TRUE(before.ok());
  // CLEAR of state-name (state id 2) for key 0, namespace 0.
  fx.add(2, std::string("\x00\x00\x02", 3) + be_long(0) + be_long(0));
  // REMOVE_ELEMENT of the first timer added (ADD_ELEMENT: op 5, id, int 1, element).
  std::string add = fx.record(5);
  ASSERT_GT(add.size(), 7u);
  fx.add(2, std::string("\x07", 1) + add.substr(1, 2) + add.substr(7));
  auto r = fsp::state::replay_changelog(fx.handle);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(entries_of(*r, "state-name"), 1u);
  size_t timers = entries_of(*r, "_timer_state/event_timer") + entries_of(*r, "_timer_state/processing_timer");
  EXPECT_EQ(timers, 3u);
  // A poll (REMOVE_FIRST_ELEMENT, op 8 on a data record) needs the queue's order: that state is unsupported.
  fx.add(2, std::string("\x08", 1) + add.substr(1, 2));
  auto p = fsp::state::replay_changelog(fx.handle);
  ASSERT_TRUE(p.ok());
  size_t unsupported = 0;
  for (auto& s : p->states)
    if (!s.unsupported.empty()) {
      ++unsupported;
      EXPECT_TRUE(s.entries.empty());
      EXPECT_NE(s.unsupported.find("REMOVE_FIRST_ELEMENT"), std::string::npos) << s.unsupported;
    }
  EXPECT_EQ(unsupported, 1u);
}

TEST(ChangelogReplay, BadRecordsFailWithTheChangeIndex) {
  FSP_REQUIRE_SHARED(shared);
  // A well-formed SET of state-name in a key group outside the increment's
  // range (or below METADATA's -1): Flink's restore would fail there, so the
  // replay does not print it as if it were state.
  for (int32_t delta : {1, -1000}) {
    Fixture fx;
    ASSERT_TRUE(load(shared, fx));
    const fsp::KeyGroupRange range = fx.handle.non_materialized.back().range;
    ASSERT_EQ(range.start, 2);
    ASSERT_EQ(range.count, 1);
    ASSERT_TRUE(fsp::state::replay_changelog(fx.handle).ok());
    int32_t kg = delta > 0 ? range.end() + delta : delta;
    size_t index = fx.handle.non_materialized.back().changes.size();
    fx.add(kg, std::string("\x01\x00\x02", 3) + be_long(0) + be_long(0) + be_long(0));
    auto r = fsp::state::replay_changelog(fx.handle);
    ASSERT_FALSE(r.ok()) << kg;
    EXPECT_EQ(r.error().kind, fsp::ErrorKind::kCorrupt);
    EXPECT_EQ(r.error().message, "changelog change " + std::to_string(index) + ": key group " + std::to_string(kg) +
                                     " is outside the increment's key groups 2..2");
  }
  {
    Fixture fx;
    ASSERT_TRUE(load(shared, fx));
    size_t index = fx.handle.non_materialized.back().changes.size();
    fx.add(2, std::string("\x01\x00\x63", 3) + be_long(0));  // state id 99
    auto r = fsp::state::replay_changelog(fx.handle);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("change " + std::to_string(index)), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("state id 99"), std::string::npos) << r.error().message;
  }
  {
    Fixture fx;
    ASSERT_TRUE(load(shared, fx));
    // SET of state-name cut short: key and namespace, 7 of the value's 8 bytes.
    fx.add(2, std::string("\x01\x00\x02", 3) + be_long(0) + be_long(0) + be_long(0).substr(1));
    auto r = fsp::state::replay_changelog(fx.handle);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("do not decode"), std::string::npos) << r.error().message;
  }
  {
    Fixture fx;
    ASSERT_TRUE(load(shared, fx));
    fx.add(2, std::string("\x01", 1));  // no state id
    EXPECT_FALSE(fsp::state::replay_changelog(fx.handle).ok());
    Fixture m;
    ASSERT_TRUE(load(shared, m));
    m.handle.materialized.push_back(KeyedHandle{});
    auto r = fsp::state::replay_changelog(m.handle);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, fsp::ErrorKind::kUnsupported);
  }
}


TEST(ChangelogReplay, ListAndMapStatesApplyTheirOperations) {
  FSP_REQUIRE_SHARED(shared);
  Fixture fx;
  ASSERT_TRUE(load(shared, fx));  // key serializer Tuple1<Long> from the timers: a key is 8 bytes
  fx.add(-1, kv_metadata("a-list", "LIST", 50, [](fsp::test::JavaBytes& w) {
    composite(w, "org.apache.flink.api.common.typeutils.base.ListSerializerSnapshot", 1);
  }));
  fx.add(-1, kv_metadata("a-map", "MAP", 51, [](fsp::test::JavaBytes& w) {
    composite(w, "org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot", 2);
  }));
  auto scope = [](int64_t key, int64_t ns) { return be_long(key) + be_long(ns); };
  std::string list_id("\x00\x32", 2), map_id("\x00\x33", 2);
  // List, key 0: SET [1, 2], ADD [3], ADD_ELEMENT 4 -> [1, 2, 3, 4] in namespace 7.
  fx.add(2, "\x01" + list_id + scope(0, 7) + i32(2) + be_long(1) + be_long(2));
  fx.add(2, "\x03" + list_id + scope(0, 7) + i32(1) + be_long(3));
  fx.add(2, "\x05" + list_id + scope(0, 7) + be_long(4));
  // List, key 1: ADD [5] in namespaces 8 and 9, then MERGE_NS of 8 and 9 into 10.
  fx.add(2, "\x03" + list_id + scope(1, 8) + i32(1) + be_long(5));
  fx.add(2, "\x03" + list_id + scope(1, 9) + i32(1) + be_long(6));
  fx.add(2, "\x04" + list_id + scope(1, 10) + be_long(10) + i32(2) + be_long(8) + be_long(9));
  // List, key 0 namespace 11: SET [], i.e. nothing; ADD [] changes nothing either.
  fx.add(2, "\x01" + list_id + scope(0, 11) + i32(0));
  fx.add(2, "\x03" + list_id + scope(0, 11) + i32(0));
  // Map, key 0: ADD {20: 21, 22: 23}, ADD_OR_UPDATE 20 -> 24, REMOVE 22.
  std::string no_null(1, '\0');
  fx.add(2, "\x03" + map_id + scope(0, 7) + i32(2) + be_long(20) + no_null + be_long(21) + be_long(22) + no_null +
                be_long(23));
  fx.add(2, "\x06" + map_id + scope(0, 7) + be_long(20) + be_long(24));
  fx.add(2, "\x07" + map_id + scope(0, 7) + be_long(22));
  // Map, key 1: one entry, removed again: no entry left; a REMOVE of an absent scope is nothing.
  fx.add(2, "\x06" + map_id + scope(1, 7) + be_long(30) + be_long(31));
  fx.add(2, "\x07" + map_id + scope(1, 7) + be_long(30));
  fx.add(2, "\x07" + map_id + scope(1, 99) + be_long(30));
  // A CLEAR of key 0's list in namespace 7, then a new SET there.
  fx.add(2, std::string(1, '\0') + list_id + scope(0, 7));
  fx.add(2, "\x01" + list_id + scope(0, 7) + i32(4) + be_long(1) + be_long(2) + be_long(3) + be_long(4));

  auto r = fsp::state::replay_changelog(fx.handle);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const fsp::state::ChangelogStateReplay* list = nullptr;
  const fsp::state::ChangelogStateReplay* map = nullptr;
  for (auto& s : r->states) {
    if (s.meta.name == "a-list") list = &s;
    if (s.meta.name == "a-map") map = &s;
  }
  ASSERT_NE(list, nullptr);
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(list->unsupported, "");
  EXPECT_EQ(map->unsupported, "");
  ASSERT_EQ(list->entries.size(), 2u);
  EXPECT_EQ(list->entries[0].key, be_long(0));
  EXPECT_EQ(list->entries[0].ns, be_long(7));
  EXPECT_EQ(list->entries[0].value, i32(4) + be_long(1) + be_long(2) + be_long(3) + be_long(4));
  EXPECT_EQ(list->entries[1].key, be_long(1));
  EXPECT_EQ(list->entries[1].ns, be_long(10));
  EXPECT_EQ(list->entries[1].value, i32(2) + be_long(5) + be_long(6));
  ASSERT_EQ(map->entries.size(), 1u);
  EXPECT_EQ(map->entries[0].ns, be_long(7));
  EXPECT_EQ(map->entries[0].value, i32(1) + be_long(20) + no_null + be_long(24));
}

TEST(ChangelogReplay, OperationsThatNeedTheJobMarkTheStateUnsupported) {
  FSP_REQUIRE_SHARED(shared);
  auto run = [&](const std::string& kind, const std::string& record, const std::string& why) {
    SCOPED_TRACE(kind + " " + why);
    Fixture fx;
    ASSERT_TRUE(load(shared, fx));
    fx.add(-1, kv_metadata("s", kind, 50, [&](fsp::test::JavaBytes& w) {
      if (kind == "MAP") composite(w, "org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot", 2);
      else if (kind == "LIST") composite(w, "org.apache.flink.api.common.typeutils.base.ListSerializerSnapshot", 1);
      else w.utf("org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot").i32(3);
    }));
    fx.add(2, record);
    auto r = fsp::state::replay_changelog(fx.handle);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    for (auto& s : r->states)
      if (s.meta.name == "s") {
        EXPECT_NE(s.unsupported.find(why), std::string::npos) << s.unsupported;
        EXPECT_TRUE(s.entries.empty());
      }
  };
  std::string id("\x00\x32", 2);
  std::string scope = be_long(0) + be_long(7);
  run("REDUCING", "\x03" + id + scope + be_long(1), "needs the job's reduce or aggregate function");
  run("AGGREGATING", "\x04" + id + scope + be_long(7) + i32(1) + be_long(8), "MERGE_NS of a AGGREGATING state");
  run("MAP", "\x01" + id + scope + i32(0), "SET of a whole map state is not read");
  run("MAP", "\x03" + id + scope + i32(1) + be_long(1) + std::string(1, '\x01'), "a null map value in ADD");
}

}  // namespace
