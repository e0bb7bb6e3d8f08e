// The one conversion of stored strings for output (see flink_savepoint/display.h).
#include "flink_savepoint/display.h"

#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "flink_savepoint/modified_utf8.h"

namespace fsp {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

// What one step of decoding found.
enum class Kind { kChar, kInvalidByte, kLoneSurrogate };
struct Step {
  Kind kind;
  uint32_t value;  // code point, the invalid byte, or the surrogate
  size_t length;   // bytes consumed
};

bool cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// One sequence at p[0..n): 1-3 byte modified UTF-8 / UTF-8 (C0 80 included),
// a surrogate pair, or a 4-byte UTF-8 sequence.
Step next(const unsigned char* p, size_t n) {
  unsigned char a = p[0];
  if (a < 0x80) return {Kind::kChar, a, 1};
  if ((a & 0xE0) == 0xC0 && n >= 2 && cont(p[1])) {
    uint32_t cp = ((a & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    if (cp >= 0x80 || cp == 0) return {Kind::kChar, cp, 2};  // C0 80 is Java's U+0000; other overlongs are invalid
    return {Kind::kInvalidByte, a, 1};
  }
  if ((a & 0xF0) == 0xE0 && n >= 3 && cont(p[1]) && cont(p[2])) {
    uint32_t cp = ((a & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    if (cp < 0x800) return {Kind::kInvalidByte, a, 1};
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (n >= 6 && p[3] == 0xED && (p[4] & 0xF0) == 0xB0 && cont(p[5])) {
        uint32_t lo = 0xD000u | ((p[4] & 0x3Fu) << 6) | (p[5] & 0x3Fu);
        return {Kind::kChar, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), 6};
      }
      return {Kind::kLoneSurrogate, cp, 3};
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) return {Kind::kLoneSurrogate, cp, 3};
    return {Kind::kChar, cp, 3};
  }
  if ((a & 0xF8) == 0xF0 && n >= 4 && cont(p[1]) && cont(p[2]) && cont(p[3])) {
    uint32_t cp = ((a & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {Kind::kChar, cp, 4};
  }
  return {Kind::kInvalidByte, a, 1};
}

bool is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

void put_x(std::string& out, uint32_t byte) {
  out += "\\x";
  out.push_back(kHexUpper[(byte >> 4) & 0xF]);
  out.push_back(kHexUpper[byte & 0xF]);
}

void put_u4(std::string& out, uint32_t v, const char* hex) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(hex[(v >> shift) & 0xF]);
}

// Fast path: printable ASCII, nothing to do but copy (and JSON-escape " and \).
inline bool plain_byte(unsigned char c) { return c >= 0x20 && c < 0x7F; }

// The length of the leading run of p[0..n) that is copied as is: printable
// ASCII (0x20-0x7E), for JSON also without '"' and '\\'. 16 bytes at a time
// where SSE2 is there (every x86-64), a byte at a time elsewhere and for the tail.
template <bool kJson>
size_t plain_prefix(const unsigned char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7F);
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed compare: bytes 0x80-0xFF are negative, so "< 0x20" catches them with the C0 controls.
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del));
    if constexpr (kJson) bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (int mask = _mm_movemask_epi8(bad)) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < n; ++i) {
    unsigned char c = p[i];
    if (!plain_byte(c)) return i;
    if constexpr (kJson)
      if (c == '"' || c == '\\') return i;
  }
  return n;
}

template <bool kJson>
void convert(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    size_t run = i + plain_prefix<kJson>(p + i, n - i);
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i >= n) break;
    }
    Step st = next(p + i, n - i);
    i += st.length;
    switch (st.kind) {
      case Kind::kInvalidByte:
        if constexpr (kJson) out.push_back('\\');  // the text \xA0 inside a JSON string
        put_x(out, st.value);
        continue;
      case Kind::kLoneSurrogate:
        if constexpr (kJson) out.push_back('\\');
        put_u4(out, st.value, kHexUpper);
        continue;
      case Kind::kChar:
        break;
    }
    uint32_t cp = st.value;
    if constexpr (kJson) {
      switch (cp) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\b': out += "\\b"; continue;
        case '\f': out += "\\f"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        default: break;
      }
      if (is_control(cp)) {
        put_u4(out, cp, kHex);
        continue;
      }
    } else {
      switch (cp) {
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        default: break;
      }
      if (is_control(cp)) {
        if (cp < 0x80) put_x(out, cp);
        else put_u4(out, cp, kHex);
        continue;
      }
    }
    append_utf8(out, cp);
  }
}

}  // namespace

bool is_plain_text(std::string_view s) {
  return plain_prefix<false>(reinterpret_cast<const unsigned char*>(s.data()), s.size()) == s.size();
}

size_t json_plain_prefix(std::string_view s) {
  return plain_prefix<true>(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

void append_display(std::string& out, std::string_view s) { convert<false>(out, s); }

std::string display(std::string_view s) {
  if (is_plain_text(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  convert<false>(out, s);
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  convert<true>(out, s);
  out.push_back('"');
}

}  // namespace fsp
