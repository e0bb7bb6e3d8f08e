// read_states(): resolves every state handle of a snapshot to bytes, decodes
// the serialization proxies at their head, and walks the data for statistics.
// Problems are per handle and never stop the rest.
#include <algorithm>
#include <functional>
#include <type_traits>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/changelog_replay.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/path_map.h"
#include "flink_savepoint/rocksdb_sst.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/state_internal.h"
#include "formats/state/key_groups.h"

namespace fsp {
namespace {

using state::KeyedProxy;
using state::OperatorProxy;
using state::SerializerNode;
using state::StateMetaInfo;
using state::KgStats;
using state::walk_full;
using state::walk_heap;

constexpr const char* kTtlClass = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot";
constexpr const char* kMapClass = "org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot";
constexpr const char* kListClass = "org.apache.flink.api.common.typeutils.base.ListSerializerSnapshot";


// ---------------------------------------------------------------------------
// Per-state accumulation.

struct Acc {
  int64_t entries = 0, bytes = 0;
  bool entries_known = true, bytes_known = true, touched = false;
  std::map<int32_t, int64_t> kg_bytes;
  std::map<int32_t, int64_t> subtask_entries;
  std::set<int32_t> subtasks;
  int64_t broadcast_max = -1;
};

struct StateSlot {
  StateInfo info;
  Acc acc;
  bool described = false;
};

class OperatorBuilder {
 public:
  StateSlot& slot(const std::string& name) {
    auto it = index_.find(name);
    if (it != index_.end()) return slots_[it->second];
    index_[name] = slots_.size();
    slots_.emplace_back();
    slots_.back().info.name = name;
    return slots_.back();
  }
  std::vector<StateSlot>& slots() { return slots_; }

 private:
  std::map<std::string, size_t> index_;
  std::vector<StateSlot> slots_;
};

bool has_ttl(const SerializerNode* n) {
  if (!n) return false;
  if (n->class_name == kTtlClass) return true;
  if ((n->class_name == kListClass || n->class_name == kMapClass) && !n->children.empty())
    return n->children.back().class_name == kTtlClass;
  return false;
}

std::string lower_kind(const std::string& keyed_state_type) {
  std::string s;
  for (char c : keyed_state_type) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (s == "value" || s == "list" || s == "map" || s == "reducing" || s == "aggregating" || s == "folding") return s;
  return "unknown";
}

void describe(StateSlot& slot, const StateMetaInfo& m, const SerializerNode* key, const char* backend) {
  if (slot.described) return;
  slot.described = true;
  StateInfo& s = slot.info;
  s.backend = backend;
  const SerializerNode* ns = m.serializer("NAMESPACE_SERIALIZER");
  const SerializerNode* val = m.serializer("VALUE_SERIALIZER");
  const SerializerNode* ukey = m.serializer("USER_KEY_SERIALIZER");
  const SerializerNode* bkey = m.serializer("KEY_SERIALIZER");
  switch (m.backend_type) {
    case 0:
    case 4:
      s.kind = lower_kind(m.option("KEYED_STATE_TYPE"));
      break;
    case 1: {
      std::string mode = m.option("OPERATOR_STATE_DISTRIBUTION_MODE");
      s.kind = mode == "UNION" ? "operator_union" : mode == "BROADCAST" ? "broadcast" : "operator_list";
      break;
    }
    case 2:
      s.kind = "broadcast";
      break;
    case 3:
      s.kind = "timers";
      break;
    default:
      s.kind = "unknown";
  }
  if (key && m.backend_type != 1 && m.backend_type != 2) {
    s.key_serializer = key->written_class();
    s.key_type = key->readable();
  }
  if (bkey) {
    s.key_serializer = bkey->written_class();
    s.key_type = bkey->readable();
  }
  if (ns) s.namespace_serializer = ns->written_class();
  if (val) s.value_serializer = val->written_class();
  if (ukey) s.user_key_serializer = ukey->written_class();
  else if (val && val->class_name == kMapClass && val->children.size() == 2 && s.kind == "map")
    s.user_key_serializer = val->children[0].written_class();
  s.ttl = has_ttl(val);
  if (val) s.type = val->readable();
  if (m.backend_type == 2 && bkey && val) s.type = "Map<" + bkey->readable() + ", " + val->readable() + ">";
  for (auto& [k, v] : m.serializers) {
    v.collect_classes(s.serializer_classes);
    if (!v.fully_decoded()) s.serializers_decoded = false;
  }
  if (key && m.backend_type != 1 && m.backend_type != 2) {
    key->collect_classes(s.serializer_classes);
    if (!key->fully_decoded()) s.serializers_decoded = false;
  }
}

// ---------------------------------------------------------------------------
// Key-grouped data formats.

void add_kg_stats(OperatorBuilder& ob, const KeyedProxy& p, const KgStats& st, int32_t subtask) {
  for (size_t s = 0; s < p.states.size(); ++s) {
    Acc& a = ob.slot(p.states[s].name).acc;
    a.touched = true;
    a.subtasks.insert(subtask);
    a.subtask_entries[subtask] += 0;
    if (!st.entries_known[s]) a.entries_known = false;
    if (!st.bytes_known[s]) a.bytes_known = false;
    for (auto& [kg, v] : st.entries[s]) {
      a.entries += v;
      a.subtask_entries[subtask] += v;
    }
    for (auto& [kg, v] : st.bytes[s]) {
      a.bytes += v;
      a.kg_bytes[kg] += v;
    }
  }
}

// A resolved stream whose bytes may be only its first part: on an object
// store, a command that needs the serialization proxy alone (or the proxy and
// a few bytes at stated offsets) fetches that much with ranged reads instead
// of the whole file (docs/stores.md). Local files are mapped whole (pages are
// read as they are touched).
struct Stream {
  ResolvedStream rs;  // rs.bytes: the whole stream, or its first rs.bytes.size() bytes
  uint64_t size = 0;  // the length of the whole stream
  std::shared_ptr<io::RandomAccessFile> file;  // set when rs.bytes is a prefix: reads the rest
  uint64_t base = 0;                           // where the stream starts in `file` (segments)

