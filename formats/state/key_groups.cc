// Walking the key-grouped data of keyed state streams (full/canonical and
// heap snapshot formats) and skipping values of well-known serializers: the
// statistics read_states() reports per state and key group; and the pieces of
// a key-groups stream that dump and the canonical reader share
// (state_internal.h).
#include "formats/state/key_groups.h"

#include <string>

#include "flink_savepoint/byte_reader.h"

namespace fsp::state {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

size_t keyed_proxy_bound(size_t stream_size, const BeLongs& offsets) {
  size_t bound = stream_size;
  for (size_t i = 0; i < offsets.size(); ++i) {
    int64_t o = offsets[i];
    if (o > 0 && static_cast<uint64_t>(o) < bound) bound = static_cast<size_t>(o);
  }
  return bound;
}

int64_t full_key_group_end(const BeLongs& offsets, size_t i, size_t stream_size) {
  int64_t o = offsets[i];
  for (size_t j = i + 1; j < offsets.size(); ++j)
    if (offsets[j] > o) return offsets[j];
  return static_cast<int64_t>(stream_size);
}

Result<std::string_view> key_group_data(std::string_view region, bool compressed, uint64_t base,
                                        std::string& scratch) {
  if (!compressed) return region;
  auto d = decode_snappy_framed(region, true, SIZE_MAX, base);
  if (!d) return d.take_error();
  scratch = std::move(d->data);
  return std::string_view(scratch);
}

bool skip_value(const SerializerNode& n, ByteReader& r, int depth) {
  if (depth > state::kMaxSnapshotDepth || !r.ok()) return false;
  if (!n.fully_decoded()) return false;
  std::string t = state::short_type_name(n.class_name);
  auto fixed = [&](size_t k) {
    r.skip(k);
    return r.ok();
  };
  if (n.kind == "simple") {
    if (t == "Long" || t == "Double" || t == "SqlTimestamp" || t == "Date") return fixed(8);
    if (t == "Int" || t == "Float") return fixed(4);
    if (t == "Boolean" || t == "Byte" || t == "VoidNamespace" || t == "GlobalWindow") return fixed(1);
    if (t == "Short" || t == "Char") return fixed(2);
    if (t == "TimeWindow" && starts_with(n.class_name, "org.apache.flink.streaming.")) return fixed(16);
    if (t == "String") return state::read_string_value(r).has_value();
    if (t == "byte[]") {
      int32_t len = r.i32();
      if (!r.check_count(len, 1, "byte array")) return false;
      return fixed(static_cast<size_t>(len));
    }
    return false;
  }
  if (n.kind == "enum") return fixed(4);
  if (n.kind == "pojo") {
    // PojoSerializer: flags byte (1 null, 2 no subclass), then per field a null flag and the value.
    uint8_t flags = r.u8();
    if (!r.ok()) return false;
    if (flags & 0x01) return true;
    if (!(flags & 0x02)) return false;  // subclass: its serializer is not in the snapshot tree
    for (auto& c : n.children) {
      bool is_null = r.boolean();
      if (!r.ok()) return false;
      if (!is_null && !skip_value(c, r, depth + 1)) return false;
    }
    return true;
  }
  if (n.kind != "composite") return false;
  if (t == "Tuple") {
    for (auto& c : n.children)
      if (!skip_value(c, r, depth + 1)) return false;
    return true;
  }
  if (t == "TTL" && n.children.size() == 2) return fixed(8) && skip_value(n.children[1], r, depth + 1);
  if (t == "Timer" && n.children.size() == 2)
    return fixed(8) && skip_value(n.children[0], r, depth + 1) && skip_value(n.children[1], r, depth + 1);
  if (t == "List" && n.children.size() == 1) {
    int32_t k = r.i32();
    if (!r.check_count(k, 0, "list elements")) return false;
    for (int32_t i = 0; i < k; ++i)
      if (!skip_value(n.children[0], r, depth + 1)) return false;
    return true;
  }
  if (t == "Map" && n.children.size() == 2) {
    int32_t k = r.i32();
    if (!r.check_count(k, 1, "map entries")) return false;
    for (int32_t i = 0; i < k; ++i) {
      if (!skip_value(n.children[0], r, depth + 1)) return false;
      bool is_null = r.boolean();
      if (!is_null && !skip_value(n.children[1], r, depth + 1)) return false;
    }
    return r.ok();
  }
  return false;
}

// Full/canonical format (FullSnapshotAsyncWriter). Strict: fails on anything
// unexpected, so that it can also tell the format apart from the heap one.
std::optional<KgStats> walk_full(std::string_view bytes, const KeyedHandle& h, const KeyedProxy& p, uint64_t base,
                                 std::string* err) {
  KgStats st(p.states.size());
  std::string scratch;
  for (size_t i = 0; i < h.offsets.size(); ++i) {
    int64_t o = h.offsets[i];
    if (o == 0) continue;
    int64_t e = full_key_group_end(h.offsets, i, bytes.size());
    if (o < 0 || o > e || e > static_cast<int64_t>(bytes.size())) {
      *err = "key-group offset " + std::to_string(o) + " outside the stream";
      return std::nullopt;
    }
    int32_t kg = h.range.start + static_cast<int32_t>(i);
    auto data = key_group_data(bytes.substr(o, e - o), p.compression, base + o, scratch);
    if (!data) {
      *err = data.error().to_string();
      return std::nullopt;
    }
    ByteReader r(*data, p.compression ? 0 : base + o);
    int32_t bad = 0;
    FullGroupEnd end = walk_full_key_group(r, p.states.size(), [&](int32_t kv, std::string_view key,
                                                                   std::string_view value) {
      st.entries[kv][kg] += 1;
      st.bytes[kv][kg] += static_cast<int64_t>(8 + key.size() + value.size());
      return true;
    }, &bad);
    if (end == FullGroupEnd::kBadStateId) {
      *err = "kvStateId " + std::to_string(bad) + " out of range in key group " + std::to_string(kg);
      return std::nullopt;
    }
    if (end != FullGroupEnd::kEndMark) {
      *err = end == FullGroupEnd::kTruncated
                 ? r.error().to_string()
                 : "key group " + std::to_string(kg) + " does not end with the end-of-key-group mark";
      return std::nullopt;
    }
  }
  return st;
}

// Heap format (HeapSnapshotStrategy): int keyGroupId, then per state
// short kvStateId + int count + entries. Entries are skipped with the
// serializers when they are well known; otherwise only the count of the first
// state that cannot be skipped is known in that key group.
std::optional<KgStats> walk_heap(std::string_view bytes, const KeyedHandle& h, const KeyedProxy& p, uint64_t base,
                                 std::string* err) {
  KgStats st(p.states.size());
  std::string scratch;
  size_t n = h.offsets.size();
  for (size_t i = 0; i < n; ++i) {
    int64_t o = h.offsets[i];
    int64_t e = (i + 1 < n) ? h.offsets[i + 1] : static_cast<int64_t>(bytes.size());
    if (o <= 0 || o + 4 > e || e > static_cast<int64_t>(bytes.size())) {
      *err = "heap key-group offsets are not increasing within the stream";
      return std::nullopt;
    }
    int32_t kg = h.range.start + static_cast<int32_t>(i);
    ByteReader head(bytes.substr(o, 4));
    if (head.i32() != kg) {
      *err = "unexpected key group at offset " + std::to_string(base + o);
      return std::nullopt;
    }
    auto data = key_group_data(bytes.substr(o + 4, e - o - 4), p.compression, base + o + 4, scratch);
    if (!data) {
      *err = data.error().to_string();
      return std::nullopt;
    }
    ByteReader r(*data, p.compression ? 0 : base + o + 4);
    std::vector<bool> seen(p.states.size(), false);
    bool lost = false;
    while (r.ok() && !r.at_end() && !lost) {
      int16_t kv = r.i16();
      if (!r.ok() || kv < 0 || static_cast<size_t>(kv) >= p.states.size()) {
        *err = "bad kvStateId in heap key group " + std::to_string(kg);
        return std::nullopt;
      }
      const StateMetaInfo& m = p.states[kv];
      seen[kv] = true;
      size_t start = r.pos();
      int32_t count = r.i32();
      if (!r.check_count(count, 0, "state entries")) {
        *err = r.error().to_string();
        return std::nullopt;
      }
      st.entries[kv][kg] += count;
      const SerializerNode* val = m.serializer("VALUE_SERIALIZER");
      const SerializerNode* ns = m.serializer("NAMESPACE_SERIALIZER");
      bool ok = val != nullptr;
      for (int32_t k = 0; k < count && ok; ++k) {
        if (m.backend_type == 3) {
          ok = skip_value(*val, r, 0);
        } else {
          ok = ns && skip_value(*ns, r, 0) && skip_value(p.key_serializer, r, 0) && skip_value(*val, r, 0);
        }
      }
      if (!ok || !r.ok()) {
        // Cannot find where this state's entries end: the rest of the key group is unknown.
        st.bytes_known[kv] = false;
        for (size_t s = 0; s < p.states.size(); ++s)
          if (!seen[s]) {
            st.entries_known[s] = false;
            st.bytes_known[s] = false;
          }
        lost = true;
        break;
      }
      st.bytes[kv][kg] += static_cast<int64_t>(r.pos() - start) + 2;
    }
    if (!lost && !r.ok()) {
      *err = r.error().to_string();
      return std::nullopt;
    }
  }
  return st;
}

}  // namespace fsp::state
