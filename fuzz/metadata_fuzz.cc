// Fuzz target: the _metadata decoder (formats/metadata_decoder.cc), then
// everything a command does with a decoded snapshot (summary, JSON model,
// handle walk) and the encoder. Invariants: a failure is a data error with an
// offset inside the input; a success re-encodes to exactly the input bytes.
#include <string>

#include "flink_savepoint/json.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/summary.h"
#include "flink_savepoint/walk.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  std::string_view bytes = fuzz::as_view(data, size);
  auto r = decode_metadata(bytes);
  if (!r.ok()) {
    fuzz::check_data_error(r.error(), 0, size);
    return 0;
  }
  Snapshot& s = *r;
  SnapshotSummary sum = summarize(s);
  (void)sum;
  JsonOptions jo;
  (void)snapshot_to_json(s, jo).dump();
  size_t handles = 0;
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation&) { handles += h.size() != 0; });
  auto e = encode_metadata(s);
  FSP_FUZZ_CHECK(e.ok(), e.ok() ? std::string() : e.error().to_string());
  FSP_FUZZ_CHECK(*e == bytes, "decode then encode does not give back the input");
  return 0;
}
