// inspect --json streamed from the model (docs/json.md is the contract).
// Every object's keys are written in alphabetical order (the order the
// contract promises and nlohmann's std::map gave before streaming).
#include <algorithm>

#include "flink_savepoint/json.h"
#include "flink_savepoint/json_output.h"
#include "flink_savepoint/metadata.h"

namespace fsp {
namespace {

void longs(JsonWriter& w, const BeLongs& l) {
  w.begin_array();
  for (size_t i = 0; i < l.size(); ++i) w.value(l[i]);
  w.end_array();
}

void range(JsonWriter& w, const KeyGroupRange& r) {
  w.begin_object();
  w.field("count", r.count);
  w.field("end", r.end());
  w.field("start", r.start);
  w.end_object();
}

struct Writer {
  JsonWriter& w;
  const JsonOptions& opt;

  void stream(const StreamHandle& h) const {
    if (h.is_null()) {
      w.null();
      return;
    }
    w.begin_object();
    w.field("code", to_int(h.code));
    switch (h.code) {
      case code::kByteStream:
        w.field("handle_name", h.path.str());
        w.field("inline_length", static_cast<uint64_t>(h.data().size()));
        break;
      case code::kFile:
        w.field("path", h.path.str());
        break;
      case code::kRelative:
        w.field("relative_path", h.path.str());
        break;
      case code::kSegmentFile:
        w.field("logical_file_id", h.logical_file_id());
        w.field("path", h.path.str());
        w.field("scope", h.scope() == 0 ? "EXCLUSIVE" : h.scope() == 1 ? "SHARED" : "UNKNOWN");
        w.field("start_pos", h.start_pos());
        break;
      case code::kKeyGroups:
        if (const KeyGroupsPart* kg = h.key_groups()) {
          w.key("delegate");
          stream(kg->delegate);
          if (opt.key_group_offsets) {
            w.key("key_group_offsets");
            longs(w, kg->offsets);
          }
          w.key("key_group_range");
          range(w, kg->range);
          w.field("offsets_count", static_cast<uint64_t>(kg->offsets.size()));
        }
        break;
      case code::kNull: case code::kPartitionableOperator: case code::kIncremental:
      case code::kSavepointKeyGroups: case code::kChangelog: case code::kChangelogByteIncrement:
      case code::kChangelogFileIncrement: case code::kIncrementalV2: case code::kKeyGroupsV2:
      case code::kChangelogFileIncrementV2: case code::kChangelogV2: case code::kEmptySegmentFile:
      case code::kSegmentPartitionableOperator:
        break;
    }
    w.field("state_size", h.size());
    w.field("type", stream_handle_type_name(h.code));
    w.end_object();
  }

  void named(const std::vector<NamedHandle>& v) const {
    w.begin_array();
    for (const auto& e : v) {
      w.begin_object();
      w.key("handle");
      stream(e.handle);
      w.field("local_path", e.local_path);
      w.end_object();
    }
    w.end_array();
  }

