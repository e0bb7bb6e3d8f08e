// Shared pieces of the command-line tool: error reporting and exit codes.
// Each command lives in its own file and registers itself in main.cc.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>

#include "flink_savepoint/result.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp::cli {

inline constexpr const char* kVersion = "0.1.0";

struct Context {
  bool json = false;   // --json: machine-readable stdout, errors as JSON on stderr
  int exit_code = 0;
};

// The exit code of a kind of error (the only mapping; docs/errors.md).
int exit_code(ErrorKind kind);

// Prints `error: ...` (and `hint: ...`) or a JSON error object to stderr and
// returns the error's exit code.
int report(const Context& ctx, const Error& e);

// Prints a (small) JSON document to stdout as dump(indent) would (indent < 0:
// one line, as dump()), every string through the one output conversion
// (flink_savepoint/display.h).
void print_json(const nlohmann::json& j, int indent = 2);
void print_json(std::ostream& out, const nlohmann::json& j, int indent = 2);

// One of many snapshots failed: a JSON Lines object {"schema_version", "snapshot",
// "error"} on stdout with --json (the others go on), else report(). Returns the exit code.
int report_line(const Context& ctx, const std::string& snapshot, const Error& e);

// Several snapshots in one call (inspect, lint, check): JSON Lines objects carry
// this schema_version; the SNAPSHOT and --latest help texts.
constexpr int kJsonLinesSchemaVersion = 1;
inline constexpr const char* kSnapshotsHelp =
    "_metadata files, directories holding one, - for stdin, or directories / s3:// prefixes holding many "
    "(every _metadata below: chk-N, savepoint-*); several give one JSON line or table row each";
inline constexpr const char* kLatestHelp =
    "each SNAPSHOT is a job's checkpoint directory: take its newest complete checkpoint (highest chk-N with a _metadata)";

// "12.3 KiB" style sizes for tables.
std::string human_size(int64_t bytes);

// A plain text table: header row, rows, right-aligned numeric columns. Every
// cell goes through the one output conversion (control characters escaped).
class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> right_aligned = {});
  void add(std::vector<std::string> row);
  std::string render() const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// A table whose rows are produced twice instead of being held: pass 1
// measures every row (column widths), pass 2 prints them as they come. Rows
// are given as views in a reused vector of cells (valid until measure() or
// print() returns), so that a million rows cost no million strings and no
// copy but the one into the output buffer. A last, left-aligned column is
// never measured: its width only pads the end of a line, which is trimmed.
// `plain` marks the columns whose cells the caller knows are printable ASCII
// (numbers, fixed names, hex ids): those are neither scanned nor converted.
// The layout is Table's.
class StreamTable {
 public:
  explicit StreamTable(std::vector<std::string> header, std::vector<bool> right_aligned = {},
                       std::vector<bool> plain = {});
  // The cells of the next row (reused: point them at text that outlives the next call).
  std::vector<std::string_view>& row() { return cells_; }
  void measure();                     // pass 1: the row in row()
  void print_header(std::ostream& out);
  void print(std::ostream& out);      // pass 2: the row in row()
  void flush(std::ostream& out);      // after the last row: hands the buffered lines to `out`

 private:
  static constexpr size_t kFlushAt = size_t{1} << 20;
  size_t shown(size_t column, std::string_view& cell);
  void line(std::ostream& out, const std::vector<std::string_view>& r);
  std::vector<std::string> header_;
  std::vector<unsigned char> right_, plain_;  // per column (not vector<bool>: read per cell)
  std::vector<size_t> width_;
  std::vector<std::string_view> cells_;
  size_t measured_ = 0;  // the columns measure() looks at
  std::string shown_, buf_;
};

// open_snapshot for the commands: a large local snapshot's model goes on huge pages (command.cc).
Result<SnapshotFile> open_input(const std::string& path);
// The one snapshot a command read, kept (never destroyed) until the process
// exits: freeing a model of a million small vectors only to exit costs 3-8%
// of `inspect` on a large checkpoint. Only for a command's single snapshot,
// never inside a loop over many (their memory would add up).
void keep_until_exit(SnapshotFile&& sf);

void add_inspect_command(CLI::App& app, Context& ctx);
void add_uid_hash_command(CLI::App& app, Context& ctx);
void add_relocate_command(CLI::App& app, Context& ctx);  // src/cli/relocate.cc
void add_check_command(CLI::App& app, Context& ctx);     // src/cli/check.cc
void add_lint_command(CLI::App& app, Context& ctx);      // src/cli/lint.cc
void add_migrate_command(CLI::App& app, Context& ctx);   // src/cli/migrate.cc
void add_completion_commands(CLI::App& app, Context& ctx);  // src/cli/completion.cc: completion, manpage

// The closest of `candidates` to `word` (edit distance), or "" when none is close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

// Option values with units, as Flink's configuration takes them: a validator
// that rewrites "1g" / "256mb" / "64 kb" to bytes, "30 s" / "2 min" to milliseconds.
CLI::Validator size_value();
CLI::Validator duration_value();
void add_dump_command(CLI::App& app, Context& ctx);      // src/cli/dump.cc
void add_gc_command(CLI::App& app, Context& ctx);        // src/cli/gc.cc
void add_copy_command(CLI::App& app, Context& ctx);      // src/cli/copy.cc

}  // namespace fsp::cli
