// Skipping one Java Object Serialization stream embedded in a serializer
// snapshot (Flink's InstantiationUtil.serializeObject: RowData/MapData/ArrayData
// logical types, ExternalSerializer data types, SortedMap comparators), with the
// same bounded parser that reads the CheckpointProperties trailer.
#include <string>

#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/state_internal.h"

namespace fsp::state {

std::optional<std::string> skip_java_object(ByteReader& r) {
  if (!r.ok()) return std::nullopt;
  const uint64_t start = r.file_offset();
  std::string_view rest(reinterpret_cast<const char*>(r.data() + r.pos()), r.remaining());
  size_t consumed = 0;
  auto v = parse_java_object(rest, start, &consumed);
  if (!v.ok()) {
    const Error& e = v.error();
    uint64_t at = e.offset.value_or(start);
    r.fail_at(r.pos() + static_cast<size_t>(at >= start ? at - start : 0), e.message, e.kind);
    return std::nullopt;
  }
  r.skip(consumed);
  if (v->kind == JavaValue::Kind::kString) return std::string("java.lang.String");
  return v->class_name;
}

}  // namespace fsp::state
