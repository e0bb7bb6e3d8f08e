// The in-memory changelog replay (formats/state/changelog_replay.cc) over
// the real increments of Flink 1.17's changelog-only hashmap checkpoint, and
// those increments with hand-made changes appended: CLEAR, REMOVE_ELEMENT,
// a poll, an unknown state id, a truncated record, a materialized part.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
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

}  // namespace
