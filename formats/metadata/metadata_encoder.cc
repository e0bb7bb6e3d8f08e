// Encoder for _metadata: the mirror image of metadata_decoder.cc. Writes the
// snapshot in its own metadata version; the v4+ trailer is copied verbatim.
#include <functional>
#include <optional>
#include <string>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/metadata.h"

namespace fsp {
namespace {

class Encoder {
 public:
  Encoder(std::string& out, int32_t version) : out_(out), w_(out), version_(version) {}

  // Streaming: hands what is encoded to `sink` whenever it passes kFlushAt.
  using Sink = std::function<Status(std::string_view)>;
  void set_sink(const Sink* sink) { sink_ = sink; }
  void set_rewriter(const PathRewriter* r) { rewrite_ = r && *r ? r : nullptr; }
  void maybe_flush(bool last = false) {
    if (!sink_ || !error_.empty() || (!last && out_.size() < kFlushAt)) return;
    Status st = (*sink_)(out_);
    out_.clear();
    if (!st.ok()) sink_error_ = st.error();
  }
  std::optional<Error>& sink_error() { return sink_error_; }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }

  void utf(Str s, const char* what) {
    if (s.size() > 65535) {
      if (error_.empty())
        error_ = std::string(what) + " is " + std::to_string(s.size()) +
                 " bytes long; Java's modified UTF-8 strings hold at most 65535 bytes";
      return;
    }
    w_.utf(s);
  }

  // head + tail as one modified UTF-8 string.
  void utf2(Str head, Str tail, const char* what) {
    size_t n = head.size() + tail.size();
    if (n > 65535) {
      if (error_.empty())
        error_ = std::string(what) + " is " + std::to_string(n) +
                 " bytes long; Java's modified UTF-8 strings hold at most 65535 bytes";
      return;
    }
    w_.u16(static_cast<uint16_t>(n));
    w_.bytes(head);
    w_.bytes(tail);
  }

  // A path string, through the rewriter when there is one.
  void path(Str s, PathKind kind, const char* what) {
    PathRewrite rw;
    if (rewrite_ && (*rewrite_)(s, kind, rw)) utf2(rw.head, rw.tail, what);
    else utf(s, what);
  }

  // A code 1, 2 or 15 handle whose path the rewriter replaces (a code 2 may
  // become a code 6).
  bool rewritten_stream(const StreamHandle& h) {
    PathKind kind = h.code == code::kFile          ? PathKind::kAbsoluteFile
                    : h.code == code::kSegmentFile ? PathKind::kSegmentFile
                                                   : PathKind::kInlineName;
    PathRewrite rw;
    if (!(*rewrite_)(h.path, kind, rw)) return false;
    if (h.code == code::kFile && rw.relative) {
      w_.u8(static_cast<uint8_t>(code::kRelative));
      utf2(rw.head, rw.tail, "a relative path");
      w_.i64(h.state_size);
      return true;
    }
    w_.u8(static_cast<uint8_t>(h.code));
    if (h.code == code::kByteStream) {
      utf2(rw.head, rw.tail, "a byte stream handle name");
      w_.i32(static_cast<int32_t>(h.data().size()));
      w_.bytes(h.data());
    } else if (h.code == code::kFile) {
      w_.i64(h.state_size);
      utf2(rw.head, rw.tail, "a file path");
    } else {
      w_.i64(h.start_pos());
      w_.i64(h.state_size);
      w_.i32(h.scope());
      utf2(rw.head, rw.tail, "a segment file path");
      utf(h.data(), "a logical file id");
    }
    return true;
  }

  void longs(const BeLongs& l) {
    w_.i32(static_cast<int32_t>(l.size()));
    w_.bytes(l.raw);
  }

  void stream(const StreamHandle& h) {
    if (rewrite_ && (h.code == code::kFile || h.code == code::kSegmentFile || h.code == code::kByteStream) &&
        rewritten_stream(h))
      return;
    w_.u8(static_cast<uint8_t>(h.code));
    switch (h.code) {
      case code::kByteStream:
        utf(h.path, "a byte stream handle name");
        w_.i32(static_cast<int32_t>(h.data().size()));
        w_.bytes(h.data());
        break;
      case code::kFile:
        w_.i64(h.state_size);
        utf(h.path, "a file path");
        break;
      case code::kRelative:
        utf(h.path, "a relative path");
        w_.i64(h.state_size);
        break;
      case code::kSegmentFile:
        w_.i64(h.start_pos());
        w_.i64(h.state_size);
        w_.i32(h.scope());
        utf(h.path, "a segment file path");
        utf(h.data(), "a logical file id");
        break;
      case code::kKeyGroups:
        if (const KeyGroupsPart* kg = h.key_groups()) {
          w_.i32(kg->range.start);
          w_.i32(kg->range.count);
          w_.bytes(kg->offsets.raw);
          stream(kg->delegate);
        }
        break;
      case code::kNull: case code::kPartitionableOperator: case code::kIncremental:
      case code::kSavepointKeyGroups: case code::kChangelog: case code::kChangelogByteIncrement:
      case code::kChangelogFileIncrement: case code::kIncrementalV2: case code::kKeyGroupsV2:
      case code::kChangelogFileIncrementV2: case code::kChangelogV2: case code::kEmptySegmentFile:
      case code::kSegmentPartitionableOperator:
        break;
    }
  }

