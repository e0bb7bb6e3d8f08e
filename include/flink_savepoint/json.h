// JSON views of the library's results, and the JSON job inputs of `check`:
// the only public header that exposes nlohmann::json (docs/json.md has the
// contracts).
#pragma once

#include <nlohmann/json.hpp>

#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/lint.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/summary.h"

namespace fsp {

// check's report as JSON (report_to_text and report_to_junit are in check.h).
nlohmann::json report_to_json(const CheckReport& r);

// The parsers behind load_job, for JSON already in memory.
Result<NewJob> parse_job_manifest(const nlohmann::json& j);
Result<NewJob> parse_sql_plan(const nlohmann::json& j);
Result<NewJob> parse_rest_job(const nlohmann::json& j);
// REST GET /jobs/:jobid/plan (JobPlanInfo): nodes are job vertices (chain heads), no max parallelism.
Result<NewJob> parse_rest_plan(const nlohmann::json& j);
// "manifest" | "sql-plan" | "rest" | "rest-plan" | "" (unknown) for a JSON document.
std::string detect_job_kind(const nlohmann::json& j);

// Strict validation of a job manifest: unknown keys (with "did you mean"),
// wrong types and out-of-range values are usage errors (exit 64) naming the
// JSON path ("operators[2].paralelism").
Status validate_job_manifest(const nlohmann::json& j);

// The manifest of the job that wrote FILE (`inspect --emit-manifest`): uid
// (v5+, when its hash is the id) or uid_hash, name, parallelism, max
// parallelism, and with STATES the states of fully read operators (name, kind,
// serializers, TTL; timers left out).
nlohmann::json emit_job_manifest(const SnapshotFile& file, const std::vector<OperatorStates>* states);

nlohmann::json lint_to_json(const LintReport& report);

// The "states" array: one object per state with name, kind, key_serializer,
// namespace_serializer, value_serializer, user_key_serializer (when present),
// ttl, entries, bytes, type (+ distribution, subtask_entries, key-group stats).
nlohmann::json states_to_json(const OperatorStates& op);

// The whole model as JSON (contract in docs/json.md).
nlohmann::json snapshot_to_json(const Snapshot& s, const JsonOptions& options = {});

nlohmann::json summary_to_json(const SnapshotSummary& sum);

}  // namespace fsp
