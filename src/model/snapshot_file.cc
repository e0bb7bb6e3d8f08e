#include "flink_savepoint/snapshot_file.h"

#include <atomic>
#include <memory>

#include "flink_savepoint/file_system.h"

namespace fsp {

namespace {
std::atomic<uint64_t> g_last_opened_size{0};
}  // namespace

uint64_t last_opened_snapshot_size() { return g_last_opened_size.load(std::memory_order_relaxed); }

std::string out_of_memory_hint(uint64_t file_size) {
  auto mib = [](uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20); };
  // Measured (bench/README.md): the mapped file plus a model of about 0.7x
  // its size; reading state files or writing adds little beyond that.
  uint64_t need = file_size * 2 + (64ull << 20);
  return "this command needs about " + mib(need) + " MiB for a " + mib(file_size) +
         " MiB _metadata (the mapped file, about 1x, plus the decoded model, under 1x); raise the memory limit "
         "(ulimit -v) to at least that";
}

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
    std::string p = io::join_uri(path, "_metadata");
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
  g_last_opened_size.store(sf.file_size, std::memory_order_relaxed);
  auto s = decode_metadata(*fb, options);  // the snapshot keeps the buffer
  if (!s) {
    Error e = s.take_error();
    if (e.where.empty()) e.where = sf.metadata_path;
    else e.where = sf.metadata_path + ": " + e.where;
    return e;
  }
  sf.snapshot = std::move(*s);
  return sf;
}

}  // namespace fsp
