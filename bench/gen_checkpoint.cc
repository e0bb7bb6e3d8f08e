// gen_checkpoint: writes a large, realistic RocksDB incremental checkpoint
// _metadata for the decode benchmark (see bench/README.md).
//
//   gen_checkpoint OUT_PATH [--operators N] [--parallelism P] [--shared-per-subtask K]
//                  [--version 3..7] [--seed S] [--max-parallelism M] [--sources N]
//                  [--stateless N] [--absolute-private] [--trailer-from FILE] [--no-verify]
//
// The snapshot is built with the model (every string lives in chunks of
// Snapshot::arena, the handles are views), encoded with encode_metadata,
// written, then decoded back and checked (handle counts, and re-encoding
// gives the same bytes).
//
// Shape (defaults: 8 keyed operators x 1024 subtasks x ~70 shared files,
// about 100 MB and 614k stream handles):
//   * --sources FLIP-27 source operators: coordinator state (code 1) and per
//     subtask managed operator state (code 4, delegate code 6).
//   * --operators keyed operators: every subtask holds one
//     IncrementalRemoteKeyedStateHandle (code 11) with a meta data handle
//     (code 6 or code 1), K +- K/4 shared SST files (code 2, absolute paths
//     s3://flink-prod-bucket/checkpoints/<job>/shared/op_<opid>/<uuid>) and
//     private MANIFEST / CURRENT / OPTIONS files (code 6, or code 2 under
//     .../chk-42/ with --absolute-private).
//   * --stateless operators with no subtask state (chained maps, sinks).
// Operator ids of the source and keyed operators are the murmur3 hashes of
// their uids ("source-orders-<k>", "aggregate-<k>"), as Flink derives them;
// names and uids themselves are stored from v5 on.
#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/murmur3.h"

namespace {

using namespace fsp;

struct Options {
  std::string out;
  int operators = 8;
  int parallelism = 1024;
  int shared_per_subtask = 70;
  int version = 4;
  uint64_t seed = 1;
  int max_parallelism = 32768;
  int sources = 1;
  int stateless = 2;
  bool absolute_private = false;
  std::string trailer_from;
  bool verify = true;
};

[[noreturn]] void usage(const std::string& why) {
  if (!why.empty()) std::cerr << "gen_checkpoint: " << why << "\n";
  std::cerr << "usage: gen_checkpoint OUT_PATH [--operators N] [--parallelism P] [--shared-per-subtask K]\n"
               "                      [--version 3..7] [--seed S] [--max-parallelism M] [--sources N]\n"
               "                      [--stateless N] [--absolute-private] [--trailer-from FILE] [--no-verify]\n"
               "defaults: 8 keyed operators, parallelism 1024, 70 shared files per subtask, version 4,\n"
               "          1 source operator, 2 stateless operators, max parallelism 32768 (~100 MB)\n";
  std::exit(64);
}

Options parse_args(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  auto num = [&](int& i, long lo, long hi) -> long {
    std::string flag = argv[i];
    std::string v = need(i);
    char* end = nullptr;
    long x = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || x < lo || x > hi)
      usage(flag + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--operators") o.operators = static_cast<int>(num(i, 0, 10000));
    else if (a == "--parallelism") o.parallelism = static_cast<int>(num(i, 1, 32768));
    else if (a == "--shared-per-subtask") o.shared_per_subtask = static_cast<int>(num(i, 0, 100000));
    else if (a == "--version") o.version = static_cast<int>(num(i, 3, 7));
    else if (a == "--seed") o.seed = static_cast<uint64_t>(num(i, 0, 0x7fffffffL));
    else if (a == "--max-parallelism") o.max_parallelism = static_cast<int>(num(i, 1, 32768));
    else if (a == "--sources") o.sources = static_cast<int>(num(i, 0, 10000));
    else if (a == "--stateless") o.stateless = static_cast<int>(num(i, 0, 10000));
    else if (a == "--absolute-private") o.absolute_private = true;
    else if (a == "--trailer-from") o.trailer_from = need(i);
    else if (a == "--no-verify") o.verify = false;
    else if (a == "-h" || a == "--help") usage("");
    else if (!a.empty() && a[0] == '-') usage("unknown option " + a);
    else if (o.out.empty()) o.out = a;
    else usage("more than one output path");
  }
  if (o.out.empty()) usage("missing OUT_PATH");
  if (o.parallelism > o.max_parallelism) usage("--parallelism exceeds --max-parallelism");
  return o;
}

// splitmix64: small, fast, reproducible across platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }

 private:
  uint64_t s_;
};

