// Decoders under the state reader (state.h): serializer snapshots, the keyed
// and operator backend serialization proxies, the Snappy framing format and
// a bounded skipper for Java serialization streams. Exposed for tests and for
// tools that want the raw tree; most callers want read_states() in state.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"

namespace fsp::state {

// Nesting caps: serializer snapshots inside serializer snapshots, and Java
// objects inside Java objects.
inline constexpr int kMaxSnapshotDepth = 32;
inline constexpr int kMaxJavaDepth = 64;

// ---------------------------------------------------------------------------
// Serializer snapshots (TypeSerializerSnapshot.writeVersionedSnapshot)

struct SerializerNode {
  std::string class_name;      // snapshot class, e.g. ...LongSerializer$LongSerializerSnapshot
  int32_t version = 0;         // snapshot version as written
  // simple | composite | pojo | kryo | avro | enum | rowdata | java | legacy | unknown
  std::string kind;
  std::string detail;          // tuple/pojo/kryo/avro/enum class, logical types, ...
  std::vector<std::string> child_names;  // POJO field names (parallel to children)
  std::vector<SerializerNode> children;
  std::vector<std::string> constants;  // enum constant names (in ordinal order)
  std::string schema;          // Avro writer schema (JSON text)
  uint64_t offset = 0;         // where the class name starts, in the file
  // Pre-1.8 TypeSerializerConfigSnapshots (Flink 1.3 - 1.7) that were
  // decoded: legacy_class is the config snapshot class as written, and
  // class_name the snapshot class Flink 1.8+ writes for the same serializer,
  // so that types and values are read as for a newer snapshot.
  // serializer_class: the serializer's own class, from the Java-serialized
  // serializer written beside the config (or the config's identifier).
  std::string legacy_class;
  std::string serializer_class;

  // The class written in the file (legacy_class when set).
  const std::string& written_class() const { return legacy_class.empty() ? class_name : legacy_class; }
  // Written as a pre-1.8 TypeSerializerConfigSnapshot (decoded or not):
  // Flink 1.17+ cannot read it.
  bool legacy() const { return !legacy_class.empty() || kind == "legacy"; }

  // True when this node and all below it were decoded by a known layout.
  bool fully_decoded() const;
  // Readable type, e.g. TTL<Pojo<com.example.Event>{id: Long, name: String}>.
  std::string readable() const;
  // Every class name in the tree as written (for surveys).
  void collect_classes(std::vector<std::string>& out) const;
};

// Short readable name for a snapshot class ("Long" for LongSerializerSnapshot).
std::string short_type_name(std::string_view snapshot_class);

// Decoding context shared by the recursive decoders. `overrides` maps the
// payload start of an unknown snapshot to the position where its payload is
// assumed to end (found by the resync search in decode_*_proxy).
struct SnapshotDecoder {
  ByteReader& r;
  const std::map<size_t, size_t>* overrides = nullptr;
  std::optional<size_t> pending_unknown;   // payload start of an unknown snapshot met without override
  std::string pending_unknown_class;
  std::vector<std::string> unknown_classes;
  // True inside a slice of writeSerializersAndConfigsWithResilience: the
  // slice bounds an unknown snapshot, so it is skipped to the slice's end
  // instead of being searched for.
  bool in_slice = false;
  // Inside a slice: the serializer written before the config (its class,
  // and the record class of an AvroSerializer), for a version 1 snapshot.
  std::string slice_serializer;
  std::string slice_detail;

  explicit SnapshotDecoder(ByteReader& reader) : r(reader) {}

  // TypeSerializerSnapshotSerializationUtil: int proxy version (2), then a
  // versioned snapshot; version 1 is a pre-1.8 TypeSerializerConfigSnapshot
  // (UTF class, then its payload).
  SerializerNode read_serializer_snapshot(int depth = 0);
  // TypeSerializerSnapshot.readVersionedSnapshot: UTF class, int version, payload.
  SerializerNode read_versioned_snapshot(int depth);
  bool read_class_name(SerializerNode& node, int depth, bool versioned);
  // NestedSerializersSnapshotDelegate: magic 1333245, version 1, n, n snapshots.
  void read_nested(SerializerNode& node, int depth);

