// Decoder for _metadata, following MetadataV2V3SerializerBase and the
// versioned subclasses (docs/format.md has the tables this mirrors).
#include <algorithm>
#include <new>
#include <string>
#include <vector>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/metadata.h"
#include "formats/metadata/file_kind.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp {
namespace {

// Where the decoder is, for error messages.
class Where final : public ErrorContext {
 public:
  int op_index = -1;
  const OperatorId* op_id = nullptr;
  Str op_name;
  int subtask = -1;
  std::vector<const char*> path;

  std::string describe() const override {
    std::string s;
    if (op_index < 0) {
      s = "header";
    } else {
      s = "operator #" + std::to_string(op_index);
      if (op_id) s += " (id " + hex(*op_id) + ")";
      if (subtask >= 0) s += ", subtask " + std::to_string(subtask);
    }
    for (const char* p : path) {
      s += ", ";
      s += p;
    }
    return s;
  }
};

struct Scope {
  Where& w;
  Scope(Where& where, const char* what) : w(where) { w.path.push_back(what); }
  ~Scope() { w.path.pop_back(); }
};

class Decoder {
 public:
  Decoder(std::string_view bytes) : budget_(kBudgetBase + kBudgetPerInputByte * bytes.size()), r_(bytes) {
    r_.set_context(&where_);
  }

  Result<Snapshot> run(const DecodeOptions& opt) {
    Snapshot s;
    s.source_size = r_.size();
    if (r_.size() < 4 || r_.i32() != kMetadataMagic) {
      std::string_view all(reinterpret_cast<const char*>(r_.data()), r_.size());
      ForeignFile f = identify_foreign_file(all);
      if (!f.what.empty()) {
        Error e = Error::data(f.what, 0, "header");
        e.hint = f.hint;
        return e;
      }
      Error e = Error::data(not_metadata_message(), 0, "header");
      e.hint = "expected the magic number 0x4960672D at byte 0";
      return e;
    }
    size_t version_pos = r_.pos();
    s.version = r_.i32();
    if (!r_.ok()) return r_.take_error();
    version_ = s.version;
    const MetadataVersionInfo* info = metadata_version_info(s.version);
    if (info && !info->decoded) {  // v0, v1: Flink no longer reads them
      const FlinkVersion since{info->last_reader.major, info->last_reader.minor + 1};
      Error e = Error::unsupported("this savepoint was written by Flink " + info->last_writer.str() +
                                       " (metadata version " + std::to_string(s.version) +
                                       "), which Flink no longer reads (since " + since.str() + ")",
                                   version_pos, "header");
      e.hint = std::string(info->refusal_hint);
      return e;
    }
    if (!info) {
      Error e = Error::data("unrecognized checkpoint version number: " + std::to_string(s.version) + " (known: " +
                                std::to_string(kFirstDecodedVersion) + " to " + std::to_string(kLastDecodedVersion) +
                                ", written by Flink " + metadata_version_info(kFirstDecodedVersion)->first_writer.str() +
                                " to 2.x)",
                            version_pos, "header");
      e.hint = s.version > kLastDecodedVersion ? "written by a Flink newer than this tool knows; please report it" : "";
      return e;
    }

    s.checkpoint_id = r_.i64();
    if (r_.ok() && s.checkpoint_id < 0) r_.fail_at(r_.pos() - 8, "invalid checkpoint ID: " + std::to_string(s.checkpoint_id));
    decode_master_states(s);
    int32_t n_ops = r_.i32();
    if (sized(s.operators, n_ops, min_operator_bytes(), "operator states")) {
      for (int32_t i = 0; i < n_ops && r_.ok(); ++i) {
        where_.op_index = i;
        decode_operator(s.operators[static_cast<size_t>(i)]);
        where_.op_id = nullptr;
        where_.subtask = -1;
      }
      where_.op_index = -1;
    }
    if (!r_.ok()) return r_.take_error();

    std::string_view rest(reinterpret_cast<const char*>(r_.data() + r_.pos()), r_.remaining());
    if (s.version >= 4) {
      s.trailer = rest;
      if (s.trailer.empty()) {
        return Error::data("missing CheckpointProperties at the end of a v" + std::to_string(s.version) + " file (truncated?)",
                           r_.pos(), "checkpoint properties");
      }
      // Flink reads the trailer with ObjectInputStream.readObject (MetadataV4Serializer): a stream that
      // ends early or is corrupt fails the load. Only what this reader does not support (an
      // "unsupported:" construct) stays a note, since Flink might read it.
      auto obj = parse_java_object(s.trailer, r_.pos());
      if (!obj.ok() && obj.error().kind != ErrorKind::kUnsupported) {
        Error e = obj.take_error();
        e.message = "the CheckpointProperties at the end of this v" + std::to_string(s.version) +
                    " file are not a complete Java serialization stream (Flink's ObjectInputStream.readObject "
                    "fails on them: java.io." +
                    (e.kind == ErrorKind::kTruncated ? "EOFException" : "StreamCorruptedException") +
                    "): " + e.message;
        e.where = "checkpoint properties";
        e.hint = "the file is truncated or corrupt; take a new savepoint, or restore an intact copy";
        return e;
      }
      if (opt.parse_properties) s.properties = parse_checkpoint_properties(s.trailer, r_.pos());
    } else if (!rest.empty()) {
      return Error::data(std::to_string(rest.size()) + " unexpected bytes after the last operator state", r_.pos(), "end of file");
    }
    return s;
  }

