#include "flink_savepoint/path_map.h"

namespace fsp {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view trim_slashes(std::string_view s) {
  while (s.size() > 1 && s.back() == '/') s.remove_suffix(1);
  return s;
}

std::string without_trailing_slashes(const std::string& s) { return std::string(trim_slashes(s)); }

}  // namespace

Result<PathMap> parse_path_map(const std::vector<std::string>& args) {
  PathMap out;
  for (const auto& a : args) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
      return Error::usage("--path-map expects PREFIX=LOCAL_DIR (e.g. s3://bucket/checkpoints=/mnt/bucket/checkpoints), got '" + a + "'");
    out.emplace_back(without_trailing_slashes(a.substr(0, eq)), without_trailing_slashes(a.substr(eq + 1)));
  }
  return out;
}

bool path_prefix_matches(std::string_view path, std::string_view prefix) {
  prefix = trim_slashes(prefix);
  return starts_with(path, prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

std::optional<std::string> local_path_for(std::string_view p, const PathMap& map) {
  const std::pair<std::string, std::string>* best = nullptr;
  size_t best_len = 0;
  for (const auto& e : map) {
    std::string_view prefix = trim_slashes(e.first);
    if (!prefix.empty() && path_prefix_matches(p, prefix) && (!best || prefix.size() > best_len)) {
      best = &e;
      best_len = prefix.size();
    }
  }
  // The rest starts with '/' (or is empty): join it to the directory without doubling the slash.
  if (best) return std::string(trim_slashes(best->second)) + std::string(p.substr(best_len));
  if (starts_with(p, "file:///")) return std::string(p.substr(7));
  if (starts_with(p, "file://localhost/")) return std::string(p.substr(16));
  if (starts_with(p, "file:/") && !starts_with(p, "file://")) return std::string(p.substr(5));
  if (!p.empty() && p[0] == '/') return std::string(p);
  return std::nullopt;
}

}  // namespace fsp
