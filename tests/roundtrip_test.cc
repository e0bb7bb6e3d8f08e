// Every real _metadata in ../shared decodes with no leftover bytes and
// re-encodes to identical bytes.
#include <gtest/gtest.h>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/snapshot_file.h"
#include "test_support.h"

namespace fsp {
namespace {

TEST(RoundTrip, EveryManifestFileDecodesAndReencodesByteForByte) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = test::manifest();
  ASSERT_GT(rows.size(), 480u);
  size_t checked = 0;
  for (const auto& row : rows) {
    auto path = shared / "testdata" / "flink-repo" / row.path;
    auto sf = open_snapshot(path.string());
    ASSERT_TRUE(sf.ok()) << row.path << ": " << sf.error().to_string();
    EXPECT_EQ(sf->snapshot.version, row.metadata_version) << row.path;
    EXPECT_EQ(sf->snapshot.checkpoint_id, row.checkpoint_id) << row.path;
    if (row.num_operators >= 0) {
      EXPECT_EQ(static_cast<int>(sf->snapshot.operators.size()), row.num_operators) << row.path;
    }
    auto enc = encode_metadata(sf->snapshot);
    ASSERT_TRUE(enc.ok()) << row.path << ": " << enc.error().to_string();
    auto original = test::read_file(path);
    ASSERT_EQ(enc->size(), original.size()) << row.path;
    EXPECT_TRUE(*enc == original) << row.path << ": re-encoded bytes differ";
    ++checked;
  }
  EXPECT_EQ(checked, rows.size());
}

TEST(RoundTrip, FlinkWrittenCheckpointsOfEveryHandleKind) {
  FSP_REQUIRE_SHARED(shared);
  for (const char* v : {"v3", "v4", "v5", "v6"}) {
    auto path = shared / "testdata" / "flink-written" / v / "_metadata";
    auto sf = open_snapshot(path.string());
    ASSERT_TRUE(sf.ok()) << v << ": " << sf.error().to_string();
    auto enc = encode_metadata(sf->snapshot);
    ASSERT_TRUE(enc.ok());
    EXPECT_TRUE(*enc == test::read_file(path)) << v;
  }
}

}  // namespace
}  // namespace fsp
