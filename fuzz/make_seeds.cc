// Seed corpora for the fuzz targets in fuzz/, written to a directory outside
// the project (scripts/fuzz.sh uses a temporary one):
//
//   make-fuzz-seeds OUT_DIR [INPUT_DIR...]
//
// OUT_DIR/<target>/ gets (1) inputs this program builds with the project's own
// encoders (metadata of every version, CheckpointProperties trailers,
// serializer snapshots, proxies, Snappy-framed streams, deep nestings at the
// caps), and (2) inputs derived from the files under each INPUT_DIR, read at
// run time: _metadata files (and their trailers), and state files (proxies,
// the serializer snapshot at their start). Pass ../shared/testdata and the
// output of make-sample as INPUT_DIRs. Nothing is written into the project.
#include <snappy.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/state_internal.h"

namespace fs = std::filesystem;
using fsp::ByteWriter;

namespace {

constexpr size_t kMaxStateSeed = 64 * 1024;   // larger state files add time, not coverage
constexpr size_t kMaxStateSeedsPerDir = 1500;  // per INPUT_DIR

fs::path g_out;
std::map<std::string, int> g_counts;

void put(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::create_directories(g_out / target);
  std::ofstream(g_out / target / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ++g_counts[target];
}

std::string with_selector(uint8_t sel, std::string_view bytes) {
  std::string s(1, static_cast<char>(sel));
  s.append(bytes);
  return s;
}

const char* kLong = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
const char* kString = "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot";
const char* kVoid = "org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot";
const char* kList = "org.apache.flink.api.common.typeutils.base.ListSerializerSnapshot";
const char* kMap = "org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot";
const char* kTtl = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot";
const char* kUnknown = "com.example.CustomSerializer$Snapshot";

// A versioned snapshot (no proxy version): class, version, payload.
void simple(ByteWriter& w, const char* cls) {
  w.utf(cls);
  w.i32(3);
}
// A composite (version 1 layout): class, version 1, nested magic, version 1, n children.
void composite(ByteWriter& w, const char* cls, int children, const char* child = kLong) {
  w.utf(cls);
  w.i32(1);
  w.i32(1333245);
  w.i32(1);
  w.i32(children);
  for (int i = 0; i < children; ++i) simple(w, child);
}
// `depth` lists of lists around a Long.
void nested_lists(ByteWriter& w, int depth) {
  for (int i = 0; i < depth; ++i) {
    w.utf(kList);
    w.i32(1);
    w.i32(1333245);
    w.i32(1);
    w.i32(1);
  }
  simple(w, kLong);
}

// value_decoder: 2-byte snapshot length, the snapshot, then value bytes.
void value_decoder_seeds() {
  auto seed = [](auto body, std::string_view values) {
    std::string snap;
    ByteWriter w(snap);
    w.i32(2);  // proxy version
    body(w);
    std::string s;
    s.push_back(static_cast<char>(snap.size() >> 8));
    s.push_back(static_cast<char>(snap.size() & 0xFF));
    return s + snap + std::string(values);
  };
  put("value_decoder", "long", seed([](ByteWriter& w) { simple(w, kLong); }, std::string("\0\0\0\0\0\0\0\x2a", 8)));
  put("value_decoder", "string", seed([](ByteWriter& w) { simple(w, kString); }, std::string("\x04" "abc" "\x00", 5)));
  put("value_decoder", "list", seed([](ByteWriter& w) { composite(w, kList, 1, kString); },
                                    std::string("\0\0\0\x02\x02x\x02y", 8)));
  put("value_decoder", "map", seed([](ByteWriter& w) { composite(w, kMap, 2); },
                                   std::string("\0\0\0\x01" "\0\0\0\0\0\0\0\x01" "\x00" "\0\0\0\0\0\0\0\x02", 21)));
  put("value_decoder", "ttl", seed([](ByteWriter& w) { composite(w, kTtl, 2); }, std::string(16, '\x01')));
}

void serializer_snapshot_seeds() {
  auto top = [](auto body) {
    std::string s;
    ByteWriter w(s);
    w.i32(2);  // proxy version
    body(w);
    return s;
  };
  put("serializer_snapshot", "long", with_selector(0, top([](ByteWriter& w) { simple(w, kLong); })));
  put("serializer_snapshot", "list", with_selector(0, top([](ByteWriter& w) { composite(w, kList, 1, kString); })));
  put("serializer_snapshot", "map", with_selector(0, top([](ByteWriter& w) { composite(w, kMap, 2); })));
  put("serializer_snapshot", "ttl", with_selector(0, top([](ByteWriter& w) { composite(w, kTtl, 2); })));
  put("serializer_snapshot", "unknown", with_selector(0, top([](ByteWriter& w) { simple(w, kUnknown); })));
  // At the depth cap and one past it.
  put("serializer_snapshot", "depth-32", with_selector(0, top([](ByteWriter& w) { nested_lists(w, fsp::state::kMaxSnapshotDepth); })));
  put("serializer_snapshot", "depth-33", with_selector(0, top([](ByteWriter& w) { nested_lists(w, fsp::state::kMaxSnapshotDepth + 1); })));
  // Java serialization streams for the skipper (selector 2): the trailers.
  put("serializer_snapshot", "java-savepoint", with_selector(2, fsp::write_checkpoint_properties(fsp::checkpoint_properties_for_savepoint(false))));
  put("serializer_snapshot", "java-null", with_selector(2, std::string("\xAC\xED\x00\x05\x70", 5)));
  // StringValue strings (selector 3): varint length + 1, then chars.
  put("serializer_snapshot", "string-values", with_selector(3, std::string("\x01\x04" "abc" "\x81\x01" + std::string(128, 'x'), 2 + 3 + 2 + 128)));
}

std::string keyed_proxy(int version, bool with_unknown) {
  std::string s;
  ByteWriter w(s);
  w.i32(version);
  w.boolean(false);
  w.i32(2);
  simple(w, kLong);
  w.u16(2);
  for (int st = 0; st < 2; ++st) {
    w.utf(st == 0 ? "order-count" : "last-seen");
    w.i32(0);  // KEY_VALUE
    w.i32(1);
    w.utf("KEYED_STATE_TYPE");
    w.utf(st == 0 ? "VALUE" : "LIST");
    w.i32(2);
    w.utf("VALUE_SERIALIZER");
    w.i32(2);
    if (with_unknown && st == 0) {
      simple(w, kUnknown);
      w.i32(0x12345678);  // the unknown payload the resync search has to find
    } else if (st == 1) {
      composite(w, kList, 1);
    } else {
      simple(w, kLong);
    }
    w.utf("NAMESPACE_SERIALIZER");
    w.i32(2);
    simple(w, kVoid);
  }
  return s;
}

std::string operator_proxy(bool broadcast) {
  std::string s;
  ByteWriter w(s);
  w.i32(6);
  w.boolean(false);
  w.u16(1);
  w.utf("partition-offsets");
  w.i32(1);  // OPERATOR
  w.i32(1);
  w.utf("OPERATOR_STATE_DISTRIBUTION_MODE");
  w.utf("UNION");
  w.i32(1);
  w.utf("VALUE_SERIALIZER");
  w.i32(2);
  simple(w, kString);
  w.u16(broadcast ? 1 : 0);
  if (broadcast) {
    w.utf("rules");
    w.i32(2);  // BROADCAST
    w.i32(1);
    w.utf("OPERATOR_STATE_DISTRIBUTION_MODE");
    w.utf("BROADCAST");
    w.i32(2);
    w.utf("KEY_SERIALIZER");
    w.i32(2);
    simple(w, kString);
    w.utf("VALUE_SERIALIZER");
    w.i32(2);
    simple(w, kLong);
  }
  w.bytes("\x05" "abcd");
  return s;
}

// Pre-1.8 layouts (docs/format.md): a Java-serialized serializer (proxy
// version 1, length, a stream of a field-less object) and its
// ParameterlessTypeSerializerConfig, in an offset-indexed pair list.
std::string legacy_pairs(const std::vector<std::string>& serializers) {
  std::string head, body;
  ByteWriter h(head), b(body);
  h.i32(static_cast<int32_t>(serializers.size()));
  for (const auto& cls : serializers) {
    std::string java("\xAC\xED\x00\x05\x73\x72", 6);
    ByteWriter j(java);
    j.utf(cls);
    j.i64(1);
    j.u8(0x02);
    j.u16(0);
    j.u8(0x78);
    j.u8(0x70);
    h.i32(static_cast<int32_t>(body.size()));
    b.i32(1);
    b.i32(static_cast<int32_t>(java.size()));
    b.bytes(java);
    h.i32(static_cast<int32_t>(body.size()));
    b.i32(1);
    b.utf("org.apache.flink.api.common.typeutils.ParameterlessTypeSerializerConfig");
    b.i32(1);
    b.utf(cls);
  }
  h.i32(static_cast<int32_t>(body.size()));
  return head + body;
}

std::string legacy_keyed_proxy(int version) {
  const std::string kLongSer = "org.apache.flink.api.common.typeutils.base.LongSerializer";
  const std::string kVoidSer = "org.apache.flink.runtime.state.VoidNamespaceSerializer";
  std::string s;
  ByteWriter w(s);
  w.i32(version);
  if (version >= 4) w.boolean(false);
  w.bytes(legacy_pairs({kLongSer}));
  w.u16(1);
  if (version >= 5) {
    w.utf("count");
    w.i32(0);
    w.i32(1);
    w.utf("KEYED_STATE_TYPE");
    w.utf("VALUE");
    w.i32(2);
    w.utf("VALUE_SERIALIZER");
    w.utf("NAMESPACE_SERIALIZER");
    w.bytes(legacy_pairs({kLongSer, kVoidSer}));
  } else {
    w.i32(1);  // StateDescriptor.Type VALUE
    w.utf("count");
    w.bytes(legacy_pairs({kVoidSer, kLongSer}));
  }
  return s;
}

void proxy_seeds() {
  for (int v : {3, 4, 5})
    put("serialization_proxy", "keyed-legacy-v" + std::to_string(v), with_selector(0, legacy_keyed_proxy(v)));
  for (int v : {5, 6}) put("serialization_proxy", "keyed-v" + std::to_string(v), with_selector(0, keyed_proxy(v, false)));
  put("serialization_proxy", "keyed-unknown-class", with_selector(0, keyed_proxy(6, true)));
  put("serialization_proxy", "operator", with_selector(1, operator_proxy(false)));
  put("serialization_proxy", "operator-broadcast", with_selector(1, operator_proxy(true)));
  // bound inside the stream (bit 1 set, position bits 2..7)
  put("serialization_proxy", "operator-bound", with_selector(1 | 2 | (60 << 2), operator_proxy(true)));
}

std::string framed(const std::vector<std::pair<bool, std::string>>& chunks) {
  std::string s("\xFF\x06\x00\x00sNaPpY", 10);
  for (const auto& [compress, data] : chunks) {
    std::string body;
    if (compress) snappy::Compress(data.data(), data.size(), &body);
    else body = data;
    uint32_t crc = fsp::state::mask_crc32c(fsp::state::crc32c(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
    uint32_t len = static_cast<uint32_t>(body.size() + 4);
    s.push_back(compress ? '\x00' : '\x01');
    s.push_back(static_cast<char>(len));
    s.push_back(static_cast<char>(len >> 8));
    s.push_back(static_cast<char>(len >> 16));
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>(crc >> (8 * i)));
    s += body;
  }
  return s;
}

void snappy_seeds() {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "key-" + std::to_string(i % 17) + "=value;";
  put("snappy_framing", "compressed", with_selector(1, framed({{true, text}})));
  put("snappy_framing", "raw", with_selector(1, framed({{false, "hello, state"}})));
  put("snappy_framing", "mixed", with_selector(0, framed({{true, text}, {false, "tail"}, {true, std::string(65536, 'z')}})));
  put("snappy_framing", "capped", with_selector(2 | (1 << 2), framed({{true, std::string(5000, 'a')}, {true, text}})));
  std::string padding = framed({{false, "x"}});
  padding += std::string("\xFE\x02\x00\x00\x00\x00", 6);  // skippable chunk
  put("snappy_framing", "padding", with_selector(0, padding));
  put("snappy_framing", "keyed-proxy", with_selector(1, framed({{true, keyed_proxy(6, false)}})));
}

void java_seeds() {
  using namespace fsp;
  put("java_serialization", "checkpoint", write_checkpoint_properties(checkpoint_properties_for_checkpoint()));
  put("java_serialization", "savepoint-canonical", write_checkpoint_properties(checkpoint_properties_for_savepoint(false)));
  put("java_serialization", "savepoint-native", write_checkpoint_properties(checkpoint_properties_for_savepoint(true)));
  put("java_serialization", "savepoint-suspend", write_checkpoint_properties(checkpoint_properties_for_savepoint(false, true)));
  put("java_serialization", "null", std::string("\xAC\xED\x00\x05\x70", 5));
}

// Job descriptions for `check` (manifest, SQL compiled plan, REST job details).
void job_seeds() {
  put("job_json", "manifest", R"({"flink_version": "1.20", "state_backend": "rocksdb", "max_parallelism": 128,
    "allow_non_restored_state": false, "parallelism": 2, "operators": [
    {"uid": "orders-source", "name": "Source: orders", "parallelism": 2, "max_parallelism": 128,
     "states": [{"name": "partition-offsets", "kind": "operator_union", "value_serializer": "StringSerializer"}]},
    {"uid": "enrich-orders-uid", "states": [{"name": "order-count", "kind": "value", "key_serializer": "LongSerializer",
     "value_serializer": "LongSerializer", "ttl": true}]},
    {"uid_hash": "768eb855f87b04a21882dc5ce9a0b0a7", "name": "Sink"},
    {"operator_id": "000102030405060708090a0b0c0d0e0f"}]})");
  put("job_json", "sql-plan", R"({"flinkVersion": "1.20", "nodes": [
    {"id": 1, "type": "stream-exec-table-source-scan_1", "description": "scan"},
    {"id": 2, "type": "stream-exec-group-aggregate_1", "state": [{"index": 0, "ttl": "0 ms", "name": "groupAggregateState"}]},
    {"id": 3, "type": "stream-exec-sink_1"}], "edges": [{"source": 1, "target": 2}, {"source": 2, "target": 3}]})");
  put("job_json", "rest", R"({"jid": "0f7a", "name": "job", "state": "RUNNING", "vertices": [
    {"id": "45b0254a46cabbc3efeea5d2e170ea5b", "name": "Source: orders", "parallelism": 2, "maxParallelism": 128},
    {"id": "c9182e4c118ce17652e75de761521d96", "name": "enrich", "parallelism": 2, "maxParallelism": 128}],
    "plan": {"nodes": []}})");
  put("job_json", "nested", std::string(200, '[') + std::string(200, ']'));
  // --config / --deployment (job_yaml).
  put("job_yaml", "config-nested", "state:\n  backend:\n    type: rocksdb\npipeline:\n  max-parallelism: 256\n"
                                   "execution:\n  state-recovery:\n    claim-mode: CLAIM\n");
  put("job_yaml", "flink-conf", "state.backend: filesystem\nparallelism.default: 4\n"
                                "execution.savepoint.ignore-unclaimed-state: true\n");
  put("job_yaml", "deployment", "apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nspec:\n  flinkVersion: v1_20\n"
                                "  flinkConfiguration:\n    state.backend.type: hashmap\n    pipeline.max-parallelism: \"8\"\n"
                                "  job:\n    parallelism: 2\n    upgradeMode: savepoint\n    allowNonRestoredState: false\n");
  put("job_yaml", "session-json", R"({"kind": "FlinkSessionJob", "spec": {"job": {"parallelism": 4}}})");
  put("job_yaml", "anchors", "a: &x {b: *x}\nc: [*x, *x]\n");
  put("job_yaml", "nested", std::string(200, '[') + std::string(200, ']'));
}

