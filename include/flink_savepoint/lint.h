// The production-readiness checklist, read off a snapshot: uids, max
// parallelism, state size against backend, TTL, legacy timers, channel state,
// serializers that block evolution, key-group skew. See docs/lint.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state.h"

namespace fsp {

struct LintOptions {
  // Thresholds (documented defaults in docs/lint.md).
  int64_t large_heap_state_bytes = 1LL << 30;          // hashmap keyed state per operator
  int64_t large_full_snapshot_bytes = 256LL << 20;     // non-incremental RocksDB checkpoint per operator
  int32_t large_max_parallelism = 8192;                // per-key-group overhead
  double skew_ratio = 4.0;                             // largest key group / mean
  int64_t skew_min_bytes = 64LL << 10;                 // ignore skew below this much keyed data
  // Uids known to be set in the job (pre-v5 snapshots do not store uids).
  std::vector<std::string> known_uids;
  // Read state files for state-level checks (TTL, serializers, skew).
  bool read_states = true;
  StateReadOptions state_options;
};

struct LintFinding {
  std::string check;       // uid, max-parallelism, state-size, ttl, legacy-timers, channel-state, serializer, key-group-skew
  std::string status;      // pass | warn | fail | info
  std::optional<size_t> operator_index;
  std::string operator_id, uid, name;
  std::string state;       // state name, where the finding is about one state
  std::string message;
  std::string evidence;    // numbers from the snapshot: a JSON object as text ("" = none)
  std::string fix;
};

struct LintReport {
  std::vector<LintFinding> findings;
  bool states_read = false;
  std::string states_note;  // why state-level checks were not done, if they were not
  int fails() const;
  int warns() const;
};

LintReport lint(const SnapshotFile& file, const LintOptions& options = {});

// Flink's KeyGroupRangeAssignment.computeDefaultMaxParallelism.
int32_t default_max_parallelism(int32_t parallelism);

}  // namespace fsp
