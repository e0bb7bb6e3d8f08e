// decode_bench: how fast open_snapshot (mmap + decode) and encode_metadata
// are on one _metadata file, and how much memory one decode takes.
//
//   decode_bench FILE [--iterations N] [--json] [--no-encode]
//   decode_bench FILE --once
//
// 1. Memory, in a forked child that has done nothing else yet: VmRSS before,
//    one open_snapshot, then ru_maxrss and VmHWM (the peak RSS) and VmRSS.
//    The child also reports its (first, cold-allocator) open time.
// 2. open_snapshot N times (steady_clock): mmap + decode into the model;
//    the time to drop the Snapshot (free + munmap) is measured apart.
// 3. decode_metadata N times on the file already read into memory (no page
//    faults: the decoder's own speed).
// 4. summarize() N times on the decoded snapshot: the library side of
//    `flink-savepoint inspect` (type, backend, distinct files).
// 5. encode_metadata N times on the decoded snapshot (checks the bytes are
//    the file's).
// --once only opens the file once, counts the handles and exits: a whole
// process to time from outside (hyperfine, /usr/bin/time -v).
// MB are 10^6 bytes.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/summary.h"

namespace {

using namespace fsp;
using bench::Clock;
using bench::seconds_since;

struct Options {
  std::string file;
  int iterations = 10;
  bool json = false;
  bool encode = true;
  bool once = false;
  bool summary = true;
};

[[noreturn]] void usage(const std::string& why) {
  if (!why.empty()) std::cerr << "decode_bench: " << why << "\n";
  std::cerr << "usage: decode_bench FILE [--iterations N] [--json] [--no-encode] [--no-summary]\n"
               "       decode_bench FILE --once\n";
  std::exit(64);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iterations" || a == "-n") {
      if (i + 1 >= argc) usage(a + " needs a value");
      char* end = nullptr;
      long n = std::strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 100000) usage("--iterations must be an integer >= 1");
      o.iterations = static_cast<int>(n);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--once") {
      o.once = true;
    } else if (a == "--no-summary") {
      o.summary = false;
    } else if (a == "--no-encode") {
      o.encode = false;
    } else if (a == "-h" || a == "--help") {
      usage("");
    } else if (!a.empty() && a[0] == '-' && a != "-") {
      usage("unknown option " + a);
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      usage("more than one file");
    }
  }
  if (o.file.empty()) usage("missing FILE");
  if (o.file == "-" && !o.once) usage("standard input (-) only works with --once");
  return o;
}

// What the memory child reports through a pipe (plain data).
struct MemoryReport {
  int ok = 0;
  int exit_code = 70;   // when !ok: the error's exit code
  long rss_before_kb = 0;
  long hwm_before_kb = 0;
  long maxrss_kb = 0;   // ru_maxrss after one open_snapshot
  long hwm_kb = 0;      // VmHWM after one open_snapshot
  long rss_after_kb = 0;
  long rss_dropped_kb = 0;  // VmRSS after the Snapshot is dropped
  double first_open_s = 0;
  uint64_t file_size = 0;
  bench::HandleCounts counts;
  char error[512] = {};
};

