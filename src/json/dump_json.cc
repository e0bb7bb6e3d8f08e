// dump records as JSON Lines (dump_json.h).
#include "flink_savepoint/dump_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "flink_savepoint/display.h"

namespace fsp {
namespace {

using state::Value;

void append_base64(std::string_view b, std::string& out) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.push_back('"');
  size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(b[i])) << 16 | uint32_t(uint8_t(b[i + 1])) << 8 | uint8_t(b[i + 2]);
    out.push_back(k[v >> 18]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(k[(v >> 6) & 63]);
    out.push_back(k[v & 63]);
  }
  if (i + 1 == b.size()) {
    uint32_t v = uint32_t(uint8_t(b[i])) << 16;
    out.push_back(k[v >> 18]);
    out.push_back(k[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == b.size()) {
    uint32_t v = uint32_t(uint8_t(b[i])) << 16 | uint32_t(uint8_t(b[i + 1])) << 8;
    out.push_back(k[v >> 18]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(k[(v >> 6) & 63]);
    out.push_back('=');
  }
  out.push_back('"');
}

// ,"k": (every member but the first)
void key(const char* k, std::string& out) {
  out += ",\"";
  out += k;
  out += "\":";
}

}  // namespace

void append_value_json(const Value& v, std::string& out) {
  switch (v.type) {
    case Value::Type::kNull: out += "null"; return;
    case Value::Type::kBool: out += v.b ? "true" : "false"; return;
    case Value::Type::kInt: out += std::to_string(v.i); return;
    case Value::Type::kDouble: {
      if (!std::isfinite(v.d)) {  // JSON has no NaN/Infinity: as strings
        append_json_string(out, std::isnan(v.d) ? "NaN" : v.d > 0 ? "Infinity" : "-Infinity");
        return;
      }
      // The shortest "%.*g" text (precision 1 to 17) that reads back the
      // same. No precision below the digits of the shortest round-trip
      // form (to_chars) can, so the search starts there.
      char b[32];
      auto sci = std::to_chars(b, b + sizeof b, v.d, std::chars_format::scientific);
      int digits = 0;
      for (const char* q = b; q < sci.ptr && *q != 'e'; ++q) digits += *q >= '0' && *q <= '9';
      std::string_view text;
      for (int p = std::max(digits, 1);; ++p) {
        auto g = std::to_chars(b, b + sizeof b, v.d, std::chars_format::general, p);  // as printf "%.*g"
        text = std::string_view(b, static_cast<size_t>(g.ptr - b));
        double back = 0;
        std::from_chars(b, g.ptr, back);
        if (back == v.d || p >= 17) break;
      }
      out += text;
      if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
      return;
    }
    case Value::Type::kNumber: out += v.s; return;
    case Value::Type::kString: append_json_string(out, v.s); return;
    case Value::Type::kBytes: append_base64(v.s, out); return;
    case Value::Type::kArray:
      out.push_back('[');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out.push_back(',');
        append_value_json(v.items[i], out);
      }
      out.push_back(']');
      return;
    case Value::Type::kObject:
      out.push_back('{');
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, i < v.keys.size() ? std::string_view(v.keys[i]) : std::string_view());
        out.push_back(':');
        append_value_json(v.items[i], out);
      }
      out.push_back('}');
      return;
  }
}

void append_dump_record_json(const DumpRecord& r, std::string& out) {
  out += "{\"operator_id\":";
  append_json_string(out, r.operator_id);
  key("uid", out);
  if (r.uid.empty()) out += "null";
  else append_json_string(out, r.uid);
  key("state", out);
  append_json_string(out, r.state);
  key("kind", out);
  append_json_string(out, r.kind);
  if (r.keyed) {
    key("key_group", out);
    out += std::to_string(r.key_group);
    key("key", out);
    append_value_json(r.key, out);
    key("namespace", out);
    append_value_json(r.ns, out);
  } else if (r.subtask >= 0) {
    key("subtask", out);
    out += std::to_string(r.subtask);
  }
  if (r.has_timestamp) {
    key("timestamp", out);
    out += std::to_string(r.timestamp);
  } else {
    if (r.has_user_key) {
      key(r.keyed ? "user_key" : "key", out);
      append_value_json(r.user_key, out);
    }
    key("value", out);
    append_value_json(r.value, out);
  }
  if (r.has_ttl) {
    key("ttl_timestamp", out);
    out += std::to_string(r.ttl_timestamp);
  }
  out += "}\n";
}

}  // namespace fsp
