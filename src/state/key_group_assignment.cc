// KeyGroupRangeAssignment and Java hashCode() of serialized keys. The
// formulas follow Flink's KeyGroupRangeAssignment, MathUtils.murmurHash,
// the JDK's hashCode() definitions, Tuple.hashCode and BinarySection.hashCode
// (MurmurHashUtil.hashBytesByWords, seed 42); tests/key_group_test.cc checks
// them against the key groups Flink stored real keys under.
#include <bit>
#include <cstring>

#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/state_internal.h"

namespace fsp {
namespace {

uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t mix_k1(uint32_t k1) {
  k1 *= 0xcc9e2d51u;
  k1 = rotl32(k1, 15);
  return k1 * 0x1b873593u;
}

uint32_t mix_h1(uint32_t h1, uint32_t k1) {
  h1 ^= k1;
  h1 = rotl32(h1, 13);
  return h1 * 5 + 0xe6546b64u;
}

uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

int32_t long_hash(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v ^ (v >> 32))); }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

using Kind = JavaKeyHasher::Kind;

// StringValue varint (7-bit groups, least significant first).
bool read_varint(ByteReader& r, uint32_t& out) {
  uint32_t v = r.u8();
  if (!r.ok()) return false;
  if (v >= 0x80) {
    v &= 0x7F;
    for (int shift = 7;; shift += 7) {
      uint32_t c = r.u8();
      if (!r.ok()) return false;
      if (shift > 28) {
        r.fail("StringValue varint too long");
        return false;
      }
      if (c < 0x80) {
        v |= c << shift;
        break;
      }
      v |= (c & 0x7F) << shift;
    }
  }
  out = v;
  return true;
}

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
    case Kind::kBoolean: out = r.u8() != 0 ? 1231 : 1237; break;
    case Kind::kDouble: {
      uint64_t bits = static_cast<uint64_t>(r.i64());
      double d;
      std::memcpy(&d, &bits, 8);
      if (d != d) bits = 0x7ff8000000000000ULL;  // Double.doubleToLongBits: canonical NaN
      out = long_hash(bits);
      break;
    }
    case Kind::kFloat: {
      uint32_t bits = static_cast<uint32_t>(r.i32());
      float f;
      std::memcpy(&f, &bits, 4);
      if (f != f) bits = 0x7fc00000u;  // Float.floatToIntBits: canonical NaN
      out = static_cast<int32_t>(bits);
      break;
    }
    case Kind::kString: {
      uint32_t len = 0;
      if (!read_varint(r, len)) return std::nullopt;
      if (len == 0) {
        r.fail("null String key");
        return std::nullopt;
      }
      --len;
      if (!r.check_count(len, 1, "String key chars")) return std::nullopt;
      uint32_t h = 0;
      for (uint32_t i = 0; i < len; ++i) {
        uint32_t c = 0;
        if (!read_varint(r, c)) return std::nullopt;
        h = 31 * h + (c & 0xFFFF);  // a Java char: one UTF-16 code unit
      }
      out = static_cast<int32_t>(h);
      break;
    }
    case Kind::kTuple: {
      uint32_t h = 0;
      bool first = true;
      for (auto& f : n.fields) {
        auto fh = hash_node(f, r, depth + 1);
        if (!fh) return std::nullopt;
        h = first ? static_cast<uint32_t>(*fh) : 31 * h + static_cast<uint32_t>(*fh);
        first = false;
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
      uint32_t h1 = 42;
      const auto* p = reinterpret_cast<const uint8_t*>(b.data());
      for (int32_t i = 0; i < size; i += 4) {
        // MemorySegment.getInt: native order, little-endian on the machines Flink runs on.
        uint32_t word = uint32_t(p[i]) | (uint32_t(p[i + 1]) << 8) | (uint32_t(p[i + 2]) << 16) |
                        (uint32_t(p[i + 3]) << 24);
        h1 = mix_h1(h1, mix_k1(word));
      }
      out = static_cast<int32_t>(fmix32(h1 ^ static_cast<uint32_t>(size)));
      break;
    }
  }
  if (!r.ok()) return std::nullopt;
  return out;
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
  uint32_t c = static_cast<uint32_t>(code);
  c *= 0xcc9e2d51u;
  c = rotl32(c, 15);
  c *= 0x1b873593u;
  c = rotl32(c, 13);
  c = c * 5 + 0xe6546b64u;
  c ^= 4;
  c = fmix32(c);
  int32_t s = static_cast<int32_t>(c);
  if (s >= 0) return s;
  if (s != INT32_MIN) return -s;
  return 0;
}

int32_t key_group_for_hash(int32_t key_hash, int32_t max_parallelism) {
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

}  // namespace fsp
