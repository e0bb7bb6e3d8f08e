// Relocation of a snapshot's absolute paths, the checks around it, and the
// atomic writer. See include/flink_savepoint/relocate.h and docs/relocate.md.
#include "flink_savepoint/relocate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <type_traits>
#include <unordered_set>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/snapshot_file.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxUtf = 65535;

// Appends strings into chunks owned by Snapshot::arena. A chunk never grows
// past the capacity reserved up front, so views into it stay valid
// (std::deque::push_back does not move existing elements).
class ArenaPool {
 public:
  explicit ArenaPool(Snapshot& s) : s_(s) {}
  Str add2(std::string_view a, std::string_view b) {
    size_t n = a.size() + b.size();
    if (cur_ == nullptr || cur_->capacity() - cur_->size() < n) {
      s_.arena.emplace_back();
      cur_ = &s_.arena.back();
      cur_->reserve(std::max<size_t>(kChunk, n));
    }
    size_t at = cur_->size();
    cur_->append(a);
    cur_->append(b);
    return Str(cur_->data() + at, n);
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  Snapshot& s_;
  std::string* cur_ = nullptr;
};

std::string strip_trailing_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// `p` starts with `prefix` at a path boundary.
bool prefix_matches(Str p, std::string_view prefix) {
  return p.size() >= prefix.size() && p.compare(0, prefix.size(), prefix) == 0 &&
         (p.size() == prefix.size() || p[prefix.size()] == '/');
}

struct Rule {
  std::string from, to;  // modified UTF-8, no trailing '/'
};

Str parent_of(Str p) {
  size_t slash = p.rfind('/');
  return slash == Str::npos ? Str() : p.substr(0, slash);
}


}  // namespace

const char* path_kind_name(PathKind kind) {
  switch (kind) {
    case PathKind::kAbsoluteFile: return "absolute";
    case PathKind::kRelativeFile: return "relative";
    case PathKind::kSegmentFile: return "segment";
    case PathKind::kDirectory: return "directory";
    case PathKind::kInlineName: return "inline-name";
  }
  return "unknown";
}


std::string local_directory_uri(const std::string& directory) {
  std::error_code ec;
  fs::path p = fs::absolute(directory.empty() ? fs::path(".") : fs::path(directory), ec);
  if (ec) p = fs::path(directory);
  std::string s = p.lexically_normal().string();
  s = strip_trailing_slashes(s);
  if (s.empty()) s = "/";
  return "file:" + s;
}

namespace {

// head + tail, read as one string without storing it (a path after a rule).
struct Joined {
  Str head, tail;
  size_t size() const { return head.size() + tail.size(); }
  char operator[](size_t i) const { return i < head.size() ? head[i] : tail[i - head.size()]; }
  bool starts_with(std::string_view p) const {
    if (p.size() > size()) return false;
    size_t n = std::min(p.size(), head.size());
    return head.compare(0, n, p.substr(0, n)) == 0 && tail.compare(0, p.size() - n, p.substr(n)) == 0;
  }
  bool has_slash_from(size_t at) const {
    if (at < head.size() && head.find('/', at) != Str::npos) return true;
    return tail.find('/', at > head.size() ? at - head.size() : 0) != Str::npos;
  }
  Joined from(size_t at) const {
    if (at >= head.size()) return Joined{Str(), tail.substr(at - head.size())};
    return Joined{head.substr(at), tail};
  }
};

// The rules and the --make-relative directory, and what they do to one path
// (shared by relocate(), which stores the new paths, and plan_relocation(),
// whose rewriter gives them to the encoder).
struct Relocator {
  std::vector<Rule> rules;  // longest `from` first
  std::string dir;          // snapshot directory URI for make_relative (modified UTF-8)
  bool make_relative = false;
  bool include_inline_names = false;

