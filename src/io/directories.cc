// io::create_directories (include/flink_savepoint/directories.h).
#include "flink_savepoint/directories.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "flink_savepoint/file_system.h"

namespace fsp::io {

Status create_directories(const std::string& uri) {
  std::string scheme = uri_scheme(uri);
  if (!scheme.empty() && scheme != "file") return {};  // object stores: keys, no directories
  std::string p = normalize_local(uri);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.empty() || p == "." || p == "/") return {};
  struct stat st {};
  if (::stat(p.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return Error::cant_create("cannot create the directory " + p + ": it exists and is not a directory");
  }
  std::string parent = parent_uri(p);
  if (parent != p) {
    Status s = create_directories(parent);
    if (!s) return s;
  }
  if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST)
    return Error::cant_create("cannot create the directory " + p + ": " + std::strerror(errno));
  return {};
}

}  // namespace fsp::io
