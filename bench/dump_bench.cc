// dump benchmark: generates a large canonical (full-format) savepoint of a
// heap job, and a RocksDB checkpoint whose SST files librocksdb writes, then
// times dump_states() + JSON Lines over them (output counted, not written).
// Reports MB/s of state bytes and peak RSS. See bench/README.md.
//
//   dump_bench [OUT_DIR] [ENTRIES]   (default: a temp dir, 4,000,000 entries)
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#if FSP_HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#endif

#include "bench/bench_common.h"
#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/dump.h"
#include "flink_savepoint/dump_json.h"
#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state_value.h"

namespace {

using fsp::ByteWriter;
namespace fs = std::filesystem;

const char* kLong = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
const char* kString = "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot";
const char* kVoid = "org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot";
constexpr int32_t kMaxP = 128, kP = 4;

void simple_snapshot(ByteWriter& w, const char* cls) {
  w.i32(2);
  w.utf(cls);
  w.i32(3);
}

// KeyedBackendSerializationProxy v6: Long keys, ValueState<String> "profile".
void keyed_proxy(ByteWriter& w) {
  w.i32(6);
  w.boolean(false);
  simple_snapshot(w, kLong);
  w.u16(1);
  w.utf("profile");
  w.i32(0);
  w.i32(1);
  w.utf("KEYED_STATE_TYPE");
  w.utf("VALUE");
  w.i32(2);
  w.utf("VALUE_SERIALIZER");
  simple_snapshot(w, kString);
  w.utf("NAMESPACE_SERIALIZER");
  simple_snapshot(w, kVoid);
}

std::string value_of(int64_t k) {
  return "customer-" + std::to_string(k) + " tier=gold region=eu-west-1 since=2019";
}

// StringValue.writeString for ASCII.
void string_value(ByteWriter& w, const std::string& s) {
  uint32_t n = static_cast<uint32_t>(s.size()) + 1;
  while (n >= 0x80) {
    w.u8(static_cast<uint8_t>(n | 0x80));
    n >>= 7;
  }
  w.u8(static_cast<uint8_t>(n));
  w.bytes(s);
}

int32_t kg_of(int64_t k) {
  int32_t h = static_cast<int32_t>(static_cast<uint64_t>(k) ^ (static_cast<uint64_t>(k) >> 32));
  return fsp::key_group_for_hash(h, kMaxP);
}

void write_metadata(const fs::path& dir, fsp::Snapshot& s) {
  auto enc = fsp::encode_metadata(s);
  if (!enc) {
    std::cerr << "encode: " << enc.error().to_string() << "\n";
    std::exit(70);
  }
  std::ofstream(dir / "_metadata", std::ios::binary) << *enc;
}

fsp::OperatorState& add_op(fsp::Snapshot& s, const char* uid) {
  fsp::OperatorState op;
  op.name = s.store(uid);
  op.uid = s.store(uid);
  op.id = fsp::operator_id_from_uid(uid);
  op.parallelism = kP;
  op.max_parallelism = kMaxP;
  op.subtasks.resize(kP);
  for (int i = 0; i < kP; ++i) op.subtasks[i].index = i;
  s.operators.push_back(std::move(op));
  return s.operators.back();
}

// Canonical savepoint: per subtask one file, full format, keys k with k % kP's... every key in its group.
int64_t generate_canonical(const fs::path& dir, int64_t entries) {
  fs::create_directories(dir);
  fsp::Snapshot s;
  s.version = 6;
  s.checkpoint_id = 7;
  s.trailer = s.store(fsp::write_checkpoint_properties(fsp::checkpoint_properties_for_savepoint(false)));
  auto& op = add_op(s, "profiles");
  std::vector<std::vector<int64_t>> by_group(kMaxP);
  for (int64_t k = 0; k < entries; ++k) by_group[kg_of(k)].push_back(k);
  int64_t state_bytes = 0;
  for (int i = 0; i < kP; ++i) {
    auto range = fsp::key_group_range_for_subtask(kMaxP, kP, i);
    std::string out, offsets;
    ByteWriter w(out), ow(offsets);
    keyed_proxy(w);
    for (int32_t kg = range.start; kg <= range.end(); ++kg) {
      auto& keys = by_group[kg];
      if (keys.empty()) {
        ow.i64(0);
        continue;
      }
      ow.i64(static_cast<int64_t>(out.size()));
      w.u16(0);
      for (size_t j = 0; j < keys.size(); ++j) {
        // The key as RocksDB lays it out: key-group prefix (1 byte under max
        // parallelism 128; the last key of the state in the group flags its
        // first byte with 0x80), the Long key, VoidNamespace's one byte.
        w.i32(10);
        w.u8(static_cast<uint8_t>(kg | (j + 1 == keys.size() ? 0x80 : 0)));
        w.i64(keys[j]);
        w.u8(0);
        std::string v;
        ByteWriter vw(v);
        string_value(vw, value_of(keys[j]));
        w.i32(static_cast<int32_t>(v.size()));
        w.bytes(v);
      }
      w.u16(0xFFFF);
    }
    std::string name = "state-" + std::to_string(i);
    std::ofstream(dir / name, std::ios::binary) << out;
    state_bytes += static_cast<int64_t>(out.size());
    auto& k = op.subtasks[i].managed_keyed;
    k.code = fsp::code::kSavepointKeyGroups;
    k.range = range;
    k.offsets = fsp::BeLongs{s.store(offsets)};
    k.delegate.code = fsp::code::kRelative;
    k.delegate.path = s.store(name);
    k.delegate.state_size = static_cast<int64_t>(out.size());
  }
  write_metadata(dir, s);
  return state_bytes;
}

#if FSP_HAVE_ROCKSDB
// RocksDB checkpoint: one DB per subtask with column family "profile", keys
// as RocksDB's state backend writes them, flushed to SSTs; an incremental
// handle per subtask lists them as private files.
int64_t generate_rocksdb(const fs::path& dir, int64_t entries) {
  fs::create_directories(dir);
  fsp::Snapshot s;
  s.version = 6;
  s.checkpoint_id = 8;
  s.trailer = s.store(fsp::write_checkpoint_properties(fsp::checkpoint_properties_for_savepoint(false)));
  auto& op = add_op(s, "profiles-rocksdb");
  int64_t state_bytes = 0;
  for (int i = 0; i < kP; ++i) {
    auto range = fsp::key_group_range_for_subtask(kMaxP, kP, i);
    fs::path db_dir = dir / ("db-" + std::to_string(i));
    rocksdb::Options o;
    o.create_if_missing = true;
    o.compression = rocksdb::kNoCompression;
    rocksdb::DB* db = nullptr;
    if (!rocksdb::DB::Open(o, db_dir.string(), &db).ok()) std::exit(70);
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    if (!db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(o), "profile", &cf).ok()) std::exit(70);
    for (int64_t k = 0; k < entries; ++k) {
      int32_t kg = kg_of(k);
      if (kg < range.start || kg > range.end()) continue;
      std::string key, v;
      ByteWriter kw(key), vw(v);
      kw.u8(static_cast<uint8_t>(kg));
      kw.i64(k);
      kw.u8(0);
      string_value(vw, value_of(k));
      db->Put(rocksdb::WriteOptions(), cf, key, v);
    }
    db->Flush(rocksdb::FlushOptions(), cf);
    db->DestroyColumnFamilyHandle(cf);
    delete db;
    std::string meta;
    ByteWriter mw(meta);
    keyed_proxy(mw);
    auto& k = op.subtasks[i].managed_keyed;
    k.code = fsp::code::kIncrementalV2;
    k.range = range;
    k.checkpoint_id = 8;
    k.backend_id = s.store("00000000-0000-0000-0000-00000000000" + std::to_string(i));
    k.state_handle_id = s.store("handle-" + std::to_string(i));
    k.delegate.code = fsp::code::kByteStream;
    k.delegate.path = s.store("meta-" + std::to_string(i));
    k.delegate.set_data(s.store(meta));
    for (auto& e : fs::directory_iterator(db_dir)) {
      std::string fname = e.path().filename().string();
      if (e.path().extension() != ".sst") continue;
      fsp::NamedHandle nh;
      nh.local_path = s.store(fname);
      nh.handle.code = fsp::code::kRelative;
      nh.handle.path = s.store("db-" + std::to_string(i) + "/" + fname);
      nh.handle.state_size = static_cast<int64_t>(fs::file_size(e.path()));
      state_bytes += nh.handle.state_size;
      k.private_state.push_back(nh);
    }
  }
  write_metadata(dir, s);
  return state_bytes;
}
#endif