  void keyed(const KeyedHandle& k) const {
    // The keys of each kind, sorted: backend_id, changes, checkpoint_id, checkpointed_size, code,
    // delegate, from, handles_and_offsets, key_group_offsets, key_group_range, materialization_id,
    // materialized, meta_data, non_materialized, offsets_count, private_state, shared_state,
    // state_handle_id, state_size, storage_identifier, to, type.
    const bool kg = k.code == code::kKeyGroups || k.code == code::kSavepointKeyGroups || k.code == code::kKeyGroupsV2;
    const bool inc = k.code == code::kIncremental || k.code == code::kIncrementalV2;
    const bool cl = k.code == code::kChangelog || k.code == code::kChangelogV2;
    const bool bytes_inc = k.code == code::kChangelogByteIncrement;
    const bool file_inc = k.code == code::kChangelogFileIncrement || k.code == code::kChangelogFileIncrementV2;
    w.begin_object();
    if (inc) w.field("backend_id", k.backend_id);
    if (bytes_inc) {
      w.key("changes");
      w.begin_array();
      for (const auto& ch : k.changes) {
        w.begin_object();
        w.field("key_group", ch.key_group);
        w.field("length", static_cast<uint64_t>(ch.data.size()));
        w.end_object();
      }
      w.end_array();
    }
    if (inc || (cl && k.code == code::kChangelogV2)) w.field("checkpoint_id", k.checkpoint_id);
    w.field("checkpointed_size", k.checkpointed());
    w.field("code", to_int(k.code));
    if (kg) {
      w.key("delegate");
      stream(k.delegate);
    }
    if (bytes_inc) w.field("from", k.from);
    if (file_inc) {
      w.key("handles_and_offsets");
      w.begin_array();
      for (const auto& ho : k.handles_and_offsets) {
        w.begin_object();
        w.key("handle");
        stream(ho.handle);
        w.field("offset", ho.offset);
        w.end_object();
      }
      w.end_array();
    }
    if (kg && opt.key_group_offsets) {
      w.key("key_group_offsets");
      longs(w, k.offsets);
    }
    w.key("key_group_range");
    range(w, k.range);
    if (cl) {
      w.field("materialization_id", k.materialization_id);
      w.key("materialized");
      w.begin_array();
      for (const auto& x : k.materialized) keyed(x);
      w.end_array();
    }
    if (inc) {
      w.key("meta_data");
      stream(k.delegate);
    }
    if (cl) {
      w.key("non_materialized");
      w.begin_array();
      for (const auto& x : k.non_materialized) keyed(x);
      w.end_array();
    }
    if (kg) w.field("offsets_count", static_cast<uint64_t>(k.offsets.size()));
    if (inc) {
      w.key("private_state");
      named(k.private_state);
      w.key("shared_state");
      named(k.shared_state);
    }
    if (!k.state_handle_id.empty()) w.field("state_handle_id", k.state_handle_id);
    w.field("state_size", k.size());
    if (bytes_inc) w.field("storage_identifier", "memory");
    if (file_inc) {
      if (k.code == code::kChangelogFileIncrement) w.field("storage_identifier", "filesystem");
      else w.field("storage_identifier", k.storage_identifier);
    }
    if (bytes_inc) w.field("to", k.to);
    w.field("type", keyed_handle_type_name(k.code));
    w.end_object();
  }

  void op_handle(const OperatorHandle& h) const {
    const bool seg = h.code == code::kSegmentPartitionableOperator;
    w.begin_object();
    w.field("code", to_int(h.code));
    w.key("delegate");
    stream(h.delegate);
    if (seg) w.field("shared_dir", h.shared_dir);
    w.field("state_size", h.size());
    w.key("states");
    w.begin_array();
    for (const auto& e : h.states) {
      w.begin_object();
      w.field("mode", distribution_mode_name(e.mode));
      w.field("name", e.name);
      w.key("offsets");
      longs(w, e.offsets);
      w.end_object();
    }
    w.end_array();
    if (seg) w.field("task_owned_dir", h.task_owned_dir);
    w.field("type", seg && h.is_empty ? "EmptyFileMergingOperatorStreamStateHandle" : operator_handle_type_name(h.code));
    w.end_object();
  }

  void channel(const ChannelHandle& c) const {
    w.begin_object();
    w.key("delegate");
    stream(c.delegate);
    if (!c.merged()) {
      w.key("info");
      w.begin_object();
      if (c.kind == channel::kInput) {
        w.field("gate_idx", c.info_a);
        w.field("input_channel_idx", c.info_b);
      } else {
        w.field("partition_idx", c.info_a);
        w.field("subpartition_idx", c.info_b);
      }
      w.end_object();
      w.key("offsets");
      longs(w, c.offsets);
    } else {
      w.field("serialized_offsets_length", static_cast<uint64_t>(c.serialized_offsets.size()));
    }
    w.field("state_size", c.state_size);
    w.field("subtask_index", c.subtask_index);
    w.field("type", channel_handle_type_name(c.kind));
    w.end_object();
  }

