// Pre-1.8 serializer snapshots (Flink 1.3 - 1.7): TypeSerializerConfigSnapshot
// payloads, the Java-serialized serializers written beside them
// (TypeSerializerSerializationUtil.TypeSerializerSerializationProxy) and the
// offset-indexed lists of serializer and config pairs
// (writeSerializersAndConfigsWithResilience). See docs/format.md, "Pre-1.8
// state meta data".
//
// A decoded config becomes a node of the snapshot class Flink 1.8+ writes for
// the same serializer (class_name), with the written class kept in
// legacy_class, so that the readable types and the value decoder work on it
// unchanged. Only layouts read from Flink's sources are decoded; any other
// class is a "legacy" node (skipped to the end of its slice when a slice
// bounds it, else left to the resync search of serialization_proxy.cc).
#include <algorithm>
#include <string>
#include <string_view>

#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/state_internal.h"
#include "flink_savepoint/state_value.h"

namespace fsp::state {
namespace {

constexpr const char* kParameterless = "org.apache.flink.api.common.typeutils.ParameterlessTypeSerializerConfig";
constexpr const char* kTupleConfig = "org.apache.flink.api.java.typeutils.runtime.TupleSerializerConfigSnapshot";
constexpr const char* kAvroSchemaConfig =
    "org.apache.flink.formats.avro.typeutils.AvroSerializer$AvroSchemaSerializerConfigSnapshot";
constexpr const char* kEnumConfig = "org.apache.flink.api.common.typeutils.base.EnumSerializer$EnumSerializerConfigSnapshot";
constexpr const char* kTtlSerializer = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializer";
constexpr const char* kJavaTupleSerializer = "org.apache.flink.api.java.typeutils.runtime.TupleSerializer";
constexpr const char* kListSerializer = "org.apache.flink.api.common.typeutils.base.ListSerializer";

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// CompositeTypeSerializerConfigSnapshot subclasses without fields of their own
// (after the nested pairs), and the snapshot class that replaced each in 1.8.
// An empty replacement: decided by the serializer class (below).
struct CompositeConfig {
  const char* config;
  const char* modern;
};
constexpr CompositeConfig kCompositeConfigs[] = {
    {"org.apache.flink.api.java.typeutils.runtime.EitherSerializerConfigSnapshot",
     "org.apache.flink.api.java.typeutils.runtime.EitherSerializerSnapshot"},
    {"org.apache.flink.api.common.typeutils.base.MapSerializerConfigSnapshot",
     "org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot"},
    {"org.apache.flink.api.common.typeutils.base.CollectionSerializerConfigSnapshot", ""},
    {"org.apache.flink.api.common.typeutils.CompositeSerializer$ConfigSnapshot", ""},
    {"org.apache.flink.api.java.typeutils.runtime.RowSerializer$RowSerializerConfigSnapshot",
     "org.apache.flink.api.java.typeutils.runtime.RowSerializer$RowSerializerSnapshot"},
    {"org.apache.flink.api.java.typeutils.runtime.NullableSerializer$NullableSerializerConfigSnapshot",
     "org.apache.flink.api.java.typeutils.runtime.NullableSerializer$NullableSerializerSnapshot"},
    {"org.apache.flink.streaming.runtime.streamrecord.StreamElementSerializer$StreamElementSerializerConfigSnapshot",
     "org.apache.flink.streaming.runtime.streamrecord.StreamElementSerializer$StreamElementSerializerSnapshot"},
};

const CompositeConfig* composite_config(std::string_view cls) {
  for (const auto& c : kCompositeConfigs)
    if (cls == c.config) return &c;
  return nullptr;
}

// The SimpleTypeSerializerSnapshot class Flink 1.8+ names after a serializer
// class: pkg.FooSerializer -> pkg.FooSerializer$FooSerializerSnapshot, and
// pkg.Foo$Serializer -> pkg.Foo$Serializer$FooSerializerSnapshot.
std::string simple_snapshot_class(std::string_view serializer) {
  size_t dot = serializer.rfind('.');
  size_t start = dot == std::string_view::npos ? 0 : dot + 1;
  size_t dollar = serializer.rfind('$');
  std::string name;
  if (dollar != std::string_view::npos && dollar >= start && serializer.substr(dollar + 1) == "Serializer") {
    std::string_view outer = serializer.substr(start, dollar - start);
    if (auto d2 = outer.rfind('$'); d2 != std::string_view::npos) outer = outer.substr(d2 + 1);
    name = std::string(outer) + "SerializerSnapshot";
  } else {
    std::string_view simple = serializer.substr(start);
    if (auto d2 = simple.rfind('$'); d2 != std::string_view::npos) simple = simple.substr(d2 + 1);
    name = std::string(simple) + "Snapshot";
  }
  return std::string(serializer) + "$" + name;
}

// A Java-serialized serializer of flink-core's base package without
// parameters (TypeSerializerSingleton), or the VoidNamespace serializer:
// typed from its class alone (proxies v1/v2 write no config snapshots).
bool is_singleton_serializer(std::string_view cls) {
  constexpr std::string_view base = "org.apache.flink.api.common.typeutils.base.";
  if (cls.substr(0, base.size()) == base) {
    std::string_view rest = cls.substr(base.size());
    return rest.find('.') == std::string_view::npos && rest.find('$') == std::string_view::npos &&
           ends_with(rest, "Serializer") && rest != "EnumSerializer" && rest != "ListSerializer" &&
           rest != "MapSerializer" && rest != "GenericArraySerializer";
  }
  return cls == "org.apache.flink.runtime.state.VoidNamespaceSerializer";
}

}  // namespace

void SnapshotDecoder::unknown_payload(SerializerNode& node, const char* kind) {
  node.kind = kind;
  size_t p = r.pos();
  if (in_slice) {
    // The slice ends where the next serializer starts: nothing else is lost.
    unknown_classes.push_back(node.class_name);
    r.skip(r.remaining());
    return;
  }
  if (overrides) {
    if (auto it = overrides->find(p); it != overrides->end()) {
      r.skip(it->second - p);
      unknown_classes.push_back(node.class_name);
      return;
    }
  }
  pending_unknown = p;
  pending_unknown_class = node.class_name;
  r.fail("unknown serializer snapshot class " + node.class_name + " (version " + std::to_string(node.version) +
         "): its payload has no length prefix");
}

std::string SnapshotDecoder::read_java_serializer(std::string* detail) {
  size_t at = r.pos();
  int32_t version = r.i32();
  if (!r.ok()) return {};
  if (version != 1) {
    r.fail_at(at, "expected a Java-serialized serializer (serialization proxy version 1), found version " +
                      std::to_string(version));
    return {};
  }
  int32_t len = r.i32();
  if (!r.check_count(len, 1, "Java-serialized serializer bytes")) return {};
  uint64_t blob_at = r.file_offset();
  std::string_view blob = r.bytes(static_cast<size_t>(len));
  if (!r.ok()) return {};
  // Flink tolerates serializers it cannot load (UnloadableDummyTypeSerializer);
  // so does this: the class is then unknown, the framing stays intact.
  auto v = parse_java_object(blob, blob_at);
  if (!v.ok() || v->kind != JavaValue::Kind::kObject) return {};
  if (detail) {
    // AvroSerializer's record class; Beam's CoderTypeSerializer's coder.
    if (auto t = v->fields.find("type"); t != v->fields.end() && t->second.class_name == "java.lang.Class")
      *detail = t->second.text;
    else if (auto c = v->fields.find("coder"); c != v->fields.end() && c->second.kind == JavaValue::Kind::kObject)
      *detail = c->second.class_name;
  }
  return v->class_name;
}

std::vector<SerializerNode> SnapshotDecoder::read_serializers_and_configs(int depth) {
  std::vector<SerializerNode> out;
  if (depth > kMaxSnapshotDepth) {
    r.fail("serializer snapshots nested deeper than " + std::to_string(kMaxSnapshotDepth));
    return out;
  }
  size_t at = r.pos();
  int32_t n = r.i32();
  if (!r.check_count(n, 8, "serializer and config snapshot pairs")) return out;
  std::vector<int64_t> offsets(static_cast<size_t>(n) * 2);
  for (auto& o : offsets) o = r.i32();
  int32_t total = r.i32();
  if (!r.ok()) return out;
  if (!r.check_count(total, 1, "serializer and config snapshot bytes")) return out;
  int64_t prev = 0;
  for (size_t k = 0; k < offsets.size(); ++k) {
    if (offsets[k] < prev || offsets[k] > total) {
      r.fail_at(at + 4 + 4 * k, "serializer/config offset " + std::to_string(offsets[k]) + " of pair " +
                                    std::to_string(k / 2) + " is outside " + std::to_string(prev) + ".." +
                                    std::to_string(total) + " (offsets must ascend within the " +
                                    std::to_string(total) + " bytes that follow)");
      return out;
    }
    prev = offsets[k];
  }
  const uint8_t* base = r.data() + r.pos();
  uint64_t base_at = r.file_offset();
  r.skip(static_cast<size_t>(total));
  if (!r.ok()) return out;
  out.reserve(static_cast<size_t>(n));
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    size_t s0 = static_cast<size_t>(offsets[2 * i]), c0 = static_cast<size_t>(offsets[2 * i + 1]);
    size_t c1 = i + 1 < static_cast<size_t>(n) ? static_cast<size_t>(offsets[2 * i + 2]) : static_cast<size_t>(total);
    std::string ser_class, detail;
    {
      ByteReader sr(base + s0, c0 - s0, base_at + s0);
      SnapshotDecoder sd(sr);
      ser_class = sd.read_java_serializer(&detail);
    }
    ByteReader cr(base + c0, c1 - c0, base_at + c0);
    SnapshotDecoder cd(cr);
    cd.in_slice = true;
    cd.slice_serializer = ser_class;
    cd.slice_detail = detail;
    SerializerNode node;
    if (c1 == c0) {
      node.offset = base_at + c0;
      node.kind = "legacy";
      node.class_name = "(no config snapshot)";
    } else {
      node = cd.read_serializer_snapshot(depth + 1);
      if (cr.ok() && !cr.at_end() && node.kind != "legacy" && node.kind != "unknown")
        cr.fail("config snapshot " + node.written_class() + " ends " + std::to_string(cr.remaining()) +
                " bytes before the next serializer");
      if (!cr.ok()) {
        // The slice bounds the damage: this pair is not understood, the others are.
        if (node.class_name.empty()) node.class_name = "(unreadable config snapshot)";
        if (!node.legacy_class.empty()) node.class_name = node.legacy_class;
        node.legacy_class.clear();
        node.kind = "legacy";
        node.children.clear();
        node.detail = cr.error().message;
        unknown_classes.push_back(node.class_name);
      }
    }
    if (node.serializer_class.empty()) node.serializer_class = ser_class;
    for (auto& u : cd.unknown_classes) unknown_classes.push_back(u);
    out.push_back(std::move(node));
  }
  return out;
}

