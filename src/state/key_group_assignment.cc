// KeyGroupRangeAssignment and Java hashCode() of keys, serialized or decoded. The
// formulas follow Flink's KeyGroupRangeAssignment, MathUtils.murmurHash,
// the JDK's hashCode() definitions, Tuple.hashCode and BinarySection.hashCode
// (MurmurHashUtil.hashBytesByWords, seed 42); tests/key_group_test.cc checks
// them against the key groups Flink stored real keys under.
#include <cstring>

#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/state_internal.h"
#include "flink_savepoint/state_value.h"

namespace fsp {
namespace {

// The JDK's hashCode() of the boxed primitives whose formula is not the value itself.
int32_t long_hash(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v ^ (v >> 32))); }
int32_t boolean_hash(bool b) { return b ? 1231 : 1237; }
int32_t double_hash(double d) {
  uint64_t bits = 0x7ff8000000000000ULL;  // Double.doubleToLongBits: canonical NaN
  if (d == d) std::memcpy(&bits, &d, 8);
  return long_hash(bits);
}
int32_t float_hash(float f) {
  uint32_t bits = 0x7fc00000u;  // Float.floatToIntBits: canonical NaN
  if (f == f) std::memcpy(&bits, &f, 4);
  return static_cast<int32_t>(bits);
}
// Tuple.hashCode and String.hashCode: h = 31 * h + next, from 0.
uint32_t hash_step(uint32_t h, int32_t next) { return 31 * h + static_cast<uint32_t>(next); }

