// flink-savepoint check SNAPSHOT --job NEW_JOB: would Flink restore this
// snapshot into the new job? Rules and exit codes: docs/check.md.
#include <iostream>
#include <nlohmann/json.hpp>

#include "flink_savepoint/check.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/snapshot_set.h"
#include "flink_savepoint/path_map.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

struct CheckCliOptions {
  std::vector<std::string> snapshots;  // snapshots, or directories/prefixes holding many (snapshot_set.h)
  bool latest = false;
  std::string job;
  bool allow_non_restored_state = false;
  std::string target_flink;
  std::string state_backend;
  bool strict = false;
  std::string junit;
  bool no_states = false;
  std::vector<std::string> path_map;
  std::vector<std::string> ignore;
  std::string claim_mode;
  std::vector<std::string> config;
};

// `line`: one of many snapshots, as a JSON Lines object (schema_version, snapshot).
int emit(Context& ctx, const CheckCliOptions& o, const CheckReport& r, const std::string& snapshot = {}, bool line = false) {
  if (ctx.json && line) {
    auto j = report_to_json(r);
    j["schema_version"] = kJsonLinesSchemaVersion;
    j["snapshot"] = snapshot;
    print_json(j, -1);
  } else if (ctx.json) {
    print_json(report_to_json(r));
  } else {
    if (line) std::cout << "==> " << display(snapshot) << " <==\n";
    std::cout << report_to_text(r);
    if (line) std::cout << "\n";
  }
  if (!o.junit.empty()) {
    io::WriteOptions wo;
    wo.overwrite = true;  // a report file is regenerated on every run
    Status w = io::write_file_atomic(o.junit, report_to_junit(r, o.strict), wo);
    if (!w) {
      Error e = w.take_error();
      e.message = "cannot write JUnit report '" + o.junit + "': " + e.message;
      return report(ctx, e);
    }
  }
  return r.exit_code(o.strict);
}

int run(Context& ctx, const CheckCliOptions& o) {
  CheckOptions co;
  if (o.allow_non_restored_state) co.allow_non_restored_state = true;
  co.target_flink = o.target_flink;
  co.state_backend = o.state_backend;
  co.read_states = !o.no_states;
  co.claim_mode = o.claim_mode;
  for (const auto& spec : o.ignore) {
    auto v = validate_ignore_spec(spec);
    if (!v) return report(ctx, Error::usage("--ignore " + v.error().message));
  }
  co.ignore = o.ignore;
  auto path_map = parse_path_map(o.path_map);
  if (!path_map) return report(ctx, path_map.error());
  co.state_options.path_map = *path_map;

  if (!co.target_flink.empty()) {
    int a, b;
    if (!parse_flink_version(co.target_flink, a, b))
      return report(ctx, Error::usage("--target-flink expects a version like 1.20 or 2.1, found '" + co.target_flink + "'"));
  }
  auto job = load_job(o.job);
  if (!job) return report(ctx, job.error());
  for (const auto& c : o.config) {
    auto st = load_job_settings(c);
    if (!st) return report(ctx, st.error());
    apply_job_settings(*st, *job);
  }
  auto set = expand_snapshot_args(o.snapshots, o.latest);
  if (!set) return report(ctx, set.error());
  if (set->many && !o.junit.empty()) return report(ctx, Error::usage("--junit writes one report: give one snapshot"));
  int code = 0;
  for (const auto& snapshot : set->snapshots) {
    const bool line = set->many;
    int c;
    auto sf = open_input(snapshot);
    if (!sf) {
      if (auto r = check_undecodable_header(snapshot, *job, co)) c = emit(ctx, o, *r, snapshot, line);
      else c = line ? report_line(ctx, snapshot, sf.error()) : report(ctx, sf.error());
    } else {
      c = emit(ctx, o, check_restore(*sf, *job, co), snapshot, line);
    }
    code = code ? code : c;
  }
  return code;
}

}  // namespace

void add_check_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CheckCliOptions>();
  auto* cmd = app.add_subcommand(
      "check",
      "Predict whether Flink can restore SNAPSHOT into a new job version, offline: operator mapping (uid / uid hash), "
      "max parallelism, snapshot format vs state backend, Flink version steps, serializers and TTL. NEW_JOB is a job "
      "manifest (docs/job-manifest.md), a SQL compiled plan, REST job details (/jobs/:jobid) or a snapshot of the new "
      "job. Exit codes: 0 compatible, 1 incompatible (or warnings with --strict), 2 unknown (a rule that could fail could "
      "not be evaluated), 64 usage, 65 bad data, 66 no input.");
  cmd->add_option("SNAPSHOT", o->snapshots, std::string("the old job's snapshot(s): ") + kSnapshotsHelp)->required();
  cmd->add_flag("--latest", o->latest, kLatestHelp);
  cmd->add_option("--job", o->job, "the new job: manifest JSON, SQL compiled plan, REST job details JSON, or a snapshot")
      ->required();
  cmd->add_flag("-n,--allowNonRestoredState,--allow-non-restored-state", o->allow_non_restored_state,
                "state that maps to no operator is dropped (warning) instead of failing the restore");
  cmd->add_option("--target-flink", o->target_flink, "the Flink version that will restore (X.Y); overrides the manifest");
  cmd->add_option("--state-backend", o->state_backend, "the new job's state backend; overrides the manifest")
      ->check(CLI::IsMember({"hashmap", "rocksdb", "forst"}));
  cmd->add_flag("--json", ctx.json, "print the verdict and findings as JSON (docs/check.md)");
  cmd->add_flag("--strict", o->strict, "warnings fail too (exit 1)");
  cmd->add_option("--junit", o->junit, "also write the findings as JUnit XML to FILE, for CI systems");
  cmd->add_flag("--no-states", o->no_states, "do not read state files (skips serializer, TTL and schema rules)");
  cmd->add_option("--claimMode,--claim-mode", o->claim_mode,
                  "the restore mode, as Flink names it (execution.state-recovery.claim-mode); default no_claim")
      ->transform(CLI::IsMember({"claim", "no_claim", "legacy"}, CLI::ignore_case));
  cmd->add_option("--config,--deployment", o->config,
                  "Flink's config.yaml / flink-conf.yaml, or a FlinkDeployment / FlinkSessionJob resource (YAML or "
                  "JSON): Flink version, state.backend.type, pipeline.max-parallelism, parallelism, claim mode, "
                  "allowNonRestoredState (flags still win)");
  cmd->add_option("--ignore", o->ignore,
                  "RULE or RULE:OPERATOR (uid or 32-hex id): leave these findings out (repeatable; docs/check.md)");
  cmd->add_option("--path-map", o->path_map, "PREFIX=LOCAL_DIR: read absolute state paths under PREFIX from LOCAL_DIR");
  cmd->callback([&ctx, o] { ctx.exit_code = run(ctx, *o); });
}

}  // namespace fsp::cli
