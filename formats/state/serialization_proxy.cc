// KeyedBackendSerializationProxy, OperatorBackendSerializationProxy and
// StateMetaInfoSnapshot (format 6/7 of StateMetaInfoSnapshotReadersWriters),
// and the pre-1.8 layouts: keyed proxies 1 - 5 and operator proxies 1 - 4
// with the meta info formats 1 - 5 (LegacyStateMetaInfoReaders, Flink 1.6's
// StateMetaInfoSnapshotReadersWriters; docs/format.md).
//
// Serializer snapshot payloads carry no length, so an unknown snapshot class
// would lose the rest of the proxy. The proxy, however, ends exactly where the
// data begins (the caller passes that position as `bound`). When an unknown
// class is met at payload position p, we try every end q in [p, bound) and
// keep the first one for which the rest of the proxy decodes and ends exactly
// at `bound` (recursively for further unknown classes, within a budget).
#include <algorithm>
#include <map>
#include <string>

#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/state_internal.h"

namespace fsp::state {
namespace {

constexpr size_t kMaxUnknownPayload = 1u << 16;
constexpr int kMaxAttempts = 200000;
// Every attempt re-parses at most `bound` bytes; the search stops once it has
// re-parsed min(64 MiB, 4 MiB + 512 x bound) bytes in total, so the cost of a
// proxy stays proportional to its own size (crafted input cannot make it
// quadratic, nor make many small proxies expensive).
constexpr uint64_t kMaxResyncWork = 64ull << 20;
constexpr uint64_t kResyncWorkBase = 4ull << 20;
constexpr uint64_t kResyncWorkPerByte = 512;

// Name (as the metadata's names are compared: standard UTF-8), backend state
// type (0 - max_backend_type) and options: the start of meta info formats 5 and 6.
bool read_meta_info_head(ByteReader& r, StateMetaInfo& m, int32_t max_backend_type) {
  m.offset = r.file_offset();
  m.name = modified_utf8_to_utf8(r.utf());
  m.backend_type = r.i32();
  if (r.ok() && (m.backend_type < 0 || m.backend_type > max_backend_type)) {
    r.fail_at(r.pos() - 4, "unknown backend state type " + std::to_string(m.backend_type) + " for state '" +
                               m.name + "'");
    return false;
  }
  int32_t n_opt = r.i32();
  if (!r.check_count(n_opt, 4, "state options")) return false;
  for (int32_t i = 0; i < n_opt && r.ok(); ++i) {
    std::string k(r.utf());
    std::string v(r.utf());
    m.options.emplace_back(std::move(k), std::move(v));
  }
  return true;
}

void read_meta_info(SnapshotDecoder& d, std::vector<StateMetaInfo>& out) {
  ByteReader& r = d.r;
  StateMetaInfo m;
  if (!read_meta_info_head(r, m, 4)) return;
  int32_t n_ser = r.i32();
  if (!r.check_count(n_ser, 6, "state serializers")) return;
  out.push_back(std::move(m));
  StateMetaInfo& ref = out.back();
  for (int32_t i = 0; i < n_ser && r.ok(); ++i) {
    std::string k(r.utf());
    SerializerNode node = d.read_serializer_snapshot(0);
    ref.serializers.emplace_back(std::move(k), std::move(node));
  }
}

// ---------------------------------------------------------------------------
// Pre-1.8 meta info formats.

// StateDescriptor.Type, by ordinal (keyed meta info formats 1 - 4).
constexpr const char* kStateDescriptorTypes[] = {"UNKNOWN", "VALUE", "LIST", "REDUCING", "FOLDING", "AGGREGATING", "MAP"};
// OperatorStateHandle.Mode, by ordinal (operator meta info formats 1 - 3).
constexpr const char* kDistributionModes[] = {"SPLIT_DISTRIBUTE", "UNION", "BROADCAST"};

// Format 5 (Flink 1.6): as format 6, but the serializers are one list of
// Java-serialized serializers with their config snapshots after the keys.
void read_meta_info_v5(SnapshotDecoder& d, std::vector<StateMetaInfo>& out) {
  ByteReader& r = d.r;
  StateMetaInfo m;
  if (!read_meta_info_head(r, m, 3)) return;
  int32_t n_ser = r.i32();
  if (!r.check_count(n_ser, 2, "state serializer keys")) return;
  std::vector<std::string> keys;
  for (int32_t i = 0; i < n_ser && r.ok(); ++i) keys.emplace_back(r.utf());
  size_t list_at = r.pos();
  std::vector<SerializerNode> pairs = d.read_serializers_and_configs(0);
  if (!r.ok()) return;
  if (pairs.size() != keys.size()) {
    r.fail_at(list_at, "state '" + m.name + "' names " + std::to_string(keys.size()) + " serializers but " +
                           std::to_string(pairs.size()) + " serializer/config pairs follow");
    return;
  }
  for (size_t i = 0; i < keys.size(); ++i) m.serializers.emplace_back(std::move(keys[i]), std::move(pairs[i]));
  out.push_back(std::move(m));
}

// Keyed formats 1 - 4 (Flink 1.2 - 1.5): int StateDescriptor.Type, UTF name,
// then the namespace and value serializers (formats 3/4: with their config
// snapshots, in one offset-indexed list; formats 1/2: Java-serialized only).
void read_keyed_meta_v1_to_v4(SnapshotDecoder& d, int32_t format, std::vector<StateMetaInfo>& out) {
  ByteReader& r = d.r;
  StateMetaInfo m;
  m.offset = r.file_offset();
  size_t type_at = r.pos();
  int32_t type = r.i32();
  m.name = modified_utf8_to_utf8(r.utf());
  if (!r.ok()) return;
  if (type < 0 || type > 6) {
    r.fail_at(type_at, "unknown state descriptor type " + std::to_string(type) + " for state '" + m.name + "'");
    return;
  }
  m.backend_type = 0;
  m.options.emplace_back("KEYED_STATE_TYPE", kStateDescriptorTypes[type]);
  std::vector<SerializerNode> pairs;
  size_t list_at = r.pos();
  if (format >= 3) {
    pairs = d.read_serializers_and_configs(0);
  } else {
    pairs.push_back(d.read_java_only_serializer());
    if (r.ok()) pairs.push_back(d.read_java_only_serializer());
  }
  if (!r.ok()) return;
  if (pairs.size() != 2) {
    r.fail_at(list_at, "state '" + m.name + "': expected the namespace and value serializers, found " +
                           std::to_string(pairs.size()) + " serializer/config pairs");
    return;
  }
  m.serializers.emplace_back("NAMESPACE_SERIALIZER", std::move(pairs[0]));
  m.serializers.emplace_back("VALUE_SERIALIZER", std::move(pairs[1]));
  out.push_back(std::move(m));
}

// Operator formats 1 - 3 (Flink 1.2 - 1.5): UTF name, byte distribution
// mode, then the serializers (format 1: one bare Java-serialized serializer;
// 2/3: an offset-indexed list of one pair (operator state) or two (broadcast
// state: key, then value)).
void read_operator_meta_v1_to_v3(SnapshotDecoder& d, int32_t format, std::vector<StateMetaInfo>& out) {
  ByteReader& r = d.r;
  StateMetaInfo m;
  m.offset = r.file_offset();
  m.name = modified_utf8_to_utf8(r.utf());
  size_t mode_at = r.pos();
  int32_t mode = r.u8();
  if (!r.ok()) return;
  if (mode > 2) {
    r.fail_at(mode_at, "unknown distribution mode " + std::to_string(mode) + " for state '" + m.name + "'");
    return;
  }
  m.options.emplace_back("OPERATOR_STATE_DISTRIBUTION_MODE", kDistributionModes[mode]);
  std::vector<SerializerNode> pairs;
  size_t list_at = r.pos();
  if (format >= 2) pairs = d.read_serializers_and_configs(0);
  else pairs.push_back(d.read_java_only_serializer(false));
  if (!r.ok()) return;
  if (pairs.size() == 1) {
    m.backend_type = 1;
    m.serializers.emplace_back("VALUE_SERIALIZER", std::move(pairs[0]));
  } else if (pairs.size() == 2) {
    m.backend_type = 2;
    m.serializers.emplace_back("KEY_SERIALIZER", std::move(pairs[0]));
    m.serializers.emplace_back("VALUE_SERIALIZER", std::move(pairs[1]));
  } else {
    r.fail_at(list_at, "state '" + m.name + "': expected 1 or 2 serializer/config pairs, found " +
                           std::to_string(pairs.size()));
    return;
  }
  out.push_back(std::move(m));
}

// Keyed proxy versions 1 - 5: compression flag from 4 on; the key serializer
// as a one-pair list from 3 on (Java-serialized only before); meta info
// format = proxy version up to 4, format 5 for proxy 5.
void parse_keyed_legacy(SnapshotDecoder& d, KeyedProxy& p) {
  ByteReader& r = d.r;
  if (p.version >= 4) p.compression = r.boolean();
  size_t key_at = r.pos();
  if (p.version >= 3) {
    std::vector<SerializerNode> key = d.read_serializers_and_configs(0);
    if (!r.ok()) return;
    if (key.size() != 1) {
      r.fail_at(key_at, "expected one key serializer/config pair, found " + std::to_string(key.size()));
      return;
    }
    p.key_serializer = std::move(key[0]);
  } else {
    p.key_serializer = d.read_java_only_serializer();
  }
  int16_t n = r.i16();
  if (!r.check_count(n, 10, "keyed states")) return;
  for (int i = 0; i < n && r.ok(); ++i) {
    if (p.version >= 5) read_meta_info_v5(d, p.states);
    else read_keyed_meta_v1_to_v4(d, p.version, p.states);
  }
}

// Operator proxy versions 1 - 4: no compression flag; broadcast states from
// 3 on; meta info format = proxy version up to 3, format 5 for proxy 4.
void parse_operator_legacy(SnapshotDecoder& d, OperatorProxy& p) {
  ByteReader& r = d.r;
  auto read = [&](std::vector<StateMetaInfo>& out) {
    if (p.version >= 4) read_meta_info_v5(d, out);
    else read_operator_meta_v1_to_v3(d, p.version, out);
  };
  int16_t n = r.i16();
  if (!r.check_count(n, 10, "operator states")) return;
  for (int i = 0; i < n && r.ok(); ++i) read(p.operator_states);
  if (p.version < 3 || !r.ok()) return;
  int16_t m = r.i16();
  if (!r.check_count(m, 10, "broadcast states")) return;
  for (int i = 0; i < m && r.ok(); ++i) read(p.broadcast_states);
}

void parse_keyed(SnapshotDecoder& d, KeyedProxy& p) {
  ByteReader& r = d.r;
  p.version = r.i32();
  if (!r.ok()) return;
  if (p.version >= 1 && p.version <= 5) {
    parse_keyed_legacy(d, p);
    return;
  }
  if (p.version != 6) {
    r.fail_at(0, "not a keyed backend serialization proxy: version " + std::to_string(p.version) +
                     " (expected 1 - 6)");
    return;
  }
  p.compression = r.boolean();
  p.key_serializer = d.read_serializer_snapshot(0);
  int16_t n = r.i16();
  if (!r.check_count(n, 10, "keyed states")) return;
  for (int i = 0; i < n && r.ok(); ++i) read_meta_info(d, p.states);
}

void parse_operator(SnapshotDecoder& d, OperatorProxy& p) {
  ByteReader& r = d.r;
  p.version = r.i32();
  if (!r.ok()) return;
  if (p.version >= 1 && p.version <= 4) {
    parse_operator_legacy(d, p);
    return;
  }
  if (p.version != 5 && p.version != 6) {
    r.fail_at(0, "not an operator backend serialization proxy: version " + std::to_string(p.version) +
                     " (expected 1 - 6)");
    return;
  }
  if (p.version >= 6) p.compression = r.boolean();
  int16_t n = r.i16();
  if (!r.check_count(n, 10, "operator states")) return;
  for (int i = 0; i < n && r.ok(); ++i) read_meta_info(d, p.operator_states);
  int16_t m = r.i16();
  if (!r.check_count(m, 10, "broadcast states")) return;
  for (int i = 0; i < m && r.ok(); ++i) read_meta_info(d, p.broadcast_states);
}

template <typename T>
struct Attempt {
  T value;
  bool ok = false;
  size_t end = 0;
  std::optional<size_t> unknown_at;
  std::string unknown_class;
  std::vector<std::string> unknown_classes;
  std::optional<Error> error;
};

template <typename T, typename Parse>
class Resync {
 public:
  Resync(std::string_view bytes, size_t bound, uint64_t base, const ErrorContext* ctx, Parse parse,
         ResyncBudget* budget)
      : bytes_(bytes), bound_(bound), base_(base), ctx_(ctx), parse_(parse), budget_(budget) {}

