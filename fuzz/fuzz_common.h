// Shared helpers for the libFuzzer targets in fuzz/. Each target defines
// LLVMFuzzerTestOneInput; with clang it links libFuzzer (-fsanitize=fuzzer),
// otherwise standalone_main.cc replays files given on the command line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "flink_savepoint/result.h"

namespace fsp::fuzz {

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property the decoder promises; a violation aborts so that libFuzzer
// records the input as a crash.
[[noreturn]] inline void violated(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz invariant violated: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

#define FSP_FUZZ_CHECK(cond, detail) \
  do {                               \
    if (!(cond)) ::fsp::fuzz::violated(#cond, (detail)); \
  } while (0)

// The error contract (docs/errors.md): a data error names a byte offset that
// lies within the input (base_offset + size), and has a message.
inline void check_data_error(const Error& e, uint64_t base_offset, size_t size) {
  FSP_FUZZ_CHECK(!e.message.empty(), e.to_string());
  FSP_FUZZ_CHECK(e.is_bad_data(), e.to_string());
  FSP_FUZZ_CHECK(e.offset.has_value(), e.to_string());
  FSP_FUZZ_CHECK(*e.offset >= base_offset && *e.offset <= base_offset + size, e.to_string());
}

}  // namespace fsp::fuzz
