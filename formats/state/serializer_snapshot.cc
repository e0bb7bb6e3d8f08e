// TypeSerializerSnapshot trees on the wire (TypeSerializerSnapshotSerializationUtil,
// TypeSerializerSnapshot.writeVersionedSnapshot, CompositeTypeSerializerSnapshot,
// NestedSerializersSnapshotDelegate, PojoSerializerSnapshotData,
// KryoSerializerSnapshotData, LinkedOptionalMapSerializer, and the class-specific
// payloads of the snapshot classes met in Flink's test resources). Payloads are
// not length-prefixed: an unknown class is reported through pending_unknown and
// the caller (serialization_proxy.cc) finds where it ends.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>

#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/state_internal.h"
#include "flink_savepoint/state_value.h"

namespace fsp::state {
namespace {

constexpr int32_t kSerializerProxyVersion = 2;
constexpr int32_t kCompositeMagic = 911108;      // CompositeTypeSerializerSnapshot
constexpr int32_t kNestedMagic = 1333245;        // NestedSerializersSnapshotDelegate
constexpr int32_t kLegacyAdapterVersion = 0x7A53C4F0;  // TypeSerializerConfigSnapshot (pre-1.8)
constexpr int64_t kOptionalMapHeader = 0x4F2C69A3D70LL;  // LinkedOptionalMapSerializer
constexpr size_t kMaxOuterScan = 1u << 20;
constexpr const char* kBeamLegacySnapshot = "org.apache.beam.runners.flink.translation.types.CoderTypeSerializer$LegacySnapshot";

enum class Layout {
  kSimple, kComposite, kCompositeUtfOuter, kExternal, kPojo, kKryo, kAvro, kEnum, kScalaEnum,
  kRowData, kMapData, kArrayData, kSortedMap, kTwoInts, kOneInt, kLegacyParameterless, kLegacy,
};

const std::unordered_map<std::string_view, Layout>& layouts() {
  static const std::unordered_map<std::string_view, Layout> m = {
      // SimpleTypeSerializerSnapshot subclasses outside flink-core's base package.
      {"org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.runtime.state.JavaSerializer$JavaSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.streaming.api.windowing.windows.GlobalWindow$Serializer$GlobalWindowSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.streaming.api.windowing.windows.TimeWindow$Serializer$TimeWindowSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.table.runtime.operators.window.TimeWindow$Serializer$TimeWindowSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.table.runtime.operators.window.CountWindow$Serializer$CountWindowSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.table.runtime.typeutils.StringDataSerializer$StringDataSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.table.dataview.NullSerializer$NullSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.table.runtime.operators.sink.SortedLongSerializer$SortedLongSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.cep.nfa.DeweyNumber$DeweyNumberSerializer$DeweyNumberSerializerSnapshot", Layout::kSimple},
      {"org.apache.flink.cep.nfa.sharedbuffer.EventId$EventIdSerializer$EventIdSerializerSnapshot", Layout::kSimple},
      // CompositeTypeSerializerSnapshot subclasses.
      {"org.apache.flink.api.common.typeutils.base.ListSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.common.typeutils.base.GenericArraySerializerSnapshot", Layout::kCompositeUtfOuter},
      {"org.apache.flink.api.java.typeutils.runtime.TupleSerializerSnapshot", Layout::kCompositeUtfOuter},
      {"org.apache.flink.api.java.typeutils.runtime.JavaEitherSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.java.typeutils.runtime.EitherSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.java.typeutils.runtime.RowSerializer$RowSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.java.typeutils.runtime.NullableSerializer$NullableSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.streaming.api.operators.TimerSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.streaming.runtime.streamrecord.StreamElementSerializer$StreamElementSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.table.runtime.typeutils.RawValueDataSerializer$RawValueDataSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.table.runtime.typeutils.LinkedListSerializer$LinkedListSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.table.runtime.typeutils.WindowKeySerializer$WindowKeySerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.table.runtime.typeutils.ExternalSerializer$ExternalSerializerSnapshot", Layout::kExternal},
      {"org.apache.flink.cep.nfa.NFAStateSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.cep.nfa.sharedbuffer.LockableTypeSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.cep.nfa.sharedbuffer.SharedBufferNodeSerializerSnapshotV2", Layout::kComposite},
      {"org.apache.flink.cep.nfa.sharedbuffer.SharedBufferEdge$SharedBufferEdgeSerializer$SharedBufferEdgeSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.cep.nfa.sharedbuffer.NodeId$NodeIdSerializer$NodeIdSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.scala.typeutils.ScalaCaseClassSerializerSnapshot", Layout::kCompositeUtfOuter},
      {"org.apache.flink.api.scala.typeutils.Tuple2CaseClassSerializerSnapshot", Layout::kCompositeUtfOuter},
      {"org.apache.flink.api.scala.typeutils.ScalaOptionSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.scala.typeutils.ScalaEitherSerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.scala.typeutils.ScalaTrySerializerSnapshot", Layout::kComposite},
      {"org.apache.flink.api.scala.typeutils.TraversableSerializerSnapshot", Layout::kComposite},
      // Others.
      {"org.apache.flink.api.java.typeutils.runtime.PojoSerializerSnapshot", Layout::kPojo},
      {"org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializerSnapshot", Layout::kKryo},
      {"org.apache.flink.formats.avro.typeutils.AvroSerializerSnapshot", Layout::kAvro},
      {"org.apache.flink.api.common.typeutils.base.EnumSerializer$EnumSerializerSnapshot", Layout::kEnum},
      {"org.apache.flink.api.scala.typeutils.ScalaEnumSerializerSnapshot", Layout::kScalaEnum},
      {"org.apache.flink.api.scala.typeutils.EnumValueSerializer$ScalaEnumSerializerSnapshot", Layout::kScalaEnum},
      {"org.apache.flink.table.runtime.typeutils.RowDataSerializer$RowDataSerializerSnapshot", Layout::kRowData},
      {"org.apache.flink.table.runtime.typeutils.MapDataSerializer$MapDataSerializerSnapshot", Layout::kMapData},
      {"org.apache.flink.table.runtime.typeutils.ArrayDataSerializer$ArrayDataSerializerSnapshot", Layout::kArrayData},
      {"org.apache.flink.table.runtime.typeutils.SortedMapSerializerSnapshot", Layout::kSortedMap},
      {"org.apache.flink.table.runtime.typeutils.DecimalDataSerializer$DecimalSerializerSnapshot", Layout::kTwoInts},
      {"org.apache.flink.table.runtime.typeutils.TimestampDataSerializer$TimestampDataSerializerSnapshot", Layout::kOneInt},
      {"org.apache.flink.table.runtime.typeutils.BinaryRowDataSerializer$BinaryRowDataSerializerSnapshot", Layout::kOneInt},
      {"org.apache.flink.api.common.typeutils.ParameterlessTypeSerializerConfig", Layout::kLegacyParameterless},
  };
  return m;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::optional<Layout> layout_of(std::string_view cls) {
  auto& m = layouts();
  if (auto it = m.find(cls); it != m.end()) return it->second;
  // flink-core's base and base.array packages: X$XSnapshot classes are
  // SimpleTypeSerializerSnapshots (except the ones listed above).
  if ((starts_with(cls, "org.apache.flink.api.common.typeutils.base.") ||
       starts_with(cls, "org.apache.flink.api.common.typeutils.base.array.")) &&
      cls.find('$') != std::string_view::npos && ends_with(cls, "SerializerSnapshot"))
    return Layout::kSimple;
  if (cls.find("SerializerConfig") != std::string_view::npos || ends_with(cls, "ConfigSnapshot"))
    return Layout::kLegacy;
  return std::nullopt;
}

std::string logical_type_name(std::string_view java_class) {
  std::string_view s = java_class;
  if (auto p = s.rfind('.'); p != std::string_view::npos) s = s.substr(p + 1);
  if (ends_with(s, "Type") && s.size() > 4) s = s.substr(0, s.size() - 4);
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

bool peek_i32_pair(const ByteReader& r, int32_t a, int32_t b) {
  if (r.remaining() < 8) return false;
  const uint8_t* p = r.data() + r.pos();
  return static_cast<int32_t>(ByteReader::load_be32(p)) == a && static_cast<int32_t>(ByteReader::load_be32(p + 4)) == b;
}

bool peek_i32(const ByteReader& r, int32_t a) {
  return r.remaining() >= 4 && static_cast<int32_t>(ByteReader::load_be32(r.data() + r.pos())) == a;
}

}  // namespace

std::string short_type_name(std::string_view cls) {
  if (cls == "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot") return "TTL";
  if (ends_with(cls, "BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot")) return "byte[]";
  std::string_view s = cls;
  if (auto p = s.rfind('.'); p != std::string_view::npos) s = s.substr(p + 1);
  if (auto p = s.rfind('$'); p != std::string_view::npos) s = s.substr(p + 1);
  for (std::string_view suf : {"SerializerSnapshotV2", "SerializerSnapshot", "SerializerConfigSnapshot",
                               "SerializerConfig", "ConfigSnapshot", "Snapshot", "Serializer"}) {
    if (ends_with(s, suf) && s.size() > suf.size()) {
      s = s.substr(0, s.size() - suf.size());
      break;
    }
  }
  if (s == "VoidNamespace") return "VoidNamespace";
  return std::string(s);
}

std::optional<std::string> read_string_value(ByteReader& r) {
  uint32_t len = 0;
  if (!read_string_value_varint(r, len)) return std::nullopt;
  if (len == 0) return std::string();  // null
  --len;
  if (!r.check_count(len, 1, "StringValue chars")) return std::nullopt;
  std::string out;
  out.reserve(len);
  for (uint32_t i = 0; i < len; ++i) {
    uint32_t c = 0;
    if (!read_string_value_varint(r, c)) return std::nullopt;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | ((c >> 12) & 0x0F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool SerializerNode::fully_decoded() const {
  if (kind == "unknown" || kind == "legacy") return false;
  for (auto& c : children)
    if (!c.fully_decoded()) return false;
  return true;
}

void SerializerNode::collect_classes(std::vector<std::string>& out) const {
  if (!written_class().empty()) out.push_back(written_class());
  for (auto& c : children) c.collect_classes(out);
}

std::string SerializerNode::readable() const {
  auto join_children = [&](size_t from = 0) {
    std::string s;
    for (size_t i = from; i < children.size(); ++i) {
      if (i > from) s += ", ";
      s += children[i].readable();
    }
    return s;
  };
  std::string name = short_type_name(class_name);
  if (kind == "unknown") return "?<" + class_name + ">";
  if (kind == "legacy") return "Legacy<" + class_name + ">";
  if (kind == "simple") return name;
  if (kind == "pojo") {
    std::string s = "Pojo<" + detail + ">{";
    for (size_t i = 0; i < children.size(); ++i) {
      if (i) s += ", ";
      s += (i < child_names.size() ? child_names[i] : "?") + ": " + children[i].readable();
    }
    return s + "}";
  }
  if (kind == "kryo") return "Kryo<" + detail + ">";
  if (kind == "avro") return "Avro<" + detail + ">";
  if (kind == "enum") return "Enum<" + detail + ">";
  if (kind == "java" && ends_with(class_name, "CoderTypeSerializer$LegacySnapshot"))
    return "BeamCoder<" + (detail.empty() ? std::string("?") : detail) + ">";
  if (kind == "rowdata" || kind == "java") {
    std::string s = name;
    if (!detail.empty()) s += "<" + detail + ">";
    return s;
  }
  // composite
  if (name == "TTL" && children.size() == 2) return "TTL<" + children[1].readable() + ">";
  if (name == "Tuple" && !detail.empty()) {
    std::string_view d = detail;
    if (auto p = d.rfind('.'); p != std::string_view::npos) d = d.substr(p + 1);
    return std::string(d) + "<" + join_children() + ">";
  }
  if (!detail.empty() && (name == "ScalaCaseClass" || name == "Tuple2CaseClass"))
    return "CaseClass<" + detail + ">(" + join_children() + ")";
  if (!detail.empty() && name == "GenericArray") return detail + "[]<" + join_children() + ">";
  if (children.empty()) return name;
  return name + "<" + join_children() + ">";
}

// The head of a snapshot: its class name (a Java identifier's first char
// checked) and, for a versioned snapshot, its version. False when r failed.
bool SnapshotDecoder::read_class_name(SerializerNode& node, int depth, bool versioned) {
  if (depth > kMaxSnapshotDepth) {
    r.fail("serializer snapshots nested deeper than " + std::to_string(kMaxSnapshotDepth));
    return false;
  }
  node.offset = r.file_offset();
  size_t class_at = r.pos();
  node.class_name = std::string(r.utf());
  if (versioned) node.version = r.i32();
  if (!r.ok()) return false;
  if (node.class_name.empty() || !(std::isalpha(static_cast<unsigned char>(node.class_name[0])) || node.class_name[0] == '_')) {
    r.fail_at(class_at, versioned ? "expected a serializer snapshot class name"
                                  : "expected a serializer config snapshot class name");
    return false;
  }
  return true;
}

SerializerNode SnapshotDecoder::read_serializer_snapshot(int depth) {
  size_t at = r.pos();
  int32_t v = r.i32();
  if (r.ok() && v == 1) {
    // TypeSerializerConfigSnapshotSerializationProxy (Flink 1.3 - 1.6): the
    // config's class, then its payload (type_serializer_config_snapshot.cc).
    SerializerNode node;
    if (!read_class_name(node, depth, false)) return node;
    read_config_payload(node, slice_serializer, depth);
    return node;
  }
  if (r.ok() && v != kSerializerProxyVersion) {
    r.fail_at(at, "unknown serializer snapshot proxy version " + std::to_string(v) + " (expected 1 or 2)");
    return {};
  }
  return read_versioned_snapshot(depth);
}

void SnapshotDecoder::read_nested(SerializerNode& node, int depth) {
  size_t at = r.pos();
  int32_t magic = r.i32();
  int32_t version = r.i32();
  if (!r.ok()) return;
  if (magic != kNestedMagic || version != 1) {
    r.fail_at(at, "expected the nested serializer snapshots (magic 1333245, version 1) of " + node.class_name);
    return;
  }
  int32_t n = r.i32();
  if (!r.check_count(n, 6, "nested serializer snapshots")) return;
  for (int32_t i = 0; i < n && r.ok(); ++i) node.children.push_back(read_versioned_snapshot(depth + 1));
}

SerializerNode SnapshotDecoder::read_versioned_snapshot(int depth) {
  SerializerNode node;
  if (!read_class_name(node, depth, true)) return node;

  auto unknown = [&](const char* kind) { unknown_payload(node, kind); };

  auto composite = [&](bool utf_outer, bool external) {
    node.kind = "composite";
    if (node.version >= 3) {
      if (!peek_i32(r, kCompositeMagic)) {
        unknown("unknown");
        return;
      }
      r.skip(4);
      (void)r.i32();  // outer snapshot version
    }
    if (!peek_i32_pair(r, kNestedMagic, 1)) {
      if (utf_outer) {
        node.detail = std::string(r.utf());
      } else if (external) {
        auto c = skip_java_object(r);
        if (c) node.detail = logical_type_name(*c);
        (void)r.boolean();
      }
      if (!peek_i32_pair(r, kNestedMagic, 1)) {
        // Unknown outer payload: search the nested snapshots' header.
        size_t limit = std::min(r.remaining(), kMaxOuterScan);
        const uint8_t* p = r.data() + r.pos();
        static constexpr std::array<uint8_t, 8> pat = {0x00, 0x14, 0x57, 0xFD, 0, 0, 0, 1};
        const uint8_t* hit = std::search(p, p + limit, pat.begin(), pat.end());
        if (hit == p + limit || !r.ok()) {
          if (r.ok()) unknown("unknown");
          return;
        }
        r.skip(static_cast<size_t>(hit - p));
      }
    }
    read_nested(node, depth);
  };

  auto optional_map = [&](bool decode_values, bool as_children) {
    int64_t header = r.i64();
    if (r.ok() && header != kOptionalMapHeader) {
      r.fail_at(r.pos() - 8, "corrupt optional map header in " + node.class_name);
      return;
    }
    int32_t n = r.i32();
    if (!r.check_count(n, 4, "optional map entries")) return;
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      std::string name(r.utf());
      if (r.boolean()) {
        int32_t len = r.i32();
        if (!r.check_count(len, 1, "framed key bytes")) return;
        r.skip(static_cast<size_t>(len));
      }
      if (r.boolean()) {
        int32_t len = r.i32();
        if (!r.check_count(len, 1, "framed value bytes")) return;
        if (decode_values) {
          ByteReader sub(r.data() + r.pos(), static_cast<size_t>(len), r.file_offset());
          SnapshotDecoder d(sub);
          SerializerNode child = d.read_versioned_snapshot(depth + 1);
          if (!sub.ok()) {
            // The frame bounds the value: keep going with an unknown child.
            child.kind = "unknown";
            child.children.clear();
          }
          for (auto& u : d.unknown_classes) unknown_classes.push_back(u);
          if (d.pending_unknown) unknown_classes.push_back(d.pending_unknown_class);
          if (as_children) {
            node.child_names.push_back(name);
            node.children.push_back(std::move(child));
          }
        }
        r.skip(static_cast<size_t>(len));
      } else if (as_children) {
        node.child_names.push_back(name);
        SerializerNode missing;
        missing.kind = "unknown";
        missing.class_name = "(missing)";
        node.children.push_back(std::move(missing));
      }
    }
  };

  auto java_objects = [&](int n, std::string* types) {
    for (int i = 0; i < n && r.ok(); ++i) {
      auto c = skip_java_object(r);
      if (c && types) {
        if (!types->empty()) *types += ", ";
        *types += logical_type_name(*c);
      }
    }
  };

  if (node.version == kLegacyAdapterVersion && node.class_name == kBeamLegacySnapshot) {
    // Beam's CoderTypeSerializer$LegacySnapshot: a TypeSerializerSnapshot of
    // its own (Flink 1.17+ still reads it) that borrows the adapter's version:
    // int length, the Java-serialized CoderTypeSerializer, then the version again.
    node.kind = "java";
    int32_t len = r.i32();
    if (!r.check_count(len, 1, "Java-serialized serializer bytes")) return node;
    uint64_t blob_at = r.file_offset();
    std::string_view blob = r.bytes(static_cast<size_t>(len));
    int32_t again = r.i32();
    if (!r.ok()) return node;
    if (again != kLegacyAdapterVersion) {
      r.fail_at(r.pos() - 4, "expected the version " + std::to_string(kLegacyAdapterVersion) + " after Beam's " +
                                 "Java-serialized CoderTypeSerializer, found " + std::to_string(again));
      return node;
    }
    auto v = parse_java_object(blob, blob_at);
    if (v.ok() && v->kind == JavaValue::Kind::kObject) {
      node.serializer_class = v->class_name;
      if (auto c = v->fields.find("coder"); c != v->fields.end() && c->second.kind == JavaValue::Kind::kObject)
        node.detail = c->second.class_name;
    }
    return node;
  }
  if (node.version == kLegacyAdapterVersion) {
    // TypeSerializerConfigSnapshot written through the pre-1.8 adapter (Flink
    // 1.7): the Java-serialized serializer (version 1, length, stream), then
    // the config's own payload.
    std::string detail;
    std::string ser = read_java_serializer(&detail);
    if (!r.ok()) return node;
    std::string saved = slice_detail;
    slice_detail = detail;
    read_config_payload(node, ser, depth);
    slice_detail = saved;
    return node;
  }

  auto layout = layout_of(node.class_name);
  if (!layout) {
    if (node.version >= 3 && peek_i32(r, kCompositeMagic)) {
      composite(false, false);  // an unknown CompositeTypeSerializerSnapshot: still decodable
    } else {
      unknown("unknown");
    }
    return node;
  }
  switch (*layout) {
    case Layout::kSimple:
      node.kind = "simple";
      if (node.version == 2) (void)r.utf();  // the serializer class name, dropped since version 3
      else if (node.version != 3) unknown("unknown");
      break;
    case Layout::kComposite: composite(false, false); break;
    case Layout::kCompositeUtfOuter: composite(true, false); break;
    case Layout::kExternal: composite(false, true); break;
    case Layout::kPojo:
      node.kind = "pojo";
      if (node.version != 2) {
        unknown("unknown");
        break;
      }
      node.detail = std::string(r.utf());
      optional_map(true, true);   // fields
      optional_map(true, false);  // registered subclasses
      optional_map(true, false);  // non-registered subclasses
      break;
    case Layout::kKryo:
      node.kind = "kryo";
      node.detail = std::string(r.utf());
      optional_map(false, false);  // kryo registrations
      optional_map(false, false);  // default kryo serializers
      optional_map(false, false);  // default kryo serializer classes
      break;
    case Layout::kAvro: {
      node.kind = "avro";
      std::string type, schema;
      if (node.version == 1) {
        schema = std::string(r.utf());
      } else if (node.version == 2) {
        type = std::string(r.utf());
        schema = std::string(r.utf());
      } else if (node.version == 3) {
        auto t = read_string_value(r);
        auto s = t ? read_string_value(r) : std::nullopt;
        if (t) type = *t;
        if (s) schema = *s;
      } else {
        unknown("unknown");
        break;
      }
      std::string rec = avro_schema_full_name(schema);
      if (type.empty() || ends_with(type, "GenericRecord"))
        node.detail = rec.empty() ? (type.empty() ? "GenericRecord" : type) : "GenericRecord " + rec;
      else
        node.detail = std::move(type);
      node.schema = std::move(schema);
      break;
    }
    case Layout::kEnum:
    case Layout::kScalaEnum: {
      node.kind = "enum";
      node.detail = std::string(r.utf());
      int32_t n = r.i32();
      if (!r.check_count(n, 2, "enum constants")) break;
      for (int32_t i = 0; i < n && r.ok(); ++i) {
        node.constants.emplace_back(r.utf());
        if (*layout == Layout::kScalaEnum) (void)r.i32();
      }
      break;
    }
    case Layout::kRowData: {
      node.kind = "rowdata";
      int32_t n = r.i32();
      if (!r.check_count(n, 4, "row field types")) break;
      java_objects(n, &node.detail);
      read_nested(node, depth);
      break;
    }
    case Layout::kMapData:
      node.kind = "rowdata";
      java_objects(2, &node.detail);
      java_objects(2, nullptr);
      break;
    case Layout::kArrayData:
      node.kind = "rowdata";
      java_objects(1, &node.detail);
      java_objects(1, nullptr);
      break;
    case Layout::kSortedMap:
      node.kind = "rowdata";
      java_objects(1, nullptr);  // the comparator
      if (r.ok()) {
        if (peek_i32_pair(r, kNestedMagic, 1)) read_nested(node, depth);
        else unknown("unknown");
      }
      break;
    case Layout::kTwoInts: {
      node.kind = "rowdata";
      int32_t a = r.i32(), b = r.i32();
      node.detail = std::to_string(a) + ", " + std::to_string(b);
      break;
    }
    case Layout::kOneInt:
      node.kind = "rowdata";
      node.detail = std::to_string(r.i32());
      break;
    case Layout::kLegacyParameterless:
    case Layout::kLegacy:
      unknown("legacy");
      break;
  }
  return node;
}

}  // namespace fsp::state
