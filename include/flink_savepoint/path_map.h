// Where an absolute path stored in a snapshot can be read on this machine:
// `file:` URIs and plain absolute paths directly, remote URIs (s3://, hdfs://,
// gs://, ...) through --path-map PREFIX=LOCAL_DIR entries (a bucket mounted or
// synced locally). One implementation for every command.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flink_savepoint/result.h"

namespace fsp {

// (prefix, local directory) pairs, UTF-8. The longest matching prefix wins.
using PathMap = std::vector<std::pair<std::string, std::string>>;

// Parses "PREFIX=LOCAL_DIR" arguments (trailing slashes are ignored).
Result<PathMap> parse_path_map(const std::vector<std::string>& args);

// True if `path` starts with `prefix` at a path-component boundary
// ("s3://b/a" matches "s3://b/a/x" and "s3://b/a", not "s3://b/ab").
bool path_prefix_matches(std::string_view path, std::string_view prefix);

// The local file for an absolute stored path (UTF-8), or nullopt for a remote
// URI that no map entry covers.
std::optional<std::string> local_path_for(std::string_view absolute_path, const PathMap& map);

}  // namespace fsp
