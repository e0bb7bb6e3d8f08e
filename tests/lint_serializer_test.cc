// lint's serializer findings appear exactly on the snapshots whose states use
// Kryo or Scala serializers: none in Flink's StatefulJob snapshots, and one on
// a copy of the project's sample whose ValueState is given a Kryo (or Scala)
// serializer snapshot.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/lint.h"
#include "flink_savepoint/metadata.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::be_i32;
using test::be_i64;
using test::be_utf;
using test::sample_with_value_serializer;

const char* kLongSnapshot = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";

std::vector<LintFinding> serializer_findings(const fs::path& dir) {
  auto sf = open_snapshot(dir.string());
  EXPECT_TRUE(sf.ok()) << (sf.ok() ? "" : sf.error().to_string());
  LintReport r = lint(*sf);
  EXPECT_TRUE(r.states_read);
  EXPECT_TRUE(r.states_note.empty()) << r.states_note;
  std::vector<LintFinding> out;
  for (const auto& f : r.findings)
    if (f.check == "serializer") out.push_back(f);
  return out;
}

TEST(LintSerializers, NoneOnTheSampleOrFlinksStatefulJobSnapshots) {
  EXPECT_TRUE(serializer_findings(fs::path(FSP_SOURCE_DIR) / "testdata" / "sample-savepoint").empty());
  FSP_REQUIRE_SHARED(shared);
  size_t checked = 0;
  for (const auto& row : test::manifest()) {
    if (row.path.find("stateful-udf-migration-itcase") == std::string::npos &&
        row.path.find("stateful-broadcast-udf-migration-itcase") == std::string::npos)
      continue;
    auto sf = open_snapshot((shared / "testdata" / "flink-repo" / row.path).string());
    ASSERT_TRUE(sf.ok());
    LintReport r = lint(*sf);
    for (const auto& f : r.findings) EXPECT_NE(f.check, "serializer") << row.path << ": " << f.message;
    ++checked;
  }
  EXPECT_EQ(checked, 148u);
}

TEST(LintSerializers, KryoFallbackIsAWarningOnThatStateOnly) {
  std::string kryo = be_utf("org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializerSnapshot") + be_i32(2) +
                     be_utf("com.example.Event");
  for (int m = 0; m < 3; ++m) kryo += be_i64(0x4F2C69A3D70LL) + be_i32(0);  // three empty optional maps
  fs::path dir = sample_with_value_serializer("lint-kryo", kryo);
  auto f = serializer_findings(dir);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].status, "warn");
  EXPECT_EQ(f[0].state, "order-count");
  EXPECT_EQ(f[0].uid, "enrich-orders-uid");
  EXPECT_NE(f[0].message.find("Kryo fallback"), std::string::npos) << f[0].message;
  fs::remove_all(dir);
}

// A POJO one of whose fields fell back to Kryo: one finding that names both
// (not the plain Kryo-fallback message).
TEST(LintSerializers, KryoFieldInsideAPojoIsOneWarning) {
  std::string kryo = be_utf("org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializerSnapshot") + be_i32(2) +
                     be_utf("com.example.Blob");
  for (int m = 0; m < 3; ++m) kryo += be_i64(0x4F2C69A3D70LL) + be_i32(0);
  // PojoSerializerSnapshot v2: class name, fields (name -> framed key, framed serializer snapshot),
  // registered and non-registered subclasses (empty optional maps).
  std::string key = be_utf("com.example.Event") + be_utf("payload");
  std::string pojo = be_utf("org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot") + be_i32(2) +
                     be_utf("com.example.Event") + be_i64(0x4F2C69A3D70LL) + be_i32(1) + be_utf("payload") + std::string(1, '\x01') +
                     be_i32(static_cast<int32_t>(key.size())) + key + std::string(1, '\x01') +
                     be_i32(static_cast<int32_t>(kryo.size())) + kryo;
  for (int m = 0; m < 2; ++m) pojo += be_i64(0x4F2C69A3D70LL) + be_i32(0);
  fs::path dir = sample_with_value_serializer("lint-kryo-pojo", pojo);
  auto f = serializer_findings(dir);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].status, "warn");
  EXPECT_EQ(f[0].state, "order-count");
  EXPECT_NE(f[0].message.find("is a POJO with fields that fell back to Kryo"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].fix.find("TypeInformation"), std::string::npos) << f[0].fix;
  fs::remove_all(dir);
}

// A POJO without Kryo fields: no serializer finding at all.
TEST(LintSerializers, PlainPojoHasNoFinding) {
  std::string key = be_utf("com.example.Event") + be_utf("id");
  std::string lng = be_utf(kLongSnapshot) + be_i32(3);
  std::string pojo = be_utf("org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot") + be_i32(2) +
                     be_utf("com.example.Event") + be_i64(0x4F2C69A3D70LL) + be_i32(1) + be_utf("id") + std::string(1, '\x01') +
                     be_i32(static_cast<int32_t>(key.size())) + key + std::string(1, '\x01') +
                     be_i32(static_cast<int32_t>(lng.size())) + lng;
  for (int m = 0; m < 2; ++m) pojo += be_i64(0x4F2C69A3D70LL) + be_i32(0);
  fs::path dir = sample_with_value_serializer("lint-pojo", pojo);
  EXPECT_TRUE(serializer_findings(dir).empty());
  fs::remove_all(dir);
}

TEST(LintSerializers, ScalaSerializersFail) {
  // ScalaOptionSerializerSnapshot<Long>: a composite snapshot (outer version 1, no outer payload).
  std::string scala = be_utf("org.apache.flink.api.scala.typeutils.ScalaOptionSerializerSnapshot") + be_i32(3) + be_i32(911108) +
                      be_i32(1) + be_i32(1333245) + be_i32(1) + be_i32(1) + be_utf(kLongSnapshot) + be_i32(3);
  fs::path dir = sample_with_value_serializer("lint-scala", scala);
  auto f = serializer_findings(dir);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].status, "fail");
  EXPECT_EQ(f[0].state, "order-count");
  EXPECT_NE(f[0].message.find("Scala API serializers, removed in Flink 2.0"), std::string::npos) << f[0].message;
  auto r = test::run_command(test::cli_path() + " lint --strict " + dir.string() + " > /dev/null");
  EXPECT_EQ(r.exit_code, 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fsp
