// The NEW job a snapshot is to be restored into, as `check` sees it. Four
// inputs describe it (detected from their content, see docs/job-manifest.md):
//   1. the project's own job manifest (JSON, "operators": [...]);
//   2. a Flink SQL compiled plan (COMPILE PLAN JSON, "nodes": [...]): uids are
//      derived the way the planner derives them (table.exec.uid.format);
//   3. Flink REST job details (GET /jobs/:jobid, "vertices": [...]): only
//      chain-head operator ids are known;
//   4. another snapshot taken from the new job version.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp {

// One state the new job registers (manifest "states", or read from a second snapshot).
struct JobState {
  std::string name;
  std::string kind;              // value | list | map | reducing | aggregating | operator_list | operator_union | broadcast | ...
  std::string key_serializer;    // class name (full or simple), "" = not given
  std::string value_serializer;  // class name (full or simple), "" = not given
  std::optional<bool> ttl;       // unset = not given
};

// SQL plans: one entry of a node's "state" array (FLIP-292) with its TTL.
struct SqlStateTtl {
  int index = 0;
  std::string name;     // the plan's label ("groupAggregateState", "leftState"), not the backend's state name
  int64_t ttl_ms = 0;   // 0 = no TTL
};

struct JobOperator {
  // Identity. Flink matches snapshot state against both the generated id and
  // the user-defined id of every operator (OperatorIDPair).
  std::string uid;                        // .uid(...) ("" = none)
  std::optional<OperatorId> operator_id;  // the generated id when given directly (auto-generated ids, REST vertex ids)
  std::optional<OperatorId> uid_hash;     // .setUidHash(...): the user-defined id
  std::string name;
  std::string origin;                     // where it came from: "operators[3]", "plan node 4 (stream-exec-sink_1)", ...

  int32_t parallelism = 0;                // 0 = unknown
  int32_t max_parallelism = 0;            // 0 = not set / unknown
  bool max_parallelism_explicit = false;  // set by the user (manifest); false = derived or unknown
  bool max_parallelism_effective = false; // max_parallelism is the runtime value, explicit or not (REST, snapshot)

  // SQL plans: this transformation may or may not exist (the planner creates
  // some only in some configurations). It is matched, but never reported as new.
  bool optional = false;
  std::string group;                      // plan node it belongs to ("" = itself)
  bool chain_head_only = false;           // REST: the id is a JobVertexID; chained operators are invisible
  bool declares_state = false;            // SQL plans: the node lists "state" entries (its state names are plan labels)
  // SQL plans, main transformation of a stateful node: the state TTL the node
  // will run with, per "state" entry, else from table.exec.state.ttl in its
  // configuration (one entry with index -1). Empty = not given.
  std::vector<SqlStateTtl> sql_state_ttl;

  std::optional<std::vector<JobState>> states;  // unset = unknown

  // The generated id: operator_id, else murmur3(uid); nullopt when neither is known.
  std::optional<OperatorId> generated_id() const;
  // Every id under which Flink would look up state for this operator.
  std::vector<OperatorId> ids() const;
  std::string label() const;  // uid, else name, else origin
};

// The kind of input `check` was given for the new job.
enum class JobInputKind : uint8_t { kManifest, kSqlPlan, kRest, kRestPlan, kSnapshot };
const char* to_string(JobInputKind kind);  // manifest | sql-plan | rest | rest-plan | snapshot

struct NewJob {
  JobInputKind input_kind = JobInputKind::kManifest;  // rules compare this
  std::string kind;                 // to_string(input_kind), for output
  std::string source;               // the path given
  std::string flink_version;        // target Flink version "X.Y" ("" = unknown)
  std::string state_backend;        // hashmap | rocksdb | forst ("" = unknown)
  std::optional<bool> allow_non_restored_state;
  std::string claim_mode;           // claim | no_claim | legacy ("" = not given)
  int32_t max_parallelism = 0;      // job-wide, set explicitly (pipeline.max-parallelism); 0 = not set
  int32_t parallelism = 0;          // job default parallelism; 0 = unknown
  std::vector<JobOperator> operators;
  bool complete = true;             // false: operators may exist that the input cannot show (REST chains)
  std::vector<std::string> notes;   // what this input cannot tell
  std::shared_ptr<SnapshotFile> snapshot;  // kind == "snapshot"
  std::string plan_flink_version;   // SQL plan "flinkVersion"
  // Manifest "ignore": rule ids ("RULE", "RULE:UID_OR_ID"); operators' own lists are qualified with their uid or id.
  std::vector<std::string> ignore;
  int schema_version = 1;           // manifest "schema_version"
};

// The job manifest format version this build reads (manifest "schema_version").
inline constexpr int kJobManifestSchemaVersion = 1;

// validate_job_manifest (strict validation of a manifest) is in json.h.
// What the cluster restores with, from --config (config.yaml, flink-conf.yaml)
// or --deployment (FlinkDeployment / FlinkSessionJob, YAML or JSON).
struct JobSettings {
  std::string source;
  std::string kind;                 // flink-config | FlinkDeployment | FlinkSessionJob
  std::string flink_version;        // "X.Y" (spec.flinkVersion v1_20)
  std::string state_backend;        // state.backend.type
  int32_t max_parallelism = 0;      // pipeline.max-parallelism (explicit)
  int32_t parallelism = 0;          // parallelism.default / spec.job.parallelism
  std::string claim_mode;           // execution.state-recovery.claim-mode
  std::optional<bool> allow_non_restored_state;  // spec.job.allowNonRestoredState / ignore-unclaimed-state
  std::string upgrade_mode;         // spec.job.upgradeMode
  std::vector<std::string> notes;
};
Result<JobSettings> parse_job_settings(const std::string& text, const std::string& path);
Result<JobSettings> load_job_settings(const std::string& path);
// Fills what the settings say into the job (operators without their own
// parallelism / max parallelism get the job-wide values).
void apply_job_settings(const JobSettings& settings, NewJob& job);

// emit_job_manifest (`inspect --emit-manifest`) is in json.h.

// "RULE" or "RULE:OPERATOR" with a known rule id.
Status validate_ignore_spec(const std::string& spec);

// Reads PATH and detects its kind. Errors: kNoInput (missing), kUsage (not a
// job description we understand), kData (a snapshot that does not decode).
Result<NewJob> load_job(const std::string& path);

Result<NewJob> job_from_snapshot(std::shared_ptr<SnapshotFile> file);

// SQL plans: the transformation names a node type produces
// ("stream-exec-sink" -> constraint-validator, partitioner, ...; the first is the main one).
std::vector<std::string> sql_transformation_names(std::string_view node_type);
// The planner's uid for a transformation: FORMAT with <id>, <type>, <version>, <transformation> replaced.
std::string sql_transformation_uid(std::string_view format, int node_id, std::string_view type_with_version,
                                   std::string_view transformation);

// Parses "X.Y" or "X.Y.Z" into (major, minor); false if malformed.
bool parse_flink_version(std::string_view v, int& major, int& minor);

}  // namespace fsp
