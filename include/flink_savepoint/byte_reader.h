// A cursor over a byte buffer with a sticky error (in the manner of LLVM's
// DataExtractor::Cursor). Reads are big-endian like Java's DataInputStream.
// After the first failure every read returns a zero value and the first
// error, with its byte offset and "where" context, is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "flink_savepoint/result.h"

namespace fsp {

// Something that can say where in the file the decoder is, e.g.
// "operator #2 (id ...), subtask 1, managed keyed state". Only asked on error.
class ErrorContext {
 public:
  virtual ~ErrorContext() = default;
  virtual std::string describe() const = 0;
};

class ByteReader {
 public:
  ByteReader() = default;
  ByteReader(const uint8_t* data, size_t size, uint64_t base_offset = 0)
      : data_(data), size_(size), base_(base_offset) {}
  explicit ByteReader(std::string_view bytes, uint64_t base_offset = 0)
      : ByteReader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), base_offset) {}

  void set_context(const ErrorContext* ctx) { ctx_ = ctx; }

  bool ok() const { return !error_.has_value(); }
  size_t pos() const { return pos_; }
  // Offset in the enclosing file (pos + the base offset given at construction).
  uint64_t file_offset() const { return base_ + pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  bool at_end() const { return pos_ >= size_; }
  const uint8_t* data() const { return data_; }
  const Error& error() const { return *error_; }
  Error take_error() { return std::move(*error_); }

  // Records the first error at the current offset (or the given one).
  // The kind defaults to kCorrupt; running out of bytes is kTruncated.
  void fail(std::string message) { fail_at(pos_, std::move(message)); }
  void fail_at(size_t pos, std::string message, ErrorKind kind = ErrorKind::kCorrupt);
  // A value the format allows but this tool (or Flink) does not read.
  void fail_unsupported_at(size_t pos, std::string message) { fail_at(pos, std::move(message), ErrorKind::kUnsupported); }

  uint8_t u8() {
    if (!need(1, "a byte")) return 0;
    return data_[pos_++];
  }
  int8_t i8() { return static_cast<int8_t>(u8()); }
  bool boolean() { return u8() != 0; }
  uint16_t u16() {
    if (!need(2, "a 2-byte short")) return 0;
    uint16_t v = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  int16_t i16() { return static_cast<int16_t>(u16()); }
  int32_t i32() {
    if (!need(4, "a 4-byte int")) return 0;
    uint32_t v = load_be32(data_ + pos_);
    pos_ += 4;
    return static_cast<int32_t>(v);
  }
  int64_t i64() {
    if (!need(8, "an 8-byte long")) return 0;
    uint64_t v = load_be64(data_ + pos_);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  // A Java writeUTF string: 2-byte length, then modified UTF-8. Returned as a
  // view of the raw bytes (no decoding, no copy).
  std::string_view utf() {
    uint16_t n = u16();
    return bytes(n, "string bytes");
  }
  // n bytes as a view into the buffer.
  std::string_view bytes(size_t n, const char* what = "bytes") {
    if (!need(n, what)) return {};
    std::string_view v(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return v;
  }
  void skip(size_t n) { (void)bytes(n, "bytes to skip"); }

  // Validates a count read from the input before anything is allocated for
  // it: it must be >= 0 and each element needs at least min_element_bytes of
  // what remains. Returns false (and fails) otherwise: a negative count is
  // kCorrupt, one past the end `past_end` (kTruncated: the input ends before
  // the data it announces).
  bool check_count(int64_t count, size_t min_element_bytes, const char* what,
                   ErrorKind past_end = ErrorKind::kTruncated);

  static uint32_t load_be32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
  }
  static uint64_t load_be64(const uint8_t* p) {
    return (uint64_t(load_be32(p)) << 32) | load_be32(p + 4);
  }

 private:
  // The hot check is inlined; building the message is kept out of line.
  bool need(size_t n, const char* what) {
    if (__builtin_expect(!error_.has_value() && size_ - pos_ >= n, 1)) return true;
    return fail_need(n, what);
  }
  [[gnu::cold, gnu::noinline]] bool fail_need(size_t n, const char* what);

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  uint64_t base_ = 0;
  const ErrorContext* ctx_ = nullptr;
  std::optional<Error> error_;
};

}  // namespace fsp
