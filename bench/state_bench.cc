// State-reader throughput on the largest real savepoint directories of
// ../shared/testdata (by bytes of state files), headers only and with data
// statistics. Usage: state_bench [SHARED_DIR] [--top N] [--iterations N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/walk.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::string shared = std::string(FSP_BENCH_SOURCE_DIR) + "/../shared";
  int top = 10, iterations = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--top" && i + 1 < argc) top = std::atoi(argv[++i]);
    else if (a == "--iterations" && i + 1 < argc) iterations = std::atoi(argv[++i]);
    else shared = a;
  }
  fs::path repo = fs::path(shared) / "testdata" / "flink-repo";
  std::ifstream manifest(repo / "MANIFEST.tsv");
  if (!manifest) {
    std::cerr << "state_bench: " << (repo / "MANIFEST.tsv").string() << " not found (pass the shared directory)\n";
    return 66;
  }
  // Largest directories by the bytes the state reader actually reads: every
  // state handle except the SST/MANIFEST files of RocksDB incremental/native
  // handles (only their meta data handle holds a serialization proxy).
  struct Dir { fs::path metadata; uintmax_t state_bytes; };
  auto bytes_read = [](const fsp::Snapshot& s) {
    uintmax_t n = 0;
    fsp::for_each_stream_handle(s, [&](const fsp::StreamHandle& h, const fsp::HandleLocation& loc) {
      std::string role = loc.role;
      if (role != "shared state" && role != "private state" && std::string(loc.slot).find("raw") == std::string::npos)
        n += static_cast<uintmax_t>(h.size());
    });
    return n;
  };
  std::vector<Dir> dirs;
  std::string line;
  while (std::getline(manifest, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("path\t", 0) == 0) continue;
    fs::path m = repo / line.substr(0, line.find('\t'));
    auto sf = fsp::open_snapshot(m.string());
    if (!sf.ok()) continue;
    dirs.push_back({m, bytes_read(sf->snapshot)});
  }
  std::sort(dirs.begin(), dirs.end(), [](const Dir& a, const Dir& b) { return a.state_bytes > b.state_bytes; });
  if (static_cast<int>(dirs.size()) > top) dirs.resize(static_cast<size_t>(top));

  std::printf("%-78s %10s %8s %12s %12s\n", "snapshot (most state bytes read)", "bytes read", "states", "headers MB/s", "stats MB/s");
  double total_bytes = 0, total_h = 0, total_s = 0;
  for (const auto& d : dirs) {
    auto sf = fsp::open_snapshot(d.metadata.string());
    if (!sf.ok()) {
      std::cerr << sf.error().to_string() << "\n";
      return 65;
    }
    size_t states = 0;
    auto time_it = [&](bool statistics) {
      fsp::StateReadOptions o;
      o.statistics = statistics;
      double best = 1e100;
      for (int it = 0; it < iterations; ++it) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = fsp::read_states(*sf, o);
        auto t1 = std::chrono::steady_clock::now();
        if (!r.ok()) return -1.0;
        states = 0;
        for (const auto& os : *r) states += os.states.size();
        best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
      }
      return best;
    };
    double th = time_it(false), ts = time_it(true);
    double mb = static_cast<double>(d.state_bytes) / 1e6;
    total_bytes += mb;
    total_h += th;
    total_s += ts;
    std::string name = fs::relative(d.metadata.parent_path(), repo).string();
    if (name.size() > 78) name = "..." + name.substr(name.size() - 75);
    std::printf("%-78s %10ju %8zu %12.0f %12.0f\n", name.c_str(), d.state_bytes, states, mb / th, mb / ts);
  }
  std::printf("\noverall: %.2f MB in %.2f ms (headers only, %.0f MB/s), %.2f ms with statistics (%.0f MB/s); best of %d runs each\n",
              total_bytes, total_h * 1e3, total_bytes / total_h, total_s * 1e3, total_bytes / total_s, iterations);
  return 0;
}