  // Bytes [offset, offset + length) of the stream, clipped at its end: a view
  // of the bytes held when they cover the range, else read into `scratch`.
  Result<std::string_view> at(uint64_t offset, uint64_t length, std::string& scratch) const {
    if (offset >= size) return std::string_view();
    length = std::min(length, size - offset);
    if (offset + length <= rs.bytes.size()) return rs.bytes.substr(offset, length);
    if (!file) return Error::internal("stream bytes [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                      ") were not read");
    if (Status st = file->read_at(base + offset, length, scratch); !st) return st.take_error();
    if (scratch.size() != length) return Error::io(file->uri() + ": short read at " + std::to_string(base + offset));
    return std::string_view(scratch);
  }
};

// How many bytes from the start of a stream of the given length the caller
// needs (a value >= the length: all of it). Unset: all of it.
using NeedBytes = std::function<uint64_t(uint64_t stream_size)>;

Result<Stream> resolve_part(const StreamHandle& h, const std::string& directory,
                            const std::vector<std::pair<std::string, std::string>>& path_map, const NeedBytes& need);

std::string handle_label(const StreamHandle& h) {
  switch (h.code) {
    case code::kByteStream: return "inline handle '" + modified_utf8_to_utf8(h.path) + "'";
    case code::kFile: return "file " + modified_utf8_to_utf8(h.path);
    case code::kRelative: return "relative file " + modified_utf8_to_utf8(h.path);
    case code::kSegmentFile: return "segment of " + modified_utf8_to_utf8(h.path);
    case code::kNull: case code::kKeyGroups: case code::kPartitionableOperator: case code::kIncremental:
    case code::kSavepointKeyGroups: case code::kChangelog: case code::kChangelogByteIncrement:
    case code::kChangelogFileIncrement: case code::kIncrementalV2: case code::kKeyGroupsV2:
    case code::kChangelogFileIncrementV2: case code::kChangelogV2: case code::kEmptySegmentFile:
    case code::kSegmentPartitionableOperator: break;
  }
  return "handle code " + std::to_string(to_int(h.code));
}

class Reader {
 public:
  Reader(const SnapshotFile& f, const StateReadOptions& o)
      : file_(f), opt_(o), input_bytes_(f.snapshot.source_size) {
    resync_.limit = kResyncCommandBase + kResyncCommandPerByte * input_bytes_;
  }

  OperatorStates read_operator(size_t idx) {
    const OperatorState& op = file_.snapshot.operators[idx];
    OperatorStates out;
    out.operator_index = idx;
    out.operator_id = op.id_hex();
    out.name = modified_utf8_to_utf8(op.name);
    out.uid = modified_utf8_to_utf8(op.uid);
    OperatorBuilder ob;
    for (const SubtaskState& st : op.subtasks) {
      std::string where = "operator #" + std::to_string(idx) + " (id " + out.operator_id + "), subtask " +
                          std::to_string(st.index);
      if (!st.managed_keyed.is_null()) keyed(out, ob, st.managed_keyed, st.index, where + ", managed keyed state");
      if (!st.managed_operator.is_null())
        operator_state(out, ob, st.managed_operator, st.index, where + ", managed operator state");
      if (!st.raw_keyed.is_null()) ++out.raw_handles;
      if (!st.raw_operator.is_null()) ++out.raw_handles;
    }
    for (StateSlot& s : ob.slots()) finish(s, op.parallelism);
    for (StateSlot& s : ob.slots()) out.states.push_back(std::move(s.info));
    return out;
  }

 private:
  // Returns bytes or records a problem.
  std::optional<Stream> resolve(OperatorStates& out, const StreamHandle& h, const std::string& where,
                                const NeedBytes& need = {}) {
    auto r = resolve_part(h, file_.directory, opt_.path_map, need);
    if (!r) {
      if (r.error().kind == ErrorKind::kNoInput) {
        ++out.handles_missing;
        out.problems.push_back("missing: " + r.error().message + " (" + where + ")");
      } else if (r.error().kind == ErrorKind::kUnsupported || r.error().kind == ErrorKind::kUsage) {
        // kUsage: a URI scheme that no file system of this build serves.
        ++out.handles_unsupported;
        out.problems.push_back("unsupported: " + r.error().message + " (" + where + ")");
      } else {
        ++out.handles_failed;
        out.problems.push_back("error: " + r.error().to_string() + " (" + where + ")");
      }
      return std::nullopt;
    }
    count_input(h, r.value());
    return std::move(r.value());
  }

  static bool find_legacy(const SerializerNode& n, std::string* cls) {
    if (n.legacy()) {
      *cls = n.written_class();
      return true;
    }
    for (auto& c : n.children)
      if (find_legacy(c, cls)) return true;
    return false;
  }

  // Pre-1.8 TypeSerializerConfigSnapshots: the states are listed, but Flink
  // 1.17+ cannot restore them. Counts the handle as unsupported.
  bool legacy_serializers(OperatorStates& out, const std::vector<const StateMetaInfo*>& metas,
                          const SerializerNode* key, const std::string& where) {
    std::string cls;
    bool found = key && find_legacy(*key, &cls);
    bool decoded = !key || key->fully_decoded();
    for (auto* m : metas)
      for (auto& [k, v] : m->serializers) {
        if (!found && find_legacy(v, &cls)) found = true;
        if (!v.fully_decoded()) decoded = false;
      }
    if (!found) return false;
    ++out.handles_unsupported;
    out.problems.push_back("unsupported: serializer snapshot " + cls +
                           " is a pre-1.8 TypeSerializerConfigSnapshot, not supported since Flink 1.17 " +
                           (decoded ? std::string("(read here: states and types are listed; Flink 1.8 - 1.16 restore it)")
                                    : std::string("(state names are listed, types are incomplete)")) +
                           " (" + where + ")");
    return true;
  }

