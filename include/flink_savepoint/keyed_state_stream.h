// The canonical keyed-state stream of a key-groups handle, as Flink's
// FullSnapshotAsyncWriter writes it for canonical savepoints (heap and
// RocksDB alike): the keyed backend serialization proxy, then per key group,
// at the offset the handle records (0 = empty) and optionally inside its own
// Snappy framed stream: i16 state id, entries {i32 len, key, i32 len, value}
// whose key starts with the key-group prefix (1 byte up to max parallelism
// 128, else 2, big-endian); the first key byte of a state's last entry has
// 0x80 set, then the next state id or 0xFFFF. Reader and writer side by side:
// reading a stream and writing its entries back gives the same bytes for an
// uncompressed stream in Flink's entry order.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"
#include "flink_savepoint/state_internal.h"

namespace fsp::state {

struct CanonicalEntry {
  uint16_t state_id = 0;       // index into the stream's proxy states
  int32_t key_group = 0;       // the key group whose region holds the entry (from the handle's offsets)
  int32_t prefix_group = 0;    // the key group written in the key's prefix (flag bit cleared)
  std::string_view key;        // the key after the key-group prefix (key, namespace, user key / timer)
  std::string_view value;
};

struct CanonicalKeyedStream {
  KeyedProxy proxy;
  std::string_view proxy_bytes;  // the stream's bytes up to the end of the proxy, verbatim
  bool compressed = false;
  std::vector<CanonicalEntry> entries;  // in stream order
  std::deque<std::string> owned;        // decompressed key groups the views point into
};

// Reads the stream of a key-groups handle (range, offsets) whose keys carry a
// prefix of `prefix_bytes`. Fails (kData, with the byte offset) on anything
// that is not this layout: heap-format key groups (checkpoints, pre-1.13 heap
// savepoints) among them.
Result<CanonicalKeyedStream> read_canonical_keyed_stream(std::string_view bytes, const KeyGroupRange& range,
                                                         const BeLongs& offsets, int prefix_bytes,
                                                         const ErrorContext* ctx = nullptr);

// One entry to write: the key after the prefix, the value.
struct CanonicalEntryRef {
  uint16_t state_id = 0;
  std::string_view key;
  std::string_view value;
};

struct WrittenKeyedStream {
  std::string bytes;
  std::vector<int64_t> offsets;  // per key group of the range (0 = empty)
};

// Writes a stream: proxy_bytes verbatim, then for each key group of `range`
// the entries of per_group[kg - range.start] (grouped by state id, in the
// order given), Snappy framed per key group when `compressed`.
Result<WrittenKeyedStream> write_canonical_keyed_stream(std::string_view proxy_bytes, bool compressed,
                                                        const KeyGroupRange& range, int prefix_bytes,
                                                        const std::vector<std::vector<CanonicalEntryRef>>& per_group);

// Snappy framing format (xerial SnappyFramedOutputStream): stream identifier,
// then chunks of at most 64 KiB, compressed when that saves 15% or more.
std::string encode_snappy_framed(std::string_view data);

}  // namespace fsp::state
