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

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace fsp {

class JsonWriter {
 public:
  // indent >= 0: pretty (nlohmann dump(indent)); < 0: one line (dump()).
  explicit JsonWriter(std::ostream& out, int indent = 2);
  // Writes into `out` (for tests and small documents); flush() is a no-op.
  explicit JsonWriter(std::string& out, int indent = 2);
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // An object key (converted like every string).
  void key(std::string_view k);

  void value(std::string_view s);
  void value(const char* s) { value(std::string_view(s)); }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(bool b);
  void value(int32_t v) { value(static_cast<int64_t>(v)); }
  void value(int64_t v);
  void value(uint32_t v) { value(static_cast<uint64_t>(v)); }
  void value(uint64_t v);
  void value(long long v) { value(static_cast<int64_t>(v)); }
  void value(unsigned long long v) { value(static_cast<uint64_t>(v)); }
  void value(double v);  // formatted as nlohmann does (shortest round trip, ".0" for integral values)
  void null();
  // A string, or null when empty.
  void string_or_null(std::string_view s);
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
  void before_value();
  void indent_line();
  void maybe_flush() {
    if (stream_ && buf_.size() >= kFlushAt) flush();
  }

  static constexpr size_t kFlushAt = 1 << 20;
  std::ostream* stream_ = nullptr;
  std::string own_;
  std::string& buf_;
  int indent_;
  // Per open container: whether it has an element yet.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace fsp
