#include "flink_savepoint/snapshot_file.h"

#include <memory>

#include "flink_savepoint/file_system.h"

namespace fsp {

Result<std::string> resolve_metadata_path(const std::string& path) {
  if (path == "-") return path;
  auto fs = io::file_system_for(path);
  if (!fs) return fs.take_error();
  auto st = (*fs)->stat(path);
  if (!st) {
    Error e = st.take_error();
    if (e.kind != ErrorKind::kNoInput) return e;
    auto colon = e.message.rfind(": ");
    return Error::no_input("cannot find checkpoint or savepoint file/directory '" + path + "'" +
                           (colon == std::string::npos ? std::string() : e.message.substr(colon)));
  }
  if (st->is_directory) {
    std::string p = path;
    if (!p.empty() && p.back() != '/') p += '/';
    p += "_metadata";
    if (!(*fs)->stat(p)) {
      Error e = Error::no_input("cannot find meta data file '_metadata' in directory '" + path + "'");
      e.hint = "point at the _metadata file itself, or at the savepoint/checkpoint directory (chk-N) that holds it";
      return e;
    }
    return p;
  }
  return path;
}

Result<SnapshotFile> open_snapshot(const std::string& path, const DecodeOptions& options) {
  auto mp = resolve_metadata_path(path);
  if (!mp) return mp.take_error();
  auto fb = io::read_file(*mp);
  if (!fb) return fb.take_error();
  SnapshotFile sf;
  sf.metadata_path = *mp;
  if (*mp != "-") sf.directory = io::parent_uri(*mp);
  sf.file_size = (*fb)->bytes().size();
  auto s = decode_metadata((*fb)->bytes(), options);
  if (!s) {
    Error e = s.take_error();
    if (e.where.empty()) e.where = sf.metadata_path;
    else e.where = sf.metadata_path + ": " + e.where;
    return e;
  }
  sf.snapshot = std::move(*s);
  sf.snapshot.backing = *fb;
  return sf;
}

}  // namespace fsp
