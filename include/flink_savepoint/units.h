// Sizes and durations written the way Flink's configuration takes them:
// MemorySize ("1g", "256mb", "64 kb", "1073741824") and TimeUtils
// ("500ms", "1 s", "2 min", "1h", "7 d", a bare number = milliseconds).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "flink_savepoint/result.h"

namespace fsp {

// Bytes of a MemorySize text: a non-negative integer, optional whitespace,
// optional unit b|bytes, k|kb|kibibytes, m|mb|mebibytes, g|gb|gibibytes,
// t|tb|tebibytes (case-insensitive, powers of 1024).
Result<uint64_t> parse_memory_size(std::string_view text);

// Milliseconds of a TimeUtils duration: a non-negative integer, optional
// whitespace, optional unit d|day(s), h|hour(s), m|min|minute(s),
// s|sec(s)|second(s), ms|milli(s)|millisecond(s), us|µs|micro(s)|microsecond(s),
// ns|nano(s)|nanosecond(s); no unit = milliseconds. Sub-millisecond values
// are rounded down.
Result<int64_t> parse_duration_ms(std::string_view text);

}  // namespace fsp
