// Avro values through a writer schema (formats/state/avro_value.cc), on bytes
// laid out the way Flink's AvroSerializer writes them with its
// DataOutputEncoder: int, long, float, double, enum and union indexes as
// big-endian DataOutput values; strings and bytes as an int length and the
// bytes; arrays and maps as blocks of (unsigned varint count, items) ended by a
// 0 count. Bytes and fixed print as a base64 string (docs/dump.md). The real-file test (two Avro states of table-state-avro) is in
// dump_real_test.cc; this one covers every schema construct it does not use.
#include <gtest/gtest.h>

#include <string>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/dump_json.h"
#include "flink_savepoint/state_internal.h"
#include "flink_savepoint/state_value.h"

namespace {

using fsp::ByteReader;
using fsp::ByteWriter;
using fsp::state::SerializerNode;
using fsp::state::Value;

SerializerNode avro(const std::string& schema) {
  SerializerNode n;
  n.class_name = "org.apache.flink.formats.avro.typeutils.AvroSerializerSnapshot";
  n.kind = "avro";
  n.detail = "com.example.Event";
  n.schema = schema;
  return n;
}

// "OK <json>" or "FAIL <why>"; *rest = bytes left unread.
std::string decode(const SerializerNode& n, const std::string& bytes, size_t* rest = nullptr) {
  ByteReader r(bytes);
  Value v;
  std::string why;
  if (!fsp::state::decode_avro_value(n, r, v, &why)) return "FAIL " + why;
  if (rest) *rest = r.remaining();
  std::string out;
  fsp::append_value_json(v, out);
  return "OK " + out;
}

void str(ByteWriter& w, const std::string& s) {
  w.i32(static_cast<int32_t>(s.size()));
  w.bytes(s);
}

const char* kEvent = R"({
  "type": "record", "name": "Event", "namespace": "com.example",
  "fields": [
    {"name": "id", "type": "long"},
    {"name": "n", "type": "int"},
    {"name": "ok", "type": "boolean"},
    {"name": "ratio", "type": "float"},
    {"name": "score", "type": "double"},
    {"name": "name", "type": "string"},
    {"name": "raw", "type": "bytes"},
    {"name": "none", "type": "null"},
    {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
    {"name": "maybe", "type": ["null", "string"]},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "long"}},
    {"name": "md5", "type": {"type": "fixed", "name": "MD5", "size": 2}},
    {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [{"name": "c", "type": "Color"}]}},
    {"name": "again", "type": "com.example.Inner"}
  ]})";

std::string event_bytes() {
  std::string b;
  ByteWriter w(b);
  w.i64(-7);             // id
  w.i32(42);             // n
  w.u8(1);               // ok
  w.i32(0x3FC00000);     // ratio 1.5f
  w.i64(0x4004000000000000LL);  // score 2.5
  str(w, "caf\xC3\xA9");        // name (UTF-8)
  str(w, std::string("\x00\xFF", 2));  // raw
  // none: nothing
  w.i32(2);              // color BLUE
  w.i32(1);              // maybe: branch 1 (string)
  str(w, "x");
  w.u8(2);               // tags: a block of 2
  str(w, "a");
  str(w, "b");
  w.u8(1);               // then a block of 1
  str(w, "c");
  w.u8(0);               // end of the array
  w.u8(1);               // attrs: one entry
  str(w, "k");
  w.i64(300);
  w.u8(0);
  w.bytes(std::string("\xAB\xCD", 2));  // md5
  w.i32(0);              // inner.c RED
  w.i32(1);              // again.c GREEN (by full name of a type defined earlier)
  return b;
}

TEST(AvroValue, EveryConstructOfAWriterSchema) {
  size_t rest = 99;
  EXPECT_EQ(decode(avro(kEvent), event_bytes(), &rest),
            "OK {\"id\":-7,\"n\":42,\"ok\":true,\"ratio\":1.5,\"score\":2.5,\"name\":\"caf\xC3\xA9\","
            "\"raw\":\"AP8=\",\"none\":null,\"color\":\"BLUE\",\"maybe\":\"x\","
            "\"tags\":[\"a\",\"b\",\"c\"],\"attrs\":{\"k\":300},\"md5\":\"q80=\","
            "\"inner\":{\"c\":\"RED\"},\"again\":{\"c\":\"GREEN\"}}");
  EXPECT_EQ(rest, 0u);
}