  // Proxies in a pre-1.8 layout (keyed 1 - 5, operator 1 - 4) are read, but
  // Flink 1.17+ cannot restore them: counted as unsupported, with the reason.
  bool legacy_proxy(OperatorStates& out, int32_t version, bool keyed, const std::string& where) {
    if (keyed ? version >= 6 : version >= 5) return false;
    ++out.handles_unsupported;
    ++out.handles_legacy_proxy;
    if (keyed)
      out.problems.push_back("unsupported: keyed backend serialization proxy version " + std::to_string(version) +
                             " (written by Flink before 1.8): read here, but Flink 1.17+ cannot restore pre-1.8 "
                             "savepoints (migrate through Flink 1.16 first) (" + where + ")");
    else
      out.problems.push_back("unsupported: operator backend serialization proxy version " + std::to_string(version) +
                             " (written by Flink before 1.7): read here, but its meta info format is rejected since "
                             "Flink 1.17 (" + where + ")");
    return true;
  }

  // A proxy decoded: the handle is read (or unsupported for its legacy
  // serializers); unknown serializers it skipped are listed.
  template <typename Proxy>
  void count_read(OperatorStates& out, const Proxy& p, const std::vector<const StateMetaInfo*>& metas,
                  const SerializerNode* key, const std::string& where) {
    if (legacy_proxy(out, p.version, std::is_same_v<Proxy, KeyedProxy>, where)) return;
    if (legacy_serializers(out, metas, key, where)) return;
    ++out.handles_read;
    for (auto& u : p.unknown_classes)
      out.problems.push_back("unknown serializer: " + u + " (skipped; its state's type is incomplete) (" + where + ")");
    if (!p.complete) out.problems.push_back("unknown serializer: " + p.incomplete_reason + " (" + where + ")");
  }

  static std::vector<const StateMetaInfo*> keyed_metas(const KeyedProxy& p) {
    std::vector<const StateMetaInfo*> metas;
    for (auto& m : p.states) metas.push_back(&m);
    return metas;
  }

  // The proxy of one (stream, bound), decoded once per command and charged
  // to its work bound; nullptr (with the handle's problem) when it is not
  // read or does not decode.
  template <typename Proxy, typename Decode>
  const Proxy* cached_proxy(std::map<std::string, Result<Proxy>>& cache, const std::string& key, size_t bound,
                            OperatorStates& out, const std::string& where, Decode decode) {
    auto it = cache.find(key);
    if (it == cache.end()) {
      if (!charge_reading(out, bound, where)) return nullptr;
      // No context in the cached result: each handle's problems name its own place.
      make_room(cache);
      it = cache.emplace(key, decode()).first;
    }
    if (!it->second) {
      fail_proxy(out, it->second.error(), where);
      return nullptr;
    }
    return &*it->second;
  }

  void keyed(OperatorStates& out, OperatorBuilder& ob, const KeyedHandle& h, int32_t subtask, const std::string& where) {
    switch (h.code) {
      case code::kKeyGroups:
      case code::kSavepointKeyGroups:
      case code::kKeyGroupsV2:
        key_groups(out, ob, h, subtask, where);
        return;
      case code::kIncremental:
      case code::kIncrementalV2:
        incremental(out, ob, h, subtask, where);
        return;
      case code::kChangelog:
      case code::kChangelogV2:
        if (h.materialized.empty() && !h.non_materialized.empty() &&
            changelog_replayed(out, ob, h, subtask, where + ", changelog state changes"))
          return;
        for (auto& m : h.materialized) keyed(out, ob, m, subtask, where + ", changelog materialized part");
        for (auto& n : h.non_materialized) changelog_changes(out, ob, n, subtask, where + ", changelog state changes");
        return;
      case code::kNull: case code::kByteStream: case code::kFile: case code::kPartitionableOperator:
      case code::kRelative: case code::kChangelogByteIncrement: case code::kChangelogFileIncrement:
      case code::kChangelogFileIncrementV2: case code::kSegmentFile: case code::kEmptySegmentFile:
      case code::kSegmentPartitionableOperator:
        ++out.handles_unsupported;
        out.problems.push_back("unsupported: keyed state handle code " + std::to_string(to_int(h.code)) +
                               " (changelog increments) is not decoded (" + where + ")");
    }
  }

  // A changelog without a materialized part, all of it in-memory increments:
  // the changes replayed (changelog_replay.h, as dump prints them), so the
  // entries are known. False (nothing recorded) when the replay does not
  // apply; the caller then names the states from the METADATA records.
  bool changelog_replayed(OperatorStates& out, OperatorBuilder& ob, const KeyedHandle& h, int32_t subtask,
                          const std::string& where) {
    auto rp = state::replay_changelog(h);
    if (!rp) return false;
    for (const state::ChangelogStateReplay& st : rp->states) {
      StateSlot& s = ob.slot(st.meta.name);
      describe(s, st.meta, nullptr, "changelog");
      s.acc.touched = true;
      s.acc.subtasks.insert(subtask);
      s.acc.bytes_known = false;
      if (!st.unsupported.empty()) {
        s.acc.entries_known = false;
        out.problems.push_back("unsupported: changelog changes of state '" + modified_utf8_to_utf8(st.meta.name) +
                               "' not applied: " + st.unsupported + " (" + where + ")");
        continue;
      }
      auto n = static_cast<int64_t>(st.entries.size());
      s.acc.entries += n;
      s.acc.subtask_entries[subtask] += n;
    }
    out.handles_read += static_cast<int32_t>(h.non_materialized.size());
    return true;
  }

