// The Java serialization reader (formats/java_serialization.cc): Flink's real
// CheckpointProperties trailers against Flink's own decoding of every file,
// hand-made streams for the grammar, and hostile input.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/json.h"
#include "test_support.h"

namespace fsp {
namespace {

using Kind = JavaValue::Kind;

const std::string kMagic("\xAC\xED\x00\x05", 4);

// The Java-serialized trailer of a v4+ _metadata, found without the metadata
// decoder: from the last AC ED 00 05 to the end of the file.
std::string trailer_of(const std::string& file) {
  size_t at = file.rfind(kMagic);
  return at == std::string::npos ? std::string() : file.substr(at);
}

std::filesystem::path flink_repo(const std::filesystem::path& shared) { return shared / "testdata" / "flink-repo"; }

// ---- a small writer for hand-made streams ----------------------------------

struct Field {
  char type;
  std::string name;
  std::string signature;  // object fields
};

class Stream {
 public:
  Stream() { b_ = kMagic; }
  Stream& u8(uint8_t v) { b_.push_back(static_cast<char>(v)); return *this; }
  Stream& u16(uint16_t v) { return u8(v >> 8).u8(v & 0xFF); }
  Stream& i32(int32_t v) { auto u = static_cast<uint32_t>(v); return u16(u >> 16).u16(u & 0xFFFF); }
  Stream& i64(int64_t v) { auto u = static_cast<uint64_t>(v); return i32(static_cast<int32_t>(u >> 32)).i32(static_cast<int32_t>(u)); }
  Stream& raw(std::string_view s) { b_.append(s); return *this; }
  Stream& utf(std::string_view s) { return u16(static_cast<uint16_t>(s.size())).raw(s); }
  Stream& str(std::string_view s) { return u8(0x74).utf(s); }          // TC_STRING
  Stream& ref(uint32_t handle) { return u8(0x71).i32(static_cast<int32_t>(0x7E0000 + handle)); }
  Stream& null() { return u8(0x70); }
  Stream& end_block() { return u8(0x78); }
  // TC_CLASSDESC name suid flags fields, empty annotation; the superclass follows (call null() or another desc).
  Stream& class_desc(std::string_view name, uint8_t flags, const std::vector<Field>& fields, int64_t suid = 1) {
    u8(0x72).utf(name).i64(suid).u8(flags).u16(static_cast<uint16_t>(fields.size()));
    for (const auto& f : fields) {
      u8(static_cast<uint8_t>(f.type)).utf(f.name);
      if (f.type == 'L' || f.type == '[') str(f.signature);
    }
    return end_block();
  }
  const std::string& bytes() const { return b_; }

