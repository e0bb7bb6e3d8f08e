// flink-savepoint relocate SNAPSHOT --from PREFIX --to PREFIX ...: rewrite the
// absolute paths of a savepoint or checkpoint after its files were copied
// elsewhere (docs/relocate.md).
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <utility>
#include <nlohmann/json.hpp>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/relocate.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/walk.h"
#include "flink_savepoint/path_map.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

namespace fs = std::filesystem;

struct RelocateCliOptions {
  std::string path;
  std::vector<std::string> from, to;
  std::string output;
  bool in_place = false;
  bool dry_run = false;
  bool force = false;
  bool verify = false;
  std::vector<std::string> path_map;
  bool make_relative = false;
  std::string snapshot_uri;
  bool include_inline_names = false;
  bool print_copy_plan = false;
  bool allow_no_match = false;
  bool no_backup = false;
};

std::string u(Str s) { return std::string(s); }  // printed through the one conversion (text: display(), JSON: print_json)

nlohmann::json change_json(const Snapshot& s, const PathChange& c) {
  const auto& op = s.operators[c.loc.op_index];
  nlohmann::json j{{"operator_index", c.loc.op_index},
                   {"operator_id", op.id_hex()},
                   {"subtask", c.loc.subtask < 0 ? nlohmann::json(nullptr) : nlohmann::json(c.loc.subtask)},
                   {"slot", c.loc.slot},
                   {"role", c.loc.role},
                   {"kind", path_kind_name(c.kind)},
                   {"old_path", u(c.old_path)},
                   {"new_path", u(c.new_path)},
                   {"made_relative", c.made_relative}};
  if (!c.loc.local_path.empty()) j["local_path"] = u(c.loc.local_path);
  return j;
}

// Same directory as the input's _metadata (by inode), so that --output does not write over the input.
bool same_file(const std::string& a, const std::string& b) {
  auto fa = io::file_system_for(a), fb = io::file_system_for(b);
  if (!fa || !fb || *fa != *fb) return false;
  auto sa = (*fa)->stat(a), sb = (*fb)->stat(b);
  if (!sa || !sb) return false;
  if (sa->inode == 0 && sb->inode == 0) return sa->uri == sb->uri;  // stores: same key
  return sa->device == sb->device && sa->inode == sb->inode;
}

bool exists(const std::string& uri) {
  auto f = io::file_system_for(uri);
  return f && (*f)->stat(uri).ok();
}