  // In-memory changelog (code 9): METADATA records (key group -1: byte 8,
  // int meta info version, StateMetaInfoSnapshot) name the states. The data
  // records are a log of changes, not entries: statistics stay unknown.
  void changelog_changes(OperatorStates& out, OperatorBuilder& ob, const KeyedHandle& h, int32_t subtask,
                         const std::string& where) {
    if (h.code != code::kChangelogByteIncrement) {
      ++out.handles_unsupported;
      out.problems.push_back("unsupported: changelog handle code " + std::to_string(to_int(h.code)) +
                             " (state changes in DSTL files) is not decoded (" + where + ")");
      return;
    }
    bool ok = true;
    for (auto& c : h.changes) {
      if (c.key_group != -1) continue;
      ByteReader r(c.data);
      uint8_t op = r.u8();
      int32_t version = r.i32();
      if (!r.ok() || op != 8 || (version != 6 && version != 7)) continue;
      auto m = state::decode_meta_info(c.data.substr(5), 5);
      if (!m) {
        ok = false;
        ++out.handles_failed;
        out.problems.push_back("error: changelog metadata record: " + m.error().to_string() + " (" + where + ")");
        break;
      }
      StateSlot& s = ob.slot(m->name);
      describe(s, *m, nullptr, "changelog");
      s.acc.touched = true;
      s.acc.subtasks.insert(subtask);
      s.acc.entries_known = s.acc.bytes_known = false;
    }
    if (ok) ++out.handles_read;
  }

  void key_groups(OperatorStates& out, OperatorBuilder& ob, const KeyedHandle& h, int32_t subtask,
                  const std::string& where0) {
    std::string where = where0 + ", " + handle_label(h.delegate);
    // The proxy alone ends where the first key group starts; the statistics walk every key group.
    NeedBytes proxy_only = [&](uint64_t size) { return state::keyed_proxy_bound(size, h.offsets); };
    auto rs = resolve(out, h.delegate, where, opt_.statistics ? NeedBytes() : proxy_only);
    if (!rs) return;
    std::string_view bytes = rs->rs.bytes;
    size_t bound = state::keyed_proxy_bound(rs->size, h.offsets);
    std::string key = stream_key(h.delegate, *rs) + "|bound " + std::to_string(bound);
    const KeyedProxy* proxy = cached_proxy(keyed_proxies_, key, bound, out, where, [&] {
      return state::decode_keyed_proxy(bytes, bound, 0, nullptr, &resync_);
    });
    if (!proxy) return;
    const KeyedProxy& p = *proxy;
    count_read(out, p, keyed_metas(p), &p.key_serializer, where);
    bool full_format = h.code == code::kSavepointKeyGroups;
    for (auto& m : p.states) describe(ob.slot(m.name), m, &p.key_serializer, full_format ? "full" : "heap");
    if (!opt_.statistics || !p.complete) return;
    // Handles that name the same stream with the same key groups and offsets
    // are walked once; everything else is charged to the command's work bound.
    std::string walk_key = key + "|kg " + std::to_string(h.range.start) + "|" + std::to_string(to_int(h.code)) + "|" +
                           std::string(h.offsets.raw);
    auto walked = walks_.find(walk_key);
    if (walked == walks_.end()) {
      Walk w;
      if (!charge_walk(bytes.size())) {
        w.err = "not walked: this command has walked " + std::to_string(walk_work_ >> 20) +
                " MiB of state already, the bound for an input of " + std::to_string(input_bytes_) +
                " bytes (docs/errors.md)";
      } else {
        std::string ferr, herr;
        w.st = walk_full(bytes, h, p, 0, &ferr);
        w.fmt = "full";
        if (!w.st && !full_format) {
          w.st = walk_heap(bytes, h, p, 0, &herr);
          w.fmt = "heap";
        }
        if (!w.st) w.err = herr.empty() ? ferr : herr;
      }
      make_room(walks_);
      walked = walks_.emplace(std::move(walk_key), std::move(w)).first;
    }
    const std::optional<KgStats>& st = walked->second.st;
    const char* fmt = walked->second.fmt;
    if (!st) {
      out.problems.push_back("error: statistics unavailable: " + walked->second.err + " (" + where + ")");
      for (auto& m : p.states) {
        Acc& a = ob.slot(m.name).acc;
        a.touched = true;
        a.entries_known = a.bytes_known = false;
      }
      return;
    }
    for (auto& m : p.states) ob.slot(m.name).info.backend = fmt;
    add_kg_stats(ob, p, *st, subtask);
  }

  void incremental(OperatorStates& out, OperatorBuilder& ob, const KeyedHandle& h, int32_t subtask,
                   const std::string& where0) {
    std::string where = where0 + ", RocksDB meta data " + handle_label(h.delegate);
    auto rs = resolve(out, h.delegate, where);
    if (!rs) return;
    std::string_view bytes = rs->rs.bytes;  // the meta data file is the proxy: read whole
    std::string key = stream_key(h.delegate, *rs) + "|bound " + std::to_string(bytes.size());
    const KeyedProxy* proxy = cached_proxy(keyed_proxies_, key, bytes.size(), out, where, [&] {
      return state::decode_keyed_proxy(bytes, bytes.size(), 0, nullptr, &resync_);
    });
    if (!proxy) return;
    count_read(out, *proxy, keyed_metas(*proxy), &proxy->key_serializer, where);
    for (auto& m : proxy->states) {
      StateSlot& s = ob.slot(m.name);
      describe(s, m, &proxy->key_serializer, "rocksdb");
      s.acc.touched = true;
      s.acc.subtasks.insert(subtask);
    }
    if (!sst_statistics(out, ob, h, *proxy, subtask, where0)) {
      for (auto& m : proxy->states) {
        Acc& a = ob.slot(m.name).acc;
        a.entries_known = a.bytes_known = false;
      }
    }
  }