// Appends strings into 1 MiB chunks owned by Snapshot::arena. A chunk is
// reserved up front and never grows past its capacity, so the views stay
// valid (std::deque::push_back does not move existing elements).
class Pool {
 public:
  explicit Pool(Snapshot& s) : s_(s) {}
  Str add(std::string_view v) {
    if (cur_ == nullptr || cur_->capacity() - cur_->size() < v.size()) {
      s_.arena.emplace_back();
      cur_ = &s_.arena.back();
      cur_->reserve(std::max<size_t>(kChunk, v.size()));
    }
    size_t at = cur_->size();
    cur_->append(v);
    return Str(cur_->data() + at, v.size());
  }
  // Big-endian longs, as BeLongs wants them.
  BeLongs longs(const std::vector<int64_t>& v) {
    std::string raw;
    for (int64_t x : v)
      for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>(static_cast<uint64_t>(x) >> (56 - 8 * i)));
    return BeLongs{add(raw)};
  }
  size_t bytes() const {
    size_t n = 0;
    for (const auto& c : s_.arena) n += c.size();
    return n;
  }

 private:
  static constexpr size_t kChunk = 1 << 20;
  Snapshot& s_;
  std::string* cur_ = nullptr;
};

std::string uuid(Rng& r) {
  uint64_t hi = r.next(), lo = r.next();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // IETF variant
  char b[37];
  std::snprintf(b, sizeof b, "%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64, hi >> 32,
                (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48, static_cast<uint64_t>(lo & 0xFFFFFFFFFFFFULL));
  return b;
}

std::string random_bytes(Rng& r, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t x = r.next();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(x >> (8 * j));
  }
  return s;
}

OperatorId random_id(Rng& r) {
  OperatorId id{};
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t x = r.next();
    for (size_t j = 0; j < 8; ++j) id[i + j] = static_cast<uint8_t>(x >> (8 * j));
  }
  return id;
}

// Flink's KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex.
KeyGroupRange range_for_operator(int max_p, int p, int i) {
  int64_t start = (static_cast<int64_t>(i) * max_p + p - 1) / p;
  int64_t end = (static_cast<int64_t>(i + 1) * max_p - 1) / p;
  return KeyGroupRange{static_cast<int32_t>(start), static_cast<int32_t>(end - start + 1)};
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}


// The v4+ trailer: the Java-serialized CheckpointProperties of a retained
// checkpoint, written by the project's own writer (byte-identical to what
// Flink writes; tests/java_serialization_writer_test.cc), or taken from
// --trailer-from FILE (the last AC ED 00 05 to the end of that _metadata).
std::string load_trailer(const Options& o, std::string& source) {
  if (!o.trailer_from.empty()) {
    auto bytes = read_file(o.trailer_from);
    if (!bytes) usage("cannot read --trailer-from " + o.trailer_from);
    size_t at = bytes->rfind(std::string("\xAC\xED\x00\x05", 4));
    if (at == std::string::npos) usage(o.trailer_from + " holds no Java serialization stream (AC ED 00 05)");
    source = o.trailer_from;
    return bytes->substr(at);
  }
  SnapshotProperties p = checkpoint_properties_for_checkpoint();
  p.discard_cancelled = p.discard_failed = p.discard_suspended = true;  // as Flink's test checkpoints
  source = "write_checkpoint_properties (CheckpointType \"Checkpoint\", FORWARD_BACKWARD)";
  return write_checkpoint_properties(p);
}

struct Generated {
  Snapshot snapshot;
  bench::HandleCounts counts;  // counted while building
};

