// Relocation: rewrite the absolute paths a snapshot stores so that it can be
// restored after its files were copied elsewhere (HDFS -> S3, bucket to
// bucket, prod -> sandbox), optionally turning handles inside the snapshot's
// own directory into relative ones; and writing the result safely.
// See docs/relocate.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/path_map.h"
#include "flink_savepoint/result.h"
#include "flink_savepoint/walk.h"

namespace fsp {

struct RelocateOptions {
  // (from, to) prefixes in standard UTF-8, as typed on the command line.
  // Trailing '/' are ignored on both sides; a prefix matches a path that
  // equals it or continues with '/' (s3://b/a matches s3://b/a/x, not
  // s3://b/ab). The longest matching prefix wins; a path is rewritten once.
  std::vector<std::pair<std::string, std::string>> rules;
  // Turn code-2 handles whose path is exactly <snapshot_uri>/<name> (after the
  // rules applied) into code-6 relative handles <name>. Metadata v3+ only.
  bool make_relative = false;
  std::string snapshot_uri;  // the snapshot directory as an absolute URI (required with make_relative)
  // Also rewrite the names of inline (code 1) handles. Off by default: Flink
  // never opens them (they are informational).
  bool include_inline_names = false;
  // Keep the list of changes (PathChange entries); off for counting only.
  bool collect_changes = true;
};

// One rewritten string. The views stay valid while the Snapshot lives: the
// old path points into the decoded input (or the arena), the new one into
// Snapshot::arena (or into the old string, for a path made relative).
struct PathChange {
  HandleLocation loc;
  PathKind kind = PathKind::kAbsoluteFile;  // the kind before the change
  Str old_path, new_path;                   // modified UTF-8, as stored
  Str new_absolute;                         // the path after the rules (== new_path unless made relative)
  bool made_relative = false;               // code 2 -> code 6
};

struct RelocateReport {
  std::vector<PathChange> changes;  // empty unless collect_changes
  uint64_t changed = 0;             // strings rewritten (made_relative included)
  uint64_t made_relative = 0;       // code 2 handles turned into code 6
  uint64_t absolute_paths = 0;      // absolute strings seen (codes 2, 15, 17 directories)
  uint64_t unmatched_absolute = 0;  // absolute strings no rule matched (and not made relative)
  std::vector<std::string> unmatched_examples;  // up to 5 distinct ones, UTF-8
  // Absolute strings no rule matched that already lie under a --to prefix: the
  // rewritten paths merge with them, so relocating back would move them too.
  uint64_t already_under_to = 0;
  std::string already_under_to_example;  // the first one, UTF-8
};

// Rewrites `snapshot` in place. On error (a bad rule, a resulting path over
// 65535 bytes, --make-relative on v2) the snapshot is left unchanged.
Result<RelocateReport> relocate(Snapshot& snapshot, const RelocateOptions& options);

// What relocate() would do, without changing the snapshot or storing any new
// path: the report (as relocate's, without `changes`: collect_changes is
// ignored) and the rewriter that gives the encoder each new string
// (encode_metadata_to, write_snapshot_atomically). Encoding the snapshot with
// the rewriter gives the bytes relocate() then encode_metadata would; it
// stays usable after `options` is gone, while `snapshot` lives.
struct RelocationPlan {
  RelocateReport report;
  PathRewriter rewriter;
};
Result<RelocationPlan> plan_relocation(const Snapshot& snapshot, const RelocateOptions& options);

// "file:" + the absolute, normalized local directory (Flink's Path.toString()
// form: file:/abs/dir).
std::string local_directory_uri(const std::string& directory);

// Name of a PathKind for output: "absolute", "relative", "segment", "directory", "inline-name".
const char* path_kind_name(PathKind kind);


// --- Checking the files a snapshot references --------------------------------


struct MissingFile {
  std::string path;        // as stored (UTF-8)
  std::string local_path;  // where it was looked for
  int64_t expected_size = 0;
  int64_t actual_size = -1;  // -1: absent
  bool directory = false;    // a code-17 directory string
  std::string where;       // one handle referencing it
};

struct VerifyReport {
  uint64_t checked = 0;      // distinct files / directories looked at
  uint64_t not_checked = 0;  // distinct remote paths with no --path-map entry
  std::vector<MissingFile> missing;  // absent or of another size
};

// Checks every file the snapshot references that is local (file: URIs and
// plain absolute paths, relative handles under `snapshot_dir`) or mapped by
// `path_map` (longest prefix wins): it must exist with the size the handle
// records (code 2/6: exactly; segments: at least start + size). Directory
// strings (code 17) must be directories.
VerifyReport verify_files(const Snapshot& s, const std::string& snapshot_dir, const PathMap& path_map);

// --- Copy plan -----------------------------------------------------------------

struct CopyStep {
  std::string from_dir, to_dir;  // UTF-8 directory URIs
  uint64_t files = 0;            // referenced files in it
  std::string command;           // shell command copying from_dir's contents into to_dir
};

// Groups the rewritten file paths of `changes` by their directory and gives
// one recursive copy command per directory (hdfs dfs -cp, aws s3 cp
// --recursive, gsutil cp -r, cp -r). Refuses (exit 65) a path with a "." or
// ".." component or a control character: the directory copied would not be
// the one meant, or the command would split across lines.
Result<std::vector<CopyStep>> copy_plan(const std::vector<PathChange>& changes);

// --- Writing -------------------------------------------------------------------

// Replaceable system calls of the local writer (file_system.h).
using WriteHooks = io::WriteHooks;

struct WriteOptions {
  // Before replacing `target`, keep the current file as `backup_path`
  // (refused if it exists). Empty: no backup.
  std::string backup_path;
  // Replace an existing target (without a backup). When false and there is
  // no backup_path, an existing target is refused.
  bool overwrite = false;
  WriteHooks hooks;
};

// Writes `bytes` (the encoding of `expected`) through the file-system seam
// (io::write_file_atomic; locally: a temporary file next to `target`), fsyncs
// it, reads it back and decodes it, checks it against
// `expected` (bytes, header, every stream handle and directory string), then
// renames it over `target` and fsyncs the directory. On any failure the
// temporary file is removed and `target` is left as it was.
Status write_metadata_atomically(const std::string& target, const Snapshot& expected, std::string_view bytes,
                                 const WriteOptions& options = {});

// The same write in bounded memory: the encoding of `snapshot` is streamed
// into the temporary file (no copy of the bytes in memory), compared with
// what is read back block by block, then `release` is called (the caller
// drops the input snapshot and its mapping: `snapshot` is not used after it)
// and the written file is decoded and compared with the input's fingerprint
// (header, operators, trailer, every stream handle and directory string).
// Peak memory: the input (mapping + model) or the result, not both. With
// `rewrite` (plan_relocation's), the file written is `snapshot` with the
// rewritten strings, and the check compares it with that.
Status write_snapshot_atomically(const std::string& target, const Snapshot& snapshot, const WriteOptions& options = {},
                                 const std::function<void()>& release = {}, const PathRewriter& rewrite = {});

// Same comparison as write_metadata_atomically does after reading back: an
// empty string when `actual` matches `expected`, else what differs.
std::string compare_snapshots(const Snapshot& expected, const Snapshot& actual);

}  // namespace fsp
