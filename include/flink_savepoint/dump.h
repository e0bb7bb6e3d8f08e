// dump: the state itself, one record per entry, streamed (docs/dump.md).
// dump_states() walks every state handle of a snapshot and hands each entry
// to a callback as it is decoded; nothing is collected, so memory is bounded
// by the largest single entry (and the largest key group when it is
// Snappy-compressed). Problems are per handle, reported through a second
// callback, and never stop the rest.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flink_savepoint/result.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state_value.h"

namespace fsp {

struct DumpRecord {
  std::string operator_id;  // hex
  std::string uid;          // "" when the metadata has none (before v5)
  std::string state;
  // value | list | map | reducing | aggregating | unknown (keyed), timer,
  // operator_list | operator_union | broadcast, raw (raw keyed/operator state,
  // not decoded: `value` is {"bytes": N}).
  std::string kind;
  bool keyed = false;             // key, key_group and namespace are meaningful
  int32_t key_group = -1;
  int32_t subtask = -1;           // operator, broadcast and raw records
  state::Value key, ns, value;
  bool has_user_key = false;      // map state entries, broadcast entries (`key`)
  state::Value user_key;
  bool has_ttl = false;
  int64_t ttl_timestamp = 0;
  bool has_timestamp = false;     // timers
  int64_t timestamp = 0;
};

struct DumpOptions {
  std::vector<std::pair<std::string, std::string>> path_map;
  std::string operator_filter;  // uid, id (hex) or name; "" = all
  std::string state_filter;     // state name; "" = all
  std::optional<int32_t> key_group;  // only this key group
  // --key: the key as JSON text (or a plain string). dump_states() finds its
  // key group per operator (KeyGroupRangeAssignment) and prints only entries
  // whose decoded key prints the same.
  std::optional<std::string> key;
  int64_t limit = -1;           // stop after this many records (-1 = all)
};

struct DumpCounts {
  int64_t records = 0;          // records handed to the callback
  int64_t keyed_entries = 0;    // keyed entries read (map entries one each; heap list values one each)
  int64_t timers = 0;
  int64_t undecoded = 0;        // values/keys printed as {"$serializer", "$base64"}
  int64_t problems = 0;
  // Keyed entries read per "OPERATOR_ID/STATE" (the unit of inspect --states'
  // entry statistics: heap mappings, full-format and RocksDB records, timers).
  std::map<std::string, int64_t> entries_by_state;
};

// `emit` returns false to stop the dump (e.g. the output was closed).
// `problem` gets "missing: ...", "unsupported: ...", "error: ..." lines.
// Errors only for usage (a --key that is not JSON for the key type, ...).
Result<DumpCounts> dump_states(const SnapshotFile& file, const DumpOptions& options,
                               const std::function<bool(const DumpRecord&)>& emit,
                               const std::function<void(const std::string&)>& problem);

// The key given to --key as a value of the key serializer's type (JSON text,
// or a plain string for String keys); false when it does not fit the type.
bool key_from_text(const state::SerializerNode& key_serializer, const std::string& text, state::Value* out);

}  // namespace fsp