// Object-store XML: a ListObjectsV2 page and an error document.
void s3_xml_seeds() {
  put("s3_xml", "list", R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>ckpt/</Prefix>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;=</NextContinuationToken>
<Contents><Key>ckpt/chk-1/_metadata</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><Size>434</Size></Contents>
<CommonPrefixes><Prefix>ckpt/shared/</Prefix></CommonPrefixes><!-- c --><StartAfter/><Key><![CDATA[x]]>&#x41;</Key>
</ListBucketResult>)");
  put("s3_xml", "error", R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AuthorizationHeaderMalformed</Code><Message>wrong region</Message><Region>eu-west-1</Region></Error>)");
}

// Snapshots built from scratch: every metadata version, empty and with the
// sample's operators re-encoded under that version when the encoder can.
void metadata_seeds(const std::vector<fsp::Snapshot*>& decoded) {
  using namespace fsp;
  for (int v = 2; v <= 7; ++v) {
    Snapshot s;
    s.version = v;
    s.checkpoint_id = 7;
    if (v >= 4) s.trailer = s.store(write_checkpoint_properties(checkpoint_properties_for_savepoint(false)));
    if (auto e = encode_metadata(s); e.ok()) put("metadata", "empty-v" + std::to_string(v), *e);
  }
  int i = 0;
  for (Snapshot* d : decoded) {
    if (i++ >= 20) break;  // a few are enough
    int original = d->version;
    for (int v = 2; v <= 7; ++v) {
      if (v == original) continue;
      d->version = v;
      if (v >= 4 && d->trailer.empty()) d->trailer = d->store(write_checkpoint_properties(checkpoint_properties_for_checkpoint()));
      if (auto e = encode_metadata(*d); e.ok() && decode_metadata(*e).ok())
        put("metadata", "reversioned-" + std::to_string(i) + "-v" + std::to_string(v), *e);
    }
    d->version = original;
  }
}

