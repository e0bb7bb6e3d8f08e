// dump records as JSON Lines (dump_json.h).
#include "flink_savepoint/dump_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace fsp {
namespace {

using state::Value;

void hex4(std::string& out, uint32_t c) {
  char b[8];
  std::snprintf(b, sizeof b, "\\u%04x", c & 0xFFFFu);
  out += b;
}

// UTF-8 in, JSON string out. Invalid bytes become U+FFFD; the 3-byte form of
// an unpaired surrogate (ED A0..BF xx) becomes the text \uXXXX (backslash escaped).
void append_string(std::string_view s, std::string& out) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || c == 0x7F) hex4(out, c);
          else out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    bool valid = n > 0 && i + n <= s.size();
    for (size_t k = 1; valid && k < n; ++k) valid = (static_cast<uint8_t>(s[i + k]) & 0xC0) == 0x80;
    if (valid && n == 3) {
      uint32_t cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
      if (cp < 0x800) valid = false;
      else if (cp >= 0xD800 && cp <= 0xDFFF) {
        // As the display conversion does (docs/json.md): the text \uXXXX with
        // its backslash escaped, since strict parsers refuse a lone surrogate
        // escape (fuzz finding, value_decoder: a lone DFF7).
        char b[12];
        std::snprintf(b, sizeof b, "\\\\u%04X", cp);
        out += b;
        i += 3;
        continue;
      }
    }
    if (valid && n == 4) {
      uint32_t cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
      valid = cp >= 0x10000 && cp <= 0x10FFFF;
    }
    if (!valid) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out.push_back('"');
}

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
        append_string(std::isnan(v.d) ? "NaN" : v.d > 0 ? "Infinity" : "-Infinity", out);
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
    case Value::Type::kString: append_string(v.s, out); return;
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
        append_string(i < v.keys.size() ? v.keys[i] : std::string(), out);
        out.push_back(':');
        append_value_json(v.items[i], out);
      }
      out.push_back('}');
      return;
  }
}

void append_dump_record_json(const DumpRecord& r, std::string& out) {
  out += "{\"operator_id\":";
  append_string(r.operator_id, out);
  key("uid", out);
  if (r.uid.empty()) out += "null";
  else append_string(r.uid, out);
  key("state", out);
  append_string(r.state, out);
  key("kind", out);
  append_string(r.kind, out);
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
