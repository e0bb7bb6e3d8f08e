// dump_states() (dump.h): every entry of every state, decoded with the
// serializer snapshots of its proxy, handed out one at a time.
//
// Layouts (Flink's classes):
// - heap key groups (HeapSnapshotStrategy, StateTableByKeyGroupReaders):
//   int key group, then per state short kvStateId, int count, count x
//   (namespace, key, value); priority queues count x element.
// - full format (FullSnapshotAsyncWriter; canonical savepoints, RocksDB full
//   snapshots): short kvStateId, then (int length, key, int length, value)
//   records; the first key byte's 0x80 bit says "a kvStateId or -1 follows".
// - RocksDB SSTs: one column family per state, the same keys and values.
// Keys: CompositeKeySerializationUtils (key-group prefix, key, namespace,
// map user key; length suffixes when key and namespace are both
// variable-sized). List values: elements separated by ',' (full/RocksDB) or a
// ListSerializer (heap). Map values: a null flag, then the value.
#include "flink_savepoint/dump.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/changelog_replay.h"
#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/rocksdb_sst.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/state_internal.h"

namespace fsp {
namespace {

using state::KeyedProxy;
using state::SerializerNode;
using state::StateMetaInfo;
using state::Value;

constexpr const char* kTtlClass = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot";

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// {"$serializer": CLASS, "$base64": BYTES} (+ "$error" when decoding was tried).
Value undecoded(const SerializerNode* n, std::string_view bytes, const std::string& why) {
  Value o = Value::object();
  o.add("$serializer", Value::string(n ? state::serializer_label(*n) : "?"));
  o.add("$base64", Value::bytes(bytes));
  if (!why.empty()) o.add("$error", Value::string(why));
  return o;
}

bool values_equal(const Value& a, const Value& b) {
  if (a.type != b.type) {
    if (a.type == Value::Type::kInt && b.type == Value::Type::kDouble) return static_cast<double>(a.i) == b.d;
    if (a.type == Value::Type::kDouble && b.type == Value::Type::kInt) return a.d == static_cast<double>(b.i);
    return false;
  }
  switch (a.type) {
    case Value::Type::kNull: return true;
    case Value::Type::kBool: return a.b == b.b;
    case Value::Type::kInt: return a.i == b.i;
    case Value::Type::kDouble: return a.d == b.d;
    default: break;
  }
  if (a.s != b.s || a.items.size() != b.items.size() || a.keys != b.keys) return false;
  for (size_t i = 0; i < a.items.size(); ++i)
    if (!values_equal(a.items[i], b.items[i])) return false;
  return true;
}

// The value serializer as the state kind uses it.
struct StateLayout {
  const StateMetaInfo* meta = nullptr;
  std::string name, kind;
  const SerializerNode* ns = nullptr;
  const SerializerNode* value = nullptr;     // value / list element / map value / PQ element
  const SerializerNode* user_key = nullptr;  // map
  bool ttl = false;                          // `value` is TTL-wrapped
  bool timers = false;                       // priority queue (timers)
  bool selected = true;
  // Per entry work done once per state: the key serializer and namespace
  // are both variable-sized (length suffixes in composite keys); the
  // namespace (of a timer: its second field) is VoidNamespace.
  bool ambiguous = false, void_ns = false, timer_void_ns = false;
  mutable int64_t* entries = nullptr;        // its DumpCounts::entries_by_state slot, once it has one
};

StateLayout layout_of(const StateMetaInfo& m, const SerializerNode& key_ser, const std::string& filter) {
  StateLayout s;
  s.meta = &m;
  s.name = modified_utf8_to_utf8(m.name);
  s.selected = filter.empty() || filter == s.name;
  s.ns = m.serializer("NAMESPACE_SERIALIZER");
  s.ambiguous = state::fixed_length(key_ser) < 0 && s.ns && state::fixed_length(*s.ns) < 0;
  s.void_ns = s.ns && state::is_void_namespace(*s.ns);
  const SerializerNode* v = m.serializer("VALUE_SERIALIZER");
  if (m.backend_type == 3) {
    s.kind = "timer";
    s.timers = true;
    s.value = v;
    s.timer_void_ns = v && v->children.size() == 2 && state::is_void_namespace(v->children[1]);
    return s;
  }
  s.kind = lower(m.option("KEYED_STATE_TYPE"));
  if (s.kind.empty()) s.kind = "unknown";
  s.value = v;
  if (v && s.kind == "list" && v->children.size() == 1 &&
      state::short_type_name(v->class_name) == "List")
    s.value = &v->children[0];
  if (v && s.kind == "map" && v->children.size() == 2 && state::short_type_name(v->class_name) == "Map") {
    s.user_key = &v->children[0];
    s.value = &v->children[1];
  }
  if (const SerializerNode* uk = m.serializer("USER_KEY_SERIALIZER")) s.user_key = uk;
  if (s.value && s.value->class_name == kTtlClass && s.value->children.size() == 2) {
    s.ttl = true;
  }
  return s;
}

class Dumper {
 public:
  Dumper(const SnapshotFile& f, const DumpOptions& o, const std::function<bool(const DumpRecord&)>& emit,
         const std::function<void(const std::string&)>& problem)
      : f_(f), o_(o), emit_(emit), problem_(problem) {}

