// states_to_json(): the "states" array of one operator (see docs/states.md).
#include <nlohmann/json.hpp>

#include "flink_savepoint/state.h"

namespace fsp {

nlohmann::json states_to_json(const OperatorStates& op) {
  nlohmann::json arr = nlohmann::json::array();
  for (const StateInfo& s : op.states) {
    nlohmann::json j;
    j["name"] = s.name;
    j["kind"] = s.kind;
    j["key_serializer"] = s.key_serializer;
    j["namespace_serializer"] = s.namespace_serializer;
    j["value_serializer"] = s.value_serializer;
    if (!s.user_key_serializer.empty()) j["user_key_serializer"] = s.user_key_serializer;
    j["ttl"] = s.ttl;
    j["entries"] = s.entries;
    j["bytes"] = s.bytes;
    j["type"] = s.type;
    if (!s.key_type.empty()) j["key_type"] = s.key_type;
    if (!s.backend.empty()) j["backend"] = s.backend;
    j["serializers_decoded"] = s.serializers_decoded;
    if (!s.distribution.empty()) j["distribution"] = s.distribution;
    if (!s.subtask_entries.empty()) j["subtask_entries"] = s.subtask_entries;
    j["subtasks"] = s.subtasks;
    if (s.max_key_group_bytes >= 0) {
      j["key_groups_with_data"] = s.key_groups_with_data;
      j["max_key_group_bytes"] = s.max_key_group_bytes;
      j["mean_key_group_bytes"] = s.mean_key_group_bytes;
    }
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace fsp
