#include "flink_savepoint/summary.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/walk.h"

namespace fsp {
namespace {

// Collects the keyed handle codes met (recursing into changelog handles).
void keyed_codes(const KeyedHandle& k, std::map<int, int>& out) {
  if (k.is_null()) return;
  out[k.code]++;
  for (const auto& m : k.materialized) keyed_codes(m, out);
}

// A fast 64-bit hash of a path (8 bytes at a time, multiply-xorshift mixing).
uint64_t path_hash(std::string_view s) {
  uint64_t h = 0x243f6a8885a308d3ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  uint64_t w = 0;
  if (i < s.size()) std::memcpy(&w, s.data() + i, s.size() - i);  // an empty view may have no data()
  h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 32);
}

}  // namespace

SnapshotSummary summarize(const Snapshot& s, bool list_files) {
  SnapshotSummary sum;
  const auto& p = s.properties;
  if (p.present && p.parsed) {
    sum.type = p.is_savepoint() ? "savepoint" : "checkpoint";
    sum.name = p.name;
    if (p.format_type == "CANONICAL") sum.format = "canonical";
    if (p.format_type == "NATIVE") sum.format = "native";
  }

  std::map<int, int> codes;  // keyed handle codes (outer)
  std::map<int, int> inner;  // codes inside changelog handles
  for (const auto& op : s.operators) {
    sum.total_size = add_size(sum.total_size, op.size());
    for (const auto& st : op.subtasks) {
      for (const auto* k : {&st.managed_keyed}) {
        if (k->is_null()) continue;
        codes[k->code]++;
        for (const auto& m : k->materialized) keyed_codes(m, inner);
      }
    }
  }
  auto has = [&](std::initializer_list<int> cs, const std::map<int, int>& m) {
    for (int c : cs)
      if (m.count(c)) return true;
    return false;
  };
  auto backend_of = [&](const std::map<int, int>& m, std::string& reason) -> std::string {
    if (has({code::kIncremental, code::kIncrementalV2}, m)) {
      reason = "IncrementalRemoteKeyedStateHandle (RocksDB/ForSt native format)";
      return "rocksdb";
    }
    if (has({code::kSavepointKeyGroups}, m)) {
      reason = "KeyGroupsSavepointStateHandle: canonical savepoint, restorable by any backend";
      return "any (canonical)";
    }
    if (has({code::kKeyGroups, code::kKeyGroupsV2}, m)) {
      if (sum.type == "savepoint" && sum.format == "canonical") {
        reason = "KeyGroupsStateHandle in a canonical savepoint (written before 1.13)";
        return "any (canonical)";
      }
      if (s.version >= 4) {
        reason = "KeyGroupsStateHandle in a v4+ snapshot: heap (HashMap) format; RocksDB writes incremental handles since 1.16";
        return "hashmap";
      }
      reason = "KeyGroupsStateHandle: heap format, or a RocksDB full snapshot (before 1.16); the state files tell which";
      return "heap-or-rocksdb-full";
    }
    reason = "no keyed state";
    return "none";
  };
  if (has({code::kChangelog, code::kChangelogV2}, codes)) {
    std::string r;
    std::string in = backend_of(inner, r);
    sum.backend = "changelog+" + in;
    sum.backend_reason = "ChangelogStateBackendHandle wrapping " + in + " (" + r + ")";
  } else {
    sum.backend = backend_of(codes, sum.backend_reason);
  }

  // Before v4 nothing records the type: infer what the codes allow.
  if (!p.present || !p.parsed) {
    if (has({code::kSavepointKeyGroups}, codes)) {
      sum.type = "savepoint";
      sum.format = "canonical";
      sum.type_inferred = true;
    }
  }

  // Files: distinct paths. Counting uses 64-bit hashes (sorted, then
  // unique: no per-path allocation); the exact list is built only when asked.
  std::vector<uint64_t> hashes;
  std::unordered_map<std::string_view, size_t> index;
  if (list_files) index.reserve(1024);
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation&) {
    sum.stream_handles++;
    if (h.code == code::kByteStream) {
      sum.inline_handles++;
      sum.inline_bytes = add_size(sum.inline_bytes, static_cast<int64_t>(h.data.size()));
      return;
    }
    if (h.code != code::kFile && h.code != code::kRelative && h.code != code::kSegmentFile) return;
    if (h.code == code::kRelative) sum.relative_paths++;
    else sum.absolute_paths++;
    if (!list_files) {
      hashes.push_back(path_hash(h.path) ^ (h.code == code::kRelative ? 0x9e3779b97f4a7c15ULL : 0));
      return;
    }
    int64_t size = h.code == code::kSegmentFile ? add_size(h.start_pos, h.state_size) : h.state_size;
    auto [it, inserted] = index.try_emplace(h.path, sum.files.size());
    if (inserted) {
      FileRef f;
      f.path = modified_utf8_to_utf8(h.path);
      f.relative = h.code == code::kRelative;
      sum.files.push_back(std::move(f));
    }
    FileRef& f = sum.files[it->second];
    f.handles++;
    if (size > f.size) f.size = size;
  });
  if (list_files) {
    sum.file_count = static_cast<int64_t>(sum.files.size());
  } else {
    std::sort(hashes.begin(), hashes.end());
    sum.file_count = std::unique(hashes.begin(), hashes.end()) - hashes.begin();
  }
  for_each_path(s, [&](const Str&, PathKind kind, const HandleLocation&) {
    if (kind == PathKind::kDirectory) sum.absolute_paths++;
  });
  sum.self_contained = sum.absolute_paths == 0;
  return sum;
}

