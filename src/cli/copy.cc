// flink-savepoint copy SNAPSHOT DEST: _metadata and exactly the files it
// references, paths rewritten for DEST, _metadata last (docs/copy.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "flink_savepoint/copy.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/json_writer.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

struct CopyCliOptions {
  std::string source;
  CopyOptions copy;
  bool list = false;
};

int run(Context& ctx, CopyCliOptions& o) {
  if (o.list) o.copy.dry_run = true;
  const bool from_archive = is_archive_uri(o.source), to_archive = is_archive_uri(o.copy.dest);
  if (from_archive && to_archive) return report(ctx, Error::usage("copy takes a snapshot or an archive, and a directory or an archive: not two archives"));
  if (from_archive && o.list) return report(ctx, Error::usage("--list names the files of a snapshot, not of an archive (tar --list does that)"));
  Result<SnapshotFile> sf = SnapshotFile{};
  if (!from_archive) {
    sf = open_input(o.source);
    if (!sf) return report(ctx, sf.error());
  } else {
    sf->metadata_path = o.source;
  }
  auto rep = from_archive ? copy_from_archive(o.source, o.copy)
             : to_archive ? copy_to_archive(*sf, o.copy.dest, o.copy)
                          : copy_snapshot(*sf, o.copy);
  if (!rep) return report(ctx, rep.error());
  const CopyReport& r = *rep;
  if (o.list) {  // for distcp -f, aws s3 cp, gsutil -I: one source URI per line
    for (const CopyFile& f : r.files) std::cout << display(f.from) << "\n";
    std::cout << display(sf->metadata_path) << "\n";
    return 0;
  }
  const bool dry = o.copy.dry_run;
  if (ctx.json) {
    for (const CopyFile& f : r.files)
      print_json(nlohmann::json{{"type", "file"}, {"from", f.from}, {"to", f.to}, {"size", f.size},
                                  {"action", f.skipped ? "skip" : dry ? "would copy" : "copied"},
                                  {"server_side", f.server_side}}, -1);
    print_json(nlohmann::json{{"type", "summary"},           {"source", sf->metadata_path},
                                {"metadata", r.metadata_uri},  {"dry_run", dry},
                                {"files", r.files.size()},     {"bytes", r.bytes},
                                {"copied", r.copied},          {"copied_bytes", r.copied_bytes},
                                {"server_side", r.server_side},
                                {"skipped", r.skipped},        {"rewritten", r.rewritten},
                                {"made_relative", r.made_relative}, {"metadata_written", r.metadata_written},
                                {"already_complete", r.metadata_unchanged}}, -1);
    return 0;
  }
  if (dry) {
    for (const CopyFile& f : r.files)
      std::cout << (f.skipped ? "skip " : "copy ") << display(f.from) << " -> " << display(f.to) << " (" << f.size << " bytes)\n";
    std::cout << "write " << display(r.metadata_uri) << " last (" << r.rewritten << " path(s) rewritten, " << r.made_relative
              << " made relative)\n"
              << r.files.size() << " file(s), " << human_size(static_cast<int64_t>(r.bytes)) << "; " << r.skipped
              << " already there; nothing written (--dry-run)\n";
    return 0;
  }
  std::cout << "copied " << r.copied << " file(s) (" << human_size(static_cast<int64_t>(r.copied_bytes));
  if (r.server_side) std::cout << "; " << r.server_side << " server-side, inside the store";
  std::cout << "), " << r.skipped << " already there with the right size, of " << r.files.size() << "; ";
  if (r.metadata_unchanged) std::cout << display(r.metadata_uri) << " was already complete\n";
  else
    std::cout << "wrote " << display(r.metadata_uri) << " (" << r.rewritten << " path(s) rewritten, " << r.made_relative
              << " made relative)\n";
  return 0;
}

}  // namespace

void add_copy_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CopyCliOptions>();
  auto* cmd = app.add_subcommand(
      "copy",
      "Copy a savepoint or checkpoint: its _metadata and exactly the files it references (no other checkpoint's "
      "shared files), with the paths rewritten for DEST (relative where Flink allows), every file's size checked "
      "and _metadata written last. Run it again to resume. See docs/copy.md. Exit codes: 0 ok, 64 usage, 65 bad "
      "data, 66 no input (a referenced file is missing or of another size), 73 cannot create, 74 I/O.");
  cmd->add_option("SNAPSHOT", o->source, "a _metadata file or the directory holding it, or an archive (.tar.zst) to unpack")->required();
  cmd->add_option("DEST", o->copy.dest, "the destination directory (created if missing), or an archive (.tar.zst) to write")->required();
  cmd->add_flag("--dry-run", o->copy.dry_run, "print the plan (every file, source and destination) and write nothing");
  cmd->add_flag("--list", o->list, "print the referenced files, one URI per line (_metadata last), for distcp -f, aws s3 cp, gsutil -I");
  cmd->add_flag("--force", o->copy.force, "replace a DEST/_metadata that holds another snapshot (or an existing DEST archive)");
  cmd->add_flag("--json", ctx.json, "JSON Lines: one object per file, then a summary object");
  cmd->callback([&ctx, o] { ctx.exit_code = run(ctx, *o); });
}

}  // namespace fsp::cli
