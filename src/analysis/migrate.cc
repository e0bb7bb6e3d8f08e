// migrate: edits a snapshot so that the new job restores it (see
// include/flink_savepoint/migrate.h and docs/migrate.md).
#include "flink_savepoint/migrate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_set>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/key_groups.h"
#include "flink_savepoint/keyed_state_stream.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/relocate.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/walk.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTimerSerializer = "org.apache.flink.streaming.api.operators.TimerSerializerSnapshot";
constexpr const char* kCanonicalHint =
    "take a canonical savepoint first: flink stop --type canonical <job id> (or flink savepoint --type canonical "
    "<job id>), then migrate that";

Error usage(std::string msg, std::string hint = {}) {
  Error e = Error::usage(std::move(msg));
  e.hint = std::move(hint);
  return e;
}

std::string op_label(const OperatorState& op) {
  std::string s = op.id_hex();
  if (!op.uid.empty()) s += " (uid '" + modified_utf8_to_utf8(op.uid) + "')";
  return s;
}

// An operator by 32-hex id, stored uid (v5+) or the id Flink derives from a uid.
Result<size_t> find_operator(const Snapshot& s, const std::string& spec, bool allow_id) {
  OperatorId id{};
  if (allow_id && spec.size() == 32 && parse_operator_id(spec, id)) {
    for (size_t i = 0; i < s.operators.size(); ++i)
      if (s.operators[i].id == id) return i;
  }
  std::string mu = utf8_to_modified_utf8(spec);
  for (size_t i = 0; i < s.operators.size(); ++i)
    if (!s.operators[i].uid.empty() && s.operators[i].uid == mu) return i;
  OperatorId h = operator_id_from_uid(spec);
  for (size_t i = 0; i < s.operators.size(); ++i)
    if (s.operators[i].id == h) return i;
  if (allow_id && spec.size() == 32 && parse_operator_id(spec, id))
    return usage("no operator with id " + spec + " (nor with uid '" + spec + "') in the snapshot");
  return usage("no operator with uid '" + spec + "' (id " + hex(h) + ") in the snapshot");
}

bool has_keyed_state(const OperatorState& op) {
  for (auto& st : op.subtasks)
    if (!st.managed_keyed.is_null() || !st.raw_keyed.is_null()) return true;
  return false;
}

std::string be_longs(const std::vector<int64_t>& v) {
  std::string raw;
  raw.reserve(v.size() * 8);
  for (int64_t o : v)
    for (int b = 7; b >= 0; --b) raw.push_back(static_cast<char>(static_cast<uint64_t>(o) >> (8 * b)));
  return raw;
}

// Whether keyed state of this snapshot may be re-grouped at all.
Status check_snapshot_kind(const Snapshot& s) {
  const SnapshotProperties& p = s.properties;
  if (p.present && !p.parsed)
    return usage("cannot tell whether this snapshot is a canonical savepoint (" + p.parse_error +
                     "): its keyed state is not re-grouped",
                 kCanonicalHint);
  if (p.present && !p.is_savepoint())
    return usage("this snapshot is a checkpoint (" + p.name +
                     "): only canonical savepoints have keyed state in Flink's canonical layout",
                 kCanonicalHint);
  if (p.present && p.format_type != "CANONICAL")
    return usage("this snapshot is a native savepoint (" + p.format_type +
                     " format): its keyed state is in the state backend's own format",
                 kCanonicalHint);
  return {};
}

struct Source {
  ResolvedStream bytes;
  state::CanonicalKeyedStream stream;
  HandleCode code = HandleCode::kNull;
  HandleCode delegate_code = HandleCode::kNull;
  std::string where;
};

struct Item {
  int32_t kg;
  uint16_t sid;
  std::string_view key, value;
};

class Planner {
 public:
  Planner(SnapshotFile& f, const MigrateOptions& o) : file_(f), s_(f.snapshot), opt_(o) {}

