// The CheckpointProperties writer reproduces every trailer Flink wrote.
#include <gtest/gtest.h>

#include <set>

#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/snapshot_file.h"
#include "test_support.h"

namespace fsp {
namespace {

TEST(JavaSerializationWriter, ReproducesEveryRealTrailerByteForByte) {
  FSP_REQUIRE_SHARED(shared);
  size_t checked = 0;
  std::set<size_t> sizes;
  for (const auto& row : test::manifest()) {
    if (row.metadata_version < 4) continue;
    auto sf = open_snapshot((shared / "testdata" / "flink-repo" / row.path).string());
    ASSERT_TRUE(sf.ok()) << row.path;
    const Snapshot& s = sf->snapshot;
    ASSERT_TRUE(s.properties.parsed) << row.path << ": " << s.properties.parse_error;
    std::string written = write_checkpoint_properties(s.properties);
    EXPECT_EQ(written, std::string(s.trailer)) << row.path;
    sizes.insert(written.size());
    ++checked;
  }
  EXPECT_GT(checked, 400u);
  // 5 (null), 604 (checkpoint), 742 (native), 745 (canonical), 756 (suspend, canonical)
  EXPECT_TRUE(sizes.count(5) && sizes.count(604) && sizes.count(742) && sizes.count(745) && sizes.count(756));
}

TEST(JavaSerializationWriter, RoundTripsThroughTheParser) {
  for (auto p : {checkpoint_properties_for_checkpoint(), checkpoint_properties_for_savepoint(true),
                 checkpoint_properties_for_savepoint(false, true)}) {
    std::string bytes = write_checkpoint_properties(p);
    SnapshotProperties back = parse_checkpoint_properties(bytes);
    ASSERT_TRUE(back.parsed) << back.parse_error;
    EXPECT_EQ(back.type_class, p.type_class);
    EXPECT_EQ(back.name, p.name);
    EXPECT_EQ(back.format_type, p.format_type);
    EXPECT_EQ(back.post_checkpoint_action, p.post_checkpoint_action);
    EXPECT_EQ(back.sharing_strategy, p.sharing_strategy);
    EXPECT_EQ(back.forced, p.forced);
    EXPECT_EQ(back.discard_subsumed, p.discard_subsumed);
    EXPECT_EQ(write_checkpoint_properties(back), bytes);
  }
  SnapshotProperties none;
  EXPECT_EQ(write_checkpoint_properties(none), std::string("\xAC\xED\x00\x05\x70", 5));
}

}  // namespace
}  // namespace fsp