MemoryReport measure_memory_in_child(const std::string& file) {
  MemoryReport rep;
  int fds[2];
  if (pipe(fds) != 0) {
    std::snprintf(rep.error, sizeof rep.error, "pipe: %s", std::strerror(errno));
    return rep;
  }
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    std::snprintf(rep.error, sizeof rep.error, "fork: %s", std::strerror(errno));
    return rep;
  }
  if (pid == 0) {
    close(fds[0]);
    MemoryReport r;
    r.rss_before_kb = bench::proc_status_kb("VmRSS");
    r.hwm_before_kb = bench::proc_status_kb("VmHWM");
    {
      auto t0 = Clock::now();
      auto sf = open_snapshot(file);
      r.first_open_s = seconds_since(t0);
      if (sf) {
        r.ok = 1;
        r.file_size = sf->file_size;
        r.counts = bench::count_handles(sf->snapshot);
        r.maxrss_kb = bench::maxrss_kb();
        r.hwm_kb = bench::proc_status_kb("VmHWM");
        r.rss_after_kb = bench::proc_status_kb("VmRSS");
      } else {
        std::snprintf(r.error, sizeof r.error, "%s", sf.error().to_string().c_str());
        r.exit_code = 1;
      }
    }
    r.rss_dropped_kb = bench::proc_status_kb("VmRSS");
    const char* p = reinterpret_cast<const char*>(&r);
    size_t left = sizeof r;
    while (left > 0) {
      ssize_t n = write(fds[1], p, left);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  char* p = reinterpret_cast<char*>(&rep);
  size_t got = 0;
  while (got < sizeof rep) {
    ssize_t n = read(fds[0], p + got, sizeof rep - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != sizeof rep) {
    rep = MemoryReport{};
    std::snprintf(rep.error, sizeof rep.error, "the measuring child process failed (status %d)", status);
  }
  return rep;
}

std::optional<std::string> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

nlohmann::json stats_json(const bench::Stats& s, double bytes) {
  return {{"best_s", s.best},
          {"median_s", s.median},
          {"mean_s", s.mean},
          {"worst_s", s.worst},
          {"best_mb_per_s", bytes / s.best / 1e6},
          {"median_mb_per_s", bytes / s.median / 1e6}};
}

nlohmann::json counts_json(const bench::HandleCounts& c) {
  return {{"operators", c.operators},       {"subtask_states", c.subtasks},
          {"stream_handles", c.stream},     {"shared_entries", c.shared_entries},
          {"private_entries", c.private_entries}, {"keyed_handles", c.keyed},
          {"operator_handles", c.operator_handles}, {"channel_handles", c.channel},
          {"all_handles", c.total()},       {"state_size", c.state_size}};
}

// One open_snapshot and a walk over the handles, nothing else.
int run_once(const Options& o) {
  auto t0 = Clock::now();
  auto sf = open_snapshot(o.file);
  if (!sf) {
    std::cerr << "decode_bench: " << sf.error().to_string() << "\n";
    return 1;
  }
  auto c = bench::count_handles(sf->snapshot);
  double t = seconds_since(t0);
  std::printf("%s: %.1f MB, %" PRIu64 " stream handles, %" PRIu64 " keyed, %" PRIu64 " operators; open+count %.1f ms\n",
              o.file.c_str(), static_cast<double>(sf->file_size) / 1e6, c.stream, c.keyed, c.operators, t * 1e3);
  return 0;
}

int run(const Options& o) {
  if (o.once) return run_once(o);
  // 1. Memory of one decode in a fresh process (before this one grows).
  MemoryReport mem = measure_memory_in_child(o.file);
  if (!mem.ok) {
    std::cerr << "decode_bench: " << mem.error << "\n";
    return mem.exit_code;
  }
  const double size = static_cast<double>(mem.file_size);

  // 2. open_snapshot (mmap + decode), and dropping the result.
  std::vector<double> t_open, t_drop;
  bench::HandleCounts counts;
  for (int i = 0; i < o.iterations; ++i) {
    auto t0 = Clock::now();
    auto sf = open_snapshot(o.file);
    t_open.push_back(seconds_since(t0));
    if (!sf) {
      std::cerr << "decode_bench: " << sf.error().to_string() << "\n";
      return 1;
    }
    if (i == 0) counts = bench::count_handles(sf->snapshot);
    auto t1 = Clock::now();
    { auto gone = std::move(sf); }
    t_drop.push_back(seconds_since(t1));
  }

  // 3. decode_metadata on bytes already in memory.
  auto bytes = read_all(o.file);
  if (!bytes) {
    std::cerr << "decode_bench: cannot read " << o.file << "\n";
    return 66;
  }
  std::vector<double> t_decode;
  for (int i = 0; i < o.iterations; ++i) {
    auto t0 = Clock::now();
    auto s = decode_metadata(*bytes);
    t_decode.push_back(seconds_since(t0));
    if (!s) {
      std::cerr << "decode_bench: " << s.error().to_string() << "\n";
      return 1;
    }
  }

  auto decoded = decode_metadata(*bytes);
  if (!decoded) return 65;

  // 4. summarize(): what `inspect` computes over the model (counts only),
  // and with the per-file list that `inspect --json` prints.
  std::vector<double> t_summary, t_summary_files;
  size_t summary_files = 0;
  if (o.summary) {
    for (int i = 0; i < o.iterations; ++i) {
      auto t0 = Clock::now();
      SnapshotSummary sum = summarize(*decoded, /*list_files=*/false);
      t_summary.push_back(seconds_since(t0));
      summary_files = static_cast<size_t>(sum.file_count);
    }
    for (int i = 0; i < std::min(o.iterations, 3); ++i) {
      auto t0 = Clock::now();
      SnapshotSummary sum = summarize(*decoded, /*list_files=*/true);
      t_summary_files.push_back(seconds_since(t0));
    }
  }

  // 5. encode_metadata of the decoded snapshot.
  std::vector<double> t_encode;
  bool encode_same = false;
  if (o.encode) {
    const auto& s = decoded;
    for (int i = 0; i < o.iterations; ++i) {
      auto t0 = Clock::now();
      auto out = encode_metadata(*s);
      t_encode.push_back(seconds_since(t0));
      if (!out) {
        std::cerr << "decode_bench: encode failed: " << out.error().to_string() << "\n";
        return 70;
      }
      if (i == 0) encode_same = *out == *bytes;
    }
  }

  auto open = bench::stats(t_open), drop = bench::stats(t_drop), dec = bench::stats(t_decode),
       enc = bench::stats(t_encode), summ = bench::stats(t_summary);
  const double size_kb = size / 1024.0;
  auto mb = [](long kb) { return static_cast<double>(kb) * 1024.0 / 1e6; };

  if (o.json) {
    nlohmann::json j = {
        {"file", o.file},
        {"file_bytes", mem.file_size},
        {"iterations", o.iterations},
        {"handles", counts_json(counts)},
        {"open_snapshot", stats_json(open, size)},
        {"first_open_fresh_process_s", mem.first_open_s},
        {"drop_snapshot", {{"best_s", drop.best}, {"median_s", drop.median}}},
        {"decode_in_memory", stats_json(dec, size)},
        {"memory",
         {{"rss_before_kb", mem.rss_before_kb},
          {"hwm_before_kb", mem.hwm_before_kb},
          {"peak_ru_maxrss_kb", mem.maxrss_kb},
          {"peak_vmhwm_kb", mem.hwm_kb},
          {"rss_after_open_kb", mem.rss_after_kb},
          {"rss_after_drop_kb", mem.rss_dropped_kb},
          {"peak_over_file_size", static_cast<double>(mem.hwm_kb) / size_kb}}},
    };
    if (o.summary) {
      j["summarize"] = stats_json(summ, size);
      j["summarize"]["files"] = summary_files;
    }
    if (o.encode) {
      j["encode"] = stats_json(enc, size);
      j["encode"]["same_bytes"] = encode_same;
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }

  const auto& c = counts;
  std::printf("%s: %.1f MB (%" PRIu64 " bytes)\n", o.file.c_str(), size / 1e6, mem.file_size);
  std::printf("  handles: %" PRIu64 " stream (%" PRIu64 " shared, %" PRIu64 " private), %" PRIu64 " keyed, %" PRIu64
              " operator; %" PRIu64 " operators, %" PRIu64 " subtask states\n",
              c.stream, c.shared_entries, c.private_entries, c.keyed, c.operator_handles, c.operators, c.subtasks);
  std::printf("  %-3d iterations                      best       median      MB/s (best / median)\n", o.iterations);
  auto row = [&](const char* what, const bench::Stats& s) {
    std::printf("  %-32s %8.1f ms %8.1f ms   %7.0f / %7.0f\n", what, s.best * 1e3, s.median * 1e3, size / s.best / 1e6,
                size / s.median / 1e6);
  };
  row("open_snapshot (mmap+decode)", open);
  row("decode_metadata (in memory)", dec);
  if (o.summary) {
    row("summarize (inspect's model walk)", summ);
    row("summarize with the file list (--json)", bench::stats(t_summary_files));
  }
  if (o.encode) row("encode_metadata", enc);
  std::printf("  %-32s %8.1f ms %8.1f ms\n", "drop Snapshot (free+munmap)", drop.best * 1e3, drop.median * 1e3);
  std::printf("  first open in a fresh process: %.1f ms\n", mem.first_open_s * 1e3);
  if (o.encode) std::printf("  encode gives back the file's bytes: %s\n", encode_same ? "yes" : "NO");
  std::printf("  peak RSS of one open_snapshot in a fresh process: ru_maxrss %.1f MB, VmHWM %.1f MB "
              "(%.2fx the file; %.1f MB before, %.1f MB after, %.1f MB once dropped)\n",
              mb(mem.maxrss_kb), mb(mem.hwm_kb), mem.hwm_kb / size_kb, mb(mem.rss_before_kb), mb(mem.rss_after_kb),
              mb(mem.rss_dropped_kb));
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(parse_args(argc, argv)); }