  // Entries and bytes of the states of one RocksDB handle from the table
  // properties of its SST files (one column family per state, named after it).
  // Entries: records that are not deletions (puts and merge operands), summed
  // over the SSTs, not deduplicated across LSM levels. Bytes: uncompressed user
  // key + value bytes of all records. An SST file is counted once per snapshot
  // (shared files of incremental checkpoints). Returns false when the handle's
  // statistics are unknown (no librocksdb, statistics off, an SST unreadable).
  bool sst_statistics(OperatorStates& out, OperatorBuilder& ob, const KeyedHandle& h, const KeyedProxy& proxy,
                      int32_t subtask, const std::string& where0) {
    if (!opt_.statistics || !proxy.complete || !rocksdb_sst::available()) return false;
    std::map<std::string, const StateMetaInfo*> by_name;
    for (auto& m : proxy.states) by_name[m.name] = &m;
    std::map<std::string, std::pair<int64_t, int64_t>> per_state;  // entries, bytes
    bool ok = true;
    for (const auto* list : {&h.shared_state, &h.private_state}) {
      for (const NamedHandle& nh : *list) {
        std::string local = modified_utf8_to_utf8(nh.local_path);
        if (!rocksdb_sst::is_sst_name(local)) continue;
        std::string where = where0 + ", SST " + local + " (" + handle_label(nh.handle) + ")";
        std::string raw = modified_utf8_to_utf8(nh.handle.path);
        std::string id;
        Result<rocksdb_sst::SstProperties> props = Error::unsupported("SST " + local + " handle code " +
                                                                std::to_string(to_int(nh.handle.code)) + " is not a stream");
        if (nh.handle.code == code::kRelative || nh.handle.code == code::kFile) {
          auto path = state::sst_local_path(nh.handle, file_.directory, opt_.path_map);
          id = "file:" + (path ? *path : std::string());
          auto seen = seen_sst_.find(id);
          if (seen != seen_sst_.end()) {  // counted once per snapshot
            ok = ok && seen->second;
            continue;
          }
          if (!path) props = path.error();
          else props = rocksdb_sst::read_file(*path);
        } else {
          id = "handle:" + std::to_string(to_int(nh.handle.code)) + ":" + raw + "@" + std::to_string(nh.handle.start_pos()) +
               "+" + std::to_string(nh.handle.state_size) + ":" +
               std::to_string(reinterpret_cast<uintptr_t>(nh.handle.data().data()));
          auto seen = seen_sst_.find(id);
          if (seen != seen_sst_.end()) {
            ok = ok && seen->second;
            continue;
          }
          auto rs = resolve(out, nh.handle, where);  // inline bytes, segments of merged files
          if (!rs) {
            seen_sst_[id] = ok = false;
            continue;
          }
          props = rocksdb_sst::read_bytes(rs->rs.bytes, local);
        }
        if (!props) {
          seen_sst_[id] = ok = false;
          const Error& e = props.error();
          if (e.kind == ErrorKind::kNoInput) {
            ++out.handles_missing;
            out.problems.push_back("missing: " + e.message + " (" + where + ")");
          } else {
            ++out.handles_failed;
            out.problems.push_back("error: " + e.to_string() + " (" + where + ")");
          }
          continue;
        }
        seen_sst_[id] = true;
        const rocksdb_sst::SstProperties& p = *props;
        if (by_name.count(p.column_family)) {
          auto& [entries, bytes] = per_state[p.column_family];
          entries += p.live_entries();
          bytes += p.user_bytes();
        } else if (p.column_family != "default") {
          out.problems.push_back("error: SST holds column family '" + p.column_family +
                                 "', which is not a state of the meta data (" + where + ")");
        }
      }
    }
    if (!ok) return false;
    for (auto& m : proxy.states) {
      Acc& a = ob.slot(m.name).acc;
      auto it = per_state.find(m.name);
      int64_t e = it == per_state.end() ? 0 : it->second.first;
      int64_t b = it == per_state.end() ? 0 : it->second.second;
      a.entries += e;
      a.bytes += b;
      a.subtask_entries[subtask] += e;
    }
    return true;
  }

  void fail_proxy(OperatorStates& out, const Error& e, const std::string& where) {
    std::string msg = e.to_string();
    if (e.kind == ErrorKind::kUnsupported) {
      ++out.handles_unsupported;
      out.problems.push_back(msg.find(where) == std::string::npos ? msg + " (" + where + ")" : msg);
    } else {
      ++out.handles_failed;
      out.problems.push_back("error: " + msg + (msg.find(where) == std::string::npos ? " (" + where + ")" : ""));
    }
  }

