// The typed model: Snapshot is move-only, handle codes are an enum, the
// metadata-version table agrees with docs/format.md, and the sizes of the
// model's structs (issue #13 measures them).
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <type_traits>

#include <gtest/gtest.h>

#include "test_support.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp {
namespace {

// A copy's string views would point into the source's arena and mapping.
static_assert(!std::is_copy_constructible_v<Snapshot>, "Snapshot must stay move-only");
static_assert(!std::is_copy_assignable_v<Snapshot>, "Snapshot must stay move-only");
static_assert(std::is_same_v<std::underlying_type_t<HandleCode>, uint8_t>);
static_assert(std::is_same_v<decltype(StreamHandle{}.code), HandleCode>);
static_assert(std::is_same_v<decltype(KeyedHandle{}.code), HandleCode>);
static_assert(std::is_same_v<decltype(OperatorHandle{}.code), HandleCode>);
static_assert(to_int(code::kSegmentPartitionableOperator) == kMaxHandleCode);

TEST(ModelTypes, DecodeKeepsItsBacking) {
  const std::string path = std::string(FSP_SOURCE_DIR) + "/testdata/sample-savepoint/_metadata";
  Snapshot s;
  {
    auto bytes = io::read_file(path);
    ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
    auto d = decode_metadata(*bytes);
    ASSERT_TRUE(d.ok()) << d.error().to_string();
    s = std::move(*d);
  }  // the caller's buffer is gone; the snapshot holds it
  ASSERT_NE(s.backing, nullptr);
  ASSERT_EQ(s.operators.size(), 3u);
  EXPECT_EQ(std::string(s.operators[1].uid), "enrich-orders-uid");
  EXPECT_EQ(s.checkpoint_id, 42);
  Snapshot moved = std::move(s);
  EXPECT_EQ(std::string(moved.operators[0].uid), "orders-source");
}

TEST(ModelTypes, VersionTableIsComplete) {
  for (int32_t v = 0; v <= kLastDecodedVersion; ++v) {
    const MetadataVersionInfo* i = metadata_version_info(v);
    ASSERT_NE(i, nullptr) << v;
    EXPECT_EQ(i->version, v);
    EXPECT_EQ(i->decoded, v >= kFirstDecodedVersion);
    EXPECT_TRUE(i->first_writer.known());
    EXPECT_FALSE(i->first_reader < i->first_writer) << v;
    EXPECT_EQ(flink_versions_writing(v), i->written_by);
    EXPECT_EQ(i->refusal_hint.empty(), i->decoded) << v;  // what to do with a version Flink no longer reads
  }
  EXPECT_EQ(metadata_version_info(-1), nullptr);
  EXPECT_EQ(metadata_version_info(kLastDecodedVersion + 1), nullptr);
  EXPECT_EQ(flink_versions_writing(99), "unknown");
  // Consecutive versions follow each other in Flink's releases.
  for (int32_t v = 1; v <= kLastDecodedVersion; ++v) {
    const MetadataVersionInfo& prev = *metadata_version_info(v - 1);
    if (prev.last_writer.known()) {
      EXPECT_TRUE(prev.last_writer < metadata_version_info(v)->first_writer) << v;
    }
  }
}

// docs/format.md's table "| version | written by | ..." says what the table says.
TEST(ModelTypes, VersionTableMatchesTheDocs) {
  std::ifstream in(std::string(FSP_SOURCE_DIR) + "/docs/format.md");
  ASSERT_TRUE(in) << "docs/format.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  const size_t start = all.find("| version | written by |");
  ASSERT_NE(start, std::string::npos) << "the version table of docs/format.md";
  const std::string doc = all.substr(start, all.find("\n\n", start) - start);
  std::regex row(R"(\n\| (\d+) \| ([^|]+?) \|)");
  int rows = 0;
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it) {
    int v = std::stoi((*it)[1]);
    const MetadataVersionInfo* i = metadata_version_info(v);
    ASSERT_NE(i, nullptr) << "docs/format.md lists metadata version " << v;
    std::string expected;
    if (!i->verified) expected = "(unverified)";
    else if (!i->last_writer.known()) expected = i->first_writer.str() + "+";
    else if (i->last_writer == i->first_writer) expected = i->first_writer.str();
    else expected = i->first_writer.str() + " \u2013 " + i->last_writer.str();
    EXPECT_EQ((*it)[2].str(), expected) << "metadata version " << v << " in docs/format.md";
    ++rows;
  }
  EXPECT_EQ(rows, kLastDecodedVersion - kFirstDecodedVersion + 1) << "one row per decoded version";
}

