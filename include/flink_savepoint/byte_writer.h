// Big-endian writer mirroring ByteReader (Java DataOutputStream layout).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fsp {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u16(uint16_t v) {
    char b[2] = {char(v >> 8), char(v)};
    out_.append(b, 2);
  }
  void i32(int32_t x) {
    uint32_t v = static_cast<uint32_t>(x);
    char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    out_.append(b, 4);
  }
  void i64(int64_t x) {
    uint64_t v = static_cast<uint64_t>(x);
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = char(v >> (56 - 8 * i));
    out_.append(b, 8);
  }
  // Raw modified-UTF-8 bytes with Java's 2-byte length. The caller checks the
  // 65535-byte limit beforehand (see check_utf_length).
  void utf(std::string_view raw) {
    u16(static_cast<uint16_t>(raw.size()));
    out_.append(raw);
  }
  void bytes(std::string_view raw) { out_.append(raw); }
  size_t size() const { return out_.size(); }

 private:
  std::string& out_;
};

}  // namespace fsp
