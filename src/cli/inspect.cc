// flink-savepoint inspect SNAPSHOT: what is in this savepoint or checkpoint.
#include <unistd.h>

#include <charconv>
#include <iostream>

#include "flink_savepoint/job.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/json_output.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/snapshot_set.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/summary.h"
#include "flink_savepoint/walk.h"
#include "flink_savepoint/path_map.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

std::string or_dash(Str s) { return s.empty() ? "-" : display(s); }

struct InspectOptions {
  std::vector<std::string> paths;  // snapshots, or directories/prefixes holding many (snapshot_set.h)
  bool latest = false;
  bool handles = false;
  bool no_offsets = false;
  bool states = false;
  bool no_statistics = false;
  bool emit_manifest = false;
  std::vector<std::string> path_map;
  std::vector<std::string> uids;  // --uid: label operators of snapshots that do not store uids
};

std::string num_or_dash(int64_t v) { return v < 0 ? "-" : std::to_string(v); }

// Reads the state files, with progress on a terminal.
Result<std::vector<OperatorStates>> read_all_states(const SnapshotFile& sf, const InspectOptions& o) {
  StateReadOptions so;
  so.statistics = !o.no_statistics;
  auto path_map = parse_path_map(o.path_map);
  if (!path_map) return path_map.error();
  so.path_map = *path_map;
  bool tty = isatty(2);
  if (tty) {
    so.progress = [](size_t done, size_t total) {
      std::cerr << "\rreading state files: operator " << done << "/" << total << std::flush;
      if (done == total) std::cerr << "\r\033[K" << std::flush;
    };
  }
  return read_states(sf, so);
}

// The uid of an operator: stored (v5+), else one of --uid whose hash is its id ("(--uid)" marks it).
std::string uid_label(const OperatorState& op, const std::vector<std::string>& uids) {
  if (!op.uid.empty()) return display(op.uid);
  for (const auto& u : uids)
    if (operator_id_from_uid(u) == op.id) return u + " (--uid)";
  return "-";
}

void print_states(const Snapshot& s, const std::vector<OperatorStates>& all, const std::vector<std::string>& uids) {
  for (const auto& os : all) {
    if (os.states.empty() && os.problems.empty()) continue;
    const auto& op = s.operators[os.operator_index];
    std::string label = uid_label(op, uids);
    std::cout << "\n" << display(label == "-" ? op.id_hex() : label + " (" + op.id_hex() + ")") << "\n";
    Table t({"state", "kind", "type", "ttl", "entries", "bytes", "key groups", "max kg bytes"},
            {false, false, false, false, true, true, true, true});
    for (const auto& st : os.states) {
      std::string kind = st.kind;
      if (!st.distribution.empty() && st.kind.rfind("operator", 0) != 0 && st.kind != st.distribution) kind += " (" + st.distribution + ")";
      t.add({st.name, kind, st.type, st.ttl ? "yes" : "no", num_or_dash(st.entries), num_or_dash(st.bytes),
             st.key_groups_with_data > 0 ? std::to_string(st.key_groups_with_data) : "-", num_or_dash(st.max_key_group_bytes)});
    }
    std::cout << t.render();
    for (const auto& p : os.problems) std::cout << "  " << display(p) << "\n";
  }
}

void print_header(const SnapshotFile& sf, const SnapshotSummary& sum) {
  const Snapshot& s = sf.snapshot;
  std::cout << "metadata:         " << display(sf.metadata_path) << " (" << human_size(static_cast<int64_t>(sf.file_size)) << ")\n";
  std::cout << "metadata version: " << s.version << " (written by " << flink_versions_writing(s.version) << ")\n";
  std::cout << "checkpoint id:    " << s.checkpoint_id << "\n";
  std::cout << "snapshot:         ";
  if (sum.type.empty()) {
    std::cout << (s.properties.present && !s.properties.parsed ? "unknown (properties not understood: " + display(s.properties.parse_error) + ")"
                  : s.version >= 4 ? "unknown (no checkpoint properties stored)"
                                   : "unknown (metadata v2/v3 does not record it)");
  } else {
    std::cout << sum.type;
    if (!sum.format.empty()) std::cout << ", " << sum.format << " format";
    if (!sum.name.empty()) std::cout << " (\"" << display(sum.name) << "\")";
    if (sum.type_inferred) std::cout << " [inferred from handle types]";
  }
  std::cout << "\n";
  std::cout << "state backend:    " << sum.backend << " (" << sum.backend_reason << ")\n";
  std::cout << "self-contained:   "
            << (sum.self_contained ? "yes: every handle is relative or inline, the directory can be moved as a whole"
                                   : "no: " + std::to_string(sum.absolute_paths) + " absolute path(s); use `relocate` after moving it")
            << "\n";
  std::cout << "total state size: " << human_size(sum.total_size) << " (" << sum.total_size << " bytes), "
            << sum.file_count << " file(s), " << sum.inline_handles << " inline handle(s) ("
            << human_size(sum.inline_bytes) << ")\n";
  if (!s.master_states.empty()) {
    std::cout << "master states:    ";
    for (size_t i = 0; i < s.master_states.size(); ++i) {
      const auto& m = s.master_states[i];
      std::cout << (i ? ", " : "") << display(m.name) << " (v" << m.version << ", "
                << human_size(static_cast<int64_t>(m.payload.size())) << ")";
    }
    std::cout << "\n";
  }
  std::cout << "operators:        " << s.operators.size() << "\n\n";
}