  void operator_state(OperatorStates& out, OperatorBuilder& ob, const OperatorHandle& h, int32_t subtask,
                      const std::string& where0) {
    std::string where = where0 + ", " + handle_label(h.delegate);
    if (h.delegate.code == code::kEmptySegmentFile) return;
    std::vector<int64_t> all = state::operator_state_offsets(h);
    // Only the proxy (up to the first state's offset) is read whole; a
    // broadcast state's size is read at its offset, the bytes follow from the offsets.
    auto rs = resolve(out, h.delegate, where, [&](uint64_t size) { return state::operator_proxy_bound(size, all); });
    if (!rs) return;
    std::string_view bytes = rs->rs.bytes;
    const uint64_t stream_size = rs->size;
    size_t bound = state::operator_proxy_bound(stream_size, all);
    std::string key = stream_key(h.delegate, *rs) + "|bound " + std::to_string(bound);
    const OperatorProxy* proxy = cached_proxy(operator_proxies_, key, bound, out, where, [&] {
      return state::decode_operator_proxy(bytes, bound, 0, nullptr, &resync_);
    });
    if (!proxy) return;
    const OperatorProxy& p = *proxy;
    {
      std::vector<const StateMetaInfo*> metas;
      for (auto& m : p.operator_states) metas.push_back(&m);
      for (auto& m : p.broadcast_states) metas.push_back(&m);
      count_read(out, p, metas, nullptr, where);
    }
    for (auto& m : p.operator_states) describe(ob.slot(m.name), m, nullptr, "operator");
    for (auto& m : p.broadcast_states) describe(ob.slot(m.name), m, nullptr, "operator");
    for (auto& e : h.states) {
      std::string name = modified_utf8_to_utf8(e.name);
      StateSlot& s = ob.slot(name);
      Acc& a = s.acc;
      a.touched = true;
      a.subtasks.insert(subtask);
      s.info.distribution = e.mode == 0 ? "split" : e.mode == 1 ? "union" : e.mode == 2 ? "broadcast" : "unknown";
      if (s.info.kind.empty()) s.info.kind = e.mode == 1 ? "operator_union" : e.mode == 2 ? "broadcast" : "operator_list";
      if (e.mode == 2) {
        if (e.offsets.size() != 1) {
          a.entries_known = a.bytes_known = false;
          continue;
        }
        int64_t o = e.offsets[0];
        int32_t size = -1;
        std::string scratch;
        if (!p.compression) {
          if (o >= 0 && static_cast<uint64_t>(o) + 4 <= stream_size) {
            auto b = rs->at(static_cast<uint64_t>(o), 4, scratch);
            if (b && b->size() == 4) size = ByteReader(*b).i32();
          }
        } else if (opt_.statistics && o >= 0 && static_cast<uint64_t>(o) < stream_size) {
          // The Snappy chunks from the offset on, until they give 4 bytes: on a
          // store, windows of growing size; the whole rest only when it takes that.
          const uint64_t rest = stream_size - static_cast<uint64_t>(o);
          for (uint64_t w = rs->file ? std::min<uint64_t>(rest, 16 << 10) : rest;; w = std::min(rest, w * 2)) {
            auto b = rs->at(static_cast<uint64_t>(o), w, scratch);
            if (!b) break;
            auto d = state::decode_snappy_chunks(*b, 4, o);
            if ((d && d->data.size() >= 4) || w == rest) {
              if (d && d->data.size() >= 4) size = ByteReader(std::string_view(d->data).substr(0, 4)).i32();
              break;
            }
          }
        }
        if (size < 0) {
          a.entries_known = false;
          out.problems.push_back("error: broadcast state '" + name + "' size unreadable at offset " +
                                 std::to_string(o) + " (" + where + ")");
        } else {
          a.subtask_entries[subtask] = size;
          a.broadcast_max = std::max<int64_t>(a.broadcast_max, size);
        }
      } else {
        a.subtask_entries[subtask] += static_cast<int64_t>(e.offsets.size());
        a.entries += static_cast<int64_t>(e.offsets.size());
      }
      // Bytes: from each offset to the next one of any state (or the stream end).
      if (p.compression) {
        a.bytes_known = false;  // offsets are positions in the compressed stream
        continue;
      }
      for (size_t i = 0; i < e.offsets.size(); ++i) {
        int64_t o = e.offsets[i];
        int64_t end = state::operator_state_end(all, o, stream_size);
        if (o < 0 || end < o) {
          a.bytes_known = false;
          continue;
        }
        a.bytes += end - o;
      }
    }
  }

  void finish(StateSlot& s, int32_t parallelism) {
    StateInfo& i = s.info;
    Acc& a = s.acc;
    i.state_kind = parse_state_kind(i.kind);
    i.kind = to_string(i.state_kind);
    i.subtasks = static_cast<int32_t>(a.subtasks.size());
    if (!a.subtask_entries.empty()) {
      int32_t maxidx = std::max(parallelism - 1, a.subtask_entries.rbegin()->first);
      if (maxidx >= 0 && maxidx < (1 << 20)) {
        i.subtask_entries.assign(static_cast<size_t>(maxidx) + 1, -1);
        for (auto& [k, v] : a.subtask_entries)
          if (k >= 0) i.subtask_entries[k] = v;
      }
    }
    if (!a.touched) return;
    if (i.kind == "broadcast") {
      i.entries = a.entries_known ? std::max<int64_t>(a.broadcast_max, 0) : -1;
    } else {
      i.entries = a.entries_known ? a.entries : -1;
    }
    i.bytes = a.bytes_known ? a.bytes : -1;
    if (a.bytes_known && !a.kg_bytes.empty()) {
      int64_t mx = 0, sum = 0;
      int32_t n = 0;
      for (auto& [kg, b] : a.kg_bytes) {
        if (b <= 0) continue;
        mx = std::max(mx, b);
        sum += b;
        ++n;
      }
      i.key_groups_with_data = n;
      i.max_key_group_bytes = n ? mx : 0;
      i.mean_key_group_bytes = n ? static_cast<double>(sum) / n : 0.0;
    }
  }

  // Identity of a resolved stream within this command: the local file (and
  // the segment within it), or the inline bytes' place in the _metadata.
  static std::string stream_key(const StreamHandle& h, const Stream& s) {
    const ResolvedStream& rs = s.rs;
    if (rs.path.empty())
      return "inline:" + std::to_string(reinterpret_cast<uintptr_t>(rs.bytes.data())) + "+" + std::to_string(s.size);
    return "file:" + rs.path + "@" + std::to_string(h.code == code::kSegmentFile ? h.start_pos() : 0) + "+" +
           std::to_string(s.size);
  }

