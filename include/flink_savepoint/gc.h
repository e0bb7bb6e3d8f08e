// Garbage in a job's checkpoint directory: the files below <dir>/chk-*,
// <dir>/shared and <dir>/taskowned that no complete checkpoint (every
// chk-*/_metadata below <dir>) and no --keep snapshot references, and the
// files of aborted chk-N directories. Everything goes through the file-system
// seam, so a store prefix works like a local directory. See docs/gc.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flink_savepoint/result.h"

namespace fsp {

struct GcOptions {
  std::string job_dir;            // the directory (or store prefix) holding chk-*, shared/, taskowned/
  std::vector<std::string> keep;  // other snapshots whose files stay (a job restored from here in NO_CLAIM/CLAIM mode)
  int64_t min_age_ms = 3600 * 1000;  // never list a file younger than this; aborted chk-N only when older
  int64_t now_ms = 0;                // 0: the current time
};

struct GcFile {
  std::string uri;
  uint64_t size = 0;
  int64_t mtime_ms = 0;
  int64_t age_ms = 0;
  std::string reason;  // "unreferenced shared file", "aborted checkpoint chk-7 (no _metadata)", ...
};

struct GcReport {
  std::vector<GcFile> orphans;        // sorted by URI
  uint64_t orphan_bytes = 0;
  uint64_t files_seen = 0;            // regular files below chk-*, shared/, taskowned/
  uint64_t referenced = 0;            // of them, referenced (or a complete checkpoint's _metadata)
  uint64_t kept_young = 0;            // unreferenced but younger than min_age: kept
  uint64_t kept_in_flight = 0;        // files of chk-N without _metadata whose newest file is younger than min_age
  uint64_t not_regular = 0;           // links, devices, ...: never listed
  uint64_t missing_referenced = 0;    // referenced files below job_dir that are absent (reported, not fatal)
  std::vector<std::string> checkpoints;  // the complete checkpoints read (their _metadata URIs)
  std::vector<std::string> in_flight;    // chk-N directories without _metadata that are kept
};

// One pass: lists job_dir, decodes every chk-*/_metadata and every --keep
// snapshot, and returns the orphans. Refuses (nothing listed) when a
// _metadata or a --keep snapshot does not decode, or when job_dir holds no
// chk-*, shared/ or taskowned/ entry.
Result<GcReport> find_orphans(const GcOptions& options);

struct GcDeleted {
  std::vector<GcFile> deleted;
  std::vector<GcFile> skipped;  // listed by the first pass only, or changed in between: left alone
  std::vector<std::pair<std::string, std::string>> failed;  // uri, error
  std::optional<Error> log_error;  // the log could not be written (the deletions happened)
};

// The --delete pass: runs find_orphans() again (re-reading every _metadata
// and re-listing) and deletes only the files both `first` and the new pass
// list with the same size and modification time. The URIs deleted are
// written, one per line, to `log_uri` (through the seam, atomically) before
// returning; a failure to write the log is in log_error. An error is returned
// only when nothing was deleted (the second pass refused).
Result<GcDeleted> delete_orphans(const GcOptions& options, const GcReport& first, const std::string& log_uri);

}  // namespace fsp
