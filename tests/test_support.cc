#include "test_support.h"

#include "flink_savepoint/state.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fsp::test {

std::optional<std::filesystem::path> shared_dir() {
  std::filesystem::path p;
  if (const char* env = std::getenv("FSP_SHARED_DIR"); env && *env) {
    p = env;
  } else {
    p = std::filesystem::path(FSP_SOURCE_DIR) / ".." / "shared";
  }
  if (std::filesystem::exists(p / "testdata" / "flink-repo" / "MANIFEST.tsv")) return std::filesystem::canonical(p);
  return std::nullopt;
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string cli_path() { return FSP_CLI_PATH; }

CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* f = popen(command.c_str(), "r");
  if (!f) return r;
  std::array<char, 65536> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) r.out.append(buf.data(), n);
  int st = pclose(f);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<ManifestRow> manifest() {
  std::vector<ManifestRow> rows;
  auto sd = shared_dir();
  if (!sd) return rows;
  std::ifstream in(*sd / "testdata" / "flink-repo" / "MANIFEST.tsv");
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    size_t start = 0;
    for (;;) {
      size_t t = s.find('\t', start);
      v.push_back(s.substr(start, t == std::string::npos ? std::string::npos : t - start));
      if (t == std::string::npos) break;
      start = t + 1;
    }
    return v;
  };
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto cols = split(line);
    if (header.empty()) {
      header = cols;
      continue;
    }
    auto col = [&](const char* name) -> std::string {
      for (size_t i = 0; i < header.size() && i < cols.size(); ++i)
        if (header[i] == name) return cols[i];
      return {};
    };
    ManifestRow r;
    r.path = col("path");
    r.flink_version = col("flink_version");
    r.state_backend = col("state_backend");
    r.kind = col("kind");
    r.savepoint_format = col("savepoint_format");
    r.metadata_version = std::atoi(col("metadata_version").c_str());
    r.checkpoint_id = std::atoll(col("checkpoint_id").c_str());
    std::string n = col("num_operators");
    r.num_operators = n.empty() ? -1 : std::atoi(n.c_str());
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<ManifestRow> rows_matching(const std::string& needle) {
  std::vector<ManifestRow> out;
  for (auto& r : manifest())
    if (r.path.find(needle) != std::string::npos) out.push_back(r);
  return out;
}

const StateInfo* find_state(const std::vector<OperatorStates>& ops, const std::string& op_id, const std::string& name) {
  for (const auto& op : ops)
    if (op.operator_id == op_id)
      for (const auto& s : op.states)
        if (s.name == name) return &s;
  return nullptr;
}

}  // namespace fsp::test
