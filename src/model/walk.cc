// HandleLocation::describe: where a handle sits, for messages.
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/walk.h"

namespace fsp {

std::string HandleLocation::describe(const Snapshot& s) const {
  std::string out = "operator #" + std::to_string(op_index);
  if (op_index < s.operators.size()) {
    const auto& op = s.operators[op_index];
    out += " (id " + op.id_hex();
    if (!op.uid.empty()) out += ", uid " + modified_utf8_to_utf8(op.uid);
    out += ")";
  }
  if (subtask >= 0) out += ", subtask " + std::to_string(subtask);
  if (slot && *slot) out += std::string(", ") + slot;
  if (role && *role) out += std::string(", ") + role;
  if (!local_path.empty()) out += " " + modified_utf8_to_utf8(local_path);
  return out;
}

}  // namespace fsp
