// The value decoder (formats/state/value_decoder.cc) and its JSON form on
// hand-built bytes, for the serializers Flink's test snapshots do not use.
// The real-file tests are in dump_real_test.cc.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <limits>
#include <string>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/dump_json.h"
#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/state_value.h"

namespace {

using fsp::ByteReader;
using fsp::ByteWriter;
using fsp::state::SerializerNode;
using fsp::state::Value;

const std::string kBase = "org.apache.flink.api.common.typeutils.base.";

SerializerNode simple(const std::string& short_name) {
  SerializerNode n;
  n.class_name = kBase + short_name + "Serializer$" + short_name + "SerializerSnapshot";
  n.kind = "simple";
  return n;
}

std::string decode(const SerializerNode& n, const std::string& bytes, bool* at_end = nullptr) {
  ByteReader r(bytes);
  Value v;
  std::string why;
  if (!fsp::state::decode_value(n, r, v, &why)) return "FAIL: " + why;
  if (at_end) *at_end = r.at_end();
  std::string out;
  fsp::append_value_json(v, out);
  return out;
}

TEST(ValueDecoder, Primitives) {
  std::string b;
  ByteWriter w(b);
  w.i64(-5);
  EXPECT_EQ(decode(simple("Long"), b), "-5");
  b.clear();
  w.i32(0x3FF80000);  // 1.9375 as float
  EXPECT_EQ(decode(simple("Float"), b), "1.9375");
  b.clear();
  w.u16(0x00E9);
  EXPECT_EQ(decode(simple("Char"), b), "\"\xC3\xA9\"");
  EXPECT_EQ(decode(simple("Boolean"), std::string("\x01", 1)), "true");
  EXPECT_EQ(decode(simple("Long"), std::string("\x01", 1)).substr(0, 5), "FAIL:");  // bounded by the entry
}

TEST(ValueDecoder, StringsJoinSurrogatesAndEscapeLoneOnes) {
  // StringValue: length+1, then chars; U+1F600 as a surrogate pair, then a lone high surrogate and a quote.
  std::string b;
  ByteWriter w(b);
  w.u8(5);
  auto ch = [&](uint32_t c) {
    while (c >= 0x80) {
      w.u8(static_cast<uint8_t>(c | 0x80));
      c >>= 7;
    }
    w.u8(static_cast<uint8_t>(c));
  };
  ch(0xD83D);
  ch(0xDE00);
  ch(0xD800);
  ch('"');
  EXPECT_EQ(decode(simple("String"), b), "\"\xF0\x9F\x98\x80\\\\uD800\\\"\"");
  // A strict parser takes it (the fuzz finding was a lone surrogate escape nlohmann refused).
  EXPECT_TRUE(nlohmann::json::accept(decode(simple("String"), b)));
  EXPECT_EQ(decode(simple("String"), std::string("\x00", 1)), "null");
}

TEST(ValueDecoder, BigDecimalAndDates) {
  std::string b;
  ByteWriter w(b);
  w.i32(4 + 2);  // BigInteger bytes, offset by 4
  w.u8(0xFF);
  w.u8(0x85);  // -123
  w.i32(2);    // scale
  EXPECT_EQ(decode(simple("BigDec"), b), "-1.23");
  b.clear();
  w.i32(2024);
  w.u8(2);
  w.u8(29);
  EXPECT_EQ(decode(simple("LocalDate"), b), "\"2024-02-29\"");
  b.clear();
  w.i64(86400000LL * 365 + 1500);
  EXPECT_EQ(decode(simple("Date"), b), "\"1971-01-01T00:00:01.5Z\"");
}

// Fuzz finding (changelog_replay, CI rehearsal of session 6): a Date of
// Long.MIN_VALUE + 1 ms made millis - days * 86400000 overflow (UBSan). The
// extremes come out as java.time prints them (without its '+' for years
// beyond 9999).
TEST(ValueDecoder, DatesAtTheEndsOfTheLongRange) {
  std::string b;
  ByteWriter w(b);
  w.i64(std::numeric_limits<int64_t>::min() + 1);
  EXPECT_EQ(decode(simple("Date"), b), "\"-292275055-05-16T16:47:04.193Z\"");
  b.clear();
  w.i64(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(decode(simple("Date"), b), "\"292278994-08-17T07:12:55.807Z\"");
  b.clear();
  w.i64(std::numeric_limits<int64_t>::min() + 1);
  w.i32(5);
  EXPECT_EQ(decode(simple("SqlTimestamp"), b), "\"-292275055-05-16T16:47:04.000000005\"");
  b.clear();
  w.i64(-1);  // one millisecond before the epoch
  EXPECT_EQ(decode(simple("Date"), b), "\"1969-12-31T23:59:59.999Z\"");
}

TEST(ValueDecoder, PojoWithNullFieldAndEnum) {
  SerializerNode e;
  e.class_name = kBase + "EnumSerializer$EnumSerializerSnapshot";
  e.kind = "enum";
  e.constants = {"RED", "GREEN"};
  SerializerNode p;
  p.class_name = "org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot";
  p.kind = "pojo";
  p.child_names = {"color", "id"};
  p.children = {e, simple("Long")};
  std::string b;
  ByteWriter w(b);
  w.u8(2);  // NO_SUBCLASS
  w.boolean(false);
  w.i32(1);
  w.boolean(true);  // id is null
  bool end = false;
  EXPECT_EQ(decode(p, b, &end), "{\"color\":\"GREEN\",\"id\":null}");
  EXPECT_TRUE(end);
  EXPECT_EQ(decode(p, std::string("\x01", 1)), "null");
  b.assign("\x02\x00\x00\x00\x00\x07", 6);  // ordinal 7 of 2
  EXPECT_EQ(decode(p, b).substr(0, 5), "FAIL:");
}

TEST(ValueDecoder, BinaryRowDataFields) {
  SerializerNode row;
  row.class_name = "org.apache.flink.table.runtime.typeutils.RowDataSerializer$RowDataSerializerSnapshot";
  row.kind = "rowdata";
  SerializerNode str;
  str.class_name = "org.apache.flink.table.runtime.typeutils.StringDataSerializer$StringDataSerializerSnapshot";
  str.kind = "simple";
  row.children = {simple("Long"), str, str, simple("Int")};
  // Arity 4: 8 bytes of null bits (row kind in byte 0), 4 x 8 fixed bytes, then "hello world".
  std::string r(8 + 32, '\0');
  auto le64 = [&](size_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) r[at + i] = static_cast<char>(v >> (8 * i));
  };
  le64(8, 421);
  // field 1: inline "abc": bytes at the field, length 3 in the top byte with the mark bit.
  r[16] = 'a';
  r[17] = 'b';
  r[18] = 'c';
  r[23] = static_cast<char>(0x80 | 3);
  // field 2: offset 40, length 11.
  le64(24, (uint64_t(40) << 32) | 11);
  r += "hello world";
  r += std::string(5, '\0');
  r[0] = 0;                          // INSERT
  r[1] = static_cast<char>(1 << 3);  // field 3 (bit 8 + 3 = 11) is null
  std::string b;
  ByteWriter w(b);
  w.i32(static_cast<int32_t>(r.size()));
  w.bytes(r);
  EXPECT_EQ(decode(row, b), "{\"f0\":421,\"f1\":\"abc\",\"f2\":\"hello world\",\"f3\":null}");
}

TEST(ValueDecoder, KeyGroupAssignmentAsFlink) {
  // KeyGroupRangeAssignment.assignToKeyGroup for Long keys 0..3 under max parallelism 4 and 128,
  // and String "a" (hashCode 97), as Flink computes them.
  SerializerNode l = simple("Long");
  int32_t h = 0;
  ASSERT_TRUE(fsp::state::java_hash_code(l, Value::integer(3), &h));
  EXPECT_EQ(h, 3);
  ASSERT_TRUE(fsp::state::java_hash_code(simple("String"), Value::string("a"), &h));
  EXPECT_EQ(h, 97);
  ASSERT_TRUE(fsp::state::java_hash_code(l, Value::integer(1LL << 32), &h));
  EXPECT_EQ(h, 1);  // (int)(v ^ v >>> 32)
  // The groups Flink's StatefulJob snapshots store keys 0..3 in (max parallelism 4).
  auto kg = [](int64_t k) {
    return fsp::key_group_for_hash(static_cast<int32_t>(k ^ (static_cast<uint64_t>(k) >> 32)), 4);
  };
  EXPECT_EQ(kg(0), 2);
  EXPECT_EQ(kg(1), 2);
  EXPECT_EQ(kg(2), 3);
  EXPECT_EQ(kg(3), 1);
}

}  // namespace
