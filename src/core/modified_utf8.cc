#include "flink_savepoint/modified_utf8.h"

#include <cstdint>

namespace fsp {
namespace {

bool is_ascii_without_nul(std::string_view s) {
  for (unsigned char c : s)
    if (c == 0 || c >= 0x80) return false;
  return true;
}

}  // namespace

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string modified_utf8_to_utf8(std::string_view m) {
  if (is_ascii_without_nul(m)) return std::string(m);
  std::string out;
  out.reserve(m.size());
  const auto* p = reinterpret_cast<const unsigned char*>(m.data());
  size_t n = m.size(), i = 0;
  auto unit = [&](uint32_t& cu) -> bool {  // one UTF-16 code unit
    if (i >= n) return false;
    unsigned char a = p[i];
    if (a < 0x80) { cu = a; i += 1; return true; }
    if ((a & 0xE0) == 0xC0 && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
      cu = ((a & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu); i += 2; return true;
    }
    if ((a & 0xF0) == 0xE0 && i + 2 < n && (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
      cu = ((a & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu); i += 3; return true;
    }
    cu = 0xFFFD; i += 1; return true;
  };
  while (i < n) {
    uint32_t cu = 0;
    unit(cu);
    if (cu >= 0xD800 && cu <= 0xDBFF) {
      size_t save = i;
      uint32_t lo = 0;
      if (unit(lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((cu - 0xD800) << 10) + (lo - 0xDC00));
        continue;
      }
      i = save;
      cu = 0xFFFD;
    } else if (cu >= 0xDC00 && cu <= 0xDFFF) {
      cu = 0xFFFD;
    }
    append_utf8(out, cu);
  }
  return out;
}

std::string utf8_to_modified_utf8(std::string_view u) {
  if (is_ascii_without_nul(u)) return std::string(u);
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(u.data());
  size_t n = u.size(), i = 0;
  while (i < n) {
    unsigned char a = p[i];
    uint32_t cp;
    if (a < 0x80) { cp = a; i += 1; }
    else if ((a & 0xE0) == 0xC0 && i + 1 < n) { cp = ((a & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu); i += 2; }
    else if ((a & 0xF0) == 0xE0 && i + 2 < n) { cp = ((a & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu); i += 3; }
    else if ((a & 0xF8) == 0xF0 && i + 3 < n) {
      cp = ((a & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) | (p[i + 3] & 0x3Fu); i += 4;
    } else { cp = 0xFFFD; i += 1; }
    if (cp == 0) {
      out += "\xC0\x80";
    } else if (cp >= 0x10000) {
      uint32_t v = cp - 0x10000;
      append_utf8(out, 0xD800 + (v >> 10));
      append_utf8(out, 0xDC00 + (v & 0x3FF));
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
}

}  // namespace fsp