  const Rule* match(Str p) const {
    for (const auto& r : rules)
      if (prefix_matches(p, r.from)) return &r;
    return nullptr;
  }
  // The path after the rule (or as it is without one).
  static Joined after(Str slot, const Rule* r) {
    return r ? Joined{r->to, slot.substr(r->from.size())} : Joined{Str(), slot};
  }
  // A code-2 path `value` (after the rules) directly inside the snapshot directory.
  bool relative_in_dir(PathKind kind, bool handle, const Joined& value) const {
    return handle && kind == PathKind::kAbsoluteFile && make_relative && value.size() > dir.size() + 1 &&
           value.starts_with(dir) && value[dir.size()] == '/' && !value.has_slash_from(dir.size() + 1);
  }
  // The encoder's view: the new string of a path, false when it stays.
  bool rewrite(Str path, PathKind kind, PathRewrite& out) const {
    if (kind == PathKind::kInlineName && !include_inline_names) return false;
    if (kind == PathKind::kRelativeFile) return false;
    const Rule* r = match(path);
    Joined value = after(path, r);
    bool rel = relative_in_dir(kind, kind != PathKind::kDirectory, value);
    if (!r && !rel) return false;
    if (rel) value = value.from(dir.size() + 1);
    out.head = value.head;
    out.tail = value.tail;
    out.relative = rel;
    return true;
  }
};

Result<Relocator> make_relocator(int32_t version, const RelocateOptions& options) {
  Relocator rl;
  rl.make_relative = options.make_relative;
  rl.include_inline_names = options.include_inline_names;
  // Rules: modified UTF-8, no trailing slashes, longest `from` first.
  std::vector<Rule>& rules = rl.rules;
  for (const auto& [from_u, to_u] : options.rules) {
    Rule r{strip_trailing_slashes(utf8_to_modified_utf8(from_u)), strip_trailing_slashes(utf8_to_modified_utf8(to_u))};
    if (r.from.empty()) return Error::usage("--from '" + from_u + "' is empty (or only slashes)");
    for (const auto& o : rules)
      if (o.from == r.from) return Error::usage("--from '" + from_u + "' is given twice");
    rules.push_back(std::move(r));
  }
  std::stable_sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.from.size() > b.from.size(); });

  if (options.make_relative) {
    if (version < 3)
      return Error::usage("--make-relative needs metadata version 3 or later (Flink 1.11+); this snapshot is version " +
                          std::to_string(version) + ", whose readers cannot resolve relative handles");
    if (options.snapshot_uri.empty()) return Error::usage("--make-relative needs the snapshot directory URI");
    rl.dir = strip_trailing_slashes(utf8_to_modified_utf8(options.snapshot_uri));
    if (rl.dir.rfind("file:///", 0) == 0) rl.dir.erase(5, 2);  // Flink's Path.toString() form: file:/abs
    if (rl.dir.empty()) return Error::usage("--snapshot-uri '" + options.snapshot_uri + "' is not a directory URI");
  }
  return rl;
}