int run(Context& ctx, const RelocateCliOptions& o) {
  // --- the command line ---------------------------------------------------------
  int modes = (o.output.empty() ? 0 : 1) + (o.in_place ? 1 : 0) + (o.dry_run ? 1 : 0);
  if (modes > 1) return report(ctx, Error::usage("choose one of --output, --in-place and --dry-run"));
  if (modes == 0 && !o.print_copy_plan)
    return report(ctx, Error::usage("choose one of --output OUT, --in-place and --dry-run (or ask for --print-copy-plan)"));
  const bool writes = !o.output.empty() || o.in_place;
  if (o.from.size() != o.to.size())
    return report(ctx, Error::usage("every --from needs a --to (" + std::to_string(o.from.size()) + " --from, " +
                                    std::to_string(o.to.size()) + " --to)"));
  if (o.from.empty() && !o.make_relative) return report(ctx, Error::usage("nothing to do: give --from PREFIX --to PREFIX and/or --make-relative"));
  auto parsed_map = parse_path_map(o.path_map);
  if (!parsed_map) return report(ctx, parsed_map.error());
  const PathMap& path_map = *parsed_map;

  auto sf = open_input(o.path);
  if (!sf) return report(ctx, sf.error());
  Snapshot& s = sf->snapshot;
  const bool from_stdin = sf->metadata_path == "-";
  // --output -: the new _metadata goes to standard output, the report to standard error.
  const bool to_stdout = o.output == "-";
  std::ostream& out = to_stdout ? std::cerr : std::cout;

  // --- where the result goes ------------------------------------------------------
  std::string target, backup;
  if (o.in_place) {
    if (from_stdin) return report(ctx, Error::usage("--in-place cannot rewrite standard input; use --output"));
    target = sf->metadata_path;
    backup = target + ".bak";
    if (exists(backup))
      return report(ctx, Error::cant_create("the backup '" + backup + "' already exists; move it away first (--in-place keeps the original there)"));
  } else if (to_stdout) {
    target = "-";
  } else if (!o.output.empty()) {
    target = o.output;
    if (auto f = io::file_system_for(target)) {
      auto st = (*f)->stat(target);
      if (st && st->is_directory) target = io::join_uri(target, "_metadata");
    }
    if (!from_stdin && same_file(target, sf->metadata_path))
      return report(ctx, Error::usage("--output '" + o.output + "' is the input file; use --in-place to rewrite it (keeping _metadata.bak)"));
    if (exists(target) && !o.force)
      return report(ctx, Error::cant_create("'" + target + "' already exists; add --force to replace it"));
    // In an object store, a replaced _metadata is kept as _metadata.bak (a server-side copy) unless --no-backup.
    std::string scheme = io::uri_scheme(target);
    if (!scheme.empty() && scheme != "file" && !o.no_backup && exists(target)) {
      backup = target + ".bak";
      if (exists(backup))
        return report(ctx, Error::cant_create("the backup '" + backup + "' already exists; move it away first, or add --no-backup"));
    }
  }
  // The directory the (new) _metadata lives in: relative handles resolve against it.
  std::string result_dir = to_stdout ? sf->directory : writes ? io::parent_uri(target) : sf->directory;
  if (writes && !to_stdout && result_dir.empty()) result_dir = ".";

  RelocateOptions ro;
  for (size_t i = 0; i < o.from.size(); ++i) ro.rules.emplace_back(o.from[i], o.to[i]);
  ro.make_relative = o.make_relative;
  ro.include_inline_names = o.include_inline_names;
  ro.collect_changes = o.dry_run || o.print_copy_plan;  // a million entries are not free
  if (o.make_relative) {
    if (!o.snapshot_uri.empty()) ro.snapshot_uri = o.snapshot_uri;
    else if (result_dir.empty())
      return report(ctx, Error::usage("--make-relative on standard input needs --snapshot-uri URI"));
    else ro.snapshot_uri = local_directory_uri(result_dir);
  }

  // A plain write (no --verify, no list of changes) streams the new paths
  // into the output while encoding instead of storing them: plan_relocation
  // leaves the model as it is (bounded memory: the input, not a second copy).
  const bool streamed = writes && !o.verify && !ro.collect_changes;
  PathRewriter rewriter;
  Result<RelocateReport> rep = RelocateReport{};
  if (streamed) {
    auto plan = plan_relocation(s, ro);
    if (!plan) return report(ctx, plan.error());
    rep = std::move(plan->report);
    rewriter = std::move(plan->rewriter);
  } else {
    rep = relocate(s, ro);
  }
  if (!rep) return report(ctx, rep.error());
  if (rep->already_under_to && rep->changed && !ctx.json) {
    std::cout.flush();
    std::cerr << "warning: " << rep->already_under_to << " absolute path(s) were under a --to prefix already (e.g. "
              << display(rep->already_under_to_example)
              << "): the rewritten paths merge with them, so relocating back (--from <to> --to <from>) would move "
                 "them too and not give back the original bytes\n";
  }
  // The plan is made (and may be refused) before anything is written.
  std::vector<CopyStep> plan;
  if (o.print_copy_plan) {
    auto p = copy_plan(rep->changes);
    if (!p) return report(ctx, p.error());
    plan = std::move(*p);
  }
  if (!o.from.empty() && rep->changed == 0 && !o.allow_no_match) {
    std::string under;
    for (const auto& d : rep->unmatched_examples) under += (under.empty() ? "" : ", ") + d;
    Error e = Error::usage("no --from prefix matched any path (" + std::to_string(rep->absolute_paths) + " absolute path(s)" +
                           (under.empty() ? "" : ", e.g. under " + under) + "); nothing " + (writes ? "written" : "to rewrite"));
    e.hint = "compare the prefixes with `flink-savepoint inspect --handles`; --allow-no-match writes the unchanged snapshot anyway";
    report(ctx, e);
    return 1;
  }

  nlohmann::json j;
  if (ctx.json) {
    j["input"] = sf->metadata_path;
    j["output"] = writes ? nlohmann::json(target) : nlohmann::json(nullptr);
    j["dry_run"] = !writes;
    j["changed"] = rep->changed;
    j["made_relative"] = rep->made_relative;
    j["absolute_paths"] = rep->absolute_paths;
    j["unmatched_absolute"] = rep->unmatched_absolute;
    j["unmatched_directories"] = rep->unmatched_examples;
    j["already_under_to"] = rep->already_under_to;
    if (o.make_relative) j["snapshot_uri"] = ro.snapshot_uri;
    if (!writes && o.dry_run) {
      nlohmann::json changes = nlohmann::json::array();
      for (const auto& c : rep->changes) changes.push_back(change_json(s, c));
      j["changes"] = std::move(changes);
    }
  } else if (o.dry_run) {
    for (const auto& c : rep->changes) {
      out << display(c.loc.describe(s)) << " [" << path_kind_name(c.kind)
                << (c.made_relative ? " -> relative" : "") << "]\n"
                << "  - " << display(c.old_path) << "\n  + " << display(c.new_path) << "\n";
    }
  }

  auto summary_line = [&](bool done) {
    out << rep->changed << " path(s) " << (done ? "rewritten" : "would be rewritten");
    if (rep->made_relative) out << " (" << rep->made_relative << " made relative)";
    out << " of " << rep->absolute_paths << " absolute path(s)";
    if (done) out << "; wrote " << target << (o.in_place ? " (original kept as " + backup + ")" : "");
    out << "\n";
    if (rep->unmatched_absolute) {
      out << rep->unmatched_absolute << " absolute path(s) matched no --from prefix, e.g. under:\n";
      for (const auto& d : rep->unmatched_examples) out << "  " << display(d) << "\n";
    }
  };

  // --- verify -----------------------------------------------------------------------------
  int exit_code = 0;
  if (o.verify) {
    VerifyReport vr = verify_files(s, result_dir, path_map);
    if (ctx.json) {
      nlohmann::json missing = nlohmann::json::array();
      for (const auto& m : vr.missing)
        missing.push_back({{"path", m.path}, {"local_path", m.local_path}, {"expected_size", m.expected_size},
                           {"actual_size", m.actual_size < 0 ? nlohmann::json(nullptr) : nlohmann::json(m.actual_size)},
                           {"directory", m.directory}, {"where", m.where}});
      j["verify"] = {{"checked", vr.checked}, {"not_checked", vr.not_checked}, {"missing", std::move(missing)}};
    } else {
      out << "verify: " << vr.checked << " file(s)/directories checked, " << vr.missing.size() << " missing or of another size";
      if (vr.not_checked) out << ", " << vr.not_checked << " remote path(s) not checked (map them with --path-map PREFIX=LOCAL_DIR)";
      out << "\n";
      for (const auto& m : vr.missing) {
        out << "  missing: " << display(m.path);
        if (m.local_path != m.path) out << " (looked at " << display(m.local_path) << ")";
        if (m.actual_size >= 0) out << ": " << m.actual_size << " bytes, the handle records " << m.expected_size;
        else if (m.directory) out << ": no such directory";
        else out << ": absent";
        out << "\n    " << display(m.where) << "\n";
      }
    }
    if (!vr.missing.empty()) exit_code = 1;
  }

  // --- write ------------------------------------------------------------------------------
  bool written = false;
  if (writes && exit_code == 0 && !ctx.json && !from_stdin && !to_stdout && io::uri_scheme(target).empty()) {
    // Relative handles resolve against the directory of the _metadata that is read.
    std::error_code e1, e2;
    fs::path in_dir = fs::weakly_canonical(fs::absolute(sf->directory.empty() ? "." : sf->directory), e1);
    fs::path out_dir = fs::weakly_canonical(fs::absolute(result_dir), e2);
    if (!e1 && !e2 && in_dir != out_dir) {
      uint64_t relative = 0;  // the relative handles the input already had
      for_each_stream_handle(std::as_const(s), [&](const StreamHandle& h, const HandleLocation&) { relative += h.code == code::kRelative; });
      // Those made relative (to this directory, on purpose) are code 6 in the model unless streamed.
      if (!streamed) relative -= std::min(relative, rep->made_relative);
      if (relative) {
        out.flush();
        std::cerr << "note: " << relative << " relative handle(s) resolve against " << out_dir.string()
                  << ": copy the snapshot directory's files there (or write the result into the directory that holds them)\n";
      }
    }
  }
  if (writes && exit_code == 0) {
    WriteOptions wo;
    wo.backup_path = backup;
    wo.overwrite = o.force;
    // Streamed into the file; the input is dropped before the result is
    // read back and decoded (one model at a time: bounded memory).
    rep->changes.clear();
    Status st = write_snapshot_atomically(target, s, wo, [&] { sf->snapshot = Snapshot{}; }, rewriter);
    if (!st.ok()) return report(ctx, st.error());
    written = true;
  }
  if (ctx.json) j["written"] = written;
  if (!ctx.json) {
    if (o.dry_run || writes) summary_line(written);
    if (writes && !written) out << "nothing written: files are missing (see above)\n";
  }

  // --- copy plan -----------------------------------------------------------------------
  if (o.print_copy_plan) {
    if (ctx.json) {
      nlohmann::json p = nlohmann::json::array();
      for (const auto& st : plan) p.push_back({{"from", st.from_dir}, {"to", st.to_dir}, {"files", st.files}, {"command", st.command}});
      j["copy_plan"] = std::move(p);
    } else {
      out << "# copy plan: " << plan.size() << " command(s) for the files whose paths "
                << (written ? "were" : "are") << " rewritten (whole directories are copied;\n"
                << "# shared/ directories may hold files of other checkpoints too).\n"
                << "# Relative handles and _metadata move with the snapshot directory itself.\n";
      for (const auto& st : plan) out << display(st.command) << "   # " << st.files << " file(s)\n";
    }
  }
  if (ctx.json) print_json(out, j);
  return exit_code;
}

}  // namespace

