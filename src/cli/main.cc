// flink-savepoint: inspect, check and relocate Flink savepoints and
// checkpoints without a JVM. Each subcommand is a short file over the library.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/s3_file_system.h"
#include "src/cli/command.h"

namespace {

std::vector<std::string> command_names(CLI::App& app) {
  std::vector<std::string> names;
  for (auto* c : app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); })) names.push_back(c->get_name());
  return names;
}

CLI::App* find_command(CLI::App& app, const std::string& name) {
  for (auto* c : app.get_subcommands([](CLI::App*) { return true; }))
    if (c->get_name() == name) return c;
  return nullptr;
}

// "did you mean" for an unknown command or flag; empty when nothing is close.
fsp::Error unknown_argument(CLI::App& app, int argc, char** argv, const std::string& parse_message) {
  fsp::Error err = fsp::Error::usage(parse_message);
  err.hint = "run `flink-savepoint --help` or `flink-savepoint help <command>`";
  if (argc < 2) return err;
  std::string first = argv[1];
  if (first.empty() || first[0] == '-') return err;
  CLI::App* cmd = find_command(app, first);
  if (!cmd) {
    err.message = "unknown command '" + first + "'";
    std::string near = fsp::cli::closest(first, command_names(app));
    std::string all;
    for (const auto& n : command_names(app)) all += (all.empty() ? "" : ", ") + n;
    err.hint = (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "commands: " + all;
    return err;
  }
  std::vector<std::string> flags;
  for (const CLI::Option* o : cmd->get_options())
    for (const auto& l : o->get_lnames()) flags.push_back("--" + l);
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a.rfind("--", 0) != 0) {
      // kubectl's `-o json`: -o names an output file in this tool.
      if (a == "-o" && i + 1 < argc) {
        std::string v = argv[i + 1];
        if ((v == "json" || v == "yaml" || v == "wide") && !cmd->get_option_no_throw("-o")) {
          err.hint = "-o/--output names an output file in flink-savepoint; for machine-readable output use --json";
          return err;
        }
      }
      continue;
    }
    std::string name = a.substr(0, a.find('='));
    if (std::find(flags.begin(), flags.end(), name) != flags.end()) continue;
    std::string near = fsp::cli::closest(name, flags);
    err.message = "unknown option '" + name + "' for '" + cmd->get_name() + "'";
    err.hint = (near.empty() ? std::string() : "did you mean '" + near + "'? ") + "run `flink-savepoint help " +
               cmd->get_name() + "` for its options";
    return err;
  }
  return err;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "flink-savepoint: read Apache Flink savepoint and checkpoint _metadata files (Flink 1.3 to 2.x) without a JVM.\n"
      "SNAPSHOT arguments accept a _metadata file, the directory holding it, or - for standard input;\n"
      "paths, file: URIs, s3:// and gs:// URIs (docs/stores.md).\n"
      "-o/--output always names an output file; --json prints machine-readable output.\n"
      "Exit codes: 0 ok, 1 findings (check/lint), 2 check verdict unknown, 64 usage, 65 bad data, 66 no input,\n"
      "70 internal, 73 cannot create, 74 I/O.",
      "flink-savepoint"};
  app.set_version_flag("--version", std::string("flink-savepoint ") + fsp::cli::kVersion +
                                        "\nreads snapshots written by Flink 1.3 to 2.3 (_metadata versions 2 to 7)");
  app.require_subcommand(1);
  fsp::io::register_object_stores();  // s3://, gs:// (docs/stores.md)
  // FSP_STORE_STATS=1: what this command moved to and from object stores, on stderr at exit.
  if (const char* v = std::getenv("FSP_STORE_STATS"); v && *v && std::string_view(v) != "0")
    std::atexit([] {
      fsp::io::TransferStats s = fsp::io::object_store_stats();
      std::fprintf(stderr,
                   "store stats: %llu request(s), %llu retried, %llu bytes received, %llu bytes sent, %llu "
                   "server-side copies, %llu multipart upload(s)\n",
                   static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.retries),
                   static_cast<unsigned long long>(s.bytes_received), static_cast<unsigned long long>(s.bytes_sent),
                   static_cast<unsigned long long>(s.server_side_copies),
                   static_cast<unsigned long long>(s.multipart_uploads));
    });
  fsp::cli::Context ctx;
  fsp::cli::add_inspect_command(app, ctx);
  fsp::cli::add_uid_hash_command(app, ctx);
  fsp::cli::add_check_command(app, ctx);
  fsp::cli::add_relocate_command(app, ctx);
  fsp::cli::add_lint_command(app, ctx);
  fsp::cli::add_migrate_command(app, ctx);
  fsp::cli::add_dump_command(app, ctx);
  fsp::cli::add_copy_command(app, ctx);
  fsp::cli::add_gc_command(app, ctx);
  fsp::cli::add_completion_commands(app, ctx);

  std::vector<std::string> args(argv, argv + argc);
  for (const auto& a : args)
    if (a == "--json") ctx.json = true;
  // `help` and `help COMMAND`, as git and kubectl have them; `help NAME` for
  // no command is the unknown-command error, with its "did you mean".
  if (argc >= 2 && args[1] == "help") {
    if (argc == 2) {
      std::cout << app.help();
      return 0;
    }
    if (CLI::App* cmd = find_command(app, args[2])) {
      std::cout << cmd->help(app.get_name());
      return 0;
    }
    char* shifted[] = {argv[0], argv[2]};
    return fsp::cli::report(ctx, unknown_argument(app, 2, shifted, CLI::ExtrasError({args[2]}).what()));
  }
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
    return fsp::cli::report(ctx, unknown_argument(app, argc, argv, e.what()));
  } catch (const std::bad_alloc&) {
    // EX_IOERR: the machine could not provide the memory. What the failed
    // command held is freed by now (no document tree is built); the report
    // allocates little, and falls back to a fixed text (JSON under --json)
    // if even that fails. The hint estimates the need when a snapshot was opened.
    bool json = ctx.json;
    for (int i = 1; i < argc && !json; ++i) json = std::string_view(argv[i]) == "--json";
    try {
      fsp::Error err = fsp::Error::io("out of memory");
      uint64_t size = fsp::last_opened_snapshot_size();
      err.hint = size ? fsp::out_of_memory_hint(size) : "raise the memory limit (ulimit -v) or free memory";
      ctx.json = json;
      fsp::cli::report(ctx, err);
    } catch (...) {
      std::fputs(json ? "{\"error\": {\"message\": \"out of memory\", \"exit_code\": 74, \"hint\": \"raise the memory "
                        "limit (ulimit -v) or free memory\"}}\n"
                      : "error: out of memory\nhint: raise the memory limit (ulimit -v) or free memory\n",
                 stderr);
    }
    return 74;
  } catch (const std::exception& e) {
    std::cerr << "error: internal error: " << e.what() << "\n";
    return 70;  // EX_SOFTWARE
  }
  return ctx.exit_code;
}