  // Pre-1.8 layouts (type_serializer_config_snapshot.cc).
  // TypeSerializerSerializationUtil.writeSerializersAndConfigsWithResilience:
  // int n, n x (int serializer offset, int config offset), int total, then
  // `total` bytes holding each Java-serialized serializer and its config
  // snapshot. One node per pair; a pair that is not understood becomes a
  // "legacy" node without losing the others (the offsets bound each one).
  std::vector<SerializerNode> read_serializers_and_configs(int depth);
  // TypeSerializerSerializationProxy: int version 1, int length, a Java
  // serialization stream. Returns the serializer's class ("" when the
  // stream is not understood); fails only when the framing is broken.
  std::string read_java_serializer(std::string* detail = nullptr);
  // The payload of a TypeSerializerConfigSnapshot (int version, then the
  // class's own fields) for node.class_name; serializer_class is the
  // serializer written beside it, when known.
  void read_config_payload(SerializerNode& node, const std::string& serializer_class, int depth);
  // A serializer without a config snapshot (keyed proxies 1/2): typed from
  // its class when that is a parameterless base serializer, else "legacy".
  // `framed`: behind TypeSerializerSerializationProxy's version and length;
  // else a bare Java serialization stream (operator proxy 1).
  SerializerNode read_java_only_serializer(bool framed = true);
  // Marks `node` as an unknown snapshot here: skipped to the end of the
  // slice (in_slice) or reported for the resync search.
  void unknown_payload(SerializerNode& node, const char* kind);
};

// Flink's StringValue.writeString encoding (varint length+1, varint chars).
// Returns nullopt (and fails the reader) on bad input. Chars above 0x7F are
// kept as UTF-8.
std::optional<std::string> read_string_value(ByteReader& r);

// ---------------------------------------------------------------------------
// Java Object Serialization Stream (InstantiationUtil.serializeObject): skips
// one stream (AC ED 00 05 + one object) and returns the class name of the
// top-level object ("" for null, "String" for strings). Bounded: never reads
// past the reader, caps nesting and handle counts.
std::optional<std::string> skip_java_object(ByteReader& r);

// ---------------------------------------------------------------------------
// State meta info and proxies

struct StateMetaInfo {
  std::string name;
  int32_t backend_type = 0;  // 0 KEY_VALUE, 1 OPERATOR, 2 BROADCAST, 3 PRIORITY_QUEUE, 4 KEY_VALUE_V2
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::pair<std::string, SerializerNode>> serializers;
  uint64_t offset = 0;

