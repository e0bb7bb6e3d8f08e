// flink-savepoint dump SNAPSHOT: the state itself, as JSON Lines (docs/dump.md).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <boost/iostreams/concepts.hpp>
#include <boost/iostreams/filter/zstd.hpp>
#include <boost/iostreams/filtering_stream.hpp>

#include "flink_savepoint/dump.h"
#include "flink_savepoint/dump_json.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/path_map.h"
#include "flink_savepoint/snapshot_file.h"
#include "src/cli/command.h"

namespace fsp::cli {
namespace {

struct DumpCliOptions {
  std::string path, operator_filter, state, key, output;
  int32_t key_group = -1;
  int64_t limit = -1;
  std::vector<std::string> path_map;
};

bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// The end of the output chain: the file-system seam's writer (a temporary
// file beside the target, renamed into place on commit, mode and owner kept).
class WritableSink : public boost::iostreams::sink {
 public:
  WritableSink(io::WritableFile* file, Status* status) : file_(file), status_(status) {}
  // After a failure the rest is dropped: the caller tests the status.
  std::streamsize write(const char* s, std::streamsize n) {
    if (status_->ok()) *status_ = file_->append(std::string_view(s, static_cast<size_t>(n)));
    return n;
  }

 private:
  io::WritableFile* file_;
  Status* status_;
};

int run(Context& ctx, const DumpCliOptions& o) {
  auto sf = open_input(o.path);
  if (!sf) return report(ctx, sf.error());
  DumpOptions d;
  auto pm = parse_path_map(o.path_map);
  if (!pm) return report(ctx, pm.error());
  d.path_map = *pm;
  d.operator_filter = o.operator_filter;
  d.state_filter = o.state;
  if (!o.key.empty()) d.key = o.key;
  if (o.key_group >= 0) d.key_group = o.key_group;
  d.limit = o.limit;

  // Output: stdout, a file, or a zstd-compressed file (FILE.zst). A file is
  // written through the seam: beside its target, renamed into place once complete.
  std::unique_ptr<io::WritableFile> file;
  Status file_status;
  std::unique_ptr<boost::iostreams::filtering_ostream> file_out;
  if (!o.output.empty() && o.output != "-") {
    std::error_code ec;
    if (std::filesystem::exists(o.output, ec) && !std::filesystem::is_regular_file(o.output, ec))
      return report(ctx, Error::usage("-o " + o.output + " exists and is not a regular file"));
    auto fsys = io::file_system_for(o.output);
    if (!fsys) return report(ctx, fsys.error());
    io::WriteOptions wo;
    wo.overwrite = true;
    auto f = (*fsys)->create(o.output, wo);
    if (!f) return report(ctx, f.error());
    file = std::move(*f);
    file_out = std::make_unique<boost::iostreams::filtering_ostream>();
    if (ends_with(o.output, ".zst")) file_out->push(boost::iostreams::zstd_compressor());
    file_out->push(WritableSink(file.get(), &file_status), 1 << 16);  // 64 KiB per write
  }
  std::ostream& os = file_out ? static_cast<std::ostream&>(*file_out) : std::cout;
  std::string buf;
  bool had_error = false;
  auto emit = [&](const DumpRecord& r) {
    append_dump_record_json(r, buf);
    if (buf.size() >= (1u << 16)) {
      os.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
    return static_cast<bool>(os) && file_status.ok();
  };
  auto problem = [&](const std::string& p) {
    if (p.rfind("error:", 0) == 0) had_error = true;
    std::cerr << (p.rfind("error:", 0) == 0 ? "" : "warning: ") << p << "\n";
  };
  auto counts = dump_states(*sf, d, emit, problem);
  os.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  os.flush();
  bool write_ok = static_cast<bool>(os);
  if (file_out) {
    file_out->reset();  // flushes the zstd frame into the file
    if (!write_ok || !file_status.ok()) {
      return report(ctx, Error::io("writing " + o.output + " failed" +
                                   (file_status.ok() ? std::string() : ": " + file_status.error().message)));
    }
    Status c = file->commit();  // an uncommitted file is discarded with `file`
    if (!c) return report(ctx, c.error());
  }
  if (!counts) return report(ctx, counts.error());
  if (isatty(2) || !o.output.empty())
    std::cerr << counts->records << " records (" << counts->keyed_entries << " keyed entries, " << counts->timers
              << " timers, " << counts->undecoded << " undecoded values, " << counts->problems << " problems)\n";
  if (!write_ok) return 74;
  return had_error ? 65 : 0;
}

}  // namespace

void add_dump_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DumpCliOptions>();
  auto* cmd = app.add_subcommand("dump",
                                 "Print the state itself as JSON Lines, one object per entry: keyed state (key, key "
                                 "group, namespace, value), timers, operator, union and broadcast state, decoded from "
                                 "the serializer snapshots (no job classes needed; see docs/dump.md).");
  cmd->add_option("SNAPSHOT", o->path, "a _metadata file, the directory holding it, or - for stdin")->required();
  cmd->add_option("--operator", o->operator_filter, "only this operator: uid, operator id (hex) or name");
  cmd->add_option("--state", o->state, "only this state (name)");
  cmd->add_option("--key", o->key,
                  "only this key (JSON, e.g. 42 or {\"f0\":42}, or a plain string); reads only its key group");
  cmd->add_option("--key-group", o->key_group, "only this key group")->check(CLI::NonNegativeNumber);
  cmd->add_option("--limit", o->limit, "stop after N records")->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--output", o->output, "write to FILE (FILE.zst: zstd-compressed) instead of stdout");
  cmd->add_option("--path-map", o->path_map,
                  "PREFIX=LOCAL_DIR: read absolute paths under PREFIX from LOCAL_DIR; repeatable, longest prefix wins");
  cmd->add_flag("--json", ctx.json, "errors as JSON on stderr (the output is JSON Lines anyway)");
  cmd->callback([&ctx, o] { ctx.exit_code = run(ctx, *o); });
}

}  // namespace fsp::cli
