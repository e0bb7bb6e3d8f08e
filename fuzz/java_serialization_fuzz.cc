// Fuzz target: the Java Object Serialization reader behind the v4+
// CheckpointProperties trailer (formats/java_serialization.cc):
// parse_java_object and parse_checkpoint_properties (which must never fail).
#include "flink_savepoint/java_serialization.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  std::string_view bytes = fuzz::as_view(data, size);
  constexpr uint64_t kBase = 1000;  // as if the trailer started at byte 1000 of a file
  auto v = parse_java_object(bytes, kBase);
  if (!v.ok()) fuzz::check_data_error(v.error(), kBase, size);
  SnapshotProperties p = parse_checkpoint_properties(bytes, kBase);
  if (p.parsed && p.present) {
    // What was understood can be written back and read again to the same values.
    std::string again = write_checkpoint_properties(p);
    SnapshotProperties q = parse_checkpoint_properties(again);
    FSP_FUZZ_CHECK(q.parsed, q.parse_error);
    FSP_FUZZ_CHECK(q.type_class == p.type_class && q.name == p.name && q.format_type == p.format_type &&
                       q.sharing_strategy == p.sharing_strategy && q.post_checkpoint_action == p.post_checkpoint_action,
                   "write_checkpoint_properties(parse(x)) reads back differently");
  }
  return 0;
}
