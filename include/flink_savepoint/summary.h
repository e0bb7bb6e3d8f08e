// What `inspect` says about a snapshot as a whole: type and format (from the
// v4+ properties, or inferred from handle codes), the state backend inferred
// from handle codes, the files it references, and whether it can be moved.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flink_savepoint/model.h"

namespace fsp {

struct FileRef {
  std::string path;      // as stored (modified UTF-8 decoded to UTF-8), relative ones as stored
  bool relative = false;
  int64_t size = 0;      // the largest size a handle records for it (segments: end of the last segment)
  int handles = 0;       // how many handles point into it
};

struct SnapshotSummary {
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
  uint32_t hash = 0;  // of the path (for the index)
  bool relative = false;
};

// The distinct files in first-appearance order.
struct FileList {
  std::vector<FileEntry> entries;
};

// list_files=false skips building the per-file list of strings; file_count is
// always set (exact: paths are compared, not only hashed).
SnapshotSummary summarize(const Snapshot& s, bool list_files = true);
// The same, with the file list as views into the model (when `files` is set).
SnapshotSummary summarize(const Snapshot& s, FileList* files);

// Readable names.
const char* stream_handle_type_name(uint8_t code);   // Flink's class names
const char* keyed_handle_type_name(uint8_t code);
const char* operator_handle_type_name(uint8_t code);
const char* channel_handle_type_name(uint8_t kind);
const char* distribution_mode_name(uint8_t mode);    // SPLIT_DISTRIBUTE | UNION | BROADCAST

struct JsonOptions {
  bool key_group_offsets = true;  // include offsets arrays (large)
  bool summary = true;            // add the "summary" object
};

// The whole model as JSON (contract in docs/json.md).
nlohmann::json snapshot_to_json(const Snapshot& s, const JsonOptions& options = {});
nlohmann::json summary_to_json(const SnapshotSummary& sum);

}  // namespace fsp