  Result<DumpCounts> run() {
    const auto& ops = f_.snapshot.operators;
    for (size_t i = 0; i < ops.size() && !stop_; ++i) {
      const OperatorState& op = ops[i];
      std::string id = op.id_hex(), uid = modified_utf8_to_utf8(op.uid), name = modified_utf8_to_utf8(op.name);
      if (!o_.operator_filter.empty() && o_.operator_filter != id && o_.operator_filter != uid &&
          o_.operator_filter != name)
        continue;
      op_ = &op;
      rec_ = DumpRecord{};
      rec_.operator_id = id;
      rec_.uid = uid;
      for (const SubtaskState& st : op.subtasks) {
        if (stop_) break;
        std::string where = "operator #" + std::to_string(i) + " (id " + id + "), subtask " + std::to_string(st.index);
        subtask_ = st.index;
        if (!st.managed_keyed.is_null()) keyed(st.managed_keyed, where + ", managed keyed state");
        if (!st.managed_operator.is_null()) operator_state(st.managed_operator, where + ", managed operator state");
        if (!st.raw_keyed.is_null()) raw_keyed(st.raw_keyed, where + ", raw keyed state");
        if (!st.raw_operator.is_null()) raw(st.raw_operator.delegate, "raw operator state");
      }
    }
    if (key_error_) return *key_error_;
    return counts_;
  }

 private:
  void report(const std::string& s) {
    ++counts_.problems;
    problem_(s);
  }

  bool out(DumpRecord& r) {
    if (stop_) return false;
    if (o_.limit >= 0 && counts_.records >= o_.limit) {
      stop_ = true;
      return false;
    }
    ++counts_.records;
    if (!emit_(r)) stop_ = true;
    return !stop_;
  }

  // The entries_by_state counter of a state of the current operator.
  int64_t& entry_count(const StateLayout& s) {
    if (!s.entries) s.entries = &counts_.entries_by_state[rec_.operator_id + "/" + s.name];
    return *s.entries;
  }

  std::optional<ResolvedStream> resolve(const StreamHandle& h, const std::string& where) {
    auto r = resolve_stream(h, f_.directory, o_.path_map);
    if (!r) {
      const Error& e = r.error();
      report((e.kind == ErrorKind::kNoInput ? "missing: " : e.kind == ErrorKind::kUnsupported || e.kind == ErrorKind::kUsage ? "unsupported: " : "error: ") +
             e.message + " (" + where + ")");
      return std::nullopt;
    }
    return std::move(r.value());
  }

  void raw(const StreamHandle& h, const char* what) {
    DumpRecord r = rec_;
    r.kind = "raw";
    r.state = what;
    r.subtask = subtask_;
    r.value = Value::object();
    r.value.add("bytes", Value::integer(h.size()));
    out(r);
  }

  // ---- keyed state ------------------------------------------------------

  void keyed(const KeyedHandle& h, const std::string& where) {
    switch (h.code) {
      case code::kKeyGroups:
      case code::kSavepointKeyGroups:
      case code::kKeyGroupsV2:
        key_groups(h, where);
        return;
      case code::kIncremental:
      case code::kIncrementalV2:
        incremental(h, where);
        return;
      case code::kChangelog:
      case code::kChangelogV2:
        if (h.materialized.empty() && !h.non_materialized.empty()) {
          changelog(h, where + ", changelog state changes");
          return;
        }
        for (auto& m : h.materialized) keyed(m, where + ", changelog materialized part");
        if (!h.non_materialized.empty())
          report("unsupported: " + std::to_string(h.non_materialized.size()) +
                 " changelog increment(s) not applied: entries changed after the last materialization are not shown (" +
                 where + ")");
        return;
      case code::kNull: case code::kByteStream: case code::kFile: case code::kPartitionableOperator:
      case code::kRelative: case code::kChangelogByteIncrement: case code::kChangelogFileIncrement:
      case code::kChangelogFileIncrementV2: case code::kSegmentFile: case code::kEmptySegmentFile:
      case code::kSegmentPartitionableOperator:
        report("unsupported: keyed state handle code " + std::to_string(to_int(h.code)) + " (" + where + ")");
    }
  }

  bool proxy_usable(const Result<KeyedProxy>& p, const std::string& where) {
    if (!p) {
      std::string m = p.error().to_string();
      report((m.rfind("unsupported:", 0) == 0 ? "" : "error: ") + m + " (" + where + ")");
      return false;
    }
    if (!p->complete) {
      report("unknown serializer: " + p->incomplete_reason + " (" + where + ")");
      return false;
    }
    return true;
  }

  // The key group --key selects for this key serializer (nullopt = all), or
  // -2 when --key cannot be of this type.
  std::optional<int32_t> key_filter(const SerializerNode& key_ser) {
    want_key_.reset();
    if (!o_.key) return o_.key_group;
    Value k;
    if (!key_from_text(key_ser, *o_.key, &k)) {
      key_error_ = Error::usage("--key " + *o_.key + " is not a value of the key type " + key_ser.readable());
      stop_ = true;
      return -2;
    }
    want_key_ = k;
    int32_t hash = 0;
    if (!state::java_hash_code(key_ser, k, &hash)) return o_.key_group;  // scan, compare keys
    int32_t kg = key_group_for_hash(hash, op_->max_parallelism);
    if (o_.key_group && *o_.key_group != kg) return -2;
    return kg;
  }

  int prefix_bytes() const { return op_->max_parallelism > 128 ? 2 : 1; }

