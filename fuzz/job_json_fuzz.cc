// Fuzz target: the `check` gate's readers of the NEW job (src/job_load.cc,
// src/job_sql_plan.cc): the job manifest, the SQL compiled plan and the REST
// job details, on any JSON; then the gate itself (check_restore, without
// state files) against a small fixed snapshot, and its three report formats.
// Invariants: no exception escapes (the CLI would exit 70, "internal error",
// instead of saying what is wrong with the file), a failure is kUsage/kData.
#include <nlohmann/json.hpp>

#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/json.h"
#include "fuzz/fuzz_common.h"

namespace {

const fsp::SnapshotFile& fixed_snapshot() {
  static const fsp::SnapshotFile sf = [] {
    fsp::SnapshotFile f;
    f.metadata_path = "fuzz/_metadata";
    f.directory = "fuzz";
    f.snapshot.version = 6;
    f.snapshot.checkpoint_id = 42;
    for (int i = 0; i < 3; ++i) {
      fsp::OperatorState op;
      for (int b = 0; b < 16; ++b) op.id[b] = static_cast<uint8_t>(i * 16 + b);
      op.parallelism = 2;
      op.max_parallelism = 128;
      op.uid = i == 0 ? "orders-source" : i == 1 ? "enrich-orders-uid" : "";
      f.snapshot.operators.push_back(op);
    }
    return f;
  }();
  return sf;
}

void gate(const fsp::NewJob& job) {
  fsp::CheckOptions o;
  o.read_states = false;
  fsp::CheckReport r = fsp::check_restore(fixed_snapshot(), job, o);
  (void)fsp::report_to_json(r).dump();
  (void)fsp::report_to_text(r);
  (void)fsp::report_to_junit(r, true);
}

void check_error(const fsp::Error& e) {
  FSP_FUZZ_CHECK(!e.message.empty(), e.to_string());
  FSP_FUZZ_CHECK(e.kind == fsp::ErrorKind::kUsage || e.is_bad_data(), e.to_string());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  auto j = nlohmann::json::parse(fuzz::as_view(data, size), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  std::string kind = detect_job_kind(j);
  for (int which = 0; which < 3; ++which) {
    Result<NewJob> job = which == 0 ? parse_job_manifest(j) : which == 1 ? parse_sql_plan(j) : parse_rest_job(j);
    if (!job.ok()) {
      check_error(job.error());
      continue;
    }
    if ((which == 0 && kind == "manifest") || (which == 1 && kind == "sql-plan") || (which == 2 && kind == "rest") ||
        size < 4096)
      gate(*job);
  }
  return 0;
}