  Result<MigratePlan> run() {
    // Resolve every operator first, then apply: indexes stay valid.
    std::set<size_t> touched;
    struct Rename {
      size_t idx;
      std::string old_uid, new_uid;
    };
    std::vector<Rename> renames;
    for (auto& [from, to] : opt_.rename_uid) {
      auto i = find_operator(s_, from, false);
      if (!i) return i.take_error();
      renames.push_back({*i, from, to});
    }
    for (auto& [from, to] : opt_.rename_id) {
      OperatorId id{};
      if (from.size() != 32 || !parse_operator_id(from, id))
        return usage("--rename-id wants a 32-hex operator id before '=', got '" + from + "'");
      auto i = find_operator(s_, from, true);
      if (!i) return i.take_error();
      renames.push_back({*i, modified_utf8_to_utf8(s_.operators[*i].uid), to});
    }
    std::set<std::string> new_ids;
    for (auto& r : renames) {
      if (r.new_uid.empty()) return usage("the new uid of " + op_label(s_.operators[r.idx]) + " is empty");
      if (!touched.insert(r.idx).second)
        return usage("operator " + op_label(s_.operators[r.idx]) + " is named by more than one edit");
      OperatorId nid = operator_id_from_uid(r.new_uid);
      for (size_t j = 0; j < s_.operators.size(); ++j)
        if (s_.operators[j].id == nid)
          return usage("the new uid '" + r.new_uid + "' gives id " + hex(nid) + ", which operator " +
                       op_label(s_.operators[j]) + " already has in the snapshot");
      if (!new_ids.insert(hex(nid)).second) return usage("two renames give the same new id " + hex(nid));
      if (utf8_to_modified_utf8(r.new_uid).size() > 65535) return usage("the new uid is over 65535 bytes");
    }
    std::vector<size_t> drops;
    for (auto& d : opt_.drop) {
      auto i = find_operator(s_, d, true);
      if (!i) return i.take_error();
      if (!touched.insert(*i).second)
        return usage("operator " + op_label(s_.operators[*i]) + " is named by more than one edit");
      drops.push_back(*i);
    }
    std::map<size_t, int32_t> maxp;
    for (auto& [spec, n] : opt_.operator_max_parallelism) {
      auto i = find_operator(s_, spec, true);
      if (!i) return i.take_error();
      if (std::find(drops.begin(), drops.end(), *i) != drops.end())
        return usage("operator " + op_label(s_.operators[*i]) + " is both dropped and given a max parallelism");
      if (!maxp.emplace(*i, n).second)
        return usage("operator " + op_label(s_.operators[*i]) + " is given a max parallelism twice");
    }
    if (opt_.max_parallelism)
      for (size_t i = 0; i < s_.operators.size(); ++i)
        if (std::find(drops.begin(), drops.end(), i) == drops.end()) maxp.emplace(i, *opt_.max_parallelism);

    // Max parallelism first (it reads the state under the old ids), then renames, then drops.
    for (auto& [i, n] : maxp) {
      auto st = set_max_parallelism(i, n);
      if (!st) return st.take_error();
    }
    for (auto& r : renames) {
      OperatorState& op = s_.operators[r.idx];
      OperatorChange ch;
      ch.action = "rename";
      ch.old_id = op.id_hex();
      ch.old_uid = r.old_uid;
      ch.new_uid = r.new_uid;
      ch.name = modified_utf8_to_utf8(op.name);
      ch.old_max_parallelism = ch.new_max_parallelism = op.max_parallelism;
      op.id = operator_id_from_uid(r.new_uid);
      if (s_.version >= 5) op.uid = s_.store(utf8_to_modified_utf8(r.new_uid));
      ch.new_id = op.id_hex();
      // A re-grouped operator that is also renamed: its change record follows the new id.
      for (auto& c : plan_.changes)
        if (c.old_id == ch.old_id && c.action == "max-parallelism") c.new_id = ch.new_id;
      plan_.changes.push_back(std::move(ch));
    }
    std::sort(drops.begin(), drops.end());
    for (auto it = drops.rbegin(); it != drops.rend(); ++it) {
      const OperatorState& op = s_.operators[*it];
      OperatorChange ch;
      ch.action = "drop";
      ch.old_id = op.id_hex();
      ch.old_uid = modified_utf8_to_utf8(op.uid);
      ch.name = modified_utf8_to_utf8(op.name);
      ch.old_max_parallelism = op.max_parallelism;
      plan_.changes.push_back(std::move(ch));
      s_.operators.erase(s_.operators.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    collect_copies();
    return std::move(plan_);
  }

 private:
  Status set_max_parallelism(size_t idx, int32_t n) {
    OperatorState& op = s_.operators[idx];
    if (n < 1 || n > kUpperBoundMaxParallelism)
      return usage("max parallelism " + std::to_string(n) + " of " + op_label(op) + " is outside 1..32768");
    if (n < op.parallelism)
      return usage("max parallelism " + std::to_string(n) + " of " + op_label(op) + " is below its parallelism " +
                   std::to_string(op.parallelism) + "; Flink refuses that");
    if (n == op.max_parallelism) return {};
    OperatorChange ch;
    ch.action = "max-parallelism";
    ch.old_id = ch.new_id = op.id_hex();
    ch.old_uid = ch.new_uid = modified_utf8_to_utf8(op.uid);
    ch.name = modified_utf8_to_utf8(op.name);
    ch.old_max_parallelism = op.max_parallelism;
    ch.new_max_parallelism = n;
    if (has_keyed_state(op)) {
      auto st = regroup(idx, n, ch);
      if (!st) return st;
    }
    op.max_parallelism = n;
    plan_.changes.push_back(std::move(ch));
    return {};
  }

  Status regroup(size_t idx, int32_t new_max, OperatorChange& ch) {
    OperatorState& op = s_.operators[idx];
    const std::string opwhere = "operator #" + std::to_string(idx) + " " + op_label(op);
    if (op.parallelism < 1) return usage("the parallelism of " + opwhere + " is " + std::to_string(op.parallelism));
    if (auto st = check_snapshot_kind(s_); !st) {
      Error e = st.error();
      e.message = opwhere + " has keyed state and " + e.message;
      return e;
    }
    const int old_prefix = key_group_prefix_bytes(op.max_parallelism);
    std::deque<Source>& sources = sources_.emplace_back();
    for (auto& st : op.subtasks) {
      std::string where = opwhere + ", subtask " + std::to_string(st.index);
      if (!st.raw_keyed.is_null())
        return usage(where + " has raw keyed state (written by user code in its own format): it cannot be re-grouped");
      const KeyedHandle& h = st.managed_keyed;
      if (h.is_null()) continue;
      if (h.code != code::kSavepointKeyGroups && h.code != code::kKeyGroups)
        return usage(where + ": keyed state handle code " + std::to_string(to_int(h.code)) +
                         " belongs to a native savepoint or a checkpoint (incremental, changelog or heap snapshot "
                         "files), not a canonical savepoint",
                     kCanonicalHint);
      if (h.delegate.code != code::kByteStream && h.delegate.code != code::kFile && h.delegate.code != code::kRelative)
        return usage(where + ": keyed state in stream handle code " + std::to_string(to_int(h.delegate.code)) +
                     " is not supported");
      if (h.delegate.code != code::kByteStream && s_.version < 3)
        return usage(where + ": metadata v2 with keyed state in files cannot take relative handles; relocate is "
                             "not enough here, migrate this savepoint after restoring it in a newer Flink");
      Source& src = sources.emplace_back();
      src.code = h.code;
      src.delegate_code = h.delegate.code;
      src.where = where;
      auto rs = resolve_stream(h.delegate, file_.directory, opt_.path_map);
      if (!rs) {
        Error e = rs.take_error();
        e.where = where;
        return e;
      }
      src.bytes = std::move(*rs);
      Where ctx(where);
      auto stream = state::read_canonical_keyed_stream(src.bytes.bytes, h.range, h.offsets, old_prefix, &ctx);
      if (!stream) {
        if (h.code == code::kKeyGroups)
          return usage(where + ": the key groups are not in the canonical layout (" + stream.error().to_string() +
                           "); heap-format key groups are written by checkpoints and by pre-1.13 heap savepoints",
                       kCanonicalHint);
        return stream.take_error();
      }
      src.stream = std::move(*stream);
    }
    if (sources.empty()) return {};
    // The proxy of the new handles: the one that lists the most states; every
    // other handle's states must be among them (matched by name).
    const Source* base = &sources.front();
    for (auto& s : sources)
      if (s.stream.proxy.states.size() > base->stream.proxy.states.size()) base = &s;
    const state::KeyedProxy& bp = base->stream.proxy;
    std::map<std::string, uint16_t> base_ids;
    for (size_t i = 0; i < bp.states.size(); ++i) base_ids[bp.states[i].name] = static_cast<uint16_t>(i);
    auto hasher = JavaKeyHasher::for_key_serializer(bp.key_serializer);
    if (!hasher) {
      Error e = hasher.take_error();
      e.message = opwhere + ": " + e.message + "; its keyed state cannot be moved to other key groups";
      return e;
    }
    std::vector<bool> timer(bp.states.size(), false);
    for (size_t i = 0; i < bp.states.size(); ++i) {
      const auto& m = bp.states[i];
      if (m.backend_type == 3) {
        const state::SerializerNode* v = m.serializer("VALUE_SERIALIZER");
        if (!v || v->class_name != kTimerSerializer)
          return usage(opwhere + ": priority queue state '" + m.name + "' holds " +
                       (v ? v->class_name : std::string("unknown elements")) + ", not timers; not supported");
        timer[i] = true;
      }
    }
    std::vector<Item> items;
    for (auto& s : sources) {
      const auto& p = s.stream.proxy;
      if (p.key_serializer.class_name != bp.key_serializer.class_name ||
          p.key_serializer.readable() != bp.key_serializer.readable())
        return Error::data(s.where + ": key serializer " + p.key_serializer.readable() + " differs from " +
                           bp.key_serializer.readable() + " of the other subtasks");
      if (p.compression != bp.compression)
        return Error::data(s.where + ": compression differs between the subtasks' keyed state");
      std::vector<uint16_t> remap(p.states.size());
      for (size_t i = 0; i < p.states.size(); ++i) {
        auto it = base_ids.find(p.states[i].name);
        if (it == base_ids.end() || bp.states[it->second].backend_type != p.states[i].backend_type)
          return usage(s.where + ": state '" + p.states[i].name + "' is not registered in every subtask; not supported");
        remap[i] = it->second;
      }
      for (auto& e : s.stream.entries) {
        uint16_t sid = remap[e.state_id];
        ByteReader r(e.key);
        if (timer[sid]) r.skip(8);
        auto hash = hasher->hash(r);
        if (!hash)
          return Error::data(s.where + ": a key of state '" + bp.states[sid].name + "' in key group " +
                             std::to_string(e.key_group) + " does not read as " + hasher->type() + ": " +
                             r.error().message);
        // Safety: the key must hash to the group Flink stored it under, or the
        // hashCode this tool computes is not the job's.
        int32_t was = key_group_for_hash(*hash, op.max_parallelism);
        if (was != e.key_group || was != e.prefix_group)
          return Error::data(s.where + ": a key of state '" + bp.states[sid].name + "' is stored in key group " +
                             std::to_string(e.key_group) + " but its " + hasher->type() + " hashCode gives key group " +
                             std::to_string(was) + "; refusing to move keys whose group cannot be recomputed");
        items.push_back({key_group_for_hash(*hash, new_max), sid, e.key, e.value});
        if (timer[sid]) ++ch.timers;
      }
    }
    std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      if (a.kg != b.kg) return a.kg < b.kg;
      if (a.sid != b.sid) return a.sid < b.sid;
      return a.key < b.key;
    });
    ch.entries = static_cast<int64_t>(items.size());
    ch.keyed_rewritten = true;
    const int new_prefix = key_group_prefix_bytes(new_max);
    const bool all_inline = std::all_of(sources.begin(), sources.end(),
                                        [](const Source& s) { return s.delegate_code == code::kByteStream; });
    const HandleCode handle_code = base->code;
    // Every subtask gets a handle: add the ones the snapshot lists no state for.
    std::set<int32_t> present;
    for (auto& st : op.subtasks) present.insert(st.index);
    for (int32_t i = 0; i < op.parallelism; ++i)
      if (!present.count(i)) {
        SubtaskState st;
        st.index = i;
        op.subtasks.push_back(std::move(st));
      }
    std::sort(op.subtasks.begin(), op.subtasks.end(),
              [](const SubtaskState& a, const SubtaskState& b) { return a.index < b.index; });
    std::map<int32_t, SubtaskState*> by_index;
    for (auto& st : op.subtasks) by_index[st.index] = &st;
    size_t at = 0;
    std::set<int32_t> groups_with_data;
    for (int32_t i = 0; i < op.parallelism; ++i) {
      KeyGroupRange range = key_group_range_for_subtask(new_max, op.parallelism, i);
      std::vector<std::vector<state::CanonicalEntryRef>> per_group(static_cast<size_t>(range.count));
      while (at < items.size() && items[at].kg <= range.end()) {
        const Item& it = items[at++];
        per_group[it.kg - range.start].push_back({it.sid, it.key, it.value});
        groups_with_data.insert(it.kg);
      }
      auto written = state::write_canonical_keyed_stream(base->stream.proxy_bytes, bp.compression, range, new_prefix,
                                                         per_group);
      if (!written) return written.take_error();
      KeyedHandle h;
      h.code = handle_code;
      h.range = range;
      h.offsets.raw = s_.store(be_longs(written->offsets));
      std::string name = new_file_name(op, i, new_max);
      if (all_inline) {
        h.delegate.code = code::kByteStream;
        h.delegate.path = s_.store(name);
        h.delegate.set_data(s_.store(std::move(written->bytes)));
        h.delegate.state_size = static_cast<int64_t>(h.delegate.data().size());
        ++plan_.inline_handles;
      } else {
        MigrateFile f;
        f.name = name;
        f.size = static_cast<int64_t>(written->bytes.size());
        f.bytes = std::move(written->bytes);
        h.delegate.code = code::kRelative;
        h.delegate.path = s_.store(name);
        h.delegate.state_size = f.size;
        new_names_.insert(name);
        plan_.files.push_back(std::move(f));
      }
      SubtaskState& st = *by_index[i];
      st.managed_keyed = std::move(h);
      ++ch.handles;
    }
    ch.key_groups_with_data = static_cast<int32_t>(groups_with_data.size());
    return {};
  }