  void key_groups(const KeyedHandle& h, const std::string& where0) {
    std::string where = where0;
    auto rs = resolve(h.delegate, where);
    if (!rs) return;
    std::string_view bytes = rs->bytes;
    auto proxy = state::decode_keyed_proxy(bytes, state::keyed_proxy_bound(bytes.size(), h.offsets), 0);
    if (!proxy_usable(proxy, where)) return;
    const KeyedProxy& p = *proxy;
    std::vector<StateLayout> states;
    for (auto& m : p.states) states.push_back(layout_of(m, p.key_serializer, o_.state_filter));
    auto kg_filter = key_filter(p.key_serializer);
    if (kg_filter && *kg_filter == -2) return;
    // Full format for canonical savepoints; heap or full (RocksDB full
    // snapshots) for the older handle: the strict full walk tells.
    bool full = h.code == code::kSavepointKeyGroups || full_format_validates(bytes, h, p);
    size_t n = h.offsets.size();
    for (size_t i = 0; i < n && !stop_; ++i) {
      int32_t kg = h.range.start + static_cast<int32_t>(i);
      if (kg_filter && *kg_filter != kg) continue;
      int64_t o = h.offsets[i];
      int64_t e = state::full_key_group_end(h.offsets, i, bytes.size());
      if (o <= 0 || o > e || e > static_cast<int64_t>(bytes.size())) continue;
      std::string kw = where + ", key group " + std::to_string(kg);
      if (full) full_group(bytes.substr(o, e - o), p, states, kg, kw);
      else heap_group(bytes.substr(o, e - o), p, states, kg, kw);
    }
  }

  // The strict full-format walk over every key group (state_internal.h):
  // whether the stream is in the full format rather than the heap one.
  static bool full_format_validates(std::string_view bytes, const KeyedHandle& h, const KeyedProxy& p) {
    std::string scratch;
    for (size_t i = 0; i < h.offsets.size(); ++i) {
      int64_t o = h.offsets[i];
      if (o <= 0) continue;
      int64_t e = state::full_key_group_end(h.offsets, i, bytes.size());
      if (o > e || e > static_cast<int64_t>(bytes.size())) return false;
      auto d = state::key_group_data(bytes.substr(o, e - o), p.compression, 0, scratch);
      if (!d) return false;
      ByteReader r(*d);
      int32_t bad = 0;
      if (state::walk_full_key_group(r, p.states.size(), [](int32_t, std::string_view, std::string_view) { return true; },
                                     &bad) != state::FullGroupEnd::kEndMark)
        return false;
    }
    return true;
  }

  void full_group(std::string_view region, const KeyedProxy& p, const std::vector<StateLayout>& states, int32_t kg,
                  const std::string& where) {
    auto d = state::key_group_data(region, p.compression, 0, scratch_);
    if (!d) {
      report("error: " + d.error().to_string() + " (" + where + ")");
      return;
    }
    ByteReader r(*d);
    int32_t bad = 0;
    state::FullGroupEnd end = state::walk_full_key_group(
        r, p.states.size(),
        [&](int32_t kv, std::string_view key, std::string_view value) {
          if (!states[kv].selected) return true;
          return composite_entry(states[kv], p.key_serializer, key, value, kg, where, /*flagged=*/true);
        },
        &bad);
    switch (end) {
      case state::FullGroupEnd::kEndMark:
      case state::FullGroupEnd::kStopped:
        return;
      case state::FullGroupEnd::kBadStateId:
        report("error: kvStateId " + std::to_string(bad) + " out of range (" + where + ")");
        return;
      case state::FullGroupEnd::kTrailing:
        report("error: bytes after the end-of-key-group mark (" + where + ")");
        return;
      case state::FullGroupEnd::kShortKey:
        report("error: key group does not end with the end-of-key-group mark (" + where + ")");
        return;
      case state::FullGroupEnd::kTruncated:
        report("error: " + r.error().to_string() + " (" + where + ")");
        return;
    }
  }