  void subtask(const SubtaskState& st) const {
    w.begin_object();
    w.field("finished", st.finished);
    w.field("index", st.index);
    if (st.finished) {
      w.end_object();
      return;
    }
    auto opl = [&](const OperatorHandle& h, int32_t flag) {
      w.begin_array();
      if (flag != 0 && !h.is_null()) op_handle(h);
      w.end_array();
    };
    auto kl = [&](const KeyedHandle& k) {
      w.begin_array();
      if (!k.is_null()) keyed(k);
      w.end_array();
    };
    w.key("input_channel_state");
    w.begin_array();
    for (const auto& c : st.input_channels) channel(c);
    w.end_array();
    w.key("managed_keyed_state");
    kl(st.managed_keyed);
    w.key("managed_operator_state");
    opl(st.managed_operator, st.managed_op_flag);
    w.key("raw_keyed_state");
    kl(st.raw_keyed);
    w.key("raw_operator_state");
    opl(st.raw_operator, st.raw_op_flag);
    if (st.v7_ref_checkpoint) w.field("ref_checkpoint_id", *st.v7_ref_checkpoint);
    w.key("result_subpartition_state");
    w.begin_array();
    for (const auto& c : st.result_subpartitions) channel(c);
    w.end_array();
    w.field("state_size", st.size());
    w.end_object();
  }