  std::string new_file_name(const OperatorState& op, int32_t subtask, int32_t max_parallelism) {
    std::string base = "migrated-" + op.id_hex() + "-maxp" + std::to_string(max_parallelism) + "-" +
                       std::to_string(subtask);
    std::string name = base;
    for (int k = 1; new_names_.count(name) || fs::exists(fs::path(file_.directory) / name); ++k)
      name = base + "." + std::to_string(k);
    return name;
  }

  // The source's relative files that the edited snapshot still references.
  void collect_copies() {
    std::set<std::string> seen;
    for_each_stream_handle(s_, [&](const StreamHandle& h, const HandleLocation&) {
      if (h.code != code::kRelative) return;
      std::string name = modified_utf8_to_utf8(h.path);
      if (new_names_.count(name) || !seen.insert(name).second) return;
      MigrateFile f;
      f.name = name;
      f.size = h.state_size;
      f.copied = true;
      plan_.files.push_back(std::move(f));
    });
  }

  class Where : public ErrorContext {
   public:
    explicit Where(std::string s) : s_(std::move(s)) {}
    std::string describe() const override { return s_; }

   private:
    std::string s_;
  };

  SnapshotFile& file_;
  Snapshot& s_;
  const MigrateOptions& opt_;
  MigratePlan plan_;
  std::deque<std::deque<Source>> sources_;  // the bytes the new handles' views point into
  std::set<std::string> new_names_;
};

