// The in-memory changelog replayed (changelog_replay.h): the layouts of
// Flink's AbstractStateChangeLogger / KvStateChangeLoggerImpl /
// PriorityQueueStateChangeLoggerImpl, applied as the *StateChangeApplier
// classes of ChangelogBackendRestoreOperation do.
#include "flink_savepoint/changelog_replay.h"

#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/state_value.h"

namespace fsp::state {
namespace {

// StateChangeOperation codes (0-7 the same in every version).
enum Op : uint8_t {
  kClear = 0,
  kSet = 1,
  kSetInternal = 2,
  kAdd = 3,
  kMergeNs = 4,
  kAddElement = 5,
  kAddOrUpdateElement = 6,
  kRemoveElement = 7,
  kRemoveFirstElement = 8,  // data records only (METADATA is 8 where this does not exist)
};

// Without the key serializer a record's split is searched: each candidate
// decodes the rest of the record. Records above this size are not searched,
// and one replay searches at most kSearchBudget bytes in all (hostile input
// stays linear in the changelog's size times the record bound).
constexpr size_t kMaxSearchedRecord = 1 << 16;
constexpr uint64_t kSearchBudget = uint64_t{1} << 28;

struct KvValue {
  std::string whole;                                // value / reducing / aggregating
  std::vector<std::string> elements;                // list
  std::map<std::string, std::string> map;           // map: user key -> value (no null marker)
};

struct StateWork {
  ChangelogStateReplay out;
  std::string kind;                                  // VALUE, LIST, MAP, REDUCING, AGGREGATING, ...
  const SerializerNode* ns = nullptr;
  const SerializerNode* whole = nullptr;             // VALUE_SERIALIZER
  const SerializerNode* element = nullptr;           // list element
  const SerializerNode* user_key = nullptr;          // map
  const SerializerNode* user_value = nullptr;        // map
  std::map<std::pair<int32_t, std::pair<std::string, std::string>>, KvValue> kv;  // (kg, (key, ns))
  std::set<std::pair<int32_t, std::string>> pq;                                    // (kg, element)
};

// The bytes one value of `n` takes at the reader's position (false when it
// does not decode).
bool skip_value(const SerializerNode& n, ByteReader& r) {
  Value v;
  return decode_value(n, r, v, nullptr) && r.ok();
}

bool skip_n(const SerializerNode& n, ByteReader& r, std::vector<std::string>* out) {
  int32_t count = r.i32();
  if (!r.ok() || count < 0 || static_cast<size_t>(count) > r.remaining()) return false;
  for (int32_t i = 0; i < count; ++i) {
    size_t start = r.pos();
    if (!skip_value(n, r)) return false;
    if (out) out->emplace_back(reinterpret_cast<const char*>(r.data()) + start, r.pos() - start);
  }
  return true;
}

class Replayer {
 public:
  Result<ChangelogReplay> run(const KeyedHandle& h) {
    if (!h.materialized.empty())
      return Error::unsupported("changelog increments over a materialized part are not merged here");
    // The key serializer first (a timer state's METADATA may follow the
    // first key/value records).
    for (const KeyedHandle& inc : h.non_materialized)
      for (const ChangelogChange& c : inc.changes)
        if (c.key_group == -1 && !key_) find_key_serializer(c.data);
    for (const KeyedHandle& inc : h.non_materialized) {
      if (inc.code != code::kChangelogByteIncrement)
        return Error::unsupported("changelog increments in DSTL files (handle code " + std::to_string(to_int(inc.code)) +
                                  ") are not read");
      for (size_t i = 0; i < inc.changes.size(); ++i) {
        const ChangelogChange& c = inc.changes[i];
        // Flink's restore sets the change's key group as the current one: one
        // outside the handle's range (or below -1, the METADATA marker) fails there.
        if (c.key_group != -1 && (c.key_group < inc.range.start || c.key_group > inc.range.end()))
          return Error::corrupt("changelog change " + std::to_string(i) + ": key group " +
                                std::to_string(c.key_group) + " is outside the increment's key groups " +
                                std::to_string(inc.range.start) + ".." + std::to_string(inc.range.end()));
        std::string why = c.key_group == -1 ? metadata(c.data) : data(c.key_group, c.data);
        if (!why.empty())
          return Error::corrupt("changelog change " + std::to_string(i) + " (key group " +
                                std::to_string(c.key_group) + "): " + why);
      }
    }
    return finish();
  }

