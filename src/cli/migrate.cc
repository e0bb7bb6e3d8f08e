// flink-savepoint migrate SNAPSHOT --output DIR: rename uids, drop operators,
// change max parallelism (src/analysis/migrate.cc, docs/migrate.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "flink_savepoint/migrate.h"
#include "flink_savepoint/path_map.h"
#include "flink_savepoint/snapshot_file.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

struct MigrateCliOptions {
  std::string path, output;
  std::vector<std::string> rename_uid, rename_id, drop, max_parallelism, path_map;
  bool dry_run = false;
};

Result<std::pair<std::string, std::string>> split_pair(const std::string& arg, const char* flag) {
  auto eq = arg.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    return Error::usage(std::string(flag) + " wants FROM=TO, got '" + arg + "'");
  return std::make_pair(arg.substr(0, eq), arg.substr(eq + 1));
}

Result<int32_t> parse_int(const std::string& s) {
  try {
    size_t n = 0;
    long v = std::stol(s, &n);
    if (n == s.size() && v > 0 && v <= (1 << 15)) return static_cast<int32_t>(v);
  } catch (...) {
  }
  return Error::usage("--max-parallelism wants a number in 1..32768, got '" + s + "'");
}

int run(Context& ctx, const MigrateCliOptions& o) {
  if (o.output.empty() && !o.dry_run) return report(ctx, Error::usage("give --output DIR (a new directory) or --dry-run"));
  MigrateOptions mo;
  for (auto& a : o.rename_uid) {
    auto p = split_pair(a, "--rename-uid");
    if (!p) return report(ctx, p.error());
    mo.rename_uid.push_back(*p);
  }
  for (auto& a : o.rename_id) {
    auto p = split_pair(a, "--rename-id");
    if (!p) return report(ctx, p.error());
    mo.rename_id.push_back(*p);
  }
  mo.drop = o.drop;
  for (auto& a : o.max_parallelism) {
    if (a.find('=') == std::string::npos) {
      auto n = parse_int(a);
      if (!n) return report(ctx, n.error());
      if (mo.max_parallelism) return report(ctx, Error::usage("--max-parallelism N is given twice"));
      mo.max_parallelism = *n;
    } else {
      auto p = split_pair(a, "--max-parallelism");
      if (!p) return report(ctx, p.error());
      auto n = parse_int(p->second);
      if (!n) return report(ctx, n.error());
      mo.operator_max_parallelism.emplace_back(p->first, *n);
    }
  }
  if (mo.rename_uid.empty() && mo.rename_id.empty() && mo.drop.empty() && !mo.max_parallelism &&
      mo.operator_max_parallelism.empty())
    return report(ctx, Error::usage("nothing to do: give --rename-uid, --rename-id, --drop or --max-parallelism"));
  auto pm = parse_path_map(o.path_map);
  if (!pm) return report(ctx, pm.error());
  mo.path_map = *pm;
  mo.output_dir = o.output;

  auto sf = open_input(o.path);
  if (!sf) return report(ctx, sf.error());
  if (sf->directory.empty()) return report(ctx, Error::usage("migrate reads a snapshot directory or _metadata file, not standard input"));
  auto plan = plan_migration(*sf, mo);
  if (!plan) return report(ctx, plan.error());
  if (!o.dry_run) {
    auto st = write_migration(*sf, *plan, o.output);
    if (!st) return report(ctx, st.error());
  }

  int64_t new_bytes = 0, copied = 0, copied_bytes = 0, written = 0;
  for (auto& f : plan->files) {
    if (f.copied) {
      ++copied;
      copied_bytes += f.size;
    } else {
      ++written;
      new_bytes += f.size;
    }
  }
  if (ctx.json) {
    nlohmann::json j;
    j["input"] = sf->metadata_path;
    j["output"] = o.dry_run ? nlohmann::json(nullptr) : nlohmann::json(o.output);
    j["dry_run"] = o.dry_run;
    nlohmann::json ch = nlohmann::json::array();
    for (auto& c : plan->changes)
      ch.push_back({{"action", c.action}, {"old_id", c.old_id}, {"new_id", c.new_id}, {"old_uid", c.old_uid},
                    {"new_uid", c.new_uid}, {"name", c.name}, {"old_max_parallelism", c.old_max_parallelism},
                    {"new_max_parallelism", c.new_max_parallelism}, {"keyed_state_rewritten", c.keyed_rewritten},
                    {"entries", c.entries}, {"timers", c.timers}, {"key_groups_with_data", c.key_groups_with_data},
                    {"keyed_handles", c.handles}});
    j["changes"] = std::move(ch);
    nlohmann::json files = nlohmann::json::array();
    for (auto& f : plan->files) files.push_back({{"name", f.name}, {"size", f.size}, {"copied", f.copied}});
    j["files"] = std::move(files);
    j["inline_handles"] = plan->inline_handles;
    print_json(j);
    return 0;
  }
  Table t({"action", "operator", "id", "new id", "max parallelism", "keyed entries", "timers", "key groups"},
          {false, false, false, false, false, true, true, true});
  for (auto& c : plan->changes) {
    std::string op = !c.old_uid.empty() ? c.old_uid : !c.name.empty() ? c.name : "-";
    if (c.action == "rename") op += " -> " + c.new_uid;
    std::string maxp = c.action == "max-parallelism"
                           ? std::to_string(c.old_max_parallelism) + " -> " + std::to_string(c.new_max_parallelism)
                           : std::to_string(c.old_max_parallelism);
    bool kv = c.keyed_rewritten;
    t.add({c.action, op, c.old_id, c.action == "drop" ? "-" : c.new_id, maxp, kv ? std::to_string(c.entries) : "-",
           kv ? std::to_string(c.timers) : "-", kv ? std::to_string(c.key_groups_with_data) : "-"});
  }
  std::cout << t.render();
  std::cout << (o.dry_run ? "would write: " : "wrote:       ") << written << " new state file(s) (" << human_size(new_bytes)
            << "), " << plan->inline_handles << " inline keyed handle(s), " << copied
            << " file(s) copied from the source (" << human_size(copied_bytes) << "), _metadata last\n";
  if (o.dry_run) std::cout << "dry run: nothing written\n";
  else std::cout << "output:      " << o.output << " (read back and checked)\n";
  return 0;
}

}  // namespace

