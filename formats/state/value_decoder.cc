// State values from their bytes, driven by the serializer-snapshot tree
// (state_value.h). Each layout below is the one the named Flink serializer
// writes (TypeSerializer.serialize); a serializer this file does not know is
// never guessed at: decode_value() fails and the caller prints the bytes.
#include <cstdio>
#include <cstring>
#include <string>

#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/state_value.h"

namespace fsp::state {
namespace {

constexpr const char* kTtl = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot";

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint32_t load_le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }

double bits_to_double(uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Two's-complement big-endian bytes (BigInteger.toByteArray) as decimal text.
std::string big_integer_text(std::string_view be) {
  if (be.empty()) return "0";
  bool neg = static_cast<uint8_t>(be[0]) & 0x80;
  std::vector<uint8_t> mag(be.begin(), be.end());
  if (neg) {  // magnitude = two's complement negation
    for (auto& b : mag) b = static_cast<uint8_t>(~b);
    for (size_t i = mag.size(); i-- > 0;)
      if (++mag[i] != 0) break;
  }
  std::string digits;
  // Repeated division by 10 over the byte vector (values are small in practice; bounded by the entry).
  while (true) {
    bool zero = true;
    uint32_t rem = 0;
    for (auto& b : mag) {
      uint32_t cur = (rem << 8) | b;
      b = static_cast<uint8_t>(cur / 10);
      rem = cur % 10;
      if (b) zero = false;
    }
    digits.push_back(static_cast<char>('0' + rem));
    if (zero) break;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (neg) digits.push_back('-');
  return std::string(digits.rbegin(), digits.rend());
}

std::string with_scale(std::string digits, int32_t scale) {
  bool neg = !digits.empty() && digits[0] == '-';
  if (neg) digits.erase(0, 1);
  if (scale > 0) {
    if (scale > 4096) return {};
    if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  } else if (scale < 0) {
    digits += "E" + std::to_string(-static_cast<int64_t>(scale));
  }
  return neg ? "-" + digits : digits;
}

std::string two(int v) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

// Days since 1970-01-01 to YYYY-MM-DD (proleptic Gregorian, as java.time).
std::string civil_date(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char b[48];
  std::snprintf(b, sizeof b, "%04lld-%02lld-%02lld", static_cast<long long>(y), static_cast<long long>(m),
                static_cast<long long>(d));
  return b;
}

std::string time_of_day(int64_t nanos_of_day) {
  int64_t s = nanos_of_day / 1000000000, n = nanos_of_day % 1000000000;
  std::string t = two(static_cast<int>(s / 3600)) + ":" + two(static_cast<int>(s / 60 % 60)) + ":" + two(static_cast<int>(s % 60));
  if (n) {
    char b[16];
    std::snprintf(b, sizeof b, ".%09lld", static_cast<long long>(n));
    std::string f = b;
    while (f.back() == '0') f.pop_back();
    t += f;
  }
  return t;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Epoch milliseconds (+ extra nanos) as an ISO-8601 timestamp without zone;
// `whole_seconds`: the milliseconds' second only (the nanos carry the rest).
// The time of day is the remainder, never millis - days * 86400000, which
// overflows for the days before the earliest whole day an int64 holds.
std::string timestamp_text(int64_t millis, int64_t extra_nanos, bool zulu, bool whole_seconds = false) {
  int64_t days = floor_div(millis, 86400000);
  int64_t ms = millis % 86400000;
  if (ms < 0) ms += 86400000;
  if (whole_seconds) ms -= ms % 1000;
  return civil_date(days) + "T" + time_of_day(ms * 1000000 + extra_nanos) + (zulu ? "Z" : "");
}

class Decoder {
 public:
  Decoder(ByteReader& r, std::string* why) : r_(r), why_(why) {}

  bool fail(std::string msg) {
    if (why_ && why_->empty()) *why_ = std::move(msg);
    return false;
  }

  bool value(const SerializerNode& n, Value& out, int depth) {
    if (depth > kMaxValueDepth) return fail("values nested deeper than " + std::to_string(kMaxValueDepth));
    if (!r_.ok()) return false;
    std::string t = short_type_name(n.class_name);
    if (n.kind == "simple") return simple(n, t, out);
    if (n.kind == "enum") {
      int32_t ord = r_.i32();
      if (!r_.ok()) return false;
      if (ord < 0 || static_cast<size_t>(ord) >= n.constants.size())
        return fail("enum ordinal " + std::to_string(ord) + " outside the " + std::to_string(n.constants.size()) +
                    " constants of " + n.detail);
      out = Value::string(modified_utf8_to_utf8(n.constants[ord]));
      return true;
    }
    if (n.kind == "pojo") return pojo(n, out, depth);
    if (n.kind == "avro") return decode_avro_value(n, r_, out, why_);
    if (n.kind == "rowdata") return rowdata(n, t, out, depth);
    if (n.kind == "composite") return composite(n, t, out, depth);
    return fail("values of " + n.class_name + " (" + n.kind + ") are not decoded");
  }

 private:
  bool simple(const SerializerNode& n, const std::string& t, Value& out) {
    const bool core = starts_with(n.class_name, "org.apache.flink.api.common.typeutils.base.");
    if (core || t == "byte[]") {
      if (t == "Long") return set(out, Value::integer(r_.i64()));
      if (t == "Int") return set(out, Value::integer(r_.i32()));
      if (t == "Short") return set(out, Value::integer(r_.i16()));
      if (t == "Byte") return set(out, Value::integer(r_.i8()));
      if (t == "Boolean") return set(out, Value::boolean(r_.boolean()));
      if (t == "Char") {
        std::string s;
        append_utf8(s, r_.u16());
        return set(out, Value::string(std::move(s)));
      }
      if (t == "Double") return set(out, Value::real(bits_to_double(static_cast<uint64_t>(r_.i64()))));
      if (t == "Float") return set(out, Value::real(bits_to_float(static_cast<uint32_t>(r_.i32()))));
      if (t == "String") {
        bool is_null = false;
        auto s = read_java_string(r_, &is_null);
        if (!r_.ok()) return false;
        out = is_null ? Value::null() : Value::string(std::move(*s));
        return true;
      }
      if (t == "Void") {
        r_.skip(1);
        return set(out, Value::null());
      }
      if (t == "BigInt") return big_int(out);
      if (t == "BigDec") {
        Value unscaled;
        if (!big_int(unscaled)) return false;
        if (unscaled.is_null()) return set(out, Value::null());
        int32_t scale = r_.i32();
        std::string text = with_scale(unscaled.s, scale);
        if (text.empty()) return fail("BigDecimal scale " + std::to_string(scale) + " out of range");
        return set(out, Value::number(std::move(text)));
      }
      if (t == "Date" || t == "SqlDate" || t == "SqlTime") {
        int64_t ms = r_.i64();
        if (ms == INT64_MIN) return set(out, Value::null());
        if (t == "SqlDate") return set(out, Value::string(civil_date(floor_div(ms, 86400000))));
        return set(out, Value::string(timestamp_text(ms, 0, t == "Date")));
      }
      if (t == "SqlTimestamp") {
        int64_t ms = r_.i64();
        int32_t nanos = r_.i32();
        if (ms == INT64_MIN) return set(out, Value::null());
        if (nanos < 0 || nanos > 999999999) return fail("SqlTimestamp nanos out of range");
        return set(out, Value::string(timestamp_text(ms, nanos, false, /*whole_seconds=*/true)));
      }
      if (t == "LocalDate") return local_date(out);
      if (t == "LocalTime") return local_time(out);
      if (t == "LocalDateTime") {
        Value d, tm;
        if (!local_date(d) || !local_time(tm)) return false;
        if (d.is_null() || tm.is_null()) return set(out, Value::null());
        return set(out, Value::string(d.s + "T" + tm.s));
      }
      if (t == "Instant") {
        int64_t sec = r_.i64();
        int32_t nanos = r_.i32();
        if (sec == INT64_MIN && nanos == INT32_MIN) return set(out, Value::null());
        if (nanos < 0 || nanos > 999999999 || sec > (INT64_MAX / 1000) || sec < (INT64_MIN / 1000))
          return fail("Instant out of range");
        return set(out, Value::string(timestamp_text(sec * 1000, nanos, true)));
      }
      if (t == "byte[]") {
        int32_t len = r_.i32();
        if (!r_.check_count(len, 1, "byte array")) return false;
        return set(out, Value::bytes(r_.bytes(static_cast<size_t>(len))));
      }
      if (ends_with(t, "PrimitiveArray") || t == "StringArray") return primitive_array(t, out);
    }
    if (t == "VoidNamespace" || t == "GlobalWindow") {
      r_.skip(1);
      return set(out, Value::null());
    }
    if (t == "TimeWindow") {
      int64_t s = r_.i64(), e = r_.i64();
      Value w = Value::object();
      w.add("start", Value::integer(s));
      w.add("end", Value::integer(e));
      return set(out, std::move(w));
    }
    if (t == "CountWindow") {
      Value w = Value::object();
      w.add("id", Value::integer(r_.i64()));
      return set(out, std::move(w));
    }
    if (t == "StringData") {
      int32_t len = r_.i32();
      if (!r_.check_count(len, 1, "string bytes")) return false;
      return set(out, Value::string(std::string(r_.bytes(static_cast<size_t>(len)))));
    }
    if (t == "SortedLong") return set(out, Value::integer(r_.i64() ^ INT64_MIN));
    return fail("values of " + n.class_name + " are not decoded");
  }

  // A helper so that one-liners can return.
  bool set(Value& out, Value v) {
    if (!r_.ok()) return false;
    out = std::move(v);
    return true;
  }

  bool big_int(Value& out) {
    int32_t len = r_.i32();
    if (!r_.ok()) return false;
    if (len == 0) return set(out, Value::null());
    if (len >= 1 && len <= 3) return set(out, Value::number(len == 1 ? "0" : len == 2 ? "1" : "10"));
    if (len < 4 || !r_.check_count(len - 4, 1, "BigInteger bytes")) return fail("bad BigInteger length");
    return set(out, Value::number(big_integer_text(r_.bytes(static_cast<size_t>(len - 4)))));
  }

  bool local_date(Value& out) {
    int32_t y = r_.i32();
    int8_t m = r_.i8(), d = r_.i8();
    if (!r_.ok()) return false;
    if (y == INT32_MIN) return set(out, Value::null());
    if (m < 1 || m > 12 || d < 1 || d > 31) return fail("LocalDate out of range");
    char b[48];
    std::snprintf(b, sizeof b, "%04d-%02d-%02d", y, m, d);
    return set(out, Value::string(b));
  }

  bool local_time(Value& out) {
    int8_t h = r_.i8(), m = r_.i8(), s = r_.i8();
    int32_t n = r_.i32();
    if (!r_.ok()) return false;
    if (h == INT8_MIN) return set(out, Value::null());
    if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59 || n < 0 || n > 999999999)
      return fail("LocalTime out of range");
    return set(out, Value::string(time_of_day((int64_t(h) * 3600 + m * 60 + s) * 1000000000 + n)));
  }

  bool primitive_array(const std::string& t, Value& out) {
    int32_t len = r_.i32();
    size_t width = t == "LongPrimitiveArray" || t == "DoublePrimitiveArray" ? 8
                   : t == "IntPrimitiveArray" || t == "FloatPrimitiveArray"  ? 4
                   : t == "ShortPrimitiveArray" || t == "CharPrimitiveArray" ? 2
                                                                             : 1;
    if (!r_.check_count(len, width, "array elements")) return false;
    Value a = Value::array();
    a.items.reserve(static_cast<size_t>(len));
    for (int32_t i = 0; i < len && r_.ok(); ++i) {
      if (t == "LongPrimitiveArray") a.add(Value::integer(r_.i64()));
      else if (t == "IntPrimitiveArray") a.add(Value::integer(r_.i32()));
      else if (t == "ShortPrimitiveArray") a.add(Value::integer(r_.i16()));
      else if (t == "BooleanPrimitiveArray") a.add(Value::boolean(r_.boolean()));
      else if (t == "DoublePrimitiveArray") a.add(Value::real(bits_to_double(static_cast<uint64_t>(r_.i64()))));
      else if (t == "FloatPrimitiveArray") a.add(Value::real(bits_to_float(static_cast<uint32_t>(r_.i32()))));
      else if (t == "CharPrimitiveArray") {
        std::string s;
        append_utf8(s, r_.u16());
        a.add(Value::string(std::move(s)));
      } else if (t == "StringArray") {
        bool is_null = false;
        auto s = read_java_string(r_, &is_null);
        a.add(is_null || !s ? Value::null() : Value::string(std::move(*s)));
      } else {
        return fail("values of " + t + " are not decoded");
      }
    }
    return set(out, std::move(a));
  }

  bool pojo(const SerializerNode& n, Value& out, int depth) {
    uint8_t flags = r_.u8();
    if (!r_.ok()) return false;
    if (flags & 0x01) return set(out, Value::null());
    if (!(flags & 0x02)) return fail("POJO " + n.detail + " value is a subclass (flags " + std::to_string(flags) + ")");
    Value o = Value::object();
    for (size_t i = 0; i < n.children.size(); ++i) {
      std::string name = i < n.child_names.size() ? modified_utf8_to_utf8(n.child_names[i]) : "f" + std::to_string(i);
      bool is_null = r_.boolean();
      if (!r_.ok()) return false;
      Value v;
      if (!is_null && !value(n.children[i], v, depth + 1)) return false;
      o.add(std::move(name), std::move(v));
    }
    return set(out, std::move(o));
  }

  bool composite(const SerializerNode& n, const std::string& t, Value& out, int depth) {
    const auto& c = n.children;
    if (n.class_name == kTtl && c.size() == 2) {
      int64_t ts = r_.i64();
      Value v;
      if (!value(c[1], v, depth + 1)) return false;
      Value o = Value::object();
      o.add("value", std::move(v));
      o.add("ttl_timestamp", Value::integer(ts));
      return set(out, std::move(o));
    }
    if (t == "Tuple" || t == "ScalaCaseClass" || t == "Tuple2CaseClass") {
      Value o = Value::object();
      for (size_t i = 0; i < c.size(); ++i) {
        Value v;
        if (!value(c[i], v, depth + 1)) return false;
        o.add(t == "Tuple" ? "f" + std::to_string(i) : "_" + std::to_string(i + 1), std::move(v));
      }
      return set(out, std::move(o));
    }
    if (t == "List" && c.size() == 1) {
      int32_t k = r_.i32();
      if (!r_.check_count(k, 0, "list elements")) return false;
      Value a = Value::array();
      for (int32_t i = 0; i < k; ++i) {
        Value v;
        if (!value(c[0], v, depth + 1)) return false;
        a.add(std::move(v));
      }
      return set(out, std::move(a));
    }
    if (t == "Map" && c.size() == 2) {
      int32_t k = r_.i32();
      if (!r_.check_count(k, 1, "map entries")) return false;
      // As an array of {"key", "value"}: keys need not be strings.
      Value a = Value::array();
      for (int32_t i = 0; i < k; ++i) {
        Value key, v;
        if (!value(c[0], key, depth + 1)) return false;
        bool is_null = r_.boolean();
        if (!is_null && !value(c[1], v, depth + 1)) return false;
        Value e = Value::object();
        e.add("key", std::move(key));
        e.add("value", std::move(v));
        a.add(std::move(e));
      }
      return set(out, std::move(a));
    }
    if (t == "GenericArray" && c.size() == 1) {
      int32_t k = r_.i32();
      if (!r_.check_count(k, 1, "array elements")) return false;
      Value a = Value::array();
      for (int32_t i = 0; i < k; ++i) {
        bool present = r_.boolean();
        Value v;
        if (present && !value(c[0], v, depth + 1)) return false;
        a.add(std::move(v));
      }
      return set(out, std::move(a));
    }
    if ((t == "JavaEither" || t == "Either" || t == "ScalaEither") && c.size() == 2) {
      bool left = r_.boolean();
      Value v;
      if (!value(c[left ? 0 : 1], v, depth + 1)) return false;
      Value o = Value::object();
      o.add(left ? "left" : "right", std::move(v));
      return set(out, std::move(o));
    }
    if (t == "ScalaOption" && c.size() == 1) {
      bool defined = r_.boolean();
      Value v;
      if (defined && !value(c[0], v, depth + 1)) return false;
      return set(out, std::move(v));
    }
    if (t == "Timer" && c.size() == 2) {
      int64_t ts = r_.i64() ^ INT64_MIN;  // TimerSerializer flips the sign bit (sort order)
      Value key, ns;
      if (!value(c[0], key, depth + 1) || !value(c[1], ns, depth + 1)) return false;
      Value o = Value::object();
      o.add("timestamp", Value::integer(ts));
      o.add("key", std::move(key));
      o.add("namespace", std::move(ns));
      return set(out, std::move(o));
    }
    if (t == "LinkedList" && c.size() == 1) return composite_list(c[0], out, depth);
    // ExternalSerializer (table runtime): the internal serializer writes the converted value.
    if (t == "External" && c.size() == 1) return value(c[0], out, depth + 1);
    if (t == "StreamElement" && c.size() == 1) {
      // StreamElementSerializer: a tag byte; 0 record with timestamp, 1 record, 2 watermark.
      uint8_t tag = r_.u8();
      if (!r_.ok()) return false;
      Value o = Value::object();
      if (tag == 0 || tag == 2) o.add(tag == 0 ? "timestamp" : "watermark", Value::integer(r_.i64()));
      if (tag == 0 || tag == 1) {
        Value v;
        if (!value(c[0], v, depth + 1)) return false;
        o.add("value", std::move(v));
      } else if (tag != 2) {
        return fail("stream element tag " + std::to_string(tag) + " is not decoded");
      }
      return set(out, std::move(o));
    }
    return fail("values of " + n.class_name + " are not decoded");
  }

  bool composite_list(const SerializerNode& elem, Value& out, int depth) {
    // LinkedListSerializer (table runtime): int size, per element a null flag and the value.
    int32_t k = r_.i32();
    if (!r_.check_count(k, 1, "list elements")) return false;
    Value a = Value::array();
    for (int32_t i = 0; i < k; ++i) {
      bool is_null = r_.boolean();
      Value v;
      if (!is_null && !value(elem, v, depth + 1)) return false;
      a.add(std::move(v));
    }
    return set(out, std::move(a));
  }

  // Table runtime serializers: RowData is written as a BinaryRowData (int size, bytes).
  bool rowdata(const SerializerNode& n, const std::string& t, Value& out, int depth) {
    if (t == "RowData" || t == "BinaryRowData") {
      int32_t len = r_.i32();
      if (!r_.check_count(len, 1, "row bytes")) return false;
      std::string_view row = r_.bytes(static_cast<size_t>(len));
      if (!r_.ok()) return false;
      if (t == "BinaryRowData") return set(out, Value::bytes(row));
      return binary_row(n.children, row, out, depth);
    }
    if (t == "Timestamp" || t == "TimestampData") {
      int precision = std::atoi(n.detail.c_str());
      int64_t ms = r_.i64();
      int32_t nanos = precision > 3 ? r_.i32() : 0;
      if (nanos < 0 || nanos > 999999) return fail("TimestampData nanos out of range");
      return set(out, Value::string(timestamp_text(ms, nanos, false)));
    }
    if (t == "Decimal" || t == "DecimalData") {
      int precision = 0, scale = 0;
      if (std::sscanf(n.detail.c_str(), "%d, %d", &precision, &scale) != 2) return fail("decimal precision unknown");
      if (precision <= 18) return set(out, Value::number(with_scale(std::to_string(r_.i64()), scale)));
      int32_t len = r_.i32();
      if (!r_.check_count(len, 1, "decimal bytes")) return false;
      return set(out, Value::number(with_scale(big_integer_text(r_.bytes(static_cast<size_t>(len))), scale)));
    }
    return fail("values of " + n.class_name + " are not decoded");
  }

  // BinaryRowData: a null bit set (after 8 header bits, the row kind in the
  // first byte), then 8 bytes per field, little-endian; variable-length
  // fields hold offset << 32 | length into the row, or up to 7 bytes inline
  // (highest bit set, length in the next 7 bits).
  bool binary_row(const std::vector<SerializerNode>& fields, std::string_view row, Value& out, int depth) {
    size_t arity = fields.size();
    size_t null_bytes = ((arity + 63 + 8) / 64) * 8;
    if (row.size() < null_bytes + 8 * arity) return fail("BinaryRowData shorter than its fixed part");
    const uint8_t* p = reinterpret_cast<const uint8_t*>(row.data());
    Value o = Value::object();
    for (size_t i = 0; i < arity; ++i) {
      std::string name = "f" + std::to_string(i);
      size_t bit = i + 8;
      if (p[bit >> 3] & (1u << (bit & 7))) {
        o.add(std::move(name), Value::null());
        continue;
      }
      const uint8_t* f = p + null_bytes + 8 * i;
      const SerializerNode& s = fields[i];
      std::string t = short_type_name(s.class_name);
      uint64_t word = load_le64(f);
      auto var = [&](std::string_view* bytes) -> bool {
        if (word & (1ull << 63)) {
          size_t len = static_cast<size_t>((word >> 56) & 0x7F);
          if (len > 7) return fail("inline BinaryRowData field longer than 7 bytes");
          *bytes = row.substr(null_bytes + 8 * i, len);
          return true;
        }
        uint64_t off = word >> 32, len = word & 0xFFFFFFFFu;
        if (off > row.size() || len > row.size() - off) return fail("BinaryRowData field outside the row");
        *bytes = row.substr(static_cast<size_t>(off), static_cast<size_t>(len));
        return true;
      };
      Value v;
      if (t == "Long") v = Value::integer(static_cast<int64_t>(word));
      else if (t == "Int") v = Value::integer(static_cast<int32_t>(load_le32(f)));
      else if (t == "Short") v = Value::integer(static_cast<int16_t>(f[0] | f[1] << 8));
      else if (t == "Byte") v = Value::integer(static_cast<int8_t>(f[0]));
      else if (t == "Boolean") v = Value::boolean(f[0] != 0);
      else if (t == "Double") v = Value::real(bits_to_double(word));
      else if (t == "Float") v = Value::real(bits_to_float(load_le32(f)));
      else if (t == "StringData" || t == "byte[]" || t == "RawValueData") {
        std::string_view b;
        if (!var(&b)) return false;
        v = t == "StringData" ? Value::string(std::string(b)) : Value::bytes(b);
      } else if (t == "Timestamp" || t == "TimestampData") {
        int precision = std::atoi(s.detail.c_str());
        if (precision <= 3) {
          v = Value::string(timestamp_text(static_cast<int64_t>(word), 0, false));
        } else {
          uint64_t off = word >> 32;
          int64_t nanos = static_cast<int64_t>(word & 0xFFFFFFFFu);
          if (off + 8 > row.size() || nanos > 999999) return fail("BinaryRowData timestamp outside the row");
          v = Value::string(timestamp_text(static_cast<int64_t>(load_le64(p + off)), nanos, false));
        }
      } else if (t == "Decimal" || t == "DecimalData") {
        int precision = 0, scale = 0;
        if (std::sscanf(s.detail.c_str(), "%d, %d", &precision, &scale) != 2) return fail("decimal precision unknown");
        if (precision <= 18) {
          v = Value::number(with_scale(std::to_string(static_cast<int64_t>(word)), scale));
        } else {
          uint64_t off = word >> 32, len = word & 0xFFFFFFFFu;
          if (off > row.size() || len > row.size() - off) return fail("BinaryRowData decimal outside the row");
          v = Value::number(with_scale(big_integer_text(row.substr(off, len)), scale));
        }
      } else if (t == "RowData") {
        std::string_view b;
        if (!var(&b)) return false;
        if (!binary_row(s.children, b, v, depth + 1)) return false;
      } else {
        return fail("BinaryRowData field of " + s.class_name + " is not decoded");
      }
      o.add(std::move(name), std::move(v));
    }
    return set(out, std::move(o));
  }

  ByteReader& r_;
  std::string* why_;
};

}  // namespace

const Value* Value::get(std::string_view key) const {
  if (type != Type::kObject) return nullptr;
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

std::optional<std::string> read_java_string(ByteReader& r, bool* is_null) {
  if (is_null) *is_null = false;
  uint32_t len = 0;
  if (!read_string_value_varint(r, len)) return std::nullopt;
  if (len == 0) {
    if (is_null) *is_null = true;
    return std::string();
  }
  --len;
  if (!r.check_count(len, 1, "StringValue chars")) return std::nullopt;
  // UTF-16 chars to UTF-8 as they come: a high surrogate waits for its low half.
  std::string out;
  out.reserve(len);
  uint32_t high = 0;
  for (uint32_t i = 0; i < len; ++i) {
    uint32_t c = 0;
    if (!read_string_value_varint(r, c)) return std::nullopt;
    if (c > 0xFFFF) {
      r.fail("StringValue char above 0xFFFF");
      return std::nullopt;
    }
    if (high && c >= 0xDC00 && c <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((high - 0xD800) << 10) + (c - 0xDC00));
      high = 0;
      continue;
    }
    if (high) append_utf8(out, high);  // a lone high surrogate, kept as its 3-byte form
    high = c >= 0xD800 && c <= 0xDBFF ? c : 0;
    if (!high) append_utf8(out, c);
  }
  if (high) append_utf8(out, high);
  return out;
}

bool decode_value(const SerializerNode& n, ByteReader& r, Value& out, std::string* why) {
  Decoder d(r, why);
  bool ok = d.value(n, out, 0);
  if (!ok && why && why->empty() && !r.ok()) *why = r.error().message;
  return ok && r.ok();
}

int32_t fixed_length(const SerializerNode& n) {
  std::string t = short_type_name(n.class_name);
  if (n.kind == "simple") {
    bool core = starts_with(n.class_name, "org.apache.flink.api.common.typeutils.base.");
    if (core) {
      if (t == "Long" || t == "Double" || t == "Date" || t == "SqlDate" || t == "SqlTime") return 8;
      if (t == "Int" || t == "Float") return 4;
      if (t == "Short" || t == "Char") return 2;
      if (t == "Byte" || t == "Boolean" || t == "Void") return 1;
      if (t == "SqlTimestamp" || t == "Instant") return 12;
      if (t == "LocalDate") return 6;
      if (t == "LocalTime") return 7;
      if (t == "LocalDateTime") return 13;
      return -1;
    }
    if (t == "VoidNamespace") return 1;
    if (t == "TimeWindow") return 16;
    if (t == "GlobalWindow") return 0;
    if (t == "CountWindow" || t == "SortedLong") return 8;
    return -1;
  }
  if (n.kind == "enum") return 4;
  if (n.kind == "composite" && t == "Tuple") {
    int32_t sum = 0;
    for (auto& c : n.children) {
      int32_t l = fixed_length(c);
      if (l < 0) return -1;
      sum += l;
    }
    return sum;
  }
  return -1;
}

bool is_void_namespace(const SerializerNode& n) { return short_type_name(n.class_name) == "VoidNamespace"; }

std::string serializer_label(const SerializerNode& n) {
  std::string_view s = n.written_class();
  if (auto p = s.rfind('.'); p != std::string_view::npos) s = s.substr(p + 1);
  if (auto p = s.find('$'); p != std::string_view::npos) s = s.substr(0, p);
  std::string out(s);
  if (!n.detail.empty() && (n.kind == "kryo" || n.kind == "avro" || n.kind == "pojo" || n.kind == "enum"))
    out += "<" + n.detail + ">";
  return out;
}

}  // namespace fsp::state