 private:
  std::string b_;
};

constexpr uint8_t kSerializable = 0x02;
constexpr uint8_t kWriteMethod = 0x01;

// ---- real files --------------------------------------------------------------

TEST(JavaSerialization, SerializedNullMeansNoProperties) {
  const std::string null_stream = kMagic + "\x70";
  auto v = parse_java_object(null_stream);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->kind, Kind::kNull);
  SnapshotProperties p = parse_checkpoint_properties(null_stream, 100);
  EXPECT_FALSE(p.present);
  EXPECT_TRUE(p.parsed);
  EXPECT_TRUE(p.parse_error.empty());
}

TEST(JavaSerialization, NativeSavepointOfFlink120) {
  FSP_REQUIRE_SHARED(shared);
  auto file = test::read_file(flink_repo(shared) /
      "flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint-native/_metadata");
  std::string t = trailer_of(file);
  ASSERT_EQ(t.size(), 742u);
  SnapshotProperties p = parse_checkpoint_properties(t, file.size() - t.size());
  ASSERT_TRUE(p.parsed) << p.parse_error;
  EXPECT_TRUE(p.present);
  EXPECT_EQ(p.type_class, "SavepointType");
  EXPECT_TRUE(p.is_savepoint());
  EXPECT_EQ(p.name, "Savepoint");
  EXPECT_EQ(p.format_type, "NATIVE");
  EXPECT_EQ(p.post_checkpoint_action, "NONE");
  EXPECT_EQ(p.sharing_strategy, "");
  EXPECT_TRUE(p.forced);
  EXPECT_FALSE(p.discard_subsumed);
  EXPECT_FALSE(p.discard_finished);
  EXPECT_FALSE(p.discard_cancelled);
  EXPECT_FALSE(p.discard_failed);
  EXPECT_FALSE(p.discard_suspended);
  EXPECT_FALSE(p.unclaimed);

  // The generic tree, including values reached through back-references (the
  // java.lang.Enum descriptor of the second enum is a TC_REFERENCE).
  auto v = parse_java_object(t);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->kind, Kind::kObject);
  EXPECT_EQ(v->class_name, "org.apache.flink.runtime.checkpoint.CheckpointProperties");
  EXPECT_EQ(v->fields.size(), 8u);
  ASSERT_TRUE(v->fields.count("forced"));
  EXPECT_EQ(v->fields.at("forced").kind, Kind::kPrimitive);
  EXPECT_EQ(v->fields.at("forced").class_name, "boolean");
  EXPECT_EQ(v->fields.at("forced").text, "true");
  const JavaValue& type = v->fields.at("checkpointType");
  EXPECT_EQ(type.class_name, "org.apache.flink.runtime.checkpoint.SavepointType");
  ASSERT_EQ(type.fields.size(), 3u);
  EXPECT_EQ(type.fields.at("name").kind, Kind::kString);
  EXPECT_EQ(type.fields.at("formatType").kind, Kind::kEnum);
  EXPECT_EQ(type.fields.at("formatType").class_name, "org.apache.flink.core.execution.SavepointFormatType");
  EXPECT_EQ(type.fields.at("postCheckpointAction").class_name,
            "org.apache.flink.runtime.checkpoint.SavepointType$PostCheckpointAction");
  EXPECT_EQ(type.fields.at("postCheckpointAction").text, "NONE");
}

TEST(JavaSerialization, RetainedCheckpointOfFlink120) {
  FSP_REQUIRE_SHARED(shared);
  auto file = test::read_file(flink_repo(shared) /
      "flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint/_metadata");
  SnapshotProperties p = parse_checkpoint_properties(trailer_of(file));
  ASSERT_TRUE(p.parsed) << p.parse_error;
  EXPECT_EQ(p.type_class, "CheckpointType");
  EXPECT_FALSE(p.is_savepoint());
  EXPECT_EQ(p.name, "Checkpoint");
  EXPECT_EQ(p.sharing_strategy, "FORWARD_BACKWARD");
  EXPECT_EQ(p.format_type, "");
  EXPECT_EQ(p.post_checkpoint_action, "");
  EXPECT_FALSE(p.forced);
  EXPECT_TRUE(p.discard_subsumed && p.discard_finished && p.discard_cancelled && p.discard_failed &&
              p.discard_suspended);
  EXPECT_FALSE(p.unclaimed);
}

struct Counts {
  size_t compared = 0, nulls = 0, savepoints = 0, checkpoints = 0;
};

