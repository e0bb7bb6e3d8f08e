// Reading the state files a snapshot points to: which states each operator
// holds (name, kind, serializers, readable type) and how big they are
// (entries and bytes, per key group and per subtask). See docs/states.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp {

enum class StateKind : uint8_t {
  kUnknown, kValue, kList, kMap, kReducing, kAggregating, kFolding,  // keyed
  kOperatorList, kOperatorUnion, kBroadcast,                          // operator
  kTimers,                                                            // priority queues
};
// value | list | map | reducing | aggregating | folding | operator_list |
// operator_union | broadcast | timers | unknown
const char* to_string(StateKind kind);
StateKind parse_state_kind(std::string_view name);  // kUnknown for anything else
inline bool is_keyed(StateKind k) { return k >= StateKind::kValue && k <= StateKind::kFolding; }

struct StateInfo {
  std::string name;
  StateKind state_kind = StateKind::kUnknown;  // rules compare this
  std::string kind;                  // to_string(state_kind) (the names above)
  std::string key_serializer;        // snapshot class names of the outer serializers
  std::string namespace_serializer;
  std::string value_serializer;
  std::string user_key_serializer;   // map state (KEY_VALUE_V2) / broadcast key
  bool ttl = false;
  std::string type;                  // readable tree, e.g. TTL<Pojo<com.example.Event>{id: Long}>
  std::string key_type;              // readable key type (keyed states, broadcast keys)
  std::string backend;               // heap | full | rocksdb | operator (where it was read from)
  bool serializers_decoded = true;   // every serializer snapshot class in the tree was understood
  std::vector<std::string> serializer_classes;  // every snapshot class in the tree

  // Statistics (-1 = unknown). For keyed states: over all subtasks.
  int64_t entries = -1;
  int64_t bytes = -1;
  int32_t key_groups_with_data = 0;
  int64_t max_key_group_bytes = -1;
  double mean_key_group_bytes = -1;  // over key groups with data
  // Operator states: entries per subtask (index = subtask index; -1 = not present).
  std::vector<int64_t> subtask_entries;
  std::string distribution;          // split | union | broadcast (operator states)
  int32_t subtasks = 0;              // subtasks that hold this state
};

struct OperatorStates {
  size_t operator_index = 0;
  std::string operator_id;           // hex
  std::string name, uid;             // v5+ metadata
  std::vector<StateInfo> states;
  // Per handle: "missing: ...", "unsupported: ...", "unknown serializer: ...", "error: ...".
  std::vector<std::string> problems;
  int32_t handles_read = 0;          // handles whose proxy was decoded
  int32_t handles_unsupported = 0;
  int32_t handles_legacy_proxy = 0;  // of those: proxies in a pre-1.8 layout (keyed 1 - 5, operator 1 - 4)
  int32_t handles_missing = 0;
  int32_t handles_failed = 0;        // decode errors (corrupt or not understood)
  int32_t raw_handles = 0;           // raw keyed/operator state: user format, not decoded
};

struct StateReadOptions {
  // PREFIX=LOCAL_DIR pairs for absolute remote (or local) paths; the longest prefix wins.
  std::vector<std::pair<std::string, std::string>> path_map;
  bool statistics = true;            // walk the data for entry counts and sizes
  std::function<void(size_t done, size_t total)> progress;  // per operator
};

Result<std::vector<OperatorStates>> read_states(const SnapshotFile& file, const StateReadOptions& options = {});

// The bytes behind one stream handle.
struct ResolvedStream {
  std::string_view bytes;
  std::string path;                      // local file read ("" for inline)
  std::shared_ptr<const void> keep_alive;  // owns the mapping
};

// Resolves a stream handle against the snapshot directory and the path map.
// kNoInput errors mean the file is absent (reported as "missing").
Result<ResolvedStream> resolve_stream(const StreamHandle& handle, const std::string& directory,
                                      const std::vector<std::pair<std::string, std::string>>& path_map);

// Maps an absolute path through the path map (longest prefix), then strips
// file: / file:// . Returns "" for remote URIs with no mapping.
std::string map_path(std::string_view path, const std::vector<std::pair<std::string, std::string>>& path_map);


}  // namespace fsp
