// Opening a snapshot the way Flink resolves a savepoint pointer: a _metadata
// file, the directory holding one, or "-" for standard input. The file is
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

// Read-only bytes of a file: mmap for regular files, read into memory for
// pipes and FIFOs.
class FileBytes {
 public:
  static Result<std::shared_ptr<FileBytes>> open(const std::string& path);
  static Result<std::shared_ptr<FileBytes>> read_stream(int fd, const std::string& name);
  ~FileBytes();
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;

  std::string_view bytes() const { return {data_, size_}; }

 private:
  FileBytes() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::unique_ptr<char[]> owned_;  // bytes read from a pipe
};

struct SnapshotFile {
  std::string metadata_path;  // the _metadata file ("-" for stdin)
  std::string directory;      // its directory: relative handles resolve against it ("" for stdin)
  uint64_t file_size = 0;
  Snapshot snapshot;
};

// Resolves PATH (file, directory or "-") to the _metadata file path.
Result<std::string> resolve_metadata_path(const std::string& path);

Result<SnapshotFile> open_snapshot(const std::string& path, const DecodeOptions& options = {});

}  // namespace fsp