// Walks a FLINK_DECODING.jsonl and compares each v4+ file's trailer with
// Flink's decoding of its checkpointProperties.
void compare_with_flink_decoding(const std::filesystem::path& dir, Counts& n) {
  std::ifstream in(dir / "FLINK_DECODING.jsonl");
  ASSERT_TRUE(in) << (dir / "FLINK_DECODING.jsonl") << " is missing";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    if (!j.value("ok", true) || j.value("metadataVersion", 0) < 4) continue;
    const std::string rel = j.at("file").get<std::string>();
    SCOPED_TRACE(rel);
    auto file = test::read_file(dir / rel);
    ASSERT_FALSE(file.empty());
    std::string t = trailer_of(file);
    ASSERT_FALSE(t.empty()) << "no AC ED 00 05 in the file";
    SnapshotProperties p = parse_checkpoint_properties(t, file.size() - t.size());
    // The object ends exactly at the end of the file: without its last byte it is incomplete.
    EXPECT_FALSE(parse_java_object(std::string_view(t).substr(0, t.size() - 1)).ok());
    const auto& cp = j.at("checkpointProperties");
    ++n.compared;
    if (cp.is_null()) {
      EXPECT_FALSE(p.present);
      EXPECT_TRUE(p.parsed) << p.parse_error;
      ++n.nulls;
      continue;
    }
    ASSERT_TRUE(p.present);
    ASSERT_TRUE(p.parsed) << p.parse_error;
    EXPECT_EQ(cp.at("class").get<std::string>(), "CheckpointProperties");
    const auto& type = cp.at("checkpointType");
    EXPECT_EQ(p.type_class, type.at("class").get<std::string>());
    EXPECT_EQ(p.name, type.at("name").get<std::string>());
    EXPECT_EQ(p.is_savepoint(), type.at("isSavepoint").get<bool>());
    if (p.type_class == "SavepointType") {
      ++n.savepoints;
      EXPECT_EQ(p.format_type, type.at("formatType").get<std::string>());
      EXPECT_EQ(p.post_checkpoint_action, type.at("postCheckpointAction").get<std::string>());
      EXPECT_EQ(p.sharing_strategy, "");  // derived in Flink (always NO_SHARING), not a field
      EXPECT_EQ(type.at("sharingFilesStrategy").get<std::string>(), "NO_SHARING");
    } else {
      ++n.checkpoints;
      EXPECT_EQ(p.sharing_strategy, type.at("sharingFilesStrategy").get<std::string>());
      EXPECT_EQ(p.format_type, "");
      EXPECT_EQ(p.post_checkpoint_action, "");
    }
    EXPECT_EQ(p.forced, cp.at("forced").get<bool>());
    EXPECT_EQ(p.discard_subsumed, cp.at("discardSubsumed").get<bool>());
    EXPECT_EQ(p.discard_finished, cp.at("discardFinished").get<bool>());
    EXPECT_EQ(p.discard_cancelled, cp.at("discardCancelled").get<bool>());
    EXPECT_EQ(p.discard_failed, cp.at("discardFailed").get<bool>());
    EXPECT_EQ(p.discard_suspended, cp.at("discardSuspended").get<bool>());
    EXPECT_EQ(p.unclaimed, cp.at("unclaimed").get<bool>());
  }
}

// Every v4+ file of Flink's test resources against Flink's own decoding.
TEST(JavaSerialization, EveryTrailerMatchesFlinksDecoding) {
  FSP_REQUIRE_SHARED(shared);
  Counts n;
  compare_with_flink_decoding(flink_repo(shared), n);
  // 427 v4+ files when this was written: 426 with properties, 1 State Processor API null.
  EXPECT_GE(n.compared, 427u);
  EXPECT_GE(n.nulls, 1u);
  EXPECT_GT(n.savepoints, 0u);
  EXPECT_GT(n.checkpoints, 0u);
  std::cout << "[          ] compared " << n.compared << " trailers (" << n.savepoints << " SavepointType, "
            << n.checkpoints << " CheckpointType, " << n.nulls << " null)\n";
}

// The checkpoints written by Flink's own serializers (v4 to v6), one of them
// retained on cancellation (discardCancelled=false for a CheckpointType).
TEST(JavaSerialization, FlinkWrittenCheckpointsMatchFlinksDecoding) {
  FSP_REQUIRE_SHARED(shared);
  Counts n;
  compare_with_flink_decoding(shared / "testdata" / "flink-written", n);
  EXPECT_EQ(n.compared, 3u);
}

// ---- hostile input -------------------------------------------------------------

std::string sample_trailer(const std::filesystem::path& shared) {
  return trailer_of(test::read_file(flink_repo(shared) /
      "flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint-native/_metadata"));
}

