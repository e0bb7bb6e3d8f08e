// The one model of a Flink snapshot (_metadata), decoded once and used by
// every command. Strings and byte blobs are views: into the memory-mapped
// input, or into Snapshot::arena for values a command has replaced (relocate)
// or built (tests, benchmarks). Strings stay in Java's modified UTF-8, exactly
// as stored, so that encoding gives back the same bytes; use
// modified_utf8_to_utf8() to show them.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace fsp {

// Sizes read from a file are summed saturating, so crafted values cannot
// overflow (real sizes are far below 2^63).
inline int64_t add_size(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}

using Str = std::string_view;    // modified UTF-8 bytes, as stored
using Bytes = std::string_view;  // opaque bytes

// A run of big-endian longs stored in the file (key-group offsets, operator
// state offsets, channel offsets). Kept as a view of the raw bytes.
struct BeLongs {
  Bytes raw;  // size is a multiple of 8
  size_t size() const { return raw.size() / 8; }
  bool empty() const { return raw.empty(); }
  int64_t operator[](size_t i) const;
};

// Wire codes of MetadataV2V3SerializerBase (see docs/format.md). A switch
// over a HandleCode lists every code (no default): -Werror=switch makes a
// missed one a compile error.
enum class HandleCode : uint8_t {
  kNull = 0,
  kByteStream = 1,
  kFile = 2,
  kKeyGroups = 3,
  kPartitionableOperator = 4,
  kIncremental = 5,
  kRelative = 6,
  kSavepointKeyGroups = 7,
  kChangelog = 8,
  kChangelogByteIncrement = 9,
  kChangelogFileIncrement = 10,
  kIncrementalV2 = 11,
  kKeyGroupsV2 = 12,
  kChangelogFileIncrementV2 = 13,
  kChangelogV2 = 14,
  kSegmentFile = 15,
  kEmptySegmentFile = 16,
  kSegmentPartitionableOperator = 17,
};
inline constexpr uint8_t kMaxHandleCode = 17;
// The byte as stored.
constexpr int to_int(HandleCode c) { return static_cast<int>(c); }

// The codes by their former names (code::kFile is HandleCode::kFile).
namespace code {
inline constexpr HandleCode kNull = HandleCode::kNull;
inline constexpr HandleCode kByteStream = HandleCode::kByteStream;
inline constexpr HandleCode kFile = HandleCode::kFile;
inline constexpr HandleCode kKeyGroups = HandleCode::kKeyGroups;
inline constexpr HandleCode kPartitionableOperator = HandleCode::kPartitionableOperator;
inline constexpr HandleCode kIncremental = HandleCode::kIncremental;
inline constexpr HandleCode kRelative = HandleCode::kRelative;
inline constexpr HandleCode kSavepointKeyGroups = HandleCode::kSavepointKeyGroups;
inline constexpr HandleCode kChangelog = HandleCode::kChangelog;
inline constexpr HandleCode kChangelogByteIncrement = HandleCode::kChangelogByteIncrement;
inline constexpr HandleCode kChangelogFileIncrement = HandleCode::kChangelogFileIncrement;
inline constexpr HandleCode kIncrementalV2 = HandleCode::kIncrementalV2;
inline constexpr HandleCode kKeyGroupsV2 = HandleCode::kKeyGroupsV2;
inline constexpr HandleCode kChangelogFileIncrementV2 = HandleCode::kChangelogFileIncrementV2;
inline constexpr HandleCode kChangelogV2 = HandleCode::kChangelogV2;
inline constexpr HandleCode kSegmentFile = HandleCode::kSegmentFile;
inline constexpr HandleCode kEmptySegmentFile = HandleCode::kEmptySegmentFile;
inline constexpr HandleCode kSegmentPartitionableOperator = HandleCode::kSegmentPartitionableOperator;
}  // namespace code

struct KeyGroupRange {
  int32_t start = 0;
  int32_t count = 0;  // number of key groups; 0 = empty range
  // Computed in 64 bits: crafted ranges cannot overflow (C++20 narrowing wraps).
  int32_t end() const { return static_cast<int32_t>(static_cast<int64_t>(start) + count - 1); }
};

// The path of a stream handle: a view of its modified UTF-8 bytes, as Str,
// plus a 48-bit key of its last 16 bytes, computed whenever the path is set.
// Two paths with different (length, key) groups differ, so the distinct-file
// count of `inspect` groups paths without reading them again (the decoder
// sets them while the bytes are in the cache; docs/architecture.md, "The
// typed model"). It is as large as a Str: a stored path is at most 65,535
// bytes (Java's writeUTF), so the length takes 16 bits beside the key; a
// longer one (a model being built, which the encoder will refuse) keeps its
// length in the key's place.
class HandlePath {
 public:
  HandlePath() = default;
  HandlePath(Str s) : p_(s.data()), meta_(meta_of(s)) {}
  HandlePath(const char* s) : HandlePath(Str(s)) {}
  HandlePath(const std::string& s) : HandlePath(Str(s)) {}