void print_operators(const Snapshot& s, const SnapshotSummary& sum, const std::vector<std::string>& uids) {
  // Column names follow Flink's savepoint_metadata table function.
  Table t({"operator name", "operator uid", "operator uid hash", "parallelism", "max parallelism",
           "subtask state count", "coordinator state size", "total state size"},
          {false, false, false, true, true, true, true, true});
  for (const auto& op : s.operators) {
    std::string subtasks = std::to_string(op.subtasks.size());
    if (op.fully_finished) subtasks = "finished";
    t.add({or_dash(op.name), uid_label(op, uids), op.id_hex(), std::to_string(op.parallelism),
           std::to_string(op.max_parallelism), subtasks, human_size(op.coordinator.size()),
           human_size(sum.operator_sizes[static_cast<size_t>(&op - s.operators.data())])});
  }
  std::cout << t.render();
  if (s.version < 5) std::cout << "\n(operator names and uids are stored from metadata v5 / Flink 2.0 on; "
                                  "`flink-savepoint uid-hash UID` gives the hash of a uid)\n";
}

// Streams the rows: one walk measures the columns, a second prints (no row is held).
void print_handles(const Snapshot& s) {
  // Known plain: "#i <hex id>", numbers, and the slot, role and type names (fixed ASCII texts).
  StreamTable t({"operator", "subtask", "slot", "role", "type", "size", "path"}, {false, true, false, false, false, true, false},
                {true, true, true, false, true, true, false});
  auto& r = t.row();
  std::vector<std::string> op_label(s.operators.size());  // "#3 <id>", made once per operator
  for (size_t i = 0; i < s.operators.size(); ++i) op_label[i] = "#" + std::to_string(i) + " " + s.operators[i].id_hex();
  char subtask[24], size[24];
  std::string role, path;
  const char* last_slot = nullptr;  // slot, role and type change rarely: their lengths are taken once per change
  const char* last_role = nullptr;
  HandleCode last_code = HandleCode::kNull;
  std::string_view slot_text, role_text, type_text;
  auto fill = [&](const StreamHandle& h, const HandleLocation& loc) {
    r[0] = op_label[loc.op_index];
    r[1] = loc.subtask < 0 ? std::string_view("-")
                           : std::string_view(subtask, std::to_chars(subtask, subtask + sizeof subtask, loc.subtask).ptr);
    if (loc.slot != last_slot) slot_text = last_slot = loc.slot;
    r[2] = slot_text;
    if (loc.role != last_role) role_text = last_role = loc.role;
    if (loc.local_path.empty()) {
      r[3] = role_text;
    } else {
      role.assign(role_text).append(" ").append(loc.local_path);
      r[3] = role;
    }
    if (h.code != last_code || type_text.empty()) type_text = stream_handle_type_name(last_code = h.code);
    r[4] = type_text;
    r[5] = std::string_view(size, std::to_chars(size, size + sizeof size, h.size()).ptr);
    if (h.code == code::kByteStream) {
      path.assign("(inline) ").append(h.path);
      r[6] = path;
    } else {
      r[6] = h.path;
    }
  };
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation& loc) {
    fill(h, loc);
    t.measure();
  });
  std::cout << "\n";
  t.print_header(std::cout);
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation& loc) {
    fill(h, loc);
    t.print(std::cout);
  });
  t.flush(std::cout);
}