TEST(JavaSerialization, EveryTruncationFailsCleanly) {
  FSP_REQUIRE_SHARED(shared);
  const std::string t = sample_trailer(shared);
  ASSERT_GT(t.size(), 100u);
  for (size_t n = 0; n < t.size(); ++n) {
    std::string cut = t.substr(0, n);  // own allocation, so ASan sees reads past it
    SnapshotProperties p = parse_checkpoint_properties(cut, 1000);
    EXPECT_TRUE(p.present) << n;
    EXPECT_FALSE(p.parsed) << n;
    EXPECT_FALSE(p.parse_error.empty()) << n;
    EXPECT_NE(p.parse_error.find("checkpoint properties"), std::string::npos) << n << ": " << p.parse_error;
    auto v = parse_java_object(cut, 1000);
    ASSERT_FALSE(v.ok()) << n;
    ASSERT_TRUE(v.error().offset.has_value()) << n;
    EXPECT_GE(*v.error().offset, 1000u) << n;
    EXPECT_LE(*v.error().offset, 1000u + n) << n;
  }
}

// A damaged trailer either parses into a checkpoint type Flink has (with no
// error) or is refused with an error that says it is the checkpoint properties
// (never both, never neither).
void expect_parsed_or_explained(const SnapshotProperties& p, size_t what) {
  if (p.parsed) {
    EXPECT_TRUE(p.parse_error.empty()) << what << ": " << p.parse_error;
    if (p.present) {
      EXPECT_TRUE(p.type_class == "CheckpointType" || p.type_class == "SavepointType") << what << ": " << p.type_class;
    } else {
      EXPECT_TRUE(p.type_class.empty()) << what << ": a serialized null has no type";
    }
  } else {
    EXPECT_TRUE(p.present) << what;
    EXPECT_NE(p.parse_error.find("checkpoint properties"), std::string::npos) << what << ": " << p.parse_error;
  }
}

TEST(JavaSerialization, BitFlipsAndByteChangesNeverCrash) {
  FSP_REQUIRE_SHARED(shared);
  const std::string t = sample_trailer(shared);
  std::mt19937_64 rng(20240601);
  size_t parsed = 0;
  // Every single-bit flip.
  for (size_t i = 0; i < t.size() * 8; ++i) {
    std::string m = t;
    m[i / 8] = static_cast<char>(m[i / 8] ^ (1 << (i % 8)));
    SnapshotProperties p = parse_checkpoint_properties(m);
    expect_parsed_or_explained(p, i);
    parsed += p.parsed;
  }
  // Random multi-byte damage.
  for (int round = 0; round < 20000; ++round) {
    std::string m = t;
    int changes = 1 + static_cast<int>(rng() % 8);
    for (int c = 0; c < changes; ++c) {
      size_t at = rng() % m.size();
      switch (rng() % 3) {
        case 0: m[at] = static_cast<char>(rng()); break;
        case 1: m[at] = static_cast<char>(0x70 + rng() % 16); break;  // a type code
        default: m[at] = static_cast<char>(0x7E); break;              // handle prefix / TC_ENUM
      }
    }
    if (rng() % 4 == 0) m.resize(rng() % m.size());
    SnapshotProperties p = parse_checkpoint_properties(m);
    expect_parsed_or_explained(p, static_cast<size_t>(round));
    // The properties parse exactly when the generic object parser accepts the stream.
    auto v = parse_java_object(m);
    if (!v.ok()) {
      EXPECT_FALSE(p.parsed) << round;
      EXPECT_TRUE(v.error().offset.has_value()) << round << ": " << v.error().to_string();
    }
  }
  std::cout << "[          ] " << parsed << " of " << t.size() * 8 << " single-bit flips still parse\n";
  // Deterministic (every flip of one real trailer): a change means the parser accepts or refuses other streams now.
  EXPECT_EQ(parsed, 3869u);
}

// [[[...[null]...]]]: nested Object[] arrays, each of one element.
std::string nested_arrays(int levels) {
  Stream s;
  s.u8(0x75).class_desc("[Ljava.lang.Object;", kSerializable, {}, 0).null().i32(1);  // handle 0: desc, 1: array
  for (int i = 1; i < levels; ++i) s.u8(0x75).ref(0).i32(1);
  s.null();
  return s.bytes();
}

