// Key groups as Flink assigns them (KeyGroupRangeAssignment): the key group
// of a key is murmurHash(key.hashCode()) % maxParallelism; subtask i of an
// operator with parallelism p owns a contiguous range of key groups. And the
// Java hashCode() of a serialized key, for the key serializers whose
// hashCode is defined by the value alone (see docs/migrate.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"

namespace fsp {

namespace state {
struct SerializerNode;
struct Value;
}

inline constexpr int32_t kUpperBoundMaxParallelism = 32768;  // 1 << 15

// MathUtils.murmurHash(int): non-negative.
int32_t flink_murmur_hash(int32_t code);

// KeyGroupRangeAssignment.computeKeyGroupForKeyHash; -1 when max_parallelism <= 0.
int32_t key_group_for_hash(int32_t key_hash, int32_t max_parallelism);

// KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex (0 < parallelism <= max_parallelism).
KeyGroupRange key_group_range_for_subtask(int32_t max_parallelism, int32_t parallelism, int32_t subtask);

// KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup.
int32_t subtask_for_key_group(int32_t max_parallelism, int32_t parallelism, int32_t key_group);

// CompositeKeySerializationUtils.computeRequiredBytesInKeyGroupPrefix: 1 up to 128, else 2.
int key_group_prefix_bytes(int32_t max_parallelism);

// Java hashCode() of a key read from its serialized form, for the key
// serializers whose hashCode follows from the value: boxed primitives
// (Long, Integer, Short, Byte, Boolean, Character, Double, Float), String
// (over its UTF-16 code units), Flink TupleN of those (31 * h + h(f_i)), and
// SQL RowData keys (BinaryRowData: murmur3_32 with seed 42 over its bytes).
class JavaKeyHasher {
 public:
  // Error (kUsage) naming the serializer class when the key cannot be hashed.
  static Result<JavaKeyHasher> for_key_serializer(const state::SerializerNode& key_serializer);

  // Reads one key at r's position (advancing past it) and returns its hashCode;
  // nullopt (r failed) on malformed bytes.
  std::optional<int32_t> hash(ByteReader& r) const;

  // The same hashCode() of a decoded key (state_value.h, e.g. dump's --key);
  // nullopt when the value does not have the key type's shape, and for RowData
  // keys (their hashCode is over the serialized row).
  std::optional<int32_t> hash(const state::Value& key) const;

  // Readable description of the key type ("Tuple1<Long>").
  const std::string& type() const { return type_; }

  enum class Kind : uint8_t { kLong, kInt, kShort, kByte, kBoolean, kChar, kDouble, kFloat, kString, kTuple, kRowData };
  struct Node {
    Kind kind = Kind::kLong;
    std::vector<Node> fields;  // kTuple
  };

 private:
  Node root_;
  std::string type_;
};

}  // namespace fsp