TEST(AvroValue, UnionNullBranchAndShortNames) {
  // A union's null branch reads nothing; a named type is found by its short name too.
  const char* schema = R"({"type":"record","name":"R","namespace":"a.b","fields":[
      {"name":"u","type":["null","long"]},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"]}},
      {"name":"f","type":"E"}]})";
  std::string b;
  ByteWriter w(b);
  w.i32(0);
  w.i32(1);
  w.i32(0);
  EXPECT_EQ(decode(avro(schema), b), "OK {\"u\":null,\"e\":\"Y\",\"f\":\"X\"}");
}

TEST(AvroValue, BadBytesAndBadSchemasFailWithAReason) {
  const std::string ev = event_bytes();
  // Every cut of a valid value fails (never reads past the end, never crashes).
  for (size_t cut = 0; cut < ev.size(); ++cut) {
    std::string r = decode(avro(kEvent), ev.substr(0, cut));
    EXPECT_EQ(r.substr(0, 5), "FAIL ") << "cut at " << cut << ": " << r;
  }
  std::string b;
  ByteWriter w(b);
  w.i32(2);
  EXPECT_EQ(decode(avro(R"(["null","long"])"), b), "FAIL Avro: union branch 2 out of range");
  EXPECT_EQ(decode(avro(R"({"type":"enum","name":"E","symbols":["A"]})"), b), "FAIL Avro: enum index out of range");
  EXPECT_EQ(decode(avro(R"("com.example.Missing")"), b), "FAIL Avro: unknown type com.example.Missing");
  EXPECT_EQ(decode(avro(R"({"type":"record","name":"R"})"), b), "FAIL Avro: record without fields");
  EXPECT_EQ(decode(avro(R"({"type":"array"})"), b), "FAIL Avro: array without element type");
  EXPECT_EQ(decode(avro(R"({"type":"fixed","name":"F"})"), b), "FAIL Avro: bad fixed size");
  EXPECT_EQ(decode(avro("{not json"), b), "FAIL Avro writer schema is not JSON");
  EXPECT_EQ(decode(avro(""), b), "FAIL Avro serializer snapshot without a writer schema");
  // A block count whose varint never ends.
  std::string c(10, '\xFF');
  EXPECT_EQ(decode(avro(R"({"type":"array","items":"int"})"), c), "FAIL Avro: count varint longer than 9 bytes");
  // A block count larger than the bytes left is refused before reading items.
  std::string big;
  ByteWriter bw(big);
  bw.u8(0x7F);  // 127 items of at least one byte each, in 1 byte
  EXPECT_EQ(decode(avro(R"({"type":"map","values":"null"})"), big).substr(0, 5), "FAIL ");
}

TEST(AvroValue, SchemaNestingIsBounded) {
  // An array of arrays of ... deeper than the value depth bound: refused, not a stack overflow.
  std::string schema = "\"int\"";
  for (int i = 0; i < 200; ++i) schema = "{\"type\":\"array\",\"items\":" + schema + "}";
  std::string b(200, '\x01');
  std::string r = decode(avro(schema), b);
  EXPECT_EQ(r.substr(0, 5), "FAIL ") << r;
}

TEST(AvroValue, SchemaFullNameFollowsAvrosNamingRule) {
  using fsp::state::avro_schema_full_name;
  // Flink's own Address record (GROUND_TRUTH 2.7's Avro state).
  EXPECT_EQ(avro_schema_full_name(R"({"type":"record","name":"Address","namespace":"org.apache.flink.avro.generated",)"
                                  R"("fields":[{"name":"num","type":"int"}]})"),
            "org.apache.flink.avro.generated.Address");
  // A name with a dot is already full; a namespace beside it does not count.
  EXPECT_EQ(avro_schema_full_name(R"({"type":"record","name":"a.b.R","namespace":"x","fields":[]})"), "a.b.R");
  // The top-level record has no namespace; a nested record's namespace and
  // its field names are not the top-level's (a text search finds them first).
  EXPECT_EQ(avro_schema_full_name(R"({"fields":[{"name":"inner","type":{"type":"record","name":"In",)"
                                  R"("namespace":"deep","fields":[]}}],"type":"record","name":"Outer"})"),
            "Outer");
  EXPECT_EQ(avro_schema_full_name(R"({"type":"enum","name":"Color","namespace":"com.example","symbols":["RED"]})"),
            "com.example.Color");
  // Nothing named, or not JSON: empty.
  EXPECT_EQ(avro_schema_full_name(R"("string")"), "");
  EXPECT_EQ(avro_schema_full_name(R"({"type":"record","name":7})"), "");
  EXPECT_EQ(avro_schema_full_name("{not json"), "");
}

}  // namespace