// One snapshot. `line`: one of many, as a JSON Lines object with schema_version.
int run(Context& ctx, const InspectOptions& o, const std::string& path, bool line) {
  auto sf = open_input(path);
  if (!sf) return line ? report_line(ctx, path, sf.error()) : report(ctx, sf.error());
  const Snapshot& s = sf->snapshot;
  std::vector<OperatorStates> states;
  if (o.emit_manifest) {
    InspectOptions ro = o;
    ro.no_statistics = true;
    auto r = read_all_states(*sf, ro);
    // Without readable state files the manifest has no "states" (unknown).
    print_json(emit_job_manifest(*sf, r ? &*r : nullptr));
    return 0;
  }
  if (o.states) {
    auto r = read_all_states(*sf, o);
    if (!r) return line ? report_line(ctx, path, r.error()) : report(ctx, r.error());
    states = std::move(*r);
  }
  if (ctx.json) {
    JsonOptions jo;
    jo.key_group_offsets = !o.no_offsets;
    SnapshotJsonExtras extras;
    extras.metadata_path = sf->metadata_path;
    extras.metadata_size = sf->file_size;
    if (o.states) extras.states = &states;
    if (line) extras.schema_version = kJsonLinesSchemaVersion;
    JsonWriter w(std::cout, line ? -1 : 2);
    write_snapshot_json(w, s, jo, extras);
    w.newline();
    if (!line) keep_until_exit(std::move(*sf));
    return 0;
  }
  SnapshotSummary sum = summarize(s, /*list_files=*/false);
  print_header(*sf, sum);
  print_operators(s, sum, o.uids);
  if (o.handles) print_handles(s);
  if (o.states) print_states(s, states, o.uids);
  if (!line) keep_until_exit(std::move(*sf));
  return 0;
}

// Many snapshots as text: one row each with the job-level figures.
int run_table(Context& ctx, const std::vector<std::string>& paths) {
  Table t({"snapshot", "checkpoint id", "version", "type", "backend", "operators", "state size", "files"},
          {false, true, true, false, false, true, true, true});
  int code = 0;
  for (const auto& p : paths) {
    auto sf = open_input(p);
    if (!sf) {
      code = code ? code : report(ctx, sf.error());
      t.add({p, "-", "-", "error: " + sf.error().message, "-", "-", "-", "-"});
      continue;
    }
    SnapshotSummary sum = summarize(sf->snapshot, /*list_files=*/false);
    std::string type = sum.type.empty() ? "unknown" : sum.type + (sum.format.empty() ? "" : " (" + sum.format + ")");
    t.add({sf->metadata_path, std::to_string(sf->snapshot.checkpoint_id), std::to_string(sf->snapshot.version), type,
           sum.backend, std::to_string(sf->snapshot.operators.size()), human_size(sum.total_size), std::to_string(sum.file_count)});
  }
  std::cout << t.render();
  return code;
}

int run_all(Context& ctx, const InspectOptions& o) {
  auto set = expand_snapshot_args(o.paths, o.latest);
  if (!set) return report(ctx, set.error());
  if (!set->many) return run(ctx, o, set->snapshots.front(), /*line=*/false);
  if (!ctx.json && !o.states && !o.handles) return run_table(ctx, set->snapshots);
  int code = 0;
  for (const auto& p : set->snapshots) {
    int c = ctx.json ? run(ctx, o, p, /*line=*/true) : (std::cout << "==> " << display(p) << " <==\n", run(ctx, o, p, false));
    if (!ctx.json) std::cout << "\n";
    code = code ? code : c;
  }
  return code;
}

}  // namespace

void add_inspect_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect",
                                 "Show what a savepoint or checkpoint holds: metadata version, checkpoint id, snapshot "
                                 "type and format, state backend, operators (name, uid, uid hash, parallelism, max "
                                 "parallelism, sizes) and the files it references.");
  cmd->add_option("SNAPSHOT", o->paths, kSnapshotsHelp)->required();
  cmd->add_flag("--latest", o->latest, kLatestHelp);
  cmd->add_flag("--json", ctx.json, "print the whole decoded model as JSON (see docs/json.md); JSON Lines for several snapshots");
  cmd->add_flag("--handles", o->handles, "also list every state handle: operator, subtask, slot, type, size, path");
  cmd->add_flag("--no-offsets", o->no_offsets, "leave key-group offset arrays out of --json output");
  cmd->add_flag("--states", o->states,
                "read the state files too: state names, kinds, serializers, readable types, TTL, entries and bytes "
                "(see docs/states.md); --json adds a `states` array to each operator");
  cmd->add_option("--uid", o->uids,
                  "a uid the job sets (repeatable): labels the operator whose id is its hash, for snapshots before "
                  "Flink 2.0, which do not store uids (as lint --uid)");
  cmd->add_flag("--emit-manifest", o->emit_manifest,
                "print the job manifest of the job that wrote the snapshot (docs/job-manifest.md), for `check --job`");
  cmd->add_flag("--no-statistics", o->no_statistics, "with --states: read only the state headers, not the data");
  cmd->add_option("--path-map", o->path_map,
                  "PREFIX=LOCAL_DIR: read absolute paths under PREFIX (e.g. s3://bucket/ckpt) from LOCAL_DIR; repeatable, "
                  "longest prefix wins");
  cmd->callback([&ctx, o] { ctx.exit_code = run_all(ctx, *o); });
}

}  // namespace fsp::cli