  Attempt<T> run(const std::map<size_t, size_t>& overrides) {
    ++attempts_;
    work_ += bound_ + 1;
    if (budget_ && !overrides.empty()) budget_->used += bound_ + 1;  // the first, plain decode is not resync work
    Attempt<T> a;
    ByteReader r(bytes_.substr(0, bound_), base_);
    r.set_context(ctx_);
    SnapshotDecoder d(r);
    d.overrides = &overrides;
    parse_(d, a.value);
    a.unknown_classes = d.unknown_classes;
    if (r.ok()) {
      a.ok = true;
      a.end = r.pos();
    } else {
      a.unknown_at = d.pending_unknown;
      a.unknown_class = d.pending_unknown_class;
      a.error = r.error();
    }
    return a;
  }

  // Depth-first search of the payload ends of unknown classes.
  std::optional<Attempt<T>> search(std::map<size_t, size_t>& overrides) {
    if (exhausted()) return std::nullopt;
    Attempt<T> a = run(overrides);
    if (a.ok) {
      if (a.end == bound_) return a;
      return std::nullopt;
    }
    if (!a.unknown_at || overrides.count(*a.unknown_at)) return std::nullopt;
    size_t p = *a.unknown_at;
    size_t last = std::min(bound_, p + kMaxUnknownPayload);
    for (size_t q = p; q <= last && !exhausted(); ++q) {
      overrides[p] = q;
      if (auto found = search(overrides)) return found;
      overrides.erase(p);
    }
    return std::nullopt;
  }

