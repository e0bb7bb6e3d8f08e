// Many snapshots in one call: the command-line arguments of inspect, lint and
// check expanded to snapshots. An argument is a snapshot (a _metadata file,
// the directory holding one, or "-"), or a directory / object-store prefix
// holding many (chk-N, savepoint-*, ...; every _metadata found below it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flink_savepoint/result.h"

namespace fsp {

struct SnapshotArgs {
  std::vector<std::string> snapshots;  // the _metadata files (or "-"), in argument order, then by path
  bool many = false;                   // more than one argument, or an argument that held several
};

// Expands every argument. With `latest`, each argument is a job's checkpoint
// directory and stands for its newest complete checkpoint: the chk-N with the
// highest N that holds a _metadata (found recursively).
Result<SnapshotArgs> expand_snapshot_args(const std::vector<std::string>& args, bool latest = false);

// "chk-42" -> 42; -1 for any other name.
int64_t checkpoint_number(const std::string& directory_name);

}  // namespace fsp
