// Fuzz target: state values decoded through a serializer-snapshot tree
// (formats/state/value_decoder.cc, avro_value.cc) and printed as JSON
// (src/json/dump_json.cc). Input: a 2-byte length, that many bytes of a
// serializer snapshot (TypeSerializerSnapshotSerializationUtil layout), then
// value bytes decoded one value after the other. Invariants: no read past the
// input, and every printed value is valid JSON.
#include <nlohmann/json.hpp>

#include "flink_savepoint/dump_json.h"
#include "flink_savepoint/state_value.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  if (size < 2) return 0;
  size_t n = (size_t(data[0]) << 8 | data[1]);
  if (n > size - 2) n = size - 2;
  std::string_view snap = fuzz::as_view(data + 2, n);
  std::string_view values = fuzz::as_view(data + 2 + n, size - 2 - n);
  ByteReader sr(snap);
  state::SnapshotDecoder d(sr);
  state::SerializerNode node = d.read_serializer_snapshot(0);
  if (!sr.ok()) return 0;
  ByteReader r(values);
  for (int i = 0; i < 64 && r.ok() && !r.at_end(); ++i) {
    size_t before = r.pos();
    state::Value v;
    std::string why;
    bool ok = state::decode_value(node, r, v, &why);
    FSP_FUZZ_CHECK(r.pos() <= values.size(), std::to_string(r.pos()));
    if (!ok) break;
    std::string out;
    append_value_json(v, out);
    FSP_FUZZ_CHECK(nlohmann::json::accept(out), out.substr(0, 200));
    int32_t hash = 0;
    (void)state::java_hash_code(node, v, &hash);
    if (r.pos() == before) break;  // zero-width values (VoidNamespace-like)
  }
  (void)state::fixed_length(node);
  return 0;
}
