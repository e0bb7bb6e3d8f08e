// The model as JSON (docs/json.md is the contract).
#include <nlohmann/json.hpp>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/summary.h"

namespace fsp {
namespace {

using json = nlohmann::json;

json str(Str s) { return modified_utf8_to_utf8(s); }
json opt_str(Str s) { return s.empty() ? json(nullptr) : str(s); }

json longs(const BeLongs& l) {
  json a = json::array();
  for (size_t i = 0; i < l.size(); ++i) a.push_back(l[i]);
  return a;
}

json range(const KeyGroupRange& r) {
  return json{{"start", r.start}, {"end", r.end()}, {"count", r.count}};
}

struct Writer {
  const JsonOptions& opt;

  json stream(const StreamHandle& h) const {
    if (h.is_null()) return nullptr;
    json j{{"type", stream_handle_type_name(h.code)}, {"code", h.code}, {"state_size", h.size()}};
    switch (h.code) {
      case code::kByteStream:
        j["handle_name"] = str(h.path);
        j["inline_length"] = h.data.size();
        break;
      case code::kFile:
        j["path"] = str(h.path);
        break;
      case code::kRelative:
        j["relative_path"] = str(h.path);
        break;
      case code::kSegmentFile:
        j["path"] = str(h.path);
        j["start_pos"] = h.start_pos;
        j["scope"] = h.scope == 0 ? "EXCLUSIVE" : h.scope == 1 ? "SHARED" : "UNKNOWN";
        j["logical_file_id"] = str(h.logical_file_id());
        break;
      case code::kKeyGroups:
        if (h.key_groups) {
          j["key_group_range"] = range(h.key_groups->range);
          j["offsets_count"] = h.key_groups->offsets.size();
          if (opt.key_group_offsets) j["key_group_offsets"] = longs(h.key_groups->offsets);
          j["delegate"] = stream(h.key_groups->delegate);
        }
        break;
      default:
        break;
    }
    return j;
  }

  json named(const std::vector<NamedHandle>& v) const {
    json a = json::array();
    for (const auto& e : v) a.push_back(json{{"local_path", str(e.local_path)}, {"handle", stream(e.handle)}});
    return a;
  }

  json keyed(const KeyedHandle& k) const {
    json j{{"type", keyed_handle_type_name(k.code)},
           {"code", k.code},
           {"state_size", k.size()},
           {"checkpointed_size", k.checkpointed()},
           {"key_group_range", range(k.range)}};
    if (!k.state_handle_id.empty()) j["state_handle_id"] = str(k.state_handle_id);
    switch (k.code) {
      case code::kKeyGroups:
      case code::kSavepointKeyGroups:
      case code::kKeyGroupsV2:
        j["offsets_count"] = k.offsets.size();
        if (opt.key_group_offsets) j["key_group_offsets"] = longs(k.offsets);
        j["delegate"] = stream(k.delegate);
        break;
      case code::kIncremental:
      case code::kIncrementalV2:
        j["checkpoint_id"] = k.checkpoint_id;
        j["backend_id"] = str(k.backend_id);
        j["meta_data"] = stream(k.delegate);
        j["shared_state"] = named(k.shared_state);
        j["private_state"] = named(k.private_state);
        break;
      case code::kChangelog:
      case code::kChangelogV2: {
        j["materialization_id"] = k.materialization_id;
        if (k.code == code::kChangelogV2) j["checkpoint_id"] = k.checkpoint_id;
        json m = json::array(), n = json::array();
        for (const auto& x : k.materialized) m.push_back(keyed(x));
        for (const auto& x : k.non_materialized) n.push_back(keyed(x));
        j["materialized"] = std::move(m);
        j["non_materialized"] = std::move(n);
        break;
      }
      case code::kChangelogByteIncrement: {
        j["storage_identifier"] = "memory";
        j["from"] = k.from;
        j["to"] = k.to;
        json c = json::array();
        for (const auto& ch : k.changes) c.push_back(json{{"key_group", ch.key_group}, {"length", ch.data.size()}});
        j["changes"] = std::move(c);
        break;
      }
      case code::kChangelogFileIncrement:
      case code::kChangelogFileIncrementV2: {
        j["storage_identifier"] = k.code == code::kChangelogFileIncrement ? json("filesystem") : str(k.storage_identifier);
        json a = json::array();
        for (const auto& ho : k.handles_and_offsets) a.push_back(json{{"offset", ho.offset}, {"handle", stream(ho.handle)}});
        j["handles_and_offsets"] = std::move(a);
        break;
      }
      default:
        break;
    }
    return j;
  }

  json op_handle(const OperatorHandle& h) const {
    json j{{"type", h.code == code::kSegmentPartitionableOperator && h.is_empty ? "EmptyFileMergingOperatorStreamStateHandle"
                                                                               : operator_handle_type_name(h.code)},
           {"code", h.code},
           {"state_size", h.size()}};
    json states = json::array();
    for (const auto& e : h.states)
      states.push_back(json{{"name", str(e.name)}, {"mode", distribution_mode_name(e.mode)}, {"offsets", longs(e.offsets)}});
    j["states"] = std::move(states);
    if (h.code == code::kSegmentPartitionableOperator) {
      j["task_owned_dir"] = str(h.task_owned_dir);
      j["shared_dir"] = str(h.shared_dir);
    }
    j["delegate"] = stream(h.delegate);
    return j;
  }