std::string errno_text(int e) { return std::strerror(e); }

// A new state file: written to a temporary file, fsynced, then renamed into
// place by the file-system seam's local writer.
Status write_all(const std::string& path, std::string_view bytes) { return io::write_file_atomic(path, bytes); }

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::io("cannot open directory '" + dir + "': " + errno_text(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::io("fsync of directory '" + dir + "' failed: " + errno_text(errno));
  return {};
}

}  // namespace

Result<MigratePlan> plan_migration(SnapshotFile& file, const MigrateOptions& options) {
  Planner p(file, options);
  return p.run();
}

Status verify_migration(const std::string& dir, const MigratePlan& plan) {
  auto out = open_snapshot(dir);
  if (!out) {
    Error e = out.take_error();
    e.message = "the migrated snapshot does not decode: " + e.message;
    return e;
  }
  const Snapshot& s = out->snapshot;
  VerifyReport vr = verify_files(s, out->directory, {});
  if (!vr.missing.empty()) {
    const MissingFile& m = vr.missing.front();
    return Error::data("the migrated snapshot references '" + m.path + "', which is " +
                       (m.actual_size < 0 ? std::string("absent") : "of size " + std::to_string(m.actual_size)) +
                       " (expected " + std::to_string(m.expected_size) + ")");
  }
  for (const OperatorChange& ch : plan.changes) {
    if (ch.action == "drop") {
      for (auto& op : s.operators)
        if (op.id_hex() == ch.old_id) return Error::data("dropped operator " + ch.old_id + " is still in the snapshot");
      continue;
    }
    const OperatorState* op = nullptr;
    for (auto& o : s.operators)
      if (o.id_hex() == ch.new_id) op = &o;
    if (!op) return Error::data("operator " + ch.new_id + " is missing from the migrated snapshot");
    if (ch.action == "rename") {
      for (auto& o : s.operators)
        if (o.id_hex() == ch.old_id) return Error::data("the old id " + ch.old_id + " is still in the snapshot");
      continue;
    }
    if (op->max_parallelism != ch.new_max_parallelism)
      return Error::data("operator " + ch.new_id + " has max parallelism " + std::to_string(op->max_parallelism));
    if (!ch.keyed_rewritten) continue;
    const int prefix = key_group_prefix_bytes(op->max_parallelism);
    int64_t entries = 0;
    std::unordered_set<std::string> seen;
    std::optional<JavaKeyHasher> hasher;
    std::set<int32_t> subtasks;
    for (auto& st : op->subtasks) {
      const KeyedHandle& h = st.managed_keyed;
      if (h.is_null()) continue;
      std::string where = "operator " + ch.new_id + ", subtask " + std::to_string(st.index);
      KeyGroupRange want = key_group_range_for_subtask(op->max_parallelism, op->parallelism, st.index);
      if (h.range.start != want.start || h.range.count != want.count)
        return Error::data(where + ": key groups " + std::to_string(h.range.start) + "-" + std::to_string(h.range.end()) +
                           ", Flink assigns " + std::to_string(want.start) + "-" + std::to_string(want.end()));
      subtasks.insert(st.index);
      auto rs = resolve_stream(h.delegate, out->directory, {});
      if (!rs) return rs.take_error();
      auto stream = state::read_canonical_keyed_stream(rs->bytes, h.range, h.offsets, prefix);
      if (!stream) return stream.take_error();
      if (!hasher) {
        auto hs = JavaKeyHasher::for_key_serializer(stream->proxy.key_serializer);
        if (!hs) return hs.take_error();
        hasher = std::move(*hs);
      }
      for (auto& e : stream->entries) {
        const auto& m = stream->proxy.states[e.state_id];
        ByteReader r(e.key);
        if (m.backend_type == 3) r.skip(8);
        auto hash = hasher->hash(r);
        if (!hash) return Error::data(where + ": a key does not read back: " + r.error().message);
        int32_t kg = key_group_for_hash(*hash, op->max_parallelism);
        if (kg != e.key_group || kg != e.prefix_group)
          return Error::data(where + ": a key of state '" + m.name + "' sits in key group " +
                             std::to_string(e.key_group) + ", Flink assigns it " + std::to_string(kg));
        std::string id = m.name;
        id.push_back('\0');
        id.append(e.key);
        if (!seen.insert(std::move(id)).second)
          return Error::data(where + ": a key of state '" + m.name + "' is present twice");
        ++entries;
      }
    }
    if (static_cast<int32_t>(subtasks.size()) != op->parallelism)
      return Error::data("operator " + ch.new_id + ": " + std::to_string(subtasks.size()) + " keyed handles for " +
                         std::to_string(op->parallelism) + " subtasks");
    if (entries != ch.entries)
      return Error::data("operator " + ch.new_id + ": " + std::to_string(entries) + " keyed entries read back, " +
                         std::to_string(ch.entries) + " written");
  }
  return {};
}

