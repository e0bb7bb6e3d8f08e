// Copying a snapshot with exactly its files (include/flink_savepoint/copy.h,
// docs/copy.md): relocate() rewrites the paths, the seam moves the bytes.
#include "flink_savepoint/copy.h"

#include <chrono>
#include <thread>
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "flink_savepoint/directories.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/relocate.h"
#include "flink_savepoint/walk.h"

namespace fsp {
namespace {

constexpr uint64_t kChunk = 8u << 20;

bool is_local(std::string_view uri) {
  std::string s = io::uri_scheme(uri);
  return s.empty() || s == "file";
}

std::string strip_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// A relative handle's name must stay inside the snapshot directory.
bool escapes(std::string_view rel) {
  if (rel.empty() || rel[0] == '/') return true;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view c = rel.substr(start, end - start);
    if (c == ".." || c == "." || c.empty()) return true;
    start = end + 1;
  }
  return false;
}

std::string same_dir_key(const std::string& uri) {
  if (!is_local(uri)) return strip_slashes(uri);
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(io::normalize_local(uri), ec), ec);
  return strip_slashes(p.lexically_normal().string());
}

// The size a copy must have at its destination. A store may show a just
// written object late (the test suite's s3rver answers a PUT before the
// object reads back whole when the machine is loaded): a wrong size is looked
// at again after 50, 100 and 200 ms before it is an error.
Status check_copied_size(io::FileSystem& to_fs, const CopyFile& f) {
  uint64_t seen = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(25 << attempt));
    auto st = to_fs.stat(f.to);
    if (!st) return st.take_error();
    if (st->size == f.size) return {};
    seen = st->size;
  }
  return Error::io("the copy " + f.to + " is " + std::to_string(seen) + " bytes, expected " + std::to_string(f.size));
}

// Copies one file: server-side when both ends are one store that can
// (FileSystem::copy, e.g. S3's CopyObject), else read and written in chunks
// through the seam's atomic writer. Sets f.server_side.
Status copy_one(CopyFile& f) {
  auto from_fs = io::file_system_for(f.from);
  if (!from_fs) return from_fs.error();
  auto to_fs = io::file_system_for(f.to);
  if (!to_fs) return to_fs.error();
  Status d = io::create_directories(io::parent_uri(f.to));
  if (!d) return d;
  if (*from_fs == *to_fs) {
    auto done = (*from_fs)->copy(f.from, f.to, f.size);
    if (!done) return done.take_error();
    if (*done) {
      f.server_side = true;
      return check_copied_size(**to_fs, f);
    }
  }
  auto in = (*from_fs)->open(f.from);
  if (!in) return in.take_error();
  if ((*in)->size() != f.size)
    return Error::io(f.from + " changed while copying: " + std::to_string((*in)->size()) + " bytes, " +
                     std::to_string(f.size) + " before");
  io::WriteOptions wo;
  wo.overwrite = true;  // a partial or wrong-sized file of an interrupted run
  const uint64_t want = f.size;
  wo.verify = [&f, want](std::string_view got) -> Status {
    if (got.size() != want)
      return Error::io("the copy of " + f.from + " read back as " + std::to_string(got.size()) + " bytes, expected " +
                       std::to_string(want));
    return {};
  };
  auto out = (*to_fs)->create(f.to, wo);
  if (!out) return out.take_error();
  std::string buf;
  for (uint64_t at = 0; at < f.size; at += kChunk) {
    Status r = (*in)->read_at(at, std::min(kChunk, f.size - at), buf);
    if (!r) return r;
    if (buf.empty()) return Error::io(f.from + " ended at byte " + std::to_string(at) + " of " + std::to_string(f.size));
    Status a = (*out)->append(buf);
    if (!a) return a;
  }
  Status c = (*out)->commit();
  if (!c) return c;
  return check_copied_size(**to_fs, f);
}

}  // namespace

