// flink-savepoint gc JOB_CHECKPOINT_DIR: the files no retained checkpoint
// references (docs/gc.md); deletes them only with --delete.
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "flink_savepoint/gc.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/json_writer.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

struct GcCliOptions {
  GcOptions gc;
  bool remove = false;
  std::string log;
};

std::string age_text(int64_t ms) {
  int64_t s = ms / 1000;
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400 * 2) return std::to_string(s / 3600) + "h" + std::to_string((s % 3600) / 60) + "m";
  return std::to_string(s / 86400) + "d";
}

nlohmann::json file_json(const char* type, const GcFile& g) {
  return {{"type", type}, {"uri", g.uri}, {"size", g.size}, {"age_s", g.age_ms / 1000}, {"reason", g.reason}};
}

std::string default_log_name() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "flink-savepoint-gc-%Y%m%dT%H%M%SZ.log", std::gmtime(&t));
  return buf;
}

int run(Context& ctx, GcCliOptions& o) {
  auto rep = find_orphans(o.gc);
  if (!rep) return report(ctx, rep.error());
  const GcReport& r = *rep;

  if (ctx.json) {
    for (const GcFile& g : r.orphans) print_json(file_json("orphan", g), -1);
  } else if (!r.orphans.empty()) {
    Table t({"size", "age", "reason", "file"}, {true, true, false, false});
    for (const GcFile& g : r.orphans) t.add({human_size(static_cast<int64_t>(g.size)), age_text(g.age_ms), g.reason, g.uri});  // Table escapes its cells
    std::cout << t.render();
  }
  auto totals = [&](nlohmann::json& j) {
    j["type"] = "summary";
    j["orphans"] = r.orphans.size();
    j["orphan_bytes"] = r.orphan_bytes;
    j["files_seen"] = r.files_seen;
    j["referenced"] = r.referenced;
    j["kept_young"] = r.kept_young;
    j["kept_in_flight"] = r.kept_in_flight;
    j["not_regular"] = r.not_regular;
    j["missing_referenced"] = r.missing_referenced;
    j["checkpoints"] = r.checkpoints;
    j["in_flight"] = r.in_flight;
    j["min_age_s"] = o.gc.min_age_ms / 1000;
  };
  if (!ctx.json) {
    std::cout << r.orphans.size() << " orphaned file(s), " << human_size(static_cast<int64_t>(r.orphan_bytes)) << " ("
              << r.orphan_bytes << " bytes) of " << r.files_seen << " file(s); " << r.referenced << " referenced by "
              << r.checkpoints.size() << " checkpoint(s)" << (o.gc.keep.empty() ? "" : " and --keep") << "; "
              << r.kept_young + r.kept_in_flight << " younger than --min-age kept";
    if (!r.in_flight.empty()) std::cout << " (" << r.in_flight.size() << " chk-N in flight)";
    std::cout << "\n";
    if (r.missing_referenced)
      std::cout << "warning: " << r.missing_referenced << " referenced file(s) below the directory are missing\n";
  }
  if (!o.remove) {
    if (ctx.json) {
      nlohmann::json j;
      totals(j);
      print_json(j, -1);
    } else if (!r.orphans.empty()) {
      std::cout << "nothing deleted; run again with --delete to remove them\n";
    }
    return 0;
  }

  std::string log = o.log.empty() ? default_log_name() : o.log;
  auto del = delete_orphans(o.gc, r, log);
  if (!del) return report(ctx, del.error());
  if (ctx.json) {
    for (const GcFile& g : del->deleted) print_json(file_json("deleted", g), -1);
    for (const GcFile& g : del->skipped) print_json(file_json("skipped", g), -1);
    for (const auto& [uri, err] : del->failed) print_json(nlohmann::json{{"type", "failed"}, {"uri", uri}, {"error", err}}, -1);
    nlohmann::json j;
    totals(j);
    j["deleted"] = del->deleted.size();
    j["skipped"] = del->skipped.size();
    j["failed"] = del->failed.size();
    j["log"] = del->log_error ? nlohmann::json(nullptr) : nlohmann::json(log);
    print_json(j, -1);
  } else {
    uint64_t bytes = 0;
    for (const GcFile& g : del->deleted) bytes += g.size;
    for (const auto& [uri, err] : del->failed) std::cout << "failed: " << display(err) << "\n";
    std::cout << "deleted " << del->deleted.size() << " file(s), " << human_size(static_cast<int64_t>(bytes)) << "; "
              << del->skipped.size() << " left alone (the second pass did not list them the same)";
    if (!del->log_error) std::cout << "; log: " << display(log);
    std::cout << "\n";
  }
  if (del->log_error) return report(ctx, *del->log_error);
  return del->failed.empty() ? 0 : 74;
}

}  // namespace

void add_gc_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<GcCliOptions>();
  auto* cmd = app.add_subcommand(
      "gc",
      "List the files of a job's checkpoint directory (chk-*, shared/, taskowned/) that no complete checkpoint and "
      "no --keep snapshot references, and aborted chk-N directories; delete them with --delete. Files younger than "
      "--min-age are never listed. See docs/gc.md. Exit codes: 0 ok, 64 usage, 65 bad data, 66 no input, 74 I/O.");
  cmd->add_option("JOB_CHECKPOINT_DIR", o->gc.job_dir, "the directory (or store prefix) holding chk-*, shared/, taskowned/")->required();
  cmd->add_option("--keep", o->gc.keep, "a snapshot elsewhere whose files stay (e.g. the savepoint a job was restored from); repeatable")->allow_extra_args(false);
  cmd->add_option("--min-age", o->gc.min_age_ms, "never list files younger than this; aborted chk-N only when all their files are older (default 1h)")
      ->transform(duration_value());
  cmd->add_flag("--delete", o->remove, "delete the orphans: re-reads every _metadata, re-lists, deletes what both passes agree on");
  cmd->add_option("--log", o->log, "with --delete: where the deleted URIs are written (default ./flink-savepoint-gc-<UTC time>.log)");
  cmd->add_flag("--json", ctx.json, "JSON Lines: one object per file, then a summary object");
  cmd->callback([&ctx, o] { ctx.exit_code = run(ctx, *o); });
}

}  // namespace fsp::cli