  operator Str() const { return {p_, size()}; }
  Str str() const { return {p_, size()}; }
  const char* data() const { return p_; }
  size_t size() const {
    const uint64_t n = meta_ >> 48;
    return n != kLong ? n : meta_ & kLow48;
  }
  size_t length() const { return size(); }
  bool empty() const { return meta_ == 0; }
  char operator[](size_t i) const { return p_[i]; }
  Str::const_iterator begin() const { return str().begin(); }
  Str::const_iterator end() const { return str().end(); }
  Str substr(size_t pos, size_t count = Str::npos) const { return str().substr(pos, count); }
  bool starts_with(Str x) const { return str().starts_with(x); }
  bool ends_with(Str x) const { return str().ends_with(x); }
  size_t find(Str x, size_t pos = 0) const { return str().find(x, pos); }
  size_t find(char c, size_t pos = 0) const { return str().find(c, pos); }
  size_t rfind(Str x, size_t pos = Str::npos) const { return str().rfind(x, pos); }
  size_t rfind(char c, size_t pos = Str::npos) const { return str().rfind(c, pos); }
  int compare(Str x) const { return str().compare(x); }

  // Equal for equal paths: the length and the key (a longer path: its length).
  uint64_t group() const { return meta_; }

  friend bool operator==(const HandlePath& a, const HandlePath& b) { return a.str() == b.str(); }
  friend bool operator==(const HandlePath& a, Str b) { return a.str() == b; }
  friend bool operator==(const HandlePath& a, const char* b) { return a.str() == Str(b); }
  friend bool operator==(const HandlePath& a, const std::string& b) { return a.str() == Str(b); }
  friend auto operator<=>(const HandlePath& a, const HandlePath& b) { return a.str() <=> b.str(); }
  friend auto operator<=>(const HandlePath& a, Str b) { return a.str() <=> b; }
  friend std::ostream& operator<<(std::ostream& os, const HandlePath& a) { return os << a.str(); }

 private:
  static constexpr uint64_t kLong = 0xffff;  // the length field of a path of 65,535 bytes or more
  static constexpr uint64_t kLow48 = (uint64_t{1} << 48) - 1;
  static uint64_t meta_of(Str s) {
    const size_t n = s.size();
    if (n >= kLong) return (kLong << 48) | (n & kLow48);  // views are far below 2^48 bytes
    if (n == 0) return 0;
    uint64_t a = 0, b = 0;
    if (n >= 8) {
      std::memcpy(&a, s.data() + (n >= 16 ? n - 16 : 0), 8);
      std::memcpy(&b, s.data() + n - 8, 8);
    } else {
      std::memcpy(&a, s.data(), n);
    }
    uint64_t h = (a ^ 0x243f6a8885a308d3ULL) * 0xff51afd7ed558ccdULL;
    h ^= (b ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 31;
    return (static_cast<uint64_t>(n) << 48) | (h & kLow48);
  }
  const char* p_ = nullptr;
  uint64_t meta_ = 0;
};

struct KeyGroupsPart;  // code 3 met where a stream handle is expected

// The parts of a StreamHandle that only codes 1, 3 and 15 have. Most handles
// (codes 2 and 6: a path and a size) carry none, so they are boxed: a
// StreamHandle is 40 bytes instead of 72, and a checkpoint's million
// shared-state entries take a third less memory (docs/architecture.md, "The
// typed model"). A copy of a handle copies its box.
struct StreamHandleRare {
  int64_t start_pos = 0;  // 15
  int32_t scope = 0;      // 15: CheckpointedStateScope ordinal (0 EXCLUSIVE, 1 SHARED)
  Bytes data;             // 1: inline bytes; 15: logical file id
  std::shared_ptr<KeyGroupsPart> key_groups;  // 3 only
};

// StreamStateHandle: codes 0 (null), 1, 2, 3, 6, 15, 16.
struct StreamHandle {
  HandleCode code = HandleCode::kNull;
  int64_t state_size = 0;   // 2, 6, 15: as stored; 1: inline length
  HandlePath path;          // 1: handle name; 2: absolute path; 6: relative path; 15: physical file path

