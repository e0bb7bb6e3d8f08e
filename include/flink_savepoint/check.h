// `check`: would Flink restore this snapshot into this new job? Applies the
// restore-time rules of Flink (Checkpoints.loadAndValidateCheckpoint,
// StateAssignmentOperation, state backends, serializer compatibility, version
// cut-offs) offline and reports findings. Every rule is listed in docs/check.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flink_savepoint/job.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state.h"

namespace fsp {

enum class Severity { kInfo = 0, kWarning = 1, kError = 2 };
const char* severity_name(Severity s);  // "info" | "warning" | "error"

struct Finding {
  Severity severity = Severity::kInfo;
  std::string rule;         // stable id, e.g. "unmatched-state" (docs/check.md)
  std::string operator_id;  // 32 hex ("" = job-wide)
  std::string uid;          // where known
  std::string name;         // where known
  std::string message;      // what and why
  std::string flink_error;  // the exception text Flink would throw ("" = none / no fixed text)
  std::string hint;         // how to fix it
};

struct CheckOptions {
  // Overrides of the job description (command-line flags win over the file).
  std::optional<bool> allow_non_restored_state;
  std::string target_flink;   // "X.Y"
  std::string state_backend;  // hashmap | rocksdb | forst
  // Read the state files to learn state schemas (serializer, TTL, kind rules).
  bool read_states = true;
  StateReadOptions state_options{.path_map = {}, .statistics = false, .progress = {}};
};

// How one snapshot operator was matched.
struct OperatorMatch {
  size_t snapshot_index = 0;
  int job_index = -1;       // index into NewJob::operators, -1 = unmatched
  bool by_user_defined_id = false;
};

struct CheckReport {
  std::string snapshot_path;
  std::string job_source;
  std::string job_kind;
  std::string snapshot_type;    // savepoint | checkpoint | ""
  std::string snapshot_format;  // canonical | native | ""
  std::string snapshot_backend;
  int32_t metadata_version = 0;
  std::string target_flink;
  std::string state_backend;
  bool allow_non_restored_state = false;
  bool states_read = false;     // snapshot state schemas were available
  std::vector<OperatorMatch> matches;
  std::vector<Finding> findings;
  std::vector<std::string> notes;

  int count(Severity s) const;
  bool compatible() const { return count(Severity::kError) == 0; }
  const char* verdict() const { return compatible() ? "compatible" : "incompatible"; }
};

// Runs every rule. With options.read_states the snapshot's state files are
// read (read_states) for the schema and serializer rules.
CheckReport check_restore(const SnapshotFile& snapshot, const NewJob& job, const CheckOptions& options = {});

// Header-only checks for a file whose metadata cannot be decoded because the
// version is unsupported (metadata v1): returns a report with one finding, or
// nothing when the header is not of that kind.
std::optional<CheckReport> check_undecodable_header(const std::string& snapshot_path, const NewJob& job,
                                                    const CheckOptions& options);

// Output.
nlohmann::json report_to_json(const CheckReport& r);
std::string report_to_text(const CheckReport& r);    // grouped by operator
// JUnit XML: one test case per operator with findings, one job-wide. Errors fail; warnings fail too with `strict`.
std::string report_to_junit(const CheckReport& r, bool strict = false);

}  // namespace fsp
