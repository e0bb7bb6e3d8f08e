// The restore rules of `check` (docs/check.md lists each with its source in Flink).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_map>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/check.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/summary.h"
#include "flink_savepoint/text.h"
#include "flink_savepoint/walk.h"

namespace fsp {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    default: return "info";
  }
}

int CheckReport::count(Severity s) const {
  int n = 0;
  for (const auto& f : findings) n += f.severity == s;
  return n;
}

const std::vector<std::string>& check_rule_ids() {
  static const std::vector<std::string> kIds = {
      "unmatched-state", "skipped-empty-state", "unverifiable-chained-state", "duplicate-operator-id", "missing-uid",
      "new-operator-without-state", "max-parallelism-mismatch", "max-parallelism-adopted",
      "parallelism-above-max-parallelism", "backend-switch", "unaligned-topology-change", "unaligned-rescale",
      "unaligned-version-upgrade", "claim-mode", "flink-downgrade", "metadata-version-unreadable", "pre-1.8-snapshot",
      "legacy-serializer-snapshot", "scala-serializer", "kryo-serializer", "major-version-step",
      "checkpoint-version-upgrade", "state-kind-changed", "key-serializer-changed", "value-serializer-changed",
      "ttl-changed", "new-state", "state-not-registered"};
  return kIds;
}

Verdict CheckReport::verdict_kind() const {
  if (count(Severity::kError) > 0) return Verdict::kIncompatible;
  if (!unevaluated.empty()) return Verdict::kUnknown;
  return Verdict::kCompatible;
}

const char* CheckReport::verdict() const {
  switch (verdict_kind()) {
    case Verdict::kIncompatible: return "incompatible";
    case Verdict::kUnknown: return "unknown";
    default: return "compatible";
  }
}

std::string CheckReport::verdict_line() const {
  std::string v = verdict();
  if (verdict_kind() == Verdict::kCompatible && state_dropped) v += " with state dropped";
  if (states_skipped)
    v += " (--no-states: state files not read, so the serializer, TTL, state kind and pre-1.8 rules were not evaluated)";
  return v;
}

int CheckReport::exit_code(bool strict) const {
  switch (verdict_kind()) {
    case Verdict::kIncompatible: return 1;
    case Verdict::kUnknown: return strict && count(Severity::kWarning) > 0 ? 1 : 2;
    default: return strict && count(Severity::kWarning) > 0 ? 1 : 0;
  }
}

namespace {

struct Version : FlinkVersion {
  Version() = default;
  Version(FlinkVersion v) : FlinkVersion(v) {}  // NOLINT(google-explicit-constructor)
  bool operator>=(const Version& o) const { return !(*this < o); }
};
Version V(int a, int b) { return Version{FlinkVersion{a, b}}; }

// The Flink versions that write a metadata version, and the first that reads
// it (the version table in metadata.h).
struct MetaRange {
  Version first, last;  // last.major < 0: open-ended
};
MetaRange meta_range(int32_t v) {
  const MetadataVersionInfo* i = metadata_version_info(v);
  if (!i) i = metadata_version_info(kLastDecodedVersion);
  return {Version(i->first_reader), Version(i->last_writer)};
}

// "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot" -> "long"
std::string serializer_key(std::string_view cls) {
  std::string s(cls);
  if (auto dot = s.rfind('.'); dot != std::string::npos) s = s.substr(dot + 1);
  // Nested snapshot classes: keep the outer class ("LongSerializer$LongSerializerSnapshot" -> "LongSerializer").
  if (auto d = s.find('$'); d != std::string::npos) s = s.substr(0, d);
  for (std::string_view suf : {"SerializerSnapshot", "SerializerConfigSnapshot", "Snapshot", "Serializer"}) {
    if (s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0) {
      s = s.substr(0, s.size() - suf.size());
      break;
    }
  }
  return ascii_lower(s);
}

bool same_serializer(std::string_view a, std::string_view b) { return serializer_key(a) == serializer_key(b); }

std::string flink_state_type(const std::string& kind) {
  std::string k = ascii_lower(kind);
  if (k == "value" || k == "list" || k == "map" || k == "reducing" || k == "aggregating" || k == "folding") {
    std::string u = k;
    for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
  }
  return "";
}

std::string normalize_kind(std::string k) {
  k = ascii_lower(k);
  if (k == "liststate" || k == "list_state") return "list";
  if (k == "valuestate" || k == "value_state") return "value";
  if (k == "mapstate" || k == "map_state") return "map";
  if (k == "union" || k == "union_list" || k == "operator_union_list") return "operator_union";
  if (k == "operator_list_state" || k == "split" || k == "split_distribute") return "operator_list";
  return k;
}

bool is_legacy_config_snapshot(std::string_view cls) {
  auto ends = [&](std::string_view suf) { return cls.size() >= suf.size() && cls.substr(cls.size() - suf.size()) == suf; };
  return ends("ConfigSnapshot") || ends("SerializerConfig") || cls.find("TypeSerializerConfigSnapshot") != std::string_view::npos ||
         cls.find("BackwardsCompatibleSerializerSnapshot") != std::string_view::npos ||
         cls.find("ParameterlessTypeSerializerConfig") != std::string_view::npos;
}
bool is_scala_serializer(std::string_view cls) {
  return cls.rfind("org.apache.flink.api.scala.", 0) == 0 || cls.rfind("scala.", 0) == 0;
}
bool is_kryo_serializer(std::string_view cls) { return cls.find("Kryo") != std::string_view::npos; }

const char* kUnmapped =
    "Failed to rollback to checkpoint/savepoint %P. Cannot map checkpoint/savepoint state for operator %O to the new "
    "program, because the operator is not available in the new program. If you want to allow to skip this, you can set "
    "the --allowNonRestoredState option on the CLI.";

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::string human(int64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
  else snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
  return buf;
}

class Checker {
 public:
  Checker(const SnapshotFile& sf, const NewJob& job, const CheckOptions& opt) : sf_(sf), s_(sf.snapshot), job_(job), opt_(opt) {}

