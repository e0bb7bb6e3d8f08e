// Internal to the summary (not installed): exposed only for its tests.
#pragma once

#include <cstdint>
#include <vector>

namespace fsp::detail {
// The number of distinct values (what the count without the file list uses),
// in time linear in their number whatever they are.
int64_t count_distinct(const std::vector<uint64_t>& values);
}  // namespace fsp::detail
