#include "flink_savepoint/summary.h"

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <map>
#include <optional>
#include <unordered_map>

#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/summary_internal.h"
#include "flink_savepoint/walk.h"

namespace fsp {
namespace {

// Collects the keyed handle codes met (recursing into changelog handles).
void keyed_codes(const KeyedHandle& k, std::map<int, int>& out) {
  if (k.is_null()) return;
  out[to_int(k.code)]++;
  for (const auto& m : k.materialized) keyed_codes(m, out);
}

// A fast hash of a path: two independent 8-byte lanes (no long dependency
// chain), multiply-xorshift mixing.
uint64_t path_hash(std::string_view s) {
  uint64_t a = 0x243f6a8885a308d3ULL ^ s.size(), b = 0x13198a2e03707344ULL;
  size_t i = 0;
  for (; i + 16 <= s.size(); i += 16) {
    uint64_t x, y;
    std::memcpy(&x, s.data() + i, 8);
    std::memcpy(&y, s.data() + i + 8, 8);
    a = (a ^ x) * 0xff51afd7ed558ccdULL;
    b = (b ^ y) * 0xc4ceb9fe1a85ec53ULL;
    a ^= a >> 32;
    b ^= b >> 29;
  }
  uint64_t x = 0, y = 0;
  size_t rest = s.size() - i;  // 0..15
  if (rest > 8) {
    std::memcpy(&x, s.data() + i, 8);
    std::memcpy(&y, s.data() + i + 8, rest - 8);
  } else if (rest > 0) {  // an empty view may have no data()
    std::memcpy(&x, s.data() + i, rest);
  }
  a = (a ^ x) * 0xff51afd7ed558ccdULL;
  b = (b ^ y) * 0xc4ceb9fe1a85ec53ULL;
  uint64_t h = a ^ (b >> 7) ^ (a >> 31);
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

}  // namespace

// The number of distinct values: one pass scatters them into buckets by
// their top bits (about 1,024 to a bucket), then each bucket is counted with a
// small open-addressing set that stays in the L1/L2 cache. (Before: an LSD
// radix sort, 4 passes of 16 bits, 1.4-2x slower from 600k values up.)
int64_t detail::count_distinct(const std::vector<uint64_t>& v, std::vector<uint64_t>* repeated) {
  const size_t n = v.size();
  if (n == 0) return 0;
  int bits = 0;
  while (bits < 16 && (n >> bits) > 1024) ++bits;
  const size_t buckets = size_t{1} << bits;
  auto bucket_of = [bits](uint64_t x) -> size_t { return bits ? static_cast<size_t>(x >> (64 - bits)) : 0; };
  std::vector<size_t> start(buckets + 1, 0);
  for (uint64_t x : v) start[bucket_of(x) + 1]++;
  for (size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  std::vector<uint64_t> part(n);
  {
    std::vector<size_t> at(start.begin(), start.end() - 1);
    for (uint64_t x : v) part[at[bucket_of(x)]++] = x;
  }
  int64_t distinct = 0;
  std::vector<uint64_t> slots;  // 0 marks a free slot; the value 0 is counted apart
  for (size_t b = 0; b < buckets; ++b) {
    const size_t m = start[b + 1] - start[b];
    if (m == 0) continue;
    size_t cap = 16;
    while (cap < 2 * m) cap <<= 1;
    slots.assign(cap, 0);
    bool zero = false;
    int64_t found = 0;
    // Hashes of crafted paths could pile up in a few slots: past a fixed
    // budget of probes the bucket is sorted instead, so the work stays
    // bounded by the input's size.
    size_t budget = 8 * m + 64;
    size_t i = start[b];
    for (; i < start[b + 1]; ++i) {
      const uint64_t h = part[i];
      if (h == 0) {
        if (zero && repeated) repeated->push_back(0);
        found += !zero;
        zero = true;
        continue;
      }
      size_t j = static_cast<size_t>(h) & (cap - 1);
      while (slots[j] != 0 && slots[j] != h && budget != 0) j = (j + 1) & (cap - 1), --budget;
      if (budget == 0) break;
      if (slots[j] == 0) {
        slots[j] = h;
        ++found;
      } else if (repeated) {
        repeated->push_back(h);
      }
    }
    if (i != start[b + 1]) {
      auto first = part.begin() + static_cast<std::ptrdiff_t>(start[b]);
      auto last = part.begin() + static_cast<std::ptrdiff_t>(start[b + 1]);
      std::sort(first, last);
      if (repeated)
        for (auto it = first; it + 1 < last; ++it)
          if (it[0] == it[1]) repeated->push_back(*it);
      found = std::unique(first, last) - first;
    }
    distinct += found;
  }
  return distinct;
}

namespace {

// Zeroed memory for a large index, from mmap with transparent huge pages
// asked for: random probes into tens of MB of table otherwise cost a TLB miss
// (and, the first time, a page fault) each.
class ZeroedSlots {
 public:
  explicit ZeroedSlots(size_t n) : n_(n) {
    size_t bytes = n * sizeof(uint64_t);
    if (bytes >= kHuge) {
      map_bytes_ = bytes + kHuge;
      void* m = ::mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m != MAP_FAILED) {
        map_ = m;
        auto at = (reinterpret_cast<uintptr_t>(m) + kHuge - 1) & ~(kHuge - 1);
        p_ = reinterpret_cast<uint64_t*>(at);
        (void)::madvise(p_, bytes, MADV_HUGEPAGE);  // a hint: without it the table still works
        return;
      }
    }
    heap_.assign(n, 0);
    p_ = heap_.data();
  }
  ~ZeroedSlots() {
    if (map_) ::munmap(map_, map_bytes_);
  }
  ZeroedSlots(const ZeroedSlots&) = delete;
  ZeroedSlots& operator=(const ZeroedSlots&) = delete;
  size_t size() const { return n_; }
  uint64_t& operator[](size_t i) { return p_[i]; }
  const uint64_t* data() const { return p_; }

 private:
  static constexpr size_t kHuge = size_t{2} << 20;
  size_t n_;
  uint64_t* p_ = nullptr;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  std::vector<uint64_t> heap_;
};

// Distinct paths in first-appearance order: an open-addressing table of
// entry indices (tagged with the hash's high bits), sized from the number of
// paths for a load of at most 3/4 (grown by doubling if more come, rehashing
// the paths: nothing but the table is kept per entry). Paths are compared byte for byte,
// so the list is exact; no path is copied. Callers hash first and prefetch
// the slot a few paths ahead (the table is far larger than the caches).
class DistinctFiles {
 public:
  // `expected`: how many paths will be added.
  DistinctFiles(FileList& out, size_t expected) : list_(out.entries), table_(std::make_unique<ZeroedSlots>(slots_for(expected))) {
    list_.reserve(expected);
  }

  void prefetch(uint64_t h) const { __builtin_prefetch(table_->data() + (static_cast<size_t>(h) & (table_->size() - 1))); }

  FileEntry& add(Str path, bool relative, uint64_t h) {
    uint32_t tag = static_cast<uint32_t>(h >> 32);
    ZeroedSlots& table = *table_;
    size_t mask = table.size() - 1;
    for (size_t i = static_cast<size_t>(h) & mask;; i = (i + 1) & mask) {
      uint64_t slot = table[i];
      if (slot == 0) {
        if ((list_.size() + 1) * 4 > table.size() * 3) {
          grow();
          return add_new(path, relative, h);
        }
        table[i] = (static_cast<uint64_t>(tag) << 32) | (list_.size() + 1);
        return push(path, relative);
      }
      if (static_cast<uint32_t>(slot >> 32) == tag) {
        FileEntry& e = list_[static_cast<uint32_t>(slot) - 1];
        if (e.path == path) return e;
      }
    }
  }

 private:
  static size_t slots_for(size_t n) {
    size_t slots = 1024;
    while (slots * 3 < n * 4) slots *= 2;
    return slots;
  }
  FileEntry& push(Str path, bool relative) {
    FileEntry e;
    e.path = path;
    e.relative = relative;
    list_.push_back(e);
    return list_.back();
  }
  FileEntry& add_new(Str path, bool relative, uint64_t h) {
    ZeroedSlots& table = *table_;
    size_t mask = table.size() - 1;
    size_t i = static_cast<size_t>(h) & mask;
    while (table[i] != 0) i = (i + 1) & mask;
    table[i] = (h >> 32 << 32) | (list_.size() + 1);
    return push(path, relative);
  }
  void grow() {
    auto t = std::make_unique<ZeroedSlots>(table_->size() * 2);
    size_t mask = t->size() - 1;
    for (size_t k = 0; k < list_.size(); ++k) {
      uint64_t h = path_hash(list_[k].path);
      size_t i = static_cast<size_t>(h) & mask;
      while ((*t)[i] != 0) i = (i + 1) & mask;
      (*t)[i] = (h >> 32 << 32) | (k + 1);
    }
    table_ = std::move(t);
  }

  std::vector<FileEntry>& list_;
  std::unique_ptr<ZeroedSlots> table_;
};

}  // namespace

// The number of distinct paths among the stream handles of `s`, given the
// (length, key) group of each (HandlePath::group(), set by the decoder: the
// paths are not read again). Paths in different groups differ. A group met
// more than once (a path referenced twice, or two paths with the same
// length and key) is settled by a second walk that hashes the whole of its
// paths: distinct = groups - repeated groups + distinct hashes among theirs.
// Both walks are linear; crafted paths that all share a key only make the
// second walk hash them all.
static int64_t count_distinct_paths(const Snapshot& s, std::vector<uint64_t> groups) {
  std::vector<uint64_t> repeated;
  int64_t distinct_groups = detail::count_distinct(groups, &repeated);
  if (repeated.empty()) return distinct_groups;
  std::vector<uint64_t>().swap(groups);
  std::sort(repeated.begin(), repeated.end());
  repeated.erase(std::unique(repeated.begin(), repeated.end()), repeated.end());
  std::vector<uint64_t> hashes;
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation&) {
    if (!h.names_file()) return;
    if (std::binary_search(repeated.begin(), repeated.end(), h.path.group())) hashes.push_back(path_hash(h.path));
  });
  return distinct_groups - static_cast<int64_t>(repeated.size()) + detail::count_distinct(hashes);
}