// String.hashCode of a decoded string (UTF-8, lone surrogates in their 3-byte
// form), over the UTF-16 code units it stands for.
int32_t utf8_string_hash(std::string_view s) {
  uint32_t h = 0;
  for (size_t i = 0; i < s.size();) {
    uint8_t b = static_cast<uint8_t>(s[i]);
    uint32_t c = b;
    size_t n = 1;
    if (b >= 0xF0 && i + 3 < s.size()) {
      n = 4;
      c = ((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
    } else if (b >= 0xE0 && i + 2 < s.size()) {
      n = 3;
      c = ((b & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
    } else if (b >= 0xC0 && i + 1 < s.size()) {
      n = 2;
      c = ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
    }
    if (c >= 0x10000) {
      c -= 0x10000;
      h = hash_step(h, static_cast<int32_t>(0xD800 + (c >> 10)));
      h = hash_step(h, static_cast<int32_t>(0xDC00 + (c & 0x3FF)));
    } else {
      h = hash_step(h, static_cast<int32_t>(c & 0xFFFF));
    }
    i += n;
  }
  return static_cast<int32_t>(h);
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

using Kind = JavaKeyHasher::Kind;

std::optional<int32_t> hash_node(const JavaKeyHasher::Node& n, ByteReader& r, int depth) {
  if (depth > state::kMaxSnapshotDepth) {
    r.fail("key type nested too deeply");
    return std::nullopt;
  }
  std::optional<int32_t> out;
  switch (n.kind) {
    case Kind::kLong: out = long_hash(static_cast<uint64_t>(r.i64())); break;
    case Kind::kInt: out = r.i32(); break;
    case Kind::kShort: out = static_cast<int32_t>(r.i16()); break;
    case Kind::kByte: out = static_cast<int32_t>(r.i8()); break;
    case Kind::kChar: out = static_cast<int32_t>(r.u16()); break;
    case Kind::kBoolean: out = boolean_hash(r.u8() != 0); break;
    case Kind::kDouble: {
      uint64_t bits = static_cast<uint64_t>(r.i64());
      double d;
      std::memcpy(&d, &bits, 8);
      out = double_hash(d);
      break;
    }
    case Kind::kFloat: {
      uint32_t bits = static_cast<uint32_t>(r.i32());
      float f;
      std::memcpy(&f, &bits, 4);
      out = float_hash(f);
      break;
    }
    case Kind::kString: {
      uint32_t len = 0;
      if (!state::read_string_value_varint(r, len)) return std::nullopt;
      if (len == 0) {
        r.fail("null String key");
        return std::nullopt;
      }
      --len;
      if (!r.check_count(len, 1, "String key chars")) return std::nullopt;
      uint32_t h = 0;
      for (uint32_t i = 0; i < len; ++i) {
        uint32_t c = 0;
        if (!state::read_string_value_varint(r, c)) return std::nullopt;
        h = hash_step(h, static_cast<int32_t>(c & 0xFFFF));  // a Java char: one UTF-16 code unit
      }
      out = static_cast<int32_t>(h);
      break;
    }
    case Kind::kTuple: {
      uint32_t h = 0;
      for (auto& f : n.fields) {
        auto fh = hash_node(f, r, depth + 1);
        if (!fh) return std::nullopt;
        h = hash_step(h, *fh);
      }
      out = static_cast<int32_t>(h);
      break;
    }
    case Kind::kRowData: {
      int32_t size = r.i32();
      if (!r.check_count(size, 1, "BinaryRowData bytes")) return std::nullopt;
      if (size % 4 != 0) {
        r.fail("BinaryRowData key of " + std::to_string(size) + " bytes is not word aligned");
        return std::nullopt;
      }
      std::string_view b = r.bytes(static_cast<size_t>(size), "BinaryRowData bytes");
      if (!r.ok()) return std::nullopt;
      // Word-aligned, so hashBytesByWords is MurmurHash3_x86_32 over the bytes (MemorySegment.getInt
      // reads native order, little-endian on the machines Flink runs on).
      out = static_cast<int32_t>(murmur3_x86_32(b, 42));
      break;
    }
  }
  if (!r.ok()) return std::nullopt;
  return out;
}

// The same hashCode() over a decoded key; nullopt when the value does not
// have the shape of the key type. A null (a tuple field) hashes to 0.
std::optional<int32_t> hash_value(const JavaKeyHasher::Node& n, const state::Value& v) {
  using T = state::Value::Type;
  if (v.is_null()) return 0;
  switch (n.kind) {
    case Kind::kLong:
      if (v.type == T::kInt) return long_hash(static_cast<uint64_t>(v.i));
      break;
    case Kind::kInt:
    case Kind::kShort:
    case Kind::kByte:
      if (v.type == T::kInt) return static_cast<int32_t>(v.i);
      break;
    case Kind::kBoolean:
      if (v.type == T::kBool) return boolean_hash(v.b);
      break;
    case Kind::kChar:
    case Kind::kString:
      if (v.type == T::kString) return utf8_string_hash(v.s);
      break;
    case Kind::kDouble:
      if (v.type == T::kDouble) return double_hash(v.d);
      break;
    case Kind::kFloat:
      if (v.type == T::kDouble) return float_hash(static_cast<float>(v.d));
      break;
    case Kind::kTuple: {
      if (v.type != T::kObject || v.items.size() != n.fields.size()) break;
      uint32_t h = 0;
      for (size_t i = 0; i < n.fields.size(); ++i) {
        auto fh = hash_value(n.fields[i], v.items[i]);
        if (!fh) return std::nullopt;
        h = hash_step(h, *fh);
      }
      return static_cast<int32_t>(h);
    }
    case Kind::kRowData:
      break;  // BinaryRowData.hashCode is over the serialized row, not its decoded fields
  }
  return std::nullopt;
}

Result<JavaKeyHasher::Node> build(const state::SerializerNode& s, std::string& type, int depth) {
  auto refuse = [&](const std::string& why) -> Error {
    return Error::usage("key serializer " + (s.class_name.empty() ? std::string("(unknown)") : s.class_name) +
                        " (" + s.readable() + ") " + why);
  };
  if (depth > state::kMaxSnapshotDepth) return refuse("is nested too deeply");
  JavaKeyHasher::Node n;
  if (!starts_with(s.class_name, "org.apache.flink.")) return refuse("is not one whose key hashCode() can be recomputed");
  std::string t = state::short_type_name(s.class_name);
  if (s.kind == "simple") {
    static const std::pair<const char*, Kind> kSimple[] = {
        {"Long", Kind::kLong},     {"Int", Kind::kInt},       {"Short", Kind::kShort},   {"Byte", Kind::kByte},
        {"Boolean", Kind::kBoolean}, {"Char", Kind::kChar},   {"Double", Kind::kDouble}, {"Float", Kind::kFloat},
        {"String", Kind::kString}};
    for (auto& [name, kind] : kSimple)
      if (t == name && starts_with(s.class_name, "org.apache.flink.api.common.typeutils.base.")) {
        n.kind = kind;
        type += t;
        return n;
      }
    return refuse("is not one whose key hashCode() can be recomputed");
  }
  if (s.kind == "composite" && t == "Tuple" &&
      s.class_name == "org.apache.flink.api.java.typeutils.runtime.TupleSerializerSnapshot") {
    if (s.children.empty() || s.children.size() > 25) return refuse("has no fields");
    n.kind = Kind::kTuple;
    type += "Tuple" + std::to_string(s.children.size()) + "<";
    for (size_t i = 0; i < s.children.size(); ++i) {
      if (i) type += ", ";
      auto c = build(s.children[i], type, depth + 1);
      if (!c) return c.take_error();
      n.fields.push_back(std::move(*c));
    }
    type += ">";
    return n;
  }
  if (s.kind == "rowdata" && (s.class_name == "org.apache.flink.table.runtime.typeutils.RowDataSerializer$RowDataSerializerSnapshot" ||
                              s.class_name == "org.apache.flink.table.runtime.typeutils.BinaryRowDataSerializer$BinaryRowDataSerializerSnapshot")) {
    n.kind = Kind::kRowData;
    type += "BinaryRowData";
    return n;
  }
  return refuse("is not one whose key hashCode() can be recomputed (supported: String, boxed primitives, "
                "Flink tuples of those, SQL RowData)");
}

}  // namespace

int32_t flink_murmur_hash(int32_t code) {
  // MathUtils.murmurHash: MurmurHash3_x86_32 (seed 0) of the int as one 4-byte block, made non-negative.
  const uint32_t c = static_cast<uint32_t>(code);
  const char le[4] = {static_cast<char>(c), static_cast<char>(c >> 8), static_cast<char>(c >> 16),
                      static_cast<char>(c >> 24)};
  int32_t s = static_cast<int32_t>(murmur3_x86_32(std::string_view(le, 4), 0));
  if (s >= 0) return s;
  if (s != INT32_MIN) return -s;
  return 0;
}

int32_t key_group_for_hash(int32_t key_hash, int32_t max_parallelism) {
  if (max_parallelism <= 0) return -1;  // a crafted operator's max parallelism; never divide by it
  return flink_murmur_hash(key_hash) % max_parallelism;
}

KeyGroupRange key_group_range_for_subtask(int32_t max_parallelism, int32_t parallelism, int32_t subtask) {
  int64_t start = (static_cast<int64_t>(subtask) * max_parallelism + parallelism - 1) / parallelism;
  int64_t end = ((static_cast<int64_t>(subtask) + 1) * max_parallelism - 1) / parallelism;
  KeyGroupRange r;
  r.start = static_cast<int32_t>(start);
  r.count = static_cast<int32_t>(end - start + 1);
  if (r.count < 0) r.count = 0;
  return r;
}

int32_t subtask_for_key_group(int32_t max_parallelism, int32_t parallelism, int32_t key_group) {
  return static_cast<int32_t>(static_cast<int64_t>(key_group) * parallelism / max_parallelism);
}

int key_group_prefix_bytes(int32_t max_parallelism) { return max_parallelism > 128 ? 2 : 1; }

Result<JavaKeyHasher> JavaKeyHasher::for_key_serializer(const state::SerializerNode& key_serializer) {
  JavaKeyHasher h;
  auto root = build(key_serializer, h.type_, 0);
  if (!root) return root.take_error();
  h.root_ = std::move(*root);
  return h;
}

std::optional<int32_t> JavaKeyHasher::hash(ByteReader& r) const { return hash_node(root_, r, 0); }

std::optional<int32_t> JavaKeyHasher::hash(const state::Value& key) const { return hash_value(root_, key); }

namespace state {

bool java_hash_code(const SerializerNode& key_serializer, const Value& key, int32_t* hash) {
  auto hasher = JavaKeyHasher::for_key_serializer(key_serializer);
  if (!hasher) return false;
  auto h = hasher->hash(key);
  if (!h) return false;
  *hash = *h;
  return true;
}

}  // namespace state

}  // namespace fsp