 private:
  void find_key_serializer(std::string_view d) {
    if (d.size() < 8 || static_cast<uint8_t>(d[d.size() - 1]) != 3) return;
    auto m = decode_meta_info(d.substr(5), 5);
    if (!m) return;
    const SerializerNode* v = m->serializer("VALUE_SERIALIZER");
    if (v && v->children.size() == 2 && short_type_name(v->class_name) == "Timer") key_ = v->children[0];
  }

  std::string metadata(std::string_view d) {
    ByteReader r(d);
    uint8_t op = r.u8();
    int32_t version = r.i32();
    if (!r.ok() || (op != 8 && op != 9)) return "not a METADATA record (op " + std::to_string(op) + ")";
    if (version != 6 && version != 7) return "state meta info version " + std::to_string(version) + " is not read";
    if (d.size() < 5 + 3) return "METADATA record of " + std::to_string(d.size()) + " bytes";
    auto m = decode_meta_info(d.substr(5), 5);
    if (!m) return m.error().message;
    ByteReader tail(d.substr(d.size() - 3));
    int16_t id = tail.i16();
    uint8_t type = tail.u8();
    if (type != 0 && type != 3) return "backend state type " + std::to_string(type) + " in a keyed changelog";
    auto found = by_name_.find(m->name);
    size_t idx;
    if (found == by_name_.end()) {
      idx = states_.size();
      states_.emplace_back();
      by_name_.emplace(m->name, idx);
      StateWork& s = states_.back();
      s.out.meta = std::move(*m);
      s.out.priority_queue = type == 3;
      describe(s);
    } else {
      idx = found->second;
    }
    ids_[id] = idx;
    return {};
  }

  void describe(StateWork& s) {
    const StateMetaInfo& m = s.out.meta;
    s.whole = m.serializer("VALUE_SERIALIZER");
    s.ns = m.serializer("NAMESPACE_SERIALIZER");
    if (s.out.priority_queue) return;
    s.kind = m.option("KEYED_STATE_TYPE");
    if (s.whole && s.kind == "LIST" && s.whole->children.size() == 1) s.element = &s.whole->children[0];
    if (s.whole && s.kind == "MAP" && s.whole->children.size() == 2) {
      s.user_key = &s.whole->children[0];
      s.user_value = &s.whole->children[1];
    }
  }

  std::string data(int32_t kg, std::string_view d) {
    ByteReader r(d);
    uint8_t op = r.u8();
    int16_t id = r.i16();
    if (!r.ok()) return "shorter than its operation and state id";
    auto it = ids_.find(id);
    if (it == ids_.end()) return "state id " + std::to_string(id) + " before its METADATA record";
    StateWork& s = states_[it->second];
    if (!s.out.unsupported.empty()) return {};
    std::string_view rest = d.substr(3);
    if (s.out.priority_queue) return pq(s, kg, op, rest);
    if (!s.ns || !s.whole) return unsupported(s, "its namespace or value serializer is not in the METADATA record");
    // The scope: key, then namespace. With the key serializer the split is
    // read; without, every split whose namespace and data decode to the
    // record's end is a candidate, and exactly one must be.
    std::optional<size_t> split;
    int candidates = 0;
    if (key_) {
      ByteReader kr(rest);
      if (!skip_value(*key_, kr)) return "key does not decode as " + key_->readable();
      if (payload_fits(s, op, rest.substr(kr.pos()))) split = kr.pos();
      candidates = split ? 1 : 0;
    } else {
      if (rest.size() > kMaxSearchedRecord)
        return unsupported(s, "a record of " + std::to_string(rest.size()) +
                                  " bytes without the key serializer (key and namespace not told apart)");
      for (size_t l = 0; l <= rest.size() && candidates < 2; ++l) {
        if (searched_ > kSearchBudget)
          return unsupported(s, "the key serializer is not in the changelog and the search for the key's end "
                                "exceeded its bound of " + std::to_string(kSearchBudget) + " bytes");
        searched_ += rest.size() - l + 1;
        if (payload_fits(s, op, rest.substr(l))) {
          if (!split) split = l;
          ++candidates;
        }
      }
    }
    if (!split) return "the namespace and " + op_name(op) + " data do not decode to the record's end";
    if (candidates > 1)
      return unsupported(s, "the key serializer is not in the changelog and the key and namespace of a " +
                                op_name(op) + " record can be split in more than one way");
    std::string key(rest.substr(0, *split));
    ByteReader nr(rest.substr(*split));
    skip_value(*s.ns, nr);
    std::string ns(rest.substr(*split, nr.pos()));
    return apply_kv(s, kg, op, std::move(key), std::move(ns), rest.substr(*split + nr.pos()));
  }