 private:
  static std::string not_metadata_message() {
    return "unexpected magic number: this is not a Flink _metadata file. This can have multiple reasons: "
           "(1) a Flink 1.0 savepoint, which Flink no longer supports, (2) the file is not a savepoint or checkpoint "
           "_metadata at all, (3) the file has been corrupted";
  }

  size_t min_operator_bytes() const {
    // id (16) + parallelism + max parallelism + (v2: chain length | v3+: coordinator code) + subtask count
    size_t n = 16 + 4 + 4 + 4;
    n += version_ == 2 ? 4 : 1;
    if (version_ >= 5) n += 4;  // two empty strings
    return n;
  }

  void decode_master_states(Snapshot& s) {
    Scope sc(where_, "master states");
    int32_t n = r_.i32();
    if (!r_.check_count(n, 8, "master states")) return;
    s.master_states.reserve(static_cast<size_t>(n));
    for (int32_t i = 0; i < n && r_.ok(); ++i) {
      size_t start = r_.pos();
      int32_t magic = r_.i32();
      if (r_.ok() && magic != kMasterStateMagic) {
        r_.fail_at(start, "incorrect magic number in master state byte sequence");
        return;
      }
      int32_t len = r_.i32();
      if (r_.ok() && len <= 0) {
        r_.fail_at(r_.pos() - 4, "found zero or negative length for master state bytes");
        return;
      }
      size_t body_start = r_.pos();
      std::string_view body = r_.bytes(static_cast<size_t>(len), "master state bytes");
      if (!r_.ok()) return;
      ByteReader m(body, body_start);
      MasterState ms;
      ms.version = m.i32();
      ms.name = m.utf();
      int32_t plen = m.i32();
      if (m.ok() && m.check_count(plen, 1, "master state payload bytes")) ms.payload = m.bytes(static_cast<size_t>(plen));
      if (m.ok() && !m.at_end()) m.fail("found trailing bytes in master state");
      if (!m.ok()) {
        r_.fail_at(static_cast<size_t>(m.file_offset()), m.error().message, m.error().kind);
        return;
      }
      s.master_states.push_back(ms);
    }
  }

  void read_id(OperatorId& id) {
    std::string_view b = r_.bytes(16, "the 16-byte operator id");
    if (r_.ok()) std::copy(b.begin(), b.end(), id.begin());
  }

