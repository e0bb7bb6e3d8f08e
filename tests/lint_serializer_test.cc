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

const char* kLongSnapshot = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";

std::string utf(std::string_view s) {
  std::string out;
  ByteWriter(out).utf(s);
  return out;
}
std::string i32(int32_t v) {
  std::string out;
  ByteWriter(out).i32(v);
  return out;
}
std::string i64(int64_t v) {
  std::string out;
  ByteWriter(out).i64(v);
  return out;
}

// A copy of testdata/sample-savepoint whose keyed state "order-count" has
// `value_snapshot` (a versioned serializer snapshot) as its value serializer;
// the key-group offsets in _metadata are moved by the size difference.
fs::path sample_with_value_serializer(const std::string& tag, const std::string& value_snapshot) {
  fs::path src = fs::path(FSP_SOURCE_DIR) / "testdata" / "sample-savepoint";
  fs::path dir = fs::temp_directory_path() / ("fsp-lint-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(src)) fs::copy_file(e.path(), dir / e.path().filename());

  const std::string old_value = utf("VALUE_SERIALIZER") + i32(2) + utf(kLongSnapshot) + i32(3);
  const std::string new_value = utf("VALUE_SERIALIZER") + i32(2) + value_snapshot;
  const int64_t delta = static_cast<int64_t>(new_value.size()) - static_cast<int64_t>(old_value.size());

  std::string meta = test::read_file(dir / "_metadata");
  auto snap = decode_metadata(meta);
  EXPECT_TRUE(snap.ok());
  Snapshot& s = *snap;
  for (auto& st : s.operators[1].subtasks) {
    KeyedHandle& k = st.managed_keyed;
    fs::path file = dir / std::string(k.delegate.path);
    std::string bytes = test::read_file(file);
    size_t at = bytes.find(old_value);
    EXPECT_NE(at, std::string::npos);
    bytes.replace(at, old_value.size(), new_value);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    std::string offsets;
    ByteWriter w(offsets);
    for (size_t i = 0; i < k.offsets.size(); ++i) w.i64(k.offsets[i] == 0 ? 0 : k.offsets[i] + delta);
    k.offsets = BeLongs{s.store(offsets)};
    k.delegate.state_size = static_cast<int64_t>(bytes.size());
  }
  auto enc = encode_metadata(s);
  EXPECT_TRUE(enc.ok());
  std::ofstream(dir / "_metadata", std::ios::binary | std::ios::trunc) << *enc;
  return dir;
}

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
  std::string kryo = utf("org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializerSnapshot") + i32(2) +
                     utf("com.example.Event");
  for (int m = 0; m < 3; ++m) kryo += i64(0x4F2C69A3D70LL) + i32(0);  // three empty optional maps
  fs::path dir = sample_with_value_serializer("kryo", kryo);
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
  std::string kryo = utf("org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializerSnapshot") + i32(2) +
                     utf("com.example.Blob");
  for (int m = 0; m < 3; ++m) kryo += i64(0x4F2C69A3D70LL) + i32(0);
  // PojoSerializerSnapshot v2: class name, fields (name -> framed key, framed serializer snapshot),
  // registered and non-registered subclasses (empty optional maps).
  std::string key = utf("com.example.Event") + utf("payload");
  std::string pojo = utf("org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot") + i32(2) +
                     utf("com.example.Event") + i64(0x4F2C69A3D70LL) + i32(1) + utf("payload") + std::string(1, '\x01') +
                     i32(static_cast<int32_t>(key.size())) + key + std::string(1, '\x01') +
                     i32(static_cast<int32_t>(kryo.size())) + kryo;
  for (int m = 0; m < 2; ++m) pojo += i64(0x4F2C69A3D70LL) + i32(0);
  fs::path dir = sample_with_value_serializer("kryo-pojo", pojo);
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
  std::string key = utf("com.example.Event") + utf("id");
  std::string lng = utf(kLongSnapshot) + i32(3);
  std::string pojo = utf("org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot") + i32(2) +
                     utf("com.example.Event") + i64(0x4F2C69A3D70LL) + i32(1) + utf("id") + std::string(1, '\x01') +
                     i32(static_cast<int32_t>(key.size())) + key + std::string(1, '\x01') +
                     i32(static_cast<int32_t>(lng.size())) + lng;
  for (int m = 0; m < 2; ++m) pojo += i64(0x4F2C69A3D70LL) + i32(0);
  fs::path dir = sample_with_value_serializer("pojo", pojo);
  EXPECT_TRUE(serializer_findings(dir).empty());
  fs::remove_all(dir);
}

TEST(LintSerializers, ScalaSerializersFail) {
  // ScalaOptionSerializerSnapshot<Long>: a composite snapshot (outer version 1, no outer payload).
  std::string scala = utf("org.apache.flink.api.scala.typeutils.ScalaOptionSerializerSnapshot") + i32(3) + i32(911108) +
                      i32(1) + i32(1333245) + i32(1) + i32(1) + utf(kLongSnapshot) + i32(3);
  fs::path dir = sample_with_value_serializer("scala", scala);
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
