// relocate_bench: times `relocate` end to end on a large checkpoint.
//
//   relocate_bench [METADATA] [--from PREFIX --to PREFIX] [--runs N] [--out DIR] [--no-fsync-dir]
//
// METADATA defaults to a checkpoint generated in memory (8 keyed operators x
// 1024 subtasks x ~73 absolute shared SST handles: ~100 MB, ~600k absolute
// handles), written to --out first. `./build/bench/gen_checkpoint
// /tmp/big/_metadata` writes the same shape. --from/--to default to
// s3://flink-prod-bucket -> s3://flink-dr-bucket/restored.
//
// Each run: open + decode, relocate, encode, write_metadata_atomically
// (temporary file, fsync, read back + decode + compare, rename). Prints the
// time of each phase (best and median of the runs).
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/relocate.h"
#include "flink_savepoint/snapshot_file.h"

namespace {

using namespace fsp;
namespace fs = std::filesystem;

// A fallback generator: same shape as gen_checkpoint's default.
std::string generate(int operators, int parallelism, int shared_per_subtask) {
  Snapshot s;
  s.version = 4;
  s.checkpoint_id = 42;
  s.trailer = s.store(std::string("\xAC\xED\x00\x05\x70", 5));
  uint64_t x = 12345;
  auto rnd = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  auto uuid = [&] {
    char b[40];
    std::snprintf(b, sizeof b, "%016" PRIx64 "%016" PRIx64, rnd(), rnd());
    return std::string(b);
  };
  const std::string base = "s3://flink-prod-bucket/checkpoints/" + uuid();
  s.operators.resize(static_cast<size_t>(operators));
  for (int k = 0; k < operators; ++k) {
    auto& op = s.operators[static_cast<size_t>(k)];
    op.id[0] = static_cast<uint8_t>(k + 1);
    op.parallelism = parallelism;
    op.max_parallelism = 32768;
    op.subtasks.resize(static_cast<size_t>(parallelism));
    for (int i = 0; i < parallelism; ++i) {
      auto& st = op.subtasks[static_cast<size_t>(i)];
      st.index = i;
      auto& h = st.managed_keyed;
      h.code = code::kIncrementalV2;
      h.checkpoint_id = 42;
      h.backend_id = s.store(uuid().substr(0, 36));
      h.range = {i * 32, 32};
      h.delegate.code = code::kRelative;
      h.delegate.path = s.store(uuid());
      h.delegate.state_size = 2000;
      for (int f = 0; f < shared_per_subtask; ++f) {
        NamedHandle e;
        char sst[32];
        std::snprintf(sst, sizeof sst, "%06d.sst", 100 + f);
        e.local_path = s.store(sst);
        e.handle.code = code::kFile;
        e.handle.state_size = static_cast<int64_t>(rnd() % (64 << 20));
        e.handle.path = s.store(base + "/shared/op_" + std::to_string(k) + "/" + uuid());
        h.shared_state.push_back(e);
      }
      h.state_handle_id = s.store(uuid().substr(0, 36));
    }
  }
  auto enc = encode_metadata(s);
  if (!enc) {
    std::cerr << "generation failed: " << enc.error().to_string() << "\n";
    std::exit(70);
  }
  return std::move(*enc);
}

}  // namespace

int main(int argc, char** argv) {
  std::string input, out_dir = "/tmp/fsp-relocate-bench";
  std::string from = "s3://flink-prod-bucket", to = "s3://flink-dr-bucket/restored";
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(64);
      }
      return argv[++i];
    };
    if (a == "--from") from = need();
    else if (a == "--to") to = need();
    else if (a == "--runs") runs = std::max(1, std::stoi(need()));
    else if (a == "--out") out_dir = need();
    else if (!a.empty() && a[0] == '-') {
      std::cerr << "usage: relocate_bench [METADATA] [--from P --to P] [--runs N] [--out DIR]\n";
      return 64;
    } else input = a;
  }
  fs::create_directories(out_dir);
  if (input.empty()) {
    input = out_dir + "/input_metadata";
    if (!fs::exists(input)) {
      auto t0 = bench::Clock::now();
      std::string bytes = generate(8, 1024, 73);
      FILE* f = std::fopen(input.c_str(), "wb");
      if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
        std::cerr << "cannot write " << input << "\n";
        return 73;
      }
      std::cout << "generated " << input << " (" << bytes.size() << " bytes) in " << bench::seconds_since(t0) << " s\n";
    }
  }
  const std::string target = out_dir + "/_metadata";

  std::vector<double> t_open, t_reloc, t_enc, t_write, t_total;
  uint64_t changed = 0, handles = 0, size = 0;
  for (int r = 0; r < runs; ++r) {
    std::error_code ec;
    fs::remove(target, ec);
    auto t0 = bench::Clock::now();
    auto sf = open_snapshot(input);
    if (!sf) {
      std::cerr << sf.error().to_string() << "\n";
      return 1;
    }
    auto t1 = bench::Clock::now();
    RelocateOptions o;
    o.rules = {{from, to}};
    auto rep = relocate(sf->snapshot, o);
    if (!rep) {
      std::cerr << rep.error().to_string() << "\n";
      return 1;
    }
    auto t2 = bench::Clock::now();
    auto bytes = encode_metadata(sf->snapshot);
    if (!bytes) {
      std::cerr << bytes.error().to_string() << "\n";
      return 1;
    }
    auto t3 = bench::Clock::now();
    Status st = write_metadata_atomically(target, sf->snapshot, *bytes);
    if (!st.ok()) {
      std::cerr << st.error().to_string() << "\n";
      return 1;
    }
    auto t4 = bench::Clock::now();
    auto secs = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    t_open.push_back(secs(t0, t1));
    t_reloc.push_back(secs(t1, t2));
    t_enc.push_back(secs(t2, t3));
    t_write.push_back(secs(t3, t4));
    t_total.push_back(secs(t0, t4));
    changed = rep->changed;
    handles = rep->absolute_paths;
    size = sf->file_size;
  }
  auto line = [](const char* name, const std::vector<double>& v) {
    auto s = bench::stats(v);
    std::printf("  %-34s best %7.3f s   median %7.3f s\n", name, s.best, s.median);
  };
  std::printf("relocate %s (%.1f MB): %" PRIu64 " of %" PRIu64 " absolute paths rewritten, %d run(s)\n", input.c_str(),
              static_cast<double>(size) / 1e6, changed, handles, runs);
  line("open + decode", t_open);
  line("relocate", t_reloc);
  line("encode", t_enc);
  line("write (fsync, read back, compare)", t_write);
  line("total", t_total);
  std::printf("  peak RSS %.0f MB\n", static_cast<double>(bench::maxrss_kb()) / 1024.0);
  return 0;
}
