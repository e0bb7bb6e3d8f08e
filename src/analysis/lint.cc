#include "flink_savepoint/json.h"
#include "flink_savepoint/lint.h"

#include <algorithm>
#include <set>

#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/summary.h"

namespace fsp {

int32_t default_max_parallelism(int32_t p) {
  if (p < 1) p = 1;
  int64_t x = static_cast<int64_t>(p) + p / 2;
  int64_t pow2 = 1;
  while (pow2 < x) pow2 <<= 1;
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(pow2, 128), 32768));
}

int LintReport::fails() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const auto& f) { return f.status == "fail"; }));
}
int LintReport::warns() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const auto& f) { return f.status == "warn"; }));
}

namespace {

bool has_keyed(const OperatorState& op) {
  for (const auto& st : op.subtasks)
    if (!st.finished && (!st.managed_keyed.is_null() || !st.raw_keyed.is_null())) return true;
  return false;
}

int64_t keyed_size(const OperatorState& op) {
  int64_t n = 0;
  for (const auto& st : op.subtasks)
    if (!st.finished) n = add_size(n, st.managed_keyed.size());
  return n;
}

bool has_channel_state(const OperatorState& op) {
  for (const auto& st : op.subtasks)
    if (!st.input_channels.empty() || !st.result_subpartitions.empty()) return true;
  return false;
}

bool has_raw_keyed(const OperatorState& op) {
  for (const auto& st : op.subtasks)
    if (!st.finished && !st.raw_keyed.is_null()) return true;
  return false;
}

// Incremental handles that carry all files privately (non-incremental RocksDB since 1.16).
bool full_rocksdb_snapshot(const OperatorState& op) {
  bool any = false;
  for (const auto& st : op.subtasks) {
    const auto& k = st.managed_keyed;
    if (k.code != code::kIncremental && k.code != code::kIncrementalV2) continue;
    any = true;
    for (const auto& e : k.shared_state)
      if (e.handle.code == code::kFile || e.handle.code == code::kRelative) return false;
  }
  return any;
}

struct Ctx {
  const Snapshot& s;
  LintReport& r;
  LintFinding base(size_t i, const char* check) const {
    const auto& op = s.operators[i];
    LintFinding f;
    f.check = check;
    f.operator_index = i;
    f.operator_id = op.id_hex();
    f.uid = modified_utf8_to_utf8(op.uid);
    f.name = modified_utf8_to_utf8(op.name);
    return f;
  }
  void add(LintFinding f) { r.findings.push_back(std::move(f)); }
  // A finding with its status, message and fix in one call.
  LintFinding make(size_t i, const char* check, const char* status, std::string message, std::string fix) const {
    LintFinding f = base(i, check);
    f.status = status;
    f.message = std::move(message);
    f.fix = std::move(fix);
    return f;
  }
};

bool contains(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

}  // namespace

LintReport lint(const SnapshotFile& file, const LintOptions& o) {
  LintReport r;
  const Snapshot& s = file.snapshot;
  Ctx c{s, r};
  SnapshotSummary sum = summarize(s, /*list_files=*/false);
  std::set<std::string> known;
  for (const auto& u : o.known_uids) known.insert(hex(operator_id_from_uid(u)));

  for (size_t i = 0; i < s.operators.size(); ++i) {
    const auto& op = s.operators[i];
    if (!op.has_state()) continue;  // stateless (or finished) operators: nothing to restore, no finding

    // uid
    {
      auto f = c.base(i, "uid");
      if (s.version >= 5) {
        if (op.uid.empty()) {
          f.status = "fail";
          f.message = "stateful operator without a user uid: its id is generated from the job graph and changes "
                      "when the topology, chaining or parallelism around it changes";
          f.fix = "set .uid(\"...\") on this operator (or setUidHash(\"" + op.id_hex() + "\") to keep this state)";
        } else {
          f.status = "pass";
          f.message = "uid set";
        }
      } else if (known.count(op.id_hex())) {
        f.status = "pass";
        f.message = "operator id is the hash of a known uid";
        for (const auto& u : o.known_uids)
          if (hex(operator_id_from_uid(u)) == op.id_hex()) f.uid = u;
      } else {
        f.status = "info";
        f.message = "metadata v" + std::to_string(s.version) +
                    " does not store uids: whether this operator has one cannot be told from the file alone";
        f.fix = "pass the job's uids with --uid (repeatable) to check them";
      }
      f.evidence = nlohmann::json{{"metadata_version", s.version}}.dump();
      c.add(std::move(f));
    }

    // max parallelism
    {
      auto f = c.base(i, "max-parallelism");
      int32_t derived = default_max_parallelism(op.parallelism);
      f.evidence = nlohmann::json{{"parallelism", op.parallelism}, {"max_parallelism", op.max_parallelism},
                    {"derived_default", derived}, {"largest_parallelism_allowed", op.max_parallelism}}.dump();
      if (op.max_parallelism == derived) {
        f.status = "warn";
        f.message = "max parallelism " + std::to_string(op.max_parallelism) +
                    " looks derived by Flink (the default for parallelism " + std::to_string(op.parallelism) +
                    "), not chosen; it can never change for this state and limits the parallelism to " +
                    std::to_string(op.max_parallelism);
        f.fix = "choose it deliberately (pipeline.max-parallelism or setMaxParallelism) with room to grow; "
                "keeping the value " + std::to_string(op.max_parallelism) + " keeps this state restorable";
      } else if (op.max_parallelism <= op.parallelism) {
        f.status = "warn";
        f.message = "max parallelism " + std::to_string(op.max_parallelism) +
                    " is explicitly chosen and equals the parallelism: no room to scale out";
        f.fix = "the max parallelism of existing keyed state cannot change; plan a state migration (e.g. with the "
                "State Processor API) if this operator must scale beyond " + std::to_string(op.max_parallelism);
      } else if (op.max_parallelism > o.large_max_parallelism) {
        f.status = "warn";
        f.message = "very large max parallelism " + std::to_string(op.max_parallelism) +
                    ": every key group costs metadata and per-key-group work in snapshots and restores";
        f.fix = "a few times the largest parallelism you expect is enough";
      } else {
        f.status = "pass";
        f.message = "max parallelism " + std::to_string(op.max_parallelism) + " explicitly chosen, allows parallelism up to " +
                    std::to_string(op.max_parallelism);
      }
      if (has_keyed(op) || f.status != "pass") c.add(std::move(f));
    }

    // state size against backend
    if (has_keyed(op)) {
      int64_t ks = keyed_size(op);
      auto f = c.base(i, "state-size");
      f.evidence = nlohmann::json{{"keyed_state_bytes", ks}, {"backend", sum.backend}}.dump();
      if (!sum.changelog && sum.state_backend == StateBackend::kHashMap && ks > o.large_heap_state_bytes) {
        f.status = "warn";
        f.message = "large keyed state (" + std::to_string(ks) + " bytes) on the heap (HashMap) backend";
        f.fix = "use the RocksDB (or ForSt) backend with incremental checkpoints for state of this size";
        c.add(std::move(f));
      } else if (sum.kind == SnapshotKind::kCheckpoint && full_rocksdb_snapshot(op) && ks > o.large_full_snapshot_bytes) {
        f.status = "warn";
        f.message = "full (non-incremental) RocksDB checkpoints of " + std::to_string(ks) + " bytes";
        f.fix = "enable incremental checkpoints (execution.checkpointing.incremental: true)";
        c.add(std::move(f));
      }
    }

    if (has_raw_keyed(op)) {
      c.add(c.make(i, "legacy-timers", "warn",
                   "raw keyed state present: timers written into raw keyed state (heap timers with RocksDB, legacy) "
                   "or a custom raw state stream",
                   "keep timers in RocksDB (state.backend.rocksdb.timer-service.factory: ROCKSDB, the default)"));
    }
    if (has_channel_state(op)) {
      c.add(c.make(i, "channel-state", "info",
                   "unaligned-checkpoint channel state present: this snapshot cannot be used to change the topology "
                   "or rescale pointwise connections",
                   "take a savepoint (aligned) before upgrading the job"));
    }
  }

  // State-level checks.
  if (o.read_states) {
    auto states = read_states(file, o.state_options);
    if (!states.ok()) {
      r.states_note = "state files not read: " + states.error().to_string();
    } else {
      r.states_read = true;
      int64_t problems = 0;
      for (const auto& os : *states) {
        problems += static_cast<int64_t>(os.problems.size());
        // SQL operators keep RowData state (keys or values): their TTL is a query setting, not a StateTtlConfig.
        bool sql = false;
        for (const auto& st : os.states)
          sql |= contains(st.key_serializer, "RowData") || contains(st.value_serializer, "RowData") ||
                 contains(st.type, "RowData") || contains(st.key_type, "RowData");
        for (const auto& st : os.states) {
          bool keyed = is_keyed(st.state_kind);
          // Flink-internal states need no TTL: window contents, merging
          // window sets and trigger states are scoped to a window namespace
          // and cleared when the window fires or expires (timers are their own kind).
          const bool internal = st.name == "window-contents" || st.name == "merging-window-set" ||
                                contains(st.namespace_serializer, "TimeWindow") ||
                                contains(st.namespace_serializer, "GlobalWindow") ||
                                st.name.rfind("_timer_state/", 0) == 0;
          if (keyed && !st.ttl && !internal) {
            auto f = c.base(os.operator_index, "ttl");
            f.state = st.name;
            f.status = "warn";
            f.message = "keyed " + st.kind + " state '" + st.name + "' has no TTL: it grows with the key space forever";
            f.evidence = nlohmann::json{{"entries", st.entries}, {"bytes", st.bytes}}.dump();
            f.fix = sql ? "set table.exec.state.ttl for the query (or a STATE_TTL hint on its tables) if rows of old "
                          "keys are not needed; the compiled plan keeps it per node (switching TTL on is a state "
                          "migration: supported from Flink 2.1 (RocksDB) / 2.2 (heap))"
                        : "set a StateTtlConfig if entries of old keys are not needed (switching TTL on is a state "
                          "migration: supported from Flink 2.1 (RocksDB) / 2.2 (heap))";
            c.add(std::move(f));
          }
          // Serializers that block evolution or upgrades.
          bool scala = false, kryo = false, java = false, pojo = false;
          for (const auto& cls : st.serializer_classes) {
            if (contains(cls, "org.apache.flink.api.scala") || contains(cls, "scala.")) scala = true;
            if (contains(cls, "KryoSerializerSnapshot")) kryo = true;
            if (contains(cls, "JavaSerializer")) java = true;
            if (contains(cls, "PojoSerializerSnapshot")) pojo = true;
          }
          auto ser = [&](const char* status, std::string msg, std::string fix) {
            auto f = c.make(os.operator_index, "serializer", status, std::move(msg), std::move(fix));
            f.state = st.name;
            f.evidence = nlohmann::json{{"type", st.type}, {"serializer_classes", st.serializer_classes}}.dump();
            c.add(std::move(f));
          };
          if (scala)
            ser("fail", "state '" + st.name + "' uses Scala API serializers, removed in Flink 2.0: it cannot be restored by 2.x",
                "migrate the state to Java-API types (e.g. with the State Processor API) on 1.x before upgrading");
          if (kryo && pojo)
            ser("warn", "state '" + st.name + "' is a POJO with fields that fell back to Kryo: those fields cannot evolve, "
                "and Kryo changed from 2 to 5 in Flink 2.0",
                "give the fields Flink-supported types or register a TypeInformation / custom serializer");
          else if (kryo)
            ser("warn", "state '" + st.name + "' is serialized with the Kryo fallback: no schema evolution, and Kryo state "
                "from 1.x cannot be restored by Flink 2.x",
                "use a POJO, Avro or a custom TypeSerializer with a snapshot for this type");
          if (java)
            ser("warn", "state '" + st.name + "' uses Java serialization: no schema evolution and fragile across class changes",
                "use a Flink type serializer instead");
          // Key-group skew.
          if (st.mean_key_group_bytes > 0 && st.max_key_group_bytes >= 0 && st.bytes >= o.skew_min_bytes) {
            double ratio = static_cast<double>(st.max_key_group_bytes) / st.mean_key_group_bytes;
            if (ratio > o.skew_ratio) {
              auto f = c.base(os.operator_index, "key-group-skew");
              f.state = st.name;
              f.status = "warn";
              f.message = "state '" + st.name + "' is skewed: its largest key group holds " + std::to_string(ratio).substr(0, 5) +
                          "x the mean";
              f.evidence = nlohmann::json{{"max_key_group_bytes", st.max_key_group_bytes}, {"mean_key_group_bytes", st.mean_key_group_bytes},
                            {"key_groups_with_data", st.key_groups_with_data}}.dump();
              f.fix = "check the key distribution (hot keys); a subtask owning that key group carries the load";
              c.add(std::move(f));
            }
          }
        }
      }
      if (problems > 0) r.states_note = std::to_string(problems) + " state handle(s) could not be read (see inspect --states)";
    }
  } else {
    r.states_note = "state files not read (--no-states)";
  }
  return r;
}

nlohmann::json lint_to_json(const LintReport& r) {
  nlohmann::json fs = nlohmann::json::array();
  for (const auto& f : r.findings) {
    nlohmann::json j{{"check", f.check}, {"status", f.status}, {"message", f.message}, {"fix", f.fix},
                     {"evidence", f.evidence.empty() ? nlohmann::json::object() : nlohmann::json::parse(f.evidence)}};
    j["operator_id"] = f.operator_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.operator_id);
    j["uid"] = f.uid.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.uid);
    j["name"] = f.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.name);
    j["state"] = f.state.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.state);
    fs.push_back(std::move(j));
  }
  return {{"findings", fs},
          {"fails", r.fails()},
          {"warns", r.warns()},
          {"states_read", r.states_read},
          {"states_note", r.states_note}};
}

}  // namespace fsp