  static std::string op_name(uint8_t op) {
    static const char* names[] = {"CLEAR", "SET", "SET_INTERNAL", "ADD", "MERGE_NS", "ADD_ELEMENT",
                                  "ADD_OR_UPDATE_ELEMENT", "REMOVE_ELEMENT", "REMOVE_FIRST_ELEMENT"};
    return op < 9 ? names[op] : "operation " + std::to_string(op);
  }

  // Whether `b` is exactly a namespace followed by the data of `op`.
  bool payload_fits(const StateWork& s, uint8_t op, std::string_view b) const {
    ByteReader r(b);
    if (!skip_value(*s.ns, r)) return false;
    if (!data_fits(s, op, r)) return false;
    return r.ok() && r.at_end();
  }

  bool data_fits(const StateWork& s, uint8_t op, ByteReader& r) const {
    switch (op) {
      case kClear: return true;
      case kSet: case kSetInternal: return skip_value(*s.whole, r);
      case kAdd:
        if (s.kind == "LIST" || s.kind == "MAP") return skip_value(*s.whole, r);
        return s.kind == "REDUCING" || s.kind == "AGGREGATING" ? skip_value(*s.whole, r) : false;
      case kMergeNs: {
        if (!skip_value(*s.ns, r)) return false;
        int32_t n = r.i32();
        if (!r.ok() || n < 0 || static_cast<size_t>(n) > r.remaining()) return false;
        for (int32_t i = 0; i < n; ++i)
          if (!skip_value(*s.ns, r)) return false;
        return true;
      }
      case kAddElement:
        if (s.element) return skip_value(*s.element, r);
        [[fallthrough]];
      case kAddOrUpdateElement:
        return s.user_key && s.user_value && skip_value(*s.user_key, r) && skip_value(*s.user_value, r);
      case kRemoveElement: return s.user_key && skip_value(*s.user_key, r);
      default: return false;
    }
  }

  std::string unsupported(StateWork& s, std::string why) {
    s.out.unsupported = std::move(why);
    s.kv.clear();
    s.pq.clear();
    return {};
  }

  std::string apply_kv(StateWork& s, int32_t kg, uint8_t op, std::string key, std::string ns, std::string_view data) {
    auto slot = std::make_pair(kg, std::make_pair(std::move(key), std::move(ns)));
    ByteReader r(data);
    switch (op) {
      case kClear:
        s.kv.erase(slot);
        return {};
      case kSet:
      case kSetInternal:
        if (s.kind == "LIST") {
          std::vector<std::string> el;
          if (!s.element || !skip_n(*s.element, r, &el)) return "list does not decode";
          if (el.empty()) s.kv.erase(slot);
          else s.kv[slot].elements = std::move(el);
          return {};
        }
        if (s.kind == "MAP") return unsupported(s, "SET of a whole map state is not read");
        s.kv[slot].whole = std::string(data);
        return {};
      case kAdd:
        if (s.kind == "LIST") {
          std::vector<std::string> el;
          if (!s.element || !skip_n(*s.element, r, &el)) return "list does not decode";
          if (el.empty()) return {};
          auto& v = s.kv[slot].elements;
          v.insert(v.end(), std::make_move_iterator(el.begin()), std::make_move_iterator(el.end()));
          return {};
        }
        if (s.kind == "MAP") {
          int32_t n = r.i32();
          if (!r.ok() || n < 0 || static_cast<size_t>(n) > r.remaining()) return "map does not decode";
          auto& m = s.kv[slot].map;
          for (int32_t i = 0; i < n; ++i) {
            size_t a = r.pos();
            if (!skip_value(*s.user_key, r)) return "map key does not decode";
            std::string uk(data.substr(a, r.pos() - a));
            if (r.boolean()) return unsupported(s, "a null map value in ADD is not kept here");
            size_t b = r.pos();
            if (!skip_value(*s.user_value, r)) return "map value does not decode";
            m[std::move(uk)] = std::string(data.substr(b, r.pos() - b));
          }
          if (m.empty()) s.kv.erase(slot);
          return {};
        }
        return unsupported(s, "ADD to a " + s.kind + " state needs the job's reduce or aggregate function");
      case kMergeNs: {
        if (s.kind != "LIST") return unsupported(s, "MERGE_NS of a " + s.kind + " state needs the job's function");
        size_t t0 = r.pos();
        skip_value(*s.ns, r);
        std::string target(data.substr(t0, r.pos() - t0));
        int32_t n = r.i32();
        std::vector<std::string> merged;
        for (int32_t i = 0; i < n && r.ok(); ++i) {
          size_t a = r.pos();
          skip_value(*s.ns, r);
          auto src = std::make_pair(kg, std::make_pair(slot.second.first, std::string(data.substr(a, r.pos() - a))));
          auto it = s.kv.find(src);
          if (it == s.kv.end()) continue;
          for (auto& e : it->second.elements) merged.push_back(std::move(e));
          s.kv.erase(it);
        }
        if (!merged.empty()) {
          auto& v = s.kv[std::make_pair(kg, std::make_pair(slot.second.first, std::move(target)))].elements;
          v.insert(v.end(), std::make_move_iterator(merged.begin()), std::make_move_iterator(merged.end()));
        }
        return {};
      }
      case kAddElement:
        if (s.kind == "LIST") {
          s.kv[slot].elements.emplace_back(data);
          return {};
        }
        [[fallthrough]];
      case kAddOrUpdateElement: {
        if (s.kind != "MAP") return unsupported(s, op_name(op) + " on a " + s.kind + " state");
        size_t a = r.pos();
        skip_value(*s.user_key, r);
        s.kv[slot].map[std::string(data.substr(a, r.pos() - a))] = std::string(data.substr(r.pos()));
        return {};
      }
      case kRemoveElement: {
        if (s.kind != "MAP") return unsupported(s, "REMOVE_ELEMENT on a " + s.kind + " state");
        auto it = s.kv.find(slot);
        if (it == s.kv.end()) return {};
        it->second.map.erase(std::string(data));
        if (it->second.map.empty()) s.kv.erase(it);
        return {};
      }
      default:
        return unsupported(s, op_name(op) + " on a key/value state");
    }
  }