  // One record whose key is a CompositeKey (full format, RocksDB). `flagged`:
  // the key's first byte carries the full format's last-entry bit (0x80).
  bool composite_entry(const StateLayout& s, const SerializerNode& key_ser, std::string_view key,
                       std::string_view value, int32_t expect_kg, const std::string& where, bool flagged) {
    ByteReader kr(key);
    int32_t kg = 0;
    for (int i = 0; i < prefix_bytes(); ++i) kg = (kg << 8) | (kr.u8() & (i == 0 && flagged ? 0x7F : 0xFF));
    if (!kr.ok()) {
      report("error: key shorter than its key-group prefix (" + where + ")");
      return true;
    }
    if (expect_kg >= 0 && kg != expect_kg)
      report("error: entry of key group " + std::to_string(kg) + " stored in key group " + std::to_string(expect_kg) +
             " (" + where + ")");
    if (filter_kg_ && *filter_kg_ != kg) return true;
    DumpRecord r = rec_;
    r.state = s.name;
    r.kind = s.kind;
    r.keyed = true;
    r.key_group = kg;
    std::string_view rest = key.substr(kr.pos());
    if (s.timers) {
      ++counts_.keyed_entries;
      ++counts_.timers;
      ++entry_count(s);
      return timer_record(r, s, rest);
    }
    ++counts_.keyed_entries;
    ++entry_count(s);
    std::string why;
    bool key_ok = decode_part(key_ser, kr, r.key, s.ambiguous, &why);
    bool ns_ok = key_ok && s.ns && decode_part(*s.ns, kr, r.ns, s.ambiguous, &why);
    if (!key_ok || !ns_ok) {
      ++counts_.undecoded;
      r.key = undecoded(&key_ser, rest, why);
      r.ns = Value::null();
      r.value = undecoded(s.value, value, "");
      return key_matches(r) ? out(r) : true;
    }
    if (s.void_ns) r.ns = Value::null();
    if (!key_matches(r)) return true;
    if (s.kind == "map") {
      r.has_user_key = true;
      std::string_view uk = key.substr(kr.pos());
      ByteReader ur(uk);
      Value u;
      std::string uwhy;
      if (s.user_key && state::decode_value(*s.user_key, ur, u, &uwhy) && ur.at_end()) {
        r.user_key = std::move(u);
      } else {
        ++counts_.undecoded;
        r.user_key = undecoded(s.user_key, uk, uwhy);
      }
      ByteReader vr(value);
      bool is_null = vr.boolean();
      if (vr.ok() && is_null) r.value = Value::null();
      else value_into(r, s, value.substr(1), s.value);
      return out(r);
    }
    if (s.kind == "list") {
      // Elements separated by ',' (ListDelimitedSerializer).
      ByteReader vr(value);
      Value a = Value::array();
      std::string ewhy;
      bool ok = true;
      while (ok && !vr.at_end()) {
        Value e;
        ok = s.value && element(*s.value, vr, e, &ewhy);
        if (ok) a.add(std::move(e));
        if (ok && !vr.at_end()) ok = vr.u8() == ',' && vr.ok();
      }
      if (ok) {
        r.value = std::move(a);
      } else {
        ++counts_.undecoded;
        r.value = undecoded(s.value, value, ewhy);
      }
      return out(r);
    }
    value_into(r, s, value, s.value);
    return out(r);
  }

  bool key_matches(const DumpRecord& r) const { return !want_key_ || values_equal(r.key, *want_key_); }

  // Key or namespace inside a composite key, with its length suffix when ambiguous.
  static bool decode_part(const SerializerNode& n, ByteReader& kr, Value& v, bool ambiguous, std::string* why) {
    size_t before = kr.pos();
    if (!state::decode_value(n, kr, v, why)) return false;
    if (ambiguous) {
      uint32_t len = static_cast<uint32_t>(kr.pos() - before);
      do {
        (void)kr.u8();
        len >>= 8;
      } while (len != 0);
    }
    return kr.ok();
  }

  // A list element: TTL-wrapped elements keep their own {"value", "ttl_timestamp"}.
  static bool element(const SerializerNode& n, ByteReader& r, Value& v, std::string* why) {
    return state::decode_value(n, r, v, why);
  }

  // Decodes a whole value (bytes of exactly one value) into r.value, lifting
  // a TTL wrapper to r.ttl_timestamp.
  void value_into(DumpRecord& r, const StateLayout& s, std::string_view bytes, const SerializerNode* n) {
    ByteReader vr(bytes);
    Value v;
    std::string why;
    if (n && state::decode_value(*n, vr, v, &why) && vr.at_end()) {
      lift_ttl(r, s, std::move(v));
      return;
    }
    if (why.empty() && n && !vr.at_end()) why = std::to_string(bytes.size() - vr.pos()) + " bytes left after the value";
    ++counts_.undecoded;
    r.value = undecoded(n, bytes, why);
  }

  static void lift_ttl(DumpRecord& r, const StateLayout& s, Value v) {
    if (s.ttl && v.type == Value::Type::kObject && v.items.size() == 2) {
      r.has_ttl = true;
      r.ttl_timestamp = v.items[1].i;
      r.value = std::move(v.items[0]);
    } else {
      r.value = std::move(v);
    }
  }

  // A decoded whole value: a map is one line per entry (user_key, value), a
  // list stays one value, any other value has its TTL wrapper lifted.
  void emit_whole(DumpRecord& rec, const StateLayout& s, Value v) {
    if (s.kind == "map" && v.type == Value::Type::kArray) {
      for (auto& e : v.items) {
        DumpRecord m = rec;
        m.has_user_key = true;
        m.user_key = std::move(e.items[0]);
        if (e.items[1].is_null()) m.value = Value::null();
        else lift_ttl(m, s, std::move(e.items[1]));
        if (!out(m)) return;
      }
      return;
    }
    if (s.kind == "list") rec.value = std::move(v);
    else lift_ttl(rec, s, std::move(v));
    out(rec);
  }

  bool timer_record(DumpRecord& r, const StateLayout& s, std::string_view bytes) {
    ByteReader tr(bytes);
    Value t;
    std::string why;
    if (s.value && state::decode_value(*s.value, tr, t, &why) && tr.at_end() && t.type == Value::Type::kObject &&
        t.items.size() == 3) {
      r.has_timestamp = true;
      r.timestamp = t.items[0].i;
      r.key = std::move(t.items[1]);
      r.ns = std::move(t.items[2]);
      if (s.timer_void_ns) r.ns = Value::null();
    } else {
      ++counts_.undecoded;
      r.value = undecoded(s.value, bytes, why);
    }
    if (!key_matches(r)) return true;
    return out(r);
  }