Result<CopyReport> copy_snapshot(SnapshotFile& sf, const CopyOptions& o) {
  if (sf.metadata_path == "-")
    return Error::usage("copy needs the snapshot's location (its relative handles resolve against it), not standard input");
  if (o.dest.empty()) return Error::usage("copy needs a destination directory");
  Snapshot& s = sf.snapshot;
  // Where the files go (a path or store prefix) and how _metadata names them (Flink's file:/abs form locally).
  const std::string dest = is_local(o.dest) ? same_dir_key(o.dest) : strip_slashes(o.dest);
  const std::string dest_uri = is_local(o.dest) ? local_directory_uri(dest) : dest;
  if (same_dir_key(sf.directory.empty() ? "." : sf.directory) == same_dir_key(dest))
    return Error::usage("the destination '" + o.dest + "' is the snapshot's own directory");

  CopyReport rep;
  rep.metadata_uri = io::join_uri(dest, "_metadata");
  std::unordered_map<std::string, size_t> by_from;   // source URI -> index in rep.files
  std::map<std::string, std::string> by_to;          // destination -> source (collisions)
  std::set<std::string> rule_dirs;                   // stored parent directories (modified UTF-8)
  std::optional<Error> error;

  auto add = [&](const std::string& from, const std::string& to, int64_t size, bool exact, const HandleLocation& loc) {
    auto [t, fresh] = by_to.emplace(to, from);
    if (!fresh && t->second != from) {
      Error e = Error::usage("two files would be copied to " + to + ": " + t->second + " and " + from);
      e.where = loc.describe(s);
      e.hint = "files of one snapshot with the same name in different directories cannot share a destination";
      error = std::move(e);
      return;
    }
    auto [it, inserted] = by_from.emplace(from, rep.files.size());
    if (inserted) {
      CopyFile f;
      f.from = from;
      f.to = to;
      f.expected = size;
      f.exact = exact;
      rep.files.push_back(std::move(f));
    } else {
      CopyFile& f = rep.files[it->second];
      if (!exact || !f.exact) {
        f.exact = false;
        f.expected = std::max(f.expected, size);
      }
    }
  };
  for_each_stream_handle(std::as_const(s), [&](const StreamHandle& h, const HandleLocation& loc) {
    if (error) return;
    switch (h.code) {
      case code::kFile:
      case code::kSegmentFile: {
        Str p = h.path;
        size_t slash = p.rfind('/');
        if (slash == Str::npos || slash + 1 == p.size()) {
          error = Error::data("the path '" + modified_utf8_to_utf8(p) + "' names no file", std::nullopt, loc.describe(s));
          return;
        }
        rule_dirs.insert(std::string(p.substr(0, slash)));
        std::string from = modified_utf8_to_utf8(p);
        std::string to = io::join_uri(dest, modified_utf8_to_utf8(p.substr(slash + 1)));
        if (h.code == code::kFile) add(from, to, h.state_size, true, loc);
        else add(from, to, add_size(h.start_pos(), h.state_size), false, loc);
        break;
      }
      case code::kRelative: {
        std::string rel = modified_utf8_to_utf8(h.path);
        if (escapes(rel)) {
          error = Error::data("the relative handle '" + rel + "' leaves the snapshot directory", std::nullopt, loc.describe(s));
          return;
        }
        add(io::join_uri(sf.directory, rel), io::join_uri(dest, rel), h.state_size, true, loc);
        break;
      }
      default: break;  // inline bytes move with _metadata
    }
  });
  if (error) return std::move(*error);
  for_each_directory(std::as_const(s), [&](const Str& p, PathKind, const HandleLocation&) {
    if (!p.empty()) rule_dirs.insert(std::string(p));
  });

  // The paths for the new place: every directory holding a referenced file
  // becomes DEST; handles directly in DEST become relative (metadata v3+).
  RelocateOptions ro;
  for (const std::string& d : rule_dirs) ro.rules.emplace_back(modified_utf8_to_utf8(d), dest_uri);
  ro.make_relative = s.version >= 3;
  ro.snapshot_uri = dest_uri;
  ro.collect_changes = false;
  if (!ro.rules.empty() || ro.make_relative) {
    auto rr = relocate(s, ro);
    if (!rr) return rr.take_error();
    rep.rewritten = rr->changed;
    rep.made_relative = rr->made_relative;
  }
  auto bytes = encode_metadata(s);
  if (!bytes) return bytes.take_error();

  // Every source first: nothing is copied when one is absent or of another size.
  std::vector<std::string> bad;
  for (CopyFile& f : rep.files) {
    auto fs = io::file_system_for(f.from);
    if (!fs) return fs.take_error();
    auto st = (*fs)->stat(f.from);
    std::string why;
    if (!st) why = st.error().message;
    else if (!st->is_regular) why = f.from + " is not a regular file";
    else if (f.exact ? static_cast<int64_t>(st->size) != f.expected : static_cast<int64_t>(st->size) < f.expected)
      why = f.from + " is " + std::to_string(st->size) + " bytes, the handle records " + (f.exact ? "" : "at least ") +
            std::to_string(f.expected);
    if (!why.empty()) {
      if (bad.size() < 5) bad.push_back(why);
      else if (bad.size() == 5) bad.push_back("...");
      continue;
    }
    f.size = st->size;
    rep.bytes += f.size;
  }
  if (!bad.empty()) {
    std::string msg = "nothing copied: " + std::to_string(bad.size() > 5 ? 6 : bad.size()) + "+ referenced file(s) are missing or of another size: ";
    if (bad.size() <= 5) msg = "nothing copied: referenced file(s) missing or of another size: ";
    for (size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
    return Error::no_input(msg);
  }

  // An existing DEST/_metadata: this copy's (complete already) or another snapshot.
  auto dfs = io::file_system_for(rep.metadata_uri);
  if (!dfs) return dfs.take_error();
  if (auto st = (*dfs)->stat(rep.metadata_uri)) {
    auto old = io::read_file(rep.metadata_uri);
    if (old && (*old)->bytes() == *bytes) rep.metadata_unchanged = true;
    else if (!o.force)
      return Error::cant_create("'" + rep.metadata_uri + "' exists and holds another snapshot; add --force to replace it");
  }

  for (size_t i = 0; i < rep.files.size(); ++i) {
    CopyFile& f = rep.files[i];
    auto tfs = io::file_system_for(f.to);
    if (!tfs) return tfs.take_error();
    auto st = (*tfs)->stat(f.to);
    if (st && st->is_regular && st->size == f.size) {
      f.skipped = true;
      ++rep.skipped;
      continue;
    }
    if (o.dry_run) continue;
    if (o.before_copy) {
      Status h = o.before_copy(i, f);
      if (!h) return h.take_error();
    }
    Status c = copy_one(f);
    if (!c) return c.take_error();
    ++rep.copied;
    rep.copied_bytes += f.size;
    if (f.server_side) ++rep.server_side;
  }
  if (o.dry_run || rep.metadata_unchanged) return rep;

  // _metadata last, verified by decoding it back.
  Status d = io::create_directories(dest);
  if (!d) return d.take_error();
  WriteOptions wo;
  wo.overwrite = o.force;
  Status w = write_metadata_atomically(rep.metadata_uri, s, *bytes, wo);
  if (!w) return w.take_error();
  rep.metadata_written = true;
  return rep;
}

}  // namespace fsp
