// Opening a snapshot the way Flink resolves a savepoint pointer: a _metadata
// file, the directory holding one, or "-" for standard input; paths, file:
// URIs and the URIs of registered stores (file_system.h). Local files are
// memory-mapped and the decoded Snapshot's views point into the mapping.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"

namespace fsp {

struct SnapshotFile {
  std::string metadata_path;  // the _metadata file ("-" for stdin)
  std::string directory;      // its directory (or URI prefix): relative handles resolve against it ("" for stdin)
  uint64_t file_size = 0;
  Snapshot snapshot;
};

// Resolves PATH (file, directory or "-") to the _metadata file path.
Result<std::string> resolve_metadata_path(const std::string& path);

Result<SnapshotFile> open_snapshot(const std::string& path, const DecodeOptions& options = {});

// The size of the _metadata last opened by open_snapshot (0: none yet), for
// the out-of-memory message of the command line.
uint64_t last_opened_snapshot_size();
// What to tell a user who ran out of memory on a file of this size: an honest
// estimate of what the commands need (measured figures, bench/README.md).
std::string out_of_memory_hint(uint64_t file_size);

}  // namespace fsp