  StreamHandle() = default;
  StreamHandle(const StreamHandle& o) : code(o.code), state_size(o.state_size), path(o.path) {
    if (o.rare_) rare_ = std::make_unique<StreamHandleRare>(*o.rare_);
  }
  StreamHandle(StreamHandle&&) noexcept = default;
  StreamHandle& operator=(const StreamHandle& o) {
    if (this != &o) *this = StreamHandle(o);
    return *this;
  }
  StreamHandle& operator=(StreamHandle&&) noexcept = default;

  bool is_null() const { return code == code::kNull; }
  // Codes 2, 6 and 15: the path names a file (absolute, relative or a segment's physical file).
  bool names_file() const { return code == code::kFile || code == code::kRelative || code == code::kSegmentFile; }
  Bytes data() const { return rare_ ? rare_->data : Bytes(); }
  int64_t start_pos() const { return rare_ ? rare_->start_pos : 0; }
  int32_t scope() const { return rare_ ? rare_->scope : 0; }
  const KeyGroupsPart* key_groups() const { return rare_ ? rare_->key_groups.get() : nullptr; }
  KeyGroupsPart* key_groups() { return rare_ ? rare_->key_groups.get() : nullptr; }
  Str logical_file_id() const { return data(); }
  void set_data(Bytes b) { rare().data = b; }
  void set_start_pos(int64_t v) { rare().start_pos = v; }
  void set_scope(int32_t v) { rare().scope = v; }
  void set_key_groups(std::shared_ptr<KeyGroupsPart> k) { rare().key_groups = std::move(k); }
  // Flink's getStateSize(). Paths (codes 2, 6, 15) inline: a checkpoint has a million.
  int64_t size() const {
    if (names_file()) return state_size;
    return other_size();
  }

 private:
  StreamHandleRare& rare() {
    if (!rare_) rare_ = std::make_unique<StreamHandleRare>();
    return *rare_;
  }
  int64_t other_size() const;
  std::unique_ptr<StreamHandleRare> rare_;
};

struct KeyGroupsPart {
  KeyGroupRange range;
  BeLongs offsets;
  StreamHandle delegate;
};

struct NamedHandle {   // IncrementalRemoteKeyedStateHandle shared/private entries
  Str local_path;      // e.g. 000012.sst, MANIFEST-000004
  StreamHandle handle;
};

struct OffsetHandle {  // changelog file increment: (offset, handle)
  int64_t offset = 0;
  StreamHandle handle;
};

struct ChangelogChange {  // code 9
  int32_t key_group = 0;  // -1 = metadata change
  Bytes data;
};

// KeyedStateHandle: codes 0, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14.
struct KeyedHandle {
  HandleCode code = HandleCode::kNull;
  KeyGroupRange range;
  BeLongs offsets;                 // 3, 7, 12
  StreamHandle delegate;           // 3, 7, 12: data; 5, 11: meta data handle
  Str state_handle_id;             // 8, 9, 10, 11, 12, 13, 14
  // Incremental (5, 11)
  int64_t checkpoint_id = 0;       // 5, 11, 14
  Str backend_id;                  // 5, 11
  int64_t checkpointed_size = 0;   // 8, 10, 11, 13, 14 as stored
  std::vector<NamedHandle> shared_state;
  std::vector<NamedHandle> private_state;
  // Changelog (8, 14)
  std::vector<KeyedHandle> materialized;
  std::vector<KeyedHandle> non_materialized;
  int64_t materialization_id = 0;
  // In-memory changelog (9)
  int64_t from = 0, to = 0;
  std::vector<ChangelogChange> changes;
  // Changelog file increment (10, 13)
  std::vector<OffsetHandle> handles_and_offsets;
  int64_t stored_state_size = 0;   // 10, 13
  Str storage_identifier;          // 13 (10 implies "filesystem")

  bool is_null() const { return code == code::kNull; }
  int64_t size() const;            // Flink's getStateSize()
  int64_t checkpointed() const;    // Flink's getCheckpointedSize()
};

struct OperatorStateEntry {
  Str name;
  uint8_t mode = 0;  // 0 SPLIT_DISTRIBUTE, 1 UNION, 2 BROADCAST
  BeLongs offsets;
};

// OperatorStateHandle: codes 0, 4, 17.
struct OperatorHandle {
  HandleCode code = HandleCode::kNull;
  std::vector<OperatorStateEntry> states;
  Str task_owned_dir;  // 17
  Str shared_dir;      // 17
  uint8_t is_empty = 0;   // 17: the stored boolean byte (readBoolean: any nonzero byte is true), kept so it encodes back
  StreamHandle delegate;