SnapshotSummary summarize(const Snapshot& s, bool list_files) {
  if (!list_files) return summarize(s, static_cast<FileList*>(nullptr));
  FileList files;
  SnapshotSummary sum = summarize(s, &files);
  sum.files.reserve(files.entries.size());
  for (const auto& e : files.entries) {
    FileRef f;
    f.path = modified_utf8_to_utf8(e.path);
    f.relative = e.relative;
    f.size = e.size;
    f.handles = e.handles;
    sum.files.push_back(std::move(f));
  }
  return sum;
}

SnapshotSummary summarize(const Snapshot& s, FileList* files) {
  SnapshotSummary sum;
  const auto& p = s.properties;
  if (p.present && p.parsed) {
    sum.kind = p.is_savepoint() ? SnapshotKind::kSavepoint : SnapshotKind::kCheckpoint;
    sum.name = p.name;
    if (p.format_type == "CANONICAL") sum.snapshot_format = SnapshotFormat::kCanonical;
    if (p.format_type == "NATIVE") sum.snapshot_format = SnapshotFormat::kNative;
  }

  sum.operator_sizes.reserve(s.operators.size());
  std::map<int, int> codes;  // keyed handle codes (outer)
  std::map<int, int> inner;  // codes inside changelog handles
  for (const auto& op : s.operators) {
    sum.operator_sizes.push_back(op.size());
    sum.total_size = add_size(sum.total_size, sum.operator_sizes.back());
    for (const auto& st : op.subtasks) {
      for (const auto* k : {&st.managed_keyed}) {
        if (k->is_null()) continue;
        codes[to_int(k->code)]++;
        for (const auto& m : k->materialized) keyed_codes(m, inner);
      }
    }
  }
  auto has = [&](std::initializer_list<HandleCode> cs, const std::map<int, int>& m) {
    for (HandleCode c : cs)
      if (m.count(to_int(c))) return true;
    return false;
  };
  auto backend_of = [&](const std::map<int, int>& m, std::string& reason) -> StateBackend {
    if (has({code::kIncremental, code::kIncrementalV2}, m)) {
      reason = "IncrementalRemoteKeyedStateHandle (RocksDB/ForSt native format)";
      return StateBackend::kRocksDb;
    }
    if (has({code::kSavepointKeyGroups}, m)) {
      reason = "KeyGroupsSavepointStateHandle: canonical savepoint, restorable by any backend";
      return StateBackend::kAnyCanonical;
    }
    if (has({code::kKeyGroups, code::kKeyGroupsV2}, m)) {
      if (sum.kind == SnapshotKind::kSavepoint && sum.snapshot_format == SnapshotFormat::kCanonical) {
        reason = "KeyGroupsStateHandle in a canonical savepoint (written before 1.13)";
        return StateBackend::kAnyCanonical;
      }
      if (s.version >= 4) {
        reason = "KeyGroupsStateHandle in a v4+ snapshot: heap (HashMap) format; RocksDB writes incremental handles since 1.16";
        return StateBackend::kHashMap;
      }
      reason = "KeyGroupsStateHandle: heap format, or a RocksDB full snapshot (before 1.16); the state files tell which";
      return StateBackend::kHeapOrRocksDbFull;
    }
    reason = "no keyed state";
    return StateBackend::kNone;
  };
  if (has({code::kChangelog, code::kChangelogV2}, codes)) {
    std::string r;
    sum.changelog = true;
    sum.state_backend = backend_of(inner, r);
    std::string in = to_string(sum.state_backend);
    sum.backend = "changelog+" + in;
    sum.backend_reason = "ChangelogStateBackendHandle wrapping " + in + " (" + r + ")";
  } else {
    sum.state_backend = backend_of(codes, sum.backend_reason);
    sum.backend = to_string(sum.state_backend);
  }

  // Before v4 nothing records the type: infer what the codes allow.
  if (!p.present || !p.parsed) {
    if (has({code::kSavepointKeyGroups}, codes)) {
      sum.kind = SnapshotKind::kSavepoint;
      sum.snapshot_format = SnapshotFormat::kCanonical;
      sum.type_inferred = true;
    }
  }
  sum.type = to_string(sum.kind);
  sum.format = to_string(sum.snapshot_format);

  // Files: distinct paths. The list (JSON) is exact and in first-appearance
  // order (DistinctFiles); the count alone (tables) comes from the paths'
  // (length, key) groups (count_distinct_paths: no per-path allocation, no
  // sort, and the paths are read again only where two share a group).
  FileList local;
  FileList& list = files ? *files : local;
  list.entries.clear();
  // A first walk counts the paths, so that the index and the lists are sized
  // once (regrowing tables of a million entries costs more than the walk).
  // (The count alone needs no walk ahead: its vector of hashes grows cheaply.)
  std::optional<DistinctFiles> distinct;
  if (files) {
    size_t path_handles = 0;
    for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation&) {
      path_handles += h.names_file();
    });
    distinct.emplace(list, path_handles);
  }
  std::vector<uint64_t> groups;  // the count alone: HandlePath::group() of each path
  // Paths wait kAhead handles between hashing (and prefetching their slot)
  // and going into the index, in the order they came.
  struct Ahead {
    Str path;
    uint64_t hash;
    int64_t size;
    bool relative;
  };
  constexpr size_t kAhead = 16;
  std::array<Ahead, kAhead> ring{};
  size_t queued = 0, oldest = 0;
  auto add_file = [&](const Ahead& a) {
    FileEntry& f = distinct->add(a.path, a.relative, a.hash);
    f.handles++;
    if (a.size > f.size) f.size = a.size;
  };
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation&) {
    sum.stream_handles++;
    if (h.code == code::kByteStream) {
      sum.inline_handles++;
      sum.inline_bytes = add_size(sum.inline_bytes, static_cast<int64_t>(h.data().size()));
      return;
    }
    if (!h.names_file()) return;
    if (h.code == code::kRelative) sum.relative_paths++;
    else sum.absolute_paths++;
    if (!distinct) {
      groups.push_back(h.path.group());
      return;
    }
    int64_t size = h.code == code::kSegmentFile ? add_size(h.start_pos(), h.state_size) : h.state_size;
    Ahead a{h.path, path_hash(h.path), size, h.code == code::kRelative};
    distinct->prefetch(a.hash);
    if (queued < kAhead) {
      ring[queued++] = a;
    } else {
      add_file(ring[oldest]);
      ring[oldest] = a;
      oldest = (oldest + 1) % kAhead;
    }
  });
  for (size_t i = 0; i < queued; ++i) add_file(ring[(oldest + i) % kAhead]);
  sum.file_count = distinct ? static_cast<int64_t>(list.entries.size()) : count_distinct_paths(s, std::move(groups));
  for_each_directory(s, [&](const Str&, PathKind, const HandleLocation&) { sum.absolute_paths++; });
  sum.self_contained = sum.absolute_paths == 0;
  return sum;
}