  CheckReport run() {
    settings();
    sum_ = summarize(s_, /*list_files=*/false);
    r_.snapshot_type = sum_.type;
    r_.snapshot_format = sum_.format;
    r_.snapshot_backend = sum_.backend;
    r_.metadata_version = s_.version;
    read_snapshot_states();
    match();
    operator_rules();
    new_operator_rules();
    backend_rules();
    unaligned_rules();
    claim_rules();
    version_rules();
    serializer_version_rules();
    sql_ttl_rules();
    unevaluated_rules();
    for (const auto& n : job_.notes) r_.notes.push_back(n);
    std::stable_sort(r_.findings.begin(), r_.findings.end(),
                     [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
    apply_ignores();
    return std::move(r_);
  }

 private:
  const SnapshotFile& sf_;
  const Snapshot& s_;
  const NewJob& job_;
  const CheckOptions& opt_;
  CheckReport r_;
  SnapshotSummary sum_;
  Version target_;
  std::string backend_;
  bool anrs_ = false;
  std::unordered_map<size_t, const OperatorStates*> states_by_op_;
  std::vector<OperatorStates> states_;
  std::vector<int> match_of_;         // snapshot op -> job op (-1)
  std::vector<bool> job_matched_;     // job op matched by any snapshot op
  std::vector<bool> job_matched_state_;  // ... by a snapshot op with state
  std::string states_error_;             // read_states failed as a whole

  void settings() {
    r_.snapshot_path = sf_.directory.empty() ? sf_.metadata_path : sf_.directory;
    r_.job_source = job_.source;
    r_.job_kind = job_.kind;
    std::string t = !opt_.target_flink.empty() ? opt_.target_flink : job_.flink_version;
    if (!t.empty()) {
      int a, b;
      if (parse_flink_version(t, a, b)) target_ = V(a, b);
      r_.target_flink = t;
    }
    backend_ = ascii_lower(!opt_.state_backend.empty() ? opt_.state_backend : job_.state_backend);
    r_.state_backend = backend_;
    r_.claim_mode = ascii_lower(!opt_.claim_mode.empty() ? opt_.claim_mode : job_.claim_mode);
    anrs_ = opt_.allow_non_restored_state.value_or(job_.allow_non_restored_state.value_or(false));
    r_.allow_non_restored_state = anrs_;
    if (!target_.known())
      r_.notes.push_back("no target Flink version given (--target-flink or manifest flink_version): version rules skipped");
    if (backend_.empty())
      r_.notes.push_back("no state backend given (--state-backend or manifest state_backend): backend rules skipped");
  }

  void add(Severity sev, std::string rule, const OperatorState* op, const JobOperator* jop, std::string message,
           std::string flink_error, std::string hint) {
    Finding f;
    f.severity = sev;
    f.rule = std::move(rule);
    if (op) {
      f.operator_id = op->id_hex();
      f.uid = modified_utf8_to_utf8(op->uid);
      f.name = modified_utf8_to_utf8(op->name);
    }
    if (jop) {
      if (f.operator_id.empty()) {
        if (auto g = jop->generated_id()) f.operator_id = hex(*g);
        else if (jop->uid_hash) f.operator_id = hex(*jop->uid_hash);
      }
      if (f.uid.empty()) f.uid = jop->uid;
      if (f.name.empty()) f.name = jop->name;
    }
    f.message = std::move(message);
    f.flink_error = std::move(flink_error);
    f.hint = std::move(hint);
    r_.findings.push_back(std::move(f));
  }

  std::string op_label(const OperatorState& op, int job_index) const {
    std::string l = op.id_hex();
    std::string uid = job_index >= 0 && !job_.operators[job_index].uid.empty() ? job_.operators[job_index].uid
                                                                                : modified_utf8_to_utf8(op.uid);
    if (!uid.empty()) l += " (uid \"" + display(uid) + "\")";
    return l;
  }

  void read_snapshot_states() {
    if (!opt_.read_states) return;
    StateReadOptions ro = opt_.state_options;
    // Heap and RocksDB-full files share a handle type before 1.16: only
    // walking the data tells them apart (the reader labels each state).
    if (sum_.state_backend == StateBackend::kHeapOrRocksDbFull && !backend_.empty()) ro.statistics = true;
    if (opt_.states && !ro.statistics) {
      states_ = *opt_.states;
      r_.states_read = true;
      finish_states();
      return;
    }
    auto st = read_states(sf_, ro);
    if (!st) {
      states_error_ = st.error().message;
      r_.notes.push_back("state files not read (" + st.error().message + "): serializer and schema rules skipped");
      return;
    }
    states_ = std::move(*st);
    r_.states_read = true;
    finish_states();
  }

  void finish_states() {
    int unreadable = 0;
    for (const auto& o : states_) {
      states_by_op_[o.operator_index] = &o;
      if (o.handles_failed || o.handles_missing || o.handles_unsupported) ++unreadable;
    }
    if (unreadable)
      r_.notes.push_back(std::to_string(unreadable) +
                         " operator(s) have state files that could not be read (missing or not understood): their "
                         "schema rules are skipped");
  }

  const OperatorStates* states_of(size_t i) const {
    auto it = states_by_op_.find(i);
    return it == states_by_op_.end() ? nullptr : it->second;
  }

  void match() {
    std::map<OperatorId, std::vector<std::pair<int, bool>>> by_id;  // id -> (job op, user-defined)
    for (size_t j = 0; j < job_.operators.size(); ++j) {
      const auto& jo = job_.operators[j];
      if (jo.uid_hash) by_id[*jo.uid_hash].push_back({static_cast<int>(j), true});
      for (const auto& id : jo.ids())
        if (!jo.uid_hash || id != *jo.uid_hash) by_id[id].push_back({static_cast<int>(j), false});
    }
    // Two job operators under one id: Flink refuses the job graph.
    if (job_.input_kind == JobInputKind::kManifest) {
      for (const auto& [id, v] : by_id) {
        std::set<int> distinct;
        for (auto& p : v) distinct.insert(p.first);
        if (distinct.size() > 1) {
          const JobOperator& a = job_.operators[*distinct.begin()];
          add(Severity::kError, "duplicate-operator-id", nullptr, &a,
              "operators " + job_.operators[*distinct.begin()].origin + " and " + job_.operators[*distinct.rbegin()].origin +
                  " share the operator id " + hex(id),
              "Hash collision on user-specified ID \"" + a.uid +
                  "\". Most likely cause is a non-unique ID. Please check that all IDs specified via `uid(String)` are unique.",
              "give every operator its own uid");
        }
      }
    }
    match_of_.assign(s_.operators.size(), -1);
    job_matched_.assign(job_.operators.size(), false);
    job_matched_state_.assign(job_.operators.size(), false);
    for (size_t i = 0; i < s_.operators.size(); ++i) {
      const auto& op = s_.operators[i];
      OperatorMatch m;
      m.snapshot_index = i;
      m.operator_id = op.id_hex();
      m.uid = modified_utf8_to_utf8(op.uid);
      m.name = modified_utf8_to_utf8(op.name);
      auto it = by_id.find(op.id);
      if (it != by_id.end()) {
        // Flink looks up the user-defined id first.
        auto best = it->second.front();
        for (auto& p : it->second)
          if (p.second) best = p;
        m.job_index = best.first;
        if (m.uid.empty()) m.uid = job_.operators[best.first].uid;
        if (m.name.empty()) m.name = job_.operators[best.first].name;
        m.by_user_defined_id = best.second;
        match_of_[i] = best.first;
        job_matched_[best.first] = true;
        if (op.has_state()) job_matched_state_[best.first] = true;
      }
      r_.matches.push_back(m);
    }
  }

  std::string state_names(size_t i) const {
    std::set<std::string> names;
    if (const auto* st = states_of(i))
      for (const auto& x : st->states) names.insert(x.name);
    if (names.empty()) {
      for (const auto& sub : s_.operators[i].subtasks)
        for (const auto* h : {&sub.managed_operator, &sub.raw_operator})
          for (const auto& e : h->states) names.insert(modified_utf8_to_utf8(e.name));
      const auto& op = s_.operators[i];
      bool keyed = false, raw = false;
      for (const auto& sub : op.subtasks) {
        keyed |= !sub.managed_keyed.is_null();
        raw |= !sub.raw_keyed.is_null();
      }
      if (keyed) names.insert("(managed keyed state)");
      if (raw) names.insert("(raw keyed state)");
      if (!op.coordinator.is_null()) names.insert("(coordinator state)");
    }
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "(no named state)" : out;
  }

  void operator_rules() {
    for (size_t i = 0; i < s_.operators.size(); ++i) {
      const auto& op = s_.operators[i];
      int j = match_of_[i];
      bool has = op.has_state();
      if (j < 0) {
        unmatched(i, has);
        continue;
      }
      const JobOperator& jo = job_.operators[j];
      parallelism_rules(op, jo, has);
      if (has) schema_rules(i, jo);
    }
  }

  void unmatched(size_t i, bool has) {
    const auto& op = s_.operators[i];
    std::string flink = replace_all(replace_all(kUnmapped, "%P", r_.snapshot_path), "%O", op.id_hex());
    if (!has) {
      add(Severity::kInfo, "skipped-empty-state", &op, nullptr,
          std::string("snapshot operator ") + op_label(op, -1) + " matches no operator of the new job, but " +
              (op.fully_finished ? "it is fully finished" : "its state is empty") +
              ": Flink skips it (\"Skipping empty savepoint state for operator " + op.id_hex() + ".\")",
          "", "");
      return;
    }
    std::string what = "state " + state_names(i) + " (" + human(op.size()) + ")";
    if (!job_.complete) {
      r_.unevaluated.push_back({"unmatched-state", op.id_hex(),
                                "its state matches no vertex of the " + job_.kind +
                                    " input, which shows chain heads only: chained (restored) or removed (" +
                                    (anrs_ ? "dropped" : "the restore fails") + ") cannot be told"});
      add(Severity::kWarning, "unverifiable-chained-state", &op, nullptr,
          "snapshot operator " + op_label(op, -1) + " holds " + what + " and matches no vertex of the new job. " +
              job_.kind + " input shows only chain heads: if it is chained behind one, it is restored; if it was removed, " +
              (anrs_ ? "its state is dropped (--allowNonRestoredState)" : "the restore fails"),
          anrs_ ? "" : flink,
          "check that an operator with this uid is still in the job (`flink-savepoint uid-hash UID` gives the id of a uid), "
          "or check against a job manifest that lists every operator");
      return;
    }
    if (anrs_) {
      r_.state_dropped = true;
      add(Severity::kWarning, "unmatched-state", &op, nullptr,
          "snapshot operator " + op_label(op, -1) + " matches no operator of the new job: with --allowNonRestoredState its " +
              what + " is dropped",
          "",
          sql() ? "if this state is still needed, keep the old compiled plan's node ids for the node that owns it (or "
                  "restore with the old compiled plan) and the same table.exec.uid.format"
                : "if this state is still needed, give the operator that should own it the old uid (or setUidHash(\"" +
                      op.id_hex() + "\"))");
    } else {
      add(Severity::kError, "unmatched-state", &op, nullptr,
          "snapshot operator " + op_label(op, -1) + " holds " + what + " but no operator of the new job has its id",
          flink,
          sql() ? "restore with the old compiled plan (EXECUTE PLAN), or keep the node ids of the node that owns this "
                  "state and the same table.exec.uid.format (a re-compiled query renumbers its nodes); or, to drop this "
                  "node's state, restore with --allowNonRestoredState"
                : "give the operator that should own this state the old uid (or setUidHash(\"" + op.id_hex() +
                      "\")); or, to drop the state, restore with --allowNonRestoredState");
    }
  }

  void parallelism_rules(const OperatorState& op, const JobOperator& jo, bool has) {
    // Checkpoints.loadAndValidateCheckpoint: max parallelism, for every matched operator.
    if (jo.max_parallelism > 0 && jo.max_parallelism != op.max_parallelism) {
      if (jo.max_parallelism_explicit) {
        add(Severity::kError, "max-parallelism-mismatch", &op, &jo,
            "the new job sets max parallelism " + std::to_string(jo.max_parallelism) + " explicitly, the snapshot has " +
                std::to_string(op.max_parallelism) + ": key groups cannot be remapped",
            "Failed to rollback to checkpoint/savepoint Checkpoint Metadata. Max parallelism mismatch between "
            "checkpoint/savepoint state and new program. Cannot map operator " +
                op.id_hex() + " with max parallelism " + std::to_string(op.max_parallelism) +
                " to new program with max parallelism " + std::to_string(jo.max_parallelism) +
                ". This indicates that the program has been changed in a non-compatible way after the checkpoint/savepoint.",
            "set max parallelism back to " + std::to_string(op.max_parallelism) +
                " (setMaxParallelism / pipeline.max-parallelism), or leave it unset so Flink adopts the snapshot's value");
      } else if (jo.max_parallelism_effective) {
        add(Severity::kWarning, "max-parallelism-mismatch", &op, &jo,
            "the new job runs with max parallelism " + std::to_string(jo.max_parallelism) + ", the snapshot has " +
                std::to_string(op.max_parallelism) +
                ": fine if the new job's value is derived (Flink adopts the snapshot's), a failure if it is set explicitly",
            "", "make sure max parallelism is not set explicitly to " + std::to_string(jo.max_parallelism) + ", or set it to " +
                    std::to_string(op.max_parallelism));
      }
    } else if (jo.max_parallelism == 0 && has && job_.input_kind == JobInputKind::kManifest) {
      add(Severity::kInfo, "max-parallelism-adopted", &op, &jo,
          "max parallelism is not set for this operator: Flink adopts the snapshot's value " +
              std::to_string(op.max_parallelism),
          "", "set max parallelism " + std::to_string(op.max_parallelism) + " explicitly to make it visible in the job");
    }
    // StateAssignmentOperation.checkParallelismPreconditions (for operators with state).
    if (jo.parallelism > 0 && op.max_parallelism > 0 && op.max_parallelism < jo.parallelism) {
      if (has) {
        add(Severity::kError, "parallelism-above-max-parallelism", &op, &jo,
            "new parallelism " + std::to_string(jo.parallelism) + " exceeds the snapshot's max parallelism " +
                std::to_string(op.max_parallelism) + " (the number of key groups)",
            "The state for task " + op.id_hex() + " can not be restored. The maximum parallelism (" +
                std::to_string(op.max_parallelism) + ") of the restored state is lower than the configured parallelism (" +
                std::to_string(jo.parallelism) +
                "). Please reduce the parallelism of the task to be lower or equal to the maximum parallelism.",
            "use a parallelism of at most " + std::to_string(op.max_parallelism) +
                "; a larger max parallelism needs the state rewritten (State Processor API)");
      }
    }
    if (jo.parallelism > 0 && jo.max_parallelism_explicit && jo.max_parallelism > 0 && jo.parallelism > jo.max_parallelism &&
        !(op.max_parallelism < jo.parallelism && has)) {
      add(Severity::kError, "parallelism-above-max-parallelism", &op, &jo,
          "the new job's parallelism " + std::to_string(jo.parallelism) + " exceeds its own max parallelism " +
              std::to_string(jo.max_parallelism),
          "Maximum parallelism must not be smaller than parallelism.", "lower the parallelism or raise max parallelism");
    }
  }

  const StateInfo* old_state(size_t i, const std::string& name) const {
    const auto* st = states_of(i);
    if (!st) return nullptr;
    for (const auto& x : st->states)
      if (x.name == name) return &x;
    return nullptr;
  }

  Severity ttl_severity(std::string& flink, const std::string& o, const std::string& n) const {
    const bool heap = backend_ == "hashmap" || (backend_.empty() && !sum_.changelog && sum_.state_backend == StateBackend::kHashMap);
    if (!target_.known()) {
      flink = "The new state serializer (" + n + ") must not be incompatible with the old state serializer (" + o + ").";
      return Severity::kWarning;
    }
    if (target_ < V(2, 0)) {
      flink = std::string(heap ? "For heap backends, the new state serializer (" : "The new state serializer (") + n +
              ") must not be incompatible with the old state serializer (" + o + ").";
      return Severity::kError;
    }
    if (target_ < V(2, 1) || (heap && target_ < V(2, 2))) {
      flink = heap ? "For heap backends, the new state serializer (" + n +
                         ") must not need ttl state migration with the old state serializer (" + o + ")."
                   : "The new state serializer (" + n + ") must not be incompatible with the old state serializer (" + o + ").";
      return Severity::kError;
    }
    return Severity::kInfo;
  }

  void schema_rules(size_t i, const JobOperator& jo) {
    if (!jo.states) return;
    const auto* st = states_of(i);
    if (!st) return;
    if (st->handles_failed || st->handles_missing || st->handles_unsupported) return;
    const auto& op = s_.operators[i];
    std::set<std::string> new_names;
    const bool heap = backend_ == "hashmap" || (backend_.empty() && !sum_.changelog && sum_.state_backend == StateBackend::kHashMap);
    for (const auto& ns : *jo.states) {
      new_names.insert(ns.name);
      const StateInfo* os = old_state(i, ns.name);
      if (!os) {
        add(Severity::kInfo, "new-state", &op, &jo, "state \"" + ns.name + "\" is not in the snapshot: it starts empty", "", "");
        continue;
      }
      std::string ok = normalize_kind(os->kind), nk = normalize_kind(ns.kind);
      if (!nk.empty() && !ok.empty() && ok != "unknown" && nk != "unknown" && ok != nk) {
        std::string ft = flink_state_type(ok), nt = flink_state_type(nk);
        add(Severity::kError, "state-kind-changed", &op, &jo,
            "state \"" + ns.name + "\" was " + os->kind + " state and is registered as " + ns.kind + " state",
            !ft.empty() && !nt.empty() ? "Incompatible key/value state types. Was [" + ft + "], registered with [" + nt + "]." : "",
            "keep the state's kind, or register the new kind under a new state name (the old one is then dropped)");
      }
      if (!ns.key_serializer.empty() && !os->key_serializer.empty() && !same_serializer(ns.key_serializer, os->key_serializer)) {
        add(Severity::kError, "key-serializer-changed", &op, &jo,
            "state \"" + ns.name + "\": key serializer " + os->key_serializer + " -> " + ns.key_serializer,
            "The new key serializer (" + ns.key_serializer + ") must be compatible with the previous key serializer (" +
                os->key_serializer + ").",
            "keep the key type of keyBy(...) unchanged; changing it needs the state rewritten (State Processor API)");
      }
      bool old_ttl_wrapped = os->value_serializer.find("Ttl") != std::string::npos;
      if (!ns.value_serializer.empty() && !os->value_serializer.empty() && !old_ttl_wrapped &&
          !same_serializer(ns.value_serializer, os->value_serializer)) {
        add(Severity::kError, "value-serializer-changed", &op, &jo,
            "state \"" + ns.name + "\": value serializer " + os->value_serializer + " -> " + ns.value_serializer,
            std::string(heap ? "For heap backends, the new state serializer (" : "The new state serializer (") +
                ns.value_serializer + ") must not be incompatible with the old state serializer (" + os->value_serializer + ").",
            "keep the value type, or use a serializer that supports schema evolution (POJO, Avro) within its rules");
      }
      if (ns.ttl && *ns.ttl != os->ttl) {
        std::string flink;
        std::string o = os->ttl ? "TtlSerializer(" + os->value_serializer + ")" : os->value_serializer;
        std::string n = *ns.ttl ? "TtlSerializer(" + (ns.value_serializer.empty() ? os->value_serializer : ns.value_serializer) + ")"
                                : (ns.value_serializer.empty() ? os->value_serializer : ns.value_serializer);
        Severity sev = ttl_severity(flink, o, n);
        add(sev, "ttl-changed", &op, &jo,
            "state \"" + ns.name + "\": TTL switched " + (*ns.ttl ? "on" : "off") +
                (sev == Severity::kInfo ? " (Flink " + target_.str() + " migrates TTL state on this backend)" : ""),
            sev == Severity::kInfo ? "" : flink,
            sev == Severity::kInfo ? ""
                                   : "keep TTL as it was, or restore with Flink 2.1+ on RocksDB / 2.2+ on heap (TTL migration, FLINK-35780, FLINK-37294)");
      }
    }
    for (const auto& os : st->states) {
      if (os.state_kind == StateKind::kTimers || os.name.rfind("_timer_state/", 0) == 0) continue;
      if (!new_names.count(os.name))
        add(Severity::kInfo, "state-not-registered", &op, &jo,
            "state \"" + os.name + "\" is in the snapshot but the new job does not register it: it is carried along unused",
            "", "");
    }
  }

  void new_operator_rules() {
    std::map<std::string, std::pair<bool, bool>> groups;  // group -> (declares state, matched with state)
    for (size_t j = 0; j < job_.operators.size(); ++j) {
      const auto& jo = job_.operators[j];
      if (job_.input_kind == JobInputKind::kManifest && jo.uid.empty() && !jo.uid_hash) {
        // Without state the id only matters once the operator gets some: info.
        const bool stateful = job_matched_state_[j] || (jo.states && !jo.states->empty());
        add(stateful ? Severity::kWarning : Severity::kInfo, "missing-uid", nullptr, &jo,
            jo.origin + (jo.name.empty() ? "" : " (\"" + jo.name + "\")") +
                " has no uid: " + (jo.operator_id ? "its auto-generated id " + hex(*jo.operator_id) : std::string("its id")) +
                " depends on the job's topology and changes with it",
            "", "set .uid(\"...\") on it (or setUidHash with its current id to pin it)");
      }
      if (!jo.group.empty()) {
        auto& g = groups[jo.group];
        g.first |= jo.declares_state;
        g.second |= job_matched_state_[j];
        continue;
      }
      if (!job_matched_[j] && !jo.optional && !jo.ids().empty()) {
        bool stateful_hint = jo.states && !jo.states->empty();
        add(Severity::kInfo, "new-operator-without-state", nullptr, &jo,
            jo.label() + ": not in the snapshot, it starts without state" +
                (stateful_hint ? " (its declared states start empty)" : ""),
            "", "");
      }
    }
    for (const auto& [g, v] : groups) {
      if (v.first && !v.second) {
        JobOperator dummy;
        dummy.name = g;
        add(Severity::kInfo, "new-operator-without-state", nullptr, &dummy,
            g + " declares state but no snapshot state maps to it: it starts empty", "", "");
      }
    }
  }

  StateBackend snapshot_backend() const {
    StateBackend b = sum_.state_backend;  // the inner one of a changelog backend
    if (b == StateBackend::kHeapOrRocksDbFull) {
      int heap = 0, full = 0;
      for (const auto& o : states_)
        for (const auto& st : o.states) {
          heap += st.backend == "heap";
          full += st.backend == "full";
        }
      if (full && !heap) return StateBackend::kRocksDb;
      if (heap && !full) return StateBackend::kHashMap;
    }
    return b;
  }

  void backend_rules() {
    if (backend_.empty()) return;
    const bool canonical = sum_.snapshot_format == SnapshotFormat::kCanonical ||
                           (!sum_.changelog && sum_.state_backend == StateBackend::kAnyCanonical);
    const bool checkpoint = sum_.kind == SnapshotKind::kCheckpoint, native = sum_.snapshot_format == SnapshotFormat::kNative;
    const std::string kind = checkpoint                        ? "checkpoint"
                             : native                          ? "native savepoint"
                             : sum_.kind == SnapshotKind::kUnknown ? "snapshot (savepoint or checkpoint: v2/v3 metadata does not say)"
                                                               : "snapshot";
    if (canonical) {
      if (backend_ == "forst") {
        add(Severity::kError, "backend-switch", nullptr, nullptr,
            "a canonical savepoint cannot be restored into the ForSt state backend (ForSt supports no canonical savepoints, "
            "full snapshots, changelog or file merging: FLINK-39061)",
            "java.lang.UnsupportedOperationException: Not supported yet",
            "restore with rocksdb or hashmap, then take a native snapshot with that backend (ForSt cannot switch backends)");
      }
      return;
    }
    const StateBackend sbk = snapshot_backend();
    const std::string sb = to_string(sbk);  // for messages, and as the name of the --state-backend value
    if (sbk == StateBackend::kNone) {
      if (checkpoint || native)
        add(Severity::kInfo, "backend-switch", nullptr, nullptr,
            "the " + kind + " holds no " + (sum_.changelog ? "materialized " : "") +
                "keyed state: the state backend choice does not affect it (Flink's matrix still lists backend changes as "
                "unsupported for native savepoints and checkpoints)",
            "", "");
      return;
    }
    if (sbk == StateBackend::kHeapOrRocksDbFull) {
      r_.unevaluated.push_back({"backend-switch", "",
                                "the keyed state handles fit both the heap and RocksDB's full format and the state files "
                                "could not tell which"});
      add(Severity::kWarning, "backend-switch", nullptr, nullptr,
          "the " + kind + "'s keyed state handles (KeyGroupsStateHandle, before 1.16) fit both the heap and RocksDB's full "
          "format; the state files could not tell which: a native savepoint or checkpoint cannot switch backend",
          "", "restore with the backend that wrote it, or take a canonical savepoint to switch");
      return;
    }
    if (sbk == StateBackend::kAnyCanonical) return;
    auto same = [&](const std::string& a, const std::string& b) {
      return a == b || (a == "rocksdb" && b == "forst") || (a == "forst" && b == "rocksdb");
    };
    if (same(sb, backend_)) {
      if (sb != backend_)
        add(Severity::kWarning, "backend-switch", nullptr, nullptr,
            "the " + kind + " is in the native format of RocksDB or ForSt (IncrementalRemoteKeyedStateHandle) and the target "
            "is " + backend_ + ": switching between RocksDB and ForSt with a native snapshot is not supported",
            "", "restore with the backend that wrote the " + kind + ", or go through a canonical savepoint");
      return;
    }
    std::string flink;
    std::string why;
    const bool full_format = sum_.state_backend == StateBackend::kHeapOrRocksDbFull;
    if (full_format && sbk == StateBackend::kRocksDb && backend_ == "hashmap") {
      flink = "Unexpected key-group in restore.";
      why = "the heap backend cannot read RocksDB's full snapshot format";
    } else if (sbk == StateBackend::kRocksDb && backend_ == "hashmap") {
      flink = "Unexpected state handle type, expected one of: class org.apache.flink.runtime.state.KeyGroupsStateHandle, "
              "but found: class org.apache.flink.runtime.state.IncrementalRemoteKeyedStateHandle. This can mostly happen "
              "when a different StateBackend from the one that was used for taking a checkpoint/savepoint is used when restoring.";
      why = "HeapRestoreOperation expects KeyGroupsStateHandle";
    } else {
      why = "RocksDB's full restore reads heap-format files: Flink has no dedicated check, expect an arbitrary "
            "deserialization failure";
    }
    add(Severity::kError, "backend-switch", nullptr, nullptr,
        "the " + kind + " was written by the " + sb + " state backend in its native format and the new job uses " + backend_ +
            ": " + (checkpoint ? "checkpoints"
                    : native ? "native savepoints"
                    : "snapshots in a backend's own format (savepoints before 1.13, checkpoints)") +
            " cannot switch state backend (" + why + ")",
        flink,
        "restore with state_backend " + sb + ", then take a canonical savepoint (flink stop --type canonical) and restore "
        "that with " + backend_);
  }


  bool sql() const { return job_.input_kind == JobInputKind::kSqlPlan; }

  static bool internal_state(const StateInfo& st) {
    return st.state_kind == StateKind::kTimers || st.name.rfind("_timer_state/", 0) == 0;
  }

  // A problem of the state reader that says the handle was written before Flink 1.8.
  static bool pre_18_problem(const std::string& p) {
    return p.find("written by Flink before 1.8") != std::string::npos ||
           p.find("operator backend serialization proxy version") != std::string::npos ||
           p.find("pre-1.8 TypeSerializerConfigSnapshot") != std::string::npos;
  }

  bool has_finding(const std::string& rule, const std::string& op_id) const {
    for (const auto& f : r_.findings)
      if (f.rule == rule && f.operator_id == op_id) return true;
    return false;
  }

  // The rules that read the snapshot's state schemas and could fail for this
  // matched operator with the given target.
  std::vector<std::string> state_rules_for(const JobOperator& jo) const {
    std::vector<std::string> rules;
    if (jo.states && !jo.states->empty())
      for (const char* r : {"state-kind-changed", "key-serializer-changed", "value-serializer-changed", "ttl-changed"})
        rules.push_back(r);
    else if (!jo.sql_state_ttl.empty())
      rules.push_back("ttl-changed");
    for (auto& r : serializer_rules()) rules.push_back(std::move(r));
    return rules;
  }

  // The serializer rules the target version brings (none when it is unknown).
  std::vector<std::string> serializer_rules() const {
    std::vector<std::string> rules;
    if (!target_.known()) return rules;
    if (target_ >= V(1, 17)) rules.push_back("legacy-serializer-snapshot");
    if (target_ >= V(2, 0)) rules.push_back("scala-serializer");
    if (target_ >= V(2, 0) && s_.version <= 4) rules.push_back("kryo-serializer");
    return rules;
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string o;
    for (const auto& x : v) o += (o.empty() ? "" : ", ") + x;
    return o;
  }

  // Rules that could fail but could not be evaluated: the verdict is then
  // "unknown" (never "compatible"). A pre-1.8 keyed or operator proxy restored
  // by Flink 1.17+ is an error.
  void unevaluated_rules() {
    if (!opt_.read_states) {
      r_.states_skipped = true;
      return;
    }
    for (size_t i = 0; i < s_.operators.size(); ++i) {
      const auto& op = s_.operators[i];
      int j = match_of_[i];
      if (j < 0 || !op.has_state()) continue;
      const JobOperator& jo = job_.operators[j];
      const auto* st = states_of(i);
      std::string problem;
      bool pre18 = false;
      if (!r_.states_read) {
        problem = "state files not read: " + states_error_;
      } else if (!st) {
        continue;  // no keyed or operator state handles (coordinator or raw state only): no schema to judge
      } else if (st->handles_failed || st->handles_missing || st->handles_unsupported) {
        for (const auto& p : st->problems) {
          if (pre_18_problem(p)) pre18 = true;
          if (problem.empty() && (p.rfind("missing:", 0) == 0 || p.rfind("unsupported:", 0) == 0 || p.rfind("error:", 0) == 0))
            problem = p;
        }
        if (problem.empty() && !st->problems.empty()) problem = st->problems.front();
      }
      if (pre18) {
        if (target_.known() && target_ >= V(1, 17)) {
          if (!has_finding("legacy-serializer-snapshot", op.id_hex()))
            add(Severity::kError, "pre-1.8-snapshot", &op, &jo,
                "the state of this operator was written by Flink before 1.8 (" + problem +
                    "): Flink " + target_.str() + " cannot restore it (pre-1.8 serialization proxies and "
                    "TypeSerializerConfigSnapshots are gone since 1.17)",
                "", "restore it with Flink 1.8 - 1.16 first and take a new savepoint there, then restore that with " +
                        target_.str());
          continue;
        }
        if (target_.known()) {
          // 1.8 - 1.16 read it; only the declared schemas are left unjudged.
          if (jo.states && !jo.states->empty())
            r_.unevaluated.push_back({"state-kind-changed, key-serializer-changed, value-serializer-changed, ttl-changed",
                                      op.id_hex(), problem});
          continue;
        }
      }
      if (!problem.empty()) {
        std::vector<std::string> rules = state_rules_for(jo);
        if (!rules.empty()) r_.unevaluated.push_back({join(rules), op.id_hex(), problem});
        continue;
      }
      // Read, but a serializer snapshot was not understood: its nested
      // serializers (Kryo, Scala, legacy config snapshots) may be hidden.
      if (target_.known() && target_ >= V(1, 17)) {
        for (const auto& x : st->states)
          if (!x.serializers_decoded && !internal_state(x)) {
            r_.unevaluated.push_back({join(serializer_rules()), op.id_hex(),
                                      "state \"" + x.name + "\": a serializer snapshot in " + x.type +
                                          " was not understood, so the serializers nested in it are not known"});
            break;
          }
      }
    }
  }

  // SQL plans: the TTL each stateful node will run with (the plan's "state"
  // entries, or table.exec.state.ttl) against the TTL of its savepoint state.
  void sql_ttl_rules() {
    if (!sql() || !r_.states_read) return;
    for (size_t i = 0; i < s_.operators.size(); ++i) {
      int j = match_of_[i];
      if (j < 0) continue;
      const JobOperator& jo = job_.operators[j];
      if (jo.sql_state_ttl.empty()) continue;
      const auto* st = states_of(i);
      if (!st || st->handles_failed || st->handles_missing || st->handles_unsupported) continue;
      std::vector<const StateInfo*> keyed;
      for (const auto& x : st->states)
        if (!internal_state(x) && x.state_kind != StateKind::kOperatorList && x.state_kind != StateKind::kOperatorUnion &&
            x.state_kind != StateKind::kBroadcast)
          keyed.push_back(&x);
      if (keyed.empty()) continue;
      const auto& op = s_.operators[i];
      // Which plan entry governs which backend state: one entry (or one TTL
      // for all) governs every state; "left"/"right" labels pair by side.
      bool all_same = true;
      for (const auto& e : jo.sql_state_ttl) all_same &= (e.ttl_ms > 0) == (jo.sql_state_ttl[0].ttl_ms > 0);
      auto entry_for = [&](const StateInfo& x) -> const SqlStateTtl* {
        if (all_same) return &jo.sql_state_ttl[0];
        std::string n = ascii_lower(x.name);
        // Multi-way joins: "multi-join-input-2" is the state of plan entry 2 ("input-state-2").
        size_t d = n.size();
        while (d > 0 && std::isdigit(static_cast<unsigned char>(n[d - 1]))) --d;
        if (d < n.size() && n.size() - d < 6) {
          int k = std::stoi(n.substr(d));
          for (const auto& e : jo.sql_state_ttl)
            if (e.index == k) return &e;
        }
        for (const char* side : {"left", "right"})
          if (n.find(side) != std::string::npos)
            for (const auto& e : jo.sql_state_ttl)
              if (ascii_lower(e.name).find(side) != std::string::npos) return &e;
        return nullptr;
      };
      for (const StateInfo* x : keyed) {
        const SqlStateTtl* e = entry_for(*x);
        if (!e) {
          r_.unevaluated.push_back({"ttl-changed", op.id_hex(),
                                    "state \"" + x->name + "\": the plan's state entries have different TTLs and none "
                                    "can be paired with this state"});
          continue;
        }
        const bool new_ttl = e->ttl_ms > 0;
        if (new_ttl == x->ttl) continue;
        std::string flink;
        // Readable types: TTL<RowData<...>> with TTL, RowData<...> without.
        std::string o = x->type.empty() ? x->value_serializer : x->type;
        std::string inner = o;
        if (x->ttl && inner.rfind("TTL<", 0) == 0 && inner.back() == '>') inner = inner.substr(4, inner.size() - 5);
        std::string n = new_ttl ? "TTL<" + inner + ">" : inner;
        Severity sev = ttl_severity(flink, o, n);
        std::string label = e->index < 0 ? std::string("table.exec.state.ttl")
                                         : "state entry " + std::to_string(e->index) + " (\"" + e->name + "\")";
        add(sev, "ttl-changed", &op, &jo,
            jo.group + " " + label + " has TTL " + (new_ttl ? std::to_string(e->ttl_ms) + " ms" : "0 ms (none)") +
                " and the savepoint's state \"" + x->name + "\" was written " + (x->ttl ? "with" : "without") +
                " TTL: TTL switched " + (new_ttl ? "on" : "off") +
                (sev == Severity::kInfo ? " (Flink " + target_.str() + " migrates TTL state on this backend)" : ""),
            sev == Severity::kInfo ? "" : "org.apache.flink.util.StateMigrationException: " + flink,
            sev == Severity::kInfo
                ? ""
                : std::string("keep state TTL on or off as it was: the same table.exec.state.ttl for the query, or the "
                              "same STATE_TTL hint on its tables (the compiled plan keeps it per node in \"state\"; "
                              "edit the plan's \"ttl\" back, or restore with the old plan); or restore with Flink 2.1+ "
                              "on RocksDB / 2.2+ on heap, which migrate TTL state; or drop this node's state with "
                              "--allowNonRestoredState after renumbering it"));
      }
    }
  }

  // --ignore RULE and RULE:OPERATOR (uid or id), from the command line and the manifest.
  void apply_ignores() {
    std::vector<std::string> specs = opt_.ignore;
    for (const auto& x : job_.ignore) specs.push_back(x);
    if (specs.empty()) return;
    auto matches = [&](const std::string& rule, const std::string& op_id, const std::string& uid) {
      for (const auto& sp : specs) {
        auto colon = sp.find(':');
        std::string r = sp.substr(0, colon);
        if (r != rule) continue;
        if (colon == std::string::npos) return true;
        std::string o = sp.substr(colon + 1);
        if (o == uid || ascii_lower(o) == op_id) return true;
      }
      return false;
    };
    size_t before = r_.findings.size();
    std::vector<Finding> kept;
    for (auto& f : r_.findings)
      if (!matches(f.rule, f.operator_id, f.uid)) kept.push_back(std::move(f));
    r_.findings = std::move(kept);
    std::vector<Unevaluated> ue;
    for (auto& u : r_.unevaluated) {
      std::string uid;
      for (const auto& op : s_.operators)
        if (op.id_hex() == u.operator_id) uid = modified_utf8_to_utf8(op.uid);
      std::vector<std::string> rest;
      size_t p = 0;
      while (p <= u.rule.size()) {
        size_t q = u.rule.find(", ", p);
        std::string one = u.rule.substr(p, q == std::string::npos ? std::string::npos : q - p);
        if (!one.empty() && !matches(one, u.operator_id, uid)) rest.push_back(one);
        if (q == std::string::npos) break;
        p = q + 2;
      }
      if (!rest.empty()) {
        u.rule = join(rest);
        ue.push_back(std::move(u));
      }
    }
    r_.unevaluated = std::move(ue);
    if (before != r_.findings.size())
      r_.notes.push_back(std::to_string(before - r_.findings.size()) + " finding(s) ignored (--ignore / manifest \"ignore\")");
  }

  // FLIP-193 restore modes: CLAIM hands the snapshot to the new job.
  void claim_rules() {
    const std::string& cm = r_.claim_mode;
    if (cm.empty() || cm == "no_claim") return;
    if (cm == "legacy") {
      add(Severity::kInfo, "claim-mode", nullptr, nullptr,
          "LEGACY restore mode is deprecated (FLIP-193): Flink neither claims nor copies the snapshot, and the new job's "
          "checkpoints may keep referencing its files, so it must not be deleted while they do",
          "", "use NO_CLAIM (the default) or CLAIM");
      return;
    }
    if (cm != "claim") return;
    if (sum_.kind == SnapshotKind::kCheckpoint)
      add(Severity::kWarning, "claim-mode", nullptr, nullptr,
          "a retained checkpoint is restored in CLAIM mode: Flink takes ownership of it and deletes it once later "
          "checkpoints subsume it, so it is no longer there to roll back to or to start another job from",
          "", "restore in NO_CLAIM mode (the default), or keep a copy (flink-savepoint relocate) before restoring");
    int relative = 0, absolute = 0;
    for_each_stream_handle(s_, [&](const StreamHandle& h, const HandleLocation&) {
      relative += h.code == code::kRelative;
      absolute += h.code == code::kFile;
    });
    if (relative > 0 && absolute > 0)
      add(Severity::kWarning, "claim-mode", nullptr, nullptr,
          "the snapshot mixes relative (" + std::to_string(relative) + " RelativeFileStateHandle) and absolute (" +
              std::to_string(absolute) + " FileStateHandle) file paths and is restored in CLAIM mode: checkpoints taken "
              "after a CLAIM restore of a native savepoint have referenced its files by relative path and become "
              "unrestorable (FLINK-39964)",
          "", "restore in NO_CLAIM mode, or relocate the snapshot so that every path is absolute (flink-savepoint relocate) "
              "before a CLAIM restore");
  }

  void unaligned_rules() {
    std::vector<size_t> channel_ops;
    for (size_t i = 0; i < s_.operators.size(); ++i) {
      bool ch = false;
      for (const auto& st : s_.operators[i].subtasks) ch |= !st.input_channels.empty() || !st.result_subpartitions.empty();
      if (ch) channel_ops.push_back(i);
    }
    if (channel_ops.empty()) return;
    std::string ids;
    for (size_t i : channel_ops) ids += (ids.empty() ? "" : ", ") + s_.operators[i].id_hex();
    bool topology_changed = false;
    for (size_t i = 0; i < s_.operators.size(); ++i) topology_changed |= match_of_[i] < 0;
    for (size_t j = 0; j < job_.operators.size(); ++j)
      topology_changed |= !job_matched_[j] && !job_.operators[j].optional;
    if (topology_changed) {
      add(Severity::kWarning, "unaligned-topology-change", nullptr, nullptr,
          "this unaligned checkpoint holds in-flight data (channel state) and the new job's operators differ from the "
          "snapshot's: Flink does not support job upgrades from unaligned checkpoints; the restore fails outright when "
          "an exchange that carries persisted data becomes chained (the chaining is not visible here)",
          "Cannot recover from unaligned checkpoint when topology changes, such that data exchanges with persisted data are "
          "now chained.\nThe following operators contain channel state: [" + ids + "]",
          "take a savepoint (or an aligned checkpoint) of the old job and restore from that");
    }
    for (size_t i : channel_ops) {
      int j = match_of_[i];
      if (j < 0) continue;
      const auto& jo = job_.operators[j];
      const auto& op = s_.operators[i];
      if (jo.parallelism > 0 && jo.parallelism != op.parallelism)
        add(Severity::kWarning, "unaligned-rescale", &op, &jo,
            "operator with channel state is rescaled " + std::to_string(op.parallelism) + " -> " +
                std::to_string(jo.parallelism) + ": fails if its input or output is a pointwise edge (forward, rescale, broadcast)",
            "Cannot rescale the given pointwise partitioner.\nDid you change the partitioner to forward or rescale?\nIt may "
            "also help to add an explicit shuffle().",
            "keep the parallelism for this restore, or restore from a savepoint");
    }
    if (target_.known()) {
      MetaRange mr = meta_range(s_.version);
      bool same_minor = mr.first == target_ && (mr.last.major < 0 || mr.last == target_);
      if (!same_minor) {
        bool v112_113 = s_.version == 3 && target_ == V(1, 13);
        add(v112_113 ? Severity::kError : Severity::kWarning, "unaligned-version-upgrade", nullptr, nullptr,
            "unaligned checkpoints are only supported across Flink patch versions; this one was written by Flink " +
                std::string(flink_versions_writing(s_.version)) + " and the target is " + target_.str() +
                (v112_113 ? " (the upgrade guide forbids 1.12 -> 1.13 with an unaligned checkpoint)" : ""),
            "", "take a savepoint with the old Flink version and restore that");
      }
    }
  }

  void version_rules() {
    if (!target_.known()) return;
    MetaRange mr = meta_range(s_.version);
    if (target_ < mr.first) {
      add(Severity::kError, "flink-downgrade", nullptr, nullptr,
          "metadata version " + std::to_string(s_.version) + " is written by Flink " +
              std::string(flink_versions_writing(s_.version)) + "; Flink " + target_.str() + " cannot read it" +
              (s_.version >= 7 ? " (v7 is not in a release this tool knows)" : ""),
          "Unrecognized checkpoint version number: " + std::to_string(s_.version),
          "restore with Flink " + mr.first.str() + " or newer; Flink does not support downgrades");
      return;
    }
    if (mr.last.major >= 0 && target_ < mr.last) {
      add(Severity::kInfo, "flink-downgrade", nullptr, nullptr,
          "metadata version " + std::to_string(s_.version) + " is written by Flink " +
              std::string(flink_versions_writing(s_.version)) + ": if this snapshot came from a Flink newer than " +
              target_.str() + ", restoring it is a downgrade, which Flink does not support",
          "", "");
    }
    const MetadataVersionInfo* vi = metadata_version_info(s_.version);
    if (vi && vi->last_reader.known() && vi->last_reader < target_) {
      add(Severity::kError, "metadata-version-unreadable", nullptr, nullptr,
          "metadata v1 (Flink 1.1/1.2) is unreadable since Flink 1.11",
          "This savepoint / checkpoint version (Flink 1.1 / 1.2) is no longer supported.",
          "restore it with Flink 1.3 - 1.10 first and take a new savepoint there");
    }
    // Fully finished operators and finished subtasks (FLIP-147) arrived in 1.14 within v3.
    if (s_.version == 3 && target_ < V(1, 14)) {
      bool finished = false;
      for (const auto& op : s_.operators) {
        finished |= op.fully_finished;
        for (const auto& st : op.subtasks) finished |= st.finished;
      }
      if (finished)
        add(Severity::kError, "metadata-version-unreadable", nullptr, nullptr,
            "the snapshot records finished operators or subtasks (Flink 1.14+, FLIP-147), which Flink " + target_.str() +
                " cannot read",
            "", "restore with Flink 1.14 or newer");
    }
    if (s_.version == 2 && target_ >= V(1, 17) && !r_.states_read) {
      add(Severity::kWarning, "pre-1.8-snapshot", nullptr, nullptr,
          "metadata v2 is written by Flink 1.3 - 1.10; savepoints from before 1.8 (keyed serialization proxy version <= 5, "
          "TypeSerializerConfigSnapshot) cannot be restored since Flink 1.17, and the state files were not read to tell",
          "", "if it predates 1.8, restore it with Flink 1.8 - 1.16 first and take a new savepoint there");
    }
    if (s_.version <= 4 && target_ >= V(2, 0)) {
      add(Severity::kInfo, "major-version-step", nullptr, nullptr,
          "the snapshot is from Flink 1.x and the target is " + target_.str() +
              ": \"State compatibility is not guaranteed between 1.x and 2.x\" (Flink 2.0 release notes); the serializer "
              "rules below cover the known breaks (Kryo, Scala, Java collections, legacy serializer snapshots)",
          "", "");
    }
    if (sum_.kind == SnapshotKind::kCheckpoint) {
      bool same = mr.first == target_ && (mr.last.major < 0 || mr.last == target_);
      if (!same)
        add(Severity::kInfo, "checkpoint-version-upgrade", nullptr, nullptr,
            "a checkpoint is used across Flink minor versions: supported for aligned checkpoints, but savepoints are the "
            "documented way to upgrade",
            "", "");
    }
  }

  void serializer_version_rules() {
    if (!r_.states_read || !target_.known()) return;
    const bool from_1x = s_.version <= 4;
    for (const auto& o : states_) {
      const auto& op = s_.operators[o.operator_index];
      const JobOperator* jo = match_of_[o.operator_index] >= 0 ? &job_.operators[match_of_[o.operator_index]] : nullptr;
      if (!jo) continue;  // unmatched state is reported (or dropped) already
      // A pre-1.8 proxy: pre-1.8-snapshot (unevaluated_rules) speaks for the
      // whole operator, its config snapshots are not reported once per state.
      const bool old_proxy = o.handles_legacy_proxy > 0;
      for (const auto& st : o.states) {
        std::set<std::string> legacy, scala, kryo;
        for (const auto& c : st.serializer_classes) {
          if (is_legacy_config_snapshot(c)) legacy.insert(c);
          if (is_scala_serializer(c)) scala.insert(c);
          if (is_kryo_serializer(c)) kryo.insert(c);
        }
        auto join = [](const std::set<std::string>& s) {
          std::string r;
          for (const auto& x : s) r += (r.empty() ? "" : ", ") + x;
          return r;
        };
        if (!legacy.empty() && !old_proxy) {
          bool gone = target_ >= V(1, 17);
          add(gone ? Severity::kError : Severity::kWarning, "legacy-serializer-snapshot", &op, jo,
              "state \"" + st.name + "\" uses pre-1.8 serializer config snapshots (" + join(legacy) + "), " +
                  (gone ? "which Flink " + target_.str() + " can no longer read (removed in 1.17)"
                        : "which Flink 1.17+ can no longer read"),
              "", "restore with Flink 1.8 - 1.16 first and take a new savepoint there: it rewrites the serializer snapshots");
        }
        if (!scala.empty() && target_ >= V(2, 0)) {
          add(Severity::kError, "scala-serializer", &op, jo,
              "state \"" + st.name + "\" uses Scala API serializers (" + join(scala) + "), removed in Flink 2.0",
              "Could not find class " + *scala.begin(),
              "migrate the state with the State Processor API on 1.x (or use flink-extended/flink-scala-api serializers "
              "with their migration path) before moving to 2.x");
        }
        if (!kryo.empty() && from_1x && target_ >= V(2, 0)) {
          bool collection = st.type.find("java.util.") != std::string::npos;
          add(Severity::kError, "kryo-serializer", &op, jo,
              "state \"" + st.name + "\" is serialized with Kryo (" + join(kryo) + ")" +
                  (collection ? ", including Java collection fields, which Flink 2.x serializes with its own List/Map/Set "
                                "serializers (FLINK-34037)"
                              : "") +
                  ": Flink 2.x moved from Kryo 2 to Kryo 5 (FLIP-317) and does not restore Kryo state from 1.x",
              "",
              "give the type a proper TypeInformation (POJO rules, Avro, or a custom serializer) and migrate the state on "
              "1.x with the State Processor API before upgrading");
        }
      }
    }
  }
};

}  // namespace

CheckReport check_restore(const SnapshotFile& snapshot, const NewJob& job, const CheckOptions& options) {
  return Checker(snapshot, job, options).run();
}

std::optional<CheckReport> check_undecodable_header(const std::string& snapshot_path, const NewJob& job,
                                                    const CheckOptions& options) {
  auto p = resolve_metadata_path(snapshot_path);
  if (!p) return std::nullopt;
  if (*p == "-") return std::nullopt;  // standard input was consumed by the failed decode
  auto bytes = io::read_file(*p);
  if (!bytes || (*bytes)->bytes().size() < 8) return std::nullopt;
  const auto* h = reinterpret_cast<const uint8_t*>((*bytes)->bytes().data());
  uint32_t magic = ByteReader::load_be32(h);
  int32_t version = static_cast<int32_t>(ByteReader::load_be32(h + 4));
  if (magic != static_cast<uint32_t>(kMetadataMagic) || version != 1) return std::nullopt;
  CheckReport r;
  r.snapshot_path = snapshot_path;
  r.job_source = job.source;
  r.job_kind = job.kind;
  r.metadata_version = 1;
  r.target_flink = !options.target_flink.empty() ? options.target_flink : job.flink_version;
  Finding f;
  f.severity = Severity::kError;
  f.rule = "metadata-version-unreadable";
  f.message = "metadata v1 (Flink 1.1/1.2) is unreadable by Flink 1.11 and newer (and by this tool)";
  f.flink_error = "This savepoint / checkpoint version (Flink 1.1 / 1.2) is no longer supported.";
  f.hint = "restore it with Flink 1.3 - 1.10 first and take a new savepoint there";
  r.findings.push_back(std::move(f));
  return r;
}

}  // namespace fsp
