// Internal to the summary (not installed): exposed only for its tests.
#pragma once

#include <cstdint>
#include <vector>

namespace fsp::detail {
// The number of distinct values (what the count without the file list uses),
// in time linear in their number whatever they are. With `repeated`, each
// value met more than once is added to it at least once (a value met k times
// may be added up to k-1 times).
int64_t count_distinct(const std::vector<uint64_t>& values, std::vector<uint64_t>* repeated = nullptr);
}  // namespace fsp::detail