  // The work bounds of one command (docs/errors.md): the input is the
  // _metadata plus every distinct stream read. Resync searches may re-parse
  // 64 MiB + 512 x the input in total (each proxy also has its own bound);
  // statistics walks 256 MiB + 4 x the input. A proxy is decoded once per
  // (stream, bound) and a key-group walk once per (stream, offsets).
  void count_input(const StreamHandle& h, const Stream& s) {
    if (seen_streams_.insert(std::hash<std::string>{}(stream_key(h, s))).second) input_bytes_ += s.size;
    resync_.limit = kResyncCommandBase + kResyncCommandPerByte * input_bytes_;
  }
  bool charge_walk(uint64_t n) {
    walk_work_ += n;
    return walk_work_ <= kWalkBase + kWalkPerByte * input_bytes_;
  }
  // Counts the stream as input and charges one plain decode of its proxy
  // region; false (with a problem) past the bound: the handle is not read.
  bool charge_reading(OperatorStates& out, size_t bound, const std::string& where) {
    if (charge_walk(bound)) return true;
    ++out.handles_unsupported;
    out.problems.push_back("unsupported: not read: this command has already read " + std::to_string(walk_work_ >> 20) +
                           " MiB of state, the bound for an input of " + std::to_string(input_bytes_) +
                           " bytes (docs/errors.md) (" + where + ")");
    return false;
  }

  // The caches hold what repeats; past kMaxCached entries they start over
  // (memory stays bounded; misses are charged to the work bounds anyway).
  template <typename Map>
  static void make_room(Map& m) {
    if (m.size() >= kMaxCached) m.clear();
  }
  static constexpr size_t kMaxCached = 4096;

  struct Walk {
    std::optional<KgStats> st;
    const char* fmt = "full";
    std::string err;
  };

  static constexpr uint64_t kResyncCommandBase = 64ull << 20;
  static constexpr uint64_t kResyncCommandPerByte = 512;
  static constexpr uint64_t kWalkBase = 256ull << 20;
  static constexpr uint64_t kWalkPerByte = 4;

