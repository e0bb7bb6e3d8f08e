// `check`: would Flink restore this snapshot into this new job? Applies the
// restore-time rules of Flink (Checkpoints.loadAndValidateCheckpoint,
// StateAssignmentOperation, state backends, serializer compatibility, version
// cut-offs) offline and reports findings. Every rule is listed in docs/check.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  std::string claim_mode;     // claim | no_claim | legacy ("" = the job's, else Flink's default NO_CLAIM)
  // Rules to leave out: "RULE" (everywhere) or "RULE:OPERATOR" (uid or 32-hex id).
  std::vector<std::string> ignore;
  // Read the state files to learn state schemas (serializer, TTL, kind rules).
  bool read_states = true;
  StateReadOptions state_options{.path_map = {}, .statistics = false, .progress = {}};
  // States already read from this snapshot (read_states): used instead of reading them again.
  std::shared_ptr<const std::vector<OperatorStates>> states;
};

// How one snapshot operator was matched.
struct OperatorMatch {
  size_t snapshot_index = 0;
  int job_index = -1;       // index into NewJob::operators, -1 = unmatched
  bool by_user_defined_id = false;
  std::string operator_id;  // the snapshot operator's id (hex)
  std::string uid, name;    // where known (v5+ metadata, or the matched job operator)
};

// A rule that could have failed but could not be evaluated (state files
// missing or not understood, a serializer the rules cannot judge, chained
// operators a REST input cannot show). Any of these makes the verdict "unknown".
struct Unevaluated {
  std::string rule;         // rule id, or several joined with ", "
  std::string operator_id;  // 32 hex ("" = job-wide)
  std::string reason;
};

enum class Verdict { kCompatible = 0, kIncompatible = 1, kUnknown = 2 };

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
  std::string claim_mode;
  bool allow_non_restored_state = false;
  bool states_read = false;     // snapshot state schemas were available
  std::vector<OperatorMatch> matches;
  std::vector<Finding> findings;
  bool states_skipped = false;  // --no-states: the state rules were opted out of
  bool state_dropped = false;   // --allowNonRestoredState drops some snapshot state
  std::vector<Unevaluated> unevaluated;
  std::vector<std::string> notes;

  int count(Severity s) const;
  // incompatible: an error; unknown: no error, but a rule that could fail was not evaluated.
  Verdict verdict_kind() const;
  bool compatible() const { return verdict_kind() == Verdict::kCompatible; }
  bool has_errors() const { return count(Severity::kError) > 0; }
  const char* verdict() const;  // "compatible" | "incompatible" | "unknown"
  // "compatible", "compatible with state dropped", "incompatible", "unknown", plus "(--no-states: ...)".
  std::string verdict_line() const;
  // 0 compatible, 1 incompatible (or warnings with strict), 2 unknown.
  int exit_code(bool strict) const;
};

// Every rule id check can report (docs/check.md), in documentation order.
const std::vector<std::string>& check_rule_ids();

// Runs every rule. With options.read_states the snapshot's state files are
// read (read_states) for the schema and serializer rules.
CheckReport check_restore(const SnapshotFile& snapshot, const NewJob& job, const CheckOptions& options = {});

// Header-only checks for a file whose metadata cannot be decoded because the
// version is unsupported (metadata v1): returns a report with one finding, or
// nothing when the header is not of that kind.
std::optional<CheckReport> check_undecodable_header(const std::string& snapshot_path, const NewJob& job,
                                                    const CheckOptions& options);

std::string report_to_text(const CheckReport& r);    // grouped by operator
// JUnit XML: one test case per snapshot operator and per job-wide rule group (a stable set from run to run).
// Errors fail; warnings fail too with `strict`; unevaluated rules are reported as skipped.
std::string report_to_junit(const CheckReport& r, bool strict = false);

}  // namespace fsp