// relocate() (kStore: the new paths go into the arena and the snapshot is
// changed) and plan_relocation() (the report only: nothing stored).
template <bool kStore, typename SnapshotT>
Result<RelocateReport> relocate_impl(SnapshotT& snapshot, const RelocateOptions& options, const Relocator& rl) {
  const std::string& dir = rl.dir;
  const std::vector<Rule>& rules = rl.rules;
  struct Pending {
    Str* dir_slot;              // a directory string, or
    HandlePath* path_slot;      // a stream handle's path
    StreamHandle* to_relative;  // non-null: becomes code 6
    Str value;
  };
  std::vector<Pending> pending;
  RelocateReport report;
  std::optional<ArenaPool> pool;
  if constexpr (kStore) pool.emplace(snapshot);
  std::unordered_set<std::string> unmatched_dirs;
  std::optional<Error> error;
  const bool collect = kStore && options.collect_changes;

  auto visit = [&](auto& slot, PathKind kind, const HandleLocation& loc, auto* h) {
    if (error) return;
    const bool absolute = kind != PathKind::kInlineName;
    if (absolute) ++report.absolute_paths;
    const Rule* r = rl.match(slot);
    if (r && r->to.size() + (slot.size() - r->from.size()) == 0) {
      error = Error::usage("--to '" + modified_utf8_to_utf8(r->to) + "' turns '" + modified_utf8_to_utf8(slot) +
                           "' into an empty path");
      return;
    }
    Joined after = Relocator::after(slot, r);
    bool made_relative = rl.relative_in_dir(kind, h != nullptr, after);
    if (!r && !made_relative) {
      if (absolute) {
        // Already under a --to prefix: after the rewrite it cannot be told from a rewritten path.
        for (const auto& rule : rules)
          if (prefix_matches(slot, rule.to)) {
            if (report.already_under_to == 0) report.already_under_to_example = modified_utf8_to_utf8(slot);
            ++report.already_under_to;
            break;
          }
        ++report.unmatched_absolute;
        if (unmatched_dirs.size() < 5) {
          std::string d = modified_utf8_to_utf8(kind == PathKind::kDirectory ? Str(slot) : parent_of(slot));
          if (unmatched_dirs.insert(d).second) report.unmatched_examples.push_back(d);
        }
      }
      return;
    }
    size_t new_size = made_relative ? after.size() - (dir.size() + 1) : after.size();
    if (new_size > kMaxUtf) {
      Error e = Error::data("the rewritten path is " + std::to_string(new_size) +
                            " bytes long; Java's modified UTF-8 strings (and so _metadata) hold at most 65535 bytes");
      e.where = loc.describe(snapshot);
      e.hint = "choose a shorter --to prefix";
      error = std::move(e);
      return;
    }
    ++report.changed;
    if (made_relative) ++report.made_relative;
    if constexpr (kStore) {
      Str absolute_value = r ? pool->add2(after.head, after.tail) : Str(slot);
      Str value = made_relative ? absolute_value.substr(dir.size() + 1) : absolute_value;
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(slot)>, HandlePath>)
        pending.push_back(Pending{nullptr, &slot, made_relative ? h : nullptr, value});
      else
        pending.push_back(Pending{&slot, nullptr, made_relative ? h : nullptr, value});
      if (collect) report.changes.push_back(PathChange{loc, kind, slot, value, absolute_value, made_relative});
    }
  };

  if constexpr (kStore) {  // Size the lists once: a cheap walk beats regrowing vectors of a million entries.
    size_t n = 0;
    for_each_path(snapshot, [&](const Str&, PathKind k, const HandleLocation&) { n += k != PathKind::kRelativeFile; });
    pending.reserve(n);
    if (collect) report.changes.reserve(n);
  }
  using Handle = std::remove_reference_t<decltype((snapshot.operators[0].coordinator))>;
  for_each_stream_handle(snapshot, [&](Handle& h, const HandleLocation& loc) {
    switch (h.code) {
      case code::kFile: visit(h.path, PathKind::kAbsoluteFile, loc, &h); break;
      case code::kSegmentFile: visit(h.path, PathKind::kSegmentFile, loc, &h); break;
      case code::kByteStream:
        if (options.include_inline_names) visit(h.path, PathKind::kInlineName, loc, &h);
        break;
      case code::kNull: case code::kKeyGroups: case code::kPartitionableOperator: case code::kIncremental:
      case code::kRelative: case code::kSavepointKeyGroups: case code::kChangelog:
      case code::kChangelogByteIncrement: case code::kChangelogFileIncrement: case code::kIncrementalV2:
      case code::kKeyGroupsV2: case code::kChangelogFileIncrementV2: case code::kChangelogV2:
      case code::kEmptySegmentFile: case code::kSegmentPartitionableOperator: break;
    }
  });
  for_each_path(snapshot, [&](auto& p, PathKind kind, const HandleLocation& loc) {
    if (kind == PathKind::kDirectory) visit(p, kind, loc, static_cast<Handle*>(nullptr));
  });
  if (error) return std::move(*error);

  if constexpr (kStore) {
    for (const auto& p : pending) {
      if (p.dir_slot) *p.dir_slot = p.value;
      else *p.path_slot = p.value;
      if (p.to_relative) p.to_relative->code = code::kRelative;
    }
  }
  return report;
}

}  // namespace

Result<RelocateReport> relocate(Snapshot& snapshot, const RelocateOptions& options) {
  auto rl = make_relocator(snapshot.version, options);
  if (!rl) return rl.error();
  return relocate_impl<true>(snapshot, options, *rl);
}