  void heap_group(std::string_view region, const KeyedProxy& p, const std::vector<StateLayout>& states, int32_t kg,
                  const std::string& where) {
    ByteReader head(region);
    if (head.i32() != kg || !head.ok()) {
      report("error: heap key group does not start with its index " + std::to_string(kg) + " (" + where + ")");
      return;
    }
    auto d = state::key_group_data(region.substr(4), p.compression, 0, scratch_);
    if (!d) {
      report("error: " + d.error().to_string() + " (" + where + ")");
      return;
    }
    std::string_view body = *d;
    ByteReader r(body);
    while (r.ok() && !r.at_end() && !stop_) {
      int16_t kv = r.i16();
      if (!r.ok() || kv < 0 || static_cast<size_t>(kv) >= states.size()) {
        report("error: bad kvStateId " + std::to_string(kv) + " in heap key group (" + where + ")");
        return;
      }
      const StateLayout& s = states[kv];
      int32_t count = r.i32();
      if (!r.check_count(count, 0, "state entries")) {
        report("error: " + r.error().to_string() + " (" + where + ")");
        return;
      }
      for (int32_t k = 0; k < count && !stop_; ++k) {
        size_t start = r.pos();
        if (!heap_entry(s, p.key_serializer, r, kg)) {
          // The entry's end is unknown: the rest of the key group is printed undecoded.
          DumpRecord u = rec_;
          u.state = s.name;
          u.kind = s.kind;
          u.keyed = true;
          u.key_group = kg;
          u.value = undecoded(s.timers ? s.value : s.meta->serializer("VALUE_SERIALIZER"), body.substr(start),
                              heap_why_);
          ++counts_.undecoded;
          counts_.keyed_entries += count - k;
          entry_count(s) += count - k;
          if (s.selected) out(u);
          report("error: " + std::to_string(count - k) + " entries of state '" + s.name + "' and the rest of key group " +
                 std::to_string(kg) + " printed undecoded: " + heap_why_ + " (" + where + ")");
          return;
        }
      }
    }
    if (!r.ok()) report("error: " + r.error().to_string() + " (" + where + ")");
  }

  // One heap mapping (or priority-queue element); false when it cannot be decoded.
  bool heap_entry(const StateLayout& s, const SerializerNode& key_ser, ByteReader& r, int32_t kg) {
    heap_why_.clear();
    DumpRecord rec = rec_;
    rec.state = s.name;
    rec.kind = s.kind;
    rec.keyed = true;
    rec.key_group = kg;
    auto& count = entry_count(s);
    if (s.timers) {
      Value t;
      if (!s.value || !state::decode_value(*s.value, r, t, &heap_why_) || t.items.size() != 3) return false;
      ++counts_.keyed_entries;
      ++counts_.timers;
      ++count;
      rec.has_timestamp = true;
      rec.timestamp = t.items[0].i;
      rec.key = std::move(t.items[1]);
      rec.ns = std::move(t.items[2]);
      if (s.timer_void_ns) rec.ns = Value::null();
      if (s.selected && key_matches(rec)) out(rec);
      return true;
    }
    const SerializerNode* whole = s.meta->serializer("VALUE_SERIALIZER");
    if (!s.ns || !whole) return false;
    if (!state::decode_value(*s.ns, r, rec.ns, &heap_why_)) return false;
    if (s.void_ns) rec.ns = Value::null();
    if (!state::decode_value(key_ser, r, rec.key, &heap_why_)) return false;
    Value v;
    if (!state::decode_value(*whole, r, v, &heap_why_)) return false;
    ++counts_.keyed_entries;
    ++count;
    if (!s.selected || !key_matches(rec)) return true;
    emit_whole(rec, s, std::move(v));
    return true;
  }

  // ---- in-memory changelog without a materialized part ----------------------
  // (changelog_replay.h: the changes applied, then the entries they leave.)

  void changelog(const KeyedHandle& h, const std::string& where) {
    auto rp = state::replay_changelog(h);
    if (!rp) {
      const Error& e = rp.error();
      report((e.kind == ErrorKind::kUnsupported ? "unsupported: " : "error: ") + e.message + " (" + where + ")");
      return;
    }
    const SerializerNode* key_ser = rp->key_serializer ? &*rp->key_serializer : nullptr;
    std::optional<int32_t> kg_filter = o_.key_group;
    if (key_ser) {
      kg_filter = key_filter(*key_ser);
      if (kg_filter && *kg_filter == -2) return;
    } else if (o_.key) {
      report("unsupported: --key: the changelog does not name the key serializer (no timer state), keys are raw "
             "bytes here (" + where + ")");
      return;
    }
    SerializerNode no_key;  // layout_of wants one: keys are not read through it here
    for (const state::ChangelogStateReplay& st : rp->states) {
      if (stop_) return;
      StateLayout s = layout_of(st.meta, key_ser ? *key_ser : no_key, o_.state_filter);
      if (!st.unsupported.empty()) {
        report("unsupported: changelog changes of state '" + s.name + "' not applied: " + st.unsupported + " (" +
               where + ")");
        continue;
      }
      for (const state::ChangelogEntry& e : st.entries) {
        if (stop_) return;
        if (kg_filter && *kg_filter != e.key_group) continue;
        ++counts_.keyed_entries;
        ++entry_count(s);
        DumpRecord rec = rec_;
        rec.state = s.name;
        rec.kind = s.kind;
        rec.keyed = true;
        rec.key_group = e.key_group;
        if (s.timers) {
          ++counts_.timers;
          if (s.selected) timer_record(rec, s, e.value);
          continue;
        }
        if (!s.selected) continue;
        changelog_kv(rec, s, key_ser, e);
      }
    }
  }

