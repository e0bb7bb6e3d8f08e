// flink-savepoint relocate: placeholder, being implemented.
#include "src/cli/command.h"

namespace fsp::cli {

void add_relocate_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("relocate", "(not yet implemented)");
  cmd->allow_extras();
  cmd->callback([&ctx] { ctx.exit_code = report(ctx, Error{ErrorKind::kSoftware, "relocate is not implemented yet", {}, {}, {}}); });
}

}  // namespace fsp::cli