Result<RelocationPlan> plan_relocation(const Snapshot& snapshot, const RelocateOptions& options) {
  auto rl = make_relocator(snapshot.version, options);
  if (!rl) return rl.error();
  auto rep = relocate_impl<false>(snapshot, options, *rl);
  if (!rep) return rep.error();
  RelocationPlan plan;
  plan.report = std::move(*rep);
  auto shared = std::make_shared<const Relocator>(std::move(*rl));
  plan.rewriter = [shared](Str path, PathKind kind, PathRewrite& out) { return shared->rewrite(path, kind, out); };
  return plan;
}

// --- verify ---------------------------------------------------------------------

VerifyReport verify_files(const Snapshot& s, const std::string& snapshot_dir, const PathMap& path_map) {
  struct Expect {
    int64_t exact = -1;    // code 2 / 6
    int64_t min_end = -1;  // segments
    bool directory = false;
    Str stored;
    std::string where;
    HandleLocation loc;
    bool have_loc = false;
  };

  VerifyReport rep;
  std::unordered_map<Str, Expect> by_path;  // keyed by the stored string
  std::unordered_set<Str> remote;
  std::unordered_map<Str, std::string> local_of;

  auto local_for = [&](Str stored, bool relative) -> std::optional<std::string> {
    if (relative) {
      if (snapshot_dir.empty()) return std::nullopt;
      return (fs::path(snapshot_dir) / modified_utf8_to_utf8(stored)).string();
    }
    return local_path_for(modified_utf8_to_utf8(stored), path_map);
  };

  auto note = [&](Str path, bool relative, const HandleLocation& loc, auto&& update) {
    auto [it, inserted] = by_path.try_emplace(path);
    if (inserted) {
      it->second.stored = path;
      it->second.loc = loc;
      it->second.have_loc = true;
      auto local = local_for(path, relative);
      if (!local) remote.insert(path);
      else local_of.emplace(path, std::move(*local));
    }
    update(it->second);
  };
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation& loc) {
    switch (h.code) {
      case code::kFile:
      case code::kRelative:
        note(h.path, h.code == code::kRelative, loc, [&](Expect& e) {
          if (e.exact < 0) e.exact = h.state_size;
        });
        break;
      case code::kSegmentFile:
        note(h.path, false, loc, [&](Expect& e) { e.min_end = std::max(e.min_end, add_size(h.start_pos(), h.state_size)); });
        break;
      case code::kNull: case code::kByteStream: case code::kKeyGroups: case code::kPartitionableOperator:
      case code::kIncremental: case code::kSavepointKeyGroups: case code::kChangelog:
      case code::kChangelogByteIncrement: case code::kChangelogFileIncrement: case code::kIncrementalV2:
      case code::kKeyGroupsV2: case code::kChangelogFileIncrementV2: case code::kChangelogV2:
      case code::kEmptySegmentFile: case code::kSegmentPartitionableOperator: break;
    }
  });
  for_each_directory(s, [&](const Str& p, PathKind, const HandleLocation& loc) {
    if (!p.empty()) note(p, false, loc, [&](Expect& e) { e.directory = true; });
  });

  rep.not_checked = remote.size();
  // Stable order: by first appearance is lost in the hash map; sort by path.
  std::vector<const Expect*> order;
  for (const auto& [k, e] : by_path)
    if (!remote.count(k)) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Expect* a, const Expect* b) { return a->stored < b->stored; });
  for (const Expect* e : order) {
    const std::string& local = local_of.at(e->stored);
    ++rep.checked;
    MissingFile m;
    m.path = modified_utf8_to_utf8(e->stored);
    m.local_path = local;
    m.directory = e->directory && e->exact < 0 && e->min_end < 0;
    m.expected_size = e->exact >= 0 ? e->exact : e->min_end;
    m.where = e->loc.describe(s);
    auto fsys = io::file_system_for(local);
    Result<io::FileInfo> st = fsys ? (*fsys)->stat(local) : Result<io::FileInfo>(fsys.error());
    if (!st) {
      rep.missing.push_back(std::move(m));
      continue;
    }
    if (m.directory) {
      if (!st->is_directory) {
        m.actual_size = static_cast<int64_t>(st->size);
        rep.missing.push_back(std::move(m));
      }
      continue;
    }
    if (!st->is_regular) {
      rep.missing.push_back(std::move(m));
      continue;
    }
    int64_t size = static_cast<int64_t>(st->size);
    bool ok = e->exact >= 0 ? size == e->exact : size >= e->min_end;
    if (!ok) {
      m.actual_size = size;
      rep.missing.push_back(std::move(m));
    }
  }
  return rep;
}