// The in-memory changelog increments of a real snapshot, framed as
// fuzz_changelog_replay reads them (int32 key group, uint16 length, bytes).
void changelog_seeds(const fsp::Snapshot& s, const std::string& name) {
  using namespace fsp;
  int n = 0;
  auto one = [&](const KeyedHandle& h) {
    for (const KeyedHandle& inc : h.non_materialized) {
      if (inc.code != code::kChangelogByteIncrement || inc.changes.empty()) continue;
      std::string b;
      ByteWriter w(b);
      for (const ChangelogChange& c : inc.changes) {
        if (c.data.size() > 0xFFFF) continue;
        w.i32(c.key_group);
        w.u16(static_cast<uint16_t>(c.data.size()));
        w.bytes(c.data);
      }
      put("changelog_replay", name + "-" + std::to_string(++n), b);
    }
  };
  for (const OperatorState& op : s.operators)
    for (const SubtaskState& st : op.subtasks) {
      one(st.managed_keyed);
      one(st.raw_keyed);
    }
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make-fuzz-seeds OUT_DIR [INPUT_DIR...]\n";
    return 64;
  }
  g_out = argv[1];
  fs::create_directories(g_out);
  java_seeds();
  serializer_snapshot_seeds();
  value_decoder_seeds();
  proxy_seeds();
  snappy_seeds();
  job_seeds();
  s3_xml_seeds();

  std::vector<std::string> keep_bytes;  // decoded snapshots point into these
  keep_bytes.reserve(100000);
  std::vector<fsp::Snapshot> decoded;
  decoded.reserve(100000);
  for (int a = 2; a < argc; ++a) {
    fs::path dir = argv[a];
    if (!fs::is_directory(dir)) {
      std::cerr << "make-fuzz-seeds: skipping " << dir << " (not a directory)\n";
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    size_t state_seeds = 0, n = 0;
    std::string tag = std::to_string(a - 1) + "-";
    for (const auto& p : files) {
      ++n;
      std::string name = tag + std::to_string(n);
      if (p.filename() == "_metadata") {
        keep_bytes.push_back(slurp(p));
        const std::string& b = keep_bytes.back();
        put("metadata", name, b);
        auto s = fsp::decode_metadata(b);
        if (s.ok()) {
          if (!s->trailer.empty()) put("java_serialization", name, s->trailer);
          changelog_seeds(*s, name);
          if (decoded.size() < decoded.capacity()) decoded.push_back(std::move(*s));
        }
        continue;
      }
      if (p.extension() == ".json") {
        if (fs::file_size(p) <= 4 * kMaxStateSeed && g_counts["job_json"] < 400) put("job_json", name, slurp(p));
        continue;
      }
      if (fs::file_size(p) > kMaxStateSeed || fs::file_size(p) < 8 || state_seeds >= kMaxStateSeedsPerDir) continue;
      std::string b = slurp(p);
      if (b.rfind("#", 0) == 0 || b.rfind("{", 0) == 0 || p.extension() == ".md" || p.extension() == ".tsv" ||
          p.extension() == ".jsonl")
        continue;  // manifests and notes
      ++state_seeds;
      if (fsp::state::looks_snappy_framed(b)) {
        put("snappy_framing", name, with_selector(1, b));
        continue;
      }
      // The proxy alone (cut where it ends, which is then the bound): the
      // target explores the proxy instead of re-reading the data after it.
      {
        auto k = fsp::state::decode_keyed_proxy(b, b.size());
        auto o = fsp::state::decode_operator_proxy(b, b.size());
        std::string_view v(b);
        if (k.ok() && k->complete) put("serialization_proxy", name + "-k", with_selector(0, v.substr(0, k->end)));
        else if (o.ok() && o->complete) put("serialization_proxy", name + "-o", with_selector(1, v.substr(0, o->end)));
        else put("serialization_proxy", name + "-k", with_selector(0, v.substr(0, std::min<size_t>(v.size(), 4096))));
      }
      if (b.size() > 5) put("serializer_snapshot", name, with_selector(0, std::string_view(b).substr(5)));
      // Snappy-compressed proxies start after the 5-byte version and flag.
      if (b.size() > 5 && fsp::state::looks_snappy_framed(std::string_view(b).substr(5)))
        put("snappy_framing", name, with_selector(1, std::string_view(b).substr(5)));
    }
  }
  std::vector<fsp::Snapshot*> ptrs;
  for (auto& s : decoded) ptrs.push_back(&s);
  metadata_seeds(ptrs);

  for (const auto& [t, c] : g_counts) std::cout << "make-fuzz-seeds: " << t << ": " << c << " seed(s)\n";
  return 0;
}
