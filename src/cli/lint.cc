// flink-savepoint lint SNAPSHOT: the production-readiness checklist.
#include <iostream>

#include "flink_savepoint/display.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/lint.h"
#include "flink_savepoint/path_map.h"
#include "flink_savepoint/snapshot_set.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

struct LintCliOptions {
  std::vector<std::string> paths;  // snapshots, or directories/prefixes holding many (snapshot_set.h)
  bool latest = false;
  bool strict = false;
  bool no_states = false;
  bool all = false;
  std::vector<std::string> path_map;
  LintOptions lint;
};

// One snapshot; `line`: one of many (a JSON Lines object, or a table row in `rows`).
int run(Context& ctx, LintCliOptions& o, const std::string& path, bool line, Table* rows) {
  auto sf = open_input(path);
  if (!sf) {
    if (rows) rows->add({path, "-", "-", "-", "error: " + sf.error().message});
    return line ? report_line(ctx, path, sf.error()) : report(ctx, sf.error());
  }
  o.lint.read_states = !o.no_states;
  auto path_map = parse_path_map(o.path_map);
  if (!path_map) return report(ctx, path_map.error());
  o.lint.state_options.path_map = *path_map;
  LintReport r = lint(*sf, o.lint);
  // --strict means what it means for `check`: warnings fail too.
  int code = o.strict && (r.fails() > 0 || r.warns() > 0) ? 1 : 0;
  if (ctx.json) {
    auto j = lint_to_json(r);
    j["snapshot"] = sf->metadata_path;
    j["exit_code"] = code;
    if (line) j["schema_version"] = kJsonLinesSchemaVersion;
    print_json(j, line ? -1 : 2);
    return code;
  }
  if (rows) {
    int passes = static_cast<int>(r.findings.size()) - r.fails() - r.warns();
    rows->add({sf->metadata_path, std::to_string(r.fails()), std::to_string(r.warns()), std::to_string(passes), r.states_note});
    return code;
  }
  Table t({"status", "check", "operator", "state", "finding"});
  for (const auto& f : r.findings) {
    if (f.status == "pass" && !o.all) continue;
    std::string op = !f.uid.empty() ? f.uid : !f.name.empty() ? f.name : f.operator_id;
    t.add({f.status, f.check, op, f.state.empty() ? "-" : f.state, f.message});
  }
  std::cout << t.render();
  // The fix of every finding shown, in text mode too.
  bool any_fix = false;
  for (const auto& f : r.findings) {
    if ((f.status == "pass" && !o.all) || f.fix.empty()) continue;
    if (!any_fix) std::cout << "\nfixes:\n";
    any_fix = true;
    std::string op = !f.uid.empty() ? f.uid : !f.name.empty() ? f.name : f.operator_id;
    std::cout << "  [" << f.check << "] " << (op.empty() ? "job" : op) << (f.state.empty() ? "" : " / " + f.state) << ": "
              << f.fix << "\n";
  }
  int passes = static_cast<int>(r.findings.size()) - r.fails() - r.warns();
  std::cout << "\n" << r.fails() << " fail, " << r.warns() << " warn, " << passes << " pass/info";
  if (!o.all) std::cout << " (passes hidden; --all shows them)";
  std::cout << "\n";
  if (!r.states_note.empty()) std::cout << "note: " << display(r.states_note) << "\n";
  return code;
}

int run_all(Context& ctx, LintCliOptions& o) {
  auto set = expand_snapshot_args(o.paths, o.latest);
  if (!set) return report(ctx, set.error());
  if (!set->many) return run(ctx, o, set->snapshots.front(), false, nullptr);
  Table rows({"snapshot", "fail", "warn", "pass/info", "note"}, {false, true, true, true, false});
  int code = 0;
  for (const auto& p : set->snapshots) {
    int c = run(ctx, o, p, true, ctx.json ? nullptr : &rows);
    code = code ? code : c;
  }
  if (!ctx.json) std::cout << rows.render();
  return code;
}

}  // namespace

void add_lint_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<LintCliOptions>();
  auto* cmd = app.add_subcommand(
      "lint",
      "Check a savepoint against Flink's production-readiness checklist: uids on stateful operators, deliberate max "
      "parallelism, state size vs backend, TTL, legacy timers, channel state, serializers that block evolution "
      "(Kryo, Java, Scala), key-group skew. See docs/lint.md.");
  cmd->add_option("SNAPSHOT", o->paths, kSnapshotsHelp)->required();
  cmd->add_flag("--latest", o->latest, kLatestHelp);
  cmd->add_flag("--json", ctx.json, "findings as JSON (see docs/lint.md)");
  cmd->add_flag("--strict", o->strict, "exit 1 when any check fails or warns (as check --strict)");
  cmd->add_flag("--all", o->all, "also list passing checks");
  cmd->add_flag("--no-states", o->no_states, "do not read state files (metadata-only checks)");
  cmd->add_option("--uid", o->lint.known_uids, "a uid the job sets (repeatable); for snapshots before Flink 2.0, which do not store uids");
  cmd->add_option("--path-map", o->path_map, "PREFIX=LOCAL_DIR: read absolute paths under PREFIX from LOCAL_DIR (repeatable)");
  cmd->add_option("--large-heap-state", o->lint.large_heap_state_bytes, "keyed heap state per operator that warns: bytes or a size such as 512mb, 1g")->transform(size_value())->capture_default_str();
  cmd->add_option("--large-full-snapshot", o->lint.large_full_snapshot_bytes, "non-incremental RocksDB checkpoint per operator that warns: bytes or a size such as 256mb")->transform(size_value())->capture_default_str();
  cmd->add_option("--large-max-parallelism", o->lint.large_max_parallelism, "max parallelism above which per-key-group overhead warns")->capture_default_str();
  cmd->add_option("--skew-ratio", o->lint.skew_ratio, "largest/mean key-group bytes that warns")->capture_default_str();
  cmd->callback([&ctx, o] { ctx.exit_code = run_all(ctx, *o); });
}

}  // namespace fsp::cli