TEST(JavaSerialization, NestingDepthIsCapped) {
  auto ok = parse_java_object(nested_arrays(30));
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  const JavaValue* v = &*ok;
  int depth = 0;
  while (v->kind == Kind::kArray) {
    ASSERT_EQ(v->elements.size(), 1u);
    EXPECT_EQ(v->class_name, "[Ljava.lang.Object;");
    v = &v->elements[0];
    ++depth;
  }
  EXPECT_EQ(depth, 30);
  EXPECT_EQ(v->kind, Kind::kNull);

  for (int levels : {100, 100000}) {
    auto deep = parse_java_object(nested_arrays(levels));
    ASSERT_FALSE(deep.ok()) << levels;
    EXPECT_NE(deep.error().message.find("nesting too deep"), std::string::npos) << deep.error().to_string();
  }
  SnapshotProperties p = parse_checkpoint_properties(nested_arrays(1000));
  EXPECT_FALSE(p.parsed);
  EXPECT_NE(p.parse_error.find("nesting too deep"), std::string::npos);
}

TEST(JavaSerialization, ReferencesCannotBuildHugeTrees) {
  // a0 = 1000 x "x"; a1 = 1000 x a0; a2 = 1000 x a1: a billion strings from ~15 KB.
  Stream s;
  s.u8(0x75).class_desc("[Ljava.lang.Object;", kSerializable, {}, 0).null().i32(3);  // 0 desc, 1 outer
  s.u8(0x75).ref(0).i32(1000).str("x");                                            // 2 a0, 3 "x"
  for (int i = 1; i < 1000; ++i) s.ref(3);
  s.u8(0x75).ref(0).i32(1000);                                                     // 4 a1
  for (int i = 0; i < 1000; ++i) s.ref(2);
  s.u8(0x75).ref(0).i32(1000);                                                     // 5 a2
  for (int i = 0; i < 1000; ++i) s.ref(4);
  auto start = std::chrono::steady_clock::now();
  auto v = parse_java_object(s.bytes());
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("too large"), std::string::npos) << v.error().to_string();
  EXPECT_LT(secs, 20.0);
}

TEST(JavaSerialization, HugeCountsAreRejectedBeforeAllocating) {
  Stream arr;
  arr.u8(0x75).class_desc("[J", kSerializable, {}, 0).null().i32(0x7FFFFFFF).i64(1);
  auto v = parse_java_object(arr.bytes());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("array elements"), std::string::npos) << v.error().to_string();

  Stream neg;
  neg.u8(0x75).class_desc("[I", kSerializable, {}, 0).null().i32(-1);
  EXPECT_TRUE((test::is_error(parse_java_object(neg.bytes()), ErrorKind::kData, {"array elements", "at byte"})));

  Stream longstr;
  longstr.u8(0x7C).i64(int64_t{1} << 62).raw("abc");
  EXPECT_TRUE((test::is_error(parse_java_object(longstr.bytes()), ErrorKind::kData, {"long string length", "at byte"})));

  Stream block;  // an object with a write method whose block data claims 2 GB
  block.u8(0x73).class_desc("A", kSerializable | kWriteMethod, {}).null().u8(0x7A).i32(0x7FFFFFF0).raw("zz");
  EXPECT_TRUE((test::is_error(parse_java_object(block.bytes()), ErrorKind::kData, {"block data", "at byte"})));

  Stream fields;
  fields.u8(0x73).u8(0x72).utf("A").i64(1).u8(kSerializable).u16(0x7FFF).u8('I');
  EXPECT_TRUE(test::is_error(parse_java_object(fields.bytes()), ErrorKind::kData, {"class A: invalid field count 32767"}));
}

