// What a file that is not a Flink _metadata file most likely is: empty,
// compressed (gzip, zstd, xz, bzip2), an archive (zip/jar, tar), text or JSON,
// so that the error says what to do instead of "wrong magic number".
#pragma once

#include <string>
#include <string_view>

namespace fsp {

struct ForeignFile {
  std::string what;  // "" when nothing is recognised; e.g. "gzip-compressed data"
  std::string hint;  // what to do
};

ForeignFile identify_foreign_file(std::string_view bytes);

}  // namespace fsp