  void named(const std::vector<NamedHandle>& v) {
    w_.i32(static_cast<int32_t>(v.size()));
    for (const auto& e : v) {
      utf(e.local_path, "a local file name");
      stream(e.handle);
    }
  }

  void keyed(const KeyedHandle& h) {
    w_.u8(static_cast<uint8_t>(h.code));
    switch (h.code) {
      case code::kKeyGroups:
      case code::kSavepointKeyGroups:
      case code::kKeyGroupsV2:
        w_.i32(h.range.start);
        w_.i32(h.range.count);
        w_.bytes(h.offsets.raw);
        stream(h.delegate);
        if (h.code == code::kKeyGroupsV2) utf(h.state_handle_id, "a state handle id");
        break;
      case code::kIncremental:
      case code::kIncrementalV2:
        w_.i64(h.checkpoint_id);
        utf(h.backend_id, "a backend id");
        w_.i32(h.range.start);
        w_.i32(h.range.count);
        if (h.code == code::kIncrementalV2) w_.i64(h.checkpointed_size);
        stream(h.delegate);
        named(h.shared_state);
        named(h.private_state);
        if (h.code == code::kIncrementalV2) utf(h.state_handle_id, "a state handle id");
        break;
      case code::kChangelog:
      case code::kChangelogV2:
        w_.i32(h.range.start);
        w_.i32(h.range.count);
        w_.i64(h.checkpointed_size);
        w_.i32(static_cast<int32_t>(h.materialized.size()));
        for (const auto& k : h.materialized) keyed(k);
        w_.i32(static_cast<int32_t>(h.non_materialized.size()));
        for (const auto& k : h.non_materialized) keyed(k);
        w_.i64(h.materialization_id);
        if (h.code == code::kChangelogV2) w_.i64(h.checkpoint_id);
        utf(h.state_handle_id, "a state handle id");
        break;
      case code::kChangelogByteIncrement:
        w_.i32(h.range.start);
        w_.i32(h.range.count);
        w_.i64(h.from);
        w_.i64(h.to);
        w_.i32(static_cast<int32_t>(h.changes.size()));
        for (const auto& c : h.changes) {
          w_.i32(c.key_group);
          w_.i32(static_cast<int32_t>(c.data.size()));
          w_.bytes(c.data);
        }
        utf(h.state_handle_id, "a state handle id");
        break;
      case code::kChangelogFileIncrement:
      case code::kChangelogFileIncrementV2:
        w_.i32(h.range.start);
        w_.i32(h.range.count);
        w_.i32(static_cast<int32_t>(h.handles_and_offsets.size()));
        for (const auto& ho : h.handles_and_offsets) {
          w_.i64(ho.offset);
          stream(ho.handle);
        }
        w_.i64(h.stored_state_size);
        w_.i64(h.checkpointed_size);
        utf(h.state_handle_id, "a state handle id");
        if (h.code == code::kChangelogFileIncrementV2) utf(h.storage_identifier, "a storage identifier");
        break;
      case code::kNull: case code::kByteStream: case code::kFile: case code::kPartitionableOperator:
      case code::kRelative: case code::kSegmentFile: case code::kEmptySegmentFile:
      case code::kSegmentPartitionableOperator:
        break;
    }
  }

  void op_handle(const OperatorHandle& h) {
    w_.u8(static_cast<uint8_t>(h.code));
    if (h.is_null()) return;
    w_.i32(static_cast<int32_t>(h.states.size()));
    for (const auto& e : h.states) {
      utf(e.name, "an operator state name");
      w_.u8(e.mode);
      longs(e.offsets);
    }
    if (h.code == code::kSegmentPartitionableOperator) {
      path(h.task_owned_dir, PathKind::kDirectory, "a task-owned directory");
      path(h.shared_dir, PathKind::kDirectory, "a shared directory");
      w_.u8(h.is_empty);
    }
    stream(h.delegate);
  }

  void channels(const std::vector<ChannelHandle>& v) {
    w_.i32(static_cast<int32_t>(v.size()));
    for (const auto& ch : v) {
      if (version_ >= 6) w_.u8(ch.kind);
      w_.i32(ch.subtask_index);
      if (ch.merged()) {
        w_.i64(ch.state_size);
        stream(ch.delegate);
        w_.i32(static_cast<int32_t>(ch.serialized_offsets.size()));
        w_.bytes(ch.serialized_offsets);
      } else {
        w_.i32(ch.info_a);
        w_.i32(ch.info_b);
        longs(ch.offsets);
        w_.i64(ch.state_size);
        stream(ch.delegate);
      }
    }
  }