void add_relocate_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RelocateCliOptions>();
  auto* cmd = app.add_subcommand(
      "relocate",
      "Rewrite the absolute paths of a savepoint or checkpoint after its files were copied elsewhere (HDFS to S3, "
      "bucket to bucket, prod to sandbox). Every absolute path starting with a --from prefix (longest match wins) is "
      "rewritten, in every handle kind; relative handles stay relative. Exit codes: 0 ok, 1 no --from prefix matched (see --allow-no-match) or --verify found missing "
      "files (nothing written), 64 usage, 65 bad data, 66 no input, 73 cannot create, 74 I/O.");
  cmd->add_option("SNAPSHOT", o->path, "a _metadata file, the directory holding it, or - for stdin")->required();
  cmd->add_option("--from", o->from, "a path prefix to replace (repeatable, paired in order with --to)")->allow_extra_args(false);
  cmd->add_option("--to", o->to, "what replaces the matching --from prefix")->allow_extra_args(false);
  cmd->add_option("--output,-o", o->output,
                  "write the result to this file or object (OUT/_metadata for a directory or prefix; s3:// and gs:// "
                  "too), or - for standard output (the report then goes to standard error)");
  cmd->add_flag("--in-place", o->in_place, "replace the input _metadata, keeping the original as _metadata.bak");
  cmd->add_flag("--dry-run", o->dry_run, "print every change (location, old path, new path) and write nothing");
  cmd->add_flag("--force", o->force, "replace an existing --output file (never the input); in an object store the old "
                "object is kept as _metadata.bak");
  cmd->add_flag("--no-backup", o->no_backup, "with --force into an object store: keep no _metadata.bak");
  cmd->add_flag("--allow-no-match", o->allow_no_match,
                "exit 0 and write the snapshot even when no --from prefix matched any path (default: exit 1, nothing written)");
  cmd->add_flag("--verify", o->verify,
                "check that every resulting local (or --path-map'ped) file exists with the size its handle records; "
                "if not, list them, write nothing and exit 1");
  cmd->add_option("--path-map", o->path_map, "PREFIX=LOCAL_DIR: where --verify finds files under a remote prefix (repeatable)")->allow_extra_args(false);
  cmd->add_flag("--make-relative", o->make_relative,
                "turn absolute handles that point directly into the snapshot's own directory into relative handles "
                "(metadata v3+)");
  cmd->add_option("--snapshot-uri", o->snapshot_uri,
                  "the snapshot directory as an absolute URI, for --make-relative (default: file: + the local "
                  "directory of the result)");
  cmd->add_flag("--include-inline-names", o->include_inline_names,
                "also rewrite the names of inline (ByteStreamStateHandle) handles; Flink never opens them");
  cmd->add_flag("--print-copy-plan", o->print_copy_plan,
                "print the commands (hdfs dfs -cp, aws s3 cp --recursive, gsutil cp -r) that copy the referenced files "
                "to their new locations");
  cmd->add_flag("--json", ctx.json, "machine-readable output (changes are listed with --dry-run)");
  cmd->callback([&ctx, o] { ctx.exit_code = run(ctx, *o); });
}

}  // namespace fsp::cli