TEST(JavaSerialization, BadReferencesAndCycles) {
  Stream dangling;  // reference to a handle never assigned
  dangling.ref(5);
  auto v = parse_java_object(dangling.bytes(), 40);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("0x7E0005"), std::string::npos) << v.error().to_string();
  EXPECT_EQ(v.error().offset, 40u + 5);  // the handle's own 4 bytes
  EXPECT_EQ(v.error().where, "checkpoint properties");

  Stream below_base;
  below_base.u8(0x71).i32(0x10);
  EXPECT_TRUE((test::is_error(parse_java_object(below_base.bytes()), ErrorKind::kData, {"invalid back-reference", "at byte"})));

  Stream self_super;  // a class descriptor that is its own superclass
  self_super.u8(0x73).u8(0x72).utf("A").i64(1).u8(kSerializable).u16(0).end_block().ref(0);
  v = parse_java_object(self_super.bytes());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("refers to itself"), std::string::npos) << v.error().to_string();

  Stream wrong_kind;  // a string where a class descriptor must be
  wrong_kind.u8(0x75).class_desc("[Ljava.lang.Object;", kSerializable, {}, 0).null().i32(2);  // 0 desc, 1 array
  wrong_kind.str("A").u8(0x73).ref(2);
  EXPECT_TRUE(test::is_error(parse_java_object(wrong_kind.bytes()), ErrorKind::kData,
                             {"where a class descriptor is expected does not point to one"}));

  // An object whose field points back at itself: the cycle is cut, not followed.
  Stream cyclic;
  cyclic.u8(0x73).class_desc("Node", kSerializable, {{'L', "next", "LNode;"}}).null().ref(2);  // 0 desc, 1 sig, 2 obj
  v = parse_java_object(cyclic.bytes());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->class_name, "Node");
  EXPECT_EQ(v->fields.at("next").kind, Kind::kOther);
  EXPECT_EQ(v->fields.at("next").class_name, "Node");
}

TEST(JavaSerialization, ResetIsOnlyAllowedBetweenObjects) {
  Stream top;  // TC_RESET before the object clears the (empty) handle table
  top.u8(0x79).u8(0x79).str("after reset");
  auto v = parse_java_object(top.bytes());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->text, "after reset");

  Stream nested;
  nested.u8(0x75).class_desc("[Ljava.lang.Object;", kSerializable, {}, 0).null().i32(1).u8(0x79).null();
  v = parse_java_object(nested.bytes());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("TC_RESET"), std::string::npos);
}