void run(const char* label, const fs::path& dir, int64_t state_bytes, int64_t expected_records, int reps) {
  std::vector<double> times;
  int64_t records = 0, json_bytes = 0;
  for (int r = 0; r < reps; ++r) {
    auto t0 = fsp::bench::Clock::now();
    auto f = fsp::open_snapshot(dir.string());
    if (!f) {
      std::cerr << f.error().to_string() << "\n";
      std::exit(70);
    }
    std::string buf;
    records = json_bytes = 0;
    auto c = fsp::dump_states(
        *f, {},
        [&](const fsp::DumpRecord& rec) {
          fsp::append_dump_record_json(rec, buf);
          if (buf.size() > (1 << 16)) {
            json_bytes += static_cast<int64_t>(buf.size());
            buf.clear();
          }
          ++records;
          return true;
        },
        [](const std::string& p) { std::cerr << p << "\n"; });
    json_bytes += static_cast<int64_t>(buf.size());
    times.push_back(fsp::bench::seconds_since(t0));
    if (!c || c->undecoded) {  // figures over $base64 values would measure the wrong thing
      std::cerr << label << ": " << (c ? std::to_string(c->undecoded) + " undecoded values" : c.error().to_string())
                << "\n";
      std::exit(1);
    }
    if (records != expected_records) {
      std::cerr << label << ": " << records << " records, generated " << expected_records << "\n";
      std::exit(1);
    }
  }
  auto st = fsp::bench::stats(times);
  std::printf("%-22s state %7.1f MB  records %9lld  JSON %7.1f MB  best %6.3f s  median %6.3f s  %7.1f MB/s state, "
              "%7.1f MB/s JSON\n",
              label, state_bytes / 1e6, static_cast<long long>(records), json_bytes / 1e6, st.best, st.median,
              state_bytes / 1e6 / st.best, json_bytes / 1e6 / st.best);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / ("fsp-dump-bench-" + std::to_string(getpid()));
  int64_t entries = argc > 2 ? std::stoll(argv[2]) : 4000000;
  int64_t heap_bytes = generate_canonical(dir / "canonical", entries);
#if FSP_HAVE_ROCKSDB
  int64_t rocks_bytes = generate_rocksdb(dir / "rocksdb", entries / 4);
#endif
  std::printf("generated in %s (peak RSS while generating %ld MB)\n", dir.c_str(), fsp::bench::proc_status_kb("VmHWM") / 1024);
  run("canonical (full)", dir / "canonical", heap_bytes, entries, 3);
#if FSP_HAVE_ROCKSDB
  run("rocksdb (SSTs)", dir / "rocksdb", rocks_bytes, entries / 4, 3);
#endif
  std::printf("peak RSS of the process: %ld MB (generation included; run `/usr/bin/time -v flink-savepoint dump DIR "
              ">/dev/null` for dump alone)\n",
              fsp::bench::maxrss_kb() / 1024);
  if (argc <= 1) fs::remove_all(dir);
  return 0;
}
