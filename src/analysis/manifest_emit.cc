// `inspect --emit-manifest`: the job manifest (docs/job-manifest.md) of the job
// that wrote a snapshot, as far as the snapshot tells it. Teams commit it next
// to the job and edit it with the code; `check SNAP --job <(inspect
// --emit-manifest SNAP)` is compatible with zero warnings.
#include "flink_savepoint/job.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/summary.h"

namespace fsp {

nlohmann::json emit_job_manifest(const SnapshotFile& file, const std::vector<OperatorStates>* states) {
  const Snapshot& s = file.snapshot;
  nlohmann::json m;
  m["schema_version"] = kJobManifestSchemaVersion;
  m["generated_by"] = "flink-savepoint inspect --emit-manifest " +
                      (file.directory.empty() ? file.metadata_path : file.directory);
  m["description"] =
      "the job that wrote this snapshot: operators pinned by uid (metadata v5+) or by setUidHash of their id, the "
      "snapshot's parallelism and max parallelism, and the states read from its state files. Edit it with the job.";
  // The backend, where the snapshot's handle types tell it: the emitted job
  // then restores with the backend that wrote it.
  SnapshotSummary sum = summarize(s, /*list_files=*/false);
  if (sum.state_backend == StateBackend::kHashMap || sum.state_backend == StateBackend::kRocksDb)
    m["state_backend"] = to_string(sum.state_backend);  // of the inner backend under changelog
  nlohmann::json ops = nlohmann::json::array();
  for (size_t i = 0; i < s.operators.size(); ++i) {
    const auto& op = s.operators[i];
    nlohmann::json o;
    std::string uid = modified_utf8_to_utf8(op.uid);
    if (!uid.empty() && operator_id_from_uid(uid) == op.id) o["uid"] = uid;
    else o["uid_hash"] = op.id_hex();  // pins the id as setUidHash does
    if (!op.name.empty()) o["name"] = modified_utf8_to_utf8(op.name);
    else if (!uid.empty() && !o.contains("uid")) o["name"] = uid;
    if (op.parallelism > 0 && op.parallelism <= 32768) o["parallelism"] = op.parallelism;
    if (op.max_parallelism > 0 && op.max_parallelism <= 32768) o["max_parallelism"] = op.max_parallelism;
    if (states) {
      for (const auto& os : *states) {
        if (os.operator_index != i) continue;
        // Only fully read operators get "states": a partial list would claim
        // the job registers fewer states than it does.
        if (os.handles_failed || os.handles_missing || os.handles_unsupported) break;
        nlohmann::json sts = nlohmann::json::array();
        for (const auto& st : os.states) {
          if (st.state_kind == StateKind::kTimers || st.name.rfind("_timer_state/", 0) == 0) continue;  // Flink-internal
          nlohmann::json x;
          x["name"] = st.name;
          if (st.state_kind != StateKind::kUnknown) x["kind"] = st.kind;
          if (!st.key_serializer.empty()) x["key_serializer"] = st.key_serializer;
          if (!st.value_serializer.empty()) x["value_serializer"] = st.value_serializer;
          x["ttl"] = st.ttl;
          sts.push_back(std::move(x));
        }
        if (!sts.empty()) o["states"] = std::move(sts);
      }
    }
    ops.push_back(std::move(o));
  }
  m["operators"] = std::move(ops);
  return m;
}

}  // namespace fsp