  void decode_operator(OperatorState& op) {
    op.file_offset = r_.pos();
    if (version_ >= 5) {
      op.name = r_.utf();
      op.uid = r_.utf();
    }
    read_id(op.id);
    if (!r_.ok()) return;
    where_.op_id = &op.id;
    size_t parallelism_at = r_.pos();
    op.parallelism = r_.i32();
    op.max_parallelism = r_.i32();
    // What Flink's OperatorState constructor refuses (IllegalArgumentException), checked in the same order.
    if (r_.ok() && op.parallelism > op.max_parallelism) {
      r_.fail_at(parallelism_at, "Parallelism " + std::to_string(op.parallelism) +
                                     " is not smaller or equal to max parallelism " +
                                     std::to_string(op.max_parallelism) + ". (Flink's OperatorState refuses it)");
      return;
    }
    if (r_.ok() && op.parallelism < 0) {
      r_.fail_at(parallelism_at, "Illegal initial capacity: " + std::to_string(op.parallelism) +
                                     " (Flink's OperatorState cannot hold a negative parallelism)");
      return;
    }
    if (version_ == 2) {
      op.v2_chain_length = r_.i32();
      int32_t n = r_.i32();
      if (!sized(op.subtasks, n, 4 + 8 + 4 + 4 + 4 + 2, "subtask states")) return;
      for (auto& st : op.subtasks) {
        if (!r_.ok()) return;
        st.index = r_.i32();
        if (!check_subtask_index(op, st.index, &st)) return;
        where_.subtask = st.index;
        st.v2_duration = r_.i64();
        st.v2_legacy_count = r_.i32();
        if (r_.ok() && st.v2_legacy_count > 0) {
          r_.fail_at(r_.pos() - 4, "legacy state (from Flink <= 1.1, created through the 'Checkpointed' interface) is no longer supported");
          return;
        }
        decode_subtask_body(st);
      }
      return;
    }
    {
      Scope sc(where_, "coordinator state");
      decode_stream(op.coordinator);
      if (r_.ok() && op.coordinator.code != code::kNull && op.coordinator.code != code::kByteStream) {
        r_.fail("expected a ByteStreamStateHandle for coordinator state but found handle code " +
                std::to_string(to_int(op.coordinator.code)));
        return;
      }
    }
    int32_t n = r_.i32();
    if (!r_.ok()) return;
    if (n == -1) {
      op.fully_finished = true;
      if (!op.coordinator.is_null()) r_.fail("coordinator state should be null for a fully finished operator state");
      return;
    }
    if (!sized(op.subtasks, n, 4, "subtask states")) return;
    for (auto& st : op.subtasks) {
      if (!r_.ok()) return;
      int32_t idx = r_.i32();
      if (idx < 0) {
        st.index = -(idx + 1);  // finished subtask; no overflow for INT32_MIN (Java's -i-1 gives the same)
        st.finished = true;
        if (!check_subtask_index(op, st.index, &st)) return;
        continue;
      }
      st.index = idx;
      if (!check_subtask_index(op, st.index, &st)) return;
      where_.subtask = idx;
      decode_subtask_body(st);
    }
  }

  // Flink's OperatorState.putState refuses an index outside [0, parallelism)
  // with an IndexOutOfBoundsException that counts the distinct subtasks put
  // before it. `current` is the subtask being read (its index just read).
  bool check_subtask_index(const OperatorState& op, int32_t index, const SubtaskState* current) {
    if (!r_.ok() || (index >= 0 && index < op.parallelism)) return true;
    std::vector<int32_t> before;
    for (const SubtaskState& s : op.subtasks) {
      if (&s == current) break;
      before.push_back(s.index);
    }
    std::sort(before.begin(), before.end());
    size_t distinct = static_cast<size_t>(std::unique(before.begin(), before.end()) - before.begin());
    where_.subtask = -1;
    r_.fail_at(r_.pos() - 4, "The given sub task index " + std::to_string(index) +
                                 " exceeds the maximum number of sub tasks " + std::to_string(distinct) +
                                 " (Flink's OperatorState.putState; the operator's parallelism is " +
                                 std::to_string(op.parallelism) + ")");
    return false;
  }

  void decode_subtask_body(SubtaskState& st) {
    {
      Scope sc(where_, "managed operator state");
      st.managed_op_flag = r_.i32();
      if (st.managed_op_flag != 0) decode_operator_handle(st.managed_operator);
    }
    {
      Scope sc(where_, "raw operator state");
      st.raw_op_flag = r_.i32();
      if (st.raw_op_flag != 0) decode_operator_handle(st.raw_operator);
    }
    {
      Scope sc(where_, "managed keyed state");
      decode_keyed(st.managed_keyed, 0);
    }
    {
      Scope sc(where_, "raw keyed state");
      decode_keyed(st.raw_keyed, 0);
    }
    if (version_ >= 3) {
      {
        Scope sc(where_, "input channel state");
        decode_channels(st.input_channels, true);
      }
      {
        Scope sc(where_, "result subpartition state");
        decode_channels(st.result_subpartitions, false);
      }
    }
    if (version_ >= 7) {
      Scope sc(where_, "regional checkpoint reference");
      uint8_t has = r_.u8();
      st.v7_has_ref_flag = has != 0;
      if (has == 1) st.v7_ref_checkpoint = r_.i64();
      else if (has != 0) r_.fail_at(r_.pos() - 1, "expected 0 or 1 for the reference flag, found " + std::to_string(has));
    }
  }

