// migrate: fix the savepoint instead of the job. Renames an operator's uid
// (its id becomes the one Flink derives from the new uid), drops operators,
// and changes max parallelism, rewriting the keyed state of canonical
// savepoints into the key groups of the new max parallelism. The result is
// written to a new directory and read back before success. See docs/migrate.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp {

struct MigrateOptions {
  std::vector<std::pair<std::string, std::string>> rename_uid;  // OLD uid -> NEW uid
  std::vector<std::pair<std::string, std::string>> rename_id;   // 32-hex id -> NEW uid
  std::vector<std::string> drop;                                // uid or 32-hex id
  std::optional<int32_t> max_parallelism;                       // every operator
  std::vector<std::pair<std::string, int32_t>> operator_max_parallelism;  // uid or id -> N
  // PREFIX=LOCAL_DIR pairs to read absolute state file paths.
  std::vector<std::pair<std::string, std::string>> path_map;
  // The directory the result will be written to (names new state files; for
  // metadata v2, whose handles cannot be relative, their absolute file: URIs).
  std::string output_dir;
};

struct OperatorChange {
  std::string action;          // rename | drop | max-parallelism
  std::string old_id, new_id;  // hex
  std::string old_uid, new_uid;  // as known (v5+ stored uid, or given)
  std::string name;
  int32_t old_max_parallelism = 0, new_max_parallelism = 0;
  bool keyed_rewritten = false;  // max-parallelism: keyed state re-grouped
  int64_t entries = 0;           // keyed entries (timers included) re-grouped
  int64_t timers = 0;
  int32_t key_groups_with_data = 0;  // in the new max parallelism
  int32_t handles = 0;           // keyed handles written
};

struct MigrateFile {
  std::string name;   // relative to the output directory
  int64_t size = 0;
  bool copied = false;  // a file of the source copied as is (else a new state file)
  std::string bytes;    // new state files: their content ("" for copied or inline)
};

struct MigratePlan {
  std::vector<OperatorChange> changes;
  std::vector<MigrateFile> files;  // new state files and the source's relative files to copy
  int32_t inline_handles = 0;      // new keyed handles kept inline in _metadata
};

// Applies the edits to file.snapshot in place (views of new strings live in
// its arena) and returns what changed and which files the output needs.
// Refuses (kUsage) edits that cannot be done: an unknown operator, a new id
// that exists, a max parallelism below the parallelism or above 32768, keyed
// state of native savepoints and checkpoints (hint: flink stop --type
// canonical), keys whose hashCode cannot be recomputed (the class is named).
Result<MigratePlan> plan_migration(SnapshotFile& file, const MigrateOptions& options);

// Writes the planned files into a staging directory beside output_dir (state
// files written and fsynced first, _metadata last and verified by
// write_metadata_atomically), reads the whole result back (verify_migration),
// then renames the staging directory to output_dir. output_dir must not exist.
Status write_migration(const SnapshotFile& file, const MigratePlan& plan, const std::string& output_dir);

// Reads a migrated snapshot back: every referenced local file present with its
// size, and for every re-grouped operator every keyed handle covering exactly
// the range Flink computes for its subtask, every entry once, in the key group
// Flink assigns its key, as many entries as the plan wrote.
Status verify_migration(const std::string& dir, const MigratePlan& plan);

}  // namespace fsp
