// The streaming JSON writer (see flink_savepoint/json_writer.h).
#include "flink_savepoint/json_writer.h"

#include <nlohmann/json.hpp>

namespace fsp {

JsonWriter::JsonWriter(std::ostream& out, int indent)
    : stream_(&out), buf_(std::make_unique_for_overwrite<char[]>(kFirstBuffer)), indent_(indent) {
  pos_ = buf_.get();
  end_ = pos_ + kFirstBuffer;
}

JsonWriter::JsonWriter(std::string& out, int indent)
    : string_(&out), buf_(std::make_unique_for_overwrite<char[]>(kFirstBuffer)), indent_(indent) {
  pos_ = buf_.get();
  end_ = pos_ + kFirstBuffer;
}

void JsonWriter::make_room(size_t n) {
  size_t used = static_cast<size_t>(pos_ - buf_.get()), capacity = static_cast<size_t>(end_ - buf_.get());
  if (capacity < kBuffer) {
    size_t grown = capacity;
    while (grown < kBuffer && grown - used < n) grown *= 2;
    if (grown - used >= n) {
      auto bigger = std::make_unique_for_overwrite<char[]>(grown);
      std::memcpy(bigger.get(), buf_.get(), used);
      buf_ = std::move(bigger);
      pos_ = buf_.get() + used;
      end_ = buf_.get() + grown;
      return;
    }
    // Even a full-size buffer is too small with what it holds: flush into the
    // larger buffer's place below.
    buf_ = [&] {
      auto full = std::make_unique_for_overwrite<char[]>(kBuffer);
      std::memcpy(full.get(), buf_.get(), used);
      return full;
    }();
    pos_ = buf_.get() + used;
    end_ = buf_.get() + kBuffer;
  }
  flush();
}

JsonWriter::~JsonWriter() { flush(); }

void JsonWriter::flush() {
  size_t n = static_cast<size_t>(pos_ - buf_.get());
  if (n == 0) return;
  if (stream_) stream_->write(buf_.get(), static_cast<std::streamsize>(n));
  else string_->append(buf_.get(), n);
  pos_ = buf_.get();
}

void JsonWriter::put_large(std::string_view s) {
  flush();
  if (stream_) stream_->write(s.data(), static_cast<std::streamsize>(s.size()));
  else string_->append(s);
}

void JsonWriter::converted_string(std::string_view s) {
  scratch_.clear();
  append_json_string(scratch_, s);
  put(scratch_);
}

void JsonWriter::indent_line() {
  if (indent_ < 0) return;
  size_t n = has_element_.size() * static_cast<size_t>(indent_);
  if (n + 1 > kBuffer) {  // absurd depths: a line at a time
    put("\n");
    std::string pad(n, ' ');
    put(pad);
    return;
  }
  char* p = room(n + 1);
  *p = '\n';
  std::memset(p + 1, ' ', n);
  pos_ = p + n + 1;
}

void JsonWriter::next_element() {
  char& any = has_element_.back();
  if (any) {
    *room(1) = ',';
    ++pos_;
  }
  any = 1;
  indent_line();
}

void JsonWriter::value(double v) {
  before_value();
  put(nlohmann::json(v).dump());  // nlohmann's number format (rare values: no need to copy its algorithm)
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
    put(json);
    return;
  }
  // Re-indent a pretty-printed document's continuation lines to this depth.
  std::string pad(has_element_.size() * static_cast<size_t>(indent_), ' ');
  size_t start = 0;
  while (start <= json.size()) {
    size_t nl = json.find('\n', start);
    std::string_view line = json.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (start > 0) {
      put("\n");
      put(pad);
    }
    put(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
}

void JsonWriter::newline() {
  put("\n");
  flush();
}

}  // namespace fsp