  BeLongs read_longs(int64_t n, const char* what) {
    if (!r_.check_count(n, 8, what)) return {};
    return BeLongs{r_.bytes(static_cast<size_t>(n) * 8, what)};
  }

  void decode_key_group_range_offsets(KeyGroupRange& range, BeLongs& offsets) {
    range.start = r_.i32();
    range.count = r_.i32();
    offsets = read_longs(range.count, "key-group offsets");
  }

  void decode_stream(StreamHandle& h) {
    size_t at = r_.pos();
    uint8_t c = r_.u8();
    if (!r_.ok()) return;
    h.code = static_cast<HandleCode>(c);
    switch (h.code) {
      case code::kNull:
      case code::kEmptySegmentFile:
        return;
      case code::kByteStream: {
        if (!charge(1, kBoxBytes, "inline handles")) return;
        h.path = r_.utf();
        int32_t len = r_.i32();
        if (!r_.check_count(len, 1, "inline state bytes")) return;
        h.set_data(r_.bytes(static_cast<size_t>(len), "inline state bytes"));
        h.state_size = len;
        return;
      }
      case code::kFile:
        h.state_size = r_.i64();
        h.path = r_.utf();
        return;
      case code::kRelative:
        h.path = r_.utf();
        h.state_size = r_.i64();
        return;
      case code::kSegmentFile:
        if (!charge(1, kBoxBytes, "segment handles")) return;
        h.set_start_pos(r_.i64());
        h.state_size = r_.i64();
        h.set_scope(r_.i32());
        h.path = r_.utf();
        h.set_data(r_.utf());
        return;
      case code::kKeyGroups: {
        if (++depth_ > kMaxDepth) {
          r_.fail_at(at, "handles nested too deeply");
          return;
        }
        if (!charge(1, sizeof(KeyGroupsPart) + 32 + kBoxBytes, "nested key-group handles")) return;
        auto kg = std::make_shared<KeyGroupsPart>();
        decode_key_group_range_offsets(kg->range, kg->offsets);
        decode_stream(kg->delegate);
        h.set_key_groups(std::move(kg));
        --depth_;
        return;
      }
      default:
        r_.fail_at(at, "unknown implementation of StreamStateHandle, code: " + std::to_string(c) +
                           " (expected 0, 1, 2, 3, 6, 15 or 16)");
    }
  }

  void decode_named_handles(std::vector<NamedHandle>& out, const char* what) {
    int32_t n = r_.i32();
    if (!sized(out, n, 3, what)) return;
    for (auto& e : out) {
      if (!r_.ok()) return;
      e.local_path = r_.utf();
      decode_stream(e.handle);
    }
  }

  void decode_keyed_list(std::vector<KeyedHandle>& out, int depth, const char* what) {
    int32_t n = r_.i32();
    if (!sized(out, n, 1, what)) return;
    for (auto& k : out) {
      if (!r_.ok()) return;
      decode_keyed(k, depth + 1);
    }
  }