TEST(JavaSerialization, ObjectsWithEveryFieldKind) {
  // class Base { int a; String s; }  class Sub extends Base { byte b; char c; double d; float f;
  //   long j; short h; boolean z; int[] arr; String s2 (same string again); E e; }
  Stream t;
  t.u8(0x73);
  t.u8(0x72).utf("com.example.Sub").i64(1).u8(kSerializable | kWriteMethod).u16(11);
  t.u8('B').utf("b").u8('C').utf("c").u8('D').utf("d").u8('F').utf("f").u8('J').utf("j").u8('S').utf("h");
  t.u8('Z').utf("z");
  t.u8('[').utf("arr").str("[I");                        // 1
  t.u8('L').utf("e").str("Lcom/example/E;");             // 2
  t.u8('L').utf("s").str("Ljava/lang/String;");          // 3
  t.u8('L').utf("s2").ref(3);
  t.end_block();
  t.u8(0x72).utf("com.example.Base").i64(7).u8(kSerializable).u16(2);  // 4
  t.u8('I').utf("a").u8('L').utf("s").ref(3).end_block().null();
  // handle 5: the object. Base's values first: a = -5, s = "base\xC0\x80nul" (modified UTF-8 NUL)
  t.i32(-5).str(std::string("base\xC0\x80nul", 9));      // 6
  // Sub's values
  t.u8(0xFF).u16(0x00E9).i64(0x400921FB54442D18).i32(0x3FC00000).i64(-1234567890123).u16(0x8000).u8(1);
  t.u8(0x75).class_desc("[I", kSerializable, {}, 0).null().i32(3).i32(1).i32(-2).i32(3);  // 7 desc, 8 array
  t.u8(0x7E).class_desc("com.example.E", 0x12, {}, 0)                                      // 9
      .class_desc("java.lang.Enum", 0x12, {}, 0).null()                                    // 10
      .str("SECOND");                                                                       // 11 enum, 12 name
  t.str(std::string("\xED\xA0\xBD\xED\xB8\x80!", 7));    // 13: U+1F600 as a surrogate pair, then "!"
  t.ref(6);                                               // s2: the base string again
  // Sub's writeObject data: block data and an object, then the end marker.
  t.u8(0x77).u8(3).raw("xyz").u8(0x7C).i64(4).raw("long").end_block();

  auto v = parse_java_object(t.bytes());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->kind, Kind::kObject);
  EXPECT_EQ(v->class_name, "com.example.Sub");
  const auto& f = v->fields;
  ASSERT_EQ(f.size(), 13u);
  EXPECT_EQ(f.at("a").text, "-5");
  EXPECT_EQ(f.at("a").class_name, "int");
  EXPECT_EQ(f.at("Sub.s").text, std::string("\xF0\x9F\x98\x80!"));  // shadows Base.s
  EXPECT_EQ(f.at("s").text, std::string("base\0nul", 8));
  EXPECT_EQ(f.at("b").text, "-1");
  EXPECT_EQ(f.at("c").text, "\xC3\xA9");
  EXPECT_EQ(f.at("d").text.substr(0, 7), "3.14159");
  EXPECT_EQ(f.at("f").text, "1.5");
  EXPECT_EQ(f.at("j").text, "-1234567890123");
  EXPECT_EQ(f.at("h").text, "-32768");
  EXPECT_EQ(f.at("z").text, "true");
  const JavaValue& arr = f.at("arr");
  EXPECT_EQ(arr.kind, Kind::kArray);
  EXPECT_EQ(arr.class_name, "[I");
  ASSERT_EQ(arr.elements.size(), 3u);
  EXPECT_EQ(arr.elements[1].text, "-2");
  EXPECT_EQ(f.at("e").kind, Kind::kEnum);
  EXPECT_EQ(f.at("e").class_name, "com.example.E");
  EXPECT_EQ(f.at("e").text, "SECOND");
  EXPECT_EQ(f.at("s2").text, f.at("s").text);
  // The writeObject annotation.
  ASSERT_EQ(v->elements.size(), 2u);
  EXPECT_EQ(v->elements[0].text, "xyz");
  EXPECT_EQ(v->elements[1].kind, Kind::kString);
  EXPECT_EQ(v->elements[1].text, "long");

  // Not CheckpointProperties: understood as Java, but not as properties.
  SnapshotProperties p = parse_checkpoint_properties(t.bytes(), 9);
  EXPECT_TRUE(p.present);
  EXPECT_FALSE(p.parsed);
  EXPECT_NE(p.parse_error.find("com.example.Sub"), std::string::npos) << p.parse_error;
}