Status write_migration(const SnapshotFile& file, const MigratePlan& plan, const std::string& output_dir) {
  if (output_dir.empty()) return Error::usage("--output DIR is required");
  fs::path out(output_dir);
  while (out.has_relative_path() && out.filename().empty()) out = out.parent_path();  // trailing '/'
  std::error_code ec;
  if (fs::symlink_status(out, ec).type() != fs::file_type::not_found)
    return Error::cant_create("'" + out.string() + "' already exists; migrate writes a new directory, never over "
                              "existing files");
  fs::path parent = out.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec)) return Error::cant_create("the parent directory '" + parent.string() + "' does not exist");
  if (!file.directory.empty()) {
    fs::path src = fs::weakly_canonical(file.directory, ec);
    fs::path dst = fs::weakly_canonical(out, ec);
    auto rel = dst.lexically_relative(src);
    if (!rel.empty() && *rel.begin() != "..")
      return Error::usage("the output '" + out.string() + "' lies inside the source snapshot directory");
  }
  std::string tmpl = (parent / ("." + out.filename().string() + ".migrate-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    return Error::cant_create("cannot create a staging directory in '" + parent.string() + "': " + errno_text(errno));
  const std::string staging(buf.data());
  struct Cleanup {
    std::string dir;
    bool keep = false;
    ~Cleanup() {
      if (!keep) {
        std::error_code e;
        fs::remove_all(dir, e);
      }
    }
  } cleanup{staging};

  for (const MigrateFile& f : plan.files) {
    fs::path rel(f.name);
    if (rel.is_absolute() || rel.empty())
      return Error::data("state file name '" + f.name + "' is not a relative path");
    for (auto& part : rel)
      if (part == "..") return Error::data("state file name '" + f.name + "' leaves the snapshot directory");
    fs::path dst = fs::path(staging) / rel;
    if (rel.has_parent_path()) fs::create_directories(dst.parent_path(), ec);
    if (f.copied) {
      auto src = io::read_file((fs::path(file.directory) / rel).string());
      if (!src) return Error::no_input("state file '" + f.name + "' of the source: " + src.error().message);
      auto st = write_all(dst.string(), src.value()->bytes());
      if (!st) return st;
    } else {
      auto st = write_all(dst.string(), f.bytes);
      if (!st) return st;
    }
  }
  if (auto st = fsync_dir(staging); !st) return st;
  auto bytes = encode_metadata(file.snapshot);
  if (!bytes) return bytes.take_error();
  if (auto st = write_metadata_atomically((fs::path(staging) / "_metadata").string(), file.snapshot, *bytes); !st)
    return st;
  if (auto st = verify_migration(staging, plan); !st) {
    Error e = st.error();
    e.message = "the migrated snapshot failed its check, nothing was written: " + e.message;
    return e;
  }
  if (::rename(staging.c_str(), out.c_str()) != 0)
    return Error::cant_create("cannot rename the staging directory to '" + out.string() + "': " + errno_text(errno));
  cleanup.keep = true;
  return fsync_dir(parent.string());
}

}  // namespace fsp
