// Fuzz target: serializer snapshots (formats/serializer_snapshot.cc), the
// bounded Java-serialization skipper (formats/state_java_skip.cc) and
// StringValue strings. The first byte selects the decoder.
#include <vector>

#include "flink_savepoint/state_internal.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  if (size < 1) return 0;
  uint8_t sel = data[0] % 4;
  std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  ByteReader r(bytes, 77);
  switch (sel) {
    case 0:
    case 1: {
      state::SnapshotDecoder d(r);
      state::SerializerNode n = sel == 0 ? d.read_serializer_snapshot(0) : d.read_versioned_snapshot(0);
      FSP_FUZZ_CHECK(r.pos() <= bytes.size(), std::to_string(r.pos()));
      if (r.ok()) {
        (void)n.readable();
        (void)n.fully_decoded();
        std::vector<std::string> classes;
        n.collect_classes(classes);
      } else {
        fuzz::check_data_error(r.error(), 77, bytes.size());
      }
      break;
    }
    case 2: {
      auto c = state::skip_java_object(r);
      FSP_FUZZ_CHECK(r.pos() <= bytes.size(), std::to_string(r.pos()));
      if (!c) FSP_FUZZ_CHECK(!r.ok(), "skip_java_object failed without an error");
      if (!r.ok()) fuzz::check_data_error(r.error(), 77, bytes.size());
      break;
    }
    default: {
      while (r.ok() && !r.at_end()) {
        auto s = state::read_string_value(r);
        if (!s) break;
      }
      if (!r.ok()) fuzz::check_data_error(r.error(), 77, bytes.size());
      break;
    }
  }
  (void)state::short_type_name(bytes);
  return 0;
}
