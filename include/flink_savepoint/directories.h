// Directories for writers that put many files below one (copy, archive
// unpacking): part of the file-system seam (file_system.h).
#pragma once

#include <string>

#include "flink_savepoint/result.h"

namespace fsp::io {

// Makes a local directory and its missing parents (mkdir -p) so that a
// FileSystem's create() can write below it. Object stores (s3://, gs://, any
// registered scheme) have no directories: nothing to do there.
Status create_directories(const std::string& uri);

}  // namespace fsp::io
