// Helpers shared by the benchmark drivers (header only: every bench/*.cc is
// its own executable, see bench/CMakeLists.txt).
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "flink_savepoint/model.h"

namespace fsp::bench {

// How many handles of each kind a snapshot holds. "Stream handles" are the
// StreamStateHandles that point at data (files, inline bytes, ...): the
// meta data handle and every shared/private entry of an incremental keyed
// handle, operator state delegates, coordinator state, channel state.
struct HandleCounts {
  uint64_t operators = 0;
  uint64_t subtasks = 0;         // subtask states with a body (not finished)
  uint64_t keyed = 0;            // non-null KeyedStateHandles (nested ones too)
  uint64_t operator_handles = 0; // non-null OperatorStateHandles
  uint64_t stream = 0;           // non-null StreamStateHandles (nested ones too)
  uint64_t shared_entries = 0;   // shared_state entries of incremental handles
  uint64_t private_entries = 0;  // private_state entries of incremental handles
  uint64_t channel = 0;          // input channel + result subpartition handles
  int64_t state_size = 0;        // sum of OperatorState::size()

  uint64_t total() const { return keyed + operator_handles + stream + channel; }
  bool operator==(const HandleCounts&) const = default;
};

inline void count_stream(const StreamHandle& h, HandleCounts& c) {
  if (h.is_null()) return;
  ++c.stream;
  if (h.key_groups()) count_stream(h.key_groups()->delegate, c);
}

inline void count_keyed(const KeyedHandle& h, HandleCounts& c) {
  if (h.is_null()) return;
  ++c.keyed;
  count_stream(h.delegate, c);
  for (const auto& e : h.shared_state) count_stream(e.handle, c);
  for (const auto& e : h.private_state) count_stream(e.handle, c);
  c.shared_entries += h.shared_state.size();
  c.private_entries += h.private_state.size();
  for (const auto& k : h.materialized) count_keyed(k, c);
  for (const auto& k : h.non_materialized) count_keyed(k, c);
  for (const auto& ho : h.handles_and_offsets) count_stream(ho.handle, c);
}

inline void count_operator_handle(const OperatorHandle& h, HandleCounts& c) {
  if (h.is_null()) return;
  ++c.operator_handles;
  count_stream(h.delegate, c);
}

inline HandleCounts count_handles(const Snapshot& s) {
  HandleCounts c;
  for (const auto& op : s.operators) {
    ++c.operators;
    count_stream(op.coordinator, c);
    c.state_size += op.size();
    for (const auto& st : op.subtasks) {
      if (st.finished) continue;
      ++c.subtasks;
      count_operator_handle(st.managed_operator, c);
      count_operator_handle(st.raw_operator, c);
      count_keyed(st.managed_keyed, c);
      count_keyed(st.raw_keyed, c);
      for (const auto* list : {&st.input_channels, &st.result_subpartitions}) {
        for (const auto& ch : *list) {
          ++c.channel;
          count_stream(ch.delegate, c);
        }
      }
    }
  }
  return c;
}

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Stats {
  double best = 0, median = 0, mean = 0, worst = 0;
};

inline Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.best = v.front();
  s.worst = v.back();
  size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(n);
  return s;
}

// A field of /proc/self/status in kB ("VmHWM", "VmRSS"), or -1.
inline long proc_status_kb(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.compare(0, field.size(), field) == 0 && line.size() > field.size() && line[field.size()] == ':') {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

// getrusage(RUSAGE_SELF).ru_maxrss, in kB on Linux.
inline long maxrss_kb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

}  // namespace fsp::bench