void build(const Options& o, Snapshot& s, bench::HandleCounts& c) {
  Rng r(o.seed);
  Pool pool(s);
  s.version = o.version;
  s.checkpoint_id = 42;

  const std::string job = [&] {
    std::string u = uuid(r);
    u.erase(std::remove(u.begin(), u.end(), '-'), u.end());
    return u;
  }();
  const std::string base = "s3://flink-prod-bucket/checkpoints/" + job;
  const std::string exclusive = base + "/chk-" + std::to_string(s.checkpoint_id) + "/";

  const Str current = pool.add("CURRENT");
  const Str manifest = pool.add("MANIFEST-000004");
  const Str source_state = pool.add("SourceReaderState");
  const Str union_state = pool.add("topic-partition-offset-states");
  const BeLongs one_offset = pool.longs({0});
  const Str empty;

  // A stream handle for an exclusive (chk-42) file: relative (6) or absolute (2).
  auto exclusive_file = [&](int64_t size) {
    StreamHandle h;
    std::string id = uuid(r);
    if (o.absolute_private) {
      h.code = code::kFile;
      h.path = pool.add(exclusive + id);
    } else {
      h.code = code::kRelative;
      h.path = pool.add(id);
    }
    h.state_size = size;
    return h;
  };

  const int n_ops = o.sources + o.operators + o.stateless;
  s.operators.resize(static_cast<size_t>(n_ops));
  int op_index = 0;

  for (int k = 0; k < o.sources; ++k) {
    OperatorState& op = s.operators[static_cast<size_t>(op_index++)];
    const std::string uid = "source-orders-" + std::to_string(k);
    op.id = operator_id_from_uid(uid);  // as Flink derives it from .uid(...)
    if (o.version >= 5) {
      op.name = pool.add("Source: kafka-orders-" + std::to_string(k));
      op.uid = pool.add(uid);
    }
    op.parallelism = o.parallelism;
    op.max_parallelism = o.max_parallelism;
    op.coordinator.code = code::kByteStream;
    op.coordinator.path = pool.add(uuid(r));
    op.coordinator.set_data(pool.add(random_bytes(r, 200 + static_cast<size_t>(r.range(0, 300)))));
    op.coordinator.state_size = static_cast<int64_t>(op.coordinator.data().size());
    ++c.operators;
    ++c.stream;
    c.state_size += op.coordinator.state_size;
    op.subtasks.resize(static_cast<size_t>(o.parallelism));
    for (int i = 0; i < o.parallelism; ++i) {
      SubtaskState& st = op.subtasks[static_cast<size_t>(i)];
      st.index = i;
      st.managed_op_flag = 1;
      OperatorHandle& h = st.managed_operator;
      h.code = code::kPartitionableOperator;
      h.states.push_back(OperatorStateEntry{source_state, 0, one_offset});
      int64_t second = r.range(64, 512);
      h.states.push_back(OperatorStateEntry{union_state, 1, pool.longs({second})});
      h.delegate = exclusive_file(second + r.range(64, 2048));
      ++c.subtasks;
      ++c.operator_handles;
      ++c.stream;
      c.state_size += h.delegate.state_size;
    }
  }

  for (int k = 0; k < o.operators; ++k) {
    OperatorState& op = s.operators[static_cast<size_t>(op_index++)];
    const std::string uid = "aggregate-" + std::to_string(k);
    op.id = operator_id_from_uid(uid);
    if (o.version >= 5) {
      op.name = pool.add("KeyedProcess -> Map (aggregate-" + std::to_string(k) + ")");
      op.uid = pool.add(uid);
    }
    op.parallelism = o.parallelism;
    op.max_parallelism = o.max_parallelism;
    ++c.operators;
    const std::string shared_dir = base + "/shared/op_" + hex(op.id) + "/";
    op.subtasks.resize(static_cast<size_t>(o.parallelism));
    for (int i = 0; i < o.parallelism; ++i) {
      SubtaskState& st = op.subtasks[static_cast<size_t>(i)];
      st.index = i;
      ++c.subtasks;
      KeyedHandle& h = st.managed_keyed;
      h.code = code::kIncrementalV2;
      h.checkpoint_id = s.checkpoint_id;
      h.backend_id = pool.add(uuid(r));
      h.range = range_for_operator(o.max_parallelism, o.parallelism, i);
      ++c.keyed;
      int64_t uploaded = 0;  // what this checkpoint uploaded: checkpointed size

      // Meta data handle: mostly a small file in chk-42, sometimes inline.
      if (r.range(0, 3) == 0) {
        h.delegate.code = code::kByteStream;
        h.delegate.path = pool.add(exclusive + uuid(r));
        h.delegate.set_data(pool.add(random_bytes(r, static_cast<size_t>(r.range(300, 900)))));
        h.delegate.state_size = static_cast<int64_t>(h.delegate.data().size());
      } else {
        h.delegate = exclusive_file(r.range(900, 4000));
      }
      uploaded += h.delegate.size();
      ++c.stream;

      // Shared SST files: K +- K/4, numbered upwards like RocksDB does.
      int spread = o.shared_per_subtask / 4;
      int n_shared = static_cast<int>(r.range(o.shared_per_subtask - spread, o.shared_per_subtask + spread));
      h.shared_state.resize(static_cast<size_t>(n_shared));
      int64_t file_no = r.range(8, 2000);
      char sst[32];
      for (auto& e : h.shared_state) {
        file_no += r.range(1, 6);
        std::snprintf(sst, sizeof sst, "%06" PRId64 ".sst", file_no);
        e.local_path = pool.add(sst);
        e.handle.code = code::kFile;
        e.handle.state_size = r.range(1 << 20, 64 << 20);
        e.handle.path = pool.add(shared_dir + uuid(r));
        if (r.range(0, 9) == 0) uploaded += e.handle.state_size;  // new in this checkpoint
      }
      c.shared_entries += h.shared_state.size();
      c.stream += h.shared_state.size();

      // Private files: MANIFEST, CURRENT, OPTIONS.
      char options[32];
      std::snprintf(options, sizeof options, "OPTIONS-%06" PRId64, file_no + 1);
      h.private_state.push_back(NamedHandle{manifest, exclusive_file(r.range(200, 20000))});
      h.private_state.push_back(NamedHandle{current, exclusive_file(16)});
      h.private_state.push_back(NamedHandle{pool.add(options), exclusive_file(r.range(7000, 12000))});
      for (const auto& e : h.private_state) uploaded += e.handle.state_size;
      c.private_entries += h.private_state.size();
      c.stream += h.private_state.size();

      h.checkpointed_size = uploaded;
      h.state_handle_id = pool.add(uuid(r));
      c.state_size += h.size();
    }
  }

  for (int k = 0; k < o.stateless; ++k) {
    OperatorState& op = s.operators[static_cast<size_t>(op_index++)];
    op.id = random_id(r);
    if (o.version >= 5) {
      op.name = pool.add(k == 0 ? std::string("Sink: Writer") : "Map (enrich-" + std::to_string(k) + ")");
      op.uid = empty;
    }
    op.parallelism = o.parallelism;
    op.max_parallelism = o.max_parallelism;
    ++c.operators;
  }

  s.trailer = Bytes();  // set by the caller for v4+
}

