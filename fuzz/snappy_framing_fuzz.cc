// Fuzz target: the Snappy framing reader (formats/snappy_framing.cc). The
// first byte selects CRC checking and an output cap. Invariants: output never
// exceeds 64 KiB per chunk past the cap, consumed stays within the input.
#include "flink_savepoint/state_internal.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  if (size < 1) return 0;
  uint8_t sel = data[0];
  std::string_view bytes = fuzz::as_view(data + 1, size - 1);
  bool verify = sel & 1;
  size_t cap = (sel & 2) ? static_cast<size_t>(sel >> 2) * 1024 : SIZE_MAX;
  (void)state::looks_snappy_framed(bytes);
  auto r = state::decode_snappy_framed(bytes, verify, cap, 10);
  if (!r.ok()) {
    fuzz::check_data_error(r.error(), 10, bytes.size());
    return 0;
  }
  FSP_FUZZ_CHECK(r->consumed <= bytes.size(), std::to_string(r->consumed));
  if (cap != SIZE_MAX) FSP_FUZZ_CHECK(r->data.size() < cap + 65536 + 1, std::to_string(r->data.size()));
  // Snappy expands at most ~ 6x per the format; anything more is an allocation the input cannot justify.
  FSP_FUZZ_CHECK(r->data.size() <= 64 * bytes.size() + 65536, std::to_string(r->data.size()));
  return 0;
}