  json channel(const ChannelHandle& c) const {
    json j{{"type", channel_handle_type_name(c.kind)}, {"state_size", c.state_size}, {"subtask_index", c.subtask_index}};
    if (c.merged()) {
      j["serialized_offsets_length"] = c.serialized_offsets.size();
    } else if (c.kind == channel::kInput) {
      j["info"] = json{{"gate_idx", c.info_a}, {"input_channel_idx", c.info_b}};
      j["offsets"] = longs(c.offsets);
    } else {
      j["info"] = json{{"partition_idx", c.info_a}, {"subpartition_idx", c.info_b}};
      j["offsets"] = longs(c.offsets);
    }
    j["delegate"] = stream(c.delegate);
    return j;
  }

  json subtask(const SubtaskState& st) const {
    json j{{"index", st.index}, {"finished", st.finished}};
    if (st.finished) return j;
    j["state_size"] = st.size();
    auto opl = [&](const OperatorHandle& h, int32_t flag) {
      json a = json::array();
      if (flag != 0 && !h.is_null()) a.push_back(op_handle(h));
      return a;
    };
    auto kl = [&](const KeyedHandle& k) {
      json a = json::array();
      if (!k.is_null()) a.push_back(keyed(k));
      return a;
    };
    j["managed_operator_state"] = opl(st.managed_operator, st.managed_op_flag);
    j["raw_operator_state"] = opl(st.raw_operator, st.raw_op_flag);
    j["managed_keyed_state"] = kl(st.managed_keyed);
    j["raw_keyed_state"] = kl(st.raw_keyed);
    json in = json::array(), out = json::array();
    for (const auto& c : st.input_channels) in.push_back(channel(c));
    for (const auto& c : st.result_subpartitions) out.push_back(channel(c));
    j["input_channel_state"] = std::move(in);
    j["result_subpartition_state"] = std::move(out);
    if (st.v7_ref_checkpoint) j["ref_checkpoint_id"] = *st.v7_ref_checkpoint;
    return j;
  }

  json op(const OperatorState& o, int version) const {
    json j{{"operator_id", o.id_hex()},
           {"name", version >= 5 ? opt_str(o.name) : json(nullptr)},
           {"uid", version >= 5 ? opt_str(o.uid) : json(nullptr)},
           {"parallelism", o.parallelism},
           {"max_parallelism", o.max_parallelism},
           {"fully_finished", o.fully_finished},
           {"coordinator_state_size", o.coordinator.size()},
           {"coordinator_state", stream(o.coordinator)},
           {"subtask_state_count", o.subtasks.size()},
           {"total_size", o.size()},
           {"checkpointed_size", o.checkpointed()}};
    json subs = json::array();
    for (const auto& st : o.subtasks) subs.push_back(subtask(st));
    j["subtasks"] = std::move(subs);
    return j;
  }
};

}  // namespace

json summary_to_json(const SnapshotSummary& sum) {
  return json{{"backend", sum.backend},
              {"backend_reason", sum.backend_reason},
              {"self_contained", sum.self_contained},
              {"absolute_paths", sum.absolute_paths},
              {"relative_paths", sum.relative_paths},
              {"inline_handles", sum.inline_handles},
              {"inline_bytes", sum.inline_bytes},
              {"stream_handles", sum.stream_handles},
              {"total_size", sum.total_size},
              {"file_count", sum.file_count},
              {"type_inferred", sum.type_inferred}};
}

json snapshot_to_json(const Snapshot& s, const JsonOptions& options) {
  Writer w{options};
  SnapshotSummary sum = summarize(s);
  json j;
  j["metadata_version"] = s.version;
  j["written_by"] = std::string(flink_versions_writing(s.version));
  j["checkpoint_id"] = s.checkpoint_id;
  json snap;
  snap["type"] = sum.type.empty() ? json(nullptr) : json(sum.type);
  snap["format"] = sum.format.empty() ? json(nullptr) : json(sum.format);
  snap["name"] = sum.name.empty() ? json(nullptr) : json(sum.name);
  const auto& p = s.properties;
  if (p.present && p.parsed) {
    json props{{"class", p.type_class},
               {"forced", p.forced},
               {"discard_subsumed", p.discard_subsumed},
               {"discard_finished", p.discard_finished},
               {"discard_cancelled", p.discard_cancelled},
               {"discard_failed", p.discard_failed},
               {"discard_suspended", p.discard_suspended},
               {"unclaimed", p.unclaimed}};
    if (!p.sharing_strategy.empty()) props["sharing_files_strategy"] = p.sharing_strategy;
    if (!p.post_checkpoint_action.empty()) props["post_checkpoint_action"] = p.post_checkpoint_action;
    snap["properties"] = std::move(props);
  } else if (p.present) {
    snap["properties_error"] = p.parse_error;
  }
  snap["trailer_length"] = s.trailer.size();
  j["snapshot"] = std::move(snap);
  json ms = json::array();
  for (const auto& m : s.master_states)
    ms.push_back(json{{"name", str(m.name)}, {"version", m.version}, {"size", m.payload.size()}});
  j["master_states"] = std::move(ms);
  json ops = json::array();
  for (const auto& o : s.operators) ops.push_back(w.op(o, s.version));
  j["operators"] = std::move(ops);
  json files = json::array();
  for (const auto& f : sum.files) files.push_back(json{{"path", f.path}, {"relative", f.relative}, {"size", f.size}, {"handles", f.handles}});
  j["files"] = std::move(files);
  if (options.summary) j["summary"] = summary_to_json(sum);
  return j;
}

}  // namespace fsp