// --- copy plan --------------------------------------------------------------------

namespace {

std::string scheme_of(std::string_view uri) {
  if (!uri.empty() && uri[0] == '/') return "file";
  size_t colon = uri.find(':');
  size_t slash = uri.find('/');
  if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) return "file";
  std::string s(uri.substr(0, colon));
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_s3(const std::string& scheme) { return scheme == "s3" || scheme == "s3a" || scheme == "s3n" || scheme == "s3p"; }

std::string with_scheme(std::string_view uri, const std::string& scheme) {
  size_t colon = uri.find(':');
  return scheme + std::string(uri.substr(colon));
}

std::string local_of_file_uri(std::string_view uri) {
  if (uri.rfind("file:///", 0) == 0) return std::string(uri.substr(7));
  if (uri.rfind("file:/", 0) == 0) return std::string(uri.substr(5));
  return std::string(uri);
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string copy_command(const std::string& from, const std::string& to, bool directory) {
  std::string fs_ = scheme_of(from), ts = scheme_of(to);
  bool fl = fs_ == "file", tl = ts == "file";
  auto q = shell_quote;
  if (fl && tl) {
    std::string f = local_of_file_uri(from), t = local_of_file_uri(to);
    if (directory) return "mkdir -p " + q(t) + " && cp -pR " + q(f + "/.") + " " + q(t + "/");
    return "mkdir -p " + q(parent_of(t).empty() ? std::string("/") : std::string(parent_of(t))) + " && cp -p " + q(f) + " " + q(t);
  }
  if ((is_s3(fs_) || fl) && (is_s3(ts) || tl)) {
    std::string f = fl ? local_of_file_uri(from) : with_scheme(from, "s3");
    std::string t = tl ? local_of_file_uri(to) : with_scheme(to, "s3");
    if (directory) return "aws s3 cp --recursive " + q(f + "/") + " " + q(t + "/");
    return "aws s3 cp " + q(f) + " " + q(t);
  }
  if ((fs_ == "gs" || fl) && (ts == "gs" || tl)) {
    std::string f = fl ? local_of_file_uri(from) : from;
    std::string t = tl ? local_of_file_uri(to) : to;
    if (directory) return "gsutil -m cp -r " + q(f + "/*") + " " + q(t + "/");
    return "gsutil cp " + q(f) + " " + q(t);
  }
  // Hadoop's FileSystem reads most schemes (hdfs, s3a, abfs, gs, oss, ...).
  std::string f = is_s3(fs_) ? with_scheme(from, "s3a") : from;
  std::string t = is_s3(ts) ? with_scheme(to, "s3a") : to;
  if (directory) return "hdfs dfs -mkdir -p " + q(t) + " && hdfs dfs -cp -p " + q(f + "/*") + " " + q(t + "/");
  return "hdfs dfs -cp -p " + q(f) + " " + q(t);
}

// Why `path` (UTF-8) cannot go into a shell command that copies whole
// directories: a "." or ".." component (the directory copied would not be the
// one the handle names: "/abs/../f" copies "/"), or a control character (a
// newline splits the command). Empty when it can.
std::string unsafe_for_plan(std::string_view path) {
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", c);
      return std::string("it contains the control character ") + buf;
    }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp == "." || comp == "..") return "it has a '" + std::string(comp) + "' path component";
    start = end + 1;
  }
  return {};
}

