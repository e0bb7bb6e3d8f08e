// Key-grouped data of keyed state streams (internal to fsp_state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/state_internal.h"

namespace fsp::state {

// Skips one serialized value of a well-known serializer; false when the
// serializer is not known well enough (or the bytes do not fit).
bool skip_value(const SerializerNode& n, ByteReader& r, int depth);

struct KgStats {
  // per state index: entries, bytes per key group
  std::vector<std::map<int32_t, int64_t>> entries, bytes;
  std::vector<bool> entries_known, bytes_known;
  explicit KgStats(size_t n) : entries(n), bytes(n), entries_known(n, true), bytes_known(n, true) {}
};

// Full/canonical format (FullSnapshotAsyncWriter). Strict: fails on anything
// unexpected, so that it can also tell the format apart from the heap one.
std::optional<KgStats> walk_full(std::string_view bytes, const KeyedHandle& h, const KeyedProxy& p, uint64_t base,
                                 std::string* err);

// Heap format (HeapSnapshotStrategy): int keyGroupId, then per state short
// kvStateId + int count + entries.
std::optional<KgStats> walk_heap(std::string_view bytes, const KeyedHandle& h, const KeyedProxy& p, uint64_t base,
                                 std::string* err);

}  // namespace fsp::state
