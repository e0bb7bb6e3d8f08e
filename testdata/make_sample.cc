// Generates testdata/sample-savepoint: a small Flink 2.1-style (metadata v6)
// canonical savepoint of a made-up job, written by this project's own encoder,
// with real state files (operator state and keyed ValueState<Long> in the
// canonical format). The README's first command inspects it; tests check that
// this generator reproduces the committed files byte for byte.
//
//   make-sample OUT_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/murmur3.h"

namespace {

using fsp::ByteWriter;

const char* kLong = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
const char* kString = "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot";
const char* kVoid = "org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot";

// A top-level serializer snapshot of a simple serializer: proxy version 2, class, version 3, no payload.
void simple_snapshot(ByteWriter& w, const char* cls) {
  w.i32(2);
  w.utf(cls);
  w.i32(3);
}

// Flink's MathUtils.murmurHash(int) and KeyGroupRangeAssignment for a Long key.
int32_t key_group_of_long(int64_t key, int32_t max_parallelism) {
  uint32_t k = static_cast<uint32_t>(static_cast<int32_t>(key ^ (static_cast<uint64_t>(key) >> 32)));
  auto rotl = [](uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  k *= 0xcc9e2d51u;
  k = rotl(k, 15);
  k *= 0x1b873593u;
  k = rotl(k, 13);
  k = k * 5 + 0xe6546b64u;
  k ^= 4;
  k ^= k >> 16;
  k *= 0x85ebca6bu;
  k ^= k >> 13;
  k *= 0xc2b2ae35u;
  k ^= k >> 16;
  int32_t h = static_cast<int32_t>(k);
  if (h < 0) h = h == INT32_MIN ? 0 : -h;
  return h % max_parallelism;
}

// Operator state file: OperatorBackendSerializationProxy v6 with one split list
// state of strings; returns the element offsets.
std::string operator_state_file(const std::vector<std::string>& elements, std::vector<int64_t>& offsets) {
  std::string out;
  ByteWriter w(out);
  w.i32(6);           // proxy version
  w.boolean(false);   // no compression
  w.u16(1);           // operator states
  w.utf("partition-offsets");
  w.i32(1);           // OPERATOR
  w.i32(1);
  w.utf("OPERATOR_STATE_DISTRIBUTION_MODE");
  w.utf("SPLIT_DISTRIBUTE");
  w.i32(1);
  w.utf("VALUE_SERIALIZER");
  simple_snapshot(w, kString);
  w.u16(0);           // broadcast states
  for (const auto& e : elements) {
    offsets.push_back(static_cast<int64_t>(out.size()));
    w.u8(static_cast<uint8_t>(e.size() + 1));  // StringValue length + 1 (short ASCII strings)
    w.bytes(e);
  }
  return out;
}

// Keyed state file in the canonical (full) format: KeyedBackendSerializationProxy v6
// with key serializer Long and one ValueState<Long> "order-count", then the
// entries of each key group of the range. Returns one offset per key group (0 = empty).
std::string keyed_state_file(const std::vector<std::pair<int64_t, int64_t>>& entries, int32_t max_p,
                             fsp::KeyGroupRange range, std::vector<int64_t>& offsets) {
  std::string out;
  ByteWriter w(out);
  w.i32(6);
  w.boolean(false);
  simple_snapshot(w, kLong);
  w.u16(1);
  w.utf("order-count");
  w.i32(0);  // KEY_VALUE
  w.i32(1);
  w.utf("KEYED_STATE_TYPE");
  w.utf("VALUE");
  w.i32(2);
  w.utf("VALUE_SERIALIZER");
  simple_snapshot(w, kLong);
  w.utf("NAMESPACE_SERIALIZER");
  simple_snapshot(w, kVoid);
  for (int32_t kg = range.start; kg <= range.end(); ++kg) {
    std::vector<std::pair<int64_t, int64_t>> in_group;
    for (const auto& e : entries)
      if (key_group_of_long(e.first, max_p) == kg) in_group.push_back(e);
    if (in_group.empty()) {
      offsets.push_back(0);
      continue;
    }
    offsets.push_back(static_cast<int64_t>(out.size()));
    w.u16(0);  // kvStateId
    for (size_t i = 0; i < in_group.size(); ++i) {
      std::string key;
      ByteWriter kw(key);
      uint8_t prefix = static_cast<uint8_t>(kg);  // 1 byte: max parallelism <= 128
      if (i + 1 == in_group.size()) prefix |= 0x80;  // last entry before the end-of-key-group mark
      kw.u8(prefix);
      kw.i64(in_group[i].first);
      kw.u8(0);  // VoidNamespace
      w.i32(static_cast<int32_t>(key.size()));
      w.bytes(key);
      w.i32(8);
      w.i64(in_group[i].second);
    }
    w.u16(0xFFFF);  // END_OF_KEY_GROUP_MARK
  }
  return out;
}

fsp::KeyGroupRange range_for(int32_t i, int32_t p, int32_t max_p) {
  int32_t start = (i * max_p + p - 1) / p;
  int32_t end = ((i + 1) * max_p - 1) / p;
  return {start, end - start + 1};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make-sample OUT_DIR\n";
    return 64;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  fsp::Snapshot s;
  s.version = 6;
  s.checkpoint_id = 42;
  std::string trailer = fsp::write_checkpoint_properties(fsp::checkpoint_properties_for_savepoint(false));
  s.trailer = s.store(trailer);

  const int32_t p = 2, max_p = 128;
  auto add_op = [&](const char* name, const char* uid) -> fsp::OperatorState& {
    fsp::OperatorState op;
    op.name = s.store(name);
    op.uid = s.store(uid);
    op.id = fsp::operator_id_from_uid(uid);
    op.parallelism = p;
    op.max_parallelism = max_p;
    op.subtasks.resize(p);
    for (int i = 0; i < p; ++i) op.subtasks[i].index = i;
    s.operators.push_back(std::move(op));
    return s.operators.back();
  };
  int file_no = 0;
  auto write_file = [&](const std::string& bytes) -> fsp::StreamHandle {
    char name[64];
    ++file_no;
    std::snprintf(name, sizeof name, "5a3f%04d-0c1e-4b8a-9d2f-%012d", file_no, file_no * 7919);
    std::ofstream(dir / name, std::ios::binary) << bytes;
    fsp::StreamHandle h;
    h.code = fsp::code::kRelative;
    h.path = s.store(name);
    h.state_size = static_cast<int64_t>(bytes.size());
    return h;
  };

  // Source: operator list state with the partition offsets each subtask owns.
  auto& src = add_op("Source: orders", "orders-source");
  for (int i = 0; i < p; ++i) {
    std::vector<int64_t> offs;
    std::string bytes = operator_state_file({"orders-" + std::to_string(2 * i) + "@" + std::to_string(1000 + 17 * i),
                                             "orders-" + std::to_string(2 * i + 1) + "@" + std::to_string(2000 + 29 * i)},
                                            offs);
    auto& st = src.subtasks[i];
    st.managed_op_flag = 1;
    st.managed_operator.code = fsp::code::kPartitionableOperator;
    std::string offsets_raw;
    ByteWriter ow(offsets_raw);
    for (int64_t o : offs) ow.i64(o);
    st.managed_operator.states.push_back({s.store("partition-offsets"), 0, fsp::BeLongs{s.store(offsets_raw)}});
    st.managed_operator.delegate = write_file(bytes);
  }

  // Keyed: ValueState<Long> order-count per customer id, canonical format.
  auto& enrich = add_op("enrich-orders", "enrich-orders-uid");
  std::vector<std::pair<int64_t, int64_t>> counts;
  for (int64_t customer = 1; customer <= 12; ++customer) counts.push_back({customer * 1001, customer * 3 % 7 + 1});
  for (int i = 0; i < p; ++i) {
    auto range = range_for(i, p, max_p);
    std::vector<int64_t> offs;
    std::string bytes = keyed_state_file(counts, max_p, range, offs);
    std::string raw;
    ByteWriter ow(raw);
    for (int64_t o : offs) ow.i64(o);
    auto& k = enrich.subtasks[i].managed_keyed;
    k.code = fsp::code::kSavepointKeyGroups;
    k.range = range;
    k.offsets = fsp::BeLongs{s.store(raw)};
    k.delegate = write_file(bytes);
  }

  // Sink: stateless.
  add_op("Sink: enriched-orders", "enriched-orders-sink");

  auto enc = fsp::encode_metadata(s);
  if (!enc.ok()) {
    std::cerr << "error: " << enc.error().to_string() << "\n";
    return 70;
  }
  std::ofstream(dir / "_metadata", std::ios::binary) << *enc;
  auto back = fsp::decode_metadata(*enc);
  if (!back.ok()) {
    std::cerr << "error: the sample does not decode: " << back.error().to_string() << "\n";
    return 70;
  }
  std::cout << "wrote " << (dir / "_metadata").string() << " (" << enc->size() << " bytes) and " << file_no << " state files\n";
  return 0;
}