  void subtask_body(const SubtaskState& st) {
    w_.i32(st.managed_op_flag);
    if (st.managed_op_flag != 0) op_handle(st.managed_operator);
    w_.i32(st.raw_op_flag);
    if (st.raw_op_flag != 0) op_handle(st.raw_operator);
    keyed(st.managed_keyed);
    keyed(st.raw_keyed);
    if (version_ >= 3) {
      channels(st.input_channels);
      channels(st.result_subpartitions);
    }
    if (version_ >= 7) {
      w_.u8(st.v7_ref_checkpoint ? 1 : 0);
      if (st.v7_ref_checkpoint) w_.i64(*st.v7_ref_checkpoint);
    }
  }

  void op(const OperatorState& o) {
    if (version_ >= 5) {
      utf(o.name, "an operator name");
      utf(o.uid, "an operator uid");
    }
    w_.bytes(Bytes(reinterpret_cast<const char*>(o.id.data()), o.id.size()));
    w_.i32(o.parallelism);
    w_.i32(o.max_parallelism);
    if (version_ == 2) {
      w_.i32(o.v2_chain_length);
      w_.i32(static_cast<int32_t>(o.subtasks.size()));
      for (const auto& st : o.subtasks) {
        w_.i32(st.index);
        w_.i64(st.v2_duration);
        w_.i32(st.v2_legacy_count);
        subtask_body(st);
      }
      return;
    }
    stream(o.coordinator);
    if (o.fully_finished) {
      w_.i32(-1);
      return;
    }
    w_.i32(static_cast<int32_t>(o.subtasks.size()));
    for (const auto& st : o.subtasks) {
      if (st.finished) {
        w_.i32(-st.index - 1);
        continue;
      }
      w_.i32(st.index);
      subtask_body(st);
      maybe_flush();
      if (sink_error_) return;
    }
  }

  void snapshot(const Snapshot& s) {
    w_.i32(kMetadataMagic);
    w_.i32(s.version);
    w_.i64(s.checkpoint_id);
    w_.i32(static_cast<int32_t>(s.master_states.size()));
    for (const auto& m : s.master_states) {
      std::string body;
      ByteWriter b(body);
      b.i32(m.version);
      if (m.name.size() > 65535) error_ = "a master state name is longer than 65535 bytes";
      b.utf(m.name);
      b.i32(static_cast<int32_t>(m.payload.size()));
      b.bytes(m.payload);
      w_.i32(kMasterStateMagic);
      w_.i32(static_cast<int32_t>(body.size()));
      w_.bytes(body);
    }
    w_.i32(static_cast<int32_t>(s.operators.size()));
    for (const auto& o : s.operators) {
      op(o);
      maybe_flush();
      if (sink_error_) return;
    }
    if (version_ >= 4) w_.bytes(s.trailer);
    maybe_flush(true);
  }

 private:
  static constexpr size_t kFlushAt = 1 << 20;
  std::string& out_;
  const Sink* sink_ = nullptr;
  const PathRewriter* rewrite_ = nullptr;
  std::optional<Error> sink_error_;
  ByteWriter w_;
  int32_t version_;
  std::string error_;
};

}  // namespace

Result<std::string> encode_metadata(const Snapshot& s) {
  if (s.version < 2 || s.version > 7) {
    return Error::usage("cannot encode metadata version " + std::to_string(s.version) + " (supported: 2 to 7)");
  }
  std::string out;
  out.reserve(s.source_size > 0 ? s.source_size + 4096 : 4096);
  Encoder e(out, s.version);
  e.snapshot(s);
  if (e.failed()) return Error::data(e.error());
  return out;
}

Status encode_metadata_to(const Snapshot& s, const std::function<Status(std::string_view)>& sink) {
  return encode_metadata_to(s, sink, PathRewriter{});
}

Status encode_metadata_to(const Snapshot& s, const std::function<Status(std::string_view)>& sink,
                          const PathRewriter& rewrite) {
  if (s.version < 2 || s.version > 7) {
    return Error::usage("cannot encode metadata version " + std::to_string(s.version) + " (supported: 2 to 7)");
  }
  std::string out;
  out.reserve((1 << 20) + (1 << 17));
  Encoder e(out, s.version);
  e.set_sink(&sink);
  e.set_rewriter(&rewrite);
  e.snapshot(s);
  if (e.failed()) return Error::data(e.error());
  if (e.sink_error()) return *e.sink_error();
  return {};
}

}  // namespace fsp