std::string escaped_for_message(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

Result<std::vector<CopyStep>> copy_plan(const std::vector<PathChange>& changes) {
  std::vector<CopyStep> steps;
  std::map<std::pair<Str, Str>, size_t> index;
  std::vector<bool> single;
  for (const auto& c : changes) {
    if (c.kind != PathKind::kAbsoluteFile && c.kind != PathKind::kSegmentFile) continue;
    Str from = c.old_path, to = c.new_absolute.empty() ? c.new_path : c.new_absolute;
    if (from == to) continue;  // only made relative: it stays where it is
    for (Str p : {from, to}) {
      std::string u = modified_utf8_to_utf8(p);
      std::string why = unsafe_for_plan(u);
      if (!why.empty()) {
        Error e = Error::data("no copy plan: the path '" + escaped_for_message(u) + "' cannot go into a copy command: " + why);
        e.hint = "copy the files by hand after checking that path; relocate itself does not need the plan";
        return e;
      }
    }
    Str fd = parent_of(from), td = parent_of(to);
    bool same_name = from.substr(fd.size()) == to.substr(td.size()) && !fd.empty() && !td.empty();
    std::pair<Str, Str> key = same_name ? std::pair<Str, Str>{fd, td} : std::pair<Str, Str>{from, to};
    auto [it, inserted] = index.try_emplace(key, steps.size());
    if (inserted) {
      CopyStep st;
      st.from_dir = modified_utf8_to_utf8(key.first);
      st.to_dir = modified_utf8_to_utf8(key.second);
      st.command = copy_command(st.from_dir, st.to_dir, same_name);
      steps.push_back(std::move(st));
    }
    steps[it->second].files++;
  }
  return steps;
}

// --- comparing and writing ------------------------------------------------------------

namespace {

// A fast 64-bit hash of bytes for the write check (a corruption check, not a
// defence against crafted input): two lanes of 64x64->128-bit multiplies over
// 16-byte words (as in wyhash), about 0.2 cycles per byte where std::hash
// (MurmurHash64A, one dependent chain) takes over 1.
inline uint64_t mum(uint64_t a, uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
// The last 1 to 32 bytes are read as overlapping words (no copy into a
// buffer): most of what is hashed is paths of 40 to 120 bytes.
uint64_t hash_bytes(std::string_view s) {
  constexpr uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL, k2 = 0x8ebc6af09c88c6e3ULL,
                     k3 = 0x589965cc75374cc3ULL;
  const char* p = s.data();
  size_t n = s.size();
  uint64_t a = k0 ^ n, b = k3;
  for (; n > 32; p += 32, n -= 32) {
    a = mum(load64(p) ^ k1, load64(p + 8) ^ a);
    b = mum(load64(p + 16) ^ k2, load64(p + 24) ^ b);
  }
  uint64_t w0 = 0, w1 = 0, w2 = 0, w3 = 0;
  if (n > 16) {
    w0 = load64(p), w1 = load64(p + 8), w2 = load64(p + n - 16), w3 = load64(p + n - 8);
  } else if (n >= 8) {
    w0 = load64(p), w1 = load64(p + n - 8);
  } else if (n >= 4) {
    w0 = load32(p), w1 = load32(p + n - 4);
  } else if (n > 0) {  // an empty view may carry a null data()
    w0 = (static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
         (static_cast<uint64_t>(static_cast<unsigned char>(p[n >> 1])) << 8) | static_cast<unsigned char>(p[n - 1]);
  }
  a = mum(w0 ^ k1, w1 ^ a);
  b = mum(w2 ^ k2, w3 ^ b);
  return mum(a ^ k2 ^ (static_cast<uint64_t>(n) << 56), b ^ k1);
}

struct Digest {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  uint64_t count = 0;
  void mix(uint64_t x) {
    h ^= x + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  }
  void str(Str s) { mix(hash_bytes(s)); mix(s.size()); }
};

// The snapshot's handles, or (with `rewrite`) those the encoder writes with
// it: the same digest as that of the written file decoded.
Digest digest_handles(const Snapshot& s, const PathRewriter& rewrite = {}) {
  Digest d;
  std::string joined;
  auto rewritten = [&](Str p, PathKind kind, HandleCode& c) -> Str {
    PathRewrite rw;
    if (!rewrite || !rewrite(p, kind, rw)) return p;
    if (rw.relative) c = code::kRelative;
    joined.assign(rw.head);
    joined.append(rw.tail);
    return joined;
  };
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation& loc) {
    HandleCode c = h.code;
    Str path = h.path;
    if (rewrite) {
      if (c == code::kFile) path = rewritten(path, PathKind::kAbsoluteFile, c);
      else if (c == code::kSegmentFile) path = rewritten(path, PathKind::kSegmentFile, c);
      else if (c == code::kByteStream) path = rewritten(path, PathKind::kInlineName, c);
    }
    d.mix(static_cast<uint64_t>(c));
    d.mix(static_cast<uint64_t>(h.state_size));
    d.mix(static_cast<uint64_t>(h.start_pos()));
    d.mix(static_cast<uint64_t>(h.scope()));
    d.str(path);
    d.str(h.data());
    d.mix(loc.op_index);
    d.mix(static_cast<uint64_t>(loc.subtask));
    ++d.count;
  });
  for_each_directory(s, [&](const Str& p, PathKind kind, const HandleLocation&) {
    HandleCode unused = code::kNull;
    d.str(rewrite ? rewritten(p, kind, unused) : p);
    ++d.count;
  });
  return d;
}


}  // namespace

std::string compare_snapshots(const Snapshot& a, const Snapshot& b) {
  if (a.version != b.version) return "metadata version " + std::to_string(b.version) + ", expected " + std::to_string(a.version);
  if (a.checkpoint_id != b.checkpoint_id) return "checkpoint id differs";
  if (a.master_states.size() != b.master_states.size()) return "number of master states differs";
  if (a.operators.size() != b.operators.size()) return "number of operators differs";
  for (size_t i = 0; i < a.operators.size(); ++i) {
    const auto &x = a.operators[i], &y = b.operators[i];
    if (x.id != y.id || x.parallelism != y.parallelism || x.max_parallelism != y.max_parallelism ||
        x.subtasks.size() != y.subtasks.size() || x.name != y.name || x.uid != y.uid || x.fully_finished != y.fully_finished)
      return "operator #" + std::to_string(i) + " differs";
  }
  if (a.trailer != b.trailer) return "the checkpoint properties trailer differs";
  Digest da = digest_handles(a), db = digest_handles(b);
  if (da.count != db.count) return "number of handles and paths differs";
  if (da.h != db.h) return "a state handle or path differs";
  return {};
}

Status write_metadata_atomically(const std::string& target, const Snapshot& expected, std::string_view bytes,
                                 const WriteOptions& options) {
  io::WriteOptions wo;
  wo.overwrite = options.overwrite;
  wo.backup_uri = options.backup_path;
  wo.hooks = options.hooks;
  // Called with the bytes read back from the temporary file after fsync.
  wo.verify = [&](std::string_view got) -> Status {
    if (got != bytes)
      return Error::io("the file read back differs from what was written; '" + target + "' is unchanged");
    auto dec = decode_metadata(got);
    if (!dec) {
      return Error::internal("the written file does not decode: " + dec.error().to_string() + "; '" + target + "' is unchanged");
    }
    std::string diff = compare_snapshots(expected, *dec);
    if (!diff.empty())
      return Error::internal("the written file decodes to another snapshot (" + diff + "); '" + target + "' is unchanged");
    return {};
  };
  return io::write_file_atomic(target, bytes, wo);
}

namespace {

// Fixed-size blocks with a digest each, so that what was written can be
// compared with what is read back without holding either.
constexpr size_t kBlock = size_t{1} << 20;

struct BlockDigest {
  uint64_t h = 0x84222325CBF29CE4ULL;
  uint64_t size = 0;
  void block(std::string_view b) {
    h ^= hash_bytes(b) + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    size += b.size();
  }
  bool operator==(const BlockDigest& o) const { return h == o.h && size == o.size; }
};

// What compare_snapshots looks at, kept after the snapshot is gone.
struct Fingerprint {
  int32_t version = 0;
  int64_t checkpoint_id = 0;
  size_t master_states = 0;
  std::vector<uint64_t> operators;
  uint64_t trailer = 0;
  Digest handles;
};

Fingerprint fingerprint(const Snapshot& s, const PathRewriter& rewrite = {}) {
  Fingerprint f;
  f.version = s.version;
  f.checkpoint_id = s.checkpoint_id;
  f.master_states = s.master_states.size();
  for (const auto& o : s.operators) {
    Digest d;
    d.str(Str(reinterpret_cast<const char*>(o.id.data()), o.id.size()));
    d.mix(static_cast<uint64_t>(o.parallelism));
    d.mix(static_cast<uint64_t>(o.max_parallelism));
    d.mix(o.subtasks.size());
    d.str(o.name);
    d.str(o.uid);
    d.mix(o.fully_finished);
    f.operators.push_back(d.h);
  }
  f.trailer = hash_bytes(s.trailer) ^ s.trailer.size();
  f.handles = digest_handles(s, rewrite);
  return f;
}

std::string compare_fingerprints(const Fingerprint& a, const Fingerprint& b) {
  if (a.version != b.version) return "metadata version " + std::to_string(b.version) + ", expected " + std::to_string(a.version);
  if (a.checkpoint_id != b.checkpoint_id) return "checkpoint id differs";
  if (a.master_states != b.master_states) return "number of master states differs";
  if (a.operators.size() != b.operators.size()) return "number of operators differs";
  for (size_t i = 0; i < a.operators.size(); ++i)
    if (a.operators[i] != b.operators[i]) return "operator #" + std::to_string(i) + " differs";
  if (a.trailer != b.trailer) return "the checkpoint properties trailer differs";
  if (a.handles.count != b.handles.count) return "number of handles and paths differs";
  if (a.handles.h != b.handles.h) return "a state handle or path differs";
  return {};
}

}  // namespace

Status write_snapshot_atomically(const std::string& target, const Snapshot& snapshot, const WriteOptions& options,
                                 const std::function<void()>& release, const PathRewriter& rewrite) {
  auto fsys = io::file_system_for(target);
  if (!fsys) return fsys.error();
  BlockDigest written;
  Fingerprint expected;
  bool released = false;
  io::WriteOptions wo;
  wo.overwrite = options.overwrite;
  wo.backup_uri = options.backup_path;
  wo.hooks = options.hooks;
  // Called with the bytes read back after fsync. The input is released
  // first, so that one model is alive at a time (bounded memory).
  wo.verify = [&](std::string_view got) -> Status {
    if (!released && release) release();
    released = true;
    BlockDigest back;
    for (size_t at = 0; at < got.size(); at += kBlock) back.block(got.substr(at, kBlock));
    if (!(back == written))
      return Error::io("the file read back differs from what was written; '" + target + "' is unchanged");
    auto dec = decode_metadata(got);
    if (!dec)
      return Error{ErrorKind::kSoftware, "the written file does not decode: " + dec.error().to_string() + "; '" + target + "' is unchanged", {}, {}, {}};
    std::string diff = compare_fingerprints(expected, fingerprint(*dec));
    if (!diff.empty())
      return Error{ErrorKind::kSoftware, "the written file decodes to another snapshot (" + diff + "); '" + target + "' is unchanged", {}, {}, {}};
    return {};
  };
  auto file = (*fsys)->create(target, wo);
  if (!file) return file.error();
  // Encoded straight into the file in fixed blocks (the digest's unit).
  std::string block;
  block.reserve(kBlock);
  auto sink = [&](std::string_view piece) -> Status {
    while (!piece.empty()) {
      size_t n = std::min(piece.size(), kBlock - block.size());
      block.append(piece.substr(0, n));
      piece.remove_prefix(n);
      if (block.size() == kBlock) {
        written.block(block);
        if (Status st = (*file)->append(block); !st.ok()) return st;
        block.clear();
      }
    }
    return {};
  };
  if (Status st = encode_metadata_to(snapshot, sink, rewrite); !st.ok()) return st;
  if (!block.empty()) {
    written.block(block);
    if (Status st = (*file)->append(block); !st.ok()) return st;
  }
  std::string().swap(block);
  expected = fingerprint(snapshot, rewrite);
  return (*file)->commit();
}

}  // namespace fsp
