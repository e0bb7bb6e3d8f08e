// The streaming JSON writer (see flink_savepoint/json_writer.h).
#include "flink_savepoint/json_writer.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "flink_savepoint/display.h"

namespace fsp {

JsonWriter::JsonWriter(std::ostream& out, int indent) : stream_(&out), buf_(own_), indent_(indent) {
  buf_.reserve(kFlushAt + 4096);
}

JsonWriter::JsonWriter(std::string& out, int indent) : buf_(out), indent_(indent) {}

JsonWriter::~JsonWriter() { flush(); }

void JsonWriter::flush() {
  if (stream_ && !buf_.empty()) {
    stream_->write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }
}

void JsonWriter::indent_line() {
  if (indent_ < 0) return;
  buf_.push_back('\n');
  buf_.append(has_element_.size() * static_cast<size_t>(indent_), ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_element_.empty()) return;  // the top-level value
  if (has_element_.back()) buf_.push_back(',');
  has_element_.back() = true;
  indent_line();
}

void JsonWriter::key(std::string_view k) {
  before_value();
  append_json_string(buf_, k);
  buf_ += indent_ < 0 ? ":" : ": ";
  after_key_ = true;
}

void JsonWriter::begin_object() {
  before_value();
  buf_.push_back('{');
  has_element_.push_back(false);
}

void JsonWriter::begin_array() {
  before_value();
  buf_.push_back('[');
  has_element_.push_back(false);
}

void JsonWriter::end_object() {
  bool any = has_element_.back();
  has_element_.pop_back();
  if (any) indent_line();
  buf_.push_back('}');
  maybe_flush();
}

void JsonWriter::end_array() {
  bool any = has_element_.back();
  has_element_.pop_back();
  if (any) indent_line();
  buf_.push_back(']');
  maybe_flush();
}

void JsonWriter::value(std::string_view s) {
  before_value();
  append_json_string(buf_, s);
  maybe_flush();
}

void JsonWriter::string_or_null(std::string_view s) {
  if (s.empty()) null();
  else value(s);
}

void JsonWriter::value(bool b) {
  before_value();
  buf_ += b ? "true" : "false";
}

void JsonWriter::null() {
  before_value();
  buf_ += "null";
}

void JsonWriter::value(int64_t v) {
  before_value();
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void JsonWriter::value(uint64_t v) {
  before_value();
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  buf_.append(tmp, r.ptr);
}

void JsonWriter::value(double v) {
  before_value();
  buf_ += nlohmann::json(v).dump();  // nlohmann's number format (rare values: no need to copy its algorithm)
}

void JsonWriter::value(const nlohmann::json& j) {
  using T = nlohmann::json::value_t;
  switch (j.type()) {
    case T::null:
    case T::discarded: null(); return;
    case T::boolean: value(j.get<bool>()); return;
    case T::number_integer: value(j.get<int64_t>()); return;
    case T::number_unsigned: value(j.get<uint64_t>()); return;
    case T::number_float: value(j.get<double>()); return;
    case T::string: value(std::string_view(j.get_ref<const std::string&>())); return;
    case T::binary: value(std::string_view("<binary>")); return;
    case T::array:
      begin_array();
      for (const auto& e : j) value(e);
      end_array();
      return;
    case T::object:
      begin_object();
      for (auto it = j.begin(); it != j.end(); ++it) {
        key(it.key());
        value(it.value());
      }
      end_object();
      return;
  }
}

void JsonWriter::raw_value(std::string_view json) {
  before_value();
  if (indent_ < 0) {
    buf_.append(json);
    return;
  }
  // Re-indent a pretty-printed document's continuation lines to this depth.
  std::string pad(has_element_.size() * static_cast<size_t>(indent_), ' ');
  size_t start = 0;
  while (start <= json.size()) {
    size_t nl = json.find('\n', start);
    std::string_view line = json.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (start > 0) {
      buf_.push_back('\n');
      buf_ += pad;
    }
    buf_.append(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  maybe_flush();
}

void JsonWriter::newline() {
  buf_.push_back('\n');
  flush();
}

}  // namespace fsp
