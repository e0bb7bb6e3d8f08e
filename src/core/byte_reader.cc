// Out-of-line members of ByteReader (byte_reader.h): building error messages.
#include "flink_savepoint/byte_reader.h"

#include <string>

namespace fsp {

void ByteReader::fail_at(size_t pos, std::string message, ErrorKind kind) {
  if (error_) return;
  Error e;
  e.kind = kind;
  e.message = std::move(message);
  e.offset = base_ + pos;
  if (ctx_) e.where = ctx_->describe();
  error_ = std::move(e);
  pos_ = size_;  // nothing more is read after an error
}

bool ByteReader::fail_need(size_t n, const char* what) {
  if (error_) return false;
  fail_at(pos_, std::string("unexpected end of data: expected ") + what + " (" + std::to_string(n) + " bytes), " +
               std::to_string(size_ - pos_) + " left",
          ErrorKind::kTruncated);
  return false;
}

bool ByteReader::check_count(int64_t count, size_t min_element_bytes, const char* what, ErrorKind past_end) {
  if (error_) return false;
  if (count < 0) {
    fail_at(pos_ >= 4 ? pos_ - 4 : pos_, std::string("negative count of ") + what + ": " + std::to_string(count));
    return false;
  }
  if (min_element_bytes > 0 && static_cast<uint64_t>(count) > remaining() / min_element_bytes) {
    fail_at(pos_ >= 4 ? pos_ - 4 : pos_,
            std::string("count of ") + what + " (" + std::to_string(count) + ") needs more bytes than remain (" +
                std::to_string(remaining()) + ")",
            past_end);
    return false;
  }
  return true;
}

}  // namespace fsp