  int attempts() const { return attempts_; }
  bool exhausted() const {
    return attempts_ > kMaxAttempts || (budget_ && budget_->exhausted()) ||
           work_ > std::min<uint64_t>(kMaxResyncWork, kResyncWorkBase + kResyncWorkPerByte * bound_);
  }

 private:
  std::string_view bytes_;
  size_t bound_;
  uint64_t base_;
  const ErrorContext* ctx_;
  Parse parse_;
  ResyncBudget* budget_;
  int attempts_ = 0;
  uint64_t work_ = 0;
};

template <typename T, typename Parse>
Result<T> decode_proxy(std::string_view bytes, size_t bound, uint64_t base, const ErrorContext* ctx, Parse parse,
                       const char* what, ResyncBudget* budget) {
  if (bound > bytes.size()) bound = bytes.size();
  Resync<T, Parse> rs(bytes, bound, base, ctx, parse, budget);
  std::map<size_t, size_t> none;
  Attempt<T> first = rs.run(none);
  if (first.ok) {
    T v = std::move(first.value);
    v.end = first.end;
    if (first.end != bound)
      v.note = std::string(what) + " ends at byte " + std::to_string(base + first.end) + " but the data starts at " +
               std::to_string(base + bound);
    return v;
  }
  if (!first.unknown_at) return *first.error;
  std::map<size_t, size_t> overrides;
  if (auto found = rs.search(overrides)) {
    T v = std::move(found->value);
    v.end = found->end;
    v.unknown_classes = found->unknown_classes;
    return v;
  }
  // No consistent end found: keep what was decoded before the unknown class.
  T v = std::move(first.value);
  v.end = *first.unknown_at;
  v.complete = false;
  v.unknown_classes.push_back(first.unknown_class);
  v.incomplete_reason = first.error->to_string() + "; no payload end makes the rest of the " + what +
                        " end where the data starts (" + std::to_string(rs.attempts()) + " attempts" +
                        (budget && budget->exhausted() ? ", the resync work bound of this command is reached"
                         : rs.exhausted()                  ? ", search limit reached"
                                                           : "") +
                        ")";
  return v;
}

}  // namespace

const SerializerNode* StateMetaInfo::serializer(std::string_view key) const {
  for (auto& [k, v] : serializers)
    if (k == key) return &v;
  return nullptr;
}

std::string StateMetaInfo::option(std::string_view key) const {
  for (auto& [k, v] : options)
    if (k == key) return v;
  return {};
}

bool StateMetaInfo::fully_decoded() const {
  for (auto& [k, v] : serializers)
    if (!v.fully_decoded()) return false;
  return true;
}

Result<StateMetaInfo> decode_meta_info(std::string_view bytes, uint64_t base_offset) {
  ByteReader r(bytes, base_offset);
  SnapshotDecoder d(r);
  std::vector<StateMetaInfo> out;
  read_meta_info(d, out);
  if (!r.ok()) return r.take_error();
  if (out.empty()) return Error::data("no state meta info", base_offset);
  return std::move(out.front());
}

Result<KeyedProxy> decode_keyed_proxy(std::string_view bytes, size_t bound, uint64_t base_offset,
                                      const ErrorContext* ctx, ResyncBudget* budget) {
  return decode_proxy<KeyedProxy>(bytes, bound, base_offset, ctx, parse_keyed, "keyed serialization proxy", budget);
}

Result<OperatorProxy> decode_operator_proxy(std::string_view bytes, size_t bound, uint64_t base_offset,
                                            const ErrorContext* ctx, ResyncBudget* budget) {
  return decode_proxy<OperatorProxy>(bytes, bound, base_offset, ctx, parse_operator,
                                     "operator serialization proxy", budget);
}

}  // namespace fsp::state
