// flink-savepoint: inspect, check and relocate Flink savepoints and
// checkpoints without a JVM. Each subcommand is a short file over the library.
#include <iostream>
#include <new>
#include <string>

#include "src/cli/command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "flink-savepoint: read Apache Flink savepoint and checkpoint _metadata files (Flink 1.3 to 2.x) without a JVM.\n"
      "SNAPSHOT arguments accept a _metadata file, the directory holding it, or - for standard input.\n"
      "Exit codes: 0 ok, 1 findings (check/lint), 64 usage, 65 bad data, 66 no input, 70 internal, 73 cannot create, 74 I/O.",
      "flink-savepoint"};
  app.set_version_flag("--version", "flink-savepoint 0.1.0");
  app.require_subcommand(1);
  fsp::cli::Context ctx;
  fsp::cli::add_inspect_command(app, ctx);
  fsp::cli::add_uid_hash_command(app, ctx);
  fsp::cli::add_check_command(app, ctx);
  fsp::cli::add_relocate_command(app, ctx);
  fsp::cli::add_lint_command(app, ctx);
  fsp::cli::add_migrate_command(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Command-line errors follow the error contract too (docs/errors.md).
    for (int i = 1; i < argc; ++i)
      if (std::string(argv[i]) == "--json") ctx.json = true;
    fsp::Error err = fsp::Error::usage(e.what());
    err.hint = "run `flink-savepoint --help` or `flink-savepoint <command> --help`";
    return fsp::cli::report(ctx, err);
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return 74;  // EX_IOERR: the machine could not provide the memory
  } catch (const std::exception& e) {
    std::cerr << "error: internal error: " << e.what() << "\n";
    return 70;  // EX_SOFTWARE
  }
  return ctx.exit_code;
}