TEST(ModelTypes, ErrorKindsByMeaning) {
  const std::string path = std::string(FSP_SOURCE_DIR) + "/testdata/sample-savepoint/_metadata";
  auto bytes = io::read_file(path);
  ASSERT_TRUE(bytes.ok());
  const std::string full((*bytes)->bytes());
  // Cut short inside the checkpoint id: truncated, at an offset inside the input.
  // (A count that needs more bytes than remain is reported as corrupt.)
  auto cut = decode_metadata(std::string_view(full).substr(0, 10));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().kind, ErrorKind::kTruncated) << cut.error().to_string();
  EXPECT_TRUE(cut.error().is_bad_data());
  // Metadata v1: unsupported (Flink 1.11+ cannot read it either).
  std::string v1 = full.substr(0, 8);
  v1[4] = v1[5] = v1[6] = 0;
  v1[7] = 1;
  auto old = decode_metadata(v1);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().kind, ErrorKind::kUnsupported) << old.error().to_string();
  EXPECT_NE(old.error().message.find("which Flink no longer reads (since 1.11)"), std::string::npos) << old.error().message;
  EXPECT_NE(old.error().hint.find("Flink 1.3 to 1.10"), std::string::npos) << old.error().hint;
  // Not a _metadata file: corrupt.
  auto bad = decode_metadata(std::string_view("not a flink file at all"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kCorrupt);
  EXPECT_STREQ(to_string(ErrorKind::kMissingInput), "missing input");
  // The former names are the same kinds.
  EXPECT_EQ(ErrorKind::kData, ErrorKind::kCorrupt);
  EXPECT_EQ(Error::no_input("x").kind, ErrorKind::kMissingInput);
}

TEST(ModelTypes, Sizes) {
  // Printed for the record (issue #13); bounds keep the model from growing unnoticed.
  std::printf("sizeof: StreamHandle %zu, KeyedHandle %zu, OperatorHandle %zu, SubtaskState %zu, OperatorState %zu\n",
              sizeof(StreamHandle), sizeof(KeyedHandle), sizeof(OperatorHandle), sizeof(SubtaskState),
              sizeof(OperatorState));
  EXPECT_LE(sizeof(StreamHandle), 40u);  // the rare parts boxed (StreamHandleRare)
  EXPECT_LE(sizeof(NamedHandle), 56u);
  EXPECT_LE(sizeof(KeyedHandle), 312u);
  EXPECT_LE(sizeof(SubtaskState), 952u);
}

// A stream handle's path keeps its bytes and length in 16 bytes, whatever the
// length (the 16-bit length field gives way to the full length from 65,535
// bytes on), and equal paths from different buffers have the same group.
TEST(ModelTypes, HandlePathKeepsLengthAndGroup) {
  EXPECT_EQ(sizeof(HandlePath), sizeof(Str));
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{15}, size_t{16}, size_t{147}, size_t{65534},
                   size_t{65535}, size_t{70000}}) {
    std::string a(n, 'p'), b(n, 'p');
    if (n) a[n / 2] = b[n / 2] = 'q';
    HandlePath pa = Str(a), pb = Str(b);
    EXPECT_EQ(pa.size(), n);
    EXPECT_EQ(pa.str().data(), a.data());
    EXPECT_EQ(pa.empty(), n == 0);
    EXPECT_EQ(pa, pb);
    EXPECT_EQ(pa.group(), pb.group()) << n;
  }
  // Paths that differ in their last 16 bytes or in their length are in different groups.
  HandlePath x = "s3://b/shared/7f1c0000-0000-0000-0000-000000000001";
  HandlePath y = "s3://b/shared/7f1c0000-0000-0000-0000-000000000002";
  HandlePath z = "s3://b/shared/7f1c0000-0000-0000-0000-0000000000012";
  EXPECT_NE(x.group(), y.group());
  EXPECT_NE(x.group(), z.group());
  // Same length and last 16 bytes: the same group, though the paths differ (the count settles it).
  HandlePath u = "s3://a/shared/7f1c0000-0000-0000-0000-000000000001";
  EXPECT_EQ(u.group(), x.group());
  EXPECT_NE(u, x);
}

TEST(ModelTypes, StreamHandleCopiesItsBoxedParts) {
  StreamHandle seg;
  seg.code = code::kSegmentFile;
  seg.path = "chk-1/segment-7";
  seg.state_size = 10;
  seg.set_start_pos(4096);
  seg.set_scope(1);
  seg.set_data("logical-7");
  StreamHandle copy = seg;
  copy.set_start_pos(1);
  copy.set_data("other");
  EXPECT_EQ(seg.start_pos(), 4096);
  EXPECT_EQ(seg.logical_file_id(), "logical-7");
  EXPECT_EQ(copy.start_pos(), 1);
  EXPECT_EQ(copy.scope(), 1);
  EXPECT_EQ(copy.path, "chk-1/segment-7");
  StreamHandle assigned;
  assigned = seg;
  EXPECT_EQ(assigned.data(), "logical-7");
  EXPECT_EQ(assigned.size(), 10);

  StreamHandle file;  // a path and a size: nothing boxed, the rare parts read as zero
  file.code = code::kFile;
  file.state_size = 5;
  EXPECT_EQ(file.data(), "");
  EXPECT_EQ(file.start_pos(), 0);
  EXPECT_EQ(file.key_groups(), nullptr);
  StreamHandle moved = std::move(seg);
  EXPECT_EQ(moved.start_pos(), 4096);
}

}  // namespace
}  // namespace fsp