int run(const Options& o) {
  auto t0 = bench::Clock::now();
  Generated g;
  build(o, g.snapshot, g.counts);
  std::string trailer_source;
  if (o.version >= 4) {
    Pool pool(g.snapshot);
    g.snapshot.trailer = pool.add(load_trailer(o, trailer_source));
  }
  double t_build = bench::seconds_since(t0);

  auto t1 = bench::Clock::now();
  auto enc = encode_metadata(g.snapshot);
  double t_encode = bench::seconds_since(t1);
  if (!enc) {
    std::cerr << "gen_checkpoint: encode failed: " << enc.error().to_string() << "\n";
    return 70;
  }
  const std::string& bytes = *enc;

  auto counted = bench::count_handles(g.snapshot);
  if (!(counted == g.counts)) {
    std::cerr << "gen_checkpoint: internal error: counts while building differ from a walk of the model\n";
    return 70;
  }

  {
    std::FILE* f = std::fopen(o.out.c_str(), "wb");
    if (!f) {
      std::cerr << "gen_checkpoint: cannot create " << o.out << ": " << std::strerror(errno) << "\n";
      return 73;
    }
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
      std::cerr << "gen_checkpoint: cannot write " << o.out << "\n";
      return 74;
    }
  }

  const auto& c = g.counts;
  std::printf("wrote %s: %zu bytes (%.1f MB), metadata v%d, checkpoint %" PRId64 "\n", o.out.c_str(), bytes.size(),
              static_cast<double>(bytes.size()) / 1e6, o.version, g.snapshot.checkpoint_id);
  std::printf("  operators %" PRIu64 " (%d source, %d keyed, %d stateless), subtask states %" PRIu64 "\n", c.operators,
              o.sources, o.operators, o.stateless, c.subtasks);
  std::printf("  stream handles %" PRIu64 " (shared %" PRIu64 ", private %" PRIu64 "), keyed %" PRIu64
              ", operator %" PRIu64 ", all handles %" PRIu64 "\n",
              c.stream, c.shared_entries, c.private_entries, c.keyed, c.operator_handles, c.total());
  std::printf("  state size %.3f TB (%" PRId64 " bytes)\n", static_cast<double>(c.state_size) / 1e12, c.state_size);
  if (o.version >= 4) std::printf("  trailer: %zu bytes from %s\n", g.snapshot.trailer.size(), trailer_source.c_str());
  std::printf("  build %.2f s (arena %.1f MB), encode %.3f s\n", t_build, static_cast<double>(Pool(g.snapshot).bytes()) / 1e6,
              t_encode);

  if (o.verify) {
    auto back = read_file(o.out);
    if (!back || *back != bytes) {
      std::cerr << "gen_checkpoint: verify: the file does not hold the bytes written\n";
      return 74;
    }
    auto dec = decode_metadata(*back);
    if (!dec) {
      std::cerr << "gen_checkpoint: verify: decoding failed: " << dec.error().to_string() << "\n";
      return 70;
    }
    auto dc = bench::count_handles(*dec);
    if (!(dc == c)) {
      std::cerr << "gen_checkpoint: verify: decoded handle counts differ (stream " << dc.stream << " vs " << c.stream
                << ", keyed " << dc.keyed << " vs " << c.keyed << ")\n";
      return 70;
    }
    auto again = encode_metadata(*dec);
    if (!again || *again != bytes) {
      std::cerr << "gen_checkpoint: verify: decode + encode does not give back the same bytes\n";
      return 70;
    }
    std::printf("  verified: decoded back, same handle counts, re-encodes to the same bytes\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(parse_args(argc, argv)); }
