// A streaming JSON writer: values go straight into a buffered output, no
// document tree. The layout is exactly nlohmann::json's dump(indent) (and
// dump() for indent < 0: JSON Lines), so a command can move from a DOM to
// streaming without changing one byte of its output: 2-space indentation,
// "key": value, [] and {} for empty containers. Keys are written in the
// order given: callers that promise alphabetical order (docs/json.md) write
// them sorted.
//
// Every string goes through the one output conversion (display.h): modified
// UTF-8 and UTF-8 decoded, control characters escaped, invalid bytes shown as
// \xHH. Nothing throws on any input.
//
//   JsonWriter w(std::cout);
//   w.begin_object();
//   w.field("count", 3);
//   w.key("items"); w.begin_array(); w.value("a"); w.end_array();
//   w.end_object();
//   w.newline();  // the "\n" after the document; also flushes
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/display.h"

namespace fsp {

class JsonWriter {
 public:
  // indent >= 0: pretty (nlohmann dump(indent)); < 0: one line (dump()).
  explicit JsonWriter(std::ostream& out, int indent = 2);
  // Appends to `out` (for tests and small documents) when flushed, at the
  // latest by the destructor.
  explicit JsonWriter(std::string& out, int indent = 2);
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // An object key (converted like every string).
  void key(std::string_view k) {
    before_value();
    string(k);
    if (indent_ < 0) {
      *room(1) = ':';
      pos_ += 1;
    } else {
      char* p = room(2);
      p[0] = ':';
      p[1] = ' ';
      pos_ += 2;
    }
    after_key_ = true;
  }

  void value(std::string_view s) {
    before_value();
    string(s);
  }
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(bool b) {
    before_value();
    put(b ? std::string_view("true") : std::string_view("false"));
  }
  void value(int32_t v) { value(static_cast<int64_t>(v)); }
  void value(int64_t v) {
    before_value();
    char* p = room(24);
    pos_ = std::to_chars(p, p + 24, v).ptr;
  }
  void value(uint32_t v) { value(static_cast<uint64_t>(v)); }
  void value(uint64_t v) {
    before_value();
    char* p = room(24);
    pos_ = std::to_chars(p, p + 24, v).ptr;
  }
  void value(long long v) { value(static_cast<int64_t>(v)); }
  void value(unsigned long long v) { value(static_cast<uint64_t>(v)); }
  void value(double v);  // formatted as nlohmann does (shortest round trip, ".0" for integral values)
  void null() {
    before_value();
    put("null");
  }
  // A string, or null when empty.
  void string_or_null(std::string_view s) {
    if (s.empty()) null();
    else value(s);
  }
  // A small nlohmann document, written as its dump(indent) would be, except
  // that every string goes through the one conversion (no exception on bytes
  // that are not UTF-8).
  void value(const nlohmann::json& j);
  // Text that is already valid JSON for one value (e.g. a small nlohmann
  // document's dump(): its lines are re-indented to the current depth).
  void raw_value(std::string_view json);

  template <typename T>
  void field(std::string_view k, const T& v) {
    key(k);
    value(v);
  }
  void null_field(std::string_view k) {
    key(k);
    null();
  }

  // A line break after a top-level document (JSON Lines / the final "\n"), then flush.
  void newline();
  // Hands the buffered bytes to the output.
  void flush();

 private:
  // Room for n more bytes at pos_ (n <= kBuffer): the buffer starts small
  // (one-line documents), grows up to kBuffer, then is flushed when full.
  char* room(size_t n) {
    if (static_cast<size_t>(end_ - pos_) < n) make_room(n);
    return pos_;
  }
  void make_room(size_t n);
  void put(std::string_view s) {
    if (s.empty()) return;  // an empty view may carry a null data()
    if (s.size() > kBuffer) return put_large(s);
    std::memcpy(room(s.size()), s.data(), s.size());
    pos_ += s.size();
  }
  void put_large(std::string_view s);
  // A JSON string literal: plain strings are copied, others converted (display.h).
  void string(std::string_view s) {
    if (s.size() + 2 <= kBuffer && json_plain_prefix(s) == s.size()) {
      char* p = room(s.size() + 2);
      *p = '"';
      if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
      p[s.size() + 1] = '"';
      pos_ = p + s.size() + 2;
      return;
    }
    converted_string(s);
  }
  void converted_string(std::string_view s);
  void before_value() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (has_element_.empty()) return;  // the top-level value
    next_element();
  }
  void next_element();  // "," unless it is the first, then the line break
  void indent_line();
  void open(char c) {
    before_value();
    *room(1) = c;
    ++pos_;
    has_element_.push_back(0);
  }
  void close(char c) {
    bool any = has_element_.back();
    has_element_.pop_back();
    if (any) indent_line();
    *room(1) = c;
    ++pos_;
  }

  static constexpr size_t kBuffer = size_t{1} << 20;
  static constexpr size_t kFirstBuffer = size_t{4} << 10;
  std::ostream* stream_ = nullptr;
  std::string* string_ = nullptr;
  std::unique_ptr<char[]> buf_;
  char* pos_ = nullptr;
  char* end_ = nullptr;
  int indent_;
  // Per open container: whether it has an element yet.
  std::vector<char> has_element_;
  bool after_key_ = false;
  std::string scratch_;  // converted strings
};


}  // namespace fsp
