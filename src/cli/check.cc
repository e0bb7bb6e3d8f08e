// flink-savepoint check: placeholder, being implemented.
#include "src/cli/command.h"

namespace fsp::cli {

void add_check_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("check", "(not yet implemented)");
  cmd->allow_extras();
  cmd->callback([&ctx] { ctx.exit_code = report(ctx, Error{ErrorKind::kSoftware, "check is not implemented yet", {}, {}, {}}); });
}

}  // namespace fsp::cli