  const SerializerNode* serializer(std::string_view key) const;
  std::string option(std::string_view key) const;
  bool fully_decoded() const;
};

struct KeyedProxy {
  int32_t version = 0;                   // 6 since Flink 1.7; 1 - 5 (pre-1.8 layouts) are read too
  bool compression = false;
  SerializerNode key_serializer;
  std::vector<StateMetaInfo> states;
  size_t end = 0;                        // where the proxy ended (relative to the bytes given)
  std::vector<std::string> unknown_classes;  // skipped by resync
  std::string note;                      // e.g. "ends at 120, data starts at 124"
  bool complete = true;                  // false: states after an unresolved unknown class are missing
  std::string incomplete_reason;
};

struct OperatorProxy {
  int32_t version = 0;                   // 5/6 since Flink 1.7; 1 - 4 (pre-1.8 layouts) are read too
  bool compression = false;
  std::vector<StateMetaInfo> operator_states;
  std::vector<StateMetaInfo> broadcast_states;
  size_t end = 0;
  std::vector<std::string> unknown_classes;
  std::string note;
  bool complete = true;
  std::string incomplete_reason;
};

// A bound on the resync work of many proxies together (one command reads
// many handles): bytes re-parsed by the searches so far, and the total
// allowed. Each search also stops at its own per-proxy bound.
struct ResyncBudget {
  uint64_t used = 0;
  uint64_t limit = UINT64_MAX;
  bool exhausted() const { return used >= limit; }
};

// Both take the whole stream and `bound`, the exact position where the proxy
// must end (the first data offset, or the stream size). An unknown snapshot
// class is skipped by searching the end of its payload that makes the rest of
// the proxy decode and end exactly at `bound`. base_offset is the stream's
// offset in its file, for error offsets. Keyed proxies 1 - 5 and operator
// proxies 1 - 4 (Flink 1.2 - 1.6) are decoded as well; callers report that
// Flink 1.17+ cannot restore them. `budget`, when
// given, is charged with the search's work and ends it when exhausted.
Result<KeyedProxy> decode_keyed_proxy(std::string_view bytes, size_t bound, uint64_t base_offset = 0,
                                      const ErrorContext* ctx = nullptr, ResyncBudget* budget = nullptr);
Result<OperatorProxy> decode_operator_proxy(std::string_view bytes, size_t bound, uint64_t base_offset = 0,
                                            const ErrorContext* ctx = nullptr, ResyncBudget* budget = nullptr);

// One StateMetaInfoSnapshot (format 6/7) at the start of `bytes`, as in the
// METADATA records of the in-memory changelog. No resync: an unknown
// serializer class is an error.
Result<StateMetaInfo> decode_meta_info(std::string_view bytes, uint64_t base_offset = 0);

// ---------------------------------------------------------------------------
// Snappy framing format (xerial SnappyFramedOutputStream, Flink's
// SnappyStreamCompressionDecorator).

uint32_t crc32c(const uint8_t* data, size_t n, uint32_t crc = 0);
uint32_t mask_crc32c(uint32_t crc);

struct FramedStream {
  std::string data;      // uncompressed bytes
  size_t consumed = 0;   // framed bytes read
};

// Decodes framed chunks from `bytes` until its end, or until `max_output`
// uncompressed bytes have been produced (then stops at a chunk boundary).
// verify_crc checks every chunk's masked CRC32C.
Result<FramedStream> decode_snappy_framed(std::string_view bytes, bool verify_crc = true,
                                          size_t max_output = SIZE_MAX, uint64_t base_offset = 0);
bool looks_snappy_framed(std::string_view bytes);

// ---------------------------------------------------------------------------
// Key-grouped keyed state streams (formats/state/key_groups.cc): the pieces
// every reader of a key-groups handle's stream shares.

// Where the keyed proxy at the head of the stream must end: the smallest
// positive key-group offset below `stream_size`, or `stream_size`.
size_t keyed_proxy_bound(size_t stream_size, const BeLongs& offsets);

// The end of key group i's region in the full format (empty key groups
// repeat an offset or write 0): the next larger offset, or `stream_size`.
int64_t full_key_group_end(const BeLongs& offsets, size_t i, size_t stream_size);

// The uncompressed bytes of one key group's region: the region itself, or,
// when `compressed`, its own Snappy framed stream decoded into `scratch`.
// `base` is the region's offset in its file, for error offsets.
Result<std::string_view> key_group_data(std::string_view region, bool compressed, uint64_t base,
                                        std::string& scratch);

// How walk_full_key_group() ended.
enum class FullGroupEnd {
  kEndMark,     // the -1 end mark, at the end of the data
  kStopped,     // visit returned false
  kBadStateId,  // a kvStateId outside the proxy's states (in *culprit)
  kShortKey,    // a key shorter than min_key_bytes (its length in *culprit; 0: the end mark is missing)
  kTrailing,    // bytes after the end mark
  kTruncated,   // the reader failed (see r.error())
};

// One full-format key group (FullSnapshotAsyncWriter), uncompressed: short
// kvStateId, then records (int length, key, int length, value); the first key
// byte's 0x80 bit marks a state's last record, followed by the next
// kvStateId or -1. visit(kv, key, value) gets each record, the key as stored
// (flag bit included), and returns false to stop. The data ending early
// (kTruncated) leaves the reader's error.
template <typename Visit>
FullGroupEnd walk_full_key_group(ByteReader& r, size_t n_states, Visit&& visit, int32_t* culprit,
                                 int32_t min_key_bytes = 1) {
  int32_t kv = r.i16();
  while (r.ok()) {
    if (kv < 0 || static_cast<size_t>(kv) >= n_states) {
      *culprit = kv;
      return FullGroupEnd::kBadStateId;
    }
    int32_t klen = r.i32();
    if (!r.check_count(klen, 1, "key bytes")) break;
    if (klen < min_key_bytes || klen == 0) {
      *culprit = klen;
      return FullGroupEnd::kShortKey;
    }
    std::string_view key = r.bytes(static_cast<size_t>(klen));
    int32_t vlen = r.i32();
    if (!r.check_count(vlen, 1, "value bytes")) break;
    std::string_view value = r.bytes(static_cast<size_t>(vlen));
    if (!r.ok()) break;
    if (!visit(kv, key, value)) return FullGroupEnd::kStopped;
    if (static_cast<uint8_t>(key[0]) & 0x80) {
      int16_t next = r.i16();
      if (!r.ok()) break;
      if (next == -1) return r.at_end() ? FullGroupEnd::kEndMark : FullGroupEnd::kTrailing;
      kv = next;
    }
  }
  return FullGroupEnd::kTruncated;
}

// ---------------------------------------------------------------------------
// RocksDB handles (src/state/state_reader.cc).

// The local path librocksdb opens for an SST of an incremental handle whose
// handle is a file (code kFile, through the path map) or relative (kRelative,
// in the snapshot directory); kNoInput when there is none.
Result<std::string> sst_local_path(const StreamHandle& h, const std::string& directory,
                                   const std::vector<std::pair<std::string, std::string>>& path_map);

// ---------------------------------------------------------------------------
// Operator state streams (src/state/state_reader.cc).

// Every offset of every state of the handle, sorted, without repeats.
std::vector<int64_t> operator_state_offsets(const OperatorHandle& h);
// Where the operator proxy must end: the first offset when it lies inside
// the stream, else `stream_size`.
size_t operator_proxy_bound(size_t stream_size, const std::vector<int64_t>& sorted_offsets);
// The end of the state data at offset o: the next larger offset of any state,
// or `stream_size`.
int64_t operator_state_end(const std::vector<int64_t>& sorted_offsets, int64_t o, size_t stream_size);
// With compression, every state's offset starts a chunk of the one Snappy
// framed stream: decodes the chunks from there (no stream identifier).
Result<FramedStream> decode_snappy_chunks(std::string_view chunks, size_t max_output, uint64_t base_offset);

}  // namespace fsp::state