void SnapshotDecoder::read_config_payload(SerializerNode& node, const std::string& serializer_class, int depth) {
  node.serializer_class = serializer_class;
  int32_t config_version = r.i32();  // VersionedIOReadableWritable: the config's own version
  if (!r.ok()) return;
  const std::string cls = node.class_name;
  auto become = [&](std::string modern, const char* kind) {
    node.legacy_class = cls;
    node.class_name = std::move(modern);
    node.kind = kind;
  };
  if (cls == kParameterless) {
    // The serializer's identifier: its class name.
    std::string id(r.utf());
    if (!r.ok()) return;
    if (id.empty()) id = serializer_class;
    node.serializer_class = id;
    become(simple_snapshot_class(id), "simple");
    return;
  }
  const CompositeConfig* cc = composite_config(cls);
  if (cc || cls == kTupleConfig) {
    // CompositeTypeSerializerConfigSnapshot: the nested pairs, then the
    // subclass's fields (the tuple class for TupleSerializerConfigSnapshot).
    std::vector<SerializerNode> children = read_serializers_and_configs(depth + 1);
    if (!r.ok()) return;
    std::string modern = cc ? cc->modern : "";
    if (cls == kTupleConfig) {
      uint64_t at = r.file_offset();
      std::string_view rest(reinterpret_cast<const char*>(r.data() + r.pos()), r.remaining());
      size_t consumed = 0;
      auto v = parse_java_object(rest, at, &consumed);
      if (!v.ok()) {
        r.fail_at(r.pos() + static_cast<size_t>(std::max(v.error().offset.value_or(at), at) - at),
                  "tuple class of " + cls + ": " + v.error().message);
        return;
      }
      r.skip(consumed);
      if (v->class_name == "java.lang.Class") node.detail = v->text;
      // TupleSerializerBase has two subclasses: Java's tuples and Scala's case classes.
      modern = serializer_class.empty() || serializer_class == kJavaTupleSerializer
                   ? "org.apache.flink.api.java.typeutils.runtime.TupleSerializerSnapshot"
                   : "org.apache.flink.api.scala.typeutils.ScalaCaseClassSerializerSnapshot";
    } else if (modern.empty()) {
      if (serializer_class == kListSerializer) modern = "org.apache.flink.api.common.typeutils.base.ListSerializerSnapshot";
      else if (serializer_class == kTtlSerializer)
        modern = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot";
    }
    node.children = std::move(children);
    if (modern.empty()) {
      // A composite of a serializer this tool does not know: nested types are
      // listed, values are not decoded.
      node.kind = "composite";
      node.legacy_class = cls;
      return;
    }
    become(std::move(modern), "composite");
    return;
  }
  if (cls == kAvroSchemaConfig) {
    std::string schema(r.utf());
    if (!r.ok()) return;
    node.schema = schema;
    std::string rec = avro_schema_full_name(schema);
    std::string type = slice_detail;
    node.detail = !type.empty() && !ends_with(type, "GenericRecord") ? type
                  : rec.empty()                                        ? "GenericRecord"
                                                                       : "GenericRecord " + rec;
    become("org.apache.flink.formats.avro.typeutils.AvroSerializerSnapshot", "avro");
    return;
  }
  if (cls == kEnumConfig && config_version == 2) {
    // GenericTypeSerializerConfigSnapshot's class name, then the constants.
    node.detail = std::string(r.utf());
    int32_t k = r.i32();
    if (!r.check_count(k, 2, "enum constants")) return;
    for (int32_t i = 0; i < k && r.ok(); ++i) node.constants.emplace_back(r.utf());
    if (!r.ok()) return;
    become("org.apache.flink.api.common.typeutils.base.EnumSerializer$EnumSerializerSnapshot", "enum");
    return;
  }
  unknown_payload(node, "legacy");
}

SerializerNode SnapshotDecoder::read_java_only_serializer(bool framed) {
  SerializerNode node;
  node.offset = r.file_offset();
  std::string cls;
  if (framed) {
    cls = read_java_serializer();
  } else {
    uint64_t at = r.file_offset();
    std::string_view rest(reinterpret_cast<const char*>(r.data() + r.pos()), r.remaining());
    size_t consumed = 0;
    auto v = parse_java_object(rest, at, &consumed);
    if (!v.ok()) {
      r.fail_at(r.pos() + static_cast<size_t>(std::max(v.error().offset.value_or(at), at) - at),
                "Java-serialized serializer: " + v.error().message);
      return node;
    }
    r.skip(consumed);
    cls = v->class_name;
  }
  if (!r.ok()) return node;
  node.serializer_class = cls;
  if (is_singleton_serializer(cls)) {
    node.legacy_class = cls;
    node.class_name = simple_snapshot_class(cls);
    node.kind = "simple";
  } else {
    node.class_name = cls.empty() ? "(unreadable Java-serialized serializer)" : cls;
    node.kind = "legacy";
  }
  return node;
}

}  // namespace fsp::state
