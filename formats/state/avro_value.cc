// Avro values through the writer schema that Flink's AvroSerializerSnapshot
// keeps. AvroSerializer writes them with Flink's DataOutputEncoder (not Avro's
// BinaryEncoder): ints, longs, floats, doubles, enum and union indexes as
// fixed-width big-endian DataOutput values, strings and bytes as an int length
// and the bytes, records field by field, arrays and maps as blocks of
// (unsigned varint count, items) ended by a 0 byte.
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/state_value.h"

namespace fsp::state {
namespace {

using json = nlohmann::json;

struct Schema {
  json root;
  std::unordered_map<std::string, const json*> named;  // full names and short names
};

// Avro's full-name rule: a name with a dot is already full, else the
// enclosing (or its own) namespace goes in front.
std::string full_name(const json& s, const std::string& ns) {
  std::string name = s["name"].get<std::string>();
  std::string cur = s.contains("namespace") && s["namespace"].is_string() ? s["namespace"].get<std::string>() : ns;
  return name.find('.') != std::string::npos || cur.empty() ? name : cur + "." + name;
}

void register_names(const json& s, const std::string& ns, Schema& out, int depth) {
  if (depth > kMaxValueDepth) return;
  if (s.is_array()) {
    for (auto& b : s) register_names(b, ns, out, depth + 1);
    return;
  }
  if (!s.is_object()) return;
  std::string type = s.value("type", json()).is_string() ? s["type"].get<std::string>() : "";
  std::string cur = ns;
  if ((type == "record" || type == "error" || type == "enum" || type == "fixed") && s.contains("name") &&
      s["name"].is_string()) {
    std::string full = full_name(s, cur);
    if (auto p = full.rfind('.'); p != std::string::npos) cur = full.substr(0, p);
    out.named[full] = &s;
    out.named.emplace(full.substr(full.rfind('.') + 1), &s);
  }
  if (s.contains("fields") && s["fields"].is_array())
    for (auto& f : s["fields"])
      if (f.is_object() && f.contains("type")) register_names(f["type"], cur, out, depth + 1);
  for (const char* k : {"items", "values"})
    if (s.contains(k)) register_names(s[k], cur, out, depth + 1);
  if (s.contains("type") && !s["type"].is_string()) register_names(s["type"], cur, out, depth + 1);
}

// Parsed once per schema: keyed by the snapshot's modified UTF-8 text, which
// is converted only when it is parsed.
std::shared_ptr<const Schema> parse_schema(const std::string& modified_utf8) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const Schema>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(modified_utf8); it != cache.end()) return it->second;
  auto s = std::make_shared<Schema>();
  s->root = json::parse(modified_utf8_to_utf8(modified_utf8), nullptr, false);
  if (s->root.is_discarded()) return nullptr;
  register_names(s->root, "", *s, 0);
  if (cache.size() > 256) cache.clear();
  cache[modified_utf8] = s;
  return s;
}

class AvroReader {
 public:
  AvroReader(ByteReader& r, const Schema& s, std::string* why) : r_(r), s_(s), why_(why) {}

  bool fail(const std::string& m) {
    if (why_ && why_->empty()) *why_ = "Avro: " + m;
    return false;
  }