  void changelog_kv(DumpRecord& rec, const StateLayout& s, const SerializerNode* key_ser,
                    const state::ChangelogEntry& e) {
    std::string why;
    ByteReader kr(e.key);
    if (!key_ser || !state::decode_value(*key_ser, kr, rec.key, &why) || !kr.at_end()) {
      ++counts_.undecoded;
      if (key_ser) {
        rec.key = undecoded(key_ser, e.key, why);
      } else {
        rec.key = Value::object();
        rec.key.add("$base64", Value::bytes(e.key));
        rec.key.add("$error", Value::string("the key serializer is not in the changelog"));
      }
    }
    if (!key_matches(rec)) return;
    ByteReader nr(e.ns);
    why.clear();
    if (s.ns && state::decode_value(*s.ns, nr, rec.ns, &why) && nr.at_end()) {
      if (s.void_ns) rec.ns = Value::null();
    } else {
      ++counts_.undecoded;
      rec.ns = undecoded(s.ns, e.ns, why);
    }
    const SerializerNode* whole = s.meta->serializer("VALUE_SERIALIZER");
    ByteReader vr(e.value);
    Value v;
    why.clear();
    if (!whole || !state::decode_value(*whole, vr, v, &why) || !vr.at_end()) {
      ++counts_.undecoded;
      rec.value = undecoded(whole, e.value, why);
      out(rec);
      return;
    }
    emit_whole(rec, s, std::move(v));
  }

  // ---- RocksDB SSTs ------------------------------------------------------

  struct SstVisit {
    Dumper* self;
    const StateLayout* s;
    const SerializerNode* key_ser;
    std::string where;
  };

  void incremental(const KeyedHandle& h, const std::string& where0) {
    std::string where = where0 + ", RocksDB meta data";
    auto rs = resolve(h.delegate, where);
    if (!rs) return;
    auto proxy = state::decode_keyed_proxy(rs->bytes, rs->bytes.size(), 0);
    if (!proxy_usable(proxy, where)) return;
    const KeyedProxy& p = *proxy;
    if (!rocksdb_sst::available()) {
      report(std::string("unsupported: ") + rocksdb_sst::kUnavailableNote + " (" + where0 + ")");
      return;
    }
    std::map<std::string, StateLayout> by_name;
    for (auto& m : p.states) {
      StateLayout s = layout_of(m, p.key_serializer, o_.state_filter);
      by_name[s.name] = s;
    }
    auto kg_filter = key_filter(p.key_serializer);
    if (kg_filter && *kg_filter == -2) return;
    filter_kg_ = kg_filter;
    for (const auto* list : {&h.shared_state, &h.private_state}) {
      for (const NamedHandle& nh : *list) {
        if (stop_) break;
        std::string local = modified_utf8_to_utf8(nh.local_path);
        if (!rocksdb_sst::is_sst_name(local)) continue;
        std::string sw = where0 + ", SST " + local;
        std::string path;
        std::optional<ResolvedStream> bytes;
        if (nh.handle.code == code::kRelative || nh.handle.code == code::kFile) {
          auto local_path = state::sst_local_path(nh.handle, f_.directory, o_.path_map);
          if (!local_path) {
            report("missing: " + local_path.error().message + " (" + sw + ")");
            continue;
          }
          path = std::move(*local_path);
        } else {
          bytes = resolve(nh.handle, sw);
          if (!bytes) continue;
        }
        std::string id = path.empty() ? std::to_string(reinterpret_cast<uintptr_t>(bytes->bytes.data())) : path;
        if (!seen_sst_.insert(id).second) continue;
        auto props = path.empty() ? rocksdb_sst::read_bytes(bytes->bytes, local) : rocksdb_sst::read_file(path);
        if (!props) {
          report((props.error().kind == ErrorKind::kNoInput ? "missing: " : "error: ") + props.error().message + " (" +
                 sw + ")");
          continue;
        }
        auto it = by_name.find(props->column_family);
        if (it == by_name.end()) {
          if (props->column_family != "default")
            report("error: SST holds column family '" + props->column_family + "', not a state of the meta data (" +
                   sw + ")");
          continue;
        }
        if (!it->second.selected) continue;
        SstVisit v{this, &it->second, &p.key_serializer, sw};
        auto res = rocksdb_sst::for_each_entry(path, bytes ? bytes->bytes : std::string_view(), local, &v,
                                               [](void* ctx, std::string_view k, std::string_view val) {
                                                 auto* sv = static_cast<SstVisit*>(ctx);
                                                 return sv->self->composite_entry(*sv->s, *sv->key_ser, k, val, -1,
                                                                                  sv->where, false);
                                               });
        if (!res) report("error: " + res.error().message + " (" + sw + ")");
      }
    }
    filter_kg_.reset();
  }

  // ---- raw keyed state: timers of the timer service (Flink < 1.13 with
  // RocksDB and heap timers; InternalTimerServiceSerializationProxy) ----------