void add_migrate_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand(
      "migrate",
      "Fix the savepoint instead of the job: rename an operator's uid, drop an operator's state, change max "
      "parallelism (re-grouping the keyed state of canonical savepoints). Writes a new directory and reads it back "
      "before reporting success. See docs/migrate.md.");
  auto o = std::make_shared<MigrateCliOptions>();
  cmd->add_option("SNAPSHOT", o->path, "savepoint directory or _metadata file")->required();
  cmd->add_option("--output,-o", o->output, "the new snapshot directory (must not exist)");
  cmd->add_option("--rename-uid", o->rename_uid,
                  "OLD=NEW: the operator with uid OLD gets the id Flink derives from NEW (and, in metadata v5+, the "
                  "stored uid NEW)");
  cmd->add_option("--rename-id", o->rename_id, "HEX=NEW_UID: the operator with id HEX gets the id of NEW_UID");
  cmd->add_option("--drop", o->drop, "UID|ID: remove the operator's state");
  cmd->add_option("--max-parallelism", o->max_parallelism,
                  "N (every operator) or UID=N: set max parallelism, re-grouping keyed state");
  cmd->add_option("--path-map", o->path_map, "PREFIX=LOCAL_DIR to read absolute state file paths");
  cmd->add_flag("--dry-run", o->dry_run, "print what would change and write nothing");
  cmd->add_flag("--json", ctx.json, "print the changes as JSON");
  cmd->callback([&ctx, o] { ctx.exit_code = run(ctx, *o); });
}

}  // namespace fsp::cli
