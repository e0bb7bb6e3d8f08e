// Copying a snapshot: its _metadata and exactly the files it references, from
// any store the file-system seam reads to any it writes, with the paths
// rewritten for the new place (relative where Flink allows), every file's size
// checked against its handle, and _metadata written last. See docs/copy.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/result.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp {

struct CopyFile {
  std::string from, to;   // URIs (UTF-8)
  uint64_t size = 0;      // the source's size
  int64_t expected = 0;   // what the handle records: the exact size, or (segments) the least size
  bool exact = true;      // false: a file-merging physical file (at least `expected` bytes)
  bool skipped = false;   // already at the destination with the right size (a resumed copy)
  bool server_side = false;  // copied inside the store (S3 CopyObject): no byte passed through this process
};

struct CopyOptions {
  std::string dest;       // the destination directory (local path, file: URI or store prefix)
  bool dry_run = false;   // plan only: nothing is written
  bool force = false;     // replace an existing DEST/_metadata that differs from the one this copy writes
  // Called before each file is copied; an error stops the copy there, as an
  // interruption would (tests).
  std::function<Status(size_t index, const CopyFile& file)> before_copy;
};

struct CopyReport {
  std::vector<CopyFile> files;   // in handle order, one entry per distinct file
  uint64_t bytes = 0;            // of all files
  uint64_t copied = 0, copied_bytes = 0, skipped = 0;
  uint64_t server_side = 0;      // of the copied files, copied inside the store (FileSystem::copy)
  uint64_t rewritten = 0;        // path strings rewritten in _metadata
  uint64_t made_relative = 0;    // of them, made relative
  std::string metadata_uri;      // DEST/_metadata
  bool metadata_written = false;
  bool metadata_unchanged = false;  // DEST/_metadata was already this copy's (a complete earlier run)
};

// Plans the copy of `sf` (opened with open_snapshot) into options.dest and
// rewrites sf.snapshot's paths for it: the source URIs and sizes are checked
// first (nothing is copied when a file is absent or of another size), then the
// files are copied (skipping those already there with the right size), each
// one's size is checked at the destination, and DEST/_metadata is written
// last through the verifying writer. With dry_run only the plan is returned.
Result<CopyReport> copy_snapshot(SnapshotFile& sf, const CopyOptions& options);

// --- A snapshot as one portable file (.tar.zst, libarchive) -------------------

// True when `uri` names a snapshot archive (ends with .tar.zst).
bool is_archive_uri(std::string_view uri);

// Writes `sf`'s referenced files and then its _metadata (every path made
// relative; file-merging segment paths under a placeholder directory that
// unpacking rewrites) into a zstd-compressed tar at `archive_uri`, through the
// seam's atomic writer (nothing is visible there until it is complete).
// CopyFile::to is the member name. options.dest is not used; options.force
// replaces an existing archive.
Result<CopyReport> copy_to_archive(SnapshotFile& sf, const std::string& archive_uri, const CopyOptions& options);

// Unpacks an archive written by copy_to_archive into options.dest: refuses
// members that would escape DEST (absolute names, '..' components), links and
// anything but regular files and directories; skips files already there with
// the member's size; checks every referenced file's size; rewrites the paths
// for DEST and writes DEST/_metadata last.
Result<CopyReport> copy_from_archive(const std::string& archive_uri, const CopyOptions& options);

}  // namespace fsp