  void decode_keyed(KeyedHandle& h, int depth) {
    size_t at = r_.pos();
    int8_t c = r_.i8();
    if (!r_.ok()) return;
    if (depth > kMaxDepth) {
      r_.fail_at(at, "keyed state handles nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
      return;
    }
    h.code = static_cast<HandleCode>(static_cast<uint8_t>(c));
    switch (h.code) {
      case code::kNull:
        return;
      case code::kKeyGroups:
      case code::kSavepointKeyGroups:
      case code::kKeyGroupsV2:
        decode_key_group_range_offsets(h.range, h.offsets);
        decode_stream(h.delegate);
        if (h.code == code::kKeyGroupsV2) h.state_handle_id = r_.utf();
        return;
      case code::kIncremental:
      case code::kIncrementalV2:
        h.checkpoint_id = r_.i64();
        h.backend_id = r_.utf();
        h.range.start = r_.i32();
        h.range.count = r_.i32();
        if (h.code == code::kIncrementalV2) h.checkpointed_size = r_.i64();
        {
          Scope sc(where_, "meta data handle");
          decode_stream(h.delegate);
        }
        {
          Scope sc(where_, "shared state");
          decode_named_handles(h.shared_state, "shared state handles");
        }
        {
          Scope sc(where_, "private state");
          decode_named_handles(h.private_state, "private state handles");
        }
        if (h.code == code::kIncrementalV2) h.state_handle_id = r_.utf();
        return;
      case code::kChangelog:
      case code::kChangelogV2:
        h.range.start = r_.i32();
        h.range.count = r_.i32();
        h.checkpointed_size = r_.i64();
        {
          Scope sc(where_, "materialized");
          decode_keyed_list(h.materialized, depth, "materialized handles");
        }
        {
          Scope sc(where_, "non-materialized");
          decode_keyed_list(h.non_materialized, depth, "non-materialized handles");
        }
        h.materialization_id = r_.i64();
        if (h.code == code::kChangelogV2) h.checkpoint_id = r_.i64();
        h.state_handle_id = r_.utf();
        return;
      case code::kChangelogByteIncrement: {
        h.range.start = r_.i32();
        h.range.count = r_.i32();
        h.from = r_.i64();
        h.to = r_.i64();
        int32_t n = r_.i32();
        if (!sized(h.changes, n, 8, "changelog changes")) return;
        for (auto& ch : h.changes) {
          ch.key_group = r_.i32();
          int32_t len = r_.i32();
          if (!r_.check_count(len, 1, "change bytes")) return;
          ch.data = r_.bytes(static_cast<size_t>(len));
        }
        h.state_handle_id = r_.utf();
        return;
      }
      case code::kChangelogFileIncrement:
      case code::kChangelogFileIncrementV2: {
        h.range.start = r_.i32();
        h.range.count = r_.i32();
        int32_t n = r_.i32();
        if (!sized(h.handles_and_offsets, n, 9, "changelog file handles")) return;
        for (auto& ho : h.handles_and_offsets) {
          if (!r_.ok()) return;
          ho.offset = r_.i64();
          decode_stream(ho.handle);
        }
        h.stored_state_size = r_.i64();
        h.checkpointed_size = r_.i64();
        h.state_handle_id = r_.utf();
        if (h.code == code::kChangelogFileIncrementV2) h.storage_identifier = r_.utf();
        return;
      }
      default:
        r_.fail_at(at, "reading invalid KeyedStateHandle, type: " + std::to_string(c) +
                           " (expected 0, 3, 5, 7 to 14)");
    }
  }

  void decode_operator_handle(OperatorHandle& h) {
    size_t at = r_.pos();
    int8_t c = r_.i8();
    if (!r_.ok()) return;
    h.code = static_cast<HandleCode>(static_cast<uint8_t>(c));
    if (h.code == code::kNull) return;
    if (h.code != code::kPartitionableOperator && h.code != code::kSegmentPartitionableOperator) {
      r_.fail_at(at, "reading invalid OperatorStateHandle, type: " + std::to_string(c) + " (expected 0, 4 or 17)");
      return;
    }
    int32_t n = r_.i32();
    if (!sized(h.states, n, 7, "operator state names")) return;
    for (auto& e : h.states) {
      if (!r_.ok()) return;
      e.name = r_.utf();
      size_t mode_at = r_.pos();
      e.mode = static_cast<uint8_t>(r_.i8());
      if (r_.ok() && e.mode > 2) {
        r_.fail_at(mode_at, "unknown operator state distribution mode " + std::to_string(e.mode) + " (expected 0, 1 or 2)");
        return;
      }
      int32_t k = r_.i32();
      e.offsets = read_longs(k, "operator state offsets");
    }
    if (h.code == code::kSegmentPartitionableOperator) {
      h.task_owned_dir = r_.utf();
      h.shared_dir = r_.utf();
      h.is_empty = r_.u8();  // not r_.boolean(): Flink takes 2..255 as true too, and the byte must encode back
      Scope sc(where_, "segment delegate");
      decode_stream(h.delegate);
      if (r_.ok() && h.delegate.code != code::kSegmentFile && h.delegate.code != code::kEmptySegmentFile) {
        r_.fail("a file-merging operator state handle needs a segment file handle (15 or 16), found code " +
                std::to_string(to_int(h.delegate.code)));
      }
      return;
    }
    decode_stream(h.delegate);
  }

  void decode_channels(std::vector<ChannelHandle>& out, bool input) {
    int32_t n = r_.i32();
    const char* what = input ? "input channel handles" : "result subpartition handles";
    if (!sized(out, n, version_ >= 6 ? 14 : 21, what)) return;
    for (auto& ch : out) {
      if (!r_.ok()) return;
      if (version_ >= 6) {
        size_t at = r_.pos();
        uint8_t t = r_.u8();
        uint8_t plain = input ? channel::kInput : channel::kResult;
        uint8_t merged = input ? channel::kMergedInput : channel::kMergedResult;
        if (!r_.ok()) return;
        if (t != plain && t != merged) {
          r_.fail_at(at, std::string(input ? "unknown input state handle type " : "unknown output state handle type ") +
                             std::to_string(t) + " (expected " + std::to_string(plain) + " or " + std::to_string(merged) + ")");
          return;
        }
        ch.kind = t;
      } else {
        ch.kind = input ? channel::kInput : channel::kResult;
      }
      ch.subtask_index = r_.i32();
      if (ch.merged()) {
        ch.state_size = r_.i64();
        decode_stream(ch.delegate);
        int32_t len = r_.i32();
        if (!r_.check_count(len, 1, "serialized channel offsets")) return;
        ch.serialized_offsets = r_.bytes(static_cast<size_t>(len));
      } else {
        ch.info_a = r_.i32();
        ch.info_b = r_.i32();
        int32_t k = r_.i32();
        ch.offsets = read_longs(k, "channel state offsets");
        ch.state_size = r_.i64();
        decode_stream(ch.delegate);
      }
    }
  }

  // Sizes `out` for a count read from the input: the count is checked
  // against what remains (each element needs min_element_bytes) and charged.
  template <typename T>
  bool sized(std::vector<T>& out, int32_t n, size_t min_element_bytes, const char* what) {
    if (!r_.check_count(n, min_element_bytes, what) || !charge(static_cast<uint64_t>(n), sizeof(T), what)) return false;
    out.resize(static_cast<size_t>(n));
    return true;
  }

  // The model may cost more memory than the bytes it comes from (a finished
  // subtask is 4 bytes on disk and one SubtaskState in memory). Real files
  // need a few times their size; crafted ones could ask for hundreds of
  // times. Every vector the decoder sizes is charged here first.
  bool charge(uint64_t count, size_t element_size, const char* what) {
    model_bytes_ += count * element_size;
    if (model_bytes_ <= budget_) return true;
    r_.fail_at(r_.pos() >= 4 ? r_.pos() - 4 : r_.pos(),
               std::string("the ") + what + " declared here would need " + std::to_string(model_bytes_ >> 20) +
                   " MiB of memory in total, more than " + std::to_string(budget_ >> 20) +
                   " MiB allowed for a " + std::to_string(r_.size()) + "-byte file; the file is crafted or corrupt");
    return false;
  }

  static constexpr int kMaxDepth = 32;
  // A StreamHandle of code 1, 3 or 15 allocates its StreamHandleRare box (plus malloc's header).
  static constexpr size_t kBoxBytes = sizeof(StreamHandleRare) + 16;
  static constexpr uint64_t kBudgetBase = 256ull << 20;
  static constexpr uint64_t kBudgetPerInputByte = 32;
  uint64_t budget_ = 0;
  uint64_t model_bytes_ = 0;
  ByteReader r_;
  Where where_;
  int32_t version_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<Snapshot> decode_metadata(std::string_view bytes, const DecodeOptions& options) {
  try {
    Decoder d(bytes);
    auto r = d.run(options);
    if (!r.ok() && r.error().hint.empty() && r.error().kind == ErrorKind::kTruncated) {
      Error e = r.take_error();
      e.hint = "the file ends before the data it announces: it looks truncated (an incomplete copy or upload?); "
               "compare its size (" + std::to_string(bytes.size()) + " bytes) with the original";
      return e;
    }
    return r;
  } catch (const std::bad_alloc&) {
    // Only reachable under an external memory limit (ulimit): the budget above
    // keeps the model within a fixed multiple of the input otherwise.
    Error e = Error::out_of_memory("out of memory while decoding a " + std::to_string(bytes.size()) + "-byte _metadata");
    e.hint = out_of_memory_hint(bytes.size());
    return e;
  }
}

const MetadataVersionInfo* metadata_version_info(int32_t v) {
  for (const MetadataVersionInfo& i : kMetadataVersions)
    if (i.version == v) return &i;
  return nullptr;
}

std::string_view flink_versions_writing(int32_t v) {
  const MetadataVersionInfo* i = metadata_version_info(v);
  return i ? i->written_by : "unknown";
}

Result<Snapshot> decode_metadata(std::shared_ptr<const io::Buffer> bytes, const DecodeOptions& options) {
  auto s = decode_metadata(bytes->bytes(), options);
  if (s) s->backing = std::move(bytes);
  return s;
}

}  // namespace fsp