  void raw_keyed(const KeyedHandle& h, const std::string& where) {
    if (h.code != code::kKeyGroups && h.code != code::kSavepointKeyGroups && h.code != code::kKeyGroupsV2) {
      raw(h.delegate, "raw keyed state");
      return;
    }
    auto rs = resolve(h.delegate, where);
    if (!rs) return;
    std::string_view bytes = rs->bytes;
    bool any = false, all_timers = true;
    size_t n = h.offsets.size();
    for (size_t i = 0; i < n && !stop_; ++i) {
      int32_t kg = h.range.start + static_cast<int32_t>(i);
      int64_t o = h.offsets[i];
      int64_t e = (i + 1 < n) ? h.offsets[i + 1] : static_cast<int64_t>(bytes.size());
      if (o < 0 || o >= e || e > static_cast<int64_t>(bytes.size())) continue;
      any = true;
      if (o_.key_group && *o_.key_group != kg) continue;
      if (!timer_services(bytes.substr(o, e - o), kg, where + ", key group " + std::to_string(kg))) {
        all_timers = false;
        break;
      }
    }
    if (any && !all_timers) raw(h.delegate, "raw keyed state");
  }

  bool timer_services(std::string_view region, int32_t kg, const std::string& where) {
    ByteReader r(region);
    // PostVersionedIOReadableWritable: the VERSIONED_IDENTIFIER F1 CD 85 9F, then the version.
    int32_t version = r.i32();
    if (r.ok() && static_cast<uint32_t>(version) == 0xF1CD859Fu) version = r.i32();
    if (!r.ok() || version != 2) return false;
    int32_t services = r.i32();
    if (!r.check_count(services, 4, "timer services")) return false;
    for (int32_t i = 0; i < services && r.ok() && !stop_; ++i) {
      std::string name = modified_utf8_to_utf8(r.utf());
      // InternalTimersSnapshotReaderV2: key and namespace serializer
      // snapshots (versioned, no proxy int), then event and processing timers
      // as (key, namespace, long timestamp).
      state::SnapshotDecoder d(r);
      SerializerNode key = d.read_versioned_snapshot(0);
      SerializerNode ns = d.read_versioned_snapshot(0);
      if (!r.ok() || !key.fully_decoded() || !ns.fully_decoded()) return false;
      for (const char* kind : {"event", "processing"}) {
        int32_t count = r.i32();
        if (!r.check_count(count, 8, "timers")) return false;
        std::string state = "_timer_state/" + std::string(kind) + "_" + name;
        bool selected = o_.state_filter.empty() || o_.state_filter == state;
        for (int32_t k = 0; k < count; ++k) {
          DumpRecord t = rec_;
          t.state = state;
          t.kind = "timer";
          t.keyed = true;
          t.key_group = kg;
          std::string why;
          if (!state::decode_value(key, r, t.key, &why) || !state::decode_value(ns, r, t.ns, &why)) {
            report("error: timer of service '" + name + "' undecodable: " + why + " (" + where + ")");
            return true;
          }
          if (state::is_void_namespace(ns)) t.ns = Value::null();
          t.has_timestamp = true;
          t.timestamp = r.i64();
          if (!r.ok()) return false;
          ++counts_.timers;
          ++counts_.keyed_entries;
          ++counts_.entries_by_state[rec_.operator_id + "/" + state];
          if (selected && key_matches(t) && !stop_) out(t);
        }
      }
    }
    return r.ok() && r.at_end();
  }

  // ---- operator and broadcast state ----------------------------------------

  void operator_state(const OperatorHandle& h, const std::string& where0) {
    if (h.delegate.code == code::kEmptySegmentFile) return;
    std::string where = where0;
    auto rs = resolve(h.delegate, where);
    if (!rs) return;
    std::string_view bytes = rs->bytes;
    std::vector<int64_t> all = state::operator_state_offsets(h);
    auto proxy = state::decode_operator_proxy(bytes, state::operator_proxy_bound(bytes.size(), all), 0);
    if (!proxy) {
      std::string m = proxy.error().to_string();
      report((m.rfind("unsupported:", 0) == 0 ? "" : "error: ") + m + " (" + where + ")");
      return;
    }
    if (!proxy->complete) {
      report("unknown serializer: " + proxy->incomplete_reason + " (" + where + ")");
      return;
    }
    std::map<std::string, const StateMetaInfo*> metas;
    for (auto& m : proxy->operator_states) metas[modified_utf8_to_utf8(m.name)] = &m;
    for (auto& m : proxy->broadcast_states) metas[modified_utf8_to_utf8(m.name)] = &m;
    for (auto& e : h.states) {
      if (stop_) return;
      std::string name = modified_utf8_to_utf8(e.name);
      if (!o_.state_filter.empty() && o_.state_filter != name) continue;
      if (o_.key || o_.key_group) continue;  // keyed filters select no operator state
      auto mi = metas.find(name);
      if (mi == metas.end()) {
        report("error: operator state '" + name + "' has offsets but no meta info (" + where + ")");
        continue;
      }
      const StateMetaInfo& m = *mi->second;
      DumpRecord r = rec_;
      r.state = name;
      r.subtask = subtask_;
      r.kind = e.mode == 1 ? "operator_union" : e.mode == 2 ? "broadcast" : "operator_list";
      // The bytes from offset o to the next offset: with compression every
      // offset starts a chunk of the one Snappy-framed stream.
      std::string scratch;
      auto region = [&](int64_t o, std::string_view* out) -> bool {
        int64_t end = state::operator_state_end(all, o, bytes.size());
        if (o < 0 || end > static_cast<int64_t>(bytes.size()) || o > end) return false;
        if (!proxy->compression) {
          *out = bytes.substr(o, end - o);
          return true;
        }
        auto d = state::decode_snappy_chunks(bytes.substr(o, end - o), SIZE_MAX, o);
        if (!d) {
          report("error: operator state '" + name + "' at offset " + std::to_string(o) + ": " + d.error().to_string() +
                 " (" + where + ")");
          return false;
        }
        scratch = std::move(d->data);
        *out = scratch;
        return true;
      };
      if (e.mode == 2) {
        const SerializerNode* ks = m.serializer("KEY_SERIALIZER");
        const SerializerNode* vs = m.serializer("VALUE_SERIALIZER");
        for (size_t i = 0; i < e.offsets.size() && !stop_; ++i) {
          std::string_view rb;
          if (!region(e.offsets[i], &rb)) continue;
          ByteReader br(rb);
          int32_t size = br.i32();
          if (!br.check_count(size, 0, "broadcast entries")) {
            report("error: broadcast state '" + name + "' size unreadable (" + where + ")");
            continue;
          }
          for (int32_t k = 0; k < size && !stop_; ++k) {
            DumpRecord b = r;
            b.has_user_key = true;
            std::string why;
            size_t at = br.pos();
            if (!ks || !vs || !state::decode_value(*ks, br, b.user_key, &why) ||
                !state::decode_value(*vs, br, b.value, &why)) {
              ++counts_.undecoded;
              b.user_key = Value::null();
              b.value = undecoded(vs, rb.substr(at), why);
              out(b);
              report("error: " + std::to_string(size - k) + " entries of broadcast state '" + name +
                     "' printed undecoded: " + why + " (" + where + ")");
              break;
            }
            out(b);
          }
        }
        continue;
      }
      const SerializerNode* vs = m.serializer("VALUE_SERIALIZER");
      for (size_t i = 0; i < e.offsets.size() && !stop_; ++i) {
        std::string_view elem;
        if (!region(e.offsets[i], &elem)) continue;
        ByteReader er(elem);
        std::string why;
        DumpRecord x = r;
        if (!vs || !state::decode_value(*vs, er, x.value, &why)) {
          ++counts_.undecoded;
          x.value = undecoded(vs, elem, why);
        }
        out(x);
      }
    }
  }

