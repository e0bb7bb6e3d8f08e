// Orphaned files of a job checkpoint directory (include/flink_savepoint/gc.h,
// docs/gc.md). Every byte is read and every file removed through the
// file-system seam.
#include "flink_savepoint/gc.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/walk.h"

namespace fsp {
namespace {

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_local(std::string_view uri) {
  std::string s = io::uri_scheme(uri);
  return s.empty() || s == "file";
}

// One spelling per file: local paths absolute and lexically normal (file:
// URIs as paths), the s3a/s3n/s3p aliases as s3, no trailing '/'.
std::string key_of(std::string_view uri) {
  std::string s;
  if (is_local(uri)) {
    std::filesystem::path p(io::normalize_local(uri));
    std::error_code ec;
    if (p.is_relative()) p = std::filesystem::absolute(p, ec);
    s = p.lexically_normal().string();
  } else {
    std::string scheme = io::uri_scheme(uri);
    s = (scheme == "s3a" || scheme == "s3n" || scheme == "s3p") ? "s3" + std::string(uri.substr(scheme.size()))
                                                                  : std::string(uri);
  }
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool is_checkpoint_dir_name(std::string_view n) {
  if (n.size() <= 4 || n.substr(0, 4) != "chk-") return false;
  return std::all_of(n.begin() + 4, n.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Every file a snapshot references, as keys (relative handles against its own directory).
void collect_references(const SnapshotFile& sf, std::unordered_set<std::string>& out) {
  for_each_path(sf.snapshot, [&](const Str& p, PathKind kind, const HandleLocation&) {
    switch (kind) {
      case PathKind::kAbsoluteFile:
      case PathKind::kSegmentFile: out.insert(key_of(modified_utf8_to_utf8(p))); break;
      case PathKind::kRelativeFile: out.insert(key_of(io::join_uri(sf.directory, modified_utf8_to_utf8(p)))); break;
      default: break;  // directory strings and inline names are no files
    }
  });
}

}  // namespace

Result<GcReport> find_orphans(const GcOptions& o) {
  const int64_t now = o.now_ms ? o.now_ms : wall_clock_ms();
  const std::string root = key_of(o.job_dir);
  auto fs = io::file_system_for(root);
  if (!fs) return fs.take_error();
  auto st = (*fs)->stat(root);
  if (st && !st->is_directory)
    return Error::usage("'" + o.job_dir + "' is a file; gc takes a job's checkpoint directory (the one holding chk-*, shared/, taskowned/)");
  auto listed = (*fs)->list(root, /*recursive=*/true);
  if (!listed) return listed.take_error();

  // Group the entries by their first component below root.
  struct Top {
    std::vector<const io::FileInfo*> files;
    int64_t newest_ms = 0;
    bool has_metadata = false;
    bool unknown_age = false;
  };
  std::map<std::string, Top> chk;  // chk-N -> its files
  std::vector<const io::FileInfo*> candidates;  // shared/, taskowned/ and chk-* files
  GcReport rep;
  bool layout = false;
  const std::string prefix = root == "/" ? "/" : root + "/";
  for (const io::FileInfo& f : *listed) {
    std::string k = key_of(f.uri);
    if (k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rel = k.substr(prefix.size());
    std::string top = rel.substr(0, rel.find('/'));
    const bool in_chk = is_checkpoint_dir_name(top);
    if (!in_chk && top != "shared" && top != "taskowned") continue;
    layout = true;
    if (f.is_directory || rel.find('/') == std::string::npos) continue;  // the directories themselves
    if (!f.is_regular) {
      ++rep.not_regular;
      continue;
    }
    ++rep.files_seen;
    candidates.push_back(&f);
    if (in_chk) {
      Top& t = chk[top];
      t.files.push_back(&f);
      if (f.mtime_ms <= 0) t.unknown_age = true;
      t.newest_ms = std::max(t.newest_ms, f.mtime_ms);
      if (rel == top + "/_metadata") t.has_metadata = true;
    }
  }
  if (!layout) {
    Error e = Error::usage("'" + o.job_dir + "' holds no chk-*, shared/ or taskowned/ entry: not a job checkpoint directory");
    e.hint = "give the directory of one job (<state.checkpoints.dir>/<job-id>), not the checkpoint root";
    return e;
  }

  // Every complete checkpoint and every --keep snapshot: their files are live.
  std::unordered_set<std::string> live;
  for (auto& [name, t] : chk) {
    if (!t.has_metadata) continue;
    std::string m = prefix + name + "/_metadata";
    auto sf = open_snapshot(m);
    if (!sf) {
      Error e = sf.take_error();
      e.message = "cannot tell which files are live: " + e.message;
      e.hint = "gc lists nothing while a _metadata cannot be read; move the broken checkpoint away first";
      return e;
    }
    collect_references(*sf, live);
    live.insert(key_of(m));
    rep.checkpoints.push_back(m);
  }
  for (const std::string& k : o.keep) {
    auto sf = open_snapshot(k);
    if (!sf) {
      Error e = sf.take_error();
      e.message = "--keep " + k + ": " + e.message;
      return e;
    }
    if (sf->metadata_path == "-") return Error::usage("--keep needs a snapshot path, not standard input");
    collect_references(*sf, live);
  }
  if (rep.checkpoints.empty() && o.keep.empty()) {
    Error e = Error::usage("'" + o.job_dir + "' holds no complete checkpoint (chk-*/_metadata): every file would be listed");
    e.hint = "name the snapshot the job restores from with --keep SNAPSHOT, or remove the directory by hand if no job needs it";
    return e;
  }

  // Files of the listing that a reference names under another spelling
  // (a symbolic link in the path, a bind mount): matched by device and inode.
  std::unordered_set<std::string> listed_keys;
  for (const io::FileInfo* f : candidates) listed_keys.insert(key_of(f->uri));
  std::set<std::pair<uint64_t, uint64_t>> live_ids;
  for (const std::string& k : live) {
    if (listed_keys.count(k) || !is_local(k)) {
      continue;
    }
    auto lfs = io::file_system_for(k);
    if (!lfs) continue;
    auto s = (*lfs)->stat(k);
    if (s && s->inode != 0) live_ids.emplace(s->device, s->inode);
    else if (!s && k.compare(0, prefix.size(), prefix) == 0) ++rep.missing_referenced;
  }
  if (!is_local(root))
    for (const std::string& k : live)
      if (k.compare(0, prefix.size(), prefix) == 0 && !listed_keys.count(k)) ++rep.missing_referenced;

  for (const io::FileInfo* f : candidates) {
    std::string k = key_of(f->uri);
    if (live.count(k) || (f->inode != 0 && live_ids.count({f->device, f->inode}))) {
      ++rep.referenced;
      continue;
    }
    std::string rel = k.substr(prefix.size());
    std::string top = rel.substr(0, rel.find('/'));
    int64_t age = now - f->mtime_ms;
    if (is_checkpoint_dir_name(top)) {
      const Top& t = chk[top];
      if (!t.has_metadata && (t.unknown_age || now - t.newest_ms < o.min_age_ms)) {
        ++rep.kept_in_flight;
        if (rep.in_flight.empty() || rep.in_flight.back() != prefix + top) rep.in_flight.push_back(prefix + top);
        continue;
      }
    }
    if (f->mtime_ms <= 0 || age < o.min_age_ms) {
      ++rep.kept_young;
      continue;
    }
    GcFile g;
    g.uri = f->uri;
    g.size = f->size;
    g.mtime_ms = f->mtime_ms;
    g.age_ms = age;
    if (top == "shared") g.reason = "unreferenced shared file";
    else if (top == "taskowned") g.reason = "unreferenced task-owned file";
    else if (chk[top].has_metadata) g.reason = "not referenced by " + top + "/_metadata";
    else g.reason = "aborted checkpoint " + top + " (no _metadata)";
    rep.orphan_bytes += g.size;
    rep.orphans.push_back(std::move(g));
  }
  std::sort(rep.orphans.begin(), rep.orphans.end(), [](const GcFile& a, const GcFile& b) { return a.uri < b.uri; });
  return rep;
}

Result<GcDeleted> delete_orphans(const GcOptions& o, const GcReport& first, const std::string& log_uri) {
  GcOptions again = o;
  again.now_ms = 0;  // the second pass ages files by the clock again
  auto second = find_orphans(again);
  if (!second) {
    Error e = second.take_error();
    e.message = "nothing deleted: the second pass failed: " + e.message;
    return e;
  }
  std::unordered_map<std::string, const GcFile*> agreed;
  for (const GcFile& g : second->orphans) agreed.emplace(g.uri, &g);
  GcDeleted out;
  std::string log;
  for (const GcFile& g : first.orphans) {
    auto it = agreed.find(g.uri);
    if (it == agreed.end() || it->second->size != g.size || it->second->mtime_ms != g.mtime_ms) {
      out.skipped.push_back(g);
      continue;
    }
    auto fs = io::file_system_for(g.uri);
    Status s = fs ? (*fs)->remove(g.uri) : Status(fs.error());
    if (!s) {
      out.failed.emplace_back(g.uri, s.error().to_string());
      continue;
    }
    out.deleted.push_back(g);
    log += g.uri + "\n";
  }
  if (!log_uri.empty()) {
    Status w = io::write_file_atomic(log_uri, log);
    if (!w) out.log_error = w.error();
  }
  return out;
}

}  // namespace fsp