  std::string pq(StateWork& s, int32_t kg, uint8_t op, std::string_view d) {
    if (!s.whole) return unsupported(s, "its element serializer is not in the METADATA record");
    ByteReader r(d);
    switch (op) {
      case kAddElement: {
        std::vector<std::string> el;
        if (!skip_n(*s.whole, r, &el) || !r.at_end()) return "ADD_ELEMENT of " + s.whole->readable() + " does not decode";
        for (auto& e : el) s.pq.emplace(kg, std::move(e));
        return {};
      }
      case kRemoveElement:
        if (!skip_value(*s.whole, r) || !r.at_end()) return "REMOVE_ELEMENT does not decode";
        s.pq.erase(std::make_pair(kg, std::string(d)));
        return {};
      default:
        // REMOVE_FIRST_ELEMENT (a poll) needs the queue's order.
        return unsupported(s, op_name(op) + " on a priority queue is not applied here");
    }
  }

  Result<ChangelogReplay> finish() {
    ChangelogReplay out;
    out.key_serializer = key_;
    for (StateWork& s : states_) {
      if (s.out.unsupported.empty()) {
        for (auto& [kg, el] : s.pq) s.out.entries.push_back({kg, {}, {}, el});
        for (auto& [k, v] : s.kv) {
          ChangelogEntry e{k.first, k.second.first, k.second.second, {}};
          ByteWriter w(e.value);
          if (s.kind == "LIST") {
            w.i32(static_cast<int32_t>(v.elements.size()));
            for (auto& x : v.elements) w.bytes(x);
          } else if (s.kind == "MAP") {
            w.i32(static_cast<int32_t>(v.map.size()));
            for (auto& [uk, uv] : v.map) {
              w.bytes(uk);
              w.boolean(false);
              w.bytes(uv);
            }
          } else {
            e.value = std::move(v.whole);
          }
          s.out.entries.push_back(std::move(e));
        }
      }
      out.states.push_back(std::move(s.out));
    }
    return out;
  }

  std::vector<StateWork> states_;
  std::map<std::string, size_t> by_name_;
  std::map<int16_t, size_t> ids_;
  std::optional<SerializerNode> key_;
  uint64_t searched_ = 0;
};

}  // namespace

Result<ChangelogReplay> replay_changelog(const KeyedHandle& h) { return Replayer().run(h); }

}  // namespace fsp::state
