// State values decoded from their bytes with the serializer-snapshot tree
// that describes them (no classes needed). A decoded value is a small tree
// (Value), bounded by the bytes of the one entry it came from; the JSON layer
// prints it. Anything the tree does not describe well enough is not guessed:
// decode_value() fails and the caller prints the bytes as
// {"$serializer": CLASS, "$base64": ...}. See docs/dump.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/state_internal.h"

namespace fsp::state {

struct Value {
  // kNumber: exact decimal text (BigInteger, BigDecimal, DECIMAL);
  // kString: UTF-8, where an unpaired UTF-16 surrogate is kept as its 3-byte
  // form (the JSON writer escapes it as \uXXXX); kBytes: printed as base64.
  enum class Type : uint8_t { kNull, kBool, kInt, kDouble, kNumber, kString, kBytes, kArray, kObject };
  Type type = Type::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;                       // string, number text, bytes
  std::vector<Value> items;            // array items / object values
  std::vector<std::string> keys;       // object keys (parallel to items)

  static Value null() { return {}; }
  static Value boolean(bool v) { Value x; x.type = Type::kBool; x.b = v; return x; }
  static Value integer(int64_t v) { Value x; x.type = Type::kInt; x.i = v; return x; }
  static Value real(double v) { Value x; x.type = Type::kDouble; x.d = v; return x; }
  static Value number(std::string text) { Value x; x.type = Type::kNumber; x.s = std::move(text); return x; }
  static Value string(std::string v) { Value x; x.type = Type::kString; x.s = std::move(v); return x; }
  static Value bytes(std::string_view v) { Value x; x.type = Type::kBytes; x.s = std::string(v); return x; }
  static Value array() { Value x; x.type = Type::kArray; return x; }
  static Value object() { Value x; x.type = Type::kObject; return x; }

  Value& add(Value v) { items.push_back(std::move(v)); return items.back(); }
  Value& add(std::string key, Value v) {
    keys.push_back(std::move(key));
    items.push_back(std::move(v));
    return items.back();
  }
  // Object member by key (nullptr when absent or not an object).
  const Value* get(std::string_view key) const;
  bool is_null() const { return type == Type::kNull; }
};

// Caps on the work a single value may cause (beyond its bytes).
inline constexpr int kMaxValueDepth = 64;

// Decodes one value serialized by the serializer `n` describes, reading from
// r (never past its end). Returns false when the serializer is not decodable
// from its snapshot, or the bytes do not fit; r is then failed or positioned
// anywhere and `out` is unspecified. `why` (optional) gets a reason.
bool decode_value(const SerializerNode& n, ByteReader& r, Value& out, std::string* why = nullptr);

// An Avro record (generic or specific) through the writer schema of its
// AvroSerializerSnapshot (formats/state/avro_value.cc).
bool decode_avro_value(const SerializerNode& n, ByteReader& r, Value& out, std::string* why);

// The full name ("namespace.name") of the top-level record, enum or fixed of
// an Avro schema in a snapshot (modified UTF-8 JSON); empty when the schema
// does not parse or names nothing.
std::string avro_schema_full_name(const std::string& schema);

// Fixed serialized length of values of `n` (TypeSerializer.getLength()), or -1
// when variable or unknown. Decides CompositeKeySerializationUtils'
// ambiguous-key length suffixes.
int32_t fixed_length(const SerializerNode& n);

// One varint of Flink's StringValue.writeString encoding (the length + 1, or
// one UTF-16 char): 7-bit groups, least significant first. False when r failed.
inline bool read_string_value_varint(ByteReader& r, uint32_t& out) {
  uint32_t v = r.u8();
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
  return r.ok();
}

// Flink's StringValue.writeString encoding, decoded to UTF-8 with surrogate
// pairs joined (a lone surrogate is kept as its 3-byte form). nullopt for a
// null string (writeString(null)); fails r on bad input.
std::optional<std::string> read_java_string(ByteReader& r, bool* is_null);

// The JSON key for a namespace value: null for VoidNamespace, windows as
// {"start", "end"}; other namespaces as their decoded value.
bool is_void_namespace(const SerializerNode& n);

// Short readable class name of a serializer snapshot ("LongSerializer") for
// $serializer fields.
std::string serializer_label(const SerializerNode& n);

// Java hashCode() of a decoded key: JavaKeyHasher (key_groups.h) over the
// value. Returns false for keys whose hashCode this cannot compute (e.g. POJOs
// with their own hashCode). The key group is then key_group_for_hash().
bool java_hash_code(const SerializerNode& key_serializer, const Value& key, int32_t* hash);

}  // namespace fsp::state
