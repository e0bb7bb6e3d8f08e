// flink-savepoint uid-hash UID...: the OperatorID Flink derives from each uid.
#include <iostream>
#include <nlohmann/json.hpp>

#include "flink_savepoint/json.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/murmur3.h"
#include "src/cli/command.h"

namespace fsp::cli {

void add_uid_hash_command(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("uid-hash",
                                 "Print the operator id (uid hash) Flink derives from each uid: murmur3_128, seed 0, "
                                 "as StreamGraphHasherV2 does. Use it to find an operator in `inspect` output.");
  auto uids = std::make_shared<std::vector<std::string>>();
  cmd->add_option("UID", *uids, "operator uids, as passed to .uid(...) in the job")->required();
  cmd->add_flag("--json", ctx.json, "print a JSON array of {uid, uid_hash}");
  cmd->callback([&ctx, uids] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& u : *uids) {
      std::string h = hex(operator_id_from_uid(u));
      if (ctx.json) out.push_back({{"uid", u}, {"uid_hash", h}});
      else std::cout << h << "  " << u << "\n";
    }
    if (ctx.json) print_json(out);
  });
}

}  // namespace fsp::cli
