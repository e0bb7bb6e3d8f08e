// Expanding command-line arguments into snapshots (snapshot_set.h), through
// the file-system seam: local directories and object-store prefixes alike.
#include "flink_savepoint/snapshot_set.h"

#include <algorithm>

#include "flink_savepoint/file_system.h"

namespace fsp {
namespace {

std::string base_name(const std::string& uri) {
  std::string u = uri;
  while (u.size() > 1 && u.back() == '/') u.pop_back();
  size_t slash = u.rfind('/');
  return slash == std::string::npos ? u : u.substr(slash + 1);
}

bool is_metadata(const io::FileInfo& f) { return !f.is_directory && base_name(f.uri) == "_metadata"; }

// Sort key: chk-9 before chk-10 (the number of each chk-N component zero-padded).
std::string sort_key(const std::string& uri) {
  std::string key;
  size_t start = 0;
  while (start <= uri.size()) {
    size_t slash = uri.find('/', start);
    if (slash == std::string::npos) slash = uri.size();
    std::string part = uri.substr(start, slash - start);
    int64_t n = checkpoint_number(part);
    if (n >= 0) {
      std::string digits = std::to_string(n);
      part = "chk-" + std::string(20 - digits.size(), '0') + digits;
    }
    key += part;
    if (slash < uri.size()) key += '/';
    start = slash + 1;
  }
  return key;
}

}  // namespace

int64_t checkpoint_number(const std::string& name) {
  if (name.size() < 5 || name.compare(0, 4, "chk-") != 0 || name.size() > 4 + 18) return -1;
  int64_t n = 0;
  for (size_t i = 4; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

Result<SnapshotArgs> expand_snapshot_args(const std::vector<std::string>& args, bool latest) {
  SnapshotArgs out;
  out.many = args.size() > 1;
  for (const auto& arg : args) {
    if (arg == "-") {
      if (latest) return Error::usage("--latest needs a checkpoint directory, not standard input");
      out.snapshots.push_back(arg);
      continue;
    }
    auto fs = io::file_system_for(arg);
    if (!fs) return fs.error();
    auto st = (*fs)->stat(arg);
    if (!st && !latest) {  // opening it says what is wrong, as for a single snapshot
      out.snapshots.push_back(arg);
      continue;
    }
    if (!st) return st.error();
    if (!st->is_directory) {
      if (latest) return Error::usage("--latest needs a job's checkpoint directory; '" + arg + "' is a file");
      out.snapshots.push_back(arg);
      continue;
    }
    // A snapshot directory holds its _metadata directly.
    std::string direct = io::join_uri(arg, "_metadata");
    if (!latest) {
      auto d = (*fs)->stat(direct);
      if (d && !d->is_directory) {
        out.snapshots.push_back(arg);  // opened as given, as for a single snapshot
        continue;
      }
    }
    auto entries = (*fs)->list(arg, /*recursive=*/true);
    if (!entries) return entries.error();
    std::vector<std::string> found;
    for (const auto& e : *entries)
      if (is_metadata(e)) found.push_back(e.uri);
    if (latest) {
      std::string best;
      int64_t best_n = -1;
      for (const auto& m : found) {
        int64_t n = checkpoint_number(base_name(io::parent_uri(m)));
        if (n > best_n) best_n = n, best = m;
      }
      if (best.empty()) {
        Error e = Error::no_input("no complete checkpoint under " + arg + ": no chk-N directory holds a _metadata");
        e.hint = "a checkpoint is complete once Flink has written its _metadata; give the job's checkpoint directory "
                 "(state.checkpoints.dir/JOB_ID)";
        return e;
      }
      out.snapshots.push_back(best);
      continue;
    }
    if (found.empty()) {  // opening it gives Flink's message (no _metadata in the directory)
      out.snapshots.push_back(arg);
      continue;
    }
    std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) { return sort_key(a) < sort_key(b); });
    if (found.size() > 1) out.many = true;
    for (auto& f : found) out.snapshots.push_back(std::move(f));
  }
  return out;
}

}  // namespace fsp
