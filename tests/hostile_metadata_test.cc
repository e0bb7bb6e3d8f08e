// Hostile input for the metadata decoder: every real file truncated at many
// offsets and with bits flipped must give a clean error with a byte offset,
// or a valid decode; never a crash, a hang, or an allocation the input cannot
// justify (run under ASan/UBSan in the sanitizer stage).
#include <gtest/gtest.h>

#include <random>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/snapshot_file.h"
#include "test_support.h"

namespace fsp {
namespace {

std::vector<std::string> real_files(const std::filesystem::path& shared, size_t max_files) {
  std::vector<std::string> out;
  for (const auto& row : test::manifest()) {
    out.push_back(test::read_file(shared / "testdata" / "flink-repo" / row.path));
    if (out.size() >= max_files) break;
  }
  for (const char* v : {"v3", "v4", "v5", "v6"}) out.push_back(test::read_file(shared / "testdata" / "flink-written" / v / "_metadata"));
  return out;
}

TEST(HostileMetadata, TruncationAtEveryOffsetGivesAnErrorWithAnOffset) {
  FSP_REQUIRE_SHARED(shared);
  size_t errors = 0;
  for (const auto& bytes : real_files(shared, 1000)) {
    // Every offset for small files, a spread of offsets for larger ones.
    size_t step = bytes.size() <= 4096 ? 1 : bytes.size() / 2048;
    for (size_t cut = 0; cut < bytes.size(); cut += step) {
      auto r = decode_metadata(std::string_view(bytes).substr(0, cut));
      if (r.ok()) {
        // Every cut is an error, inside a v4+ trailer too (Flink's readObject fails on it).
        ADD_FAILURE() << "a file cut at byte " << cut << " of " << bytes.size() << " decodes";
        continue;
      }
      ++errors;
      ASSERT_TRUE(r.error().offset.has_value()) << r.error().to_string();
      EXPECT_LE(*r.error().offset, cut);
      EXPECT_TRUE(r.error().is_bad_data()) << to_string(r.error().kind);
    }
  }
  EXPECT_GT(errors, 10000u);
}

TEST(HostileMetadata, BitFlipsNeverCrash) {
  FSP_REQUIRE_SHARED(shared);
  std::mt19937_64 rng(12345);
  size_t ok = 0, failed = 0;
  for (const auto& original : real_files(shared, 1000)) {
    for (int round = 0; round < 40; ++round) {
      std::string bytes = original;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        size_t pos = rng() % bytes.size();
        bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (rng() % 8)));
      }
      auto r = decode_metadata(bytes);
      if (r.ok()) {
        ++ok;
        // Whatever decodes re-encodes to the same bytes.
        auto e = encode_metadata(*r);
        ASSERT_TRUE(e.ok());
        EXPECT_EQ(*e, bytes);
      } else {
        ++failed;
        EXPECT_TRUE(r.error().offset.has_value()) << r.error().to_string();
      }
    }
  }
  EXPECT_GT(ok, 0u);
  EXPECT_GT(failed, 0u);
}

TEST(HostileMetadata, HugeCountsAreRejectedBeforeAllocating) {
  // magic, version 3, checkpoint id, 0 master states, 2^31-1 operators.
  std::string b("\x49\x60\x67\x2D\x00\x00\x00\x03", 8);
  b += std::string(8, '\0');
  b += std::string("\x00\x00\x00\x00", 4);
  b += std::string("\x7F\xFF\xFF\xFF", 4);
  auto r = decode_metadata(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(*r.error().offset, 20u);
  EXPECT_NE(r.error().message.find("operator states"), std::string::npos) << r.error().message;
}

TEST(HostileMetadata, ClearMessagesForWrongFilesAndVersions) {
  auto r = decode_metadata("PK\x03\x04 this is a zip file");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("is a zip archive (or a jar), not a _metadata file"), std::string::npos) << r.error().message;
  EXPECT_EQ(*r.error().offset, 0u);
  auto noise = decode_metadata(std::string("\x01\x02\x03\x04\x05\x06", 6));
  ASSERT_FALSE(noise.ok());
  EXPECT_NE(noise.error().message.find("unexpected magic number"), std::string::npos) << noise.error().message;

  auto v1 = decode_metadata(std::string("\x49\x60\x67\x2D\x00\x00\x00\x01", 8));
  ASSERT_FALSE(v1.ok());
  EXPECT_NE(v1.error().message.find("written by Flink 1.2 (metadata version 1)"), std::string::npos) << v1.error().message;
  EXPECT_EQ(*v1.error().offset, 4u);

  auto v9 = decode_metadata(std::string("\x49\x60\x67\x2D\x00\x00\x00\x09", 8));
  ASSERT_FALSE(v9.ok());
  EXPECT_NE(v9.error().message.find("unrecognized checkpoint version number: 9"), std::string::npos);
}

TEST(HostileMetadata, ErrorsSayWhichOperatorSubtaskAndHandle) {
  FSP_REQUIRE_SHARED(shared);
  // A keyed handle code that does not exist, inside operator #1 of a real file.
  auto bytes = test::read_file(shared / "testdata" / "flink-written" / "v5" / "_metadata");
  auto good = decode_metadata(bytes);
  ASSERT_TRUE(good.ok());
  // Find the first operator with a non-null managed keyed state and corrupt its code byte:
  // re-encode up to that handle to know its offset.
  Snapshot s = std::move(*good);
  size_t op_index = 0;
  for (; op_index < s.operators.size(); ++op_index)
    if (!s.operators[op_index].subtasks.empty() && !s.operators[op_index].subtasks[0].finished &&
        !s.operators[op_index].subtasks[0].managed_keyed.is_null())
      break;
  ASSERT_LT(op_index, s.operators.size());
  HandleCode code = s.operators[op_index].subtasks[0].managed_keyed.code;
  s.operators[op_index].subtasks[0].managed_keyed.code = static_cast<HandleCode>(99);  // encoder writes the code byte and nothing else
  auto enc = encode_metadata(s);
  ASSERT_TRUE(enc.ok());
  auto r = decode_metadata(*enc);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("invalid KeyedStateHandle, type: 99"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().where.find("operator #" + std::to_string(op_index) + " (id " + s.operators[op_index].id_hex() + ")"),
            std::string::npos)
      << r.error().where;
  EXPECT_NE(r.error().where.find("subtask " + std::to_string(s.operators[op_index].subtasks[0].index)), std::string::npos);
  EXPECT_NE(r.error().where.find("managed keyed state"), std::string::npos) << r.error().where;
  (void)code;
}

}  // namespace
}  // namespace fsp
