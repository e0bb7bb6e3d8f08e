#include <string>

#include "flink_savepoint/result.h"

namespace fsp {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kCorrupt: return "corrupt";
    case ErrorKind::kTruncated: return "truncated";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kMissingInput: return "missing input";
    case ErrorKind::kIo: return "I/O";
    case ErrorKind::kUsage: return "usage";
    case ErrorKind::kCannotCreate: return "cannot create";
    case ErrorKind::kOutOfMemory: return "out of memory";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

std::string Error::to_string() const {
  std::string s = message;
  if (offset) s += " at byte " + std::to_string(*offset);
  if (!where.empty()) s += " (" + where + ")";
  return s;
}

}  // namespace fsp
