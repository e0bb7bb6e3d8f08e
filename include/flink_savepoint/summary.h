// What `inspect` says about a snapshot as a whole: type and format (from the
// v4+ properties, or inferred from handle codes), the state backend inferred
// from handle codes, the files it references, and whether it can be moved.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flink_savepoint/model.h"

namespace fsp {

struct FileRef {
  std::string path;      // as stored (modified UTF-8 decoded to UTF-8), relative ones as stored
  bool relative = false;
  int64_t size = 0;      // the largest size a handle records for it (segments: end of the last segment)
  int handles = 0;       // how many handles point into it
};

// What a snapshot is, from its v4+ properties or inferred from handle codes.
enum class SnapshotKind : uint8_t { kUnknown, kSavepoint, kCheckpoint };
enum class SnapshotFormat : uint8_t { kUnknown, kCanonical, kNative };
// The state backend that wrote the keyed state, as far as the handle codes tell.
enum class StateBackend : uint8_t {
  kNone,               // no keyed state
  kHashMap,            // KeyGroupsStateHandle in a v4+ snapshot
  kRocksDb,            // IncrementalRemoteKeyedStateHandle (RocksDB or ForSt)
  kHeapOrRocksDbFull,  // KeyGroupsStateHandle before v4: the state files tell which
  kAnyCanonical,       // a canonical savepoint: restorable by any backend
};
// The display strings ("savepoint", "canonical", "hashmap", "any (canonical)", ...).
const char* to_string(SnapshotKind kind);      // "" for kUnknown
const char* to_string(SnapshotFormat format);  // "" for kUnknown
const char* to_string(StateBackend backend);

struct SnapshotSummary {
  SnapshotKind kind = SnapshotKind::kUnknown;
  SnapshotFormat snapshot_format = SnapshotFormat::kUnknown;
  StateBackend state_backend = StateBackend::kNone;  // of the inner backend when `changelog`
  bool changelog = false;      // ChangelogStateBackendHandle around the inner backend's handles
  // Display strings of the values above (to_string; rules compare the enums).
  std::string type;            // "savepoint" | "checkpoint" | "" (unknown)
  std::string format;          // "canonical" | "native" | ""
  std::string name;            // properties name ("Savepoint", "Suspend Savepoint", "Checkpoint", ...)
  bool type_inferred = false;  // type/format guessed from handle codes (v2/v3 files)
  std::string backend;         // "hashmap", "rocksdb", "heap-or-rocksdb-full", "changelog+<inner>", "any (canonical)", "none"
  std::string backend_reason;
  bool self_contained = false; // no absolute paths: moves with its directory
  int64_t absolute_paths = 0;
  int64_t relative_paths = 0;
  int64_t inline_handles = 0;
  int64_t inline_bytes = 0;
  int64_t total_size = 0;      // sum of operator state sizes
  std::vector<int64_t> operator_sizes;  // OperatorState::size() of each operator, in order (computed once)
  int64_t stream_handles = 0;
  int64_t file_count = 0;      // distinct files referenced
  std::vector<FileRef> files;  // filled only when asked (list_files)
};

// One distinct file, as the streaming JSON output lists it: a view of the
// stored path (modified UTF-8), no copy.
struct FileEntry {
  Str path;
  int64_t size = 0;   // as FileRef::size
  int32_t handles = 0;
  bool relative = false;
};

// The distinct files in first-appearance order.
struct FileList {
  std::vector<FileEntry> entries;
};

// list_files=false skips building the per-file list of strings; file_count is
// always set. With the list it is exact (paths are compared); without it, it
// is the number of distinct 64-bit path hashes (two paths colliding, with a
// chance of about n^2 / 2^65 for n paths, would count once).
SnapshotSummary summarize(const Snapshot& s, bool list_files = true);
// The same, with the file list as views into the model (when `files` is set).
SnapshotSummary summarize(const Snapshot& s, FileList* files);

// Readable names.
const char* stream_handle_type_name(HandleCode code);   // Flink's class names
const char* keyed_handle_type_name(HandleCode code);
const char* operator_handle_type_name(HandleCode code);
const char* channel_handle_type_name(uint8_t kind);
const char* distribution_mode_name(uint8_t mode);    // SPLIT_DISTRIBUTE | UNION | BROADCAST

struct JsonOptions {
  bool key_group_offsets = true;  // include offsets arrays (large)
  bool summary = true;            // add the "summary" object
};


}  // namespace fsp
