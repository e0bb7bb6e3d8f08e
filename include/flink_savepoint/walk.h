// One walk over every handle of a snapshot, used by the files list, relocate
// and the state reader, so that no command re-implements the handle tree.
#pragma once

#include <cstddef>
#include <string>

#include "flink_savepoint/model.h"

namespace fsp {

// Where a handle sits: operator, subtask and slot, plus the role of the
// stream handle inside it (e.g. "shared state 000012.sst").
struct HandleLocation {
  size_t op_index = 0;
  int subtask = -1;            // -1: operator-level (coordinator state)
  const char* slot = "";       // "coordinator state", "managed keyed state", ...
  const char* role = "";       // "data", "meta data", "shared state", "private state", "changelog", "channel", "segment"
  Str local_path;              // incremental entries: the local file name
  std::string describe(const Snapshot& s) const;
};

// What kind of path string a visitor is given.
enum class PathKind {
  kAbsoluteFile,      // code 2 path
  kRelativeFile,      // code 6 path (relative to the snapshot directory)
  kSegmentFile,       // code 15 physical file path (absolute)
  kDirectory,         // code 17 task-owned / shared directory strings
  kInlineName,        // code 1 handle name (informational, never a file)
};

namespace detail {
template <typename S, typename F>
void walk_stream(S& h, HandleLocation& loc, F& f);
}

// Calls f(StreamHandle&, const HandleLocation&) for every non-null stream
// handle (const or mutable, following the Snapshot's constness), depth first in
// file order.
template <typename SnapshotT, typename F>
void for_each_stream_handle(SnapshotT& s, F&& f) {
  static_assert(std::is_same_v<std::remove_const_t<SnapshotT>, Snapshot>);
  HandleLocation loc;
  auto stream = [&](auto& h) { detail::walk_stream(h, loc, f); };
  auto keyed = [&](auto& self, auto& k) -> void {
    if (k.is_null()) return;
    switch (k.code) {
      case code::kIncremental:
      case code::kIncrementalV2:
        loc.role = "meta data";
        stream(k.delegate);
        loc.role = "shared state";
        for (auto& e : k.shared_state) {
          loc.local_path = e.local_path;
          stream(e.handle);
        }
        loc.role = "private state";
        for (auto& e : k.private_state) {
          loc.local_path = e.local_path;
          stream(e.handle);
        }
        loc.local_path = {};
        break;
      case code::kChangelog:
      case code::kChangelogV2:
        for (auto& m : k.materialized) self(self, m);
        for (auto& m : k.non_materialized) self(self, m);
        break;
      case code::kChangelogFileIncrement:
      case code::kChangelogFileIncrementV2:
        loc.role = "changelog";
        for (auto& ho : k.handles_and_offsets) stream(ho.handle);
        break;
      case code::kNull: case code::kByteStream: case code::kFile: case code::kKeyGroups:
      case code::kPartitionableOperator: case code::kRelative: case code::kSavepointKeyGroups:
      case code::kChangelogByteIncrement: case code::kKeyGroupsV2: case code::kSegmentFile:
      case code::kEmptySegmentFile: case code::kSegmentPartitionableOperator:
        loc.role = "data";
        stream(k.delegate);
    }
  };
  auto op_handle = [&](auto& o) {
    if (o.is_null()) return;
    loc.role = "data";
    stream(o.delegate);
  };
  auto channels = [&](auto& v) {
    loc.role = "channel";
    for (auto& c : v) stream(c.delegate);
  };
  for (size_t i = 0; i < s.operators.size(); ++i) {
    auto& op = s.operators[i];
    loc = HandleLocation{};
    loc.op_index = i;
    loc.slot = "coordinator state";
    loc.role = "data";
    stream(op.coordinator);
    for (auto& st : op.subtasks) {
      if (st.finished) continue;
      loc.subtask = st.index;
      loc.slot = "managed operator state";
      op_handle(st.managed_operator);
      loc.slot = "raw operator state";
      op_handle(st.raw_operator);
      loc.slot = "managed keyed state";
      keyed(keyed, st.managed_keyed);
      loc.slot = "raw keyed state";
      keyed(keyed, st.raw_keyed);
      loc.slot = "input channel state";
      channels(st.input_channels);
      loc.slot = "result subpartition state";
      channels(st.result_subpartitions);
    }
  }
}

// Calls f(Str& dir, PathKind::kDirectory, const HandleLocation&) for the
// directory strings of file-merging operator handles (code 17) only: the
// subtask states are visited, not the million stream handles below them.
template <typename SnapshotT, typename F>
void for_each_directory(SnapshotT& s, F&& f) {
  HandleLocation loc;
  for (size_t i = 0; i < s.operators.size(); ++i) {
    loc.op_index = i;
    for (auto& st : s.operators[i].subtasks) {
      loc.subtask = st.index;
      loc.role = "directory";
      for (auto* o : {&st.managed_operator, &st.raw_operator}) {
        if (o->code != code::kSegmentPartitionableOperator) continue;
        loc.slot = o == &st.managed_operator ? "managed operator state" : "raw operator state";
        f(o->task_owned_dir, PathKind::kDirectory, loc);
        f(o->shared_dir, PathKind::kDirectory, loc);
      }
    }
  }
}

// Calls f(Str& path, PathKind, const HandleLocation&) for every path-like
// string: stream handle paths, then the directory strings of file-merging
// operator handles (for_each_directory).
template <typename SnapshotT, typename F>
void for_each_path(SnapshotT& s, F&& f) {
  for_each_stream_handle(s, [&](auto& h, const HandleLocation& loc) {
    switch (h.code) {
      case code::kFile: f(h.path, PathKind::kAbsoluteFile, loc); break;
      case code::kRelative: f(h.path, PathKind::kRelativeFile, loc); break;
      case code::kSegmentFile: f(h.path, PathKind::kSegmentFile, loc); break;
      case code::kByteStream: f(h.path, PathKind::kInlineName, loc); break;
      case code::kNull: case code::kKeyGroups: case code::kPartitionableOperator: case code::kIncremental:
      case code::kSavepointKeyGroups: case code::kChangelog: case code::kChangelogByteIncrement:
      case code::kChangelogFileIncrement: case code::kIncrementalV2: case code::kKeyGroupsV2:
      case code::kChangelogFileIncrementV2: case code::kChangelogV2: case code::kEmptySegmentFile:
      case code::kSegmentPartitionableOperator: break;
    }
  });
  for_each_directory(s, f);
}

namespace detail {
template <typename S, typename F>
void walk_stream(S& h, HandleLocation& loc, F& f) {
  if (h.is_null()) return;
  if (h.code == code::kKeyGroups && h.key_groups()) {
    walk_stream(h.key_groups()->delegate, loc, f);
    return;
  }
  f(h, static_cast<const HandleLocation&>(loc));
}
}  // namespace detail

}  // namespace fsp