  bool is_null() const { return code == code::kNull; }
  int64_t size() const { return delegate.size(); }
};

// Channel state of unaligned checkpoints (metadata v3+).
namespace channel {
inline constexpr uint8_t kInput = 1;
inline constexpr uint8_t kResult = 2;
inline constexpr uint8_t kMergedInput = 3;
inline constexpr uint8_t kMergedResult = 4;
}  // namespace channel

struct ChannelHandle {
  uint8_t kind = channel::kInput;   // v3-v5 carry no type byte: implied by the list
  int32_t subtask_index = 0;
  int32_t info_a = 0;   // gateIdx | partitionIdx
  int32_t info_b = 0;   // inputChannelIdx | subPartitionIdx
  BeLongs offsets;
  int64_t state_size = 0;
  StreamHandle delegate;
  Bytes serialized_offsets;  // merged kinds only

  bool merged() const { return kind == channel::kMergedInput || kind == channel::kMergedResult; }
};

struct SubtaskState {
  int32_t index = 0;
  bool finished = false;          // v3+: stored as a negative index, no body
  int64_t v2_duration = -1;       // v2 only (unused by Flink)
  int32_t v2_legacy_count = 0;    // v2 only
  int32_t managed_op_flag = 0;    // the stored "has" ints (0/1)
  int32_t raw_op_flag = 0;
  OperatorHandle managed_operator;
  OperatorHandle raw_operator;
  KeyedHandle managed_keyed;
  KeyedHandle raw_keyed;
  std::vector<ChannelHandle> input_channels;
  std::vector<ChannelHandle> result_subpartitions;
  std::optional<int64_t> v7_ref_checkpoint;  // v7: present flag + id
  bool v7_has_ref_flag = false;

  int64_t size() const;   // OperatorSubtaskState.getStateSize()
  int64_t checkpointed() const;
  bool has_state() const;
};

using OperatorId = std::array<uint8_t, 16>;

struct OperatorState {
  Str name;  // v5+ ("" = absent)
  Str uid;   // v5+ ("" = absent)
  OperatorId id{};
  int32_t parallelism = 0;
  int32_t max_parallelism = 0;
  int32_t v2_chain_length = 1;  // v2 only
  StreamHandle coordinator;     // v3+
  bool fully_finished = false;  // v3+: subtask count -1
  std::vector<SubtaskState> subtasks;
  uint64_t file_offset = 0;     // where the operator starts in the file

  std::string id_hex() const;
  int64_t size() const;          // OperatorState.getStateSize()
  int64_t checkpointed() const;
  bool has_state() const;        // as Checkpoints.loadAndValidateCheckpoint checks it
};

struct MasterState {
  Str name;
  int32_t version = 0;
  Bytes payload;
};

// What the v4+ CheckpointProperties trailer says (formats/java_serialization).
struct SnapshotProperties {
  bool present = false;         // false: v2/v3, or a serialized null
  bool parsed = false;          // the trailer was understood
  std::string type_class;       // "CheckpointType" | "SavepointType"
  std::string name;             // "Checkpoint", "Savepoint", "Suspend Savepoint", ...
  std::string format_type;      // SavepointType: CANONICAL | NATIVE
  std::string sharing_strategy; // CheckpointType: FORWARD_BACKWARD | FORWARD | NO_SHARING
  std::string post_checkpoint_action;  // SavepointType: NONE | SUSPEND | TERMINATE
  bool forced = false, discard_subsumed = false, discard_finished = false, discard_cancelled = false,
       discard_failed = false, discard_suspended = false, unclaimed = false;
  std::string parse_error;      // why parsed is false
  bool is_savepoint() const { return type_class == "SavepointType"; }
};

// Move-only: its string views point into `backing` and `arena`, which a copy
// would not own (a copy's views would dangle once the source is gone).
struct Snapshot {
  Snapshot() = default;
  Snapshot(Snapshot&&) = default;
  Snapshot& operator=(Snapshot&&) = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  int32_t version = 0;
  int64_t checkpoint_id = 0;
  std::vector<MasterState> master_states;
  std::vector<OperatorState> operators;
  Bytes trailer;                 // v4+: the Java-serialized CheckpointProperties, verbatim
  SnapshotProperties properties;

  // Keeps the bytes the views point into alive (a mapped file, a buffer).
  std::shared_ptr<const void> backing;
  // Size of the bytes it was decoded from: the encoder reserves this much.
  size_t source_size = 0;
  // Storage for strings/bytes set after decoding (relocation, builders).
  std::deque<std::string> arena;
  Str store(std::string s) { arena.push_back(std::move(s)); return arena.back(); }
};

std::string hex(const OperatorId& id);
bool parse_operator_id(std::string_view hex32, OperatorId& out);

}  // namespace fsp