const char* stream_handle_type_name(uint8_t c) {
  switch (c) {
    case code::kNull: return "null";
    case code::kByteStream: return "ByteStreamStateHandle";
    case code::kFile: return "FileStateHandle";
    case code::kKeyGroups: return "KeyGroupsStateHandle";
    case code::kRelative: return "RelativeFileStateHandle";
    case code::kSegmentFile: return "SegmentFileStateHandle";
    case code::kEmptySegmentFile: return "EmptySegmentFileStateHandle";
    default: return "unknown";
  }
}

const char* keyed_handle_type_name(uint8_t c) {
  switch (c) {
    case code::kNull: return "null";
    case code::kKeyGroups:
    case code::kKeyGroupsV2: return "KeyGroupsStateHandle";
    case code::kSavepointKeyGroups: return "KeyGroupsSavepointStateHandle";
    case code::kIncremental:
    case code::kIncrementalV2: return "IncrementalRemoteKeyedStateHandle";
    case code::kChangelog:
    case code::kChangelogV2: return "ChangelogStateBackendHandleImpl";
    case code::kChangelogByteIncrement: return "InMemoryChangelogStateHandle";
    case code::kChangelogFileIncrement:
    case code::kChangelogFileIncrementV2: return "ChangelogStateHandleStreamImpl";
    default: return "unknown";
  }
}

const char* operator_handle_type_name(uint8_t c) {
  switch (c) {
    case code::kPartitionableOperator: return "OperatorStreamStateHandle";
    case code::kSegmentPartitionableOperator: return "FileMergingOperatorStreamStateHandle";
    default: return "null";
  }
}

const char* channel_handle_type_name(uint8_t k) {
  switch (k) {
    case channel::kInput: return "InputChannelStateHandle";
    case channel::kResult: return "ResultSubpartitionStateHandle";
    case channel::kMergedInput: return "MergedInputChannelStateHandle";
    case channel::kMergedResult: return "MergedResultSubpartitionStateHandle";
    default: return "unknown";
  }
}

const char* distribution_mode_name(uint8_t m) {
  switch (m) {
    case 0: return "SPLIT_DISTRIBUTE";
    case 1: return "UNION";
    case 2: return "BROADCAST";
    default: return "UNKNOWN";
  }
}

}  // namespace fsp