const char* to_string(SnapshotKind k) {
  switch (k) {
    case SnapshotKind::kUnknown: return "";
    case SnapshotKind::kSavepoint: return "savepoint";
    case SnapshotKind::kCheckpoint: return "checkpoint";
  }
  return "";
}

const char* to_string(SnapshotFormat f) {
  switch (f) {
    case SnapshotFormat::kUnknown: return "";
    case SnapshotFormat::kCanonical: return "canonical";
    case SnapshotFormat::kNative: return "native";
  }
  return "";
}

const char* to_string(StateBackend b) {
  switch (b) {
    case StateBackend::kNone: return "none";
    case StateBackend::kHashMap: return "hashmap";
    case StateBackend::kRocksDb: return "rocksdb";
    case StateBackend::kHeapOrRocksDbFull: return "heap-or-rocksdb-full";
    case StateBackend::kAnyCanonical: return "any (canonical)";
  }
  return "none";
}

// Each switch lists every code (no default): a new HandleCode fails to
// compile (-Werror=switch) until it has a name here.
const char* stream_handle_type_name(HandleCode c) {
  switch (c) {
    case code::kNull: return "null";
    case code::kByteStream: return "ByteStreamStateHandle";
    case code::kFile: return "FileStateHandle";
    case code::kKeyGroups: return "KeyGroupsStateHandle";
    case code::kRelative: return "RelativeFileStateHandle";
    case code::kSegmentFile: return "SegmentFileStateHandle";
    case code::kEmptySegmentFile: return "EmptySegmentFileStateHandle";
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
    case code::kSegmentPartitionableOperator: return "unknown";
  }
  return "unknown";
}

const char* keyed_handle_type_name(HandleCode c) {
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
    case code::kByteStream:
    case code::kFile:
    case code::kPartitionableOperator:
    case code::kRelative:
    case code::kSegmentFile:
    case code::kEmptySegmentFile:
    case code::kSegmentPartitionableOperator: return "unknown";
  }
  return "unknown";
}

const char* operator_handle_type_name(HandleCode c) {
  switch (c) {
    case code::kPartitionableOperator: return "OperatorStreamStateHandle";
    case code::kSegmentPartitionableOperator: return "FileMergingOperatorStreamStateHandle";
    case code::kNull:
    case code::kByteStream:
    case code::kFile:
    case code::kKeyGroups:
    case code::kIncremental:
    case code::kRelative:
    case code::kSavepointKeyGroups:
    case code::kChangelog:
    case code::kChangelogByteIncrement:
    case code::kChangelogFileIncrement:
    case code::kIncrementalV2:
    case code::kKeyGroupsV2:
    case code::kChangelogFileIncrementV2:
    case code::kChangelogV2:
    case code::kSegmentFile:
    case code::kEmptySegmentFile: return "null";
  }
  return "null";
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
