// State-size semantics of the model, mirroring Flink's getStateSize() and
// getCheckpointedSize() of each handle class.
#include <string>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/model.h"

namespace fsp {

int64_t BeLongs::operator[](size_t i) const {
  return static_cast<int64_t>(ByteReader::load_be64(reinterpret_cast<const uint8_t*>(raw.data()) + 8 * i));
}

int64_t StreamHandle::other_size() const {
  switch (code) {
    case code::kByteStream:
      return static_cast<int64_t>(data().size());
    case code::kFile:
    case code::kRelative:
    case code::kSegmentFile:
      return state_size;
    case code::kKeyGroups:
      return key_groups() ? key_groups()->delegate.size() : 0;
    case code::kNull:
    case code::kEmptySegmentFile:
    // not stream handles
    case code::kPartitionableOperator:
    case code::kIncremental:
    case code::kSavepointKeyGroups:
    case code::kChangelog:
    case code::kChangelogByteIncrement:
    case code::kChangelogFileIncrement:
    case code::kIncrementalV2:
    case code::kKeyGroupsV2:
    case code::kChangelogFileIncrementV2:
    case code::kChangelogV2:
    case code::kSegmentPartitionableOperator:
      return 0;
  }
  return 0;
}

int64_t KeyedHandle::size() const {
  switch (code) {
    case code::kKeyGroups:
    case code::kSavepointKeyGroups:
    case code::kKeyGroupsV2:
      return delegate.size();
    case code::kIncremental:
    case code::kIncrementalV2: {
      int64_t s = delegate.size();
      for (const auto& e : shared_state) s = add_size(s, e.handle.size());
      for (const auto& e : private_state) s = add_size(s, e.handle.size());
      return s;
    }
    case code::kChangelog:
    case code::kChangelogV2: {
      int64_t s = 0;
      for (const auto& k : materialized) s = add_size(s, k.size());
      for (const auto& k : non_materialized) s = add_size(s, k.size());
      return s;
    }
    case code::kChangelogByteIncrement: {
      int64_t s = 0;
      for (const auto& c : changes) s = add_size(s, static_cast<int64_t>(c.data.size()));
      return s;
    }
    case code::kChangelogFileIncrement:
    case code::kChangelogFileIncrementV2:
      return stored_state_size;
    case code::kNull:
    // not keyed handles
    case code::kByteStream:
    case code::kFile:
    case code::kPartitionableOperator:
    case code::kRelative:
    case code::kSegmentFile:
    case code::kEmptySegmentFile:
    case code::kSegmentPartitionableOperator:
      return 0;
  }
  return 0;
}

int64_t KeyedHandle::checkpointed() const {
  switch (code) {
    case code::kIncrementalV2:
    case code::kChangelog:
    case code::kChangelogV2:
    case code::kChangelogFileIncrement:
    case code::kChangelogFileIncrementV2:
      return checkpointed_size;
    case code::kNull:
    case code::kKeyGroups:
    case code::kSavepointKeyGroups:
    case code::kKeyGroupsV2:
    case code::kIncremental:
    case code::kChangelogByteIncrement:
    case code::kByteStream:
    case code::kFile:
    case code::kPartitionableOperator:
    case code::kRelative:
    case code::kSegmentFile:
    case code::kEmptySegmentFile:
    case code::kSegmentPartitionableOperator:
      return size();
  }
  return size();
}

int64_t SubtaskState::size() const {
  int64_t s = add_size(add_size(managed_operator.size(), raw_operator.size()), add_size(managed_keyed.size(), raw_keyed.size()));
  for (const auto& c : input_channels) s = add_size(s, c.state_size);
  for (const auto& c : result_subpartitions) s = add_size(s, c.state_size);
  return s;
}

int64_t SubtaskState::checkpointed() const {
  int64_t s = add_size(add_size(managed_operator.size(), raw_operator.size()),
                       add_size(managed_keyed.checkpointed(), raw_keyed.checkpointed()));
  for (const auto& c : input_channels) s = add_size(s, c.state_size);
  for (const auto& c : result_subpartitions) s = add_size(s, c.state_size);
  return s;
}

bool SubtaskState::has_state() const {
  return !managed_operator.is_null() || !raw_operator.is_null() || !managed_keyed.is_null() ||
         !raw_keyed.is_null() || !input_channels.empty() || !result_subpartitions.empty();
}

std::string OperatorState::id_hex() const { return hex(id); }

int64_t OperatorState::size() const {
  int64_t s = coordinator.size();
  for (const auto& st : subtasks) s = add_size(s, st.size());
  return s;
}

int64_t OperatorState::checkpointed() const {
  int64_t s = coordinator.size();
  for (const auto& st : subtasks) s = add_size(s, st.checkpointed());
  return s;
}

bool OperatorState::has_state() const {
  if (fully_finished) return false;
  if (!coordinator.is_null()) return true;
  for (const auto& st : subtasks)
    if (!st.finished && st.has_state()) return true;
  return false;
}

std::string hex(const OperatorId& id) {
  static const char* d = "0123456789abcdef";
  std::string s(32, '0');
  for (size_t i = 0; i < 16; ++i) {
    s[2 * i] = d[id[i] >> 4];
    s[2 * i + 1] = d[id[i] & 15];
  }
  return s;
}

bool parse_operator_id(std::string_view h, OperatorId& out) {
  if (h.size() != 32) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 16; ++i) {
    int a = nib(h[2 * i]), b = nib(h[2 * i + 1]);
    if (a < 0 || b < 0) return false;
    out[i] = static_cast<uint8_t>(a * 16 + b);
  }
  return true;
}

}  // namespace fsp
