// The in-memory changelog of the changelog state backend, replayed: the
// state changes of InMemoryChangelogStateHandle (handle code 9) applied in
// order, as ChangelogBackendRestoreOperation does on restore, into the
// entries the state holds afterwards. Shared by dump (prints them) and the
// state reader (counts them), so that both agree.
//
// Each change is (key group, bytes). Key group -1: METADATA (op byte 8 as
// Flink 1.17 writes it, 9 once REMOVE_FIRST_ELEMENT took 8; int meta info version,
// StateMetaInfoSnapshot, for key/value states the TTL config and default
// value, then short state id and byte backend state type - read from the
// record's last three bytes). Others: op byte, short state id, then for
// key/value states the key and namespace (the backend's key serializer is
// not in the changelog), then the op's data; for priority queues (timers)
// the data alone (ADD_ELEMENT: int n, n elements; REMOVE_ELEMENT: one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"
#include "flink_savepoint/state_internal.h"

namespace fsp::state {

struct ChangelogEntry {
  int32_t key_group = 0;
  std::string key, ns;  // key/value states: the serialized key and namespace
  // Key/value states: the whole value as the state's VALUE_SERIALIZER writes
  // it (lists and maps rebuilt in ListSerializer / MapSerializer form);
  // priority queues: the element (a timer).
  std::string value;
};

struct ChangelogStateReplay {
  StateMetaInfo meta;
  bool priority_queue = false;
  // Non-empty when the changes of this state cannot be applied here (an ADD
  // to a reducing state needs the job's function, ...): entries unknown.
  std::string unsupported;
  std::vector<ChangelogEntry> entries;  // by (key group, key, namespace) / (key group, element)
};

struct ChangelogReplay {
  std::vector<ChangelogStateReplay> states;  // in the order their METADATA first appears
  // The key serializer when the changelog shows it (the key of a timer
  // state's TimerSerializer); else keys are raw bytes.
  // Without it, the key of each record is what precedes the one split after
  // which the namespace and the operation's data decode to the record's end
  // (more than one such split: the state is unsupported).
  std::optional<SerializerNode> key_serializer;
};

// Replays the non-materialized in-memory increments of changelog handle `h`
// (code 8 or 14) in order. Unsupported (error kind) when `h` has a
// materialized part (changes over a base are not merged here) or an
// increment in DSTL files (codes 10, 13); an error with the change's index
// when a record does not decode.
Result<ChangelogReplay> replay_changelog(const KeyedHandle& h);

}  // namespace fsp::state
