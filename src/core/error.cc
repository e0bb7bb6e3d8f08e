#include <string>

#include "flink_savepoint/result.h"

namespace fsp {

std::string Error::to_string() const {
  std::string s = message;
  if (offset) s += " at byte " + std::to_string(*offset);
  if (!where.empty()) s += " (" + where + ")";
  return s;
}

}  // namespace fsp
