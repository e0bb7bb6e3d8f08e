// The decoded model agrees with Flink's own loader (Checkpoints.loadCheckpointMetadata)
// on every file: ../shared/testdata/*/FLINK_DECODING.jsonl. The model is put into
// the shape of that file and every key Flink reports is compared (except
// sha256 digests and the ids Flink invents anew on each load).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "flink_savepoint/json.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/summary.h"
#include "test_support.h"

namespace fsp {
namespace {

using json = nlohmann::json;

json s(Str v) { return modified_utf8_to_utf8(v); }

json offsets(const BeLongs& l) {
  json a = json::array();
  for (size_t i = 0; i < l.size(); ++i) a.push_back(l[i]);
  return a;
}

json kg_range(const KeyGroupRange& r) {
  return json{{"start", r.start}, {"end", r.end()}, {"numberOfKeyGroups", r.count}};
}

const char* scope_name(int32_t sc) { return sc == 0 ? "EXCLUSIVE" : sc == 1 ? "SHARED" : "?"; }

json flink_stream(const StreamHandle& h) {
  if (h.is_null()) return nullptr;
  json j{{"type", stream_handle_type_name(h.code)}, {"stateSize", h.size()}};
  switch (h.code) {
    case code::kByteStream: j["handleName"] = s(h.path); j["dataLength"] = h.data().size(); break;
    case code::kFile: j["filePath"] = s(h.path); break;
    case code::kRelative: j["relativePath"] = s(h.path); break;
    case code::kSegmentFile:
      j["filePath"] = s(h.path); j["startPos"] = h.start_pos(); j["scope"] = scope_name(h.scope());
      j["logicalFileId"] = s(h.logical_file_id());
      break;
    case code::kEmptySegmentFile:
      j["filePath"] = "empty"; j["startPos"] = 0; j["scope"] = "EXCLUSIVE"; j["logicalFileId"] = "DUMMY";
      break;
    default: break;
  }
  return j;
}

json flink_keyed(const KeyedHandle& k) {
  json j{{"type", keyed_handle_type_name(k.code)}, {"stateSize", k.size()}, {"keyGroupRange", kg_range(k.range)},
         {"checkpointedSize", k.checkpointed()}};
  if (!k.state_handle_id.empty()) j["stateHandleId"] = s(k.state_handle_id);
  switch (k.code) {
    case code::kKeyGroups: case code::kSavepointKeyGroups: case code::kKeyGroupsV2:
      j["keyGroupOffsetsCount"] = k.offsets.size();
      j["keyGroupOffsets"] = offsets(k.offsets);
      j["delegate"] = flink_stream(k.delegate);
      break;
    case code::kIncremental: case code::kIncrementalV2: {
      j["backendIdentifier"] = s(k.backend_id);
      j["checkpointId"] = k.checkpoint_id;
      j["metaStateHandle"] = flink_stream(k.delegate);
      for (auto [key, list] : {std::pair{"sharedState", &k.shared_state}, std::pair{"privateState", &k.private_state}}) {
        json a = json::array();
        for (const auto& e : *list)
          a.push_back(json{{"localPath", s(e.local_path)}, {"stateSize", e.handle.size()}, {"handle", flink_stream(e.handle)}});
        j[key] = std::move(a);
      }
      break;
    }
    case code::kChangelog: case code::kChangelogV2: {
      j["materializationId"] = k.materialization_id;
      j["checkpointId"] = k.code == code::kChangelogV2 ? k.checkpoint_id : k.materialization_id;
      json m = json::array(), n = json::array();
      for (const auto& x : k.materialized) m.push_back(flink_keyed(x));
      for (const auto& x : k.non_materialized) n.push_back(flink_keyed(x));
      j["materializedStateHandles"] = m;
      j["nonMaterializedStateHandles"] = n;
      break;
    }
    case code::kChangelogByteIncrement: {
      j["from"] = k.from; j["to"] = k.to; j["storageIdentifier"] = "memory";
      json c = json::array();
      for (const auto& ch : k.changes) c.push_back(json{{"keyGroup", ch.key_group}, {"byteLength", ch.data.size()}});
      j["changes"] = c;
      break;
    }
    case code::kChangelogFileIncrement: case code::kChangelogFileIncrementV2: {
      j["storageIdentifier"] = k.code == code::kChangelogFileIncrement ? json("filesystem") : s(k.storage_identifier);
      json a = json::array();
      for (const auto& ho : k.handles_and_offsets) a.push_back(json{{"offset", ho.offset}, {"handle", flink_stream(ho.handle)}});
      j["handlesAndOffsets"] = a;
      break;
    }
    default: break;
  }
  return j;
}

json flink_operator_handle(const OperatorHandle& h) {
  const char* type = operator_handle_type_name(h.code);
  if (h.code == code::kSegmentPartitionableOperator && h.is_empty) type = "EmptyFileMergingOperatorStreamStateHandle";
  json j{{"type", type}, {"stateSize", h.size()}};
  json states = json::object();
  for (const auto& e : h.states) states[modified_utf8_to_utf8(e.name)] = json{{"distributionMode", distribution_mode_name(e.mode)}, {"offsets", offsets(e.offsets)}};
  j["states"] = states;
  if (h.code == code::kSegmentPartitionableOperator) {
    j["taskOwnedDirHandle"] = json{{"type", "DirectoryStreamStateHandle"}, {"stateSize", 0}, {"directory", s(h.task_owned_dir)}};
    j["sharedDirHandle"] = json{{"type", "DirectoryStreamStateHandle"}, {"stateSize", 0}, {"directory", s(h.shared_dir)}};
  }
  j["delegate"] = flink_stream(h.delegate);
  return j;
}

json flink_channel(const ChannelHandle& c) {
  json j{{"type", channel_handle_type_name(c.kind)}, {"stateSize", c.state_size}, {"subtaskIndex", c.subtask_index},
         {"delegate", flink_stream(c.delegate)}};
  if (c.merged()) {
    j["serializedChannelOffsetsLength"] = c.serialized_offsets.size();
  } else {
    j["offsets"] = offsets(c.offsets);
    j["info"] = c.kind == channel::kInput ? json{{"gateIdx", c.info_a}, {"inputChannelIdx", c.info_b}}
                                          : json{{"partitionIdx", c.info_a}, {"subPartitionIdx", c.info_b}};
  }
  return j;
}

// Compares every key of `flink` with `mine`; returns the first difference.
std::string diff(const json& flink, const json& mine, const std::string& path) {
  if (flink.is_object()) {
    if (!mine.is_object()) return path + ": expected an object, got " + mine.dump().substr(0, 200);
    for (auto it = flink.begin(); it != flink.end(); ++it) {
      const std::string& k = it.key();
      if (k == "dataSha256" || k == "sha256" || k == "unmergedHandles" || k == "class" || k == "file" ||
          k == "ok" || k == "fileSize" || k == "fileSha256" || k == "magic")
        continue;
      if (it.value().is_string() && it.value() == "<random>") continue;
      if (!mine.contains(k)) return path + "/" + k + ": missing (Flink says " + it.value().dump().substr(0, 200) + ")";
      std::string d = diff(it.value(), mine[k], path + "/" + k);
      if (!d.empty()) return d;
    }
    return {};
  }
  if (flink.is_array()) {
    if (!mine.is_array() || mine.size() != flink.size())
      return path + ": array size differs (Flink " + std::to_string(flink.size()) + ", ours " + mine.dump().substr(0, 200) + ")";
    for (size_t i = 0; i < flink.size(); ++i) {
      std::string d = diff(flink[i], mine[i], path + "/" + std::to_string(i));
      if (!d.empty()) return d;
    }
    return {};
  }
  if (flink != mine) return path + ": Flink says " + flink.dump() + ", ours " + mine.dump();
  return {};
}

json flink_view(const Snapshot& sn) {
  json j;
  j["metadataVersion"] = sn.version;
  j["checkpointId"] = sn.checkpoint_id;
  json ms = json::array();
  for (const auto& m : sn.master_states) ms.push_back(json{{"name", s(m.name)}, {"version", m.version}, {"byteLength", m.payload.size()}});
  j["masterStates"] = ms;
  const auto& p = sn.properties;
  if (!p.present) {
    j["checkpointProperties"] = nullptr;
  } else {
    json t{{"class", p.type_class}, {"name", p.name}, {"isSavepoint", p.is_savepoint()}};
    if (p.is_savepoint()) {
      t["formatType"] = p.format_type;
      t["postCheckpointAction"] = p.post_checkpoint_action;
      t["isSynchronous"] = p.post_checkpoint_action != "NONE";
      t["sharingFilesStrategy"] = "NO_SHARING";
    } else {
      t["sharingFilesStrategy"] = p.sharing_strategy;
    }
    j["checkpointProperties"] = json{{"checkpointType", t}, {"forced", p.forced}, {"discardSubsumed", p.discard_subsumed},
                                     {"discardFinished", p.discard_finished}, {"discardCancelled", p.discard_cancelled},
                                     {"discardFailed", p.discard_failed}, {"discardSuspended", p.discard_suspended},
                                     {"unclaimed", p.unclaimed}};
  }
  j["numOperators"] = sn.operators.size();
  json ops = json::array();
  for (size_t i = 0; i < sn.operators.size(); ++i) {
    const auto& o = sn.operators[i];
    json oj{{"index", i},
            {"operatorId", o.id_hex()},
            {"operatorName", o.name.empty() ? json(nullptr) : s(o.name)},
            {"operatorUid", o.uid.empty() ? json(nullptr) : s(o.uid)},
            {"parallelism", o.parallelism},
            {"maxParallelism", o.max_parallelism},
            {"coordinatorStateSize", o.coordinator.is_null() ? json(nullptr) : json(o.coordinator.size())},
            {"coordinatorState", flink_stream(o.coordinator)},
            {"fullyFinished", o.fully_finished},
            {"stateSize", o.size()},
            {"checkpointedSize", o.checkpointed()},
            {"numSubtaskStates", o.subtasks.size()}};
    std::vector<const SubtaskState*> subs;
    for (const auto& st : o.subtasks) subs.push_back(&st);
    std::stable_sort(subs.begin(), subs.end(), [](auto* a, auto* b) { return a->index < b->index; });
    json sj = json::array();
    for (const auto* st : subs) {
      json x{{"subtaskIndex", st->index}, {"finished", st->finished}, {"stateSize", st->size()}};
      auto opl = [](const OperatorHandle& h, int32_t flag) {
        json a = json::array();
        if (flag && !h.is_null()) a.push_back(flink_operator_handle(h));
        return a;
      };
      auto kl = [](const KeyedHandle& k) {
        json a = json::array();
        if (!k.is_null()) a.push_back(flink_keyed(k));
        return a;
      };
      x["managedOperatorState"] = opl(st->managed_operator, st->managed_op_flag);
      x["rawOperatorState"] = opl(st->raw_operator, st->raw_op_flag);
      x["managedKeyedState"] = kl(st->managed_keyed);
      x["rawKeyedState"] = kl(st->raw_keyed);
      json in = json::array(), out = json::array();
      for (const auto& c : st->input_channels) in.push_back(flink_channel(c));
      for (const auto& c : st->result_subpartitions) out.push_back(flink_channel(c));
      x["inputChannelState"] = in;
      x["resultSubpartitionState"] = out;
      sj.push_back(x);
    }
    oj["subtasks"] = sj;
    ops.push_back(oj);
  }
  j["operators"] = ops;
  return j;
}

void check_decoding_file(const std::filesystem::path& base, const std::filesystem::path& jsonl, size_t min_files) {
  std::ifstream in(jsonl);
  ASSERT_TRUE(in) << jsonl;
  std::string line;
  size_t files = 0, failures = 0;
  while (std::getline(in, line)) {
    json flink = json::parse(line);
    std::string file = flink["file"];
    ASSERT_TRUE(flink["ok"].get<bool>()) << file;
    auto sf = open_snapshot((base / file).string());
    ASSERT_TRUE(sf.ok()) << file << ": " << sf.error().to_string();
    EXPECT_EQ(sf->file_size, flink["fileSize"].get<uint64_t>()) << file;
    json mine = flink_view(sf->snapshot);
    std::string d = diff(flink, mine, file);
    if (!d.empty()) {
      ++failures;
      ADD_FAILURE() << d;
      if (failures > 10) break;
    }
    ++files;
  }
  EXPECT_GE(files, min_files);
  std::cout << "compared " << files << " files with Flink's own decoding\n";
}

TEST(FlinkDecoding, EveryTestResourceAgreesWithFlinksLoader) {
  FSP_REQUIRE_SHARED(shared);
  check_decoding_file(shared / "testdata" / "flink-repo", shared / "testdata" / "flink-repo" / "FLINK_DECODING.jsonl", 480);
}

TEST(FlinkDecoding, FlinkWrittenCheckpointsWithEveryHandleKindAgree) {
  FSP_REQUIRE_SHARED(shared);
  check_decoding_file(shared / "testdata" / "flink-written", shared / "testdata" / "flink-written" / "FLINK_DECODING.jsonl", 4);
}

}  // namespace
}  // namespace fsp