  void op(const OperatorState& o, int version, const OperatorStates* states) const {
    w.begin_object();
    w.field("checkpointed_size", o.checkpointed());
    w.key("coordinator_state");
    stream(o.coordinator);
    w.field("coordinator_state_size", o.coordinator.size());
    w.field("fully_finished", o.fully_finished);
    w.field("max_parallelism", o.max_parallelism);
    if (version >= 5) w.key("name"), w.string_or_null(o.name);
    else w.null_field("name");
    w.field("operator_id", o.id_hex());
    w.field("parallelism", o.parallelism);
    if (states) {
      w.key("state_problems");
      w.begin_array();
      for (const auto& p : states->problems) w.value(p);
      w.end_array();
      w.key("states");
      write_states_json(w, *states);
    }
    w.field("subtask_state_count", static_cast<uint64_t>(o.subtasks.size()));
    w.key("subtasks");
    w.begin_array();
    for (const auto& st : o.subtasks) subtask(st);
    w.end_array();
    w.field("total_size", o.size());
    if (version >= 5) w.key("uid"), w.string_or_null(o.uid);
    else w.null_field("uid");
    w.end_object();
  }
};

void summary_fields(JsonWriter& w, const SnapshotSummary& sum) {
  w.begin_object();
  w.field("absolute_paths", sum.absolute_paths);
  w.field("backend", sum.backend);
  w.field("backend_reason", sum.backend_reason);
  w.field("file_count", sum.file_count);
  w.field("inline_bytes", sum.inline_bytes);
  w.field("inline_handles", sum.inline_handles);
  w.field("relative_paths", sum.relative_paths);
  w.field("self_contained", sum.self_contained);
  w.field("stream_handles", sum.stream_handles);
  w.field("total_size", sum.total_size);
  w.field("type_inferred", sum.type_inferred);
  w.end_object();
}

}  // namespace

void write_snapshot_json(JsonWriter& w, const Snapshot& s, const JsonOptions& options, const SnapshotJsonExtras& extras) {
  Writer wr{w, options};
  FileList files;
  SnapshotSummary sum = summarize(s, &files);
  std::vector<const OperatorStates*> states_of(extras.states ? s.operators.size() : 0, nullptr);
  if (extras.states)
    for (const auto& os : *extras.states)
      if (os.operator_index < states_of.size()) states_of[os.operator_index] = &os;

  w.begin_object();
  w.field("checkpoint_id", s.checkpoint_id);
  w.key("files");
  w.begin_array();
  for (const auto& f : files.entries) {
    w.begin_object();
    w.field("handles", f.handles);
    w.field("path", f.path);
    w.field("relative", f.relative);
    w.field("size", f.size);
    w.end_object();
  }
  w.end_array();
  w.key("master_states");
  w.begin_array();
  for (const auto& m : s.master_states) {
    w.begin_object();
    w.field("name", m.name);
    w.field("size", static_cast<uint64_t>(m.payload.size()));
    w.field("version", m.version);
    w.end_object();
  }
  w.end_array();
  if (extras.metadata_path) {
    w.field("metadata_path", *extras.metadata_path);
    w.field("metadata_size", extras.metadata_size);
  }
  w.field("metadata_version", s.version);
  w.key("operators");
  w.begin_array();
  for (size_t i = 0; i < s.operators.size(); ++i) wr.op(s.operators[i], s.version, states_of.empty() ? nullptr : states_of[i]);
  w.end_array();
  if (extras.schema_version) w.field("schema_version", static_cast<int64_t>(*extras.schema_version));

  w.key("snapshot");
  w.begin_object();
  w.key("format");
  w.string_or_null(sum.format);
  w.key("name");
  w.string_or_null(sum.name);
  const auto& p = s.properties;
  if (p.present && p.parsed) {
    w.key("properties");
    w.begin_object();
    w.field("class", p.type_class);
    w.field("discard_cancelled", p.discard_cancelled);
    w.field("discard_failed", p.discard_failed);
    w.field("discard_finished", p.discard_finished);
    w.field("discard_subsumed", p.discard_subsumed);
    w.field("discard_suspended", p.discard_suspended);
    w.field("forced", p.forced);
    if (!p.post_checkpoint_action.empty()) w.field("post_checkpoint_action", p.post_checkpoint_action);
    if (!p.sharing_strategy.empty()) w.field("sharing_files_strategy", p.sharing_strategy);
    w.field("unclaimed", p.unclaimed);
    w.end_object();
  } else if (p.present) {
    w.field("properties_error", p.parse_error);
  }
  w.field("trailer_length", static_cast<uint64_t>(s.trailer.size()));
  w.key("type");
  w.string_or_null(sum.type);
  w.end_object();

  if (options.summary) {
    w.key("summary");
    summary_fields(w, sum);
  }
  w.field("written_by", flink_versions_writing(s.version));
  w.end_object();
}

void write_states_json(JsonWriter& w, const OperatorStates& op) {
  w.begin_array();
  for (const StateInfo& s : op.states) {
    w.begin_object();
    if (!s.backend.empty()) w.field("backend", s.backend);
    w.field("bytes", s.bytes);
    if (!s.distribution.empty()) w.field("distribution", s.distribution);
    w.field("entries", s.entries);
    if (s.max_key_group_bytes >= 0) w.field("key_groups_with_data", s.key_groups_with_data);
    w.field("key_serializer", s.key_serializer);
    if (!s.key_type.empty()) w.field("key_type", s.key_type);
    w.field("kind", s.kind);
    if (s.max_key_group_bytes >= 0) {
      w.field("max_key_group_bytes", s.max_key_group_bytes);
      w.field("mean_key_group_bytes", s.mean_key_group_bytes);
    }
    w.field("name", s.name);
    w.field("namespace_serializer", s.namespace_serializer);
    w.field("serializers_decoded", s.serializers_decoded);
    if (!s.subtask_entries.empty()) {
      w.key("subtask_entries");
      w.begin_array();
      for (int64_t e : s.subtask_entries) w.value(e);
      w.end_array();
    }
    w.field("subtasks", s.subtasks);
    w.field("ttl", s.ttl);
    w.field("type", s.type);
    if (!s.user_key_serializer.empty()) w.field("user_key_serializer", s.user_key_serializer);
    w.field("value_serializer", s.value_serializer);
    w.end_object();
  }
  w.end_array();
}

// The nlohmann forms, for tests and small callers: parsed from the stream.
nlohmann::json snapshot_to_json(const Snapshot& s, const JsonOptions& options) {
  std::string out;
  {
    JsonWriter w(out, -1);
    write_snapshot_json(w, s, options);
  }
  return nlohmann::json::parse(out);
}

nlohmann::json summary_to_json(const SnapshotSummary& sum) {
  std::string out;
  {
    JsonWriter w(out, -1);
    summary_fields(w, sum);
  }
  return nlohmann::json::parse(out);
}

nlohmann::json states_to_json(const OperatorStates& op) {
  std::string out;
  {
    JsonWriter w(out, -1);
    write_states_json(w, op);
  }
  return nlohmann::json::parse(out);
}

}  // namespace fsp