  // Block counts (DataOutputEncoder.writeVarLongCount: unsigned, 7 bits a byte).
  bool varcount(int64_t& out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 63; shift += 7) {
      uint8_t b = r_.u8();
      if (!r_.ok()) return false;
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        out = static_cast<int64_t>(v);
        return true;
      }
    }
    return fail("count varint longer than 9 bytes");
  }

  bool read(const json& t, Value& out, int depth) {
    if (depth > kMaxValueDepth) return fail("schema nested too deep");
    if (t.is_string()) return primitive(t.get_ref<const std::string&>(), out, depth);
    if (t.is_array()) {  // union
      int64_t idx = r_.i32();
      if (!r_.ok()) return false;
      if (idx < 0 || static_cast<size_t>(idx) >= t.size()) return fail("union branch " + std::to_string(idx) + " out of range");
      return read(t[static_cast<size_t>(idx)], out, depth + 1);
    }
    if (!t.is_object() || !t.contains("type")) return fail("bad schema node");
    const json& ty = t["type"];
    if (!ty.is_string()) return read(ty, out, depth + 1);
    const std::string& type = ty.get_ref<const std::string&>();
    if (type == "record" || type == "error") {
      Value o = Value::object();
      if (!t.contains("fields") || !t["fields"].is_array()) return fail("record without fields");
      for (auto& f : t["fields"]) {
        if (!f.is_object() || !f.contains("type")) return fail("bad field");
        Value v;
        if (!read(f["type"], v, depth + 1)) return false;
        o.add(f.value("name", std::string("?")), std::move(v));
      }
      out = std::move(o);
      return true;
    }
    if (type == "enum") {
      int64_t idx = r_.i32();
      if (!r_.ok()) return false;
      if (!t.contains("symbols") || idx < 0 || static_cast<size_t>(idx) >= t["symbols"].size())
        return fail("enum index out of range");
      out = Value::string(t["symbols"][static_cast<size_t>(idx)].get<std::string>());
      return true;
    }
    if (type == "fixed") {
      int64_t size = t.value("size", int64_t(-1));
      if (size < 0 || !r_.check_count(size, 1, "Avro fixed bytes")) return fail("bad fixed size");
      out = Value::bytes(r_.bytes(static_cast<size_t>(size)));
      return r_.ok();
    }
    if (type == "array" || type == "map") {
      bool map = type == "map";
      const json* elem = t.contains(map ? "values" : "items") ? &t[map ? "values" : "items"] : nullptr;
      if (!elem) return fail(type + " without element type");
      Value a = map ? Value::object() : Value::array();
      for (;;) {
        int64_t n = 0;
        if (!varcount(n)) return false;
        if (n == 0) break;
        if (!r_.check_count(n, map ? 1 : 0, "Avro block items")) return false;
        for (int64_t i = 0; i < n; ++i) {
          Value v;
          std::string key;
          if (map) {
            Value k;
            if (!primitive("string", k, depth)) return false;
            key = std::move(k.s);
          }
          if (!read(*elem, v, depth + 1)) return false;
          if (map) a.add(std::move(key), std::move(v));
          else a.add(std::move(v));
          if (a.items.size() > r_.size()) return fail("more items than bytes");
        }
      }
      out = std::move(a);
      return true;
    }
    return primitive(type, out, depth);
  }

  bool primitive(const std::string& type, Value& out, int depth) {
    if (type == "null") return out = Value::null(), true;
    if (type == "boolean") {
      out = Value::boolean(r_.u8() != 0);
      return r_.ok();
    }
    if (type == "int" || type == "long") {
      out = Value::integer(type == "int" ? r_.i32() : r_.i64());
      return r_.ok();
    }
    if (type == "float" || type == "double") {
      size_t n = type == "float" ? 4 : 8;
      std::string_view b = r_.bytes(n);
      if (!r_.ok()) return false;
      uint64_t bits = 0;
      for (size_t i = 0; i < n; ++i) bits = (bits << 8) | static_cast<uint8_t>(b[i]);
      if (n == 4) {
        float f;
        uint32_t u = static_cast<uint32_t>(bits);
        std::memcpy(&f, &u, 4);
        out = Value::real(f);
      } else {
        double d;
        std::memcpy(&d, &bits, 8);
        out = Value::real(d);
      }
      return true;
    }
    if (type == "string" || type == "bytes") {
      int32_t len = r_.i32();
      if (!r_.check_count(len, 1, "Avro string bytes")) return false;
      std::string_view b = r_.bytes(static_cast<size_t>(len));
      if (!r_.ok()) return false;
      out = type == "bytes" ? Value::bytes(b) : Value::string(std::string(b));
      return true;
    }
    auto it = s_.named.find(type);
    if (it == s_.named.end()) return fail("unknown type " + type);
    return read(*it->second, out, depth + 1);
  }

 private:
  ByteReader& r_;
  const Schema& s_;
  std::string* why_;
};

}  // namespace

bool decode_avro_value(const SerializerNode& n, ByteReader& r, Value& out, std::string* why) {
  if (n.schema.empty()) {
    if (why && why->empty()) *why = "Avro serializer snapshot without a writer schema";
    return false;
  }
  auto schema = parse_schema(n.schema);
  if (!schema) {
    if (why && why->empty()) *why = "Avro writer schema is not JSON";
    return false;
  }
  AvroReader a(r, *schema, why);
  return a.read(schema->root, out, 0) && r.ok();
}

std::string avro_schema_full_name(const std::string& schema) {
  auto s = parse_schema(schema);
  if (!s || !s->root.is_object() || !s->root.contains("name") || !s->root["name"].is_string()) return {};
  return full_name(s->root, "");
}

}  // namespace fsp::state