  const SnapshotFile& f_;
  const DumpOptions& o_;
  const std::function<bool(const DumpRecord&)>& emit_;
  const std::function<void(const std::string&)>& problem_;
  const OperatorState* op_ = nullptr;
  DumpRecord rec_;
  int32_t subtask_ = 0;
  bool stop_ = false;
  DumpCounts counts_;
  std::optional<Value> want_key_;
  std::optional<int32_t> filter_kg_;
  std::optional<Error> key_error_;
  std::string heap_why_;
  std::string scratch_;  // the decompressed key group being read
  std::set<std::string> seen_sst_;
};

Value from_json(const SerializerNode& n, const nlohmann::json& j, bool* ok) {
  std::string t = state::short_type_name(n.class_name);
  if (j.is_null()) return Value::null();
  if (n.kind == "composite" && t == "Tuple") {
    Value o = Value::object();
    for (size_t i = 0; i < n.children.size(); ++i) {
      std::string k = "f" + std::to_string(i);
      const nlohmann::json* f = nullptr;
      if (j.is_object() && j.contains(k)) f = &j[k];
      else if (j.is_array() && i < j.size()) f = &j[i];
      else if (!j.is_object() && !j.is_array() && n.children.size() == 1) f = &j;
      if (!f) {
        *ok = false;
        return {};
      }
      o.add(k, from_json(n.children[i], *f, ok));
    }
    return o;
  }
  if (n.kind == "simple") {
    if ((t == "Long" || t == "Int" || t == "Short" || t == "Byte") && j.is_number_integer()) return Value::integer(j.get<int64_t>());
    if ((t == "Double" || t == "Float") && j.is_number()) return Value::real(j.get<double>());
    if (t == "Boolean" && j.is_boolean()) return Value::boolean(j.get<bool>());
    if ((t == "String" || t == "Char" || t == "StringData") && j.is_string()) return Value::string(j.get<std::string>());
  }
  if (n.kind == "enum" && j.is_string()) return Value::string(j.get<std::string>());
  if (n.kind == "pojo" && j.is_object()) {
    Value o = Value::object();
    for (size_t i = 0; i < n.children.size(); ++i) {
      std::string k = i < n.child_names.size() ? modified_utf8_to_utf8(n.child_names[i]) : "f" + std::to_string(i);
      o.add(k, j.contains(k) ? from_json(n.children[i], j[k], ok) : Value::null());
    }
    return o;
  }
  *ok = false;
  return {};
}

}  // namespace

bool key_from_text(const SerializerNode& key_serializer, const std::string& text, Value* out) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) j = text;  // a plain string
  bool ok = true;
  Value v = from_json(key_serializer, j, &ok);
  if (!ok && !j.is_string()) {  // "42" typed for a String key
    ok = true;
    v = from_json(key_serializer, nlohmann::json(text), &ok);
  }
  if (!ok) return false;
  *out = std::move(v);
  return true;
}

Result<DumpCounts> dump_states(const SnapshotFile& file, const DumpOptions& options,
                               const std::function<bool(const DumpRecord&)>& emit,
                               const std::function<void(const std::string&)>& problem) {
  Dumper d(file, options, emit, problem);
  return d.run();
}

}  // namespace fsp
