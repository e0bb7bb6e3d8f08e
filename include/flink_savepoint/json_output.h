// The large JSON documents, streamed from the model into a JsonWriter (no
// document tree): inspect --json (docs/json.md) and the states arrays
// (docs/states.md). Keys are written in alphabetical order, as the contract
// promises; the bytes are those nlohmann::json's dump(2) gave for the same
// model before streaming (verified over the corpus, see bench/README.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "flink_savepoint/json_writer.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/summary.h"

namespace fsp {

// What inspect adds to the model's document.
struct SnapshotJsonExtras {
  std::optional<std::string_view> metadata_path;  // "metadata_path" (and "metadata_size") at the top level
  uint64_t metadata_size = 0;
  // inspect --states: "states" and "state_problems" for the operators listed.
  const std::vector<OperatorStates>* states = nullptr;
  // One of many snapshots (JSON Lines): "schema_version" at the top level.
  std::optional<int> schema_version;
};

// The whole model as one JSON object (the value only; the caller adds the
// newline). Builds the file list on the way (no per-path string copies).
void write_snapshot_json(JsonWriter& w, const Snapshot& s, const JsonOptions& options = {},
                         const SnapshotJsonExtras& extras = {});

// The "states" array of one operator.
void write_states_json(JsonWriter& w, const OperatorStates& op);

}  // namespace fsp