TEST(JavaSerialization, UnsupportedAndInvalidConstructs) {
  Stream ext;  // externalizable, protocol version 1 (no block data)
  ext.u8(0x73).class_desc("Ext", 0x04, {}).null().raw("????");
  auto v = parse_java_object(ext.bytes());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("unsupported"), std::string::npos);

  Stream ext2;  // externalizable with block data: read up to the end marker
  ext2.u8(0x73).class_desc("Ext", 0x0C, {}).null().u8(0x77).u8(2).raw("ab").end_block();
  v = parse_java_object(ext2.bytes());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->class_name, "Ext");

  Stream proxy;  // a dynamic proxy whose handler field is null
  proxy.u8(0x73).u8(0x7D).i32(1).utf("java.lang.Runnable").end_block();
  proxy.class_desc("java.lang.reflect.Proxy", kSerializable, {{'L', "h", "Ljava/lang/reflect/InvocationHandler;"}})
      .null();
  proxy.null();
  v = parse_java_object(proxy.bytes());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_TRUE(v->fields.count("h"));

  Stream cls;
  cls.u8(0x76).class_desc("java.lang.String", kSerializable, {}).null();
  v = parse_java_object(cls.bytes());
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_EQ(v->class_name, "java.lang.Class");
  EXPECT_EQ(v->text, "java.lang.String");

  // Each with its kind: a construct this reader does not take is unsupported,
  // a stream that ends early is truncated, anything else corrupt.
  struct Bad {
    std::string_view bytes;
    ErrorKind kind;
    const char* says;
  };
  for (const Bad& b : {Bad{"\x7B", ErrorKind::kUnsupported, "TC_EXCEPTION"},
                       Bad{"\x78", ErrorKind::kCorrupt, "TC_ENDBLOCKDATA where an object is expected"},
                       Bad{"\x77\x01x", ErrorKind::kCorrupt, "block data where an object is expected"},
                       Bad{"\x60", ErrorKind::kCorrupt, "invalid type code 0x60"},
                       Bad{"", ErrorKind::kTruncated, "at byte 4"}}) {
    Stream s;
    s.raw(b.bytes);
    EXPECT_TRUE(test::is_error(parse_java_object(s.bytes()), b.kind, {b.says}))
        << "type code " << (b.bytes.empty() ? -1 : int(uint8_t(b.bytes[0])));
  }
  EXPECT_TRUE(test::is_error(parse_java_object(std::string("\xAC\xED\x00\x06\x70", 5)), ErrorKind::kData,
                             {"unsupported Java serialization stream version 6"}));
  EXPECT_TRUE(test::is_error(parse_java_object(std::string("\xAC\xEE\x00\x05\x70", 5)), ErrorKind::kData,
                             {"not a Java serialization stream: expected magic AC ED"}));

  Stream bad_field;  // field type code 'X'
  bad_field.u8(0x73).u8(0x72).utf("A").i64(1).u8(kSerializable).u16(1).u8('X').utf("x").end_block().null();
  EXPECT_TRUE((test::is_error(parse_java_object(bad_field.bytes()), ErrorKind::kData, {"class A, field x: illegal field type code"})));

  Stream bad_sig;  // object field with a primitive signature
  bad_sig.u8(0x73).u8(0x72).utf("A").i64(1).u8(kSerializable).u16(1).u8('L').utf("x").str("I").end_block().null();
  EXPECT_TRUE((test::is_error(parse_java_object(bad_sig.bytes()), ErrorKind::kData, {"class A, field x: illegal type signature"})));

  Stream not_enum;  // TC_ENUM with a class that is not an enum
  not_enum.u8(0x7E).class_desc("A", kSerializable, {}).null().str("X");
  EXPECT_TRUE(test::is_error(parse_java_object(not_enum.bytes()), ErrorKind::kData, {"enum constant of a non-enum class A"}));
}

TEST(JavaSerialization, PropertiesWithUnexpectedShapes) {
  // A CheckpointProperties whose checkpointType is null, and one of an unknown class.
  auto props = [](bool null_type) {
    Stream s;
    s.u8(0x73).class_desc("org.apache.flink.runtime.checkpoint.CheckpointProperties", kSerializable,
                          {{'Z', "forced", ""}, {'L', "checkpointType", "Lorg/apache/flink/runtime/checkpoint/SnapshotType;"}})
        .null();
    s.u8(1);
    if (null_type) {
      s.null();
    } else {
      s.u8(0x73).class_desc("com.example.OtherType", kSerializable, {}).null();
    }
    return s.bytes();
  };
  SnapshotProperties p = parse_checkpoint_properties(props(true), 77);
  EXPECT_TRUE(p.present);
  EXPECT_FALSE(p.parsed);
  EXPECT_NE(p.parse_error.find("checkpointType is null"), std::string::npos) << p.parse_error;
  EXPECT_NE(p.parse_error.find("at byte 77"), std::string::npos) << p.parse_error;
  EXPECT_FALSE(p.forced);  // nothing half-filled on failure
  p = parse_checkpoint_properties(props(false));
  EXPECT_FALSE(p.parsed);
  EXPECT_NE(p.parse_error.find("com.example.OtherType"), std::string::npos) << p.parse_error;
}

}  // namespace
}  // namespace fsp