  const SnapshotFile& file_;
  const StateReadOptions& opt_;
  std::map<std::string, bool> seen_sst_;  // SST files read in this snapshot (RocksDB handles): read ok?
  std::map<std::string, Result<KeyedProxy>> keyed_proxies_;
  std::map<std::string, Result<OperatorProxy>> operator_proxies_;
  std::map<std::string, Walk> walks_;
  std::unordered_set<size_t> seen_streams_;  // hashes of stream_key (a collision only tightens the bound)
  uint64_t input_bytes_ = 0;
  uint64_t walk_work_ = 0;
  state::ResyncBudget resync_;
};

}  // namespace

namespace state {

Result<std::string> sst_local_path(const StreamHandle& h, const std::string& directory,
                                   const std::vector<std::pair<std::string, std::string>>& path_map) {
  std::string raw = modified_utf8_to_utf8(h.path);
  if (h.code == code::kRelative) {
    if (directory.empty()) return Error::no_input("relative handle " + raw + " without a snapshot directory");
    return directory + "/" + raw;
  }
  std::string path = map_path(raw, path_map);
  if (path.empty()) return Error::no_input("remote path " + raw + " (give a path map PREFIX=LOCAL_DIR)");
  return path;
}

std::vector<int64_t> operator_state_offsets(const OperatorHandle& h) {
  std::vector<int64_t> all;
  for (auto& e : h.states)
    for (size_t i = 0; i < e.offsets.size(); ++i) all.push_back(e.offsets[i]);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

size_t operator_proxy_bound(size_t stream_size, const std::vector<int64_t>& sorted_offsets) {
  if (!sorted_offsets.empty() && sorted_offsets.front() >= 0 && static_cast<uint64_t>(sorted_offsets.front()) < stream_size)
    return static_cast<size_t>(sorted_offsets.front());
  return stream_size;
}

int64_t operator_state_end(const std::vector<int64_t>& sorted_offsets, int64_t o, size_t stream_size) {
  auto it = std::upper_bound(sorted_offsets.begin(), sorted_offsets.end(), o);
  return it == sorted_offsets.end() ? static_cast<int64_t>(stream_size) : *it;
}

Result<FramedStream> decode_snappy_chunks(std::string_view chunks, size_t max_output, uint64_t base_offset) {
  std::string framed("\xFF\x06\x00\x00sNaPpY", 10);
  framed.append(chunks);
  return decode_snappy_framed(framed, true, max_output, base_offset);
}

}  // namespace state

std::string map_path(std::string_view path, const std::vector<std::pair<std::string, std::string>>& path_map) {
  return local_path_for(path, path_map).value_or(std::string());
}

namespace {

// A state file's read error, naming the file.
Error state_file_error(const std::string& uri, const Error& e) {
  if (e.kind == ErrorKind::kNoInput && e.message.rfind("cannot open ", 0) == 0)
    return Error::no_input("state file " + uri + " not found: " + e.message);
  Error out_e = e;
  out_e.message = "state file " + uri + ": " + e.message;
  return out_e;
}

Error segment_outside(const StreamHandle& h, const std::string& uri, uint64_t file_size) {
  return Error::data("segment [" + std::to_string(h.start_pos()) + ", +" + std::to_string(h.state_size) +
                     ") lies outside " + uri + " (" + std::to_string(file_size) + " bytes)");
}

bool segment_fits(const StreamHandle& h, uint64_t file_size) {
  return h.start_pos() >= 0 && h.state_size >= 0 && static_cast<uint64_t>(h.start_pos()) <= file_size &&
         static_cast<uint64_t>(h.state_size) <= file_size - static_cast<uint64_t>(h.start_pos());
}

// On a store: the stream's first need(size) bytes (all of them for a
// segment without `need`) through ranged reads of the opened object.
Result<Stream> read_from_store(const StreamHandle& h, const std::string& uri, const NeedBytes& need) {
  auto fs = io::file_system_for(uri);
  if (!fs) return fs.take_error();
  auto f = (*fs)->open(uri);
  if (!f) return state_file_error(uri, f.error());
  std::shared_ptr<io::RandomAccessFile> file(std::move(*f));
  const uint64_t file_size = file->size();
  Stream out;
  out.rs.path = uri;
  if (h.code == code::kSegmentFile) {
    if (!segment_fits(h, file_size)) return segment_outside(h, uri, file_size);
    out.base = static_cast<uint64_t>(h.start_pos());
    out.size = static_cast<uint64_t>(h.state_size);
  } else {
    // Never more than the handle's stated size (see resolve_part).
    out.size = h.state_size >= 0 && static_cast<uint64_t>(h.state_size) < file_size ? static_cast<uint64_t>(h.state_size)
                                                                                    : file_size;
  }
  const uint64_t want = need ? std::min(need(out.size), out.size) : out.size;
  auto bytes = std::make_shared<std::string>();
  if (want > 0)
    if (Status st = file->read_at(out.base, want, *bytes); !st) return state_file_error(uri, st.error());
  if (bytes->size() != want)
    return state_file_error(uri, Error::io("the store returned " + std::to_string(bytes->size()) + " of " +
                                           std::to_string(want) + " bytes at " + std::to_string(out.base)));
  out.rs.bytes = *bytes;
  out.rs.keep_alive = bytes;
  if (want < out.size) out.file = std::move(file);
  return out;
}

Result<Stream> resolve_part(const StreamHandle& h, const std::string& directory,
                            const std::vector<std::pair<std::string, std::string>>& path_map, const NeedBytes& need) {
  Stream out;
  switch (h.code) {
    case code::kByteStream:
      out.rs.bytes = h.data();
      out.size = h.data().size();
      return out;
    case code::kEmptySegmentFile:
      return out;
    case code::kFile:
    case code::kRelative:
    case code::kSegmentFile: {
      std::string raw = modified_utf8_to_utf8(h.path);
      std::string local;
      if (h.code == code::kRelative) {
        if (directory.empty()) return Error::no_input("relative handle " + raw + " without a snapshot directory");
        local = io::join_uri(directory, raw);
      } else {
        local = map_path(raw, path_map);
        // Not mapped: read it from its store when one is registered for its scheme.
        if (local.empty() && io::file_system_for(raw).ok()) local = raw;
        if (local.empty()) return Error::no_input("remote path " + raw + " (give a path map PREFIX=LOCAL_DIR)");
      }
      std::string scheme = io::uri_scheme(local);
      if (!scheme.empty() && scheme != "file" && (need || h.code == code::kSegmentFile))
        return read_from_store(h, local, need);
      auto fb = io::read_file(local);
      if (!fb) return state_file_error(local, fb.error());
      out.rs.path = local;
      out.rs.keep_alive = fb.value();
      std::string_view all = fb.value()->bytes();
      if (h.code == code::kSegmentFile) {
        if (!segment_fits(h, all.size())) return segment_outside(h, local, all.size());
        out.rs.bytes = all.substr(static_cast<size_t>(h.start_pos()), static_cast<size_t>(h.state_size));
      } else if (h.state_size >= 0 && static_cast<uint64_t>(h.state_size) < all.size()) {
        // Never more than the handle's stated size: Flink wrote exactly that
        // many bytes, and every offset the format stores lies within them.
        out.rs.bytes = all.substr(0, static_cast<size_t>(h.state_size));
      } else {
        out.rs.bytes = all;
      }
      out.size = out.rs.bytes.size();
      return out;
    }
    case code::kNull: case code::kKeyGroups: case code::kPartitionableOperator: case code::kIncremental:
    case code::kSavepointKeyGroups: case code::kChangelog: case code::kChangelogByteIncrement:
    case code::kChangelogFileIncrement: case code::kIncrementalV2: case code::kKeyGroupsV2:
    case code::kChangelogFileIncrementV2: case code::kChangelogV2: case code::kSegmentPartitionableOperator:
      break;
  }
  return Error::unsupported("stream handle code " + std::to_string(to_int(h.code)) + " cannot be read as a stream");
}

}  // namespace

Result<ResolvedStream> resolve_stream(const StreamHandle& h, const std::string& directory,
                                      const std::vector<std::pair<std::string, std::string>>& path_map) {
  auto s = resolve_part(h, directory, path_map, {});
  if (!s) return s.take_error();
  return std::move(s->rs);
}

namespace {
constexpr StateKind kAllStateKinds[] = {StateKind::kUnknown,       StateKind::kValue,         StateKind::kList,
                                        StateKind::kMap,           StateKind::kReducing,      StateKind::kAggregating,
                                        StateKind::kFolding,       StateKind::kOperatorList,  StateKind::kOperatorUnion,
                                        StateKind::kBroadcast,     StateKind::kTimers};
}  // namespace

const char* to_string(StateKind k) {
  switch (k) {
    case StateKind::kUnknown: return "unknown";
    case StateKind::kValue: return "value";
    case StateKind::kList: return "list";
    case StateKind::kMap: return "map";
    case StateKind::kReducing: return "reducing";
    case StateKind::kAggregating: return "aggregating";
    case StateKind::kFolding: return "folding";
    case StateKind::kOperatorList: return "operator_list";
    case StateKind::kOperatorUnion: return "operator_union";
    case StateKind::kBroadcast: return "broadcast";
    case StateKind::kTimers: return "timers";
  }
  return "unknown";
}

StateKind parse_state_kind(std::string_view name) {
  for (StateKind k : kAllStateKinds)
    if (name == to_string(k)) return k;
  return StateKind::kUnknown;
}

Result<std::vector<OperatorStates>> read_states(const SnapshotFile& file, const StateReadOptions& options) {
  std::vector<OperatorStates> result;
  Reader reader(file, options);
  size_t total = file.snapshot.operators.size();
  for (size_t i = 0; i < total; ++i) {
    result.push_back(reader.read_operator(i));
    if (options.progress) options.progress(i + 1, total);
  }
  return result;
}

}  // namespace fsp
